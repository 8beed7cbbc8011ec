"""The issue's "done when" for webhooks, with a real receiver on 127.0.0.1 and committed transactions."""

import asyncio
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import async_sessionmaker
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from api.config import PROJECT_ROOT
from api.db import create_engine_for
from api.notifications import service
from api.notifications.gateway import LogGateway
from api.notifications.models import NotificationEvent, WebhookDelivery, WebhookSubscription
from api.notifications.schemas import WebhookCreate
from api.notifications.worker import Worker
from api.principal import SYSTEM
from tests.notifications.conftest import worker_settings

pytestmark = pytest.mark.usefixtures("allow_private")


async def subscribe(sessions, url: str, events: list[str]) -> tuple[int, str]:
    async with sessions() as session, session.begin():
        subscription, secret = await service.create_subscription(session, data=WebhookCreate(url=url, events=events), actor=SYSTEM)
        return subscription.id, secret


async def emit_committed(sessions, type_: str = "ticket.called", **payload) -> str:
    async with sessions() as session, session.begin():
        event = await service.emit(session, type=type_, payload=payload or {"ticket_id": 1, "number": "A-007"})
        return event.uid


async def deliveries(sessions) -> list[WebhookDelivery]:
    async with sessions() as session:
        return list((await session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id))).all())


async def test_each_event_is_delivered_once_with_a_valid_signature(sessions, worker, receiver) -> None:
    calls_id, calls_secret = await subscribe(sessions, receiver.url + "/calls", ["ticket.called"])
    all_id, all_secret = await subscribe(sessions, receiver.url + "/all", ["ticket.called", "complaint.replied"])
    called = await emit_committed(sessions, "ticket.called", ticket_id=7, number="A-007", service_point_id=3, counter="2")
    replied = await emit_committed(sessions, "complaint.replied", complaint_id=11)

    assert await worker.run_once() == 3
    assert await worker.run_once() == 0
    received = {(r.path, r.headers["webhook-id"]): r for r in receiver.requests}
    assert set(received) == {("/calls", called), ("/all", called), ("/all", replied)}
    for (path, _), request in received.items():
        secret = calls_secret if path == "/calls" else all_secret
        Webhook(secret).verify(request.body, request.headers)  # raises when the signature is wrong
        assert request.headers["content-type"] == "application/json"
    body = received[("/calls", called)].json()
    assert body["type"] == "ticket.called" and body["data"] == {"ticket_id": 7, "number": "A-007", "service_point_id": 3, "counter": "2"}
    # Signed with one subscription's secret, a delivery does not verify with another's.
    with pytest.raises(WebhookVerificationError):
        Webhook(all_secret).verify(received[("/calls", called)].body, received[("/calls", called)].headers)
    assert {(d.subscription_id, d.status, d.attempts, d.last_status_code) for d in await deliveries(sessions)} == {
        (calls_id, "succeeded", 1, 200),
        (all_id, "succeeded", 1, 200),
    }


async def test_a_receiver_answering_500_then_200_gets_it_exactly_once_more(sessions, worker, receiver) -> None:
    receiver.statuses.extend([500, 200])
    await subscribe(sessions, receiver.url, ["ticket.called"])
    uid = await emit_committed(sessions)

    assert await worker.run_once() == 1
    (delivery,) = await deliveries(sessions)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("failed", 1, 500)
    assert "500" in delivery.last_error
    assert await worker.run_once() == 1  # backoff is 0 s here
    assert await worker.run_once() == 0
    assert await worker.run_once() == 0
    assert receiver.ids() == [uid, uid]  # the same webhook-id on the retry
    (delivery,) = await deliveries(sessions)
    assert (delivery.status, delivery.attempts, delivery.last_status_code, delivery.last_error) == ("succeeded", 2, 200, None)


