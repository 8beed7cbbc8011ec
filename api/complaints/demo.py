"""Demo fee complaints: a few reports in different states, one substantiated with a warning.

Idempotent: nothing is added when any complaint exists. Complaints name the demo's operators when
there are any (the devices demo makes them); without operators, the substantiated complaint has
no operator and so no sanction. Receipt dates are set back so that one complaint is overdue.
"""

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import demo as auth_demo
from api.auth.models import User
from api.complaints import service
from api.complaints.models import Complaint, ComplaintStatus
from api.complaints.schemas import ComplaintCreate, ComplaintUpdate, MessageCreate, ReplyCreate, SanctionCreate, TransitionCreate
from api.config import get_settings
from api.devices.models import Operator
from api.principal import SYSTEM
from api.types import Role


async def _received_days_ago(session: AsyncSession, complaint: Complaint, days: int) -> None:
    received_at = datetime.now(UTC) - timedelta(days=days)
    complaint.received_at = received_at
    complaint.received_on = service.local_date(received_at)
    complaint.due_on = service.working_days_after(complaint.received_on, get_settings().complaint_response_days)
    await session.flush()


async def _step(session: AsyncSession, complaint_id: int, *steps: tuple[ComplaintStatus, str]) -> None:
    for status, note in steps:
        await service.transition(session, complaint_id=complaint_id, data=TransitionCreate(status=status, note=note), actor=SYSTEM)


async def load(session: AsyncSession, *, today: date) -> list[str]:
    if await session.scalar(select(func.count()).select_from(Complaint)):
        return ["complaints: already there"]
    office = await auth_demo.serpong_office(session)
    operators = list((await session.scalars(select(Operator).order_by(Operator.id).limit(2))).all())
    accused = operators[0].id if operators else None
    handler_id = await session.scalar(select(User.id).where(User.role == Role.handler.value, User.active.is_(True)).order_by(User.id).limit(1))

    async def report(days_ago: int, **fields: object) -> Complaint:
        data = ComplaintCreate.model_validate({"occurred_on": today - timedelta(days=days_ago + 1), **fields})
        complaint = await service.submit(session, data=data, actor=SYSTEM)
        await _received_days_ago(session, complaint, days_ago)
        if handler_id is not None:
            await service.update_complaint(session, complaint_id=complaint.id, data=ComplaintUpdate(handler_id=handler_id), actor=SYSTEM)
        return complaint

    # Substantiated, with a warning to the operator when the demo has operators.
    charged = await report(
        12,
        service_point=office.id,
        operator=accused,
        operator_description=None if accused else "Petugas loket 2, berkacamata",
        amount=50_000,
        description="Diminta Rp50.000 agar perekaman didahulukan dari antrean.",
    )
    await _step(
        session, charged.id, (ComplaintStatus.investigating, "Rekaman CCTV loket diminta."), (ComplaintStatus.substantiated, "Dua warga lain membenarkan.")
    )
    await service.reply(
        session, complaint_id=charged.id, data=ReplyCreate(text="Terima kasih. Laporan Anda terbukti dan petugas telah ditindak."), actor=SYSTEM
    )
    if accused is not None:
        sanction = SanctionCreate(kind="warning", effective_from=today - timedelta(days=2), note="Teguran tertulis pertama.")
        await service.record_sanction(session, complaint_id=charged.id, data=sanction, actor=SYSTEM)

    # Received and not answered: on the overdue list.
    await report(
        9,
        area="36.74.03",
        place="Layanan akhir pekan di balai RW 05",
        operator_description="Operator alat mobile",
        amount=20_000,
        description="Warga diminta uang 'ganti tinta' Rp20.000.",
        reporter_name="Warga Demo",
        reporter_contact="0812-0000-0000",
    )

    # Not substantiated, closed with a reply.
    cleared = await report(20, area="36.74.06", place="Kantor Kecamatan Pamulang", amount=10_000, description="Diminta uang parkir di depan kantor.")
    await _step(session, cleared.id, (ComplaintStatus.investigating, "Dicek ke pengelola parkir."))
    await service.reply(session, complaint_id=cleared.id, data=ReplyCreate(text="Pungutan itu parkir resmi Dishub, bukan biaya perekaman."), actor=SYSTEM)
    await _step(session, cleared.id, (ComplaintStatus.unsubstantiated, "Parkir resmi."), (ComplaintStatus.closed, "Dijelaskan ke pelapor."))

    # Being investigated; the reporter added something.
    open_one = await report(2, service_point=office.id, amount=100_000, description="Calo di depan kantor menawarkan 'jalur cepat' Rp100.000.")
    await _step(session, open_one.id, (ComplaintStatus.investigating, "Satpol PP diminta memantau."))
    await service.reply(session, complaint_id=open_one.id, data=ReplyCreate(text="Laporan sedang kami periksa."), actor=SYSTEM)
    await service.add_message(session, receipt=open_one.receipt, data=MessageCreate(text="Calo itu datang lagi hari Sabtu pagi."), actor=SYSTEM)

    warning = "with a warning to operator " + str(accused) if accused else "without a sanction (no operators yet)"
    return [f"complaints: 4 demo complaints created, one substantiated {warning}; track one with receipt {open_one.receipt}"]
