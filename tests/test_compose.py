"""docker-compose.yml is not exercised by the rest of the suite (no Docker
engine in CI), so these checks keep it in step with the code it runs: the
console script, the CLI's subcommands, and the nginx proxy target."""

from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
NGINX_CONF = ROOT / "deploy" / "nginx.conf"
PYPROJECT = ROOT / "pyproject.toml"


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


@pytest.fixture(scope="module")
def services(compose: dict) -> dict:
    return compose["services"]


# Compose accepts several spellings for the same thing; normalise them so the
# assertions check meaning, not formatting.


def _command(service: dict) -> list[str]:
    command = service.get("command")
    assert command, "service has no command"
    return shlex.split(command) if isinstance(command, str) else [str(part) for part in command]


def _environment(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {key: str(value) for key, value in env.items()}


def _depends_on(service: dict) -> dict[str, str]:
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):
        return {name: "service_started" for name in deps}
    return {name: (spec or {}).get("condition", "service_started") for name, spec in deps.items()}


def _mounts(service: dict) -> dict[str, str]:
    """target -> source for bind mounts and volumes."""
    mounts = {}
    for volume in service.get("volumes") or []:
        if isinstance(volume, str):
            source, target = volume.split(":")[:2]
        else:
            source, target = volume["source"], volume["target"]
        mounts[target] = source
    return mounts


def _location_block(conf: str, location: str) -> str:
    match = re.search(r"location\s+" + re.escape(location) + r"\s*\{", conf)
    assert match, f"nginx.conf has no `location {location}` block"
    depth, start = 1, match.end()
    for i in range(start, len(conf)):
        depth += {"{": 1, "}": -1}.get(conf[i], 0)
        if depth == 0:
            return conf[start:i]
    raise AssertionError(f"unbalanced braces after `location {location}`")


def _rekam_commands(services: dict) -> dict[str, list[str]]:
    found = {}
    for name, service in services.items():
        if "command" in service:
            argv = _command(service)
            if argv and argv[0] == "rekam":
                found[name] = argv[1:]
    return found


def test_expected_services_exist(services: dict) -> None:
    assert {"db", "migrate", "api", "web"} <= set(services)
    assert "version" not in yaml.safe_load(COMPOSE_FILE.read_text()), "`version:` is obsolete in the Compose Specification"


def test_db_has_healthcheck_and_persistent_volume(compose: dict, services: dict) -> None:
    db = services["db"]
    assert str(db["image"]).startswith("postgres:15")
    test = db["healthcheck"]["test"]
    assert "pg_isready" in (test if isinstance(test, str) else " ".join(test))
    named = set(compose.get("volumes") or {})
    assert any(source in named for source in _mounts(db).values()), "db data is not on a named volume"


def test_migrate_runs_once_after_db_is_healthy(services: dict) -> None:
    migrate = services["migrate"]
    assert _command(migrate) == ["rekam", "migrate"]
    assert _depends_on(migrate).get("db") == "service_healthy"
    assert str(migrate.get("restart", "no")) == "no"


def test_api_serves_against_the_db_service(services: dict) -> None:
    api = services["api"]
    assert _command(api)[:2] == ["rekam", "serve"]

    url = urlsplit(_environment(api)["DATABASE_URL"])
    assert url.scheme == "postgresql+psycopg"
    assert url.hostname == "db"
    assert _environment(services["migrate"])["DATABASE_URL"] == _environment(api)["DATABASE_URL"], "migrate and api must point at the same database"

    deps = _depends_on(api)
    assert deps.get("db") == "service_healthy"
    assert deps.get("migrate") == "service_completed_successfully"

    health = api["healthcheck"]["test"]
    assert "/api/v1/health" in (health if isinstance(health, str) else " ".join(health))


def test_app_services_build_from_repo_dockerfile(services: dict) -> None:
    for name in ("migrate", "api"):
        build = services[name]["build"]
        context = build if isinstance(build, str) else build.get("context", ".")
        assert context == ".", f"{name} does not build from the repo root"
    assert (ROOT / "Dockerfile").is_file()


