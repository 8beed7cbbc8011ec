"""`rekam tallies post` against a real server (uvicorn on 127.0.0.1, its own SQLite file)."""

import asyncio
import io
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from api import calendar
from api.tallies.client import post_file
from tests.live import live_server

PYTHON = sys.executable
ROOT = Path(__file__).resolve().parents[2]


async def _campaign_and_key(url: str) -> tuple[int, str]:
    from sqlalchemy.ext.asyncio import AsyncSession

    from api.auth import service as auth
    from api.auth.schemas import ApiKeyCreate
    from api.campaigns import service as campaigns
    from api.campaigns.schemas import CampaignCreate
    from api.db import create_engine_for
    from api.principal import SYSTEM
    from api.types import Role

    engine = create_engine_for(url)
    try:
        async with AsyncSession(engine, expire_on_commit=False) as session, session.begin():
            today = calendar.today()
            campaign = await campaigns.create_campaign(
                session,
                data=CampaignCreate(name="CLI", root_area="36.74", start_date=today - timedelta(days=60), deadline=today + timedelta(days=60), target=760_097),
                actor=SYSTEM,
            )
            # Every key has an owner whose deactivation revokes it (#17).
            from api.auth.schemas import UserCreate

            owner = await auth.create_user(
                session, data=UserCreate(username="key.owner", display_name="Owner", password="long-enough-password", role=Role.admin), actor=SYSTEM
            )
            _, key = await auth.create_api_key(
                session, data=ApiKeyCreate(name="script", role=Role.supervisor, area="36.74", owner=owner.username), actor=SYSTEM
            )
            return campaign.id, key
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("cli")
    url = f"sqlite+aiosqlite:///{folder / 'rekam.db'}"
    env = {**os.environ, "DATABASE_URL": url, "REKAM_LOG_LEVEL": "WARNING", "REKAM_SERVE_FRONTEND": "false"}
    for command in (["migrate"], ["areas", "load", "--prefix", "36.74"]):
        subprocess.run([PYTHON, "-m", "api.cli", *command], env=env, cwd=ROOT, check=True, capture_output=True)
    campaign_id, key = asyncio.run(_campaign_and_key(url))
    with live_server(url) as base:
        yield {"url": base, "campaign": campaign_id, "key": key, "env": env}


def _write_csv(path: Path, *, days: int, bad_row: int | None = None, start: int = 1) -> Path:
    today = calendar.today()
    lines = ["area;date;count"]
    for i in range(days):
        for k in range(1, 6):
            lines.append(f"36.74.0{k};{today - timedelta(days=i + start)};{100 + i + k}")
    if bad_row is not None:
        lines[bad_row - 1] = "36.74.09;2020-01-01;x"
    path.write_text("\ufeff" + "\r\n".join(lines) + "\r\n", encoding="utf-8")
    return path


def _cli(server: dict, path: Path, *extra: str, lang: str = "C.UTF-8", url: str | None = None) -> subprocess.CompletedProcess:
    env = {**server["env"], "REKAM_API_KEY": server["key"], "LANG": lang, "LC_ALL": "", "LC_MESSAGES": ""}
    return subprocess.run(
        [PYTHON, "-m", "api.cli", "tallies", "post", str(path), "--campaign", str(server["campaign"]), "--url", url or server["url"], *extra],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _imports(server: dict) -> list[dict]:
    return httpx.get(f"{server['url']}/api/v1/campaigns/{server['campaign']}/imports", headers={"X-API-Key": server["key"]}).json()["items"]


def test_cli_sends_chunks_once_and_reports(server: dict, tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "week.csv", days=5)
    before = len(_imports(server))  # the module's server is shared: other tests' imports may be there
    first = _cli(server, path, "--chunk-rows", "10")
    assert first.returncode == 0, first.stderr
    assert "imported: 25" in first.stdout and "rejected: 0" in first.stdout
    assert "25/25 rows, 3 chunk(s)" in first.stderr
    again = _cli(server, path, "--chunk-rows", "10")
    # The same chunks carry the same idempotency keys: nothing is redone, and the summary says so.
    assert again.returncode == 0 and "imported: 0" in again.stdout and "unchanged: 25" in again.stdout, again.stdout
    assert "3 chunk(s) had been sent before: nothing changed" in again.stdout
    assert len(_imports(server)) == before + 3


def test_cli_names_rejected_rows_of_the_file_and_exits_non_zero(server: dict, tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "bad.csv", days=4, bad_row=15, start=10)
    result = _cli(server, path, "--chunk-rows", "8")
    assert result.returncode == 1
    assert "rejected: 1" in result.stdout and "rows 15" in result.stdout
    missing_key = subprocess.run(
        [PYTHON, "-m", "api.cli", "tallies", "post", str(path), "--campaign", "1"], env=server["env"], cwd=ROOT, capture_output=True, text=True
    )
    assert missing_key.returncode == 2 and "REKAM_API_KEY" in missing_key.stderr


class FlakyTransport(httpx.BaseTransport):
    """Fails the first `failures` requests as a dropped connection would."""

    def __init__(self, failures: int) -> None:
        self.failures, self.inner = failures, httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.failures:
            self.failures -= 1
            raise httpx.ConnectError("connection refused", request=request)
        return self.inner.handle_request(request)


def test_cli_retries_network_errors(server: dict, tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "retry.csv", days=2, start=20)
    out, err = io.StringIO(), io.StringIO()
    with httpx.Client(transport=FlakyTransport(2)) as client:
        code = post_file(path, campaign_id=server["campaign"], url=server["url"], api_key=server["key"], client=client, out=out, err=err)
    assert code == 0 and "imported: 10" in out.getvalue()
    assert err.getvalue().count("retrying") == 2


def test_cli_dry_run_then_the_real_post_of_the_same_file_both_work(server: dict, tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "check.csv", days=2, start=30)
    checked = _cli(server, path, "--dry-run")
    assert checked.returncode == 0, checked.stderr
    assert "imported: 10" in checked.stdout and "dry run: nothing was saved" in checked.stdout
    sent = _cli(server, path)
    assert sent.returncode == 0, sent.stderr
    assert "imported: 10" in sent.stdout and "dry run" not in sent.stdout


def test_cli_summary_in_indonesian(server: dict, tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "id.csv", days=1, start=40)
    result = _cli(server, path, lang="id_ID.UTF-8")
    assert result.returncode == 0, result.stderr
    assert "status: baik" in result.stdout and "baru: 5" in result.stdout and "ditolak: 0" in result.stdout
    again = _cli(server, path, lang="id_ID.UTF-8")
    assert "tidak berubah: 5" in again.stdout and "sudah pernah dikirim" in again.stdout
    # A rejected row is explained in Indonesian too, from its code (not the server's English words).
    bad = _cli(server, _write_csv(tmp_path / "id-bad.csv", days=1, start=41, bad_row=3), "--dry-run", lang="id_ID.UTF-8")
    assert bad.returncode == 1 and "ditolak: 1" in bad.stdout and "galat: before_start (date): sebelum kampanye dimulai (" in bad.stdout


def test_cli_unreachable_server_is_one_line_and_exit_2(server: dict, tmp_path: Path) -> None:
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    path = _write_csv(tmp_path / "down.csv", days=1, start=50)
    result = _cli(server, path, url=f"http://127.0.0.1:{port}")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    last = [line for line in result.stderr.splitlines() if line.strip()][-1]
    assert last.startswith(f"rekam: cannot reach http://127.0.0.1:{port}") and "nothing was sent" in last
