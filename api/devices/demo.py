"""The article's fleet and operators, placed over the seven kecamatan of Kota Tangerang Selatan.

What the article gives: 38 recording devices in total across the kecamatan; 19 of them bought from
the city budget (APBD): 10 static and 9 mobile enrollment kits; 4 borrowed from Kota Cilegon; and
27 additional operators, itemised as Serpong 3, Serpong Utara 3, Pamulang 5, Pondok Aren 7,
Ciputat Timur 3, Setu 1.

What the demo assumes:
- The other 15 devices (38 - 19 - 4) are Kemendagri's, from the national programme; all static.
  Cilegon's 4 are static sets, due back 14 days after the campaign's deadline.
- Where they stand (the article does not say): Kemendagri's sets about two per kecamatan office
  (three in Pondok Aren, the largest); the APBD static sets one or two per office; one APBD mobile
  kit per kecamatan, a second one in Pondok Aren and Pamulang; Cilegon's sets in Serpong, Serpong
  Utara, Ciputat Timur and Setu. Static sets stand at "Kantor Kecamatan <name>" (the services
  demo uses the same names); mobile kits are with their kecamatan's team (allocated to the area).
- Daily capacity: a static set about 80 recordings a day, a mobile kit about 40 (it travels).
- Every device has one operator of its kecamatan, posted since the campaign's start. The 27
  additional operators are added for the campaign: the itemised 22 posted in their kecamatan
  (Ciputat gets none in the article's list), and the 5 the itemised list does not account for
  (27 - 22) kept in a city pool, posted nowhere until the office decides.
At these figures only Setu can finish by the deadline: the capacity view shows the rest falling
short, and the allocation plan moves devices toward Pondok Aren and Pamulang.
"""

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.areas.models import Area
from api.campaigns.models import Campaign
from api.devices import service
from api.devices.models import Allocation, Device, DeviceKind, DeviceOwner, Operator, OperatorAssignment
from api.devices.schemas import DeviceCreate, OperatorCreate, PlacementCreate
from api.principal import SYSTEM
from api.services.models import ServicePoint, ServicePointKind

STATIC_CAPACITY = 80
MOBILE_CAPACITY = 40
LENDER = "Pemerintah Kota Cilegon"
LOAN_DAYS_AFTER_DEADLINE = 14

# kecamatan -> (Kemendagri static, APBD static, APBD mobile, Cilegon static)
FLEET = {
    "36.74.01": (2, 1, 1, 1),  # Serpong
    "36.74.02": (2, 1, 1, 1),  # Serpong Utara
    "36.74.03": (3, 2, 2, 0),  # Pondok Aren
    "36.74.04": (2, 2, 1, 0),  # Ciputat
    "36.74.05": (2, 1, 1, 1),  # Ciputat Timur
    "36.74.06": (2, 2, 2, 0),  # Pamulang
    "36.74.07": (2, 1, 1, 1),  # Setu
}
# The article's additional operators per kecamatan (22 of the 27 it announces).
ADDITIONAL_OPERATORS = {"36.74.01": 3, "36.74.02": 3, "36.74.06": 5, "36.74.03": 7, "36.74.05": 3, "36.74.07": 1}
ADDITIONAL_TOTAL = 27
CITY_POOL = ADDITIONAL_TOTAL - sum(ADDITIONAL_OPERATORS.values())


