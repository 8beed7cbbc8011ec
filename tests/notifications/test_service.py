"""emit() and resident contacts, inside the test's rolled-back transaction."""

import pytest
from sqlalchemy import event, func, select, update
from sqlalchemy.engine import Engine

from api.errors import Conflict, RuleViolation, TooManyRequests
from api.notifications import service
from api.notifications.models import EventType, NotificationEvent, ResidentContact, ResidentMessage, WebhookDelivery, WebhookSubscription
from api.notifications.schemas import ContactCreate, WebhookCreate
from api.principal import SYSTEM

PHONE = "0812-3456-7890"


async def subscribe(session, events: list[str], url: str = "http://127.0.0.1:9/hook") -> int:
    subscription, _ = await service.create_subscription(session, data=WebhookCreate(url=url, events=events), actor=SYSTEM)
    return subscription.id


async def test_emit_writes_the_event_and_a_delivery_per_matching_active_subscription(session, allow_private) -> None:
    calls = await subscribe(session, ["ticket.called", "ticket.near"])
    tallies = await subscribe(session, ["tallies.imported"])
    event = await service.emit(session, type="ticket.called", payload={"ticket_id": 3, "number": "B-012"})
    assert event.uid.startswith("msg_") and event.type == "ticket.called"
    deliveries = (await session.scalars(select(WebhookDelivery).where(WebhookDelivery.event_id == event.id))).all()
    assert [(d.subscription_id, d.status, d.attempts) for d in deliveries] == [(calls, "pending", 0)]
    tally_event = await service.emit(session, type=EventType.tallies_imported, payload={"import_id": 9, "rows": 120})
    assert [d.subscription_id for d in (await session.scalars(select(WebhookDelivery).where(WebhookDelivery.event_id == tally_event.id))).all()] == [tallies]


async def test_a_subscription_changed_in_the_transaction_counts_for_the_next_event(session, allow_private) -> None:
    # The active subscriptions are read once per transaction; creating, disabling or deleting one
    # in the same transaction must still decide the deliveries of the events after it.
    async def receivers(event) -> list[int]:
        return list((await session.scalars(select(WebhookDelivery.subscription_id).where(WebhookDelivery.event_id == event.id))).all())

    assert await receivers(await service.emit(session, type="ticket.called", payload={"ticket_id": 1})) == []
    first = await subscribe(session, ["ticket.called"])
    assert await receivers(await service.emit(session, type="ticket.called", payload={"ticket_id": 2})) == [first]
    await service.delete_subscription(session, subscription_id=first, actor=SYSTEM)
    assert await receivers(await service.emit(session, type="ticket.called", payload={"ticket_id": 3})) == []


async def test_an_event_with_its_deliveries_and_messages_is_one_statement_on_postgresql(session, allow_private) -> None:
    """On PostgreSQL the event, a delivery per active subscription to its type and a message per
    live contact of its subject are written by one statement (on SQLite by one per table)."""
    both = await subscribe(session, ["ticket.called", "ticket.near"])
    near = await subscribe(session, ["ticket.near"])
    rescheduled = await subscribe(session, ["home_visit.rescheduled"])  # a name containing another's is not that one
    disabled = await subscribe(session, ["ticket.near"])
    await session.execute(update(WebhookSubscription).where(WebhookSubscription.id == disabled).values(active=False, disabled_reason="gone"))
    await service.add_contact(session, subject_kind="ticket", subject_id=5, data=ContactCreate(phone=PHONE, channel="sms", consent=True))
    seen: list[str] = []

    def note(_conn, _cursor, statement: str, *_) -> None:
        seen.append(" ".join(statement.split()))

    async def receivers(event) -> list[int]:
        return sorted((await session.scalars(select(WebhookDelivery.subscription_id).where(WebhookDelivery.event_id == event.id))).all())

    event.listen(Engine, "before_cursor_execute", note)
    try:
        near_event = await service.emit(session, type="ticket.near", payload={"ticket_id": 5, "ahead": 3}, subject=("ticket", 5))
    finally:
        event.remove(Engine, "before_cursor_execute", note)
    assert len(seen) == (1 if session.get_bind().dialect.name == "postgresql" else 3)
    called_event = await service.emit(session, type="ticket.called", payload={"ticket_id": 6})
    scheduled_event = await service.emit(session, type="home_visit.scheduled", payload={"home_visit_id": 1})
    assert await receivers(near_event) == sorted([both, near]) and await receivers(called_event) == [both]
    rescheduled_event = await service.emit(session, type="home_visit.rescheduled", payload={"home_visit_id": 1})
    assert await receivers(scheduled_event) == [] and await receivers(rescheduled_event) == [rescheduled]
    (message,) = await service.messages_for(session, subject_kind="ticket", subject_id=5)
    assert message.event_id == near_event.id and message.status == "pending" and message.channel == "sms"


async def test_every_event_type_can_be_emitted(session) -> None:
    for event_type in EventType:
        await service.emit(session, type=event_type, payload={"id": 1})
    assert await session.scalar(select(func.count()).select_from(NotificationEvent)) == len(EventType)
    with pytest.raises(ValueError):
        await service.emit(session, type="ticket.exploded", payload={})


@pytest.mark.parametrize(
    "payload",
    [
        {"nik": "3674010101010001"},
        {"phone": "+6281234567890"},
        {"ticket": {"name_on_ticket": "Siti"}},
        {"reporter_contact": "x"},
        {"items": [{"address": "Jl. Mawar"}]},
        {"receipt": "ABCD"},
    ],
)
async def test_personal_fields_never_enter_a_payload(session, payload) -> None:
    with pytest.raises(service.PersonalDataInPayload):
        await service.emit(session, type="ticket.called", payload=payload)


