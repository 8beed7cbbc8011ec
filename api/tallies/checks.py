"""Checking posted tally rows: cheap per-row checks in plain code (no model per row), then
per-batch lookups of areas, service points and devices, with caches for the whole request.

Rules
- A posted row is rejected when: its area is not an area code, unknown, above kecamatan level,
  outside the campaign's root or outside the caller's scope; its date is not a date in one of the
  forms `api.tallies.parsing.read_date` reads, not in the request's first date's form, impossible,
  before the campaign's start or after today (in the campaign's time zone); its count is not a whole number,
  negative or above the campaign's target or MAX_DAILY_COUNT; its service point or device is
  unknown; its service point is not in the row's area (same branch of the area tree); its key
  (area, date, service point, device) appears earlier in the same request; its source is not one
  of POSTED_SOURCES (`manual` when left out); it has a column no tally has; it gives a service
  point or device under both its old and its new name with different values (`renamed_conflict`;
  the old names `service_point`, `device` are still read, api/deprecation.py).
- Accepted with a warning: a count above the device's daily capacity, a date after the deadline
  (campaigns overrun). (Gaps between posted days are found by `api.tallies.imports`.)
- Identical problems are grouped with every row number that has them (`Problems`); each is a code
  and its params (worded by api.messages as `import.<code>`), with an English message kept for
  older clients.
"""

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api import deprecation, messages
from api.area_codes import KECAMATAN_DEPTH, depth_of, is_within, level_of
from api.campaigns.models import Campaign
from api.devices.models import Device
from api.principal import Principal
from api.services.models import ServicePoint
from api.tallies.bulk import Bulk, chunks
from api.tallies.parsing import COLUMN_SET, CURRENT_COLUMNS, RENAMED_COLUMNS, read_date, reference, whole
from api.tallies.schemas import ImportProblemCode

# A day's count above this, or above the campaign's whole target, is a typo (the article's
# cumulative kecamatan figures, posted as one day's tally, stay below both).
MAX_DAILY_COUNT = 1_000_000
POSTED_SOURCES = ("manual", "script", "demo")


@dataclass(slots=True)
class Row:
    """An accepted tally row: what the writer stores (`number`: its row in the request, 0 when
    made by Rekam itself)."""

    number: int
    area: str
    day: date
    point: int | None
    device: int | None
    count: int
    source: str


PROBLEM_CODES = frozenset(ImportProblemCode)


class Problems:
    """Identical problems grouped, with every row number that has them."""

    def __init__(self) -> None:
        self._groups: dict[tuple[str | None, str, str], list[int]] = {}

    def add(self, row: int | None, field_: str | None, code: str, params: dict[str, Any] | None = None) -> None:
        if code not in PROBLEM_CODES:  # every code is one the OpenAPI document declares
            raise ValueError(f"undeclared import problem code {code!r}: add it to ImportProblemCode")
        rows = self._groups.setdefault((field_, code, json.dumps(messages.json_params(params), sort_keys=True)), [])
        if row is not None:
            rows.append(row)

    def as_list(self) -> list[dict[str, Any]]:
        out = []
        for (f, c, p), rows in self._groups.items():
            params = json.loads(p)
            problem = {"rows": rows, "field": f, "code": c, "message": messages.render(f"import.{c}", params, "en")}
            out.append(problem | {"params": params} if params else problem)
        return out

    def __bool__(self) -> bool:
        return bool(self._groups)


