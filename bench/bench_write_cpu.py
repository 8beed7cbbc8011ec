"""CPU of the writes that wait under load: the API process's own time per counter turn and per tally re-post.

Under load the writes' latency is made of turns of a busy event loop (bench/bench_load.py), and a
turn is as long as the CPU of the requests sharing it: this measures that CPU without the noise
of 32 clients. The app runs in process (httpx's ASGI transport, the real session dependency: each
request commits) against the demo data in a throwaway PostgreSQL cluster; `time.process_time()`
counts this process only (the server's work is in its own processes). A counter turn is four
requests (a number taken at the counter, call-next, start, complete); a re-post is one script
post of a kecamatan's kelurahan figures for today, a little higher each time (bench_load's).

To compare commits, run it from a worktree of each, alternating (the machine is shared: take the
median of a few runs). Run: python bench/bench_write_cpu.py [--turns 200]
"""

import asyncio
import os
import sys
import time

from common import ROOT, cli, machine

sys.path.insert(0, str(ROOT))


async def measure(url: str, turns: int) -> tuple[float, float, float, float]:
    """(ms of CPU, ms of wall time) per counter turn, then per re-post."""
    os.environ.update(DATABASE_URL=url, REKAM_LOG_LEVEL="CRITICAL", REKAM_SERVE_FRONTEND="false")
    import httpx
    from bench_load import _prepare

    from api import calendar
    from api.main import create_app

    fixture = await _prepare(url)
    app = create_app()
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client:
        point = sorted(fixture.offices)[0]
        username, password = fixture.operators[point]
        token = (await client.post("/api/v1/auth/token", data={"username": username, "password": password})).json()["access_token"]
        operator = {"Authorization": f"Bearer {token}"}
        kecamatan = sorted(fixture.kelurahan)[0]

        async def turn() -> None:
            taken = await client.post(f"/api/v1/service-points/{point}/tickets", json={}, headers=operator)
            assert taken.status_code == 201, taken.text
            called = await client.post(f"/api/v1/service-points/{point}/call-next", json={"counter": 1}, headers=operator)
            assert called.status_code == 200, called.text
            for move in ("start", "complete"):
                moved = await client.post(f"/api/v1/tickets/{called.json()['id']}/{move}", headers=operator)
                assert moved.status_code == 200, moved.text

        async def repost(n: int) -> None:
            rows = [{"area": code, "date": calendar.today().isoformat(), "count": 100 + n, "source": "script"} for code in fixture.kelurahan[kecamatan]]
            headers = {"X-API-Key": fixture.tally_key, "Idempotency-Key": f"cpu-{n}-{time.time()}"}
            posted = await client.post(f"/api/v1/campaigns/{fixture.campaign_id}/tallies", json={"tallies": rows}, headers=headers)
            assert posted.status_code == 200, posted.text

        for n in range(20):  # one-time costs first: imports, compiled statements, caches
            await turn()
            await repost(n)
        cpu, wall = time.process_time(), time.perf_counter()
        for _ in range(turns):
            await turn()
        turn_cpu, turn_wall = time.process_time() - cpu, time.perf_counter() - wall
        cpu, wall = time.process_time(), time.perf_counter()
        for n in range(turns):
            await repost(20 + n)
        post_cpu, post_wall = time.process_time() - cpu, time.perf_counter() - wall
    return tuple(1000 * value / turns for value in (turn_cpu, turn_wall, post_cpu, post_wall))  # type: ignore[return-value]  # four values


def main() -> int:
    from tests.pgcluster import ThrowawayCluster, find_pg_bin

    if find_pg_bin() is None:
        print("PostgreSQL: skipped (no initdb/pg_ctl)")
        return 0
    turns = int(sys.argv[sys.argv.index("--turns") + 1]) if "--turns" in sys.argv else 200
    with ThrowawayCluster(dbname="rekam_write_cpu") as cluster:
        cli(cluster.url, "migrate")
        cli(cluster.url, "demo")
        turn_cpu, turn_wall, post_cpu, post_wall = asyncio.run(measure(cluster.url, turns))
    print(f"CPU of the API process per write ({machine()}), PostgreSQL, demo data, {turns} of each, in process")
    print(f"  counter turn (take, call-next, start, complete): {turn_cpu:.1f} ms CPU, {turn_wall:.1f} ms wall")
    print(f"  tally re-post (9 rows): {post_cpu:.1f} ms CPU, {post_wall:.1f} ms wall")
    return 0


if __name__ == "__main__":
    sys.exit(main())
