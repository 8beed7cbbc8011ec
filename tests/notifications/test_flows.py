"""Events are written where the changes happen, in their transaction (api/flows.py, tallies imports)."""

from datetime import date, timedelta

from sqlalchemy import func, select

from api import calendar, flows
from api.complaints.models import ComplaintStatus
from api.complaints.schemas import ReplyCreate, TransitionCreate
from api.notifications import service as notifications
from api.notifications.models import NotificationEvent, ResidentContact
from api.notifications.schemas import ContactCreate
from api.principal import SYSTEM
from api.queues import appointments
from api.types import Role
from api.visits.schemas import ScheduleRequest, StatusChange, VisitWindow
from tests.complaints.factories import make_complaint
from tests.factories import assert_problem, headers_for, make_campaign
from tests.services.factories import make_office
from tests.tallies.factories import post, rows
from tests.visits.factories import make_kit, make_operator, make_request, triage

TODAY = calendar.today()


async def events(session, kind: str | None = None, subject_id: int | None = None) -> list[NotificationEvent]:
    stmt = select(NotificationEvent).order_by(NotificationEvent.id)
    if kind:
        stmt = stmt.where(NotificationEvent.subject_kind == kind, NotificationEvent.subject_id == subject_id)
    return list((await session.scalars(stmt)).all())


async def test_calling_a_ticket_tells_it_and_the_one_now_three_from_the_front(client, session) -> None:
    point_id = (await make_office(session, area="36.74.01")).id
    operator = await headers_for(session, role=Role.operator, service_point_id=point_id)
    tickets = [(await client.post(f"/api/v1/service-points/{point_id}/tickets", json={})).json()["id"] for _ in range(6)]
    called = await client.post(f"/api/v1/service-points/{point_id}/call-next", json={"counter": 1}, headers=operator)
    assert called.json()["id"] == tickets[0]
    found = [(e.type, e.subject_id, e.payload.get("ahead")) for e in await events(session)]
    # After the first is called, tickets 2..6 wait: the 5th ticket has three residents before it.
    assert found == [("ticket.called", tickets[0], None), ("ticket.near", tickets[4], 3)]
    called_event = (await events(session))[0]
    assert called_event.payload["counter"] == 1 and called_event.payload["service_point_id"] == point_id and "name_on_ticket" not in called_event.payload
    await client.post(f"/api/v1/service-points/{point_id}/call-next", json={"counter": 1}, headers=operator)
    await client.post(f"/api/v1/tickets/{tickets[1]}/recall", headers=operator)
    found = [(e.type, e.subject_id) for e in await events(session)][2:]
    assert found == [("ticket.called", tickets[1]), ("ticket.near", tickets[5]), ("ticket.called", tickets[1])]


async def test_a_home_visit_scheduled_rescheduled_and_visited_and_its_number_erased(session) -> None:
    await make_campaign(session)
    kit, operator = await make_kit(session), await make_operator(session)
    visit = await make_request(session)
    await triage(session, visit.id)
    await notifications.add_contact(session, subject_kind="home_visit", subject_id=visit.id, data=ContactCreate(phone="081298765432", consent=True))

    def plan(day: date) -> ScheduleRequest:
        return ScheduleRequest(device_id=kit.id, operator_id=operator.id, date=day, window=VisitWindow(start="09:00", end="10:00"))

    await flows.schedule_visit(session, visit_id=visit.id, data=plan(TODAY + timedelta(days=1)), actor=SYSTEM)
    await flows.schedule_visit(session, visit_id=visit.id, data=plan(TODAY + timedelta(days=2)), actor=SYSTEM)
    await flows.change_visit_status(session, visit_id=visit.id, data=StatusChange(status="visited"), actor=SYSTEM, today=TODAY + timedelta(days=2))
    found = [(e.type, e.payload.get("date")) for e in await events(session, "home_visit", visit.id)]
    day1, day2 = (TODAY + timedelta(days=1)).isoformat(), (TODAY + timedelta(days=2)).isoformat()
    assert found == [("home_visit.scheduled", day1), ("home_visit.rescheduled", day2), ("home_visit.visited", day2)]
    texts = [m.body for m in await notifications.messages_for(session, subject_kind="home_visit", subject_id=visit.id)]
    assert texts == [None, None, None]  # erased with the number when the request closed (visited)
    contact = await session.scalar(select(ResidentContact).where(ResidentContact.subject_id == visit.id))
    assert contact.phone is None and contact.erased_at is not None


