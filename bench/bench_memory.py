"""Memory: a 1,000,000-row CSV upload, streamed; peak resident memory of the server process
(VmHWM). Goal < 300 MB. Run: python bench/bench_memory.py
"""

import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import httpx
from common import ROOT, campaign_and_key, kecamatan_codes, machine, peak_rss_mb, prepare, server

ROWS = 1_000_000


def write_file(path: Path) -> None:
    codes = kecamatan_codes()
    today = date.today()
    written, day = 0, 1
    with path.open("w", encoding="utf-8") as handle:
        handle.write("area,date,count\n")
        while written < ROWS:
            stamp = (today - timedelta(days=day)).isoformat()
            for code in codes[: ROWS - written]:
                handle.write(f"{code},{stamp},{50 + day % 90}\n")
            written += min(len(codes), ROWS - written)
            day += 1


def main() -> None:
    print(f"memory of a {ROWS:,}-row CSV upload ({machine()})")
    with tempfile.TemporaryDirectory(dir=ROOT / "var" if (ROOT / "var").is_dir() else None) as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        prepare(url)
        campaign_id, key = campaign_and_key(url, days_back=ROWS // 7000 + 10, name="memory")
        path = Path(folder) / "tallies.csv"
        write_file(path)
        with server(url) as (base, pid):
            before = peak_rss_mb(pid)
            start = time.perf_counter()
            with path.open("rb") as handle:
                response = httpx.post(
                    f"{base}/api/v1/campaigns/{campaign_id}/tallies",
                    content=iter(lambda: handle.read(1 << 16), b""),
                    headers={"X-API-Key": key, "content-type": "text/csv"},
                    timeout=3600,
                )
            elapsed = time.perf_counter() - start
            assert response.status_code == 200 and response.json()["imported"] == ROWS, response.text[:500]
            peak = peak_rss_mb(pid)
        print(
            f"  file {path.stat().st_size / 1e6:.0f} MB, {ROWS / elapsed:,.0f} rows/s; server peak RSS {before:.0f} MB idle, {peak:.0f} MB after the upload (goal < 300)"
        )


if __name__ == "__main__":
    main()
