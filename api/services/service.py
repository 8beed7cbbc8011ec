"""Service points: where and when residents can be recorded.

Rules
- A service point is a kecamatan office, a kelurahan office, a weekend service or a mobile kit's
  day, in an area of the campaign down to RW/RT. Staff create and change points inside their
  scope (supervisors: their kecamatan).
- Offices have opening hours per weekday, Saturday and Sunday included: "HH:MM" windows, each
  ending after it starts, never overlapping on a day (the windows' meaning is api.calendar's).
- A weekend service (`weekend_event`) is one Saturday or Sunday, one time window, at an RW or RT
  (the article's "down to the dense RT/RW"); it has no weekly hours.
- A closure replaces a day's hours: none (holiday) or reduced ones. Bookings that no longer fit
  (closed day, shortened hours, fewer counters) are cancelled, and the change says which: that
  joins the queues domain and lives in `api.flows` (`update_service_point`, `add_closure`). The
  slot length cannot change while bookings are open (the caller says whether they are).
- A device or an operator is at one weekend service per day at most (also a unique constraint),
  and a weekend service takes only devices and operators free that day: not posted at a service
  point, not on home visits, usable: api.commitments judges it, asked by api.flows.
- The public sees points and the schedule (where recording is open on each date, with hours, the
  address, the coordinates and the names of the point's kecamatan, kelurahan, RW and RT), for at
  most `MAX_SCHEDULE_DAYS` days at once. A point's next opening is the next window start within
  `NEXT_OPENING_DAYS` days (closures applied). Staff see which dense RW/RT have had no weekend
  service yet.
- A public board's point and its closures are kept per process for at most `KEPT_SECONDS`, as the
  public answers are (`kept_point_with_closures`).
"""

import time
from datetime import date, timedelta
from typing import Any, cast

from sqlalchemy import Select, and_, delete, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from api import calendar, fastpath
from api.area_codes import COUNTRY, ancestors_of, in_subtree, require_code
from api.areas import service as areas
from api.areas.models import Area
from api.audit import service as audit
from api.errors import Conflict, NotFound, RuleViolation, field_problem, get_or_404, not_found
from api.pagination import PageParams, paginate
from api.principal import Principal, ensure_area
from api.services.models import WEEKDAYS, Closure, EventAssignment, ServicePoint, ServicePointKind
from api.services.schemas import AssignmentsPut, ClosureCreate, ServicePointCreate, ServicePointUpdate
from api.types import AreaLevel

MAX_SCHEDULE_DAYS = 31
EVENT_LEVELS = (AreaLevel.rw, AreaLevel.rt)
POINT_FIELDS = [
    "id",
    "kind",
    "name",
    "area_code",
    "address",
    "latitude",
    "longitude",
    "counters",
    "opening_hours",
    "service_minutes",
    "event_date",
    "event_start",
    "event_end",
    "active",
]


# --- hours ---------------------------------------------------------------------------------


minutes_of = calendar.minutes_of
hhmm_of = calendar.hhmm_of


def check_windows(windows: list[Any], *, field: str) -> list[list[str]]:
    """Windows sorted by start; each must end after it starts and none may overlap another."""
    ordered = sorted(([str(start), str(end)] for start, end in windows), key=lambda w: w[0])
    for i, (start, end) in enumerate(ordered):
        if minutes_of(end) <= minutes_of(start):
            raise RuleViolation.on_field(field, code="hours.window_order", params={"start": start, "end": end})
        if i and minutes_of(start) < minutes_of(ordered[i - 1][1]):
            params = {"start": start, "end": end, "other_start": ordered[i - 1][0], "other_end": ordered[i - 1][1]}
            raise RuleViolation.on_field(field, code="hours.overlap", params=params)
    return ordered


def check_opening_hours(hours: dict[Any, list[Any]]) -> dict[str, list[list[str]]]:
    return {str(day): check_windows(windows, field=f"opening_hours.{day}") for day, windows in hours.items() if windows}


def open_days_of(hours: dict[str, list[Any]]) -> int:
    return sum(1 << i for i, day in enumerate(WEEKDAYS) if hours.get(day))


def hours_on(point: ServicePoint, day: date, closure: Closure | None = None) -> list[list[str]]:
    """The windows in which `point` records residents on `day`, closures applied."""
    if not point.active:
        return []
    if closure is not None:
        return [list(w) for w in closure.hours]
    if point.kind == ServicePointKind.weekend_event.value:
        # A weekend event has its start and end: the table's check constraint `event_fields` says so.
        return [[cast(str, point.event_start), cast(str, point.event_end)]] if point.event_date == day else []
    return [list(w) for w in (point.opening_hours or {}).get(WEEKDAYS[day.weekday()], [])]


