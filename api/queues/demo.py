"""The demo's queue history: a full day yesterday and the last hour and a half today at each
kecamatan office, generated (deterministically) so that the boards and their statistics have
something to show. Idempotent: a day that has tickets is left alone.
"""

import random
from datetime import date, datetime, timedelta

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from api import calendar
from api.queues.models import QueueDay, Ticket
from api.services.models import ServicePoint


async def load(session: AsyncSession, *, offices: list[ServicePoint], today: date) -> None:
    for index, office in enumerate(offices):
        await _queue_history(session, office=office, day=today - timedelta(days=1), rng=random.Random(index))
        await _queue_today(session, office=office, day=today, rng=random.Random(100 + index))


def _at(day: date, hour: int, minute: float) -> datetime:
    return calendar.local_moment(day, f"{hour:02d}:00") + timedelta(minutes=minute)


async def _queue_history(session: AsyncSession, *, office: ServicePoint, day: date, rng: random.Random) -> None:
    """A full day: residents arriving through the morning, served at the office's counters."""
    if await session.scalar(select(Ticket.id).where(Ticket.service_point_id == office.id, Ticket.day == day).limit(1)) is not None:
        return
    free_at = [_at(day, 8, 0)] * max(1, office.counters)
    rows = []
    for number in range(1, 20 * office.counters + 1):
        arrived = _at(day, 7, 45 + number * 15 / office.counters + rng.uniform(0, 5))
        counter = min(range(len(free_at)), key=lambda c: free_at[c])
        called = max(arrived, free_at[counter])
        no_show = rng.random() < 0.06
        started = called + timedelta(minutes=rng.uniform(0.5, 2))
        ended = called + timedelta(minutes=1) if no_show else started + timedelta(minutes=rng.uniform(7, 13))
        free_at[counter] = ended
        rows.append(
            {
                "service_point_id": office.id,
                "day": day,
                "number": number,
                "status": "no_show" if no_show else "done",
                "priority": "elderly" if rng.random() < 0.08 else "none",
                "counter": counter + 1,
                "arrived_at": arrived,
                "called_at": called,
                "started_at": None if no_show else started,
                "ended_at": ended,
                "recalls": 1 if no_show else 0,
            }
        )
    await session.execute(insert(Ticket), rows)
    await session.execute(insert(QueueDay), [{"service_point_id": office.id, "day": day, "last_number": len(rows)}])


async def _queue_today(session: AsyncSession, *, office: ServicePoint, day: date, rng: random.Random) -> None:
    """The last hour and a half: some served, one at each counter, a few waiting."""
    if await session.scalar(select(QueueDay.day).where(QueueDay.service_point_id == office.id, QueueDay.day == day)) is not None:
        return
    now = calendar.now_utc()
    rows = []
    count = 4 * office.counters
    for number in range(1, count + 1):
        arrived = now - timedelta(minutes=90 * (count - number + 1) / count)
        row = {"service_point_id": office.id, "day": day, "number": number, "status": "waiting", "priority": "none", "arrived_at": arrived, "recalls": 0}
        if number <= count - office.counters - 3:
            called = arrived + timedelta(minutes=rng.uniform(5, 20))
            row.update(
                status="done",
                counter=1 + number % office.counters,
                called_at=called,
                started_at=called + timedelta(minutes=1),
                ended_at=called + timedelta(minutes=rng.uniform(8, 12)),
            )
        elif number <= count - 3:
            row.update(status="serving", counter=1 + number % office.counters, called_at=now - timedelta(minutes=3), started_at=now - timedelta(minutes=2))
        rows.append(row)
    await session.execute(insert(Ticket), rows)
    await session.execute(insert(QueueDay), [{"service_point_id": office.id, "day": day, "last_number": count}])
