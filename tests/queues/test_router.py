from datetime import timedelta

from sqlalchemy import select

from api import calendar
from api.audit.models import AuditEntry
from api.queues.models import Ticket
from api.types import Role
from tests.factories import assert_problem, headers_for
from tests.services.factories import make_office


async def test_walk_in_call_serve_and_board_over_http(client, session) -> None:
    point_id = (await make_office(session, counters=2)).id
    operator = await headers_for(session, role=Role.operator, service_point_id=point_id)
    assert (await client.post(f"/api/v1/service-points/{point_id}/call-next", json={"counter": 1}, headers=operator)).status_code == 204
    taken = await client.post(f"/api/v1/service-points/{point_id}/tickets", json={"name": "Nama Rahasia"})
    assert taken.status_code == 201
    body = taken.json()
    assert set(body) == {"id", "number", "day", "date", "position", "estimated_wait_minutes", "code"} and body["number"] == 1 and body["position"] == 1
    assert_problem(await client.post(f"/api/v1/service-points/{point_id}/tickets", json={"nik": "3674010101010001"}), 422)
    called = await client.post(f"/api/v1/service-points/{point_id}/call-next", json={"counter": 1}, headers=operator)
    assert called.status_code == 200 and called.json()["number"] == 1 and "name_on_ticket" not in called.json()
    ticket_id = body["id"]
    assert_problem(await client.post(f"/api/v1/tickets/{ticket_id}/complete", headers=operator), 409)
    assert (await client.post(f"/api/v1/tickets/{ticket_id}/start", headers=operator)).json()["status"] == "serving"
    assert (await client.post(f"/api/v1/tickets/{ticket_id}/complete", headers=operator)).json()["status"] == "done"
    board = await client.get(f"/api/v1/service-points/{point_id}/queue")
    assert board.status_code == 200 and board.json()["served"] == 1 and "Nama Rahasia" not in board.text
    city = (await client.get("/api/v1/queues", params={"area": "36.74.01"})).json()["items"]
    assert point_id in {b["service_point_id"] for b in city}
    detail = await client.get(f"/api/v1/tickets/{ticket_id}", headers=operator)
    assert detail.json()["name_on_ticket"] == "Nama Rahasia"
    assert await session.scalar(select(AuditEntry.id).where(AuditEntry.action == "ticket.read_personal", AuditEntry.entity_id == str(ticket_id)))
    assert_problem(await client.post(f"/api/v1/service-points/{point_id}/call-next", json={"counter": 9}, headers=operator), 422, field="counter")
    assert_problem(await client.post("/api/v1/service-points/99999999/tickets", json={}), 404)


async def test_booking_over_http(client, session) -> None:
    point_id = (await make_office(session, counters=1, service_minutes=20)).id
    tomorrow = (calendar.today() + timedelta(days=1)).isoformat()
    slots = (await client.get(f"/api/v1/service-points/{point_id}/slots", params={"date": tomorrow})).json()["items"]
    assert slots[0]["start"] == "00:00" and slots[0]["end"] == "00:20" and slots[0]["available"] == 1
    booked = await client.post(f"/api/v1/service-points/{point_id}/appointments", json={"date": tomorrow, "start": "10:00", "name": "Ani"})
    assert booked.status_code == 201 and "name" not in booked.json()
    code = booked.json()["code"]
    assert_problem(await client.post(f"/api/v1/service-points/{point_id}/appointments", json={"date": tomorrow, "start": "10:00"}), 409, field="start")
    assert (await client.get(f"/api/v1/appointments/{code}")).json()["status"] == "booked"
    assert (await client.post(f"/api/v1/appointments/{code}/cancel")).json()["status"] == "cancelled"
    assert_problem(await client.get("/api/v1/appointments/nope"), 404)
    past = (calendar.today() - timedelta(days=1)).isoformat()
    assert_problem(await client.get(f"/api/v1/service-points/{point_id}/slots", params={"date": past}), 422, field="date")


async def test_walk_ins_and_bookings_are_rate_limited_per_address(client, session, monkeypatch) -> None:
    from api.config import get_settings

    point_id = (await make_office(session, counters=1, service_minutes=20)).id
    await session.commit()
    monkeypatch.setenv("REKAM_PUBLIC_WRITE_LIMIT", "2/hour")
    get_settings.cache_clear()
    try:
        for _ in range(2):
            assert (await client.post(f"/api/v1/service-points/{point_id}/tickets", json={})).status_code == 201
        assert_problem(await client.post(f"/api/v1/service-points/{point_id}/tickets", json={}), 429)
        tomorrow = calendar.today() + timedelta(days=1)
        assert_problem(await client.post(f"/api/v1/service-points/{point_id}/appointments", json={"date": tomorrow.isoformat(), "start": "08:00"}), 429)
    finally:
        monkeypatch.delenv("REKAM_PUBLIC_WRITE_LIMIT")
        get_settings.cache_clear()


def _client_at(app, address: str):
    import httpx

    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, raise_app_exceptions=False, client=(address, 5000)), base_url="http://test")


