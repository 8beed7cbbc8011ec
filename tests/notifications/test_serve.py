"""`rekam serve` delivers by itself (no extra server), and resumes after it is killed mid-delivery.

Two API processes (`rekam serve --workers 2`) share the outbox without sending an event twice.
"""

import asyncio

import pytest

from tests.live import kill_server, live_server, start_server, wait_until_healthy
from tests.notifications.test_worker import deliveries, emit_committed, subscribe

pytestmark = pytest.mark.usefixtures("allow_private")
ENV = {"REKAM_WEBHOOK_ALLOW_PRIVATE_TARGETS": "true", "REKAM_NOTIFICATIONS_POLL_SECONDS": "0.2", "REKAM_NOTIFICATIONS_LEASE_SECONDS": "2"}


async def wait_all_succeeded(sessions) -> None:
    for _ in range(150):
        if {d.status for d in await deliveries(sessions)} == {"succeeded"}:
            return
        await asyncio.sleep(0.1)
    raise AssertionError([(d.status, d.attempts, d.last_error) for d in await deliveries(sessions)])


async def test_rekam_serve_killed_mid_delivery_resumes_after_restart(sessions, migrated_database_url, receiver) -> None:
    receiver.hang_first = 30  # the server is killed while the receiver holds its first request
    await subscribe(sessions, receiver.url, ["tallies.imported"])
    first = await emit_committed(sessions, "tallies.imported", import_id=1)
    server, base = start_server(migrated_database_url, env=ENV)
    try:
        await asyncio.to_thread(receiver.wait_for, 1, 30.0)
    finally:
        kill_server(server)
    (delivery,) = await deliveries(sessions)
    assert delivery.status == "pending" and delivery.claimed_until is not None  # claimed, never finished
    second = await emit_committed(sessions, "tallies.imported", import_id=2)
    server, base = start_server(migrated_database_url, env=ENV)
    try:
        await asyncio.to_thread(wait_until_healthy, base, server)
        await asyncio.to_thread(receiver.wait_for, 3, 30.0)
        await wait_all_succeeded(sessions)
    finally:
        kill_server(server)
    assert sorted(receiver.ids()) == sorted([first, first, second])


async def test_two_api_processes_never_send_one_event_twice(sessions, migrated_database_url, receiver) -> None:
    await subscribe(sessions, receiver.url, ["ticket.called"])
    with live_server(migrated_database_url, env={**ENV, "REKAM_NOTIFICATIONS_BATCH": "2"}, workers=2):
        uids = [await emit_committed(sessions, ticket_id=i) for i in range(30)]
        await asyncio.to_thread(receiver.wait_for, 30, 60.0)
        await wait_all_succeeded(sessions)
        await asyncio.sleep(0.5)
    ids = receiver.ids()
    assert sorted(ids) == sorted(uids) and len(ids) == len(set(ids))


async def test_rekam_serve_sends_appointment_reminders_without_cron(sessions, migrated_database_url, receiver) -> None:
    """The worker inside `rekam serve` runs the reminder job itself: tomorrow's booking is reminded, once."""
    from tests.notifications.test_worker import _book_committed, reminder_events

    await subscribe(sessions, receiver.url, ["appointment.reminder"])
    appointment_id = await _book_committed(sessions)
    with live_server(migrated_database_url, env={**ENV, "REKAM_APPOINTMENT_REMINDER_SECONDS": "0.2"}):
        await asyncio.to_thread(receiver.wait_for, 1, 30.0)
        await wait_all_succeeded(sessions)
        await asyncio.sleep(1.0)  # more turns of the job: nothing sent again
    assert [e.subject_id for e in await reminder_events(sessions)] == [appointment_id]
    assert len(receiver.ids()) == 1
