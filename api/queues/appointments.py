"""Appointments: seats in a point's slots, booked by residents, checked in by staff.

Rules
- A point's slots on a date are its opening windows cut into `service_minutes`
  pieces; each slot has one seat per counter (unique (point, day, slot, seat) in the database).
  Residents book up to BOOKING_DAYS ahead and cancel with their booking code; staff check them in
  on the day, which gives a ticket due at the slot's start. Closures, shorter hours or fewer
  counters cancel the bookings that no longer fit, and the change lists them.
- Booking, cancelling and checking in are audited; a check-in gives a ticket (service.py) and is
  announced to the live boards like any new ticket.

Caps (issue #23)
- 17 addresses took all 168 seats of a day in 2.4 s: the per-address and per-point rate limits
  (api.auth.dependencies) slow that down, but addresses are cheap and shared. A person is not:
  where the campaign says so (`cap_bookings_per_nik`, on by default), a public booking needs the
  resident's NIK and one NIK holds at most one booking per day (any point), so seats cannot be
  booked in bulk to be sold. The NIK is kept only as a keyed hash (HMAC with the server's hash
  key, api.ratelimit): enough to tell two bookings of one NIK apart from others, useless without
  the secret (the 16 digits of a NIK are few enough to try them all against a plain hash). A
  unique index (day, nik_hash) holds the cap, so two bookings at once give one booking and one
  409 `appointment.nik_booked`, never a 500. Cancelling clears the hash (the NIK may book again).
- Staff booking for a resident (signed in) are not capped and need no NIK; a point outside every
  running campaign is not capped.
"""

import secrets
from datetime import date, timedelta
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from api import calendar, ratelimit
from api.audit import service as audit
from api.campaigns import service as campaigns
from api.errors import Conflict, NotFound, RuleViolation, field_problem
from api.principal import Principal, ensure_service_point
from api.queues.models import Appointment, AppointmentStatus, Priority
from api.queues.schemas import BookingCreate
from api.queues.service import BOOKING_DAYS, announce, issue_ticket, issued_answer
from api.services import service as services
from api.services.models import ServicePoint


def slot_grid(hours: list[list[str]], minutes: int) -> list[tuple[str, str]]:
    """Opening windows cut into slots of `minutes`; a remainder too short for a slot is dropped."""
    grid = []
    for start, end in hours:
        at, stop = calendar.minutes_of(start), calendar.minutes_of(end)
        while at + minutes <= stop:
            grid.append((calendar.hhmm_of(at), calendar.hhmm_of(at + minutes)))
            at += minutes
    return grid


def _check_booking_day(day: date, *, field: str = "date", location: str = "body") -> None:
    today = calendar.today()
    if day < today:
        raise RuleViolation.on_field(field, location=location, code="date.past")
    if day > today + timedelta(days=BOOKING_DAYS):
        raise RuleViolation.on_field(field, location=location, code="booking.too_far", params={"days": BOOKING_DAYS})


async def slots(session: AsyncSession, *, point_id: int, day: date) -> list[dict[str, Any]]:
    point, hours = await services.get_point_hours(session, point_id=point_id, day=day)
    _check_booking_day(day, location="query")
    booked = dict(
        (
            await session.execute(
                select(Appointment.slot_start, func.count())
                .where(Appointment.service_point_id == point.id, Appointment.day == day, Appointment.status != AppointmentStatus.cancelled.value)
                .group_by(Appointment.slot_start)
            )
        ).all()
    )
    now = calendar.now_utc()
    result = []
    for start, end in slot_grid(hours, point.service_minutes):
        taken = booked.get(start, 0)
        past = calendar.local_moment(day, start) < now
        result.append({"start": start, "end": end, "capacity": point.counters, "booked": taken, "available": 0 if past else max(0, point.counters - taken)})
    return result


