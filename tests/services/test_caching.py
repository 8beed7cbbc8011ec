"""Public schedule and service point reads: ETag from the body, 304, short public Cache-Control."""

from datetime import timedelta

from api.types import Role
from tests.factories import headers_for
from tests.services.factories import make_event, make_office, next_saturday

PUBLIC = "public, max-age=15, stale-while-revalidate=15"


async def test_schedule_and_points_have_etag_304_and_change_with_the_data(client, session) -> None:
    point = await make_office(session, area="36.74.02")
    supervisor = await headers_for(session, role=Role.supervisor, area="36.74.02")
    saturday = next_saturday()
    reads = {
        "/api/v1/schedule": {"area": "36.74.02", "from": (saturday - timedelta(days=1)).isoformat(), "to": saturday.isoformat()},
        "/api/v1/service-points": {"area": "36.74.02", "date": saturday.isoformat()},
    }
    etags = {}
    for path, params in reads.items():
        first = await client.get(path, params=params)
        assert first.status_code == 200 and first.headers["cache-control"] == PUBLIC
        etags[path] = first.headers["etag"]
        not_modified = await client.get(path, params=params, headers={"If-None-Match": etags[path]})
        assert not_modified.status_code == 304 and not_modified.content == b""
        assert not_modified.headers["etag"] == etags[path] and not_modified.headers["cache-control"] == PUBLIC
        assert [p["id"] for p in (first.json()["items"] if path.endswith("schedule") else [{"points": first.json()["items"]}])[-1]["points"]] == [point.id]

    closed = await client.post(f"/api/v1/service-points/{point.id}/closures", json={"date": saturday.isoformat(), "reason": "Libur"}, headers=supervisor)
    assert closed.status_code == 201
    for path, params in reads.items():
        after = await client.get(path, params=params, headers={"If-None-Match": etags[path]})
        assert after.status_code == 200 and after.headers["etag"] != etags[path]
        assert (after.json()["items"][-1]["points"] if path.endswith("schedule") else after.json()["items"]) == []
        etags[path] = after.headers["etag"]

    # A new weekend service in the area shows at once too.
    await make_event(session, day=saturday)
    schedule = await client.get("/api/v1/schedule", params={"from": saturday.isoformat(), "to": saturday.isoformat()})
    assert schedule.status_code == 200 and schedule.headers["etag"] != etags["/api/v1/schedule"]


async def test_staff_service_reads_are_private(client, session) -> None:
    event = await make_event(session)
    admin = await headers_for(session, role=Role.admin)
    for path in (f"/api/v1/service-points/{event.id}/assignments", "/api/v1/weekend-events/uncovered"):
        response = await client.get(path, headers=admin)
        assert response.status_code == 200, response.text
        assert response.headers["cache-control"] == "private, no-store" and "etag" not in response.headers
    # Live queue state is never kept either.
    board = await client.get(f"/api/v1/service-points/{event.id}/queue")
    assert board.status_code == 200 and board.headers["cache-control"] == "private, no-store"