def test_web_serves_frontend_and_proxies_api(services: dict) -> None:
    web = services["web"]
    mounts = _mounts(web)
    assert mounts.get("/usr/share/nginx/html") == "./frontend"
    assert mounts.get("/etc/nginx/conf.d/default.conf") == "./deploy/nginx.conf"
    assert _depends_on(web).get("api") == "service_healthy"

    conf = NGINX_CONF.read_text()
    api_port = _command(services["api"])[_command(services["api"]).index("--port") + 1]
    proxy = re.search(r"proxy_pass\s+http://([^:/;\s]+):(\d+)", _location_block(conf, "/api/"))
    assert proxy, "/api/ is not proxied"
    assert proxy.group(1) == "api" and proxy.group(1) in services
    assert proxy.group(2) == api_port, "nginx proxies to a different port than `rekam serve` listens on"


def test_nginx_does_not_buffer_server_sent_events() -> None:
    conf = NGINX_CONF.read_text()
    match = re.search(r"location\s+~\s+(\S*events\S*)\s*\{", conf)
    assert match, "no location for /events streams"
    block = _location_block(conf, "~ " + match.group(1))
    assert re.search(r"proxy_buffering\s+off;", block)
    assert re.search(r"proxy_http_version\s+1\.1;", block)
    assert re.search(r"proxy_read_timeout\s+1h;", block)
    assert re.search(r"proxy_pass\s+http://api:", block)


def test_rekam_console_script_is_declared() -> None:
    # Deliberately not a skip: compose is useless without this entry point.
    assert PYPROJECT.is_file(), "pyproject.toml is missing"
    scripts = tomllib.loads(PYPROJECT.read_text()).get("project", {}).get("scripts", {})
    assert "rekam" in scripts, "[project.scripts] does not declare `rekam`"
    assert re.fullmatch(r"[\w.]+:\w+", scripts["rekam"]), f"odd entry point {scripts['rekam']!r}"


def test_console_script_target_exists() -> None:
    import importlib

    target = tomllib.loads(PYPROJECT.read_text())["project"]["scripts"]["rekam"]
    module_name, func_name = target.split(":")
    assert callable(getattr(importlib.import_module(module_name), func_name))


def test_cli_accepts_every_compose_command(services: dict) -> None:
    import api.cli

    commands = _rekam_commands(services)
    assert {"migrate", "api"} <= set(commands)
    parser = api.cli.build_parser()
    for service, args in commands.items():
        try:
            parser.parse_args(args)
        except SystemExit as exc:  # argparse reports bad input by exiting
            pytest.fail(f"`rekam {shlex.join(args)}` (service {service}) is rejected by the CLI (exit {exc.code})")


def test_nginx_caches_public_reads_briefly_and_never_signed_in_requests() -> None:
    conf = NGINX_CONF.read_text()
    zone = re.search(r"proxy_cache_path\s+\S+.*keys_zone=(\w+):", conf)
    assert zone, "no cache zone for the public reads"
    api = _location_block(conf, "/api/")
    assert re.search(r"proxy_cache\s+" + zone.group(1) + ";", api)
    # Validity comes from the API's Cache-Control only (private, no-store is never kept).
    assert not re.search(r"^\s*(proxy_cache_valid|proxy_ignore_headers)\s", api, re.MULTILINE)
    signed_in = re.search(r"map\s+\"?([^\"{]+)\"?\s+\$(\w+)\s*\{", conf)
    assert signed_in and "$http_authorization" in signed_in.group(1) and "$http_x_api_key" in signed_in.group(1)
    assert re.search(r"proxy_cache_bypass\s+\$" + signed_in.group(2) + ";", api)
    assert re.search(r"proxy_no_cache\s+\$" + signed_in.group(2) + ";", api)
    assert re.search(r"proxy_cache_key\s+\"?[^;]*\$request_uri", api), "the query must be part of the key"
    events = re.search(r"location\s+~\s+(\S*events\S*)\s*\{", conf)
    assert events and re.search(r"proxy_cache\s+off;", _location_block(conf, "~ " + events.group(1)))
