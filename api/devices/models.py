from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from api.db import AreaCode, Base, UtcDateTime


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
        CheckConstraint("(owner = 'loan') = (lender IS NOT NULL AND return_due IS NOT NULL)", name="loan_terms"),
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


# "One place at a time" is also enforced by the database, created in the migration only (see
# migrations/versions/*_devices.py): on PostgreSQL an exclusion constraint over
# daterange(starts_on, ends_on, '[]') per device/operator (btree_gist), on SQLite triggers that
# refuse an overlapping row. Autogenerate sees neither, so the models stay free of dialect DDL.
def _period_checks() -> tuple[CheckConstraint, ...]:
    # A new object per table: a constraint belongs to one table.
    return (CheckConstraint("ends_on IS NULL OR ends_on >= starts_on", name="ends_after_start"),)


class Allocation(Base):
    """A device at a service point or with a team in an area, from a day to a day (inclusive).

    `area_code` is always set: the service point's area when the device is at one, copied at
    allocation time so that "where is it" is one index range on area codes.
    """

    __tablename__ = "allocations"
    __table_args__ = _period_checks()

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id"), index=True)
    service_point_id: Mapped[int | None] = mapped_column(ForeignKey("service_points.id"), index=True)
    area_code: Mapped[str] = mapped_column(AreaCode, ForeignKey("areas.code"), index=True)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)  # None: until further notice
    reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, server_default=func.now())


class OperatorAssignment(Base):
    """An operator posted to a service point or a kecamatan (area), from a day to a day (inclusive)."""

    __tablename__ = "operator_assignments"
    __table_args__ = _period_checks()

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id"), index=True)
    service_point_id: Mapped[int | None] = mapped_column(ForeignKey("service_points.id"), index=True)
    area_code: Mapped[str] = mapped_column(AreaCode, ForeignKey("areas.code"), index=True)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, server_default=func.now())
