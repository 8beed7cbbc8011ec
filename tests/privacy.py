"""Personal-data sweep over the test run's own traffic (loaded by tests/conftest.py).

For the whole run, every in-process request to the app (any `httpx.ASGITransport`, whichever
fixture or test built it) and every log line (structlog and the standard `logging` module) is
recorded. The personal values that requests submitted (NIKs, phone numbers, names and addresses of
home visits and tickets, complaint reporters' names and contacts) are collected from the request
bodies. When the run ends, the responses a caller without credentials got, every error response
(401/403/404/409/422/... to anyone) and every log line are searched for those values; a find fails
the run with a report naming the value's kind, the request and the test. Staff reads that succeed
are not searched: staff may see personal data (audited).

Phone numbers are searched in every form: 0812..., +62812..., 62812..., with or without spaces,
dots or dashes between digits. Because the check runs at the end over whatever ran, it holds for a
subset of the tests just as for the whole suite.
"""

import json
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import structlog

MAX_RECORDED_BODY = 1_000_000  # enough for any personal data; tally uploads are not kept whole
MIN_NAME_LENGTH = 4  # shorter names ("Ani") would match ordinary words
PERSONAL_KEYS = {"nik": "NIK", "phone": "phone", "reporter_contact": "reporter contact", "reporter_name": "reporter name"}
# Documents built from code alone: a value found there was published as an example, not leaked.
NOT_SEARCHED = ("/api/v1/openapi.json",)
SEPARATOR = r"[\s.\-]?"


@dataclass
class Secret:
    kind: str
    value: str
    pattern: re.Pattern[str]
    submitted_in: str


@dataclass
class Output:
    label: str
    test: str
    text: str


def _phone_pattern(raw: str) -> re.Pattern[str] | None:
    """All written forms of an Indonesian mobile number, from its national significant number."""
    digits = re.sub(r"\D", "", raw)
    if raw.strip().startswith("+62") or digits.startswith("62"):
        national = digits[2:]
    elif digits.startswith("0"):
        national = digits[1:]
    else:
        return None
    if not (national.startswith("8") and 8 <= len(national) <= 13):
        return None
    return re.compile(r"(?<!\d)(?:\+62|62|0)" + SEPARATOR + SEPARATOR.join(national) + r"(?!\d)")


def _secret(kind: str, raw: Any, where: str) -> Secret | None:
    if not isinstance(raw, str) or not raw.strip():
        return None
    value = raw.strip()
    if kind == "NIK":
        digits = re.sub(r"\D", "", value)
        if len(digits) != 16:
            return None  # not a NIK (the request was refused); nothing personal to protect
        return Secret(kind, digits, re.compile(r"(?<!\d)" + SEPARATOR.join(digits) + r"(?!\d)"), where)
    if kind in ("phone", "reporter contact"):
        phone = _phone_pattern(value)
        if phone is not None:
            return Secret(kind, value, phone, where)
        if kind == "phone" or "@" not in value:
            return None
    elif len(value) < MIN_NAME_LENGTH:
        return None
    return Secret(kind, value, re.compile(r"(?<!\w)" + re.escape(value) + r"(?!\w)", re.IGNORECASE), where)


def personal_values(body: Any, *, path: str, where: str) -> list[Secret]:
    """The personal values in a request's JSON body (nested objects and lists included)."""
    found: list[Secret] = []
    if isinstance(body, list):
        for item in body:
            found.extend(personal_values(item, path=path, where=where))
        return found
    if not isinstance(body, dict):
        return found
    for key, value in body.items():
        if key in PERSONAL_KEYS:
            secret = _secret(PERSONAL_KEYS[key], value, where)
            if secret:
                found.append(secret)
        elif isinstance(value, dict | list):
            found.extend(personal_values(value, path=path, where=where))
    # `name` and `address` are a person's on a home visit (they come with a NIK) and on a walk-in's
    # ticket; a service point's name and address are a public place's.
    if "nik" in body or path.rstrip("/").endswith("/tickets"):
        for key in ("name", "address"):
            secret = _secret(key, body.get(key), where)
            if secret:
                found.append(secret)
    return found


def _readable(text: str) -> str:
    """JSON re-written without \\u escapes, so non-ASCII names are found as written."""
    stripped = text.strip()
    if stripped[:1] in ("{", "[", '"'):
        try:
            return json.dumps(json.loads(stripped), ensure_ascii=False)
        except ValueError:
            pass
    return text


