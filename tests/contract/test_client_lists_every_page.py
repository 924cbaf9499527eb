"""list_all follows the emulator's cursors across pages and applies every filter it is given."""

from __future__ import annotations

from client_contract_harness import EmulatorControl

from reconciler.agora import wire
from reconciler.agora.client import AgoraClient

NON_TERMINAL = list(wire.NON_TERMINAL_CODES)
ALWAYS_ON = {"idle_timeout": 0}


async def _seed_running(emulator: EmulatorControl, count: int) -> tuple[int, list[str]]:
    """``count`` running agents, started a second apart from ten minutes ago: (start, ids)."""
    start = await emulator.now() - 600
    seeded = await emulator.seed(
        [
            {"name": f"a-{n}", "channel": f"c{n}", "start_ts": start + n, "properties": ALWAYS_ON}
            for n in range(count)
        ]
    )
    return start, seeded


async def test_25_agents_come_back_over_three_pages_of_10(
    api: AgoraClient, emulator: EmulatorControl
) -> None:
    """Every agent, once each, in three list calls."""
    start, seeded = await _seed_running(emulator, 25)
    items = await api.list_all(states=NON_TERMINAL, from_time=start, page_size=10)
    assert sorted(i.agent_id for i in items) == sorted(seeded)
    assert await emulator.counters() == {"list": {"200": 3}}


async def test_state_channel_and_time_window_filters_apply_on_every_page(
    api: AgoraClient, emulator: EmulatorControl
) -> None:
    """Only live agents of the channel inside the window are returned."""
    start = await emulator.now() - 600
    lobby = await emulator.seed(
        [
            {"name": f"l-{n}", "channel": "lobby", "start_ts": start + n, "properties": ALWAYS_ON}
            for n in range(12)
        ]
    )
    await emulator.seed(
        [
            {"name": "elsewhere", "channel": "other", "start_ts": start, "properties": ALWAYS_ON},
            {"name": "stopped", "channel": "lobby", "start_ts": start, "status": "STOPPED"},
            {
                "name": "too-old",
                "channel": "lobby",
                "start_ts": start - 3600,
                "properties": ALWAYS_ON,
            },
        ]
    )
    items = await api.list_all(
        states=NON_TERMINAL, from_time=start - 60, channel="lobby", page_size=5
    )
    assert sorted(i.agent_id for i in items) == sorted(lobby)


async def test_terminal_agents_are_listed_when_asked_for(
    api: AgoraClient, emulator: EmulatorControl
) -> None:
    """Asking for STOPPED and FAILED finds finished agents the default filter would hide."""
    start = await emulator.now() - 600
    (stopped,) = await emulator.seed(
        [{"name": "done", "channel": "lobby", "start_ts": start, "status": "STOPPED"}]
    )
    items = await api.list_all(
        states=[wire.StatusCode.STOPPED, wire.StatusCode.FAILED], from_time=start - 60
    )
    assert [(i.agent_id, i.status) for i in items] == [(stopped, "STOPPED")]


async def test_a_page_the_last_listing_read_is_not_parsed_again(
    api: AgoraClient, emulator: EmulatorControl
) -> None:
    """Unchanged pages come back as the objects read last time; a changed page is read afresh."""
    start, seeded = await _seed_running(emulator, 12)
    first = await api.list_all(states=NON_TERMINAL, from_time=start, page_size=5)
    again = await api.list_all(states=NON_TERMINAL, from_time=start, page_size=5)
    assert [i.agent_id for i in again] == [i.agent_id for i in first]
    assert all(a is b for a, b in zip(again, first, strict=True))
    leaving = first[-1]
    await api.leave(leaving.agent_id)
    after = {
        i.agent_id: i for i in await api.list_all(states=NON_TERMINAL, from_time=start, page_size=5)
    }
    assert sorted(after) == sorted(seeded)
    assert after[leaving.agent_id].status != leaving.status
    assert await emulator.counters() == {"list": {"200": 9}, "leave": {"200": 1}}
