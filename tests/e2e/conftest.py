"""Browser tests: the real API on a demo database, serving the frontend, driven by Chromium.

One server for the whole session (a fresh SQLite file: migrated, demo loaded, a few staff
accounts), one headless Chromium. Without Chromium or Playwright the tests skip, unless
REKAM_REQUIRE_BROWSER=1 (as in CI), which makes that a failure.

These tests talk HTTP only; they never use the database fixtures, so they run once, not per backend.
"""

import itertools
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.conftest import require_or_skip
from tests.live import live_server

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(__file__).parent / "artifacts"
AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
CHROMIUM = os.environ.get("REKAM_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
PHONE = {"width": 360, "height": 780}
# Addresses for the browser contexts, one per test (TEST-NET-2, never routed).
PHONES = (f"198.51.100.{n % 250 + 1}" if n < 250 else f"198.18.{n // 250}.{n % 250 + 1}" for n in itertools.count())
DESKTOP = {"width": 1280, "height": 800}
PASSWORD = "e2e-password-long-enough"
# username, role, scope arguments for `rekam users create`
STAFF = [
    ("e2e.admin", "admin", []),
    ("e2e.supervisor", "supervisor", ["--area", "36.74.01"]),
    ("e2e.viewer", "viewer", []),
]

# The demo's offices keep office hours; a point for a test's counter is open round the clock.
ALWAYS_OPEN = {day: [["00:00", "24:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def open_point_with_operator(server: "Server", *, point: dict, username: str, display_name: str) -> dict:
    """Create a service point open round the clock and an operator account at it; the point as the API returns it."""
    headers = {"Authorization": f"Bearer {server.token('e2e.admin')}"}
    created = httpx.post(f"{server.base}/api/v1/service-points", headers=headers, json={**point, "opening_hours": ALWAYS_OPEN})
    created.raise_for_status()
    user = httpx.post(
        f"{server.base}/api/v1/users",
        headers=headers,
        json={"username": username, "display_name": display_name, "password": PASSWORD, "role": "operator", "service_point_id": created.json()["id"]},
    )
    user.raise_for_status()
    return created.json()


# `rekam demo` prints each account it creates with its random password, once.
DEMO_PASSWORD = re.compile(r"^user (?P<username>\S+) \(.*: password (?P<password>\S+)", re.MULTILINE)


@dataclass
class Server:
    base: str
    campaign_id: int
    # The demo's own accounts (e.g. kit.operator, serpong.operator) and their passwords.
    demo_passwords: dict[str, str] = field(default_factory=dict)

    def password(self, username: str) -> str:
        return self.demo_passwords.get(username, PASSWORD)

    def token(self, username: str) -> str:
        response = httpx.post(f"{self.base}/api/v1/auth/token", data={"username": username, "password": self.password(username)})
        response.raise_for_status()
        return response.json()["access_token"]

    def get(self, path: str, **kwargs) -> httpx.Response:
        response = httpx.get(f"{self.base}/api/v1{path}", **kwargs)
        response.raise_for_status()
        return response

    def progress(self, area: str) -> dict:
        return self.get(f"/campaigns/{self.campaign_id}/progress", params={"area": area, "depth": 1}).json()


@pytest.fixture(scope="session")
def chromium_path() -> str:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        require_or_skip("REKAM_REQUIRE_BROWSER", "Playwright for Python is not installed")
    if not (Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK)) and not shutil.which(CHROMIUM):
        require_or_skip("REKAM_REQUIRE_BROWSER", f"Chromium not found at {CHROMIUM}")
    return CHROMIUM


def _cli(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    done = subprocess.run([sys.executable, "-m", "api.cli", *args], env=env, cwd=ROOT, input=stdin, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"rekam {' '.join(args)} failed: {done.stderr[-2000:]}")
    return done.stdout


@contextmanager
def demo_server(directory: Path, *, frontend: Path = ROOT / "frontend") -> Iterator[Server]:
    """A live server on a fresh SQLite database in `directory`: migrated, demo loaded, the STAFF
    accounts; it serves the web app from `frontend` (a copy, for a test that changes the app)."""
    database_url = f"sqlite+aiosqlite:///{directory / 'rekam.db'}"
    env = {**os.environ, "DATABASE_URL": database_url, "PYTHONPATH": str(ROOT), "REKAM_LOG_LEVEL": "WARNING"}
    _cli(env, "migrate")
    demo_passwords = {m["username"]: m["password"] for m in DEMO_PASSWORD.finditer(_cli(env, "demo"))}
    for username, role, scope in STAFF:
        _cli(env, "users", "create", username, "--role", role, "--name", f"{role.title()} E2E", *scope, "--password-stdin", stdin=PASSWORD + "\n")
    # The whole browser suite takes numbers and books from one address (127.0.0.1) within a minute
    # or two: the per-address limits (tested in tests/test_ratelimit.py and tests/queues) would
    # refuse it depending on how fast the machine runs. Raised here, as for the fuzz server.
    limits = {"REKAM_PUBLIC_WRITE_LIMIT": "100000/minute", "REKAM_BOOKING_LIMIT": "100000/minute", "REKAM_POINT_BOOKING_LIMIT": "100000/minute"}
    # Webhook receivers of the tests listen on 127.0.0.1 (tests/e2e/test_notifications.py).
    private = {"REKAM_WEBHOOK_ALLOW_PRIVATE_TARGETS": "true"}
    serve_env = {"PYTHONPATH": str(ROOT), "REKAM_SERVE_FRONTEND": "true", "REKAM_FRONTEND_DIR": str(frontend), **limits, **private}
    with live_server(database_url, env=serve_env) as base:
        campaigns = httpx.get(f"{base}/api/v1/campaigns").json()["items"]
        yield Server(base=base, campaign_id=campaigns[0]["id"], demo_passwords=demo_passwords)


@pytest.fixture(scope="session")
def server(chromium_path: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with demo_server(tmp_path_factory.mktemp("e2e")) as live:
        yield live


# Per module, not per session: while Playwright's sync API is alive it marks its own event loop as
# running in this thread, and pytest-asyncio could not run the async tests that follow.
@pytest.fixture(scope="module")
def browser(chromium_path: str) -> Iterator:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def console_errors() -> list[str]:
    return []


@pytest.fixture
def page(browser, server: Server, console_errors: list[str]) -> Iterator:
    """A fresh browser context (empty storage) at phone size; fails on script errors and CSP violations.

    Service workers are blocked here: Playwright's `page.route` does not see requests a service
    worker makes. The offline tests (test_offline.py) use contexts that allow them."""
    # Each test is its own phone: its own address (the server believes 127.0.0.1's X-Forwarded-For),
    # so the cap of one remote number per point and day per phone (issue #23) is per test.
    context = browser.new_context(base_url=server.base, viewport=PHONE, service_workers="block", extra_http_headers={"X-Forwarded-For": next(PHONES)})
    page = context.new_page()
    page.set_default_timeout(20_000)  # a loaded CI machine; these tests check behaviour, not speed
    page.on("pageerror", lambda error: console_errors.append(f"pageerror: {error}"))

    def on_console(message) -> None:
        # Failed requests the app expects and handles (404 while feature-detecting) log as "Failed to load resource".
        if message.type == "error" and "Failed to load resource" not in message.text:
            console_errors.append(message.text)

    page.on("console", on_console)
    yield page
    context.close()
    assert console_errors == [], console_errors


def tables_scrolling_sideways(page) -> list[str]:
    """The tables (their `data-table`) wider than the box they scroll in: a reader must scroll
    them to find their last columns."""
    return page.evaluate(
        "[...document.querySelectorAll('.table-wrap')].filter(w => w.scrollWidth > w.clientWidth).map(w => w.querySelector('table').dataset.table)"
    )


def id_number(value: int) -> str:
    """760097 -> '760.097' (id-ID grouping)."""
    return f"{value:,}".replace(",", ".")


def en_number(value: int) -> str:
    return f"{value:,}"


def shoot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def serious_axe_violations(page) -> list[dict]:
    """axe-core's serious and critical violations on the page (evaluated through the debugger, so the CSP does not apply)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    results = page.evaluate(
        "async () => { const r = await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}});"
        " return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)})); }"
    )
    return [v for v in results if v["impact"] in ("serious", "critical")]


def nav_to(page, href: str) -> None:
    """Follow a header link as a person would: on a phone open the menu, then the link's group."""
    toggle = page.locator("[data-action=nav-menu]")
    if toggle.is_visible() and toggle.get_attribute("aria-expanded") != "true":
        toggle.click()
    link = page.locator(f".site-nav a[href='{href}']")
    if not link.is_visible():
        link.locator("xpath=ancestor::li[contains(@class,'nav-group')]/button").click()
    link.click()