async def test_a_complaint_reply_and_steps_are_told_and_closing_erases_the_number(session) -> None:
    complaint = await make_complaint(session)
    await notifications.add_contact(session, subject_kind="complaint", subject_id=complaint.id, data=ContactCreate(phone="081298765432", consent=True))
    await flows.reply_to_complaint(session, complaint_id=complaint.id, data=ReplyCreate(text="Kami periksa."), actor=SYSTEM)
    await flows.transition_complaint(session, complaint_id=complaint.id, data=TransitionCreate(status="investigating", note="mulai"), actor=SYSTEM)
    found = [(e.type, e.payload) for e in await events(session, "complaint", complaint.id)]
    assert found == [
        ("complaint.replied", {"complaint_id": complaint.id, "status": "received"}),
        ("complaint.status_changed", {"complaint_id": complaint.id, "status": "investigating"}),
    ]
    texts = [m.body for m in await notifications.messages_for(session, subject_kind="complaint", subject_id=complaint.id)]
    assert texts[1] == "Rekam: Status laporan Anda kini: sedang diperiksa." and "Kami periksa" not in texts[0]
    for step in ("substantiated", "action_taken", "closed"):
        await flows.transition_complaint(session, complaint_id=complaint.id, data=TransitionCreate(status=step, note=step), actor=SYSTEM)
    assert (await events(session, "complaint", complaint.id))[-1].payload["status"] == ComplaintStatus.closed.value
    contact = await session.scalar(select(ResidentContact).where(ResidentContact.subject_id == complaint.id, ResidentContact.subject_kind == "complaint"))
    assert contact.phone is None


async def test_a_tally_import_is_told_to_integrations(client, session) -> None:
    campaign_id = (await make_campaign(session)).id
    admin = await headers_for(session, role=Role.admin)
    answer = await post(client, campaign_id, rows({"36.74.01": 12}, TODAY - timedelta(days=1)), admin)
    assert answer.status_code == 200, answer.text
    dry = await post(client, campaign_id, rows({"36.74.01": 13}, TODAY - timedelta(days=1)), admin, dry_run="true")
    assert dry.status_code == 200
    (event,) = await events(session)
    assert event.type == "tallies.imported" and event.subject_kind is None
    assert event.payload["campaign_id"] == campaign_id and event.payload["import_id"] == answer.json()["import_id"] and event.payload["imported"] == 1


async def test_a_resident_who_asks_gets_the_tracking_code_and_can_have_it_sent_again(client, session) -> None:
    from tests.complaints.factories import complaint_body
    from tests.visits.factories import payload

    await make_campaign(session)
    asked = await client.post("/api/v1/home-visits", json=payload(phone="0812 1111 2222", messages="whatsapp"))
    assert asked.status_code == 201, asked.text
    code = asked.json()["tracking_code"]
    point_id = (await make_office(session, area="36.74.01")).id
    reported = await client.post(
        "/api/v1/complaints", json=complaint_body(service_point_id=point_id, area=None, place=None, notify_phone="+62 812-1111-2222", notify_by="sms")
    )
    assert reported.status_code == 201, reported.text
    receipt = reported.json()["receipt"]
    silent = await client.post("/api/v1/home-visits", json=payload(nik="3674014507850011", phone="081233334444"))
    assert silent.status_code == 201

    visit_id = await session.scalar(select(ResidentContact.subject_id).where(ResidentContact.subject_kind == "home_visit"))
    complaint_id = await session.scalar(select(ResidentContact.subject_id).where(ResidentContact.subject_kind == "complaint"))
    visit_texts = [m.body for m in await notifications.messages_for(session, subject_kind="home_visit", subject_id=visit_id)]
    complaint_texts = [m.body for m in await notifications.messages_for(session, subject_kind="complaint", subject_id=complaint_id)]
    assert len(visit_texts) == 1 and code in visit_texts[0] and "kunjungan rumah" in visit_texts[0]
    assert len(complaint_texts) == 1 and receipt in complaint_texts[0]
    assert await session.scalar(select(func.count()).select_from(ResidentContact)) == 2  # the silent request left no contact

    # "kirim ulang kode": same answer for a known and an unknown number; codes go only to the known one.
    for phone in ("081211112222", "081299990000"):
        again = await client.post("/api/v1/notifications/resend-code", json={"phone": phone})
        assert again.status_code == 202 and "dikirim ulang" in again.json()["detail"]
    assert len(await notifications.messages_for(session, subject_kind="home_visit", subject_id=visit_id)) == 2
    assert len(await notifications.messages_for(session, subject_kind="complaint", subject_id=complaint_id)) == 2
    assert (await client.post("/api/v1/notifications/resend-code", json={"phone": "12"})).status_code == 422


async def test_a_bad_notify_phone_on_a_complaint_is_a_field_error(client, session) -> None:
    from tests.complaints.factories import complaint_body

    point_id = (await make_office(session, area="36.74.01")).id
    answer = await client.post("/api/v1/complaints", json=complaint_body(service_point_id=point_id, area=None, place=None, notify_phone="+1 415 555 0100"))
    assert answer.status_code == 422 and answer.json()["errors"][0]["field"] == "notify_phone"


