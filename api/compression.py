"""Gzip for the API's answers (issue #23: residents on Slow 3G), from the app server itself.

Starlette's GZipMiddleware, pure ASGI, for answers of 1 KB or more to clients that accept gzip
(two weeks of schedule: 30 KB of JSON, under 1 KB gzipped). The frontend's files come gzipped
already (api/static.py) and pass through; event streams are never compressed. Starlette edits
the messages it is sent in place (header list, body), and the public read cache (api/fastpath.py)
replays the messages it keeps: so the compressor is handed copies.
"""

from starlette.datastructures import MutableHeaders
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MINIMUM_SIZE = 1024
LEVEL = 6  # nearly level 9's size at a fraction of its time


class Compression:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.gzip = GZipMiddleware(self._copying, minimum_size=MINIMUM_SIZE, compresslevel=LEVEL)

    async def _copying(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_copy(message: Message) -> None:
            copy = dict(message)
            if "headers" in copy:
                copy["headers"] = list(copy["headers"])
            await send(copy)

        await self.app(scope, receive, send_copy)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        # Public reads gzip themselves and say `Vary: Accept-Encoding` (api/caching.py); Starlette
        # adds it again to every answer it looks at: one `Vary` with each name once.
        async def send_one_vary(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(raw=message["headers"])
                names = dict.fromkeys(name.strip() for value in headers.getlist("vary") for name in value.split(",") if name.strip())
                if names:
                    headers["vary"] = ", ".join(names)
            await send(message)

        await self.gzip(scope, receive, send_one_vary)