Closures = dict[tuple[int, date], Closure]  # (point id, day) -> that day's closure


async def closures_of(session: AsyncSession, *, point_ids: list[int], start: date, end: date) -> Closures:
    if not point_ids:
        return {}
    rows = await session.scalars(select(Closure).where(Closure.service_point_id.in_(point_ids), Closure.day >= start, Closure.day <= end))
    return {(c.service_point_id, c.day): c for c in rows}


NEXT_OPENING_DAYS = 31


def next_opening(point: ServicePoint, *, day: date, hhmm: str, closures: Closures) -> dict[str, Any] | None:
    """The next window start after local `day` `hhmm` within NEXT_OPENING_DAYS (closures applied)."""
    for offset in range(NEXT_OPENING_DAYS + 1):
        on = day + timedelta(days=offset)
        starts = sorted(start for start, _ in hours_on(point, on, closures.get((point.id, on))) if offset or start > hhmm)
        if starts:
            return {"date": on, "time": starts[0]}
    return None


def next_opening_horizon(day: date) -> date:
    """The last day whose closures `next_opening` from `day` may need."""
    return day + timedelta(days=NEXT_OPENING_DAYS)


# --- service points ------------------------------------------------------------------------


async def get_point(session: AsyncSession, *, point_id: int) -> ServicePoint:
    return await get_or_404(session, ServicePoint, point_id, what="service point")


# An alias, so that a filter of `points` on closures (`open_on_clause`) does not correlate to the
# join; one for the process: making it (and its columns) again for every statement cost ~0.7 ms.
_CLOSURE_OF = aliased(Closure, name="closure_of")


def _joined_closures(points: Select[Any], *, start: date, end: date) -> Select[Any]:
    """`points` with each point's closures from `start` to `end` as a second column (an outer join:
    a point without one comes once, with None)."""
    closure_of = _CLOSURE_OF
    on_days = and_(closure_of.service_point_id == ServicePoint.id, closure_of.day >= start, closure_of.day <= end)
    return points.add_columns(closure_of).outerjoin(closure_of, on_days)


async def with_closures(session: AsyncSession, points: Select[ServicePoint], *, start: date, end: date) -> tuple[list[ServicePoint], Closures]:
    """The points `points` selects, in its order, and their closures from `start` to `end`: one
    statement (a point has few closures), where reading them apart cost a round trip."""
    found: dict[int, ServicePoint] = {}
    closures: Closures = {}
    for point, closure in await session.execute(_joined_closures(points, start=start, end=end)):
        found.setdefault(point.id, point)
        if closure is not None:
            closures[(point.id, closure.day)] = closure
    return list(found.values()), closures


async def get_point_with_closures(session: AsyncSession, *, point_id: int, start: date, end: date) -> tuple[ServicePoint, Closures]:
    """A point and its closures from `start` to `end`, in one statement; 404 for no point (as `get_point`)."""
    found, closures = await with_closures(session, select(ServicePoint).where(ServicePoint.id == point_id), start=start, end=end)
    if not found:
        raise not_found("service point", point_id)
    return found[0], closures


# A public board reads its point and the point's closures after every move of a ticket, all day;
# both change rarely. Kept per process for at most `KEPT_SECONDS`, and only while nothing was
# written here that the public reads of service points would hear of (`api.fastpath`, their
# generation): the public answers' own rule, this process sees its own changes at once, another
# process's within a second. Kept as copies that belong to no session (a session's rollback
# expires its own objects).
KEPT_SECONDS = 1.0
_KEPT_MOST = 1024
_kept_points: dict[tuple[int, date, date], tuple[int, float, ServicePoint, Closures]] = {}


async def kept_point_with_closures(session: AsyncSession, *, point_id: int, start: date, end: date) -> tuple[ServicePoint, Closures]:
    """`get_point_with_closures` for a public board: as kept, when it may be (see `KEPT_SECONDS`)."""
    key, now, generation = (point_id, start, end), time.monotonic(), fastpath.generation.of_reads["services"]
    kept = _kept_points.get(key)
    if kept is not None and kept[0] == generation and kept[1] > now:
        return kept[2], kept[3]
    point, closures = await get_point_with_closures(session, point_id=point_id, start=start, end=end)
    if fastpath.generation.of_reads["services"] == generation:  # nothing written meanwhile
        if len(_kept_points) >= _KEPT_MOST:
            _kept_points.clear()
        _kept_points[key] = (generation, now + KEPT_SECONDS, _detached_copy(point), {k: _detached_copy(c) for k, c in closures.items()})
    return point, closures


