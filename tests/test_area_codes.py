"""Area codes: level, depth, parent and subtree at their boundaries (pure, no database fixture)."""

import itertools

import pytest
from pydantic import TypeAdapter, ValidationError
from sqlalchemy import Column, MetaData, String, Table, create_engine, insert, select

from api import area_codes as codes
from api.types import AreaLevel

_AS_VALIDATED = TypeAdapter(codes.AreaCodeStr)


def _pattern_accepts(code: str) -> bool:
    """AREA_CODE_PATTERN as requests are validated with it (pydantic), not as Python's `re` reads it."""
    try:
        _AS_VALIDATED.validate_python(code)
    except ValidationError:
        return False
    return True


def _candidates() -> list[str]:
    """Every level's code, each segment one digit short, right and one too long, plus strays."""
    segment = {1: "1", 2: "36", 3: "003", 4: "1001", 5: "10015"}
    found = {
        "0",
        "00",
        "1",
        "",
        ".",
        "36.",
        ".36",
        "36..74",
        "36.74.01.1001.003.005.007",
        "3a",
        "36.7x",
        "36.74",
        "36.74.01",
        "36.74.01.1001",
        "36.74.01.1001.003",
        "36.74.01.1001.003.003",
    }
    for depth, digits in enumerate(codes.SEGMENT_DIGITS, start=1):
        choices = [(digits - 1, digits, digits + 1)] * depth
        for lengths in itertools.product(*[c for c in choices]):
            code = ".".join(segment[n] for n in lengths)
            found |= {code, code + "\n", code + " ", "\n" + code}
    return sorted(found)


def test_the_pattern_and_level_of_accept_exactly_the_same_codes() -> None:
    # Kills `\d{4}` -> `\d{3,4}` (or any other width) in either, and a missing `$` in either:
    # "36\n" was accepted by `level_of` (Python's `$` matches before a final newline).
    # Equivalent mutants (make mutate lists them as survivors): `max_length=40` -> 39 or 41 on
    # AreaCodeStr and AreaQuery, since the pattern admits at most 21 characters (an RT code), so
    # the cap never binds; and `1 <= len(parts)` -> `0 <=` in `level_of`, since str.split always
    # gives at least one part.
    disagree = [code for code in _candidates() if _pattern_accepts(code) != (codes.level_of(code) is not None)]
    assert disagree == []
    accepted = [code for code in _candidates() if codes.level_of(code) is not None]
    assert {"0", "36", "36.74", "36.74.01", "36.74.01.1001", "36.74.01.1001.003", "36.74.01.1001.003.003"} <= set(accepted)
    for code in set(accepted) - {"0"}:
        assert [len(part) for part in code.split(".")] == list(codes.SEGMENT_DIGITS[: code.count(".") + 1]), repr(code)


@pytest.mark.parametrize(
    ("code", "level", "depth", "parent"),
    [
        ("0", AreaLevel.negara, 0, None),
        ("36", AreaLevel.provinsi, 1, "0"),
        ("36.74", AreaLevel.kabkota, 2, "36"),
        ("36.74.01", AreaLevel.kecamatan, 3, "36.74"),
        ("36.74.01.1001", AreaLevel.kelurahan, 4, "36.74.01"),
        ("36.74.01.1001.003", AreaLevel.rw, 5, "36.74.01.1001"),
        ("36.74.01.1001.003.005", AreaLevel.rt, 6, "36.74.01.1001.003"),
    ],
)
def test_level_depth_parent_and_ancestors(code: str, level: AreaLevel, depth: int, parent: str | None) -> None:
    assert codes.level_of(code) == level
    assert codes.depth_of(code) == depth  # the country is 0, not 1 (kills the country's depth)
    assert codes.parent_of(code) == parent
    ancestors = codes.ancestors_of(code)
    assert len(ancestors) == depth and (ancestors[-1] if ancestors else None) == parent
    assert all(codes.depth_of(a) == i for i, a in enumerate(ancestors))


def test_is_within_is_by_whole_segments() -> None:
    assert codes.is_within("36.74.01", "0") and codes.is_within("0", "0")
    assert codes.is_within("36.74.01", "36.74") and codes.is_within("36.74", "36.74")
    assert not codes.is_within("36.741", "36.74") and not codes.is_within("36.7", "36.74")
    assert not codes.is_within("36", "36.74")


def test_in_subtree_selects_the_root_and_below_only() -> None:
    engine = create_engine("sqlite://")
    table = Table("a", MetaData(), Column("code", String))
    table.metadata.create_all(engine)
    stored = ["0", "35", "36", "36.71", "36.74", "36.74.01", "36.74.01.1001", "36.74.01.1001.003.005", "36.75", "37"]
    with engine.begin() as conn:
        conn.execute(insert(table), [{"code": c} for c in stored])

        def subtree(root: str) -> list[str]:
            return sorted(conn.scalars(select(table.c.code).where(codes.in_subtree(table.c.code, root))))

        # The country's subtree is everything (kills a country that is only itself).
        assert subtree("0") == sorted(stored)
        assert subtree("36.74") == ["36.74", "36.74.01", "36.74.01.1001", "36.74.01.1001.003.005"]
        assert subtree("36.74.01.1001.003.005") == ["36.74.01.1001.003.005"]
        assert subtree("36") == ["36", "36.71", "36.74", "36.74.01", "36.74.01.1001", "36.74.01.1001.003.005", "36.75"]
    # `column > root + "."` -> `>=` is equivalent: the only value that tells them apart is
    # root + "." itself, which is no well-formed code (`level_of` refuses it, test above). So is
    # `column < root + "/"` -> `<=`: only root + "/" tells them apart, and it is no code either.
    assert codes.level_of("36.74.") is None and codes.level_of("36.74/") is None


def test_require_code_refuses_what_level_of_refuses() -> None:
    assert codes.require_code("36.74.01.1001.003") == AreaLevel.rw
    with pytest.raises(Exception) as raised:
        codes.require_code("36.74.01.100", field="area")
    assert "area code" in str(raised.value.detail)
