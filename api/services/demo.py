"""The demo's service points and weekend services (their operators' accounts are the staff demo's,
their queue history the queues demo's; api/demo/service.py runs them in order).

From the article: recording at the seven kecamatan offices, open on Saturday and Sunday too
during the campaign, and weekend services brought down to dense RT/RW. Assumed: the hours, the
counters per office (one per static set the devices demo stands there: 29 in all, the 38 devices
minus the 9 mobile kits), the RW units and their
populations, and the queue history, which is generated (deterministically) so that the boards and
their statistics have something to show. Idempotent: everything is looked up before it is made.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.areas import service as areas
from api.areas.models import Area
from api.areas.schemas import AreaCreate
from api.principal import SYSTEM
from api.services import service
from api.services.models import ServicePoint, ServicePointKind
from api.services.schemas import ServicePointCreate, ServicePointUpdate

OFFICE_NAMES = {
    "36.74.01": "Serpong",
    "36.74.02": "Serpong Utara",
    "36.74.03": "Pondok Aren",
    "36.74.04": "Ciputat",
    "36.74.05": "Ciputat Timur",
    "36.74.06": "Pamulang",
    "36.74.07": "Setu",
}
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


@dataclass
class DemoServices:
    offices: dict[str, ServicePoint] = field(default_factory=dict)
    events: list[ServicePoint] = field(default_factory=list)
    created: list[str] = field(default_factory=list)


def _address(name: str) -> str:
    return f"Kantor Kecamatan {name}, Kota Tangerang Selatan"


async def load(session: AsyncSession, *, today: date, counters_by_kecamatan: dict[str, int]) -> DemoServices:
    """The offices (`counters_by_kecamatan`: one counter per static set the devices demo stands
    there, given by the demo loader) and the weekend services."""
    result = DemoServices()
    for code, name in OFFICE_NAMES.items():
        counters = counters_by_kecamatan[code]
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
    return result