async def test_one_address_cannot_hoard_appointments(app, session, monkeypatch) -> None:
    """Issue 17, item 10: one address booked 10 appointments a minute."""
    from api.config import get_settings

    point_id = (await make_office(session, counters=4, service_minutes=20)).id
    staff = await headers_for(session, role=Role.operator, service_point_id=point_id)
    await session.commit()
    monkeypatch.setenv("REKAM_BOOKING_LIMIT", "3/hour")
    get_settings.cache_clear()
    tomorrow = (calendar.today() + timedelta(days=1)).isoformat()
    url = f"/api/v1/service-points/{point_id}/appointments"
    try:
        async with _client_at(app, "203.0.113.7") as hoarder, _client_at(app, "203.0.113.8") as neighbour:
            for start in ("08:00", "08:20", "08:40"):
                assert (await hoarder.post(url, json={"date": tomorrow, "start": start})).status_code == 201
            refused = await hoarder.post(url, json={"date": tomorrow, "start": "09:00"})
            assert_problem(refused, 429)
            assert int(refused.headers["retry-after"]) > 0
            assert (await neighbour.post(url, json={"date": tomorrow, "start": "09:00"})).status_code == 201
            # Staff (and kiosks, with API keys) book for residents at the counter: not limited.
            for start in ("09:20", "09:40", "10:00", "10:20"):
                assert (await hoarder.post(url, json={"date": tomorrow, "start": start}, headers=staff)).status_code == 201
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()


async def test_many_addresses_cannot_empty_a_point_in_seconds(app, session, monkeypatch) -> None:
    """Issue 17, item 10: 17 addresses took all 168 seats of a day in 2.4 s."""
    from api.config import get_settings

    point_id = (await make_office(session, counters=4, service_minutes=20)).id
    other_id = (await make_office(session, counters=4, service_minutes=20)).id
    admin = await headers_for(session, role=Role.admin)
    await session.commit()
    monkeypatch.setenv("REKAM_POINT_BOOKING_LIMIT", "5/hour")
    get_settings.cache_clear()
    tomorrow = (calendar.today() + timedelta(days=1)).isoformat()
    url = f"/api/v1/service-points/{point_id}/appointments"
    try:
        for n, start in enumerate(("08:00", "08:20", "08:40", "09:00", "09:20")):
            async with _client_at(app, f"198.51.100.{n + 1}") as resident:
                assert (await resident.post(url, json={"date": tomorrow, "start": start})).status_code == 201
        async with _client_at(app, "198.51.100.99") as late:
            refused = await late.post(url, json={"date": tomorrow, "start": "09:40"})
            assert_problem(refused, 429)
            assert int(refused.headers["retry-after"]) > 0
            # Another point has its own budget; staff are not limited at this one.
            assert (await late.post(f"/api/v1/service-points/{other_id}/appointments", json={"date": tomorrow, "start": "08:20"})).status_code == 201
            assert (await late.post(url, json={"date": tomorrow, "start": "09:40"}, headers=admin)).status_code == 201
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()


async def test_one_wait_estimate_on_ticket_and_board_and_none_when_nobody_waits(client, session) -> None:
    point_id = (await make_office(session, counters=2, service_minutes=10)).id
    board = (await client.get(f"/api/v1/service-points/{point_id}/queue")).json()
    assert board["waiting"] == 0 and board["estimated_wait_minutes"] == 0
    for _ in range(3):
        taken = (await client.post(f"/api/v1/service-points/{point_id}/tickets", json={})).json()
        board = (await client.get(f"/api/v1/service-points/{point_id}/queue")).json()
        # The board's figure is the last in line's: the ticket just taken.
        assert board["estimated_wait_minutes"] == taken["estimated_wait_minutes"] > 0
    city = (await client.get("/api/v1/queues", params={"area": "36.74.01"})).json()["items"]
    assert next(b for b in city if b["service_point_id"] == point_id)["estimated_wait_minutes"] == taken["estimated_wait_minutes"]


async def test_a_closed_board_shows_no_counter_serving_and_the_next_opening(client, session) -> None:
    tomorrow = calendar.today() + timedelta(days=1)
    weekday = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[tomorrow.weekday()]
    point = await make_office(session, counters=1, hours={weekday: [["08:00", "12:00"]]})
    # A ticket left at a counter from earlier: the closed board does not show it.
    session.add(
        Ticket(
            service_point_id=point.id,
            day=calendar.today(),
            number=1,
            status="called",
            priority="none",
            counter=1,
            arrived_at=calendar.now_utc(),
            called_at=calendar.now_utc(),
            recalls=0,
        )
    )
    await session.flush()
    board = (await client.get(f"/api/v1/service-points/{point.id}/queue")).json()
    assert board["open_now"] is False and board["now_serving"] == []
    assert board["next_opening"] == {"date": tomorrow.isoformat(), "time": "08:00"}
    assert_problem(await client.post(f"/api/v1/service-points/{point.id}/tickets", json={}), 409)


async def test_a_resident_reads_their_ticket_with_its_code_only(client, session) -> None:
    point_id = (await make_office(session, counters=1)).id
    first = (await client.post(f"/api/v1/service-points/{point_id}/tickets", json={"name": "Nama Rahasia"})).json()
    second = (await client.post(f"/api/v1/service-points/{point_id}/tickets", json={})).json()
    assert len(second["code"]) >= 16 and second["code"] != first["code"]
    mine = await client.get(f"/api/v1/tickets/{second['id']}/status/{second['code']}")
    assert mine.status_code == 200, mine.text
    body = mine.json()
    assert (body["number"], body["position"], body["status"]) == (second["number"], 2, "waiting") and "Nama" not in mine.text
    assert body["estimated_wait_minutes"] == second["estimated_wait_minutes"]
    assert_problem(await client.get(f"/api/v1/tickets/{second['id']}/status/{first['code']}"), 404)
    assert_problem(await client.get(f"/api/v1/tickets/{second['id']}/status/wrongcode123"), 404)
    # The code stays out of the audit trail.
    entries = (await session.scalars(select(AuditEntry).where(AuditEntry.entity == "ticket"))).all()
    assert entries and not any(second["code"] in str(e.after) for e in entries)
