from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from api import flows
from api.audit.models import AuditEntry
from api.errors import Conflict, Forbidden, NotFound, RuleViolation
from api.pagination import PageParams
from api.principal import SYSTEM
from api.services import service
from api.services.models import EventAssignment
from api.services.schemas import AssignmentsPut, ClosureCreate, ServicePointCreate, ServicePointUpdate
from api.types import AreaLevel, Role
from tests.factories import principal
from tests.services.factories import OFFICE_HOURS, make_device, make_event, make_office, make_operator, make_rw, next_saturday
from tests.test_fastpath import Statements


def test_windows_are_sorted_and_checked() -> None:
    assert service.check_windows([("13:00", "15:00"), ("08:00", "12:00")], field="f") == [["08:00", "12:00"], ["13:00", "15:00"]]
    with pytest.raises(RuleViolation) as overlap:
        service.check_windows([("08:00", "12:00"), ("11:00", "13:00")], field="opening_hours.mon")
    assert overlap.value.errors[0]["field"] == "opening_hours.mon"
    with pytest.raises(RuleViolation):
        service.check_windows([("12:00", "08:00")], field="f")
    assert service.open_days_of({"mon": [["08:00", "12:00"]], "sun": [["08:00", "10:00"]], "tue": []}) == 0b1000001


async def test_hours_with_closures_and_open_on_filter(session) -> None:
    office = await make_office(session, hours=OFFICE_HOURS)
    saturday = next_saturday()
    sunday = saturday + timedelta(days=1)
    monday = saturday + timedelta(days=2)
    assert await service.get_point_hours(session, point_id=office.id, day=saturday) == (office, [["08:00", "12:00"]])
    assert await service.get_point_hours(session, point_id=office.id, day=sunday) == (office, [])
    await flows.add_closure(session, point_id=office.id, data=ClosureCreate(day=monday, reason="Libur nasional"), actor=SYSTEM)
    await flows.add_closure(session, point_id=office.id, data=ClosureCreate(day=sunday, hours=[("09:00", "11:00")], reason="Buka khusus"), actor=SYSTEM)
    assert await service.get_point_hours(session, point_id=office.id, day=monday) == (office, [])
    assert await service.get_point_hours(session, point_id=office.id, day=sunday) == (office, [["09:00", "11:00"]])
    point, closures = await service.get_point_with_closures(session, point_id=office.id, start=saturday, end=monday)
    assert point is office and sorted(day for _, day in closures) == [sunday, monday]
    with pytest.raises(NotFound):
        await service.get_point_hours(session, point_id=office.id + 10_000, day=saturday)
    page = PageParams(limit=500)
    open_ids = lambda rows: {p.id for p, _ in rows}  # noqa: E731
    assert office.id not in open_ids((await service.list_points(session, page=page, area="36.74.01", kind=None, open_on=monday))[0])
    with Statements() as statements:  # the points with their closure of the day: one statement
        rows, _ = await service.list_points(session, page=page, area="36.74.01", kind=None, open_on=sunday)
    assert statements.count == 1
    assert dict((p.id, h) for p, h in rows)[office.id] == [["09:00", "11:00"]]
    other = await make_office(session, hours=OFFICE_HOURS)
    first, cursor = await service.list_points(session, page=PageParams(limit=1), area="36.74.01", kind=None, open_on=saturday)
    pages = [first]
    while cursor is not None:
        rows, cursor = await service.list_points(session, page=PageParams(limit=1, cursor=cursor), area="36.74.01", kind=None, open_on=saturday)
        pages.append(rows)
    assert [p.id for page_rows in pages for p, _ in page_rows if p.id in (office.id, other.id)] == [office.id, other.id]
    assert office.id in open_ids((await service.list_points(session, page=page, area="36.74.01", kind=None, open_on=saturday))[0])
    assert office.id not in open_ids((await service.list_points(session, page=page, area="36.74.02", kind=None, open_on=saturday))[0])


async def test_weekend_event_rules(session) -> None:
    rw = await make_rw(session)
    saturday = next_saturday()
    base = {"kind": "weekend_event", "name": "Layanan RW", "area": rw, "counters": 1, "event_date": saturday, "event_start": "08:00", "event_end": "12:00"}
    event = await service.create_point(session, data=ServicePointCreate(**base), actor=SYSTEM)
    assert (await service.get_point_hours(session, point_id=event.id, day=saturday))[1] == [["08:00", "12:00"]]
    assert (await service.get_point_hours(session, point_id=event.id, day=saturday + timedelta(days=7)))[1] == []
    for bad, field in (
        ({"event_date": saturday - timedelta(days=1)}, "event_date"),
        ({"area": "36.74.01.1001"}, "area"),
        ({"event_start": "13:00"}, "event_end"),
        ({"event_date": None}, "event_date"),
        ({"opening_hours": {"mon": [("08:00", "09:00")]}}, "opening_hours"),
    ):
        with pytest.raises(RuleViolation) as problem:
            await service.create_point(session, data=ServicePointCreate(**{**base, **bad}), actor=SYSTEM)
        assert problem.value.errors[0]["field"] == field
    with pytest.raises(RuleViolation):
        await service.create_point(session, data=ServicePointCreate(kind="kecamatan_office", name="x", area="36.74.01", event_date=saturday), actor=SYSTEM)


