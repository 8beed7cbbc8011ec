import pytest
from pydantic import ValidationError
from sqlalchemy import func, select

from api import area_codes as codes
from api.areas import service as areas
from api.areas.models import Area
from api.areas.schemas import AreaCreate
from api.errors import Conflict, Forbidden, NotFound, RuleViolation
from api.types import AreaLevel, Role
from tests.factories import principal

ADMIN = principal(Role.admin)


@pytest.mark.parametrize(
    ("code", "level"),
    [
        ("0", AreaLevel.negara),
        ("36", AreaLevel.provinsi),
        ("36.74", AreaLevel.kabkota),
        ("36.74.01", AreaLevel.kecamatan),
        ("36.74.01.1001", AreaLevel.kelurahan),
        ("36.74.01.1001.003", AreaLevel.rw),
        ("36.74.01.1001.003.005", AreaLevel.rt),
        ("36.74.1", None),
        ("36.74.01.100", None),
        ("36.74.01.1001.3", None),
        ("x", None),
        ("", None),
        ("36.74.01.1001.003.005.001", None),
    ],
)
def test_level_of(code: str, level: AreaLevel | None) -> None:
    assert codes.level_of(code) == level


def test_ancestors_and_parent() -> None:
    assert codes.ancestors_of("36.74.01.1001") == ["0", "36", "36.74", "36.74.01"]
    assert codes.parent_of("36") == "0"
    assert codes.parent_of("0") is None
    assert codes.is_within("36.74.01", "36.74") and not codes.is_within("36.741", "36.74")
    assert codes.is_within("36.74", "0")


async def test_official_areas_loaded_for_tangsel(session) -> None:
    kecamatan = (await session.scalars(select(Area).where(Area.parent_code == "36.74").order_by(Area.code))).all()
    assert [k.name for k in kecamatan] == ["Serpong", "Serpong Utara", "Pondok Aren", "Ciputat", "Ciputat Timur", "Pamulang", "Setu"]
    kelurahan = await session.scalar(select(func.count()).select_from(Area).where(codes.in_subtree(Area.code, "36.74"), Area.level == "kelurahan"))
    assert kelurahan == 54


async def test_subtree_filter_does_not_match_sibling_prefixes(session) -> None:
    session.add(Area(code="36.75", name="Sibling", level="kabkota", parent_code="36"))
    await session.flush()
    inside = (await session.scalars(select(Area.code).where(codes.in_subtree(Area.code, "36.7")))).all()
    assert inside == []
    serpong = (await session.scalars(select(Area.code).where(codes.in_subtree(Area.code, "36.74.01")))).all()
    assert "36.74.01" in serpong and all(c.startswith("36.74.01") for c in serpong) and len(serpong) == 10


async def test_create_rw_and_rt(session) -> None:
    rw = await areas.create_unit(session, data=AreaCreate(code="36.74.01.1001.003"), actor=ADMIN)
    assert rw.level == "rw" and rw.name == "RW 003" and rw.parent_code == "36.74.01.1001"
    rt = await areas.create_unit(session, data=AreaCreate(code="36.74.01.1001.003.005", name="RT 5 Ciater"), actor=ADMIN)
    assert rt.level == "rt" and rt.parent_code == rw.code


async def test_create_unit_rules(session) -> None:
    with pytest.raises(RuleViolation):
        await areas.create_unit(session, data=AreaCreate(code="36.74.01.9999"), actor=ADMIN)
    with pytest.raises(NotFound):
        await areas.create_unit(session, data=AreaCreate(code="36.74.01.1001.003.005"), actor=ADMIN)
    with pytest.raises(ValidationError):
        AreaCreate(code="36.74.01.1001.3")
    await areas.create_unit(session, data=AreaCreate(code="36.74.01.1001.004"), actor=ADMIN)
    with pytest.raises(Conflict):
        await areas.create_unit(session, data=AreaCreate(code="36.74.01.1001.004"), actor=ADMIN)
    with pytest.raises(Forbidden):
        await areas.create_unit(session, data=AreaCreate(code="36.74.07.1001.001"), actor=principal(Role.supervisor, area="36.74.01"))


async def test_load_official_is_idempotent(engine) -> None:
    async with engine.begin() as connection:
        first = await areas.load_official(connection, prefix="36.74.01")
        second = await areas.load_official(connection, prefix="36.74.01")
    assert first == second == 1 + 1 + 1 + 1 + 9  # country, province, city, kecamatan, 9 kelurahan


def test_official_rows_parents_first() -> None:
    rows = list(areas.read_official_rows())
    assert len(rows) == 91_599 + 1  # the country row is added
    seen: set[str] = set()
    for row in rows:
        assert row["parent_code"] is None or row["parent_code"] in seen
        seen.add(row["code"])
