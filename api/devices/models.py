from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Boolean, CheckConstraint, Date, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base, UtcDateTime


class DeviceKind(StrEnum):
    static = "static"
    mobile = "mobile"


class DeviceOwner(StrEnum):
    kemendagri = "kemendagri"
    apbd = "apbd"
    loan = "loan"


class DeviceStatus(StrEnum):
    active = "active"
    faulty = "faulty"
    in_repair = "in_repair"
    returned = "returned"
    retired = "retired"


class Device(Base):
    """A recording device (alat perekam): a static set at an office or a mobile enrollment kit."""

    __tablename__ = "devices"
    __table_args__ = (
        CheckConstraint("kind IN ('static','mobile')", name="kind"),
        CheckConstraint("owner IN ('kemendagri','apbd','loan')", name="owner"),
        CheckConstraint("status IN ('active','faulty','in_repair','returned','retired')", name="status"),
        CheckConstraint("daily_capacity > 0", name="daily_capacity_positive"),
        # A loan names its lender and return date; nothing else may.
        CheckConstraint(
            "(owner = 'loan') = (lender IS NOT NULL AND return_due IS NOT NULL)", name="loan_terms"
        ),
        CheckConstraint("status <> 'returned' OR owner = 'loan'", name="only_loans_returned"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    serial: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(8))
    owner: Mapped[str] = mapped_column(String(12))
    lender: Mapped[str | None] = mapped_column(String(200))
    return_due: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12), default=DeviceStatus.active.value)
    daily_capacity: Mapped[int] = mapped_column(Integer)
    notes: Mapped[str | None] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, server_default=func.now())


class OperatorStatus(StrEnum):
    active = "active"
    suspended = "suspended"
    left = "left"


class Operator(Base):
    """A petugas who runs a device. The phone number is personal data."""

    __tablename__ = "operators"
    __table_args__ = (CheckConstraint("status IN ('active','suspended','left')", name="status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    staff_number: Mapped[str] = mapped_column(String(64), unique=True)
    phone: Mapped[str | None] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(12), default=OperatorStatus.active.value)
    added_for_campaign: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, server_default=func.now())
