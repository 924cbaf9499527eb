"""The network transport of every Agora client: one TLS context, several small connection pools.

httpcore's pool checks every connection it holds, with a system call each, whenever it hands
out or takes back a connection, so one pool of 50 connections spends more CPU per request than
the request itself (``benchmarks/apply_creates.py``). Requests are therefore spread round-robin
over ``SHARDS`` pools of at most ``PER_SHARD`` connections each, all kept alive between calls, so
waves of concurrent calls reuse connections instead of closing and reopening them. The TLS
context is built once per process: building one loads the CA bundle (~20 ms), which 50 projects
each paid before their first call. Each pool's connections run on asyncio's own transports
(``network.AsyncioBackend``). It decides nothing about what is sent.
"""

from __future__ import annotations

import functools
import itertools
import ssl
from typing import Final

import httpcore
import httpx

from reconciler.agora.network import AsyncioBackend

SHARDS: Final = 8
PER_SHARD: Final = 16


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The process's one TLS context; httpx's own rules (``SSL_CERT_FILE``, ``SSL_CERT_DIR``,
    else certifi) choose what it trusts."""
    return httpx.create_ssl_context()


class ShardedTransport(httpx.AsyncBaseTransport):
    """Round-robin over several pools, each small enough that its bookkeeping stays cheap.

    A pool is built on its first request, not with the transport, so no pool is built before a
    client's first call and a client that makes fewer calls than there are shards never builds
    them all (50 projects' clients built 400 pools up front, ~7 ms, before the first call of a
    pass). Requests still go round the shards in turn, so a client's first ``SHARDS`` calls each
    build one.
    """

    def __init__(self, *, shards: int = SHARDS, per_shard: int = PER_SHARD) -> None:
        self._limits = httpx.Limits(max_connections=per_shard, max_keepalive_connections=per_shard)
        self._shards: list[httpx.AsyncHTTPTransport | None] = [None] * shards
        self._next = itertools.cycle(range(shards))

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        index = next(self._next)
        shard = self._shards[index]
        if shard is None:
            shard = self._shards[index] = _shard(self._limits)
        return await shard.handle_async_request(request)

    async def aclose(self) -> None:
        for shard in self._shards:
            if shard is not None:
                await shard.aclose()


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