def _detached_copy(row: Any) -> Any:
    return type(row)(**{column.key: getattr(row, column.key) for column in row.__table__.columns})


async def get_point_hours(session: AsyncSession, *, point_id: int, day: date) -> tuple[ServicePoint, list[list[str]]]:
    """A point and its hours on `day` (closures applied), in one statement; 404 for no point."""
    point, closures = await get_point_with_closures(session, point_id=point_id, start=day, end=day)
    return point, hours_on(point, day, closures.get((point.id, day)))


def _check_kind_fields(kind: str, values: dict[str, Any], level: AreaLevel) -> None:
    is_event = kind == ServicePointKind.weekend_event.value
    event_fields = ("event_date", "event_start", "event_end")
    if is_event:
        for name in event_fields:
            if values.get(name) is None:
                raise RuleViolation.on_field(name, code="event.incomplete")
        if values["event_date"].weekday() < 5:
            raise RuleViolation.on_field("event_date", code="event.weekday")
        check_windows([(values["event_start"], values["event_end"])], field="event_end")
        if values.get("opening_hours"):
            raise RuleViolation.on_field("opening_hours", code="event.weekly_hours")
        if level not in EVENT_LEVELS:
            raise RuleViolation.on_field("area", code="event.level")
    else:
        for name in event_fields:
            if values.get(name) is not None:
                raise RuleViolation.on_field(name, code="event.only_events")


async def create_point(session: AsyncSession, *, data: ServicePointCreate, actor: Principal) -> ServicePoint:
    area = await areas.get(session, code=data.area, field="area", location="body")
    ensure_area(actor, data.area)
    values = data.model_dump()
    values["opening_hours"] = check_opening_hours(data.opening_hours)
    _check_kind_fields(data.kind.value, values, area_level(area))
    point = ServicePoint(
        kind=data.kind.value,
        name=data.name,
        area_code=data.area,
        address=data.address,
        latitude=data.latitude,
        longitude=data.longitude,
        counters=data.counters,
        opening_hours=values["opening_hours"],
        open_days=open_days_of(values["opening_hours"]),
        service_minutes=data.service_minutes,
        event_date=data.event_date,
        event_start=data.event_start,
        event_end=data.event_end,
        active=data.active,
    )
    session.add(point)
    await session.flush()
    await audit.record(
        session, actor=actor, action="service_point.create", entity="service_point", entity_id=point.id, after=audit.snapshot_of(point, POINT_FIELDS)
    )
    return point


def area_level(area: Area) -> AreaLevel:
    return AreaLevel(area.level)


async def update_point(session: AsyncSession, *, point_id: int, data: ServicePointUpdate, actor: Principal, bookings_open: bool) -> ServicePoint:
    """Apply the change (`bookings_open`: the point has open bookings from today on; then its slot
    length cannot change). Cancelling the bookings that no longer fit is `api.flows`' part."""
    point = await get_point(session, point_id=point_id)
    ensure_area(actor, point.area_code)
    changes = data.model_dump(exclude_unset=True)
    for name in ("name", "counters", "opening_hours", "service_minutes", "active", "area"):
        if name in changes and changes[name] is None:
            raise RuleViolation.on_field(name, code="not_null")
    area_code = changes.pop("area", point.area_code)
    area = await areas.get(session, code=area_code, field="area", location="body")
    ensure_area(actor, area_code)
    if "opening_hours" in changes:
        changes["opening_hours"] = check_opening_hours(data.opening_hours or {})
    merged = {name: changes.get(name, getattr(point, name)) for name in ("event_date", "event_start", "event_end", "opening_hours")}
    _check_kind_fields(point.kind, merged, area_level(area))
    if "service_minutes" in changes and changes["service_minutes"] != point.service_minutes and bookings_open:
        raise Conflict(code="point.slot_length_booked", errors=[field_problem("service_minutes", code="point.slot_length_booked")])
    before = audit.snapshot_of(point, POINT_FIELDS)
    point.area_code = area_code
    for name, value in changes.items():
        setattr(point, name, value)
    point.open_days = open_days_of(point.opening_hours or {})
    await session.flush()
    await audit.record(
        session,
        actor=actor,
        action="service_point.update",
        entity="service_point",
        entity_id=point.id,
        before=before,
        after=audit.snapshot_of(point, POINT_FIELDS),
    )
    if point.kind == ServicePointKind.weekend_event.value and "event_date" in changes:
        # The assignments follow the event to its new date, where they must be free again.
        assignments = list(await session.scalars(select(EventAssignment).where(EventAssignment.service_point_id == point.id)))
        await _replace_assignments(
            session,
            point=point,
            device_ids=[a.device_id for a in assignments if a.device_id],
            operator_ids=[a.operator_id for a in assignments if a.operator_id],
        )
    return point


