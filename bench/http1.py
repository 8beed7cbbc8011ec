"""A minimal HTTP/1.1 keep-alive client for load generators (issue #22).

A benchmark of server latency must not be bound by its client: httpx with 32 concurrent clients
spent a whole core of the 2 in a 5 s `/health` phase, so the figures it printed were largely its
own queueing. This client writes the request bytes on one kept-alive connection and parses the
status line, the headers and a Content-Length (or chunked) body with no further machinery: an
`asyncio.Protocol` per connection, one request at a time on it (no pipelining), run on uvloop
where it is installed (`install_uvloop`).
"""

import asyncio
import json as jsonlib
from typing import Any
from urllib.parse import urlencode


class HTTPError(Exception):
    """A transport failure (connection refused or lost, a timeout, a malformed answer)."""


class Response:
    __slots__ = ("status_code", "headers", "content")

    def __init__(self, status_code: int, headers: dict[str, str], content: bytes) -> None:
        self.status_code, self.headers, self.content = status_code, headers, content

    @property
    def text(self) -> str:
        return self.content.decode(errors="replace")

    def json(self) -> Any:
        return jsonlib.loads(self.content)


def install_uvloop() -> bool:
    """uvloop's event loop for every `asyncio.run` after this, when it is installed."""
    try:
        import uvloop
    except ImportError:
        return False
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    return True


class _Protocol(asyncio.Protocol):
    def __init__(self) -> None:
        self.buffer = bytearray()
        self.waiter: asyncio.Future[Response] | None = None
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.head: tuple[int, dict[str, str]] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(HTTPError(f"connection lost: {exc!r}"))

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if self.waiter is None or self.waiter.done():
            return
        try:
            response = self._parse()
        except (ValueError, IndexError) as exc:
            self.waiter.set_exception(HTTPError(f"malformed answer: {exc!r}"))
            return
        if response is not None:
            self.waiter.set_result(response)

    def _parse(self) -> Response | None:
        buffer = self.buffer
        if self.head is None:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                return None
            lines = bytes(buffer[:end]).decode("latin-1").split("\r\n")
            del buffer[: end + 4]
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            self.head = (int(lines[0].split(" ", 2)[1]), headers)
        status, headers = self.head
        if status in (204, 304) or 100 <= status < 200:
            body = b""
        elif "content-length" in headers:
            size = int(headers["content-length"])
            if len(buffer) < size:
                return None
            body = bytes(buffer[:size])
            del buffer[:size]
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            parsed = _dechunk(buffer)
            if parsed is None:
                return None
            body, used = parsed
            del buffer[:used]
        else:
            raise ValueError("an answer with neither Content-Length nor chunked encoding")
        self.head = None
        return Response(status, headers, body)


def _dechunk(buffer: bytearray) -> tuple[bytes, int] | None:
    """The body and the bytes it used, once the last chunk (and its blank line) is in."""
    body, at = bytearray(), 0
    while True:
        end = buffer.find(b"\r\n", at)
        if end < 0:
            return None
        size = int(bytes(buffer[at:end]).split(b";", 1)[0], 16)
        if size == 0:
            trailer = buffer.find(b"\r\n\r\n", end)
            if trailer < 0 and buffer[end : end + 4] != b"\r\n\r\n":
                return None
            return bytes(body), (trailer if trailer >= 0 else end) + 4
        if len(buffer) < end + 2 + size + 2:
            return None
        body += buffer[end + 2 : end + 2 + size]
        at = end + 2 + size + 2


class Client:
    """One kept-alive connection to `base` (http://host:port), one request at a time; reconnects
    when the server closes it. Not for concurrent use: give each simulated client its own."""

    def __init__(self, base: str, *, timeout: float = 30) -> None:
        host, _, port = base.removeprefix("http://").rstrip("/").partition(":")
        self.host, self.port, self.timeout = host, int(port or 80), timeout
        self.host_header = f"Host: {host}:{self.port}\r\n"
        self.protocol: _Protocol | None = None

    async def _connection(self) -> _Protocol:
        if self.protocol is None or self.protocol.closed:
            loop = asyncio.get_running_loop()
            try:
                _, protocol = await loop.create_connection(_Protocol, self.host, self.port)
            except OSError as exc:
                raise HTTPError(f"cannot connect: {exc!r}") from exc
            self.protocol = protocol
        return self.protocol

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        json: Any = None,
        data: dict[str, str] | None = None,
    ) -> Response:
        if params:
            path = f"{path}?{urlencode(params)}"
        body = b""
        head = f"{method} {path} HTTP/1.1\r\n{self.host_header}"
        if json is not None:
            body = jsonlib.dumps(json, separators=(",", ":")).encode()
            head += "Content-Type: application/json\r\n"
        elif data is not None:
            body = urlencode(data).encode()
            head += "Content-Type: application/x-www-form-urlencoded\r\n"
        if body or method not in ("GET", "HEAD"):
            head += f"Content-Length: {len(body)}\r\n"
        if headers:
            head += "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        protocol = await self._connection()
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[Response] = loop.create_future()
        protocol.waiter = waiter
        assert protocol.transport is not None
        protocol.transport.write((head + "\r\n").encode("latin-1") + body)
        timer = loop.call_later(self.timeout, lambda: waiter.done() or waiter.set_exception(HTTPError(f"no answer within {self.timeout} s")))
        try:
            response = await waiter
        except HTTPError:
            self.close()
            raise
        finally:
            timer.cancel()
            protocol.waiter = None
        if response.headers.get("connection", "").lower() == "close":
            self.close()
        return response

    async def get(self, path: str, **options: Any) -> Response:
        return await self.request("GET", path, **options)

    async def post(self, path: str, **options: Any) -> Response:
        return await self.request("POST", path, **options)

    def close(self) -> None:
        if self.protocol is not None and self.protocol.transport is not None:
            self.protocol.transport.close()
        self.protocol = None
