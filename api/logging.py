"""Structured logs (structlog): JSON lines with the request id; never secrets or personal data.

Callers log ids and counts, not payloads. As a second line of defence, values under keys that
name personal or secret fields are replaced before anything is written.
"""

import logging
import sys

import structlog
from structlog.typing import EventDict

from api.config import Settings
from api.personal_data import PERSONAL_FIELDS

_REDACT = PERSONAL_FIELDS | {"authorization", "token", "access_token", "api_key", "key", "secret"}


def _redact(_: object, __: str, event: EventDict) -> EventDict:
    for key in list(event):
        if key.lower() in _REDACT:
            event[key] = "***"
    return event


def configure_logging(settings: Settings) -> None:
    level = logging.getLevelName(settings.log_level.upper())
    renderer = structlog.processors.JSONRenderer() if settings.log_json else structlog.dev.ConsoleRenderer(colors=False)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _redact,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level if isinstance(level, int) else logging.INFO),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