@dataclass
class Collector:
    """What one run (or one test that plants a leak) submitted and exposed."""

    secrets: dict[tuple[str, str], Secret] = field(default_factory=dict)
    outputs: list[Output] = field(default_factory=list)
    requests: int = 0
    test: str = "(outside a test)"

    def request(self, *, method: str, path: str, content_type: str, body: bytes) -> None:
        self.requests += 1
        if "json" not in content_type or not body:
            return
        try:
            data = json.loads(body)
        except ValueError:
            return
        for secret in personal_values(data, path=path, where=f"{method} {path} in {self.test}"):
            self.secrets.setdefault((secret.kind, secret.value), secret)

    def output(self, label: str, text: str, *, path: str = "") -> None:
        if text and path not in NOT_SEARCHED:
            self.outputs.append(Output(label, self.test, text))

    def findings(self) -> list[str]:
        found: list[str] = []
        if not self.secrets:
            return found
        # One pass per output with all values at once; the single patterns only name what matched.
        anything = re.compile("|".join(f"(?:{secret.pattern.pattern})" for secret in self.secrets.values()), re.IGNORECASE)
        for output in self.outputs:
            text = _readable(output.text)
            if not anything.search(text):
                continue
            for secret in self.secrets.values():
                if secret.pattern.search(text):
                    found.append(
                        f"{secret.kind} {secret.value!r} (submitted by {secret.submitted_in}) appears in {output.label} during {output.test}: {text[:300]!r}"
                    )
        return found


# The collectors that currently record; the run's own, or a planting test's alone.
_active: list[Collector] = []


@contextmanager
def only(collector: Collector) -> Iterator[Collector]:
    """Record into `collector` alone for a while (a test that plants leaks on purpose)."""
    saved = list(_active)
    _active[:] = [collector]
    try:
        yield collector
    finally:
        _active[:] = saved


class RecordingApp:
    """ASGI wrapper: hands each request's body and response to the active collectors."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __getattr__(self, name: str) -> Any:
        return getattr(self.app, name)

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not _active:
            await self.app(scope, receive, send)
            return
        headers = {key.lower(): value for key, value in scope.get("headers", [])}
        has_credentials = b"authorization" in headers or b"x-api-key" in headers
        request_body, response_body = bytearray(), bytearray()
        status = 0

        async def recording_receive() -> dict:
            message = await receive()
            if message["type"] == "http.request" and len(request_body) < MAX_RECORDED_BODY:
                request_body.extend(message.get("body", b""))
            return message

        async def recording_send(message: dict) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body" and len(response_body) < MAX_RECORDED_BODY:
                response_body.extend(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, recording_receive, recording_send)
        finally:
            method, path = scope.get("method", "?"), scope.get("path", "?")
            for collector in list(_active):
                collector.request(method=method, path=path, content_type=headers.get(b"content-type", b"").decode("latin-1"), body=bytes(request_body))
                if not has_credentials or status >= 400:
                    who = "staff" if has_credentials else "public"
                    collector.output(f"the {who} response to {method} {path} ({status})", response_body.decode("utf-8", "replace"), path=path)


def _record_log_line(_: Any, __: str, rendered: Any) -> Any:
    """The last structlog processor: sees each line exactly as it is written."""
    text = rendered.decode("utf-8", "replace") if isinstance(rendered, bytes) else str(rendered)
    for collector in list(_active):
        collector.output("a log line", text)
    return rendered


class _LoggingHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record)
        except Exception:
            return
        for collector in list(_active):
            collector.output(f"a log line of {record.name}", text)


def install(collector: Collector) -> None:
    """Hook the run: every ASGITransport's app, every structlog configuration, the root logger."""
    _active[:] = [collector]
    original_init = httpx.ASGITransport.__init__

    def recording_init(self: httpx.ASGITransport, app: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, RecordingApp(app), *args, **kwargs)

    httpx.ASGITransport.__init__ = recording_init  # type: ignore[method-assign]
    original_configure = structlog.configure

    def recording_configure(*args: Any, processors: Any = None, **kwargs: Any) -> None:
        if processors is not None:
            processors = [*processors, _record_log_line]
        original_configure(*args, processors=processors, **kwargs)

    structlog.configure = recording_configure
    logging.getLogger().addHandler(_LoggingHandler())


RUN = Collector()


def pytest_configure(config: pytest.Config) -> None:
    install(RUN)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Any:
    RUN.test = item.nodeid
    try:
        return (yield)
    finally:
        RUN.test = "(between tests)"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    findings = RUN.findings()
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    kinds: dict[str, int] = {}
    for secret in RUN.secrets.values():
        kinds[secret.kind] = kinds.get(secret.kind, 0) + 1
    summary = (
        f"personal-data sweep: {len(RUN.secrets)} personal values ({', '.join(f'{k} {n}' for k, n in sorted(kinds.items())) or 'none'}) "
        f"submitted in {RUN.requests} in-process requests; "
        f"{len(RUN.outputs)} public/error responses and log lines searched"
    )
    if reporter is not None:
        reporter.write("\n")
        reporter.write_sep("-", summary + (f": {len(findings)} LEAK(S)" if findings else ": no leaks"))
        for finding in findings[:50]:
            reporter.write_line("LEAK: " + finding, red=True)
    if findings:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