async def test_a_failed_try_waits_for_its_backoff(sessions, receiver) -> None:
    receiver.statuses.append(503)
    worker = Worker(sessions, settings=worker_settings(), gateway=LogGateway())  # the real schedule: 5 s, 5 min, ...
    await subscribe(sessions, receiver.url, ["ticket.called"])
    await emit_committed(sessions)
    assert await worker.run_once() == 1
    assert await worker.run_once() == 0  # not due for 5 s
    (delivery,) = await deliveries(sessions)
    assert timedelta(seconds=3) < delivery.next_attempt_at - delivery.last_attempt_at <= timedelta(seconds=6)
    await worker.aclose()


async def test_a_rolled_back_change_sends_nothing(sessions, worker, receiver) -> None:
    await subscribe(sessions, receiver.url, ["ticket.called"])
    async with sessions() as session, session.begin():
        await service.emit(session, type="ticket.called", payload={"ticket_id": 1})
        assert await session.scalar(select(func.count()).select_from(WebhookDelivery)) == 1
        await session.rollback()
    assert await worker.run_once() == 0
    assert receiver.count() == 0
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(NotificationEvent)) == 0


async def test_persistent_failure_disables_the_subscription_with_the_reason(sessions, worker, receiver) -> None:
    receiver.default_status = 500
    subscription_id, _ = await subscribe(sessions, receiver.url, ["ticket.called"])
    await emit_committed(sessions)
    for _ in range(4):  # 1 try + 3 retries on a backoff of (0, 0, 0)
        await worker.run_once()
    async with sessions() as session:
        subscription = await session.get_one(WebhookSubscription, subscription_id)
        assert subscription.active is False and "HTTP 500" in subscription.disabled_reason and subscription.disabled_at is not None
        assert subscription.consecutive_failures == 4
    (delivery,) = await deliveries(sessions)
    assert (delivery.status, delivery.attempts) == ("dead", 4)
    # A disabled subscription gets no new deliveries, and nothing more is sent.
    await emit_committed(sessions)
    assert await worker.run_once() == 0 and receiver.count() == 4
    assert len(await deliveries(sessions)) == 1


async def test_a_live_lease_is_not_taken_and_a_lapsed_one_is(sessions, worker, receiver) -> None:
    await subscribe(sessions, receiver.url, ["ticket.called"])
    uid = await emit_committed(sessions)
    token, ids = await worker._claim(WebhookDelivery, 10)  # a worker claimed it, then died before sending
    assert len(ids) == 1
    other = Worker(sessions, settings=worker_settings(), gateway=LogGateway(), backoff=(0,))
    assert await other.run_once() == 0  # the lease (30 s) still holds
    async with sessions() as session, session.begin():
        await session.execute(update(WebhookDelivery).values(claimed_until=datetime.now(UTC) - timedelta(seconds=1)))
    assert await other.run_once() == 1
    assert receiver.ids() == [uid]
    (delivery,) = await deliveries(sessions)
    assert delivery.status == "succeeded" and delivery.attempts == 2
    # The dead worker's late result does not overwrite the new one.
    from api.notifications.webhooks import Outcome

    await worker._record_webhook(ids[0], token, Outcome(False, 500, "late"))
    (delivery,) = await deliveries(sessions)
    assert delivery.status == "succeeded"
    await other.aclose()


async def test_a_private_target_is_refused_at_delivery_time_too(sessions, receiver) -> None:
    await subscribe(sessions, receiver.url, ["ticket.called"])  # allowed when it was created
    await emit_committed(sessions)
    strict = Worker(sessions, settings=worker_settings(webhook_allow_private_targets=False), gateway=LogGateway(), backoff=(0, 0))
    assert await strict.run_once() == 1
    assert receiver.count() == 0
    (delivery,) = await deliveries(sessions)
    assert delivery.status == "failed" and delivery.last_status_code is None
    assert "https" in delivery.last_error or "not public" in delivery.last_error
    await strict.aclose()


