"""A TCP relay on 127.0.0.1 that counts round trips to a database server: each time a connection's
client starts sending after the server answered (or for the first time) is one more. What no
engine event sees is counted too: the driver's BEGIN, the COMMIT, a pipeline's Syncs, a COPY."""

import asyncio
import contextlib
from collections.abc import AsyncIterator

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine


class Relay:
    def __init__(self, url: str) -> None:
        self.target = make_url(url)
        self.trips = 0
        self.server: asyncio.Server | None = None

    async def start(self) -> str:
        """Listen; answers the URL to connect through the relay (the same database)."""
        self.server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        port = int(self.server.sockets[0].getsockname()[1])
        return self.target.set(host="127.0.0.1", port=port).render_as_string(hide_password=False)

    def close(self) -> None:
        if self.server is not None:
            self.server.close()

    async def _relay(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        server_reader, server_writer = await asyncio.open_connection(self.target.host, self.target.port or 5432)
        answered = True

        async def pump(source: asyncio.StreamReader, sink: asyncio.StreamWriter, from_client: bool) -> None:
            nonlocal answered
            try:
                while data := await source.read(65536):
                    if from_client and answered:
                        self.trips += 1
                    answered = not from_client
                    sink.write(data)
                    await sink.drain()
            finally:
                sink.close()

        with contextlib.suppress(asyncio.CancelledError):  # the loop is closing
            await asyncio.gather(pump(client_reader, server_writer, True), pump(server_reader, client_writer, False), return_exceptions=True)


@contextlib.asynccontextmanager
async def counted_engine(url: str, **tables: str) -> AsyncIterator[tuple[Relay, AsyncEngine]]:
    """Rekam's engine (`api.db.create_engine_for`) through a relay, with scratch tables (name=columns)
    made first and dropped at the end."""
    from api.db import create_engine_for

    relay = Relay(url)
    engine = create_engine_for(await relay.start())
    try:
        async with engine.begin() as connection:
            for name, columns in tables.items():
                await connection.execute(text(f"CREATE TABLE {name} ({columns})"))
        yield relay, engine
    finally:
        async with engine.begin() as connection:
            for name in tables:
                await connection.execute(text(f"DROP TABLE IF EXISTS {name}"))
        await engine.dispose()
        relay.close()