async def book(session: AsyncSession, *, point_id: int, data: BookingCreate, actor: Principal) -> Appointment:
    point, hours = await services.get_point_hours(session, point_id=point_id, day=data.date)
    _check_booking_day(data.date)
    grid = dict(slot_grid(hours, point.service_minutes))
    if data.start not in grid:
        raise RuleViolation.on_field("start", code="booking.no_slot")
    if calendar.local_moment(data.date, data.start) < calendar.now_utc():
        raise RuleViolation.on_field("start", code="booking.slot_begun")
    seats = set(
        await session.scalars(
            select(Appointment.seat).where(
                Appointment.service_point_id == point.id, Appointment.day == data.date, Appointment.slot_start == data.start, Appointment.seat.is_not(None)
            )
        )
    )
    free = [seat for seat in range(1, point.counters + 1) if seat not in seats]
    if not free:
        raise Conflict(code="booking.slot_full", errors=[field_problem("start", code="booking.slot_full")])
    nik_hash = await _capped_nik(session, point=point, data=data, actor=actor)
    if nik_hash is not None and await session.scalar(select(exists().where(Appointment.day == data.date, Appointment.nik_hash == nik_hash))):
        raise _nik_booked(data.date)
    appointment = Appointment(
        code=secrets.token_urlsafe(9),
        service_point_id=point.id,
        day=data.date,
        slot_start=data.start,
        slot_end=grid[data.start],
        seat=free[0],
        status=AppointmentStatus.booked.value,
        name_on_ticket=data.name,
        created_at=calendar.now_utc(),
        nik_hash=nik_hash,
    )
    try:
        async with session.begin_nested():
            session.add(appointment)
    except IntegrityError:
        if nik_hash is not None and await session.scalar(select(exists().where(Appointment.day == data.date, Appointment.nik_hash == nik_hash))):
            raise _nik_booked(data.date) from None
        # Someone booked the same seat between our read and our write.
        raise Conflict(code="booking.slot_full", errors=[field_problem("start", code="booking.slot_full")]) from None
    await audit.record(
        session, actor=actor, action="appointment.create", entity="appointment", entity_id=appointment.id, after=_appointment_snapshot(appointment)
    )
    return appointment


NIK_BOOKED = "appointment.nik_booked"


async def _capped_nik(session: AsyncSession, *, point: ServicePoint, data: BookingCreate, actor: Principal) -> str | None:
    """The keyed hash of the booker's NIK when the cap applies (see "Caps"); None otherwise."""
    if actor.is_staff:
        return None
    campaign = await campaigns.campaign_covering(session, area_code=point.area_code, on=calendar.today())
    if campaign is None or not campaign.cap_bookings_per_nik:
        return None
    if data.nik is None:
        raise RuleViolation.on_field("nik", code="booking.nik_needed")
    return ratelimit.keyed_hash(await ratelimit.hash_key(session), f"booking-nik:{data.nik}")


def _nik_booked(day: date) -> Conflict:
    return Conflict(code=NIK_BOOKED, params={"day": day}, errors=[field_problem("nik", code="nik.booked_that_day")])


def _appointment_snapshot(appointment: Appointment) -> dict[str, Any]:
    # The code is the resident's key to the booking: kept out of the audit trail like a password.
    return audit.snapshot_of(
        appointment, ["service_point_id", "day", "slot_start", "slot_end", "seat", "status", "name_on_ticket", "cancel_reason", "ticket_id"]
    )


async def get_appointment(session: AsyncSession, *, code: str) -> Appointment:
    appointment = await session.scalar(select(Appointment).where(Appointment.code == code))
    if appointment is None:
        raise NotFound(code="booking.unknown")
    return appointment


async def cancel_appointment(session: AsyncSession, *, code: str, actor: Principal) -> Appointment:
    appointment = await get_appointment(session, code=code)
    if appointment.status != AppointmentStatus.booked.value:
        raise Conflict(code="booking.not_booked", params={"status": appointment.status})
    await _cancel(session, appointment=appointment, actor=actor, reason="cancelled by the resident" if not actor.is_staff else "cancelled by staff")
    return appointment


async def _cancel(session: AsyncSession, *, appointment: Appointment, actor: Principal, reason: str) -> None:
    before = _appointment_snapshot(appointment)
    appointment.status, appointment.seat, appointment.cancel_reason = AppointmentStatus.cancelled.value, None, reason[:200]
    appointment.nik_hash = None  # the NIK may book again (see "Caps")
    await session.flush()
    await audit.record(
        session,
        actor=actor,
        action="appointment.cancel",
        entity="appointment",
        entity_id=appointment.id,
        before=before,
        after=_appointment_snapshot(appointment),
    )


