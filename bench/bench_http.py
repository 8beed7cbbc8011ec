"""The per-request cost: Rekam's requests per second against a bare FastAPI app, side by side.

Two servers run at once on 127.0.0.1, each uvicorn[standard] with one worker: a bare FastAPI app
(bench/bare_app.py: one async route returning the same JSON as /api/v1/health, nothing else) and
`rekam serve` on a fresh SQLite file with the demo (`rekam migrate`, `rekam demo`) and the SPA's
files. For each target, wrk (-t1 -c16) measures the bare app and then the target right after it,
so that each ratio compares two runs of the same minute on this shared machine:

- GET /api/v1/health                             goal >= 0.5 of bare
- warm public reads (progress, schedule, a queue board JSON)   goal >= 0.4
- the SPA's static files (index.html, a JS module)              goal >= 0.5

Usage: python bench/bench_http.py [--seconds 5] [--connections 16] [--only health,progress]
       [--profile DIR]   (py-spy record of Rekam during each target's run, collapsed stacks in DIR)
       [--url URL]       (measure a Rekam already running there instead of starting one)
Exits 1 when wrk is missing or a target answers anything but 200.
"""

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

import httpx
from common import PYTHON, ROOT, cli, free_port, machine

HERE = Path(__file__).resolve().parent


@contextmanager
def process(args: list[str], env: dict[str, str], health: str) -> Iterator[tuple[str, int]]:
    port = free_port()
    proc = subprocess.Popen(
        [*args, "--host", "127.0.0.1", "--port", str(port)], env={**os.environ, **env}, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            if proc.poll() is not None:
                raise SystemExit(f"{args} exited with {proc.returncode}")
            try:
                if httpx.get(base + health, timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise SystemExit(f"{args} did not start")
        yield base, proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def wrk(url: str, *, seconds: float, connections: int) -> tuple[float, int, float]:
    """Requests per second, non-2xx/3xx answers and the 99th percentile latency (ms) of one wrk run."""
    out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--latency", url], capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", out)
    p99_ms = float("nan")
    if p99:
        p99_ms = float(p99.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    return rate, int(bad.group(1)) if bad else 0, p99_ms


@contextmanager
def profiled(pid: int, folder: Path | None, label: str, seconds: float) -> Iterator[None]:
    if folder is None:
        yield
        return
    spy = shutil.which("py-spy") or str(Path(PYTHON).parent / "py-spy")
    out = folder / (re.sub(r"\W+", "_", label).strip("_") + ".txt")
    proc = subprocess.Popen(
        [spy, "record", "--pid", str(pid), "--format", "raw", "--rate", "200", "--duration", str(int(seconds)), "--nonblocking", "-o", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield
    finally:
        proc.wait(timeout=seconds + 30)


def targets(base: str) -> list[tuple[str, str, float]]:
    """(label, path, goal as a fraction of bare) with ids looked up in the demo."""
    with httpx.Client(base_url=base, timeout=30) as client:
        campaign = client.get("/api/v1/campaigns", params={"limit": 10}).json()["items"][0]["id"]
        point = client.get("/api/v1/service-points", params={"kind": "kecamatan_office"}).json()["items"][0]["id"]
    today = date.today()
    return [
        ("GET /api/v1/health", "/api/v1/health", 0.5),
        ("warm progress (city, depth 1)", f"/api/v1/campaigns/{campaign}/progress?area=36.74&depth=1", 0.4),
        ("schedule (city, 7 days)", f"/api/v1/schedule?from={today}&to={today + timedelta(days=6)}&area=36.74", 0.4),
        ("queue board JSON (one office)", f"/api/v1/service-points/{point}/queue", 0.4),
        ("SPA index.html", "/", 0.5),
        ("SPA JS module (js/api.js)", "/js/api.js", 0.5),
    ]


def run(rekam: str, rekam_pid: int | None, bare: str, args: argparse.Namespace) -> int:
    wanted = [w.strip() for w in args.only.split(",")] if args.only else None
    rows = []
    failed = False
    with httpx.Client(timeout=30) as client:
        for label, path, goal in targets(rekam):
            if wanted and not any(w.lower() in label.lower() for w in wanted):
                continue
            response = client.get(rekam + path)  # warms the read cache, checks the answer
            if response.status_code != 200:
                print(f"  {label}: {response.status_code} {response.text[:200]}")
                failed = True
                continue
            bare_rate, _, bare_p99 = wrk(bare + "/api/v1/health", seconds=args.seconds, connections=args.connections)
            with profiled(rekam_pid, args.profile, label, args.seconds) if rekam_pid else profiled(0, None, label, 0):
                rate, bad, p99 = wrk(rekam + path, seconds=args.seconds, connections=args.connections)
            failed |= bad > 0
            rows.append((label, path, rate, bare_rate, rate / bare_rate, goal, bad, p99, bare_p99))
    print(f"  wrk -t1 -c{args.connections} -d{args.seconds:g}s per run; each target right after a run of the bare app")
    print(f"  {'target':<32} {'req/s':>8} {'bare':>8} {'ratio':>6} {'goal':>6}  {'met':<4} {'p99 ms':>7}  non-2xx")
    for label, _path, rate, bare_rate, ratio, goal, bad, p99, _bp99 in rows:
        print(
            f"  {label:<32} {rate:8,.0f} {bare_rate:8,.0f} {ratio:6.2f} {'>= ' + format(goal, 'g'):>6}  {'yes' if ratio >= goal else 'NO':<4} {p99:7.1f}  {bad}"
        )
    if rows:
        print(f"  bare app: median {statistics.median(r[3] for r in rows):,.0f} req/s over {len(rows)} runs")
    return 1 if failed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--only", default="", help="comma-separated parts of target labels")
    parser.add_argument("--profile", type=Path, default=None, help="folder for py-spy's collapsed stacks, one file per target")
    parser.add_argument("--url", default="", help="a running Rekam (with the demo) to measure instead of starting one")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is not installed (apt-get install wrk)")
        return 1
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
    print(f"per-request cost vs a bare FastAPI app ({machine()})")
    bare_cmd = [PYTHON, "-m", "uvicorn", "bare_app:app", "--app-dir", str(HERE), "--log-level", "warning", "--no-access-log"]
    with tempfile.TemporaryDirectory() as tmp, process(bare_cmd, {}, "/api/v1/health") as (bare, _):
        if args.url:
            return run(args.url.rstrip("/"), None, bare, args)
        url = f"sqlite+aiosqlite:///{tmp}/bench.db"
        cli(url, "migrate")
        cli(url, "demo")
        env = {"DATABASE_URL": url, "REKAM_LOG_LEVEL": "WARNING", "REKAM_SERVE_FRONTEND": "true"}
        with process([PYTHON, "-m", "api.cli", "serve"], env, "/api/v1/health") as (rekam, pid):
            print(f"  SQLite with the demo; Rekam pid {pid}")
            return run(rekam, pid, bare, args)


if __name__ == "__main__":
    sys.exit(main())
