"""Ingest: 100,000 tally rows posted as JSON and as CSV, rows/s, against a plain bulk insert of
the same rows into the same table on the same disk (sqlite3 executemany; psycopg COPY).

Goal: >= 0.5 on SQLite and on PostgreSQL. Run: python bench/bench_ingest.py [--sqlite-only | --postgresql-only]
[--profile DIR] (py-spy samples of the server during the timed posts, collapsed stacks, per backend).
The plain insert is timed before, between and after the posts; each post's ratio is against the
two runs beside it.
"""

import json
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
from common import ROOT, campaign_and_key, kecamatan_codes, machine, prepare, server

sys.path.insert(0, str(ROOT))
ROWS = 100_000
WARM_UP = 2_000


def make_rows() -> list[tuple[str, str, int]]:
    codes = kecamatan_codes()
    today = date.today()
    rows = []
    day = 1
    while len(rows) < ROWS:
        stamp = (today - timedelta(days=day)).isoformat()
        rows.extend((code, stamp, 50 + (i + day) % 90) for i, code in enumerate(codes[: ROWS - len(rows)]))
        day += 1
    return rows


def post(base: str, campaign_id: int, key: str, body: bytes, content_type: str, rows: int = ROWS) -> float:
    start = time.perf_counter()
    response = httpx.post(f"{base}/api/v1/campaigns/{campaign_id}/tallies", content=body, headers={"X-API-Key": key, "content-type": content_type}, timeout=600)
    elapsed = time.perf_counter() - start
    summary = response.json()
    assert response.status_code == 200 and summary["imported"] == rows, response.text[:500]
    return rows / elapsed


def bodies(rows: list[tuple[str, str, int]]) -> tuple[bytes, bytes]:
    """The rows as a JSON body and as a CSV body."""
    json_body = json.dumps({"tallies": [{"area": a, "date": d, "count": c} for a, d, c in rows]}).encode()
    csv_body = ("area,date,count\n" + "".join(f"{a},{d},{c}\n" for a, d, c in rows)).encode()
    return json_body, csv_body


def baseline_sqlite(path: Path, campaign_id: int, rows: list[tuple[str, str, int]], *, foreign_keys: bool = True) -> float:
    """sqlite3 executemany with the connection settings Rekam's engine uses (api/db.py
    configure_sqlite: WAL, synchronous=NORMAL, foreign keys on, 16 MB page cache), so both write
    the same table under the same rules. `foreign_keys=False` gives the figure without the
    foreign key checks, for reference."""
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
    connection.execute("PRAGMA cache_size=-16384")
    now = datetime.now(UTC).isoformat()
    params = [(campaign_id, code, day, 0, 0, count, "script", now) for code, day, count in rows]
    start = time.perf_counter()
    connection.executemany(
        "INSERT INTO tallies (campaign_id, area_code, day, point_key, device_key, count, source, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", params
    )
    connection.commit()
    elapsed = time.perf_counter() - start
    connection.close()
    return ROWS / elapsed


def baseline_copy(libpq_url: str, campaign_id: int, rows: list[tuple[str, str, int]], *, with_rollups: bool = False) -> float:
    """psycopg COPY of the rows into the tallies. `with_rollups`, for reference: the least Rekam's
    import must write, the tallies and their area-days' rollups (one row per area and day, without
    their parents'), both by COPY."""
    import psycopg

    now = datetime.now(UTC)
    with psycopg.connect(libpq_url) as connection:
        start = time.perf_counter()
        with connection.cursor() as cursor:
            with cursor.copy("COPY tallies (campaign_id, area_code, day, point_key, device_key, count, source, updated_at) FROM STDIN") as copy:
                for code, day, count in rows:
                    copy.write_row((campaign_id, code, day, 0, 0, count, "script", now))
            if with_rollups:
                with cursor.copy("COPY tally_rollups (campaign_id, area_code, day, own, own_rows, below, total) FROM STDIN") as copy:
                    for code, day, count in rows:  # one tally per area and day
                        copy.write_row((campaign_id, code, day, count, 1, 0, count))
        connection.commit()
        return ROWS / (time.perf_counter() - start)


