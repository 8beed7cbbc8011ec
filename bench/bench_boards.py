"""The cost of a queue board as the day's tickets pile up, on PostgreSQL, in process.

Every ticket that moves ends the boards' kept answers, so under load a board is made again for
almost every read (issue #22: a quarter of the API's CPU in `bench/bench_load.py`'s mix went to
boards). A board's figures are counted and picked in the database (`api.queues.service._day_figures`),
so its cost should not grow with the day. This script adds served tickets to every kecamatan office
of the demo (early: 100 each; a busy afternoon: 2,000 each) and prints the API process's CPU per
read of one office's board and of the city's board (all offices), and the ratio afternoon / early.

Run: python bench/bench_boards.py [--reads 100]
"""

import argparse
import asyncio
import os
import random
import sys
import time
from datetime import timedelta

from common import ROOT, cli, machine

sys.path.insert(0, str(ROOT))

STAGES = (("early", 100), ("afternoon", 2_000))


async def measure(url: str, reads: int) -> dict[tuple[str, str], float]:
    """(board, stage) -> milliseconds of CPU per read."""
    os.environ.update(DATABASE_URL=url, REKAM_LOG_LEVEL="CRITICAL")
    from sqlalchemy import insert, select

    import api.models  # noqa: F401 - every table, so that foreign keys between domains resolve
    from api import calendar
    from api.db import get_sessionmaker
    from api.queues import service
    from api.queues.models import Ticket
    from api.services.models import ServicePoint, ServicePointKind

    sessions = get_sessionmaker()
    day, now = calendar.today(), calendar.now_utc()
    async with sessions() as session:
        offices = (await session.scalars(select(ServicePoint.id).where(ServicePoint.kind == ServicePointKind.kecamatan_office.value))).all()
    boards = {"one office": lambda s: service.board(s, point_id=offices[0]), f"city ({len(offices)} offices)": lambda s: service.city_board(s, area=None)}
    random.seed(7)
    added, cpu = 0, {}
    for stage, per_office in STAGES:
        async with sessions() as session, session.begin():
            rows = []
            for office in offices:
                for i in range(added, per_office):
                    arrived = now - timedelta(hours=6) + timedelta(seconds=10 * i)
                    called = arrived + timedelta(minutes=random.randint(1, 90), seconds=random.randint(0, 59))
                    ended = called + timedelta(minutes=random.randint(3, 15))
                    rows.append(
                        {
                            "service_point_id": office,
                            "day": day,
                            "number": 100_000 + i,
                            "status": "done",
                            "counter": 1 + i % 4,
                            "arrived_at": arrived,
                            "called_at": called,
                            "started_at": called,
                            "ended_at": ended,
                        }
                    )
            await session.execute(insert(Ticket), rows)
        added = per_office
        for name, read in boards.items():
            for _ in range(5):  # warm: statements compiled, connections open
                async with sessions() as session:
                    await read(session)
            started = time.process_time()
            for _ in range(reads):
                async with sessions() as session:
                    await read(session)
            cpu[(name, stage)] = (time.process_time() - started) / reads * 1000
    return cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reads", type=int, default=100, help="reads of each board at each stage (default 100)")
    args = parser.parse_args()
    from tests.pgcluster import ThrowawayCluster, find_pg_bin

    if find_pg_bin() is None:
        print("boards: skipped, the PostgreSQL server binaries (initdb, pg_ctl) are not installed")
        return 1 if os.environ.get("REKAM_REQUIRE_POSTGRES") == "1" else 0
    with ThrowawayCluster(dbname="rekam_boards") as cluster:
        cli(cluster.url, "migrate")
        cli(cluster.url, "demo")
        cpu = asyncio.run(measure(cluster.url, args.reads))
    (early, few), (afternoon, many) = STAGES
    print(f"CPU of the API process per board read ({machine()}), PostgreSQL, demo data, in process, {args.reads} reads each")
    print(f"  {'board':<20} {f'{early} ({few:,}/office)':>22} {f'{afternoon} ({many:,}/office)':>26} {'ratio':>6}")
    for name in dict.fromkeys(name for name, _ in cpu):
        ratio = cpu[(name, afternoon)] / cpu[(name, early)]
        print(f"  {name:<20} {cpu[(name, early)]:>19.2f} ms {cpu[(name, afternoon)]:>23.2f} ms {ratio:>6.2f}")
    print("  goal: a board costs about the same all day (ratio <= 2; before its figures were counted in the database, 6 and 14)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