async def check_in(session: AsyncSession, *, code: str, actor: Principal) -> dict[str, Any]:
    """Staff at the point turn a booking into a ticket that goes first from its slot's start."""
    appointment = await get_appointment(session, code=code)
    point = await services.get_point(session, point_id=appointment.service_point_id)
    ensure_service_point(actor, service_point_id=point.id, area_code=point.area_code)
    if appointment.status != AppointmentStatus.booked.value:
        raise Conflict(code="booking.not_booked", params={"status": appointment.status})
    if appointment.day != calendar.today():
        raise Conflict(code="booking.not_today", params={"day": appointment.day})
    before = _appointment_snapshot(appointment)
    ticket = await issue_ticket(
        session,
        point=point,
        priority=Priority.appointment.value,
        name=appointment.name_on_ticket,
        actor=actor,
        due_at=calendar.local_moment(appointment.day, appointment.slot_start),
        booked_at=appointment.created_at,
    )
    appointment.status, appointment.ticket_id = AppointmentStatus.checked_in.value, ticket.id
    await session.flush()
    await audit.record(
        session,
        actor=actor,
        action="appointment.check_in",
        entity="appointment",
        entity_id=appointment.id,
        before=before,
        after=_appointment_snapshot(appointment),
    )
    issued = await issued_answer(session, point=point, ticket=ticket)
    await announce(session, point=point, ticket=ticket, change="joined")
    return issued


async def has_future_bookings(session: AsyncSession, *, point_id: int) -> bool:
    return bool(
        await session.scalar(
            select(
                exists().where(
                    Appointment.service_point_id == point_id, Appointment.day >= calendar.today(), Appointment.status == AppointmentStatus.booked.value
                )
            )
        )
    )


async def cancel_bookings_outside_hours(
    session: AsyncSession, *, point: ServicePoint, actor: Principal, reason: str, day: date | None = None
) -> list[Appointment]:
    """Cancel the open bookings (of `day`, or from today on) that no longer fit the point's hours or counters."""
    stmt = select(Appointment).where(Appointment.service_point_id == point.id, Appointment.status == AppointmentStatus.booked.value)
    stmt = stmt.where(Appointment.day == day) if day is not None else stmt.where(Appointment.day >= calendar.today())
    bookings = list(await session.scalars(stmt.order_by(Appointment.day, Appointment.slot_start, Appointment.seat)))
    if not bookings:
        return []
    closures = await services.closures_of(session, point_ids=[point.id], start=bookings[0].day, end=bookings[-1].day)
    cancelled = []
    grids: dict[date, dict[str, str]] = {}
    for booking in bookings:
        if booking.day not in grids:
            grids[booking.day] = dict(slot_grid(services.hours_on(point, booking.day, closures.get((point.id, booking.day))), point.service_minutes))
        fits = grids[booking.day].get(booking.slot_start) == booking.slot_end and (booking.seat or 0) <= point.counters
        if not fits:
            await _cancel(session, appointment=booking, actor=actor, reason=reason)
            cancelled.append(booking)
    return cancelled


async def booked_on(session: AsyncSession, *, day: date, lock: bool = False) -> list[tuple[Appointment, ServicePoint]]:
    """The appointments still booked for `day`, with their service points (for reminders).

    `lock`: the appointment rows are taken FOR UPDATE (PostgreSQL), in id order, so that two
    processes reminding at once take turns and the second sees the first's reminders."""
    stmt = (
        select(Appointment, ServicePoint)
        .join(ServicePoint, ServicePoint.id == Appointment.service_point_id)
        .where(Appointment.day == day, Appointment.status == AppointmentStatus.booked.value)
        .order_by(Appointment.id)
    )
    if lock:
        stmt = stmt.with_for_update(of=Appointment)
    rows = await session.execute(stmt)
    return [(appointment, point) for appointment, point in rows.all()]
