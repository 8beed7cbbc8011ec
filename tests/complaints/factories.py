"""Complaints for tests, made through the service (rules and audit apply as in production)."""

from datetime import timedelta
from itertools import count
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from api import calendar
from api.complaints import service
from api.complaints.models import Complaint, ComplaintStatus
from api.complaints.schemas import ComplaintCreate, TransitionCreate
from api.devices.models import Operator
from api.principal import SYSTEM
from tests.factories import make_service_point

_sequence = count(1)
# Distinctive enough that finding them anywhere means they leaked.
REPORTER_NAME = "Siti Pelapor Zq7x"
REPORTER_CONTACT = "0812-5550-7781"

# The steps that lead from `received` to each status.
PATH_TO = {
    ComplaintStatus.received: [],
    ComplaintStatus.investigating: [ComplaintStatus.investigating],
    ComplaintStatus.substantiated: [ComplaintStatus.investigating, ComplaintStatus.substantiated],
    ComplaintStatus.unsubstantiated: [ComplaintStatus.investigating, ComplaintStatus.unsubstantiated],
    ComplaintStatus.action_taken: [ComplaintStatus.investigating, ComplaintStatus.substantiated, ComplaintStatus.action_taken],
    ComplaintStatus.closed: [ComplaintStatus.investigating, ComplaintStatus.unsubstantiated, ComplaintStatus.closed],
}


async def make_operator(session: AsyncSession, *, name: str | None = None) -> Operator:
    n = next(_sequence)
    operator = Operator(name=name or f"Operator {n}", staff_number=f"T-{n:05d}", status="active", added_for_campaign=True)
    session.add(operator)
    await session.flush()
    return operator


def complaint_body(**overrides: Any) -> dict[str, Any]:
    """A valid public report without a service point (add `service_point_id` or keep `area`)."""
    body: dict[str, Any] = {
        "area": "36.74.01",
        "place": "Balai RW 03, layanan akhir pekan",
        "occurred_on": str(calendar.today() - timedelta(days=1)),
        "operator_description": "petugas berompi biru",
        "amount": 50_000,
        "description": "Diminta Rp50.000 agar cepat dilayani.",
    }
    return body | overrides


async def make_complaint(session: AsyncSession, *, status: ComplaintStatus = ComplaintStatus.received, **overrides: Any) -> Complaint:
    if "service_point_id" not in overrides and "area" not in overrides:
        overrides["service_point_id"] = (await make_service_point(session)).id
        overrides["area"] = None
        overrides.setdefault("place", None)
    complaint = await service.submit(session, data=ComplaintCreate.model_validate(complaint_body(**overrides)), actor=SYSTEM)
    for step in PATH_TO[status]:
        await service.transition(session, complaint_id=complaint.id, data=TransitionCreate(status=step, note=f"to {step.value}"), actor=SYSTEM)
    return complaint
