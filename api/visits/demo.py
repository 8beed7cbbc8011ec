"""Home-visit requests for the demo: a handful of residents of Serpong and Pamulang in every state.

Names, NIKs (valid: kecamatan code, birth date, serial 9xxx), phones and addresses are made up.
Each request follows a short story (triaged, scheduled on a mobile kit, visited or cancelled);
running the demo again creates nothing twice and only moves a request further along its story,
for instance once the devices demo has added mobile kits and operators. Without an active mobile
kit and an active operator, requests wait at `triaged`.

The petugas the requests are scheduled on gets a demo account, `kit.operator`, linked to them
(`users.operator_id`): signed in, it reads its stops of the kit's day plan (one of them today)
and marks them visited or unreachable. Its random password is printed once, when it is created.
"""

import secrets
from dataclasses import dataclass
from datetime import date, time, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import service as auth
from api.auth.models import User
from api.auth.schemas import UserCreate
from api.devices.models import Device, DeviceKind, DeviceStatus, Operator, OperatorStatus
from api.principal import SYSTEM
from api.types import Role
from api.visits import service
from api.visits.models import HomeVisit, VisitReason, VisitStatus
from api.visits.schemas import HomeVisitCreate, ScheduleRequest, StatusChange, VisitWindow


@dataclass(frozen=True)
class Story:
    name: str
    nik: str
    phone: str
    address: str
    area: str
    reason: VisitReason
    days_ago: int
    # The statuses it goes through after `submitted`, in order.
    steps: tuple[VisitStatus, ...] = ()
    visit_in_days: int = 1  # from today, for the scheduled ones (negative: already happened)
    window: tuple[time, time] = (time(9, 0), time(10, 0))
    note: str | None = None


def nik(kecamatan: str, born: date, *, woman: bool, serial: int) -> str:
    day = born.day + (40 if woman else 0)
    return f"{kecamatan}{day:02d}{born.month:02d}{born.year % 100:02d}{serial:04d}"


SCHEDULED = (VisitStatus.triaged, VisitStatus.scheduled)
STORIES = [
    Story("Siti Aminah (demo)", nik("367401", date(1951, 3, 12), woman=True, serial=9001), "0812-0000-0101",
          "Jl. Ciater Raya No. 1, RT 002/RW 003", "36.74.01.1001", VisitReason.sick, days_ago=1,
          note="Bedridden after a stroke; call the daughter first."),
    Story("Bambang Suryadi (demo)", nik("367401", date(1940, 7, 5), woman=False, serial=9002), "+62 812 0000 0102",
          "Jl. Rawabuntu No. 2, RT 004/RW 001", "36.74.01.1002", VisitReason.elderly, days_ago=4, steps=(VisitStatus.triaged,)),
    Story("Dewi Lestari (demo)", nik("367406", date(1988, 11, 23), woman=True, serial=9003), "6281200000103",
          "Jl. Pamulang Barat No. 3, RT 001/RW 005", "36.74.06.1001", VisitReason.disabled, days_ago=6,
          steps=SCHEDULED, visit_in_days=1, window=(time(9, 0), time(10, 0))),
    Story("Agus Setiawan (demo)", nik("367406", date(1975, 1, 30), woman=False, serial=9004), "081200000104",
          "Jl. Benda Baru No. 4, RT 003/RW 002", "36.74.06.1002", VisitReason.sick, days_ago=10,
          steps=SCHEDULED, visit_in_days=0, window=(time(10, 30), time(11, 30))),
    Story("Sri Wahyuni (demo)", nik("367401", date(1945, 9, 2), woman=True, serial=9005), "081200000105",
          "Jl. Lengkong Gudang No. 5, RT 001/RW 001", "36.74.01.1004", VisitReason.elderly, days_ago=9,
          steps=(*SCHEDULED, VisitStatus.visited), visit_in_days=-5, window=(time(13, 0), time(14, 0))),
    Story("Joko Prasetyo (demo)", nik("367406", date(1999, 4, 14), woman=False, serial=9006), "081200000106",
          "Jl. Pondok Cabe Udik No. 6, RT 005/RW 004", "36.74.06.1004", VisitReason.other, days_ago=3,
          steps=(VisitStatus.cancelled,), note="Will come to the kecamatan office after all."),
]  # fmt: skip


