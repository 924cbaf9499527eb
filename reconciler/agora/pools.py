"""The network transport of every Agora client: one TLS context, many small connection pools.

httpcore's pool checks every connection it holds, several times over, whenever it hands out or
takes back a connection, so its bookkeeping grows with the square of its size: one pool of 64
connections spent ~3.9 ms of CPU a request at 50 in flight, 8 pools of 16 ~0.9 ms, 32 pools of 4
~0.7 ms (1,000 creates of ``benchmarks/apply_creates.py``: ~6% less CPU than with 8 of 16). Each
request therefore goes to the least busy of ``SHARDS`` pools of at most ``PER_SHARD`` connections,
the first such one in order, so a few calls at a time keep to the first pools and open about as
many connections as are ever in flight; all are kept alive between calls, so waves of calls
reuse connections instead of closing and reopening them. The TLS context is built once per
process: building one loads the CA bundle (~20 ms), which 50 projects each paid before their
first call. Each pool's connections run on asyncio's own transports
(``network.AsyncioBackend``). It decides nothing about what is sent.
"""

from __future__ import annotations

import functools
import ssl
from collections.abc import AsyncIterator
from typing import Final

import httpcore
import httpx

from reconciler.agora.network import AsyncioBackend

SHARDS: Final = 32
PER_SHARD: Final = 4


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The process's one TLS context; httpx's own rules (``SSL_CERT_FILE``, ``SSL_CERT_DIR``,
    else certifi) choose what it trusts."""
    return httpx.create_ssl_context()


class ShardedTransport(httpx.AsyncBaseTransport):
    """The least busy of several pools, each small enough that its bookkeeping stays cheap.

    A request is busy from when it is sent until its answer is closed. A pool is built on its
    first request, not with the transport, so no pool is built before a client's first call and
    a client with few calls in flight at a time builds few (50 projects' clients built 400 pools
    up front, ~7 ms, before the first call of a pass).
    """

    def __init__(self, *, shards: int = SHARDS, per_shard: int = PER_SHARD) -> None:
        self._limits = httpx.Limits(max_connections=per_shard, max_keepalive_connections=per_shard)
        self._shards: list[httpx.AsyncHTTPTransport | None] = [None] * shards
        self._busy = [0] * shards

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        busy = self._busy
        index = busy.index(min(busy))
        shard = self._shards[index]
        if shard is None:
            shard = self._shards[index] = _shard(self._limits)
        busy[index] += 1
        try:
            response = await shard.handle_async_request(request)
        except BaseException:
            busy[index] -= 1
            raise
        assert isinstance(response.stream, httpx.AsyncByteStream)  # an async pool's answer
        response.stream = _Releasing(response.stream, busy=busy, index=index)
        return response

    async def aclose(self) -> None:
        for shard in self._shards:
            if shard is not None:
                await shard.aclose()


class _Releasing(httpx.AsyncByteStream):
    """An answer's body that marks its pool one request less busy when it is closed, once."""

    def __init__(self, stream: httpx.AsyncByteStream, *, busy: list[int], index: int) -> None:
        self._stream = stream
        self._busy: list[int] | None = busy
        self._index = index

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._stream:
            yield chunk

    async def aclose(self) -> None:
        try:
            await self._stream.aclose()
        finally:
            if self._busy is not None:
                self._busy[self._index] -= 1
                self._busy = None


def _shard(limits: httpx.Limits) -> httpx.AsyncHTTPTransport:
    """httpx's transport, whose pool reaches the network through ``AsyncioBackend``.

    httpx takes no network backend, so its pool is replaced by httpcore's own, built as httpx
    builds it (HTTP/1.1, the process's TLS context, these limits) but for the backend.
    """
    shard = httpx.AsyncHTTPTransport(verify=tls_context(), limits=limits)
    shard._pool = httpcore.AsyncConnectionPool(
        ssl_context=tls_context(),
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        network_backend=AsyncioBackend(),
    )
    return shard