async def test_an_opted_in_resident_gets_the_event_in_bahasa_indonesia(session) -> None:
    contact = await service.add_contact(session, subject_kind="ticket", subject_id=41, data=ContactCreate(phone=PHONE, channel="whatsapp", consent=True))
    assert contact.phone == "+6281234567890" and contact.phone_masked == "+62812*****890"
    await service.emit(
        session, type="ticket.near", payload={"ticket_id": 41, "number": "A-041", "service_point": "Kecamatan Serpong", "ahead": 3}, subject=("ticket", 41)
    )
    await service.emit(session, type="ticket.near", payload={"ticket_id": 42, "ahead": 3}, subject=("ticket", 42))  # someone else's
    (message,) = await service.messages_for(session, subject_kind="ticket", subject_id=41)
    assert message.body == "Rekam: Giliran antrean A-041 di Kecamatan Serpong hampir tiba, tinggal 3 orang lagi. Mohon bersiap."
    assert message.status == "pending" and message.channel == "whatsapp"
    # Events that are not for residents (figures) send no text.
    await service.emit(session, type="complaint.status_changed", payload={"complaint_id": 41, "status": "investigating"}, subject=("ticket", 41))
    texts = [m.body for m in await service.messages_for(session, subject_kind="ticket", subject_id=41)]
    assert texts[-1] == "Rekam: Status laporan Anda kini: sedang diperiksa."


async def test_consent_and_a_valid_number_are_required(session) -> None:
    with pytest.raises(RuleViolation):
        await service.add_contact(session, subject_kind="home_visit", subject_id=1, data=ContactCreate(phone=PHONE, consent=False))
    for bad in ("12345678", "+1 415 555 0100", "0212345678x", "08"):
        with pytest.raises((RuleViolation, ValueError)):
            await service.add_contact(session, subject_kind="home_visit", subject_id=1, data=ContactCreate(phone=bad.ljust(8, "0"), consent=True))


async def test_closing_a_request_erases_the_number_and_gives_up_unsent_messages(session) -> None:
    await service.add_contact(session, subject_kind="home_visit", subject_id=7, data=ContactCreate(phone=PHONE, channel="sms", consent=True))
    assert await service.send_code(session, subject_kind="home_visit", subject_id=7, code="HV-7Q2M-KX9P") == 1
    (code_message,) = await service.messages_for(session, subject_kind="home_visit", subject_id=7)
    assert "HV-7Q2M-KX9P" in code_message.body and code_message.event_id is None
    await service.erase_contacts(session, subject_kind="home_visit", subject_id=7)
    contact = await session.scalar(select(ResidentContact).where(ResidentContact.subject_id == 7))
    assert contact.phone is None and contact.erased_at is not None and contact.phone_masked == "+62812*****890"
    message = await session.get_one(ResidentMessage, code_message.id)
    assert message.status == "dead" and message.body is None
    # After erasure: no more messages, and the number cannot come back for this request.
    await service.emit(session, type="home_visit.visited", payload={"home_visit_id": 7}, subject=("home_visit", 7))
    assert len(await service.messages_for(session, subject_kind="home_visit", subject_id=7)) == 1
    with pytest.raises(Conflict):
        await service.add_contact(session, subject_kind="home_visit", subject_id=7, data=ContactCreate(phone=PHONE, channel="sms", consent=True))
    assert await service.contacts_for_phone(session, phone=PHONE) == []


async def test_kirim_ulang_kode_finds_open_requests_by_number_and_is_rate_limited(session) -> None:
    await service.add_contact(session, subject_kind="complaint", subject_id=3, data=ContactCreate(phone=PHONE, consent=True))
    await service.add_contact(session, subject_kind="home_visit", subject_id=4, data=ContactCreate(phone="+62 812 3456 7890", consent=True))
    found = await service.contacts_for_phone(session, phone="6281234567890")
    assert [(c.subject_kind, c.subject_id) for c in found] == [("complaint", 3), ("home_visit", 4)]
    await service.contacts_for_phone(session, phone=PHONE)
    await service.contacts_for_phone(session, phone=PHONE)
    with pytest.raises(TooManyRequests):  # 3/hour per number by default
        await service.contacts_for_phone(session, phone=PHONE)


async def test_emit_once_per_subject(session) -> None:
    first = await service.emit_once(session, type="ticket.near", payload={"ticket_id": 9, "ahead": 3}, subject=("ticket", 9))
    again = await service.emit_once(session, type="ticket.near", payload={"ticket_id": 9, "ahead": 3}, subject=("ticket", 9))
    other = await service.emit_once(session, type="ticket.near", payload={"ticket_id": 10, "ahead": 3}, subject=("ticket", 10))
    assert first is not None and again is None and other is not None


async def test_finished_events_are_pruned_after_the_retention_period(session, allow_private) -> None:
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import update

    await subscribe(session, ["ticket.called"])
    done = await service.emit(session, type="ticket.called", payload={"ticket_id": 1})
    waiting = await service.emit(session, type="ticket.called", payload={"ticket_id": 2})
    await session.execute(update(WebhookDelivery).where(WebhookDelivery.event_id == done.id).values(status="succeeded", delivered_at=datetime.now(UTC)))
    assert await service.prune(session, before=datetime.now(UTC) - timedelta(days=1)) == 0  # too young
    assert await service.prune(session, before=datetime.now(UTC) + timedelta(seconds=1)) == 1  # the open one stays
    remaining = (await session.scalars(select(NotificationEvent.id))).all()
    assert remaining == [waiting.id]
