"""Residents on a weak network: how long until each public page is readable, on Slow 3G, cold.

Issue #23's goal: the public first view readable within 5 s on an emulated Slow 3G profile
(Chromium's network emulation: 400 ms round trip, 400 kbit/s both ways) from a cold cache. Each
page is opened in a fresh browser context (no HTTP cache, no service worker yet) at 360 px in
Indonesian, against `rekam serve` with the demo on SQLite; "readable" is the view's heading shown
and its "Memuat…" gone. Also printed: the bytes that crossed the network before that moment.

    .venv/bin/python bench/bench_slow3g.py [--runs 3]

Needs Debian's chromium (REKAM_CHROMIUM to point elsewhere). A benchmark, not a test: it prints
figures and the goal next to them; nothing fails on a slow machine.
"""

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from common import cli, machine, serve_frontend
from playwright.sync_api import sync_playwright

CHROMIUM = os.environ.get("REKAM_CHROMIUM", "/usr/bin/chromium")
SLOW_3G = {"offline": False, "latency": 400, "downloadThroughput": 400_000 / 8, "uploadThroughput": 400_000 / 8}
PAGES = ["/#/progress", "/#/where", "/#/board", "/#/visit", "/#/report"]
GOAL_SECONDS = 5.0
READABLE = "() => { const h = document.querySelector('main h1'); return !!h && h.textContent.trim() !== '' && !document.querySelector('main .loading'); }"


def measure(browser, base: str, path: str) -> tuple[float, int]:
    """Seconds from navigation to a readable view, and the bytes received by then."""
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="id-ID", service_workers="block")
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    cdp.send("Network.emulateNetworkConditions", SLOW_3G)
    received = [0]
    cdp.on("Network.loadingFinished", lambda event: received.__setitem__(0, received[0] + int(event.get("encodedDataLength", 0))))
    started = time.perf_counter()
    page.goto(base + path, wait_until="commit")
    page.wait_for_function(READABLE, timeout=120_000, polling=50)
    seconds = time.perf_counter() - started
    context.close()
    return seconds, received[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per page (the median is printed)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'slow3g.db'}"
        cli(url, "migrate")
        cli(url, "demo")
        with serve_frontend(url) as base, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
            print(f"Slow 3G (400 ms RTT, 400 kbit/s), cold cache, 360 px, Indonesian; {args.runs} runs per page; {machine()}")
            print(f"{'page':<14} {'readable after (median)':>24} {'runs':>24} {'KB received':>12}  goal <= {GOAL_SECONDS:.0f} s")
            for path in PAGES:
                runs = [measure(browser, base, path) for _ in range(args.runs)]
                seconds = [s for s, _ in runs]
                median = statistics.median(seconds)
                kilobytes = statistics.median(b for _, b in runs) / 1024
                verdict = "met" if median <= GOAL_SECONDS else "NOT met"
                shown = ", ".join(f"{s:.1f}" for s in seconds)
                print(f"{path:<14} {median:>22.1f} s {shown:>24} {kilobytes:>12.0f}  {verdict}")
            browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
