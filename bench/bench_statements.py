"""Round trips per request on PostgreSQL: what a script's tally post and a counter's turn send.

Under load every round trip waits for a turn of a busy event loop, so the count is what the writes'
latency is made of (issue #22). The app runs in process (httpx's ASGI transport, the real session
dependency: each request commits, its last statements pipelined with the COMMIT) against the demo
data in a throwaway PostgreSQL cluster, through a TCP relay that counts the round trips on the
wire (tests/wire.py), so what no engine event sees is counted too: the driver's BEGIN (sent with a
transaction's first statement), the COMMIT, a COPY. `--show` prints the statements the engine sent
(cut to 160 characters) and those sent on the driver's connection (`in_one_trip`, with the COMMIT).

Run: python bench/bench_statements.py [--show]
"""

import asyncio
import os
import sys
import time
from typing import Any

from common import ROOT, cli

sys.path.insert(0, str(ROOT))


async def count(url: str, show: bool) -> list[tuple[str, int, int]]:
    """(request, status, round trips) of a resident's number, tally posts and a counter's turn."""
    from tests.wire import Relay

    relay = Relay(url)
    url = await relay.start()
    os.environ.update(DATABASE_URL=url, REKAM_LOG_LEVEL="CRITICAL", REKAM_SERVE_FRONTEND="false")
    import httpx
    from bench_load import _prepare
    from sqlalchemy import event

    from api import calendar, db
    from api.db import get_engine
    from api.main import create_app

    fixture = await _prepare(url)
    app = create_app()
    sent: list[str] = []
    results: list[tuple[str, int, int]] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        sent.append(" ".join(statement.split()))

    async def measured(name: str, request: Any) -> httpx.Response:
        sent.clear()
        before = relay.trips
        response = await request
        results.append((name, response.status_code, relay.trips - before))
        if show:
            print(f"{name} ({response.status_code}): {relay.trips - before} round trips; the statements:")
            for statement in sent:
                print(f"   {statement[:160]}")
        return response

    # Statements sent on the driver's connection (pipelined: `in_one_trip`, or with the COMMIT) pass
    # no engine event: shown by their driver form.
    driver_form = db._driver_form

    def shown(statement: Any, params: Any, dialect: Any) -> Any:
        sql, values = driver_form(statement, params, dialect)
        sent.append("(pipelined) " + " ".join(sql.split()))
        return sql, values

    db._driver_form = shown  # type: ignore[assignment]
    async with app.router.lifespan_context(app):
        event.listen(get_engine().sync_engine, "before_cursor_execute", note)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client:
            point = sorted(fixture.offices)[0]
            username, password = fixture.operators[point]
            token = (await client.post("/api/v1/auth/token", data={"username": username, "password": password})).json()["access_token"]
            operator = {"Authorization": f"Bearer {token}"}
            await asyncio.sleep(3)  # what the app starts with (pruning, warming the progress) is done
            # A resident takes a number; in process every caller has the same address, so the next
            # numbers are taken by staff (uncapped) and the resident's second is refused (409).
            await measured("POST take a number", client.post(f"/api/v1/service-points/{point}/tickets", json={}))
            for _ in range(2):
                await client.post(f"/api/v1/service-points/{point}/tickets", json={}, headers=operator)
            kecamatan = sorted(fixture.kelurahan)[0]
            for round_ in ("first post of the day", "re-post"):
                rows = [
                    {"area": code, "date": calendar.today().isoformat(), "count": 100 + len(results), "source": "script"}
                    for code in fixture.kelurahan[kecamatan]
                ]
                headers = {"X-API-Key": fixture.tally_key, "Idempotency-Key": f"bench-{round_}-{time.time()}"}
                await measured(
                    f"POST tallies, {len(rows)} rows, {round_}",
                    client.post(f"/api/v1/campaigns/{fixture.campaign_id}/tallies", json={"tallies": rows}, headers=headers),
                )
            called = await measured("POST call-next", client.post(f"/api/v1/service-points/{point}/call-next", json={"counter": 1}, headers=operator))
            for move in ("start", "complete"):
                await measured(f"POST {move}", client.post(f"/api/v1/tickets/{called.json()['id']}/{move}", headers=operator))
            await measured("POST take a number, refused", client.post(f"/api/v1/service-points/{point}/tickets", json={}))
    return results


def main() -> int:
    from tests.pgcluster import ThrowawayCluster, find_pg_bin

    if find_pg_bin() is None:
        print("PostgreSQL: skipped (no initdb/pg_ctl)")
        return 0
    with ThrowawayCluster(dbname="rekam_statements") as cluster:
        cli(cluster.url, "migrate")
        cli(cluster.url, "demo")
        results = asyncio.run(count(cluster.url, "--show" in sys.argv))
    print("round trips per request on the wire, PostgreSQL, demo data (BEGIN and COMMIT included)")
    for name, status, statements in results:
        print(f"  {name:<45} {status}  {statements:>3}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