async def test_the_ticket_page_subscribes_a_phone_and_the_number_goes_when_the_ticket_closes(client, session) -> None:
    point_id = (await make_office(session, area="36.74.01")).id
    operator = await headers_for(session, role=Role.operator, service_point_id=point_id)
    issued = (await client.post(f"/api/v1/service-points/{point_id}/tickets", json={})).json()
    ticket_id, code = issued["id"], issued["code"]
    phone = {"phone": "081255556666", "code": code}
    subscribed = await client.post(f"/api/v1/tickets/{ticket_id}/notify", json={**phone, "channel": "sms", "consent": True})
    assert subscribed.status_code == 204, subscribed.text
    assert (await client.post(f"/api/v1/tickets/{ticket_id}/notify", json={**phone, "consent": False})).status_code == 422
    assert (await client.post("/api/v1/tickets/999999/notify", json={**phone, "consent": True})).status_code == 404
    await client.post(f"/api/v1/service-points/{point_id}/call-next", json={"counter": 2}, headers=operator)
    (message,) = await notifications.messages_for(session, subject_kind="ticket", subject_id=ticket_id)
    assert message.channel == "sms" and "dipanggil" in message.body and "loket 2" in message.body
    await client.post(f"/api/v1/tickets/{ticket_id}/start", headers=operator)
    await client.post(f"/api/v1/tickets/{ticket_id}/complete", headers=operator)
    contact = await session.scalar(select(ResidentContact).where(ResidentContact.subject_kind == "ticket", ResidentContact.subject_id == ticket_id))
    assert contact.phone is None and contact.erased_at is not None
    assert (await client.post(f"/api/v1/tickets/{ticket_id}/notify", json={**phone, "consent": True})).status_code == 404


async def test_only_the_tickets_holder_subscribes_to_it(client, session) -> None:
    """Nobody subscribes to someone else's ticket: the ticket's code comes with the request (issue #21)."""
    point_id = (await make_office(session, area="36.74.01")).id
    mine = (await client.post(f"/api/v1/service-points/{point_id}/tickets", json={})).json()
    theirs = (await client.post(f"/api/v1/service-points/{point_id}/tickets", json={})).json()
    url = f"/api/v1/tickets/{theirs['id']}/notify"
    body = {"phone": "081255556666", "consent": True}
    assert_problem(await client.post(url, json=body), 422, field="code")  # no code
    assert_problem(await client.post(url, json={**body, "code": mine["code"]}), 404)  # another ticket's code
    assert_problem(await client.post(url, json={**body, "code": "x" * 16}), 404)  # a guess
    push = {"endpoint": "https://push.example.com/send/abc", "keys": {"p256dh": "B" + "A" * 86, "auth": "A" * 22}}
    push_url = f"/api/v1/tickets/{theirs['id']}/push"
    assert_problem(await client.post(push_url, json=push), 422, field="code")
    assert_problem(await client.post(push_url, json={**push, "code": mine["code"]}), 404)
    contacts = (
        await session.scalars(select(ResidentContact).where(ResidentContact.subject_kind == "ticket", ResidentContact.subject_id == theirs["id"]))
    ).all()
    assert contacts == []
    # With its own code, the holder subscribes (by phone and by browser).
    assert (await client.post(url, json={**body, "code": theirs["code"]})).status_code == 204
    assert (await client.post(push_url, json={**push, "code": theirs["code"]})).status_code == 204


async def test_appointment_reminders_are_queued_once_for_the_days_bookings(session) -> None:
    from api import calendar
    from api.principal import ANONYMOUS
    from api.queues.schemas import BookingCreate

    point = await make_office(session)
    tomorrow = calendar.today() + timedelta(days=1)
    booked = await appointments.book(session, point_id=point.id, data=BookingCreate(date=tomorrow, start="09:00"), actor=ANONYMOUS)
    cancelled = await appointments.book(session, point_id=point.id, data=BookingCreate(date=tomorrow, start="10:00"), actor=ANONYMOUS)
    await appointments.cancel_appointment(session, code=cancelled.code, actor=ANONYMOUS)
    assert await flows.send_appointment_reminders(session, day=tomorrow) == 1
    assert await flows.send_appointment_reminders(session, day=tomorrow) == 0
    (event,) = await events(session, "appointment", booked.id)
    assert event.type == "appointment.reminder" and event.payload["time"] == "09:00" and event.payload["service_point_id"] == point.id
    assert "code" not in event.payload  # the booking code is the resident's key, never in an event