class Checker:
    """Cheap per-row checks (plain code, no model per row) and per-batch lookups with caches."""

    def __init__(self, campaign: Campaign, actor: Principal, today: date) -> None:
        self.campaign, self.actor, self.today = campaign, actor, today
        self.root, self.deadline = campaign.root_area_code, campaign.deadline
        self.columns_checked = False  # True when rows come from a CSV whose header was checked
        self.max_count = min(MAX_DAILY_COUNT, campaign.target) if campaign.target else MAX_DAILY_COUNT
        self.problems, self.warnings = Problems(), Problems()
        self.rejected = 0
        self.seen: set[int] = set()
        self._dates: dict[str, tuple[str | None, date | str]] = {}
        self.date_form: str | None = None  # the form of the request's first date (parsing.read_date)
        self._raw_areas: dict[str, tuple[str, str | None]] = {}
        self._area_ok: dict[str, str | None] = {}
        self._known_areas: dict[str, bool] = {}
        self._points: dict[int, str | None] = {}
        self._devices: dict[int, int | None] = {}

    def reject(self, row: int, field_: str | None, code: str, params: dict[str, Any] | None = None) -> None:
        self.problems.add(row, field_, code, params)
        self.rejected += 1

    def _area_problem(self, area: str) -> str | None:
        if area in self._area_ok:
            return self._area_ok[area]
        level = level_of(area)
        if level is None:
            problem: str | None = "invalid_area"
        elif depth_of(area) < KECAMATAN_DEPTH:
            problem = "above_kecamatan"
        elif not is_within(area, self.root):
            problem = "outside_campaign"
        elif not self.actor.covers_area(area):
            problem = "outside_scope"
        else:
            problem = None
        self._area_ok[area] = problem
        return problem

    def _day(self, raw: Any) -> tuple[str | None, date | str]:
        """The date's form and the date, or the code of its problem (cached per raw text)."""
        if not isinstance(raw, str):
            return None, "invalid_date"
        found = self._dates.get(raw)
        if found is None:
            form, day = read_date(raw)
            if isinstance(day, date):
                if day < self.campaign.start_date:
                    day = "before_start"
                elif day > self.today:
                    day = "in_future"
            found = self._dates[raw] = (form, day)
        return found

    def _date_params(self, problem: str, form: str | None) -> dict[str, Any] | None:
        if problem == "before_start":
            return {"start": self.campaign.start_date}
        if problem == "in_future":
            return {"today": self.today, "zone": self.campaign.timezone}
        if problem == "mixed_date_format":
            return {"form": form, "first": self.date_form}
        return None

    def _renamed(self, raw: dict[str, Any], point: Any, device: Any) -> tuple[Any, Any, str | None]:
        """The row's point and device given under an old name (or None: the name clashes with the new one's value)."""
        values = {"service_point": point, "device": device}
        for old in RENAMED_COLUMNS:
            value = raw.get(old)
            if value is None or value == "":
                continue
            deprecation.note(old)
            current = values[old]
            if current is None or current == "":
                values[old] = value
            elif reference(current) != reference(value):
                return point, device, old
        return values["service_point"], values["device"], None

    def row(self, number: int, raw: Any) -> Row | None:
        if type(raw) is not dict and not isinstance(raw, dict):
            self.reject(number, None, "invalid_row")
            return None
        if not self.columns_checked and not raw.keys() <= COLUMN_SET:
            extra = raw.keys() - COLUMN_SET
            self.reject(number, sorted(extra)[0], "unknown_field", {"columns": ", ".join(CURRENT_COLUMNS)})
            return None
        raw_area = raw.get("area")
        found = self._raw_areas.get(raw_area) if type(raw_area) is str else None
        if found is None:
            area = raw_area.strip() if isinstance(raw_area, str) else ""
            found = (area, self._area_problem(area) if area else "invalid_area")
            if type(raw_area) is str:
                self._raw_areas[raw_area] = found
        area, problem = found
        if problem is not None:
            self.reject(number, "area", problem)
            return None
        raw_day = raw.get("date")
        read = self._dates.get(raw_day) if type(raw_day) is str else None
        form, day = read if read is not None else self._day(raw_day)
        if form is not None and form != self.date_form:
            if self.date_form is None:
                self.date_form = form
            else:
                day = "mixed_date_format"
        if type(day) is str:
            self.reject(number, "date", day, self._date_params(day, form))
            return None
        count = raw.get("count")
        if type(count) is not int or count < 0:  # the common case first: a plain int, or digits
            count = int(count) if type(count) is str and count.isdigit() and count.isascii() else whole(count)
        if count is None:
            self.reject(number, "count", "not_integer")
            return None
        if count < 0:
            self.reject(number, "count", "negative")
            return None
        if count > self.max_count:
            self.reject(number, "count", "too_large", {"max": self.max_count})
            return None
        point = raw.get("service_point_id")
        device = raw.get("device_id")
        if "service_point" in raw or "device" in raw:  # the old names (docs/api.md "Deprecations")
            point, device, clash = self._renamed(raw, point, device)
            if clash is not None:
                self.reject(number, clash, "renamed_conflict", {"new": RENAMED_COLUMNS[clash]})
                return None
        if point is not None:
            point = reference(point)
            if point is False:
                self.reject(number, "service_point_id", "invalid_reference")
                return None
        if device is not None:
            device = reference(device)
            if device is False:
                self.reject(number, "device_id", "invalid_reference")
                return None
        source = raw.get("source")
        if source is None or source == "":
            source = "manual"
        elif source not in POSTED_SOURCES:
            if isinstance(source, str):
                source = source.strip() or "manual"
            if source not in POSTED_SOURCES:
                self.reject(number, "source", "unknown_source", {"allowed": ", ".join(POSTED_SOURCES)})
                return None
        key = hash((area, day, point or 0, device or 0))
        seen = self.seen
        if key in seen:
            self.reject(number, "area", "duplicate_key")
            return None
        seen.add(key)
        if day > self.deadline:  # type: ignore[operator]  # a date: `_day`'s problem codes (str) returned above
            self.warnings.add(number, "date", "after_deadline", {"deadline": self.deadline})
        return Row(number, area, day, point or None, device or None, count, source)  # type: ignore[arg-type]  # day a date, point and device ids (False returned above)

    async def batch(self, session: AsyncSession, rows: list[Row]) -> list[Row]:
        """The rows whose area, service point and device exist (and fit together)."""
        await self._load(session, rows)
        accepted = []
        for r in rows:
            if not self._known_areas[r.area]:
                self.reject(r.number, "area", "unknown_area")
                continue
            if r.point is not None:
                point_area = self._points[r.point]
                if point_area is None:
                    self.reject(r.number, "service_point_id", "unknown_service_point")
                    continue
                if not (is_within(point_area, r.area) or is_within(r.area, point_area)):
                    self.reject(r.number, "service_point_id", "not_in_area")
                    continue
            if r.device is not None:
                capacity = self._devices[r.device]
                if capacity is None:
                    self.reject(r.number, "device_id", "unknown_device")
                    continue
                if r.count > capacity:
                    self.warnings.add(r.number, "count", "above_capacity", {"capacity": capacity})
            accepted.append(r)
        return accepted

    def unknown_areas(self, rows: list[Row]) -> set[str]:
        """The areas of `rows` not looked up yet."""
        return {r.area for r in rows} - self._known_areas.keys()

    def found_areas(self, codes: Iterable[str], found: set[str]) -> None:
        """What a look-up of `codes` found (`found`: the codes that name an area)."""
        self._known_areas.update((code, code in found) for code in codes)

    async def _load(self, session: AsyncSession, rows: list[Row]) -> None:
        areas = self.unknown_areas(rows)
        bulk = Bulk(session)
        if areas:
            self.found_areas(areas, await bulk.existing_areas(areas))
        points = {r.point for r in rows if r.point is not None} - self._points.keys()
        for chunk in chunks(points):
            found_points = dict((await session.execute(select(ServicePoint.id, ServicePoint.area_code).where(ServicePoint.id.in_(chunk)))).all())
            self._points.update((id_, found_points.get(id_)) for id_ in chunk)
        devices = {r.device for r in rows if r.device is not None} - self._devices.keys()
        for chunk in chunks(devices):
            found_devices = dict((await session.execute(select(Device.id, Device.daily_capacity).where(Device.id.in_(chunk)))).all())
            self._devices.update((id_, found_devices.get(id_)) for id_ in chunk)
