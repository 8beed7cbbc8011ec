"""`rekam`: the command line for the people who run the system."""

import argparse
import asyncio
import socket
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from api.config import PROJECT_ROOT, get_settings


def alembic_config(database_url: str | None = None) -> Any:
    from alembic.config import Config

    for candidate in (PROJECT_ROOT / "migrations", Path.cwd() / "migrations"):
        if (candidate / "env.py").is_file():
            break
    else:
        raise SystemExit("rekam: cannot find the migrations folder")
    config = Config()
    config.set_main_option("script_location", str(candidate))
    config.attributes["database_url"] = database_url or get_settings().database_url
    return config


def cmd_migrate(args: argparse.Namespace) -> int:
    from alembic import command

    command.upgrade(alembic_config(), args.revision)
    print(f"rekam: database at revision {args.revision}")
    return 0


async def _with_connection(work: Any) -> Any:
    from api.db import get_engine

    engine = get_engine()
    try:
        async with engine.begin() as connection:
            return await work(connection)
    finally:
        await engine.dispose()


def cmd_areas_load(args: argparse.Namespace) -> int:
    from api import flows

    async def work(connection: Any) -> int:
        return await flows.load_official_areas(connection, prefix=args.prefix)

    count = asyncio.run(_with_connection(work))
    print(f"rekam: {count} areas loaded{' under ' + args.prefix if args.prefix else ''}")
    return 0


def _in_session(work: Any) -> Any:
    """Run `work(session)` in one transaction: all of it is stored, or none of it."""
    from api.db import get_engine, get_sessionmaker

    async def run() -> Any:
        try:
            async with get_sessionmaker()() as session, session.begin():
                return await work(session)
        finally:
            await get_engine().dispose()

    return asyncio.run(run())


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if args.password is not None:
        return args.password
    if not sys.stdin.isatty():
        raise SystemExit("rekam: give the password with --password-stdin or --password")
    import getpass

    password = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != password:
        raise SystemExit("rekam: the passwords differ")
    return password


def _scope_text(area: str | None, service_point_id: int | None, lang: str = "en") -> str:
    from api import messages

    if area:
        return messages.say("user.scope_area", lang, area=area)
    if service_point_id is not None:
        return messages.say("user.scope_point", lang, point=service_point_id)
    return ""


def cmd_users_create(args: argparse.Namespace) -> int:
    from api.auth import service
    from api.auth.schemas import UserCreate
    from api.principal import SYSTEM

    data = UserCreate(
        username=args.username,
        display_name=args.name or args.username,
        password=_read_password(args),
        role=args.role,
        area=args.area,
        service_point_id=args.service_point,
        operator_id=args.operator,
    )
    from api import messages

    lang = messages.language_of_environment()
    user = _in_session(lambda session: service.create_user(session, data=data, actor=SYSTEM))
    linked = messages.say("user.linked", lang, operator=user.operator_id) if user.operator_id is not None else ""
    scope = _scope_text(user.scope_area_code, user.scope_service_point_id, lang)
    print(messages.say("user.created", lang, username=user.username, role=user.role, scope=scope, linked=linked))
    return 0


def cmd_users_list(args: argparse.Namespace) -> int:
    from api.auth import service
    from api.pagination import MAX_LIMIT, PageParams

    async def work(session: Any) -> list[Any]:
        users, cursor = [], None
        while True:
            page, cursor = await service.list_users(session, page=PageParams(limit=MAX_LIMIT, cursor=cursor))
            users.extend(page)
            if cursor is None:
                return users

    from api import messages

    lang = messages.language_of_environment()
    for user in _in_session(work):
        scope = user.scope_area_code or (messages.say("user.point", lang, point=user.scope_service_point_id) if user.scope_service_point_id else "-")
        print(f"{user.id:>5}  {user.username:<24} {user.role:<10} {scope:<24} {messages.say('user.active' if user.active else 'user.inactive', lang)}")
    return 0


def cmd_users_deactivate(args: argparse.Namespace) -> int:
    from api import messages
    from api.auth import service
    from api.principal import SYSTEM

    lang = messages.language_of_environment()
    _in_session(lambda session: service.deactivate_user(session, username=args.username, actor=SYSTEM, transfer_keys_to=args.transfer_keys_to))
    keys = messages.say("user.keys_transferred", lang, heir=args.transfer_keys_to) if args.transfer_keys_to else messages.say("user.keys_revoked", lang)
    print(messages.say("user.deactivated", lang, username=args.username, keys=keys))
    return 0