async def test_a_tenth_of_the_target_reached_is_told_once_by_the_workers_job(client, session) -> None:
    """Not by the post (it does not read the campaign's progress while it holds the day's rows):
    the job tells every tenth passed since the last one told, and each only once."""
    campaign_id = (await make_campaign(session, target=100)).id
    admin = await headers_for(session, role=Role.admin)
    assert (await post(client, campaign_id, rows({"36.74.01": 5}, TODAY - timedelta(days=2)), admin)).status_code == 200
    assert await flows.tell_milestones(session) == 0  # 5 %
    assert (await post(client, campaign_id, rows({"36.74.01": 17}, TODAY - timedelta(days=1)), admin)).status_code == 200
    assert [e for e in await events(session) if e.type == "progress.milestone"] == []
    assert await flows.tell_milestones(session) == 2  # 22 %: 10 and 20
    milestones = [e.payload for e in await events(session) if e.type == "progress.milestone"]
    assert [(m["campaign_id"], m["milestone"], m["area"], m["percent"]) for m in milestones] == [
        (campaign_id, 10, "36.74", 22.0),
        (campaign_id, 20, "36.74", 22.0),
    ]
    assert await flows.tell_milestones(session) == 0


async def test_milestones_noted_quietly_are_not_told_later(client, session) -> None:
    """The demo's replayed figures: what they reached is history, not news."""
    campaign_id = (await make_campaign(session, target=100)).id
    admin = await headers_for(session, role=Role.admin)
    assert (await post(client, campaign_id, rows({"36.74.01": 35}, TODAY - timedelta(days=1)), admin)).status_code == 200
    assert await flows.tell_milestones(session, tell=False) == 0
    assert (await post(client, campaign_id, rows({"36.74.01": 41}, TODAY), admin)).status_code == 200
    assert await flows.tell_milestones(session) == 4  # 76 %: 40 to 70; 10 to 30 were noted quietly
    assert [e.payload["milestone"] for e in await events(session) if e.type == "progress.milestone"] == [40, 50, 60, 70]


async def test_due_reminders_cover_tomorrow_and_todays_earlier_bookings_once(session) -> None:
    """The worker's job (no cron): tomorrow's bookings; today's made before today whose slot is ahead."""
    from datetime import UTC, datetime

    from api import calendar
    from api.principal import ANONYMOUS
    from api.queues.schemas import BookingCreate

    point = await make_office(session)
    tomorrow = calendar.today() + timedelta(days=1)
    ahead = await appointments.book(session, point_id=point.id, data=BookingCreate(date=tomorrow, start="09:00"), actor=ANONYMOUS)
    earlier = await appointments.book(session, point_id=point.id, data=BookingCreate(date=tomorrow, start="09:00"), actor=ANONYMOUS)
    today_new = await appointments.book(session, point_id=point.id, data=BookingCreate(date=tomorrow, start="10:00"), actor=ANONYMOUS)
    # Move two of them to later today: one booked yesterday (reminded), one booked today (not).
    yesterday = datetime.now(UTC) - timedelta(days=1, hours=1)
    earlier.day, earlier.slot_start, earlier.slot_end, earlier.created_at = calendar.today(), "23:59", "23:59", yesterday
    today_new.day, today_new.slot_start, today_new.slot_end = calendar.today(), "23:58", "23:59"
    await session.flush()
    assert await flows.send_due_reminders(session) == 2
    assert await flows.send_due_reminders(session) == 0  # idempotent: one reminder per appointment
    assert len(await events(session, "appointment", ahead.id)) == 1
    assert len(await events(session, "appointment", earlier.id)) == 1
    assert await events(session, "appointment", today_new.id) == []


async def test_numbers_given_for_past_days_tickets_are_erased_by_the_worker_job(client, session) -> None:
    """A queue ends with its day: a ticket nobody closed keeps no number after it (issue #21)."""
    from api.queues.models import Ticket

    point_id = (await make_office(session, area="36.74.01")).id
    old, today = [(await client.post(f"/api/v1/service-points/{point_id}/tickets", json={})).json() for _ in range(2)]
    for ticket in (old, today):
        answer = await client.post(f"/api/v1/tickets/{ticket['id']}/notify", json={"phone": "081255556666", "consent": True, "code": ticket["code"]})
        assert answer.status_code == 204, answer.text
    stale = await session.get(Ticket, old["id"])
    stale.day = calendar.today() - timedelta(days=1)  # still "waiting": nobody closed it yesterday
    await session.flush()
    assert await flows.erase_past_ticket_contacts(session) == 1
    assert await flows.erase_past_ticket_contacts(session) == 0
    contacts = {c.subject_id: c for c in (await session.scalars(select(ResidentContact).where(ResidentContact.subject_kind == "ticket"))).all()}
    assert contacts[old["id"]].phone is None and contacts[old["id"]].erased_at is not None
    assert contacts[today["id"]].phone == "+6281255556666"
    # A past day's ticket is no longer open for subscriptions either.
    body = {"phone": "081255556666", "consent": True, "code": old["code"]}
    assert_problem(await client.post(f"/api/v1/tickets/{old['id']}/notify", json=body), 404)
