"""The SPA's files, served from memory: pure ASGI, no thread per request.

Starlette's StaticFiles looks each path up and opens each file in a worker thread (two hand-overs
of the GIL per request, which on a busy event loop cost more than the file itself). The frontend
is a few hundred kilobytes of small files, so they are read once and kept, with a gzip copy for
text; each request checks the file's modification time (one stat, no thread), so an edited file is
served at once. Answers carry an ETag.

Versioned addresses (there is no build step to put hashes in file names): `index.html` is served
with its references to the app's files (`css/`, `js/`, `vendor/`, `icons/`) rewritten to
`v/<version>/...`, the version being a hash of those files' contents. Since ES modules import each
other by relative paths, every module, view and catalogue is then asked under the same prefix, and
an address that carries the current version is cached for a year (`immutable`): a returning
resident's phone asks for nothing but `index.html`. Anything else (an old version, `index.html`,
`sw.js`, the unversioned paths) is `no-cache`: revalidated, 304 when unchanged.
"""

import gzip
import hashlib
import mimetypes
import os
import re
import time
from pathlib import Path

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

COMPRESSIBLE = ("text/", "application/javascript", "application/json", "image/svg+xml")
CACHE_CONTROL = b"no-cache"
IMMUTABLE = b"public, max-age=31536000, immutable"
VERSIONED = ("css", "js", "vendor", "icons")  # the folders whose files index.html asks by version
VERSION_CHECK_SECONDS = 1.0  # how often the files are looked at for a change of version
_REFERENCE = re.compile(rb'((?:href|src)=")((?:' + "|".join(VERSIONED).encode() + rb")/)")


class _File:
    __slots__ = ("path", "stamp", "body", "gzipped", "etag", "type")

    def __init__(self, path: Path, stamp: tuple[int, int], body: bytes | None = None) -> None:
        self.path, self.stamp = path, stamp
        self.body = path.read_bytes() if body is None else body
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
        self._stamps: dict[str, tuple[int, int]] = {}  # what the version was made of: name -> (mtime, size)
        self._version, self._version_checked = "", -VERSION_CHECK_SECONDS
        self._pages: dict[tuple[str, bytes], _File] = {}  # (version, index.html's etag) -> the page with versioned references

    def version(self) -> str:
        """A hash of the versioned files' contents, looked at again at most once a second (a
        stat per file); read again only when a file's time or size changed."""
        now = time.monotonic()
        if now - self._version_checked < VERSION_CHECK_SECONDS:
            return self._version
        self._version_checked = now
        stamps = {}
        for folder in VERSIONED:
            for path in sorted((self.root / folder).rglob("*")):
                if path.is_file():
                    info = path.stat()
                    stamps[path.relative_to(self.root).as_posix()] = (info.st_mtime_ns, info.st_size)
        if stamps != self._stamps:
            digest = hashlib.blake2b(digest_size=8)
            for name in stamps:
                digest.update(name.encode() + b"\0" + (self.root / name).read_bytes())
            self._stamps, self._version = stamps, digest.hexdigest()
        return self._version

    def resolve(self, path: str) -> "tuple[_File, bytes] | None":
        """The file for a URL path and its Cache-Control; None when there is none."""
        if path.startswith("/v/"):
            version, _, rest = path[3:].partition("/")
            file = self.lookup("/" + rest) if rest.startswith(VERSIONED) else None
            if file is None:
                return None
            # Kept for a year only if this very file is what the version was made of: a file
            # changed since (the version is looked at once a second) must not be kept under it.
            current = version == self.version() and self._stamps.get(os.path.normpath(rest)) == file.stamp
            return file, IMMUTABLE if current else CACHE_CONTROL
        file = self.lookup(path)
        if file is None:
            return None
        if file.path.name == "index.html" and file.path.parent == self.root:
            file = self._page(file)
        return file, CACHE_CONTROL

    def _page(self, index: "_File") -> "_File":
        version = self.version()
        page = self._pages.get((version, index.etag))
        if page is None:
            body = _REFERENCE.sub(rb"\1v/" + version.encode() + rb"/\2", index.body)
            self._pages = {(version, index.etag): (page := _File(index.path, index.stamp, body))}
        return page

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
        found = self.resolve(scope["path"])
        if found is None:
            raise HTTPException(404)
        await self.serve(scope, send, *found)

    async def serve(self, scope: Scope, send: Send, file: "_File", cache_control: bytes = CACHE_CONTROL) -> None:
        headers = [(b"etag", file.etag), (b"cache-control", cache_control), (b"vary", b"accept-encoding")]
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
            found = self.files.resolve(scope["path"])
            if found is not None:
                await self.files.serve(scope, send, *found)
                return
        await self.app(scope, receive, send)
