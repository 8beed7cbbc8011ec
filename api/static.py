"""The SPA's files, served from memory: pure ASGI, no thread per request.

Starlette's StaticFiles looks each path up and opens each file in a worker thread (two hand-overs
of the GIL per request, which on a busy event loop cost more than the file itself). The frontend
is a few hundred kilobytes of small files, so they are read once and kept, with a gzip copy for
text; each request checks the file's modification time (one stat, no thread), so an edited file is
served at once. Answers carry an ETag and `Cache-Control: no-cache` (the files have no content
hash in their names: browsers revalidate and get 304).
"""

import gzip
import hashlib
import mimetypes
import os
from pathlib import Path

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

COMPRESSIBLE = ("text/", "application/javascript", "application/json", "image/svg+xml")
CACHE_CONTROL = b"no-cache"


class _File:
    __slots__ = ("path", "stamp", "body", "gzipped", "etag", "type")

    def __init__(self, path: Path, stamp: tuple[int, int]) -> None:
        self.path, self.stamp = path, stamp
        self.body = path.read_bytes()
        media = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if media == "text/javascript":
            media = "application/javascript"
        compressible = media.startswith(COMPRESSIBLE)
        self.type = (media + "; charset=utf-8" if compressible and "charset" not in media else media).encode()
        self.gzipped = gzip.compress(self.body, 6, mtime=0) if compressible and len(self.body) > 512 else None
        if self.gzipped is not None and len(self.gzipped) >= len(self.body):
            self.gzipped = None
        self.etag = ('"' + hashlib.blake2b(self.body, digest_size=12).hexdigest() + '"').encode()


class FrontendFiles:
    def __init__(self, directory: Path) -> None:
        self.root = Path(directory).resolve()
        self._files: dict[str, _File] = {}

    def _find(self, path: str) -> tuple[Path, tuple[int, int]] | None:
        relative = os.path.normpath(path.lstrip("/")) if path.strip("/") else "index.html"
        if relative.startswith("..") or os.path.isabs(relative) or "\x00" in relative:
            return None
        for candidate in (self.root / relative, self.root / relative / "index.html"):
            try:
                info = os.stat(candidate)
            except (OSError, ValueError):
                continue
            if os.path.isfile(candidate):
                real = Path(os.path.realpath(candidate))
                if real == self.root or self.root in real.parents:
                    return candidate, (info.st_mtime_ns, info.st_size)
        return None

    def lookup(self, path: str) -> "_File | None":
        """The file for a URL path, read again when it changed on disk; None when there is none."""
        file = self._files.get(path)
        if file is not None:
            try:
                info = os.stat(file.path)
                if (info.st_mtime_ns, info.st_size) == file.stamp:
                    return file
            except OSError:
                pass
        found = self._find(path)
        if found is None:
            self._files.pop(path, None)
            return None
        file = self._files[path] = _File(*found)
        return file

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """As a mount: a missing file or another method is the app's usual 404 or 405 (problem JSON)."""
        if scope["method"] not in ("GET", "HEAD"):
            raise HTTPException(405, headers={"Allow": "GET, HEAD"})
        file = self.lookup(scope["path"])
        if file is None:
            raise HTTPException(404)
        await self.serve(scope, send, file)

    async def serve(self, scope: Scope, send: Send, file: "_File") -> None:
        headers = [(b"etag", file.etag), (b"cache-control", CACHE_CONTROL), (b"vary", b"accept-encoding")]
        request = dict(scope["headers"])
        tags = request.get(b"if-none-match")
        if tags is not None and (tags.strip() == b"*" or file.etag in [t.strip().removeprefix(b"W/") for t in tags.split(b",")]):
            await send({"type": "http.response.start", "status": 304, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        body = file.body
        if file.gzipped is not None and b"gzip" in request.get(b"accept-encoding", b""):
            body = file.gzipped
            headers.append((b"content-encoding", b"gzip"))
        headers += [(b"content-type", file.type), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})


class FrontendFirst:
    """Sends every path that is not the API's, the docs' or the metrics' to the frontend's files at
    once, instead of after trying each of the API's routes (the router tries them in order)."""

    def __init__(self, app: ASGIApp, *, files: FrontendFiles, api_prefix: str, others: tuple[str, ...]) -> None:
        self.app, self.files = app, files
        self.api_prefix, self.others = api_prefix + "/", frozenset(others)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] in ("GET", "HEAD")
            and not scope["path"].startswith(self.api_prefix)
            and scope["path"] not in self.others
        ):
            file = self.files.lookup(scope["path"])
            if file is not None:
                await self.files.serve(scope, send, file)
                return
        await self.app(scope, receive, send)
