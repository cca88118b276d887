"""A database that goes away, for tests: a TCP relay between the app and PostgreSQL that the test can cut (the
server unreachable: connections dropped, new ones refused) or freeze (connections open, nothing answered), and
put back. The shared PostgreSQL server itself is never touched."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.engine import make_url


class Relay:
    """Listens on a free local port and relays each connection to `target_port`."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.server: asyncio.Server | None = None
        self.port = 0
        self.links: set[asyncio.Task[None]] = set()
        self.flowing = asyncio.Event()
        self.flowing.set()

    async def open(self) -> None:
        self.server = await asyncio.start_server(self._link, "127.0.0.1", self.port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        """Unreachable: the listening socket closed (connections refused) and every relayed connection dropped."""
        assert self.server is not None
        self.server.close()
        for link in list(self.links):
            link.cancel()
        await asyncio.gather(*self.links, return_exceptions=True)
        await self.server.wait_closed()
        self.server = None

    def freeze(self) -> None:
        """Hanging: connections stay open but no byte goes through either way (a server stopped by SIGSTOP)."""
        self.flowing.clear()

    def thaw(self) -> None:
        self.flowing.set()

    def url(self, database_url: str) -> str:
        """`database_url` through this relay."""
        return make_url(database_url).set(host="127.0.0.1", port=self.port).render_as_string(hide_password=False)

    async def _link(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.links.add(task)
        try:
            server_reader, server_writer = await asyncio.open_connection(*self.target)
        except OSError:
            client_writer.close()
            self.links.discard(task)
            return
        try:
            await asyncio.gather(self._pipe(client_reader, server_writer), self._pipe(server_reader, client_writer))
        finally:
            for writer in (client_writer, server_writer):
                writer.transport.abort()
            self.links.discard(task)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(65536):
            await self.flowing.wait()
            writer.write(data)
            await writer.drain()
        with contextlib.suppress(OSError):
            writer.write_eof()


@asynccontextmanager
async def relay_to(database_url: str) -> AsyncIterator[Relay]:
    parsed = make_url(database_url)
    relay = Relay(parsed.host or "127.0.0.1", parsed.port or 5432)
    await relay.open()
    try:
        yield relay
    finally:
        relay.thaw()
        if relay.server is not None:
            await relay.cut()