async def list_points(
    session: AsyncSession, *, page: PageParams, area: str | None, kind: ServicePointKind | None, open_on: date | None
) -> tuple[list[tuple[ServicePoint, list[list[str]] | None]], str | None]:
    stmt = select(ServicePoint)
    if area is not None:
        require_code(area, field="area", location="query")
        stmt = stmt.where(in_subtree(ServicePoint.area_code, area))
    if kind is not None:
        stmt = stmt.where(ServicePoint.kind == kind.value)
    if open_on is None:
        points, next_cursor = await paginate(session, stmt, keys=[ServicePoint.id], page=page)
        return [(p, None) for p in points], next_cursor
    # One closure a day at most (unique): joined, each point comes once and a page is one statement.
    stmt = _joined_closures(stmt.where(ServicePoint.active.is_(True), open_on_clause(open_on)), start=open_on, end=open_on)
    rows, next_cursor = await paginate(session, stmt, keys=[ServicePoint.id], page=page, cursor_of=lambda row: [row[0].id])
    return [(point, hours_on(point, open_on, closure)) for point, closure in rows], next_cursor


def open_on_clause(day: date) -> Any:
    """Points with hours on `day`: a weekend service on that date, or an open weekday without a full closure.

    A closure with reduced hours keeps a point open; one that reopens a normally closed weekday
    makes it open that day.
    """
    closure_on_day = select(Closure.id).where(Closure.service_point_id == ServicePoint.id, Closure.day == day)
    reopened = exists(closure_on_day.where(Closure.closed.is_(False)))
    closed = exists(closure_on_day.where(Closure.closed.is_(True)))
    weekday_bit = 1 << day.weekday()
    is_event = ServicePoint.kind == ServicePointKind.weekend_event.value
    return and_(
        ~closed,
        or_(
            and_(is_event, ServicePoint.event_date == day),
            and_(~is_event, or_(ServicePoint.open_days.op("&")(weekday_bit) != 0, reopened)),
        ),
    )


async def schedule(session: AsyncSession, *, area: str | None, start: date, end: date) -> list[dict[str, Any]]:
    """For each date from `start` to `end`, the points open that day with their hours."""
    if end < start:
        raise RuleViolation.on_field("to", location="query", code="range.reversed")
    if (end - start).days + 1 > MAX_SCHEDULE_DAYS:
        raise RuleViolation.on_field("to", location="query", code="range.too_long", params={"days": MAX_SCHEDULE_DAYS})
    stmt = select(ServicePoint).where(ServicePoint.active.is_(True)).order_by(ServicePoint.id)
    if area is not None:
        require_code(area, field="area", location="query")
        stmt = stmt.where(in_subtree(ServicePoint.area_code, area))
    # Weekend services outside the range are left out in SQL; they would be closed every day of it.
    stmt = stmt.where(or_(ServicePoint.event_date.is_(None), and_(ServicePoint.event_date >= start, ServicePoint.event_date <= end)))
    points, closures = await with_closures(session, stmt, start=start, end=end)
    places = await _places(session, [p.area_code for p in points])
    days = []
    for offset in range((end - start).days + 1):
        day = start + timedelta(days=offset)
        open_points = []
        for point in points:
            closure = closures.get((point.id, day))
            hours = hours_on(point, day, closure)
            if hours:
                open_points.append(
                    {
                        "id": point.id,
                        "name": point.name,
                        "kind": point.kind,
                        "area": point.area_code,
                        "hours": hours,
                        "note": closure.reason if closure is not None else None,
                        "address": point.address,
                        "latitude": point.latitude,
                        "longitude": point.longitude,
                        "places": places.get(point.area_code, {}),
                    }
                )
        days.append({"date": day, "points": open_points})
    return days


