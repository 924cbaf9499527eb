"""The sharded transport answers through pools it builds as they are needed, and closes cleanly."""

from __future__ import annotations

import asyncio

import httpx

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