def _profile(pid: int, url: str) -> subprocess.Popen | None:
    """With `--profile DIR`: py-spy samples the server during the timed posts (collapsed stacks)."""
    if "--profile" not in sys.argv:
        return None
    folder = Path(sys.argv[sys.argv.index("--profile") + 1])
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / f"ingest-{'postgresql' if url.startswith('postgresql') else 'sqlite'}.txt"
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    process = subprocess.Popen(
        [spy, "record", "--pid", str(pid), "--rate", "200", "--format", "raw", "--output", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    time.sleep(1)
    return process


def run(url: str, baseline, reference=None, *, reference_label: str = "plain without foreign key checks", goal: float = 0.5) -> None:
    prepare(url)
    rows = make_rows()
    json_body, csv_body = bodies(rows)
    json_campaign, key = campaign_and_key(url, name="json")
    csv_campaign, _ = campaign_and_key(url, name="csv")
    plain_campaigns = [campaign_and_key(url, name=f"plain {n}")[0] for n in range(3)]
    reference_campaign, _ = campaign_and_key(url, name="reference")
    warm_json, _ = campaign_and_key(url, name="warm-up json")
    warm_csv, _ = campaign_and_key(url, name="warm-up csv")
    with server(url) as (base, pid):
        # A fresh server's first requests pay one-time costs (lazy imports, compiled statements,
        # caches); a small post of each format into campaigns of their own takes them, so both
        # timed posts are measured alike (before, JSON went first and paid them alone).
        small_json, small_csv = bodies(rows[:WARM_UP])
        post(base, warm_json, key, small_json, "application/json", WARM_UP)
        post(base, warm_csv, key, small_csv, "text/csv", WARM_UP)
        # The plain insert is timed before, between and after the posts (the server idle), and
        # each post is compared with the two timed beside it: on a shared machine the load moves
        # within a minute, and one plain figure taken after both posts drifted from theirs.
        plain = [baseline(plain_campaigns[0], rows)]
        spy = _profile(pid, url)
        json_rate = post(base, json_campaign, key, json_body, "application/json")
        plain.append(baseline(plain_campaigns[1], rows))  # (py-spy records no samples of an idle server)
        csv_rate = post(base, csv_campaign, key, csv_body, "text/csv")
        if spy is not None:
            spy.send_signal(signal.SIGINT)
            spy.wait(timeout=60)
        plain.append(baseline(plain_campaigns[2], rows))
    print(f"  JSON {json_rate:,.0f} rows/s, CSV {csv_rate:,.0f} rows/s, plain {' / '.join(f'{rate:,.0f}' for rate in plain)} rows/s (before, between, after)")
    if reference is not None:
        rate = reference(reference_campaign, rows)
        print(f"  ({reference_label}: {rate:,.0f} rows/s; JSON {json_rate / rate:.2f}, CSV {csv_rate / rate:.2f} of it)")
    ratios = (json_rate / ((plain[0] + plain[1]) / 2), csv_rate / ((plain[1] + plain[2]) / 2))
    print(
        f"  ratio JSON {ratios[0]:.2f}, CSV {ratios[1]:.2f} (each against the plain runs beside it; goal >= {goal:g}: {'met' if min(ratios) >= goal else 'NOT met'})"
    )


def main() -> None:
    print(f"ingest of {ROWS:,} rows ({machine()})")
    if "--postgresql-only" not in sys.argv:
        _sqlite()
    if "--sqlite-only" in sys.argv:
        return
    from tests.pgcluster import ThrowawayCluster, find_pg_bin

    if find_pg_bin() is None:
        print("PostgreSQL: skipped (no initdb/pg_ctl)")
        return
    with ThrowawayCluster() as cluster:
        print("PostgreSQL (goal >= 0.5 against psycopg COPY; issue #22, was 0.27-0.33)")
        run(
            cluster.url,
            lambda campaign_id, rows: baseline_copy(cluster.libpq_url, campaign_id, rows),
            lambda campaign_id, rows: baseline_copy(cluster.libpq_url, campaign_id, rows, with_rollups=True),
            reference_label="the tallies and their area-days' rollups, both by COPY",
            goal=0.5,
        )


def _sqlite() -> None:
    with tempfile.TemporaryDirectory(dir=ROOT / "var" if (ROOT / "var").is_dir() else None) as folder:
        path = Path(folder) / "bench.db"
        print("SQLite (goal >= 0.5 against sqlite3 executemany)")
        run(
            f"sqlite+aiosqlite:///{path}",
            lambda campaign_id, rows: baseline_sqlite(path, campaign_id, rows),
            lambda campaign_id, rows: baseline_sqlite(path, campaign_id, rows, foreign_keys=False),
            goal=0.5,
        )


if __name__ == "__main__":
    main()
