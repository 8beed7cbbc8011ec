"""A request's events and audit entries on a real PostgreSQL server, committed: they are sent with
the COMMIT (`api.db.last_statement`), each event with its deliveries and messages, and a rollback
sends none of them."""

from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import async_sessionmaker

from api.audit import service as audit
from api.audit.models import AuditEntry
from api.db import commit, hold_last_writes
from api.notifications import service
from api.notifications.models import NotificationEvent, ResidentContact, ResidentMessage, WebhookDelivery
from api.notifications.schemas import ContactCreate, WebhookCreate
from api.principal import SYSTEM
from tests.committing import committed_database

race_engine = committed_database("sent_with_commit")


@pytest.mark.parametrize("committed", [True, False])
async def test_a_requests_events_and_audit_entries_go_with_its_commit(race_engine, allow_private, committed: bool) -> None:
    maker = async_sessionmaker(race_engine, expire_on_commit=False, autoflush=False)
    subject_id = 700 + committed
    async with maker() as session, session.begin():
        subscription, _ = await service.create_subscription(
            session, data=WebhookCreate(url=f"http://127.0.0.1:9/hook/{subject_id}", events=["ticket.near"]), actor=SYSTEM
        )
        await service.add_contact(session, subject_kind="ticket", subject_id=subject_id, data=ContactCreate(phone="0812-3456-7890", consent=True))
    sent: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        sent.append(statement)

    async with maker() as session:
        hold_last_writes(session)
        await session.connection()
        event.listen(Engine, "before_cursor_execute", note)
        try:
            assert await service.emit(session, type="ticket.near", payload={"ticket_id": subject_id, "ahead": 3}, subject=("ticket", subject_id)) is None
            await audit.record(session, actor=SYSTEM, action="test.with_commit", entity="ticket", entity_id=subject_id)
        finally:
            event.remove(Engine, "before_cursor_execute", note)
        assert sent == []  # both wait for the COMMIT
        if committed:
            await commit(session)
        else:
            await session.rollback()

    async with maker() as session:
        events = (await session.scalars(select(NotificationEvent).where(NotificationEvent.subject_id == subject_id))).all()
        entries = (await session.scalars(select(AuditEntry).where(AuditEntry.action == "test.with_commit", AuditEntry.entity_id == str(subject_id)))).all()
        assert len(events) == len(entries) == committed
        if committed:
            deliveries = (await session.scalars(select(WebhookDelivery).where(WebhookDelivery.event_id == events[0].id))).all()
            messages = (await session.scalars(select(ResidentMessage).where(ResidentMessage.event_id == events[0].id))).all()
            assert [d.subscription_id for d in deliveries] == [subscription.id]
            assert [m.status for m in messages] == ["pending"] and "tinggal 3 orang lagi" in (messages[0].body or "")


async def test_closing_a_request_erases_its_numbers_with_the_commit(race_engine) -> None:
    maker = async_sessionmaker(race_engine, expire_on_commit=False, autoflush=False)
    async with maker() as session, session.begin():
        contact = await service.add_contact(session, subject_kind="home_visit", subject_id=77, data=ContactCreate(phone="0812-3456-7890", consent=True))
        assert await service.send_code(session, subject_kind="home_visit", subject_id=77, code="HV-7Q2M-KX9P") == 1
    async with maker() as session:
        hold_last_writes(session)
        await service.erase_contacts(session, subject_kind="home_visit", subject_id=77)
        assert session.in_transaction() is False  # nothing sent yet: both updates wait for the COMMIT
        await commit(session)
    async with maker() as session:
        erased = await session.get_one(ResidentContact, contact.id)
        (message,) = (await session.scalars(select(ResidentMessage).where(ResidentMessage.contact_id == contact.id))).all()
    assert erased.phone is None and erased.push_subscription is None and erased.erased_at is not None
    assert message.status == "dead" and message.body is None


async def test_an_event_once_a_subject_goes_with_the_commit_and_stays_once(race_engine, allow_private) -> None:
    """`emit_once` in a request (`ticket.near` when a call moves a resident near the front) is sent
    with the COMMIT as `emit` is; its condition reads what committed before, so a second request
    for the same subject adds nothing."""
    maker = async_sessionmaker(race_engine, expire_on_commit=False, autoflush=False)
    subject_id = 750
    async with maker() as session, session.begin():
        await service.add_contact(session, subject_kind="ticket", subject_id=subject_id, data=ContactCreate(phone="0812-3456-7891", consent=True))
    sent: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        sent.append(statement)

    for _request in range(2):
        async with maker() as session:
            hold_last_writes(session)
            await session.connection()
            event.listen(Engine, "before_cursor_execute", note)
            try:
                near = await service.emit_once(session, type="ticket.near", payload={"ticket_id": subject_id, "ahead": 3}, subject=("ticket", subject_id))
            finally:
                event.remove(Engine, "before_cursor_execute", note)
            assert near is None and sent == []  # it waits for the COMMIT
            await commit(session)
    async with maker() as session:
        events = (await session.scalars(select(NotificationEvent).where(NotificationEvent.subject_id == subject_id))).all()
        assert [e.type for e in events] == ["ticket.near"]
        messages = (await session.scalars(select(ResidentMessage).where(ResidentMessage.event_id == events[0].id))).all()
        assert len(messages) == 1
