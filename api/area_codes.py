"""Area codes: a code's dots give its level and its parent.

`0` is the whole country (as in the population list), `36` a province, `36.74` a kabupaten/kota,
`36.74.01` a kecamatan, `36.74.01.1001` a kelurahan/desa, `36.74.01.1001.003` an RW and
`36.74.01.1001.003.005` an RT. Pure functions, used by every domain and by the access policy.
"""

import re
from typing import Annotated, Any

from fastapi import Query
from pydantic import StringConstraints
from sqlalchemy import ColumnElement, and_, or_, true

from api.errors import RuleViolation, explain_pattern
from api.types import LEVELS, AreaLevel

# Digits of each segment, by level: province 2, regency 2, district 2, village 4, RW 3, RT 3.
SEGMENT_DIGITS = (2, 2, 2, 4, 3, 3)
_SEGMENT = [re.compile(rf"^[0-9]{{{n}}}$") for n in SEGMENT_DIGITS]
STAFF_LEVELS = (AreaLevel.rw, AreaLevel.rt)
COUNTRY = "0"
KECAMATAN_DEPTH = LEVELS.index(AreaLevel.kecamatan)  # 36.74.01: where devices, offices and tallies are counted
# For OpenAPI and request validation; `level_of` says the same in code.
# ASCII digits only: `\d` also matches fullwidth and Arabic-Indic digits, look-alike twins (issue #17, item 5).
AREA_CODE_PATTERN = r"^(0|[0-9]{2}(\.[0-9]{2}(\.[0-9]{2}(\.[0-9]{4}(\.[0-9]{3}(\.[0-9]{3})?)?)?)?)?)$"
explain_pattern(AREA_CODE_PATTERN, "area.not_code")  # what a request validation error says
AreaCodeStr = Annotated[str, StringConstraints(pattern=AREA_CODE_PATTERN, max_length=40)]
# The `area` filter of list endpoints: this area and its subtree.
AreaQuery = Annotated[str | None, Query(pattern=AREA_CODE_PATTERN, max_length=40, description="An area code: this area and its subtree.")]
COUNTRY_NAME = "Indonesia"


def level_of(code: str) -> AreaLevel | None:
    """The level a code denotes, or None when it is not a well-formed area code."""
    if code == COUNTRY:
        return AreaLevel.negara
    parts = code.split(".")
    if not 1 <= len(parts) <= len(SEGMENT_DIGITS):
        return None
    if not all(_SEGMENT[i].fullmatch(part) for i, part in enumerate(parts)):
        return None
    return LEVELS[len(parts)]


def depth_of(code: str) -> int:
    """0 for the country, 1 for a province, ... 6 for an RT."""
    return 0 if code == COUNTRY else code.count(".") + 1


def parent_of(code: str) -> str | None:
    if code == COUNTRY:
        return None
    return code.rsplit(".", 1)[0] if "." in code else COUNTRY


def ancestors_of(code: str) -> list[str]:
    """Codes from the country down to the parent."""
    if code == COUNTRY:
        return []
    parts = code.split(".")
    return [COUNTRY] + [".".join(parts[:i]) for i in range(1, len(parts))]


def is_within(code: str, root: str) -> bool:
    return root == COUNTRY or code == root or code.startswith(root + ".")


def in_subtree(column: Any, root: str) -> ColumnElement[bool]:
    """`column` is `root` or below it, as one index range: '.' sorts just before '/'."""
    if root == COUNTRY:
        return true()
    return or_(column == root, and_(column > root + ".", column < root + "/"))


def require_code(code: str, *, field: str = "area", location: str = "body") -> AreaLevel:
    level = level_of(code)
    if level is None:
        raise RuleViolation.on_field(field, location=location, code="area.not_code")
    return level
