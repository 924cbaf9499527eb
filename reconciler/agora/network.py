"""httpcore's network backend on asyncio's own transports, with no anyio layer in between.

By default httpx reaches the network through anyio. Every read and write opens a cancel scope,
and whenever the pool looks at an idle connection, anyio rebuilds the socket's attribute table,
with a ``getpeername()`` call, to learn whether the server has closed it. On the create path
that came to ~0.5 of the ~1.9 ms of CPU a request cost (``benchmarks/apply_creates.py``). Here
a connection keeps what it has received in its own buffer, so whether an idle connection is still
good is a field read, a read that finds bytes waiting returns at once, and timeouts are asyncio's.

It carries bytes and nothing else: HTTP is still httpcore's, and pooling and TLS verification
are still httpx's and httpcore's, with the same context.
"""

# ruff: noqa: ASYNC109 (httpcore's interface passes each timeout as a parameter)

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Iterable
from typing import Any, Final

import httpcore

# Bytes received and not yet read past which the socket stops reading, and the mark it resumes
# at: a body larger than the client will take (``capped``) waits in the kernel, not in memory.
_HIGH_WATER: Final = 256 * 1024
_LOW_WATER: Final = _HIGH_WATER // 2
# What httpcore asks a stream for, by the names asyncio's transports give it.
_TRANSPORT_INFO: Final = {
    "ssl_object": "ssl_object",
    "client_addr": "sockname",
    "server_addr": "peername",
    "socket": "socket",
}


class _Connection(asyncio.Protocol):
    """One connection's received bytes, whether it has ended, and its write flow control."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self._received = bytearray()
        self._ended = False
        self._lost: Exception | None = None
        self._reading: asyncio.Future[None] | None = None
        self._writable: asyncio.Future[None] | None = None
        self._paused = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self._received += data
        if not self._paused and len(self._received) > _HIGH_WATER and self.transport:
            self._paused = True
            self.transport.pause_reading()
        self._wake(self._reading)

    def eof_received(self) -> bool:
        self._ended = True
        self._wake(self._reading)
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self._ended = True
        self._lost = exc
        self._wake(self._reading)
        self._wake(self._writable)

    def pause_writing(self) -> None:
        self._writable = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        self._wake(self._writable)
        self._writable = None

    @property
    def ended(self) -> bool:
        return self._ended

    @property
    def readable(self) -> bool:
        """Whether a read would return now: bytes are waiting, or the peer has gone."""
        return bool(self._received) or self._ended

    async def receive(self, max_bytes: int) -> bytes:
        """Up to ``max_bytes`` received bytes; ``b""`` once the peer has closed."""
        while not self._received and not self._ended:
            self._reading = asyncio.get_running_loop().create_future()
            try:
                await self._reading
            finally:
                self._reading = None
        if not self._received:
            if self._lost is not None:
                raise ConnectionError(f"the connection was lost: {self._lost}") from self._lost
            return b""
        data = bytes(self._received[:max_bytes])
        del self._received[:max_bytes]
        if self._paused and len(self._received) <= _LOW_WATER and self.transport:
            self._paused = False
            self.transport.resume_reading()
        return data

    async def drain(self) -> None:
        """Wait until the transport takes more bytes; fail if the connection is gone."""
        if self._writable is not None:
            # Shielded: a drain that times out must not cancel the future later drains wait on.
            await asyncio.shield(self._writable)
        if self._ended and self._lost is not None:
            raise ConnectionError(f"the connection was lost: {self._lost}") from self._lost

    @staticmethod
    def _wake(waiter: asyncio.Future[None] | None) -> None:
        if waiter is not None and not waiter.done():
            waiter.set_result(None)


class AsyncioStream(httpcore.AsyncNetworkStream):
    """A connection as httpcore reads and writes it, its failures as httpcore's exceptions."""

    def __init__(self, connection: _Connection) -> None:
        self._connection = connection

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        connection = self._connection
        try:
            if connection.readable:
                return await connection.receive(max_bytes)
            async with asyncio.timeout(timeout):
                return await connection.receive(max_bytes)
        except TimeoutError as exc:
            raise httpcore.ReadTimeout(f"no answer within {timeout} s") from exc
        except OSError as exc:
            raise httpcore.ReadError(str(exc)) from exc

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        transport = self._connection.transport
        if transport is None or transport.is_closing() or self._connection.ended:
            raise httpcore.WriteError("the connection is closed")
        transport.write(buffer)
        try:
            async with asyncio.timeout(timeout):
                await self._connection.drain()
        except TimeoutError as exc:
            raise httpcore.WriteTimeout(f"could not send within {timeout} s") from exc
        except OSError as exc:
            raise httpcore.WriteError(str(exc)) from exc

    async def aclose(self) -> None:
        if self._connection.transport is not None:
            self._connection.transport.close()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        connection = self._connection
        assert connection.transport is not None
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                secured = await loop.start_tls(
                    connection.transport, connection, ssl_context, server_hostname=server_hostname
                )
        except TimeoutError as exc:
            await self.aclose()
            raise httpcore.ConnectTimeout(f"no TLS handshake within {timeout} s") from exc
        except OSError as exc:
            await self.aclose()
            raise httpcore.ConnectError(str(exc)) from exc
        assert isinstance(secured, asyncio.Transport)
        connection.transport = secured
        return self

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":
            return self._connection.readable
        transport = self._connection.transport
        if transport is None or transport.is_closing():
            return None  # a closed TLS transport fails when asked, rather than answer None
        asked = _TRANSPORT_INFO.get(info)
        return transport.get_extra_info(asked) if asked else None


class AsyncioBackend(httpcore.AsyncNetworkBackend):
    """Opens TCP connections on the running asyncio loop (asyncio sets ``TCP_NODELAY``)."""

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                transport, connection = await loop.create_connection(
                    _Connection,
                    host,
                    port,
                    local_addr=(local_address, 0) if local_address else None,
                )
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"no connection within {timeout} s") from exc
        except OSError as exc:
            raise httpcore.ConnectError(str(exc)) from exc
        sock = transport.get_extra_info("socket")
        for option in socket_options or ():
            sock.setsockopt(*option)
        return AsyncioStream(connection)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
