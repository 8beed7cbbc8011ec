"""The delivery worker: sends what the outbox holds, after the change that wrote it committed.

Rules:
- Claim, send, record, each in its own short step. The claim is one transaction that takes due
  rows (pending, or failed and due again, and not held by a live lease) and stamps them with a
  lease (`claimed_until`) and a token. On PostgreSQL the rows are taken `FOR UPDATE SKIP LOCKED`,
  so several API processes (and `rekam worker`s) share the work and none takes a row another is
  taking; on SQLite the claim runs under `BEGIN IMMEDIATE`, one writer at a time.
- Sending happens outside any transaction. The result is recorded only by the lease's holder (the
  token must still match); a worker that died mid-send lets the lease lapse and the row is taken
  again: nothing is lost (a receiver may then see one webhook-id twice, as Standard Webhooks allows).
- A failed try is retried on `WEBHOOK_BACKOFF` (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h: more than
  a day in all). After the last, the delivery is dead and the subscription disabled with the reason.
- Resident messages follow `MESSAGE_BACKOFF`; a provider's refusal (4xx) is final at once. Their
  text is emptied once sent or given up.
- Periodic jobs (`Job`): work that writes events on a clock rather than on a change (appointment
  reminders) is given to the worker by whoever starts it (`api.main` for `rekam serve`,
  `rekam worker`), so no external cron is needed. Each runs at start and then every
  `every_seconds`, in one transaction of its own; it must be idempotent (several processes run
  it), and a failure is logged and retried on its next turn.
"""

import asyncio
import contextlib
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import structlog
from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.config import Settings, get_settings
from api.db import sqlite_write_intent
from api.notifications import service
from api.notifications.gateway import Gateway, gateway_from_settings
from api.notifications.models import (
    Channel,
    DeliveryStatus,
    NotificationEvent,
    ResidentContact,
    ResidentMessage,
    WebhookDelivery,
    WebhookSubscription,
)
from api.notifications.webhooks import Outcome, body_of, deliver
from api.notifications.webpush import WebPushSender, vapid_key

log = structlog.get_logger("api.notifications.worker")

WEBHOOK_BACKOFF: tuple[float, ...] = (5, 300, 1800, 7200, 18000, 36000, 36000)
MESSAGE_BACKOFF: tuple[float, ...] = (30, 300, 1800, 7200)
OPEN = (DeliveryStatus.pending.value, DeliveryStatus.failed.value)


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Job:
    """Work the worker runs on a clock: `run(session)` in one transaction, returning how many it wrote."""

    name: str
    every_seconds: float
    run: Callable[[AsyncSession], Awaitable[int]]