def cmd_api_keys_create(args: argparse.Namespace) -> int:
    from api.auth import service
    from api.auth.schemas import ApiKeyCreate
    from api.principal import SYSTEM

    data = ApiKeyCreate(
        name=args.name, role=args.role, area=args.area, service_point_id=args.service_point, owner=args.owner, expires_in_days=args.expires_in_days
    )
    key, secret = _in_session(lambda session: service.create_api_key(session, data=data, actor=SYSTEM))
    # The key alone on stdout, so that `KEY=$(rekam api-keys create ...)` works; the rest on stderr.
    print(
        f"rekam: API key {key.id} ({key.prefix}..., {key.role}{_scope_text(key.scope_area_code, key.scope_service_point_id)}, "
        f"owned by {args.owner}, expires {key.expires_at:%Y-%m-%d}) created; it is shown only now:",
        file=sys.stderr,
    )
    print(secret)
    return 0


def cmd_api_keys_list(args: argparse.Namespace) -> int:
    from api.auth import service
    from api.pagination import MAX_LIMIT, PageParams

    async def work(session: Any) -> list[Any]:
        keys, cursor = [], None
        while True:
            page, cursor = await service.list_api_keys(session, page=PageParams(limit=MAX_LIMIT, cursor=cursor), expiring_within_days=args.expiring_within)
            keys.extend(page)
            if cursor is None:
                return keys

    for key in _in_session(work):
        state = "revoked" if key.revoked_at else f"expires {key.expires_at:%Y-%m-%d}"
        used = f"{key.last_used_at:%Y-%m-%d}" if key.last_used_at else "never"
        print(f"{key.id:>5}  {key.prefix:<14} {key.role:<10} owner {key.owner_id or '-':<6} used {used:<10} {state}  {key.name}")
    return 0


def cmd_purge(args: argparse.Namespace) -> int:
    from api.audit import service

    count = _in_session(lambda session: service.purge_clients(session))
    print(f"rekam: client addresses blanked in {count} audit entries older than {get_settings().ip_retention_days} days")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from api.demo.service import load_demo

    for line in asyncio.run(load_demo()):
        print(line)
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    from api.backup import backup

    path = backup(get_settings().database_url, Path(args.path))
    print(f"rekam: backup written to {path}")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from api.backup import restore

    restore(get_settings().database_url, Path(args.path))
    print(f"rekam: database restored from {args.path}")
    return 0


def cmd_tallies_post(args: argparse.Namespace) -> int:
    import os

    from api.tallies.client import post_file

    api_key = os.environ.get("REKAM_API_KEY")
    if not api_key:
        print("rekam: set REKAM_API_KEY to an API key of a supervisor or admin", file=sys.stderr)
        return 2
    path = Path(args.file)
    if not path.is_file():
        print(f"rekam: no such file: {path}", file=sys.stderr)
        return 2
    return post_file(
        path,
        campaign_id=args.campaign,
        url=args.url,
        api_key=api_key,
        chunk_rows=args.chunk_rows,
        mode=args.mode,
        atomic=not args.partial,
        dry_run=args.dry_run,
    )


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    options: dict[str, Any] = {
        "factory": True,
        "host": args.host,
        "port": args.port,
        "workers": args.workers,
        "reload": args.reload,
        "proxy_headers": True,
        "forwarded_allow_ips": args.forwarded_allow_ips,
        "access_log": False,
        "log_level": "warning",
    }
    # Linux spreads a port's connections over the sockets that share it; BSD and macOS give them
    # all to the last one bound, and Windows has no SO_REUSEPORT: uvicorn's one socket there.
    if args.workers > 1 and not args.reload and sys.platform.startswith("linux"):
        _serve_workers_on_own_sockets(uvicorn.Config("api.main:create_app", **options))
        return 0
    uvicorn.run("api.main:create_app", **options)
    return 0


