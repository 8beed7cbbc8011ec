"""Pydantic types shared by several domains' schemas."""

from datetime import time
from typing import Annotated

from pydantic import PlainSerializer, WithJsonSchema

# A wall-clock time in the campaign's time zone ("09:30"). JSON Schema's "time" format demands a
# UTC offset, which a local opening hour or visit window does not have, so it is a pattern.
LocalTime = Annotated[
    time,
    PlainSerializer(lambda value: value.strftime("%H:%M"), return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$", "examples": ["09:30"]}),
]
