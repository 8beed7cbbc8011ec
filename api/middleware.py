"""Pure ASGI middleware (no BaseHTTPMiddleware: it is paid on every request).

Gives each request an id (echoed in `X-Request-ID`, bound into logs and audit entries) and adds
the security headers every response carries, and `Cache-Control: private, no-store` to every API
response that does not set its own: only answers known to be public and the same for everyone
(progress, schedule, service points: api/caching.py) may be kept by browsers and proxies. It also
writes the `Deprecation` headers (api/deprecation.py) and the `RateLimit-Policy` / `RateLimit`
headers of the limits the request met (api/ratelimit.py).
"""

import re
import secrets
import time
from contextvars import ContextVar

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import deprecation, ratelimit
from api.caching import PRIVATE
from api.config import API_PREFIX
from api.metrics import observe_request

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
client_var: ContextVar[str | None] = ContextVar("client", default=None)

_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
log = structlog.get_logger("api.access")

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(self)"),
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        b"connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
    ),
    (b"cross-origin-opener-policy", b"same-origin"),
]
PRIVATE_HEADER = PRIVATE.encode()
# The interactive API docs load their scripts and styles from a CDN and inline a bootstrap script.
DOCS_CSP = (
    b"default-src 'self'; img-src 'self' data: https:; style-src 'self' 'unsafe-inline' https:; "
    b"script-src 'self' 'unsafe-inline' https:; connect-src 'self'; frame-ancestors 'none'"
)


def _route_template(scope: Scope) -> str:
    """The matched route's template (`/api/v1/areas/{code}`), for logs and metrics.

    FastAPI gives a route's path relative to the router it was included with, and every API
    router is included under API_PREFIX.
    """
    path = getattr(scope.get("route"), "path", None)
    if path is None:
        return "(unmatched)"
    if scope["path"].startswith(API_PREFIX + "/") and not path.startswith(API_PREFIX):
        return API_PREFIX + path
    return path


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _VALID_REQUEST_ID.match(incoming) else secrets.token_hex(8)
        client = scope.get("client")
        client_host = client[0] if client else None
        request_token = request_id_var.set(request_id)
        client_token = client_var.set(client_host)
        used: set[str] = set()
        used_token = deprecation.used_var.set(used)
        limits: list[tuple[str, int, int, int, int]] = []
        limits_token = ratelimit.policies_var.set(limits)
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status_holder = {"status": 500}
        is_docs = scope["path"] in ("/docs", "/redoc", "/docs/oauth2-redirect")
        is_api = scope["path"].startswith(API_PREFIX + "/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers.append((b"x-request-id", request_id.encode()))
                for name, value in SECURITY_HEADERS:
                    if name not in present:
                        if name == b"content-security-policy" and is_docs:
                            value = DOCS_CSP
                        headers.append((name, value))
                if is_api and b"cache-control" not in present:
                    headers.append((b"cache-control", PRIVATE_HEADER))
                if is_api and deprecation.applies(scope.get("route"), scope.get("query_string", b""), used):
                    headers.extend(h for h in deprecation.HEADERS if h[0] not in present)
                if limits:
                    policy, state = ratelimit.header_values(limits)
                    headers.append((b"ratelimit-policy", policy))
                    headers.append((b"ratelimit", state))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            # The route's template, never the concrete path or query: they can carry tracking codes.
            route = _route_template(scope)
            seconds = time.perf_counter() - started
            observe_request(scope["method"], route, status_holder["status"], seconds)
            log.info("request", method=scope["method"], path=route, status=status_holder["status"], ms=round(seconds * 1000, 1))
            structlog.contextvars.unbind_contextvars("request_id")
            request_id_var.reset(request_token)
            client_var.reset(client_token)
            deprecation.used_var.reset(used_token)
            ratelimit.policies_var.reset(limits_token)