async def test_supervisor_plans_only_in_own_kecamatan(session) -> None:
    rw = await make_rw(session, kelurahan="36.74.01.1002")
    data = ServicePointCreate(kind="weekend_event", name="RW", area=rw, event_date=next_saturday(), event_start="08:00", event_end="11:00")
    point = await service.create_point(session, data=data, actor=principal(Role.supervisor, area="36.74.01"))
    with pytest.raises(Forbidden):
        await service.create_point(session, data=data, actor=principal(Role.supervisor, area="36.74.02"))
    with pytest.raises(Forbidden):
        await flows.update_service_point(session, point_id=point.id, data=ServicePointUpdate(name="x"), actor=principal(Role.supervisor, area="36.74.02"))
    actions = set(await session.scalars(select(AuditEntry.action).where(AuditEntry.entity_id == str(point.id))))
    assert "service_point.create" in actions


async def test_a_device_cannot_be_at_two_weekend_events_on_one_day(session) -> None:
    saturday = next_saturday()
    first, second = await make_event(session, day=saturday), await make_event(session, day=saturday)
    other_day = await make_event(session, day=saturday + timedelta(days=1))
    device, operator = await make_device(session), await make_operator(session)
    assigned = await flows.set_event_crew(session, point_id=first.id, data=AssignmentsPut(device_ids=[device.id], operator_ids=[operator.id]), actor=SYSTEM)
    assert assigned["device_ids"] == [device.id] and assigned["operator_ids"] == [operator.id]
    with pytest.raises(Conflict) as conflict:
        await flows.set_event_crew(session, point_id=second.id, data=AssignmentsPut(device_ids=[device.id]), actor=SYSTEM)
    assert conflict.value.errors[0]["field"] == "device_ids.0"
    with pytest.raises(Conflict):
        await flows.set_event_crew(session, point_id=second.id, data=AssignmentsPut(operator_ids=[operator.id]), actor=SYSTEM)
    # Sunday is another day: the same device may go there.
    await flows.set_event_crew(session, point_id=other_day.id, data=AssignmentsPut(device_ids=[device.id]), actor=SYSTEM)
    # Moving an event onto a day its device is taken is refused too.
    with pytest.raises(Conflict):
        await flows.update_service_point(session, point_id=other_day.id, data=ServicePointUpdate(event_date=saturday), actor=SYSTEM)
    faulty = await make_device(session, status="faulty")
    with pytest.raises(RuleViolation):
        await flows.set_event_crew(session, point_id=second.id, data=AssignmentsPut(device_ids=[faulty.id]), actor=SYSTEM)


async def test_the_database_refuses_a_double_booked_device(session) -> None:
    saturday = next_saturday()
    first, second = await make_event(session, day=saturday), await make_event(session, day=saturday)
    device_id = (await make_device(session)).id
    session.add(EventAssignment(service_point_id=first.id, day=saturday, device_id=device_id))
    await session.flush()
    with pytest.raises(IntegrityError):
        async with session.begin_nested():
            session.add(EventAssignment(service_point_id=second.id, day=saturday, device_id=device_id))


async def test_schedule_and_uncovered_rw(session) -> None:
    office = await make_office(session, area="36.74.03", hours=OFFICE_HOURS)
    dense, quiet = await make_rw(session, kelurahan="36.74.03.1001", population=5000), await make_rw(session, kelurahan="36.74.03.1001", population=100)
    covered = await make_rw(session, kelurahan="36.74.03.1001", population=6000)
    saturday = next_saturday()
    event = await make_event(session, area=covered, day=saturday)
    days = await service.schedule(session, area="36.74.03", start=saturday, end=saturday + timedelta(days=1))
    assert [d["date"] for d in days] == [saturday, saturday + timedelta(days=1)]
    assert {p["id"] for p in days[0]["points"]} >= {office.id, event.id}
    assert office.id not in {p["id"] for p in days[1]["points"]}
    with pytest.raises(RuleViolation):
        await service.schedule(session, area=None, start=saturday, end=saturday + timedelta(days=31))
    uncovered, _ = await service.uncovered_areas(session, page=PageParams(limit=500), area="36.74.03", level=AreaLevel.rw, min_population=1000)
    codes = {a.code for a in uncovered}
    assert dense in codes and quiet not in codes and covered not in codes
