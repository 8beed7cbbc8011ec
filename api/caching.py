"""HTTP caching of public reads: ETags, 304 Not Modified, Cache-Control, and a small in-process
cache of serialized bodies.

Public dashboards (progress, where and when to go) are refreshed by thousands of people, and the
figures change at most a few times a minute. So:
- a public read carries an ETag and `Cache-Control: public, max-age=15, stale-while-revalidate=15`:
  browsers and the nginx in front (deploy/nginx.conf) reuse it for 15 s, then revalidate (serving
  the stale copy meanwhile for at most 15 s more); a matching `If-None-Match` gets 304, no body;
- progress answers are keyed by what they depend on (campaign, its data version, the query, the
  campaign's date; see api/campaigns/versions.py): the ETag is derived from that key, so a 304 costs
  one read of the campaign row and no computation, and the serialized body is kept per key in a
  bounded LRU cache, so a miss is computed once per process and version;
- everything else (staff views, personal records, live queue state) is `private, no-store` unless
  the endpoint says otherwise (set in api/middleware.py for every API response without its own);
- a kept answer is kept gzipped too, for clients that accept it (nearly all): compressing a
  250 KB progress tree costs 3 ms, more than building it after a change, and api/compression.py
  would do it again on every read. A builder that knows its answer's parts (`Encoded`) gzips it
  from kept compressed chunks (`deflated`, `gzip_member`): after a change only the chunks that
  changed are compressed again.
"""

import hashlib
import struct
import zlib
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable, Iterable
from typing import Any, NamedTuple

import anyio.to_thread
from fastapi import Depends, Request, Response

import api
from api.compression import LEVEL, MINIMUM_SIZE

PUBLIC_READ = "public, max-age=15, stale-while-revalidate=15"
PRIVATE = "private, no-store"

NOT_MODIFIED: dict[int | str, dict[str, Any]] = {304: {"description": "Not modified: `If-None-Match` named the current ETag (no body)."}}


def etag_for(key: Hashable) -> str:
    """A strong ETag for an answer determined by `key` (and the code that builds it: the version of
    Rekam is part of it, so a release that changes an answer's shape never matches an old tag)."""
    return '"' + hashlib.blake2b(repr((api.__version__, key)).encode(), digest_size=12).hexdigest() + '"'


def etag_of_body(body: bytes) -> str:
    return '"b' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