async def test_two_workers_never_send_one_event_twice(sessions, migrated_database_url, receiver) -> None:
    """Two workers with their own engines (own connections) share one outbox; on PostgreSQL they race."""
    await subscribe(sessions, receiver.url + "/a", ["ticket.called"])
    await subscribe(sessions, receiver.url + "/b", ["ticket.called"])
    uids = [await emit_committed(sessions, ticket_id=i) for i in range(40)]
    engines = [create_engine_for(migrated_database_url) for _ in range(2)]
    workers = [
        Worker(async_sessionmaker(engine, expire_on_commit=False), settings=worker_settings(notifications_batch=5), gateway=LogGateway(), backoff=(0,))
        for engine in engines
    ]

    async def drain(worker: Worker) -> int:
        total = 0
        while (handled := await worker.run_once()) or total == 0:
            total += handled
            await asyncio.sleep(0)
        return total

    try:
        handled = await asyncio.gather(*(drain(w) for w in workers))
    finally:
        for worker, engine in zip(workers, engines, strict=True):
            await worker.aclose()
            await engine.dispose()
    assert sum(handled) == 80
    per_target: dict[tuple[str, str], int] = {}
    for request in receiver.requests:
        key = (request.path, request.headers["webhook-id"])
        per_target[key] = per_target.get(key, 0) + 1
    assert len(per_target) == 80 and set(per_target.values()) == {1}
    assert {uid for _, uid in per_target} == set(uids)
    assert {d.status for d in await deliveries(sessions)} == {"succeeded"}


def _start_worker(database_url: str, **env: str) -> subprocess.Popen:
    environment = {**os.environ, "DATABASE_URL": database_url, "REKAM_WEBHOOK_ALLOW_PRIVATE_TARGETS": "true", "REKAM_NOTIFICATIONS_POLL_SECONDS": "0.2", **env}
    return subprocess.Popen(
        [sys.executable, "-m", "api.cli", "worker"], cwd=PROJECT_ROOT, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


async def test_a_killed_worker_resumes_deliveries_after_restart(sessions, migrated_database_url, receiver) -> None:
    receiver.hang_first = 30  # the receiver holds the first request: the worker is killed mid-send
    await subscribe(sessions, receiver.url, ["ticket.called"])
    first = await emit_committed(sessions, ticket_id=1)
    process = _start_worker(migrated_database_url, REKAM_NOTIFICATIONS_LEASE_SECONDS="2")
    try:
        await asyncio.to_thread(receiver.wait_for, 1)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    (delivery,) = await deliveries(sessions)
    assert delivery.status == "pending" and delivery.attempts == 1 and delivery.claimed_until is not None
    second = await emit_committed(sessions, ticket_id=2)  # written while no worker runs: kept in the outbox

    process = _start_worker(migrated_database_url, REKAM_NOTIFICATIONS_LEASE_SECONDS="2")
    try:
        await asyncio.to_thread(receiver.wait_for, 3)
        for _ in range(100):
            if {d.status for d in await deliveries(sessions)} == {"succeeded"}:
                break
            await asyncio.sleep(0.1)
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(10) == 0  # SIGTERM: a clean stop
    assert sorted(receiver.ids()) == sorted([first, first, second])
    assert [(d.status, d.attempts) for d in await deliveries(sessions)] == [("succeeded", 2), ("succeeded", 1)]


async def test_the_in_process_worker_delivers_and_stops_cleanly(sessions, receiver) -> None:
    from api.notifications.worker import InProcessWorker

    await subscribe(sessions, receiver.url, ["tallies.imported"])
    running = InProcessWorker(sessions, worker_settings(notifications_poll_seconds=0.05)).start()
    try:
        uid = await emit_committed(sessions, "tallies.imported", import_id=3, rows=10)
        await asyncio.to_thread(receiver.wait_for, 1)
    finally:
        await running.stop()
    assert running.task.done() and receiver.ids() == [uid]


async def test_two_worker_processes_never_send_one_event_twice(sessions, migrated_database_url, receiver) -> None:
    """Two OS processes (`rekam worker`) on one outbox."""
    await subscribe(sessions, receiver.url, ["ticket.called"])
    uids = [await emit_committed(sessions, ticket_id=i) for i in range(60)]
    processes = [_start_worker(migrated_database_url, REKAM_NOTIFICATIONS_BATCH="3") for _ in range(2)]
    try:
        await asyncio.to_thread(receiver.wait_for, 60, 60.0)
        for _ in range(100):
            if {d.status for d in await deliveries(sessions)} == {"succeeded"}:
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.5)  # a double send would arrive now
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            process.wait(10)
    ids = receiver.ids()
    assert sorted(ids) == sorted(uids) and len(ids) == len(set(ids)) == 60
    assert {(d.status, d.attempts) for d in await deliveries(sessions)} == {("succeeded", 1)}