async def _crew(session: AsyncSession) -> tuple[Device | None, Operator | None]:
    kit = await session.scalar(select(Device).where(Device.kind == DeviceKind.mobile, Device.status == DeviceStatus.active).order_by(Device.id).limit(1))
    operator = await session.scalar(select(Operator).where(Operator.status == OperatorStatus.active).order_by(Operator.id).limit(1))
    return kit, operator


async def load(session: AsyncSession, *, today: date) -> str:
    kit, operator = await _crew(session)
    created = moved = 0
    for story in STORIES:
        visit = await session.scalar(select(HomeVisit).where(HomeVisit.nik == story.nik).order_by(HomeVisit.id.desc()).limit(1))
        if visit is None:
            requested_on = today - timedelta(days=story.days_ago)
            data = HomeVisitCreate(
                name=story.name, nik=story.nik, phone=story.phone, address=story.address, area=story.area,
                reason=story.reason, note=story.note, consent=True,
            )  # fmt: skip
            submitted = await service.submit(session, data=data, actor=SYSTEM, today=requested_on)
            assert isinstance(submitted, HomeVisit)  # the story's resident has no open request
            visit = submitted
            created += 1
        done = story.steps.index(VisitStatus(visit.status)) + 1 if visit.status in story.steps else 0
        for step in story.steps[done:]:
            if step == VisitStatus.scheduled:
                if kit is None or operator is None:
                    break
                day = today + timedelta(days=story.visit_in_days)
                request = ScheduleRequest(device=kit.id, operator=operator.id, date=day, window=VisitWindow(start=story.window[0], end=story.window[1]))
                await service.schedule(session, visit_id=visit.id, data=request, actor=SYSTEM, today=min(day, today))
            else:
                await service.change_status(session, visit_id=visit.id, data=StatusChange(status=step), actor=SYSTEM, today=today)
            moved += 1
    crew = f"on kit {kit.serial}" if kit and operator else "none scheduled: no active mobile kit and operator yet"
    return f"home visits: {created} requests created, {moved} moves made ({crew})"


CREW_USERNAME = "kit.operator"


async def load_crew_account(session: AsyncSession) -> str:
    """The demo account of the petugas the stories are scheduled on; the line to print."""
    scheduled = await session.execute(
        select(HomeVisit.operator_id, HomeVisit.device_id)
        .where(HomeVisit.nik.in_([story.nik for story in STORIES]), HomeVisit.operator_id.is_not(None))
        .order_by(HomeVisit.id)
        .limit(1)
    )
    crew = scheduled.first()
    existing = await session.scalar(select(User).where(User.username == CREW_USERNAME))
    if existing is not None:
        return f"user {CREW_USERNAME} (operator, petugas {existing.operator_id}): already there, password unchanged"
    if crew is None:
        return f"user {CREW_USERNAME}: not created, no home visit is scheduled on a petugas yet"
    operator, kit = await session.get(Operator, crew.operator_id), await session.get(Device, crew.device_id)
    assert operator is not None and kit is not None
    if await session.scalar(select(User.id).where(User.operator_id == operator.id)) is not None:
        return f"user {CREW_USERNAME}: not created, {operator.name} already has an account"
    password = secrets.token_urlsafe(12)
    await auth.create_user(
        session,
        data=UserCreate(
            username=CREW_USERNAME, display_name=f"{operator.name}, kit {kit.serial} (demo)", password=password,
            role=Role.operator, operator_id=operator.id,
        ),
        actor=SYSTEM,
    )  # fmt: skip
    return f"user {CREW_USERNAME} (operator, is {operator.name} on kit {kit.serial}, device {kit.id}): password {password}  (demo only; shown once)"