async def _places(session: AsyncSession, codes: list[str]) -> dict[str, dict[str, str]]:
    """For each area code, the names of its kecamatan, kelurahan, RW and RT (those it has)."""
    wanted = {c for code in set(codes) for c in [*ancestors_of(code), code]}
    if not wanted:
        return {}
    rows = (await session.execute(select(Area.code, Area.name, Area.level).where(Area.code.in_(wanted)))).all()
    named = {code: (name, level) for code, name, level in rows}
    levels = (AreaLevel.kecamatan, AreaLevel.kelurahan, AreaLevel.rw, AreaLevel.rt)
    out: dict[str, dict[str, str]] = {}
    for code in set(codes):
        found = (named.get(c) for c in [*ancestors_of(code), code])
        out[code] = {level: name for name, level in (f for f in found if f is not None) if level in levels}
    return out


# --- closures ------------------------------------------------------------------------------


async def add_closure(session: AsyncSession, *, point_id: int, data: ClosureCreate, actor: Principal) -> Closure:
    """A closure of one day (no hours, or reduced ones); `api.flows.add_closure` cancels the bookings it leaves out."""
    point = await get_point(session, point_id=point_id)
    ensure_area(actor, point.area_code)
    hours = check_windows(data.hours, field="hours")
    if await session.scalar(select(Closure.id).where(Closure.service_point_id == point.id, Closure.day == data.day)) is not None:
        params = {"point": point.name, "day": data.day}
        raise Conflict(code="point.closure_exists", params=params, errors=[field_problem("date", code="point.closure_exists", params=params)])
    closure = Closure(service_point_id=point.id, day=data.day, hours=hours, closed=not hours, reason=data.reason)
    session.add(closure)
    await session.flush()
    await audit.record(
        session,
        actor=actor,
        action="closure.create",
        entity="closure",
        entity_id=closure.id,
        after=audit.snapshot_of(closure, ["service_point_id", "day", "hours", "closed", "reason"]),
    )
    return closure


async def list_closures(session: AsyncSession, *, point_id: int, page: PageParams, since: date | None) -> tuple[list[Closure], str | None]:
    await get_point(session, point_id=point_id)
    stmt = select(Closure).where(Closure.service_point_id == point_id)
    if since is not None:
        stmt = stmt.where(Closure.day >= since)
    return await paginate(session, stmt, keys=[Closure.day], page=page)


async def remove_closure(session: AsyncSession, *, point_id: int, closure_id: int, actor: Principal) -> None:
    point = await get_point(session, point_id=point_id)
    ensure_area(actor, point.area_code)
    closure = await session.get(Closure, closure_id)
    if closure is None or closure.service_point_id != point_id:
        raise NotFound(code="not_found.thing", params={"what": "closure", "id": closure_id})
    before = audit.snapshot_of(closure, ["service_point_id", "day", "hours", "closed", "reason"])
    await session.delete(closure)
    await session.flush()
    await audit.record(session, actor=actor, action="closure.delete", entity="closure", entity_id=closure_id, before=before)


# --- weekend services: devices and operators -----------------------------------------------


async def get_assignments(session: AsyncSession, *, point_id: int) -> dict[str, Any]:
    point = await get_point(session, point_id=point_id)
    rows = list(await session.scalars(select(EventAssignment).where(EventAssignment.service_point_id == point.id).order_by(EventAssignment.id)))
    return _assignments_read(point, rows)


def _assignments_read(point: ServicePoint, rows: list[EventAssignment]) -> dict[str, Any]:
    return {
        "service_point_id": point.id,
        "day": point.event_date,
        "device_ids": sorted(r.device_id for r in rows if r.device_id is not None),
        "operator_ids": sorted(r.operator_id for r in rows if r.operator_id is not None),
    }


async def set_assignments(session: AsyncSession, *, point_id: int, data: AssignmentsPut, actor: Principal) -> dict[str, Any]:
    """Replace the devices and operators of a weekend service; each must be free that day."""
    point = await get_point(session, point_id=point_id)
    ensure_area(actor, point.area_code)
    if point.kind != ServicePointKind.weekend_event.value:
        raise RuleViolation(code="crew.office_assignment")
    before = await get_assignments(session, point_id=point.id)
    device_ids, operator_ids = list(dict.fromkeys(data.device_ids)), list(dict.fromkeys(data.operator_ids))
    assert point.event_date is not None
    rows = await _replace_assignments(session, point=point, device_ids=device_ids, operator_ids=operator_ids)
    after = _assignments_read(point, rows)
    await audit.record(session, actor=actor, action="event_assignment.replace", entity="service_point", entity_id=point.id, before=before, after=after)
    return after


