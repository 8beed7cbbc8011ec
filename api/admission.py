"""Admission: how many requests one process works on at once (pure ASGI middleware).

Why: a process's requests share one event loop. Every round trip to the database gives the loop
to the others, and the answer waits until each request ready to run has had its turn. With every
request let in, a request's time grows with its round trips times the requests in flight: under
the load mix (bench/bench_load.py, 16 requests per process) a tally post's seven round trips took
about 160 ms at the median and near 300 ms at the 99th percentile, while a read of two took 60 ms,
though the process spent about 10 ms of CPU on the post. Let in a few at a time, first come first
served, the others wait their turn once, before their first step: a turn of the loop is then the
few in flight, and a request's time is the wait plus its own work, about the same for a read and a
write. What the process does per second does not change.

What is counted: HTTP requests that reach the API's routes, from their start until their answer
starts (a stream, e.g. a board's events, leaves its place when its first bytes go out), and for at
most HELD_AT_MOST: a request that takes longer (waiting for a lock another process holds, a large
import, an upload arriving slowly) goes on without its place, so that it never keeps the others
waiting for long. Answers served from memory (the public reads kept by api/fastpath.py, the
frontend's files) are outside: they never wait for anything. `limit` 0 lets everyone in. How long
requests waited is at `/metrics` (`rekam_admission_wait_seconds`).
"""

import asyncio
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.metrics import ADMISSION_WAIT

HELD_AT_MOST = 0.25  # seconds: past what a request takes under load when it waits for nothing else


class Admission:
    def __init__(self, app: ASGIApp, *, limit: int) -> None:
        self.app = app
        self.limit = limit
        # Made in the loop that serves (one per loop: tests run apps in several); FIFO, as asyncio's is.
        self._places: tuple[asyncio.AbstractEventLoop, asyncio.Semaphore] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.limit <= 0:
            await self.app(scope, receive, send)
            return
        loop = asyncio.get_running_loop()
        if self._places is None or self._places[0] is not loop:
            self._places = (loop, asyncio.Semaphore(self.limit))
        places = self._places[1]
        asked = time.perf_counter()
        await places.acquire()
        ADMISSION_WAIT.observe(time.perf_counter() - asked)
        held = True

        def leave() -> None:
            nonlocal held
            if held:
                held = False
                timer.cancel()
                places.release()

        timer = loop.call_later(HELD_AT_MOST, leave)

        async def started(message: Message) -> None:
            if message["type"] == "http.response.start":
                leave()
            await send(message)

        try:
            await self.app(scope, receive, started)
        finally:
            leave()
