"""The demo's service points, weekend services, operators and a day of queue history.

From the article: recording at the seven kecamatan offices, open on Saturday and Sunday too
during the campaign, and weekend services brought down to dense RT/RW. Assumed: the hours, the
counters per office (one per static set the devices demo stands there: 29 in all, the 38 devices
minus the 9 mobile kits), the RW units and their
populations, and the queue history, which is generated (deterministically) so that the boards and
their statistics have something to show. Idempotent: everything is looked up before it is made.
"""

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from api import calendar
from api.areas import service as areas
from api.areas.models import Area
from api.areas.schemas import AreaCreate
from api.auth import service as auth
from api.auth.models import User
from api.auth.schemas import UserCreate
from api.devices.demo import FLEET
from api.principal import SYSTEM
from api.queues.models import QueueDay, Ticket
from api.services import service
from api.services.models import ServicePoint, ServicePointKind
from api.services.schemas import ServicePointCreate, ServicePointUpdate
from api.types import Role

OFFICE_NAMES = {
    "36.74.01": "Serpong",
    "36.74.02": "Serpong Utara",
    "36.74.03": "Pondok Aren",
    "36.74.04": "Ciputat",
    "36.74.05": "Ciputat Timur",
    "36.74.06": "Pamulang",
    "36.74.07": "Setu",
}
# One counter per static set the devices demo stands at the office (Kemendagri, APBD, Cilegon's
# loans); the mobile kits travel. 29 in all: the 38 devices minus the 9 mobile kits.
OFFICES = {code: (name, FLEET[code][0] + FLEET[code][1] + FLEET[code][3]) for code, name in OFFICE_NAMES.items()}
WEEKDAY_HOURS = [["08:00", "12:00"], ["13:00", "16:00"]]
FRIDAY_HOURS = [["08:00", "11:30"], ["13:30", "16:00"]]
WEEKEND_HOURS = [["08:00", "14:00"]]
OPENING_HOURS = {
    "mon": WEEKDAY_HOURS,
    "tue": WEEKDAY_HOURS,
    "wed": WEEKDAY_HOURS,
    "thu": WEEKDAY_HOURS,
    "fri": FRIDAY_HOURS,
    "sat": WEEKEND_HOURS,
    "sun": WEEKEND_HOURS,
}
# Dense RW (population assumed); the last one is left without a weekend service on purpose.
DENSE_RW = {
    "36.74.03.1001.005": 4200,
    "36.74.06.1001.012": 3900,
    "36.74.01.1001.003": 3100,
    "36.74.04.1001.007": 3600,
}
EVENT_RW = list(DENSE_RW)[:3]
OPERATOR_PASSWORD = "rekam-demo-operator"


@dataclass
class DemoServices:
    offices: dict[str, ServicePoint] = field(default_factory=dict)
    events: list[ServicePoint] = field(default_factory=list)
    created: list[str] = field(default_factory=list)


def _address(name: str) -> str:
    return f"Kantor Kecamatan {name}, Kota Tangerang Selatan"


def slug(name: str) -> str:
    return name.lower().replace(" ", "-")


async def load(session: AsyncSession, *, today: date) -> DemoServices:
    result = DemoServices()
    for code, (name, counters) in OFFICES.items():
        title = f"Kantor Kecamatan {name}"
        office = await session.scalar(select(ServicePoint).where(ServicePoint.name == title).order_by(ServicePoint.id).limit(1))
        if office is None:
            office = await service.create_point(
                session,
                data=ServicePointCreate(
                    kind=ServicePointKind.kecamatan_office,
                    name=title,
                    area=code,
                    counters=counters,
                    opening_hours=OPENING_HOURS,
                    service_minutes=10,
                    address=_address(name),
                ),
                actor=SYSTEM,
            )
            result.created.append(title)
        elif office.address is None:
            # Made bare by the staff demo (api/auth/demo.py) for its operator: completed here, so
            # that its counters match its devices like every other office's. It was made in this
            # same demo transaction, so nobody has booked it yet: no bookings to keep or cancel.
            office = await service.update_point(
                session, point_id=office.id,
                data=ServicePointUpdate(counters=counters, opening_hours=OPENING_HOURS, service_minutes=10, address=_address(name)),
                actor=SYSTEM, bookings_open=False,
            )  # fmt: skip
            result.created.append(f"{title} (completed)")
        result.offices[code] = office
        await _operator_for(session, office=office, name=name, result=result)
    for code, population in DENSE_RW.items():
        if await session.get(Area, code) is None:
            await areas.create_unit(session, data=AreaCreate(code=code, name=f"RW {code.rsplit('.', 1)[1]}", population=population), actor=SYSTEM)
    saturday = today + timedelta(days=(5 - today.weekday()) % 7 or 7)
    for i, code in enumerate(EVENT_RW):
        event_day = saturday + timedelta(days=i % 2)
        event = await session.scalar(select(ServicePoint).where(ServicePoint.kind == ServicePointKind.weekend_event.value, ServicePoint.area_code == code))
        if event is None:
            event = await service.create_point(
                session,
                data=ServicePointCreate(
                    kind=ServicePointKind.weekend_event,
                    name=f"Layanan Akhir Pekan RW {code.rsplit('.', 1)[1]}",
                    area=code,
                    counters=2,
                    event_date=event_day,
                    event_start="08:00",
                    event_end="13:00",
                    address="Balai warga RW",
                ),
                actor=SYSTEM,
            )
            result.created.append(event.name)
        result.events.append(event)
    for index, office in enumerate(result.offices.values()):
        await _queue_history(session, office=office, day=today - timedelta(days=1), rng=random.Random(index))
        await _queue_today(session, office=office, day=today, rng=random.Random(100 + index))
    return result


async def _operator_for(session: AsyncSession, *, office: ServicePoint, name: str, result: DemoServices) -> None:
    username = f"operator-{slug(name)}"
    if await session.scalar(select(User.id).where(User.username == username)) is None:
        await auth.create_user(
            session,
            data=UserCreate(username=username, display_name=f"Operator {name}", password=OPERATOR_PASSWORD, role=Role.operator, service_point_id=office.id),
            actor=SYSTEM,
        )
        result.created.append(username)


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