async def _office(session: AsyncSession, code: str, name: str) -> ServicePoint:
    office_name = f"Kantor Kecamatan {name}"
    point = await session.scalar(
        select(ServicePoint).where(ServicePoint.name == office_name, ServicePoint.area_code == code).order_by(ServicePoint.id).limit(1)
    )
    if point is None:
        hours = [["08:00", "15:00"]]
        point = ServicePoint(
            kind=ServicePointKind.kecamatan_office.value,
            name=office_name,
            area_code=code,
            counters=2,
            opening_hours={day: hours for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
        )
        session.add(point)
        await session.flush()
    return point


async def _device(session: AsyncSession, data: DeviceCreate) -> tuple[int, bool]:
    existing = await session.scalar(select(Device.id).where(Device.serial == data.serial))
    if existing is not None:
        return existing, False
    return (await service.create_device(session, data=data, actor=SYSTEM)).id, True


async def _operator(session: AsyncSession, data: OperatorCreate) -> tuple[int, bool]:
    existing = await session.scalar(select(Operator.id).where(Operator.staff_number == data.staff_number))
    if existing is not None:
        return existing, False
    return (await service.create_operator(session, data=data, actor=SYSTEM)).id, True


async def load(session: AsyncSession, *, campaign: Campaign) -> str:
    """Create the fleet and the operators once; running it again changes nothing."""
    start = campaign.start_date
    names = dict((await session.execute(select(Area.code, Area.name).where(Area.code.in_(list(FLEET))))).all())
    placed_devices = set((await session.scalars(select(Allocation.device_id))).all())
    posted_operators = set((await session.scalars(select(OperatorAssignment.operator_id))).all())
    created = 0
    numbers = {"KMD": 0, "APBD-S": 0, "APBD-M": 0, "CLG": 0}
    for code, (kemendagri, apbd_static, apbd_mobile, loans) in FLEET.items():
        office = await _office(session, code, names[code])
        district = code.rsplit(".", 1)[1]
        batch = (
            [("KMD", DeviceKind.static, DeviceOwner.kemendagri)] * kemendagri
            + [("APBD-S", DeviceKind.static, DeviceOwner.apbd)] * apbd_static
            + [("APBD-M", DeviceKind.mobile, DeviceOwner.apbd)] * apbd_mobile
            + [("CLG", DeviceKind.static, DeviceOwner.loan)] * loans
        )
        operators_here = 0
        for prefix, kind, owner in batch:
            numbers[prefix] += 1
            loan = owner == DeviceOwner.loan
            device_id, new = await _device(
                session,
                DeviceCreate(
                    serial=f"{prefix}-3674-{numbers[prefix]:02d}",
                    kind=kind,
                    owner=owner,
                    lender=LENDER if loan else None,
                    return_due=campaign.deadline + timedelta(days=LOAN_DAYS_AFTER_DEADLINE) if loan else None,
                    daily_capacity=STATIC_CAPACITY if kind == DeviceKind.static else MOBILE_CAPACITY,
                    notes="Pinjaman Kota Cilegon" if loan else None,
                ),
            )
            created += new
            if device_id not in placed_devices:
                place = {"service_point": office.id} if kind == DeviceKind.static else {"area": code}
                await service.allocate_device(
                    session, device_id=device_id, data=PlacementCreate(**place, starts_on=start, reason="demo: initial placement"), actor=SYSTEM
                )
            operators_here += 1
        extra = ADDITIONAL_OPERATORS.get(code, 0)
        for n in range(1, operators_here + extra + 1):
            added = n > operators_here
            operator_id, new = await _operator(
                session,
                OperatorCreate(
                    name=f"Petugas {names[code]} {n:02d}",
                    staff_number=f"TS-{district}-{n:03d}",
                    # Fictional numbers: 0800 is not a mobile prefix.
                    phone=f"0800{district}{n:05d}",
                    added_for_campaign=added,
                ),
            )
            created += new
            if operator_id not in posted_operators:
                await service.assign_operator(
                    session, operator_id=operator_id, data=PlacementCreate(area=code, starts_on=start, reason="demo: initial posting"), actor=SYSTEM
                )
    for n in range(1, CITY_POOL + 1):
        created += (
            await _operator(
                session, OperatorCreate(name=f"Petugas Kota {n:02d}", staff_number=f"TS-00-{n:03d}", phone=f"080000{n:05d}", added_for_campaign=True)
            )
        )[1]
    devices = sum(sum(v) for v in FLEET.values())
    return f"devices: {devices} devices and their operators plus {ADDITIONAL_TOTAL} additional operators ({created} records created)"
