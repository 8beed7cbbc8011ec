"""Types shared by several domains: the campaign's vocabulary (area levels, staff roles) and pydantic types.

The enums live here, below every domain, because rules everywhere speak of them: a principal's
role, an area code's level. Their tables (api.areas.models, api.auth.models) store their values.
"""

from datetime import date, time
from enum import StrEnum
from typing import Annotated

from pydantic import Field, PlainSerializer, WithJsonSchema


class AreaLevel(StrEnum):
    negara = "negara"
    provinsi = "provinsi"
    kabkota = "kabkota"
    kecamatan = "kecamatan"
    kelurahan = "kelurahan"
    rw = "rw"
    rt = "rt"


LEVELS = list(AreaLevel)


class Role(StrEnum):
    admin = "admin"
    supervisor = "supervisor"
    operator = "operator"
    viewer = "viewer"
    handler = "handler"  # handles fee complaints


# A wall-clock time in the campaign's time zone ("09:30"). JSON Schema's "time" format demands a
# UTC offset, which a local opening hour or visit window does not have, so it is a pattern.
LocalTime = Annotated[
    time,
    PlainSerializer(lambda value: value.strftime("%H:%M"), return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$", "examples": ["09:30"]}),
]

# A date a person enters (a campaign's start and deadline, a placement, a closure, a snapshot...):
# bounded so that 0001-01-01 or 9999-12-31 is a 422 instead of years of days for the server to
# enumerate (issue #17, item 13). Rules relative to today (not in the future, not before the
# campaign) are the services'.
FIRST_DATE = date(2000, 1, 1)
LAST_DATE = date(2100, 12, 31)
# The window is published in the OpenAPI document as `formatMinimum`/`formatMaximum` (JSON Schema's
# vocabulary for bounds of formatted strings); query parameters use it too (`from`, `to`, `date`...).
BoundedDate = Annotated[
    date,
    Field(
        ge=FIRST_DATE,
        le=LAST_DATE,
        json_schema_extra={"formatMinimum": FIRST_DATE.isoformat(), "formatMaximum": LAST_DATE.isoformat()},
    ),
]