async def _book_committed(sessions, days_ahead: int = 1, start: str = "09:00") -> int:
    from api import calendar
    from api.areas import service as areas
    from api.areas.models import Area
    from api.db import sqlite_write_intent
    from api.principal import ANONYMOUS
    from api.queues import appointments
    from api.queues.schemas import BookingCreate
    from tests.services.factories import make_office

    sqlite_write_intent.set(True)  # SQLite: BEGIN IMMEDIATE, as the app's writes (the worker may be writing too)
    async with sessions() as session, session.begin():
        if await session.get(Area, "36.74.01") is None:
            await areas.load_official(await session.connection(), prefix="36.74.01")
        point = await make_office(session)
        day = calendar.today() + timedelta(days=days_ahead)
        return (await appointments.book(session, point_id=point.id, data=BookingCreate(date=day, start=start), actor=ANONYMOUS)).id


async def reminder_events(sessions) -> list[NotificationEvent]:
    async with sessions() as session:
        stmt = select(NotificationEvent).where(NotificationEvent.type == "appointment.reminder").order_by(NotificationEvent.id)
        return list((await session.scalars(stmt)).all())


async def test_the_in_process_worker_sends_appointment_reminders_by_itself_once(sessions, receiver) -> None:
    """No cron: the worker inside `rekam serve` runs the reminder job on its clock, and reminds each appointment once."""
    from api import flows
    from api.notifications.worker import InProcessWorker

    await subscribe(sessions, receiver.url, ["appointment.reminder"])
    first = await _book_committed(sessions)
    settings = worker_settings(notifications_poll_seconds=0.05, appointment_reminder_seconds=0.1)
    running = InProcessWorker(sessions, settings, jobs=flows.worker_jobs(settings)).start()
    try:
        await asyncio.to_thread(receiver.wait_for, 1)
        second = await _book_committed(sessions)  # booked while it runs: reminded on a later turn
        await asyncio.to_thread(receiver.wait_for, 2)
        await asyncio.sleep(0.5)  # several more turns of the job: nothing sent again
    finally:
        await running.stop()
    assert sorted(e.subject_id for e in await reminder_events(sessions)) == sorted([first, second])
    assert len(receiver.requests) == 2 and len(set(receiver.ids())) == 2


async def test_two_workers_running_the_reminder_job_at_once_remind_each_appointment_once(sessions, migrated_database_url) -> None:
    """On PostgreSQL the appointment rows are locked while reminded; on SQLite the job is one writer's."""
    from api import flows

    booked = [await _book_committed(sessions, start=start) for start in ("09:00", "10:00", "11:00")]
    engines = [create_engine_for(migrated_database_url) for _ in range(3)]
    settings = worker_settings()
    workers = [
        Worker(async_sessionmaker(engine, expire_on_commit=False), settings=settings, gateway=LogGateway(), jobs=flows.worker_jobs(settings))
        for engine in engines
    ]
    try:
        written = await asyncio.gather(*(w.run_jobs() for w in workers))
    finally:
        for worker, engine in zip(workers, engines, strict=True):
            await worker.aclose()
            await engine.dispose()
    assert sum(written) == 3
    assert sorted(e.subject_id for e in await reminder_events(sessions)) == sorted(booked)