def _reuse_port_socket(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


def _serve_workers_on_own_sockets(config: Any) -> None:
    """Workers each listening on a socket of their own on the one port (`SO_REUSEPORT`): the kernel
    spreads new connections between them. With uvicorn's one shared socket, whichever worker was
    awake took the connections that arrived together: 32 kept-alive clients (a proxy's, a load
    test's) were split 2 / 30 between two workers, and the busy one answered late. The supervisor
    holds the port (bound, never listening: it is given no connection) while it runs, so that a
    port already taken fails here, and a restarted worker finds it free for it."""
    from uvicorn.supervisors import Multiprocess

    try:
        held = _reuse_port_socket(config.host, config.port)
    except OSError as exc:  # as uvicorn says it
        sys.exit(f"rekam serve: {config.host}:{config.port}: {exc.strerror}")
    try:
        config.port = held.getsockname()[1]  # port 0: the one the system chose, for every worker
        Multiprocess(config, sockets=[cast(socket.socket, _OwnListener(config.host, config.port, config.backlog))]).run()
    finally:
        held.close()


@dataclass(frozen=True)
class _OwnListener:
    """What the supervisor hands each worker instead of a socket: unpickled in the worker (workers
    are spawned) as a listening socket of the worker's own (`_listen`)."""

    host: str
    port: int
    backlog: int

    def __reduce__(self) -> tuple[Any, tuple[str, int, int]]:
        return _listen, (self.host, self.port, self.backlog)


def _listen(host: str, port: int, backlog: int) -> socket.socket:
    sock = _reuse_port_socket(host, port)
    sock.listen(backlog)
    return sock


def cmd_notify_reminders(args: argparse.Namespace) -> int:
    """appointment.reminder for tomorrow's (or --day's) booked appointments; run daily (cron)."""
    from datetime import date, timedelta

    from api import calendar, flows

    day = date.fromisoformat(args.day) if args.day else calendar.today() + timedelta(days=1)
    count = _in_session(lambda session: flows.send_appointment_reminders(session, day=day))
    print(f"rekam: {count} appointment reminder(s) for {day.isoformat()} queued")
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    """Deliver webhooks and resident messages, and send appointment reminders, until SIGTERM (for deployments that run it apart)."""
    from api import flows
    from api.logging import configure_logging
    from api.notifications.worker import run_standalone

    configure_logging(get_settings())
    asyncio.run(run_standalone(jobs=flows.worker_jobs()))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rekam", description="Run Rekam, the e-KTP recording campaign system.")
    commands = parser.add_subparsers(dest="command", required=True)

    migrate = commands.add_parser("migrate", help="bring the database schema up to date")
    migrate.add_argument("revision", nargs="?", default="head")
    migrate.set_defaults(func=cmd_migrate)

    areas = commands.add_parser("areas", help="official area codes").add_subparsers(dest="areas_command", required=True)
    load = areas.add_parser("load", help="load the official Kemendagri area list (idempotent)")
    load.add_argument("--prefix", help="only this code's subtree and its ancestors, e.g. 36.74")
    load.set_defaults(func=cmd_areas_load)

    from api.types import Role

    roles = [role.value for role in Role]
    users = commands.add_parser("users", help="staff accounts").add_subparsers(dest="users_command", required=True)
    create = users.add_parser("create", help="create a staff account")
    create.add_argument("username")
    create.add_argument("--role", required=True, choices=roles)
    create.add_argument("--name", help="display name (default: the username)")
    scope = create.add_mutually_exclusive_group()
    scope.add_argument("--area", help="a supervisor's area, e.g. 36.74.01")
    scope.add_argument("--service-point", type=int, help="an operator's service point id")
    create.add_argument("--operator", type=int, help="the operator (petugas) id this account is, e.g. a mobile kit's crew")
    secret = create.add_mutually_exclusive_group()
    secret.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    secret.add_argument("--password", help="the password (visible to other users of this machine: prefer --password-stdin)")
    create.set_defaults(func=cmd_users_create)
    users.add_parser("list", help="list staff accounts").set_defaults(func=cmd_users_list)
    deactivate = users.add_parser("deactivate", help="deactivate an account and end its sessions")
    deactivate.add_argument("username")
    deactivate.add_argument("--transfer-keys-to", metavar="ADMIN", help="hand the account's API keys to this active admin instead of revoking them")
    deactivate.set_defaults(func=cmd_users_deactivate)

    keys = commands.add_parser("api-keys", help="API keys for scripts").add_subparsers(dest="api_keys_command", required=True)
    key = keys.add_parser("create", help="create an API key and print it (once)")
    key.add_argument("name")
    key.add_argument("--role", required=True, choices=roles)
    key_scope = key.add_mutually_exclusive_group()
    key_scope.add_argument("--area", help="a supervisor key's area, e.g. 36.74.01")
    key_scope.add_argument("--service-point", type=int, help="an operator key's service point id")
    key.add_argument("--owner", required=True, help="username of the account answerable for the key; deactivating it revokes the key")
    key.add_argument("--expires-in-days", type=int, help="default: REKAM_API_KEY_TTL_DAYS (365)")
    key.set_defaults(func=cmd_api_keys_create)
    key_list = keys.add_parser("list", help="list API keys (never the keys themselves)")
    key_list.add_argument("--expiring-within", type=int, metavar="DAYS", help="only live keys that expire within DAYS days")
    key_list.set_defaults(func=cmd_api_keys_list)

    purge = commands.add_parser("purge", help="blank client addresses in audit entries older than REKAM_IP_RETENTION_DAYS (run daily)")
    purge.set_defaults(func=cmd_purge)

    demo = commands.add_parser("demo", help="load the Kota Tangerang Selatan demo (idempotent)")
    demo.set_defaults(func=cmd_demo)

    backup = commands.add_parser("backup", help="write a consistent copy of the database to PATH (online)")
    backup.add_argument("path")
    backup.set_defaults(func=cmd_backup)

    restore = commands.add_parser("restore", help="replace the database with the backup at PATH (stop the API first)")
    restore.add_argument("path")
    restore.set_defaults(func=cmd_restore)

    tallies = commands.add_parser("tallies", help="daily tallies").add_subparsers(dest="tallies_command", required=True)
    post = tallies.add_parser("post", help="send a tally file (CSV or .json) in chunks; API key from REKAM_API_KEY")
    post.add_argument("file")
    post.add_argument("--campaign", type=int, required=True)
    post.add_argument("--url", default="http://127.0.0.1:8000")
    post.add_argument("--chunk-rows", type=int, default=50_000)
    post.add_argument("--mode", choices=["upsert", "replace"], default="upsert")
    post.add_argument("--partial", action="store_true", help="apply valid rows even when some are rejected (atomic=false)")
    post.add_argument("--dry-run", action="store_true")
    post.set_defaults(func=cmd_tallies_post)

    serve = commands.add_parser("serve", help="serve the API and the frontend")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--reload", action="store_true")
    serve.add_argument(
        "--forwarded-allow-ips",
        default=get_settings().forwarded_allow_ips,
        help="proxies whose X-Forwarded-For gives the client address (default: REKAM_FORWARDED_ALLOW_IPS)",
    )
    serve.set_defaults(func=cmd_serve)

    worker = commands.add_parser(
        "worker",
        help="deliver webhooks and resident messages on their own (set REKAM_NOTIFICATIONS_WORKER=false for `serve` then)",
    )
    worker.set_defaults(func=cmd_worker)

    notify = commands.add_parser("notify", help="notifications").add_subparsers(dest="notify_command", required=True)
    reminders = notify.add_parser("reminders", help="queue appointment reminders for tomorrow now (the notifications worker does it by itself)")
    reminders.add_argument("--day", help="the appointments' day, YYYY-MM-DD (default: tomorrow in the campaign's time zone)")
    reminders.set_defaults(func=cmd_notify_reminders)
    return parser


def main(argv: list[str] | None = None) -> int:
    from pydantic import ValidationError

    from api.errors import DomainError

    args = build_parser().parse_args(argv)
    import api.models  # noqa: F401 - every table, so that foreign keys between domains resolve

    try:
        return int(args.func(args) or 0)
    except DomainError as exc:
        from api import messages
        from api.errors import localize_items, localized

        # Refusals in the language of the environment, from their codes, as the API words them.
        lang = messages.language_of_environment()
        print(f"rekam: {localized(exc.code, exc.params, exc.detail, lang)}", file=sys.stderr)
        for item in localize_items(exc.errors, lang) or []:
            print(f"  {item.get('field') or ''}: {item['message']}", file=sys.stderr)
        return 1
    except ValidationError as exc:
        # The input is not echoed: it may be a password.
        for error in exc.errors(include_input=False):
            print(f"rekam: {'.'.join(str(p) for p in error['loc'])}: {error['msg']}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