def matches(if_none_match: str | None, etag: str) -> bool:
    """Whether `If-None-Match` names `etag` (weak comparison, as RFC 9110 asks for GET: nginx marks
    tags weak when it compresses a body)."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    wanted = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == wanted for tag in if_none_match.split(","))


class BodyCache:
    """Serialized answers by key, least recently used dropped first, bounded in count and bytes.

    One per app (so per worker process); the keys carry the data version, so an entry can go out of
    date only by being evicted, never by being served after a change."""

    def __init__(self, *, max_entries: int = 256, max_bytes: int = 64 * 1024 * 1024) -> None:
        self.max_entries, self.max_bytes = max_entries, max_bytes
        self._items: OrderedDict[Hashable, bytes] = OrderedDict()
        self._bytes = 0
        # Other per-version values (e.g. the 7-day window sums of progress), few and small.
        self.values: OrderedDict[Hashable, Any] = OrderedDict()

    def get(self, key: Hashable) -> bytes | None:
        body = self._items.get(key)
        if body is not None:
            self._items.move_to_end(key)
        return body

    def put(self, key: Hashable, body: bytes) -> None:
        if len(body) > self.max_bytes // 4:
            return  # one huge answer must not push out every other
        old = self._items.pop(key, None)
        if old is not None:
            self._bytes -= len(old)
        self._items[key] = body
        self._bytes += len(body)
        while len(self._items) > self.max_entries or self._bytes > self.max_bytes:
            _, dropped = self._items.popitem(last=False)
            self._bytes -= len(dropped)

    def value(self, key: Hashable) -> Any:
        return self.values.get(key)

    def keep_value(self, key: Hashable, value: Any, *, limit: int = 64) -> None:
        self.values[key] = value
        self.values.move_to_end(key)
        while len(self.values) > limit:
            self.values.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)


async def get_read_cache(request: Request) -> BodyCache:
    cache = getattr(request.app.state, "read_cache", None)
    if cache is None:
        cache = request.app.state.read_cache = BodyCache()
    return cache


ReadCacheDep = Depends(get_read_cache)


class Encoded(NamedTuple):
    """A built answer and the means to gzip it cheaper than compressing it whole (on demand: only
    for clients that accept gzip), with how many of its bytes that still compresses."""

    body: bytes
    gzipped: Callable[[], bytes]
    fresh: int


def deflated(chunk: bytes) -> bytes:
    """`chunk` compressed on its own as raw deflate blocks, none final, ending on a byte boundary
    (a sync flush): such pieces joined in order are one valid deflate stream of the chunks joined,
    since none refers back to data before its own start."""
    compressor = zlib.compressobj(LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(chunk) + compressor.flush(zlib.Z_SYNC_FLUSH)


# RFC 1952: magic, deflate, no flags, no time, no extra flags, unknown OS.
_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
_FINAL_EMPTY_BLOCK = b"\x03\x00"  # a final fixed-Huffman block holding only its end code


def gzip_member(pieces: Iterable[bytes], body: bytes) -> bytes:
    """The gzip form of `body`, given it as `deflated` pieces of its consecutive chunks."""
    trailer = struct.pack("<II", zlib.crc32(body), len(body) & 0xFFFFFFFF)
    return b"".join([_GZIP_HEADER, *pieces, _FINAL_EMPTY_BLOCK, trailer])


# Bodies of at least this size are compressed off the event loop (Starlette's GZipMiddleware's own line).
_THREAD_MINIMUM = 128 * 1024


async def _gzipped(body: bytes) -> bytes:
    if len(body) < _THREAD_MINIMUM:
        return gzip_member([deflated(body)], body)
    return await anyio.to_thread.run_sync(lambda: gzip_member([deflated(body)], body))


def accepts_gzip(request: Request) -> bool:
    return "gzip" in request.headers.get("accept-encoding", "")  # as api/compression.py decides


async def versioned(
    request: Request,
    cache: BodyCache,
    *,
    key: Hashable,
    build: Callable[[], Awaitable[bytes | Encoded]],
    media_type: str,
    headers: dict[str, str] | None = None,
) -> Response:
    """The answer for `key`: 304 when the client holds it, else from the cache or built once;
    gzipped (and the gzip form kept beside it) for clients that accept it, as api/compression.py
    would, which lets an answer that already carries its encoding through."""
    cache_headers = {"ETag": etag_for(key), "Cache-Control": PUBLIC_READ}
    if matches(request.headers.get("if-none-match"), cache_headers["ETag"]):
        return Response(status_code=304, headers=cache_headers)
    extra = {**cache_headers, **(headers or {}), "Vary": "Accept-Encoding"}
    gzip = accepts_gzip(request)
    zipped = cache.get(("gzip", key)) if gzip else None
    if zipped is not None:
        return Response(zipped, media_type=media_type, headers={**extra, "Content-Encoding": "gzip"})
    body = cache.get(key)
    encoded: Encoded | None = None
    if body is None:
        built = await build()
        encoded, body = (built, built.body) if isinstance(built, Encoded) else (None, built)
        cache.put(key, body)
    if not gzip or len(body) < MINIMUM_SIZE:
        return Response(body, media_type=media_type, headers=extra)
    if encoded is None:
        zipped = await _gzipped(body)
    elif encoded.fresh < _THREAD_MINIMUM:
        zipped = encoded.gzipped()
    else:  # e.g. a large tree's first read: off the event loop, as a whole body would be
        zipped = await anyio.to_thread.run_sync(encoded.gzipped)
    cache.put(("gzip", key), zipped)
    return Response(zipped, media_type=media_type, headers={**extra, "Content-Encoding": "gzip"})


def hashed(request: Request, body: bytes, *, media_type: str) -> Response:
    """A public answer validated by a hash of its body: saves the transfer, not the computation."""
    cache_headers = {"ETag": etag_of_body(body), "Cache-Control": PUBLIC_READ}
    if matches(request.headers.get("if-none-match"), cache_headers["ETag"]):
        return Response(status_code=304, headers=cache_headers)
    return Response(body, media_type=media_type, headers=cache_headers)
