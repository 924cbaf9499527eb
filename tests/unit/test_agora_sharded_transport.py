"""The sharded transport answers through the least busy of its pools, built as they are needed,
and closes cleanly. It is looked at from inside (which pools exist, how busy each is), since which
pool a request took is invisible on the wire."""

from __future__ import annotations

import asyncio
import contextlib
import socket

import httpx
import pytest

from reconciler.agora import pools
from reconciler.emulator import EmulatorConfig, running_server


async def test_requests_spread_over_pools_built_as_they_are_first_needed() -> None:
    with running_server(EmulatorConfig()) as url:
        transport = pools.ShardedTransport(shards=4, per_shard=2)
        async with httpx.AsyncClient(transport=transport, base_url=url) as http:
            first = await http.get("/_emulator/clock")
            assert first.status_code == 200
            rest = await asyncio.gather(*(http.get("/_emulator/clock") for _ in range(9)))
            assert all(response.status_code == 200 for response in rest)


async def test_a_transport_that_sent_nothing_closes_cleanly() -> None:
    await pools.ShardedTransport().aclose()


def _built(transport: pools.ShardedTransport) -> list[bool]:
    return [shard is not None for shard in transport._shards]


async def test_calls_made_one_at_a_time_keep_to_the_first_pool() -> None:
    with running_server(EmulatorConfig()) as url:
        transport = pools.ShardedTransport(shards=4, per_shard=2)
        async with httpx.AsyncClient(transport=transport, base_url=url) as http:
            for _ in range(5):
                assert (await http.get("/_emulator/clock")).status_code == 200
            assert _built(transport) == [True, False, False, False]
            assert transport._busy == [0, 0, 0, 0]


async def test_answers_still_open_keep_their_pools_busy_until_closed() -> None:
    with running_server(EmulatorConfig()) as url:
        transport = pools.ShardedTransport(shards=4, per_shard=2)
        async with httpx.AsyncClient(transport=transport, base_url=url) as http:
            async with contextlib.AsyncExitStack() as held:
                for _ in range(3):
                    await held.enter_async_context(http.stream("GET", "/_emulator/clock"))
                assert transport._busy == [1, 1, 1, 0]
            assert transport._busy == [0, 0, 0, 0]
            assert _built(transport) == [True, True, True, False]


async def test_a_request_that_fails_leaves_its_pool_free() -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    transport = pools.ShardedTransport(shards=2, per_shard=1)
    async with httpx.AsyncClient(transport=transport) as http:
        with pytest.raises(httpx.ConnectError):
            await http.get(f"http://127.0.0.1:{port}/")
    assert transport._busy == [0, 0]
