"""Areas: the official Kemendagri codes and the RW/RT units staff add below a kelurahan.

Rules: official areas (country down to kelurahan) come only from the official list; staff add
RW units below a kelurahan and RT units below an RW, inside their own scope, and may rename those
units; an official area's name changes only with the official list (its population may be set). See `codes.py` for
how a code gives its level and parent.
"""

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from api.area_codes import (
    COUNTRY,
    COUNTRY_NAME,
    STAFF_LEVELS,
    ancestors_of,
    depth_of,
    in_subtree,
    is_within,
    level_of,
    parent_of,
    require_code,
)
from api.areas.models import Area
from api.areas.schemas import AreaCreate, AreaUpdate
from api.audit import service as audit
from api.db import upsert_statement
from api.errors import Conflict, NotFound, RuleViolation, field_problem
from api.pagination import PageParams, paginate
from api.principal import Principal, ensure_area
from api.types import AreaLevel

__all__ = ["ancestors_of", "depth_of", "in_subtree", "is_within", "level_of", "parent_of", "require_code"]

DATA_DIR = Path(__file__).resolve().parent / "data"
AREAS_CSV = DATA_DIR / "wilayah_kemendagri_2025.csv"
POPULATION_CSV = DATA_DIR / "penduduk_kemendagri_2025.csv"

LOAD_BATCH = 5000


async def get(session: AsyncSession, *, code: str, field: str = "area", location: str = "path") -> Area:
    require_code(code, field=field, location=location)
    area = await session.get(Area, code)
    if area is None:
        if location == "body":
            # A reference inside a request body: the request is invalid (422), nothing at its address is missing.
            raise RuleViolation(
                code="area.unknown", params={"code": code}, errors=[field_problem(field, location=location, code="area.unknown", params={"code": code})]
            )
        raise NotFound(code="area.unknown", params={"code": code}, errors=[field_problem(field, location=location, code="area.unknown", params={"code": code})])
    return area


async def get_with_ancestors(session: AsyncSession, *, code: str) -> tuple[Area, list[Area]]:
    area = await get(session, code=code, field="code")
    codes = ancestors_of(code)
    found = {a.code: a for a in (await session.scalars(select(Area).where(Area.code.in_(codes)))).all()}
    return area, [found[c] for c in codes if c in found]


async def list_areas(
    session: AsyncSession,
    *,
    page: PageParams,
    parent: str | None = None,
    level: AreaLevel | None = None,
    within: str | None = None,
    q: str | None = None,
) -> tuple[list[Area], str | None]:
    stmt = select(Area)
    if parent is not None:
        await get(session, code=parent, field="parent", location="query")
        stmt = stmt.where(Area.parent_code == parent)
    if within is not None:
        require_code(within, field="area", location="query")
        stmt = stmt.where(in_subtree(Area.code, within))
    if level is not None:
        stmt = stmt.where(Area.level == level.value)
    if q:
        stmt = stmt.where(func.lower(Area.name).contains(q.lower(), autoescape=True))
    return await paginate(session, stmt, keys=[Area.code], page=page)


async def children(session: AsyncSession, *, code: str, page: PageParams) -> tuple[list[Area], str | None]:
    await get(session, code=code, field="code")
    return await paginate(session, select(Area).where(Area.parent_code == code), keys=[Area.code], page=page)


async def create_unit(session: AsyncSession, *, data: AreaCreate, actor: Principal) -> Area:
    """Add an RW below a kelurahan or an RT below an RW."""
    level = require_code(data.code, field="code")
    ensure_area(actor, data.code, field="code")
    if level not in STAFF_LEVELS:
        raise RuleViolation.on_field("code", code="area.official_level", params={"code": data.code, "level": level.value})
    parent_code = parent_of(data.code)
    assert parent_code is not None
    parent = await session.get(Area, parent_code)
    if parent is None:
        params = {"level": "kelurahan" if level == AreaLevel.rw else "rw", "code": parent_code}
        raise NotFound(code="area.parent_missing", params=params, errors=[field_problem("code", code="area.parent_missing", params=params)])
    if await session.get(Area, data.code) is not None:
        raise Conflict(code="area.exists", params={"code": data.code}, errors=[field_problem("code", code="area.exists", params={"code": data.code})])
    number = data.code.rsplit(".", 1)[1]
    area = Area(
        code=data.code,
        name=data.name or f"{level.value.upper()} {number}",
        level=level.value,
        parent_code=parent_code,
        population=data.population,
    )
    session.add(area)
    await session.flush()
    await audit.record(session, actor=actor, action="area.create", entity="area", entity_id=area.code, after=audit.snapshot_of(area))
    return area


async def update_unit(session: AsyncSession, *, code: str, data: AreaUpdate, actor: Principal) -> Area:
    area = await get(session, code=code, field="code")
    ensure_area(actor, code, field="code")
    if "name" in data.model_fields_set and data.name is None:
        raise RuleViolation.on_field("name", code="missing")
    if "name" in data.model_fields_set and data.name != area.name and area.level not in STAFF_LEVELS:
        # Issue #17, item 6: official names are the official list's, not any area scope's.
        raise RuleViolation.on_field("name", code="area.official_name")
    before = audit.snapshot_of(area)
    for name, value in data.model_dump(exclude_unset=True).items():
        setattr(area, name, value)
    await session.flush()
    await audit.record(session, actor=actor, action="area.update", entity="area", entity_id=code, before=before, after=audit.snapshot_of(area))
    return area


def read_official_rows(prefix: str | None = None, path: Path = AREAS_CSV) -> Iterator[dict[str, Any]]:
    """Rows of the official list (optionally one subtree and its ancestors), parents first."""
    wanted_ancestors = set(ancestors_of(prefix)) if prefix else set()
    rows: list[dict[str, Any]] = [{"code": COUNTRY, "name": COUNTRY_NAME, "level": AreaLevel.negara.value, "parent_code": None}]
    with path.open(newline="", encoding="utf-8") as handle:
        for record in csv.DictReader(handle):
            code = record["code"].strip()
            if prefix and not (is_within(code, prefix) or code in wanted_ancestors) or code == COUNTRY:
                continue
            level = level_of(code)
            if level is None:
                raise ValueError(f"{path.name}: '{code}' is not an area code")
            rows.append({"code": code, "name": record["name"].strip(), "level": level.value, "parent_code": parent_of(code)})
    rows.sort(key=lambda row: (depth_of(row["code"]), row["code"]))
    yield from rows


def read_population(path: Path = POPULATION_CSV) -> dict[str, int]:
    with path.open(newline="", encoding="utf-8") as handle:
        return {row["code"]: int(row["total"]) for row in csv.DictReader(handle) if level_of(row["code"])}


async def load_official(connection: AsyncConnection, *, prefix: str | None = None) -> int:
    """Insert or refresh the official areas (and the population known for them); idempotent."""
    if prefix is not None:
        require_code(prefix, field="prefix", location="argument")
    population = read_population()
    table = Area.__table__
    dialect = connection.dialect.name
    stmt = upsert_statement(dialect, table, keys=["code"], update=["name", "level", "parent_code", "population"])
    batch: list[dict[str, Any]] = []
    total = 0
    for row in read_official_rows(prefix):
        row["population"] = population.get(row["code"])
        batch.append(row)
        if len(batch) >= LOAD_BATCH:
            await connection.execute(stmt, batch)
            total += len(batch)
            batch = []
    if batch:
        await connection.execute(stmt, batch)
        total += len(batch)
    if total == 0 and prefix:
        raise RuleViolation.on_field("prefix", location="argument", code="area.not_official", params={"code": prefix})
    return total