class Worker:
    """Claims and sends due webhook deliveries and resident messages.

    `run_once()` does one batch and returns how many rows it handled; `run()` loops until stopped.
    `backoff` and `message_backoff` are seconds after the 1st, 2nd, ... failed try.
    """

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        settings: Settings | None = None,
        gateway: Gateway | None = None,
        client: httpx.AsyncClient | None = None,
        backoff: Sequence[float] = WEBHOOK_BACKOFF,
        message_backoff: Sequence[float] = MESSAGE_BACKOFF,
        jobs: Sequence[Job] = (),
    ) -> None:
        self.sessionmaker = sessionmaker
        self.settings = settings or get_settings()
        self.gateway = gateway or gateway_from_settings(self.settings)
        self._client = client
        self.backoff = tuple(backoff)
        self.message_backoff = tuple(message_backoff)
        self.name = uuid.uuid4().hex[:8]
        self._push: WebPushSender | None = None
        self.jobs = tuple(jobs)
        self._jobs_due: dict[str, float] = {}

    # --- claiming ----------------------------------------------------------------------------

    async def _claim(self, model: Any, limit: int, *, only_active_subscriptions: bool = False) -> tuple[str, list[int]]:
        now = _now()
        token = uuid.uuid4().hex
        # A read first: an idle outbox costs no write lock (SQLite has one for the whole database).
        sqlite_write_intent.set(False)
        async with self.sessionmaker() as session:
            due_now = (
                select(model.id)
                .where(model.status.in_(OPEN), model.next_attempt_at <= now, or_(model.claimed_until.is_(None), model.claimed_until < now))
                .limit(1)
            )
            if await session.scalar(due_now) is None:
                return token, []
        sqlite_write_intent.set(True)  # SQLite: BEGIN IMMEDIATE, the claim is one writer's
        async with self.sessionmaker() as session, session.begin():
            due = [model.status.in_(OPEN), model.next_attempt_at <= now, or_(model.claimed_until.is_(None), model.claimed_until < now)]
            if only_active_subscriptions:
                due.append(model.subscription_id.in_(select(WebhookSubscription.id).where(WebhookSubscription.active.is_(True))))
            stmt = select(model.id).where(*due).order_by(model.next_attempt_at, model.id).limit(limit)
            if session.get_bind().dialect.name == "postgresql":
                stmt = stmt.with_for_update(skip_locked=True)
            ids = list((await session.scalars(stmt)).all())
            if ids:
                until = now + timedelta(seconds=self.settings.notifications_lease_seconds)
                await session.execute(
                    update(model)
                    .where(model.id.in_(ids))
                    .values(claimed_until=until, claim_token=token, attempts=model.attempts + 1, last_attempt_at=now)
                    .execution_options(synchronize_session=False)
                )
        return token, ids

    # --- one batch ---------------------------------------------------------------------------

    async def run_once(self) -> int:
        limit = self.settings.notifications_batch
        handled = 0
        token, ids = await self._claim(WebhookDelivery, limit, only_active_subscriptions=True)
        if ids:
            handled += await self._webhooks(token, ids)
        token, ids = await self._claim(ResidentMessage, limit)
        if ids:
            handled += await self._messages(token, ids)
        return handled

    async def _webhooks(self, token: str, ids: list[int]) -> int:
        async with self.sessionmaker() as session:
            rows = (
                await session.execute(
                    select(
                        WebhookDelivery.id,
                        WebhookSubscription.url,
                        WebhookSubscription.secret,
                        NotificationEvent.uid,
                        NotificationEvent.type,
                        NotificationEvent.created_at,
                        NotificationEvent.payload,
                    )
                    .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
                    .join(NotificationEvent, NotificationEvent.id == WebhookDelivery.event_id)
                    .where(WebhookDelivery.id.in_(ids), WebhookDelivery.claim_token == token)
                )
            ).all()
        allow_private = self.settings.webhook_allow_private_targets

        async def one(row: Any) -> None:
            body = body_of(event_type=row.type, created_at=row.created_at, payload=row.payload)
            outcome = await deliver(self.client, url=row.url, secret=row.secret, msg_id=row.uid, body=body, allow_private=allow_private)
            await self._record_webhook(row.id, token, outcome)

        await asyncio.gather(*(one(row) for row in rows))
        return len(rows)

    async def _record_webhook(self, delivery_id: int, token: str, outcome: Outcome) -> None:
        now = _now()
        sqlite_write_intent.set(True)
        async with self.sessionmaker() as session, session.begin():
            # Locks in one order everywhere, subscription then delivery, so that disabling a
            # subscription (which gives up its other deliveries) cannot deadlock with another record.
            subscription_id = await session.scalar(select(WebhookDelivery.subscription_id).where(WebhookDelivery.id == delivery_id))
            subscription = None
            if subscription_id is not None:
                subscription = await session.get(WebhookSubscription, subscription_id, with_for_update=True)
            delivery = await session.scalar(
                select(WebhookDelivery).where(WebhookDelivery.id == delivery_id, WebhookDelivery.claim_token == token).with_for_update()
            )
            if delivery is None or subscription is None:  # the lease lapsed and another worker took it, or it was deleted
                return
            delivery.claimed_until = delivery.claim_token = None
            delivery.last_status_code = outcome.status_code
            if outcome.ok:
                delivery.status = DeliveryStatus.succeeded.value
                delivery.delivered_at = now
                delivery.last_error = None
                subscription.consecutive_failures = 0
                log.info("webhook_delivered", delivery=delivery_id, subscription=subscription.id, status_code=outcome.status_code)
                return
            delivery.last_error = (outcome.error or "failed")[:500]
            subscription.consecutive_failures += 1
            if delivery.attempts > len(self.backoff):
                delivery.status = DeliveryStatus.dead.value
                reason = f"Deliveries kept failing for {delivery.attempts} tries since {delivery.created_at:%Y-%m-%d %H:%M} UTC; last: {delivery.last_error}"
                log.warning("webhook_subscription_disabled", subscription=subscription.id, delivery=delivery_id)
                await session.flush()
                await service.disable_subscription(session, subscription=subscription, reason=reason, now=now)
                return
            delivery.status = DeliveryStatus.failed.value
            delivery.next_attempt_at = now + timedelta(seconds=self.backoff[delivery.attempts - 1])
            log.info("webhook_failed", delivery=delivery_id, subscription=subscription.id, status_code=outcome.status_code, attempt=delivery.attempts)

    async def _messages(self, token: str, ids: list[int]) -> int:
        async with self.sessionmaker() as session:
            rows = (
                await session.execute(
                    select(
                        ResidentMessage.id,
                        ResidentMessage.channel,
                        ResidentMessage.body,
                        ResidentMessage.event_id,
                        ResidentContact.phone,
                        ResidentContact.push_subscription,
                    )
                    .join(ResidentContact, ResidentContact.id == ResidentMessage.contact_id)
                    .where(ResidentMessage.id.in_(ids), ResidentMessage.claim_token == token)
                )
            ).all()
        for row in rows:  # one at a time: providers rate-limit per sender
            if row.channel == Channel.webpush.value:
                if not row.push_subscription or not row.body:
                    await self._record_message(row.id, token, ok=False, status_code=None, error="No subscription or text (erased).", final=True)
                    continue
                sender = await self._push_sender()
                result = await sender.send(subscription=row.push_subscription, body=row.body, tag=f"event-{row.event_id}")
            elif not row.phone or not row.body:
                await self._record_message(row.id, token, ok=False, status_code=None, error="No number or text (erased).", final=True)
                continue
            else:
                result = await self.gateway.send(channel=row.channel, phone=row.phone, body=row.body)
            await self._record_message(row.id, token, ok=result.ok, status_code=result.status_code, error=result.error, final=result.permanent)
        return len(rows)

    async def _push_sender(self) -> WebPushSender:
        if self._push is None:
            sqlite_write_intent.set(True)
            async with self.sessionmaker() as session, session.begin():
                key = await vapid_key(session)
            self._push = WebPushSender(
                private_pem=key.private_pem,
                subject=self.settings.vapid_subject,
                client=self.client,
                allow_private=self.settings.webhook_allow_private_targets,
            )
        return self._push

    async def _record_message(self, message_id: int, token: str, *, ok: bool, status_code: int | None, error: str | None, final: bool) -> None:
        now = _now()
        sqlite_write_intent.set(True)
        async with self.sessionmaker() as session, session.begin():
            message = await session.scalar(
                select(ResidentMessage).where(ResidentMessage.id == message_id, ResidentMessage.claim_token == token).with_for_update()
            )
            if message is None:
                return
            message.claimed_until = message.claim_token = None
            message.last_status_code = status_code
            if ok:
                message.status, message.delivered_at, message.body, message.last_error = DeliveryStatus.succeeded.value, now, None, None
                return
            message.last_error = (error or "failed")[:500]
            if final or message.attempts > len(self.message_backoff):
                message.status, message.body = DeliveryStatus.dead.value, None
                return
            message.status = DeliveryStatus.failed.value
            message.next_attempt_at = now + timedelta(seconds=self.message_backoff[message.attempts - 1])

    # --- the loop ----------------------------------------------------------------------------

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            timeout = self.settings.webhook_timeout_seconds
            self._client = httpx.AsyncClient(timeout=httpx.Timeout(timeout, connect=min(5.0, timeout)), follow_redirects=False, trust_env=False)
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
            self._push = None

    async def prune(self) -> int:
        """Delete finished events past the retention period (REKAM_NOTIFICATIONS_RETENTION_DAYS)."""
        sqlite_write_intent.set(True)
        async with self.sessionmaker() as session, session.begin():
            return await service.prune(session, before=_now() - timedelta(days=self.settings.notifications_retention_days))

    async def run_jobs(self) -> int:
        """Run the periodic jobs that are due (all of them the first time); returns what they wrote."""
        written = 0
        for job in self.jobs:
            if time.monotonic() < self._jobs_due.get(job.name, 0.0):
                continue
            self._jobs_due[job.name] = time.monotonic() + job.every_seconds
            try:
                sqlite_write_intent.set(True)
                async with self.sessionmaker() as session, session.begin():
                    count = await job.run(session)
            except Exception as exc:
                log.warning("notifications_job_error", worker=self.name, job=job.name, error_class=type(exc).__name__)
                continue
            if count:
                log.info("notifications_job", worker=self.name, job=job.name, written=count)
            written += count
        return written

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Deliver until `stop` is set (or the task is cancelled); a database hiccup is waited out."""
        stop = stop or asyncio.Event()
        log.info("notifications_worker_started", worker=self.name)
        next_prune = 0.0
        try:
            while not stop.is_set():
                try:
                    if time.monotonic() >= next_prune:
                        next_prune = time.monotonic() + 3600
                        await self.prune()
                    await self.run_jobs()
                    handled = await self.run_once()
                except Exception as exc:
                    log.warning("notifications_worker_error", worker=self.name, error_class=type(exc).__name__)
                    handled = 0
                if handled == 0:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), timeout=self.settings.notifications_poll_seconds)
        finally:
            await self.aclose()
            log.info("notifications_worker_stopped", worker=self.name)


class InProcessWorker:
    """The worker as a task of an API process (`rekam serve`): started and stopped by the app's lifespan."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings | None = None, jobs: Sequence[Job] = ()) -> None:
        self.worker = Worker(sessionmaker, settings=settings, jobs=jobs)
        self.stop_event = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    def start(self) -> "InProcessWorker":
        self.task = asyncio.create_task(self.worker.run(self.stop_event), name="notifications-worker")
        return self

    async def stop(self, grace: float = 10.0) -> None:
        self.stop_event.set()
        if self.task is not None:
            try:
                await asyncio.wait_for(self.task, grace)
            except TimeoutError:  # a send in flight: its lease lapses and another worker retries it
                self.task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self.task


def start_in_process(sessionmaker: async_sessionmaker[AsyncSession], settings: Settings | None = None, jobs: Sequence[Job] = ()) -> InProcessWorker | None:
    """Start the worker in this process unless REKAM_NOTIFICATIONS_WORKER=false (a separate `rekam worker`)."""
    settings = settings or get_settings()
    if not settings.notifications_worker:
        return None
    return InProcessWorker(sessionmaker, settings, jobs).start()


async def run_standalone(database_url: str | None = None, jobs: Sequence[Job] = ()) -> None:
    """`rekam worker`: deliver (and run `jobs`) until SIGTERM or SIGINT, on its own engine."""
    import signal

    from api.config import get_settings
    from api.db import create_engine_for

    engine = create_engine_for(database_url or get_settings().database_url)
    worker = Worker(async_sessionmaker(engine, expire_on_commit=False, autoflush=False), jobs=jobs)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    try:
        await worker.run(stop)
    finally:
        await engine.dispose()