async def _replace_assignments(session: AsyncSession, *, point: ServicePoint, device_ids: list[int], operator_ids: list[int]) -> list[EventAssignment]:
    day = point.event_date
    assert day is not None
    await session.execute(delete(EventAssignment).where(EventAssignment.service_point_id == point.id))
    rows = [EventAssignment(service_point_id=point.id, day=day, device_id=d) for d in device_ids]
    rows += [EventAssignment(service_point_id=point.id, day=day, operator_id=o) for o in operator_ids]
    session.add_all(rows)
    await session.flush()
    return rows


async def uncovered_areas(session: AsyncSession, *, page: PageParams, area: str | None, level: AreaLevel, min_population: int) -> tuple[list[Area], str | None]:
    """RW (or RT) units of at least `min_population` residents with no weekend service at or below them, ever."""
    if area is not None:
        require_code(area, field="area", location="query")
    if level not in EVENT_LEVELS:
        raise RuleViolation.on_field("level", location="query", code="event.level")
    event_here = select(ServicePoint.id).where(
        ServicePoint.kind == ServicePointKind.weekend_event.value,
        or_(ServicePoint.area_code == Area.code, and_(ServicePoint.area_code > Area.code + ".", ServicePoint.area_code < Area.code + "/")),
    )
    stmt = select(Area).where(in_subtree(Area.code, area or COUNTRY), Area.level == level.value, Area.population >= min_population, ~exists(event_here))
    return await paginate(session, stmt, keys=[Area.code], page=page)


async def weekend_event_on(session: AsyncSession, *, day: date, device_id: int | None = None, operator_id: int | None = None) -> int | None:
    """The weekend service a device (or an operator) is assigned to on `day`, if any."""
    who = EventAssignment.device_id == device_id if device_id is not None else EventAssignment.operator_id == operator_id
    return await session.scalar(select(EventAssignment.service_point_id).where(EventAssignment.day == day, who).limit(1))


async def event_days(
    session: AsyncSession, *, from_day: date, until: date, device_id: int | None = None, operator_id: int | None = None
) -> list[tuple[date, int]]:
    """(day, weekend service) for each day from `from_day` to `until` a device (or an operator) is assigned to one."""
    who = EventAssignment.device_id == device_id if device_id is not None else EventAssignment.operator_id == operator_id
    rows = await session.execute(
        select(EventAssignment.day, EventAssignment.service_point_id).where(who, EventAssignment.day >= from_day, EventAssignment.day <= until)
    )
    return [(day, point) for day, point in rows]


# --- the weekend-service planner -------------------------------------------------------------


def kelurahan_of(code: str) -> str:
    return ".".join(code.split(".")[:4])


async def planner_units(session: AsyncSession, *, root: str, level: AreaLevel, day: date) -> tuple[list[Area], dict[str, Area], dict[str, date]]:
    """What the planner ranks (api/services/planner.py) inside `root`: the RW (or RT) units with a
    population and without a weekend service of their own on or after `day`; their kelurahan; and
    each kelurahan's last weekend service on or before `day`."""
    require_code(root, field="area", location="query")
    if level not in EVENT_LEVELS:
        raise RuleViolation.on_field("level", location="query", code="event.level")
    units = list(
        await session.scalars(select(Area).where(in_subtree(Area.code, root), Area.level == level.value, Area.population.is_not(None)).order_by(Area.code))
    )
    events = (
        await session.execute(
            select(ServicePoint.area_code, ServicePoint.event_date).where(
                ServicePoint.kind == ServicePointKind.weekend_event.value,
                ServicePoint.active.is_(True),
                in_subtree(ServicePoint.area_code, kelurahan_of(root) if len(root.split(".")) > 4 else root),
            )
        )
    ).all()
    planned = {code for code, on in events if on is not None and on >= day}
    last_nearby: dict[str, date] = {}
    for code, on in events:
        if on is not None and on <= day:
            last_nearby[kelurahan_of(code)] = max(on, last_nearby.get(kelurahan_of(code), on))
    units = [u for u in units if not any(code == u.code or code.startswith(u.code + ".") for code in planned)]
    kelurahan_codes = {kelurahan_of(u.code) for u in units}
    kelurahan = {a.code: a for a in await session.scalars(select(Area).where(Area.code.in_(kelurahan_codes)))} if kelurahan_codes else {}
    return units, kelurahan, last_nearby
