"""Issue 20: a crew's mark made offline is sent again by the app's outbox with the same
Idempotency-Key; the API does it once and replays its answer, and tells a key reused for another
mark apart. The answer carries `updated_at`, the version the app shows."""

from sqlalchemy import func, select

from api import calendar
from api.visits.models import HomeVisitEvent
from tests.factories import assert_problem, make_campaign
from tests.visits.factories import crew_headers, make_kit, make_operator, make_request, schedule, triage


async def test_a_mark_sent_again_with_its_idempotency_key_is_done_once(client, session) -> None:
    await make_campaign(session)
    day = calendar.today()
    kit_id, petugas = (await make_kit(session)).id, (await make_operator(session)).id
    visit_id = (await make_request(session)).id
    await triage(session, visit_id)
    await schedule(session, visit_id, device_id=kit_id, operator_id=petugas, day=day, start="09:00", end="10:00", today=day)
    crew = await crew_headers(session, operator_id=petugas)
    await session.commit()
    url = f"/api/v1/home-visits/{visit_id}/status"
    mark = {"status": "visited", "note": "at the bedside"}
    keyed = {**crew, "Idempotency-Key": "4b1d6f0e-mark-1"}

    first = await client.post(url, json=mark, headers=keyed)
    again = await client.post(url, json=mark, headers=keyed)
    assert first.status_code == again.status_code == 200, again.text
    assert first.json() == again.json() and first.json()["status"] == "visited" and first.json()["updated_at"]
    visited = select(func.count()).select_from(HomeVisitEvent).where(HomeVisitEvent.home_visit_id == visit_id, HomeVisitEvent.to_status == "visited")
    assert await session.scalar(visited) == 1
    # The day plan carries the same version as the answer.
    plan = (await client.get(f"/api/v1/mobile-kits/{kit_id}/day-plan", params={"date": day.isoformat()}, headers=crew)).json()
    assert [s["updated_at"] for s in plan["stops"] if s["id"] == visit_id] == [first.json()["updated_at"]]

    # The same key for another mark is refused, naming the header.
    reused = await client.post(url, json={"status": "unreachable"}, headers=keyed)
    assert_problem(reused, 409)
    assert reused.json()["errors"][0]["field"] == "Idempotency-Key"
    # Without a key, a second mark is the state machine's conflict, as before.
    assert (await client.post(url, json=mark, headers=crew)).status_code == 409
    assert await session.scalar(visited) == 1
