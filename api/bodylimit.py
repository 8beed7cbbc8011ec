"""Request body limits, per route, enforced before a body is read whole (pure ASGI middleware).

Every request with a body is held to the limit of its route (`LIMITS`, first match wins):
- public forms (home-visit requests, complaints, tracking messages, tickets, appointments,
  sign-in): `PUBLIC_FORM` (16 KiB: the longest form, a complaint, is 5,000 characters of
  text, up to 4 bytes each in UTF-8, with its other fields);
- official targets (`PUT /campaigns/{id}/targets`, read whole by its router): 8 MiB;
- everything else: `DEFAULT` (64 KiB of JSON);
- tally uploads (`POST /campaigns/{id}/tallies`) are exempt: they stream, with their own limits
  (api/tallies/parsing.py).

A declared Content-Length over the limit is refused (413 problem+json) without reading a byte;
a body without one (chunked) is counted as it arrives, and the chunk that crosses the limit
raises a 413 inside the app, so the endpoint never sees more than the limit.
"""

import re

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import messages
from api.config import API_PREFIX
from api.errors import language_of, problem_response

KIB = 1024
DEFAULT = 64 * KIB
PUBLIC_FORM = 16 * KIB
TARGETS = 8 * 1024 * 1024  # the targets router's own limit (MAX_TARGETS_BODY)
UNLIMITED = None

_P = re.escape(API_PREFIX)
# (method, path pattern, limit in bytes or None for "the route limits itself while streaming").
LIMITS: list[tuple[str, re.Pattern[str], int | None]] = [
    ("POST", re.compile(rf"^{_P}/campaigns/[^/]+/tallies/?$"), UNLIMITED),
    ("PUT", re.compile(rf"^{_P}/campaigns/[^/]+/targets/?$"), TARGETS),
    ("POST", re.compile(rf"^{_P}/home-visits/?$"), PUBLIC_FORM),
    ("POST", re.compile(rf"^{_P}/complaints/?$"), PUBLIC_FORM),
    ("POST", re.compile(rf"^{_P}/complaints/track/[^/]+/messages/?$"), PUBLIC_FORM),
    ("POST", re.compile(rf"^{_P}/service-points/[^/]+/(tickets|appointments)(/.*)?$"), PUBLIC_FORM),
    ("POST", re.compile(rf"^{_P}/appointments/[^/]+/[^/]+/?$"), PUBLIC_FORM),
    ("POST", re.compile(rf"^{_P}/auth/token/?$"), PUBLIC_FORM),
]


def limit_for(method: str, path: str) -> int | None:
    for route_method, pattern, limit in LIMITS:
        if method == route_method and pattern.match(path):
            return limit
    return DEFAULT


class BodyTooLarge(HTTPException):
    """Raised from `receive` when a streamed body crosses its limit (rendered as problem+json).

    An HTTPException, not a DomainError: FastAPI's body parsing turns any other exception from
    `receive` into a 400. The handler reads its code and params."""

    code = "body.too_large"

    def __init__(self, limit: int) -> None:
        super().__init__(status_code=413, detail=messages.render(self.code, {"limit": limit}, "en"))
        self.params = {"limit": limit}


class BodySizeLimitMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        limit = limit_for(scope["method"], scope["path"])
        if limit is None:
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared < 0 or declared > limit:
                    status = 413 if declared > limit else 400
                    code, params = ("body.too_large", {"limit": limit}) if status == 413 else ("body.length_invalid", None)
                    # Connection: close, so that the unread body is not taken for the next request.
                    response = problem_response(
                        status,
                        slug="payload-too-large" if status == 413 else None,
                        code=code,
                        params=params,
                        headers={"Connection": "close"},
                        lang=language_of(scope["headers"]),
                    )
                    await response(scope, receive, send)
                    return
                break
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, counting_receive, send)
