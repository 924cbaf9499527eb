"""A pass killed between an intent and its outcome is finished by the next pass, never doubled."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from apply_harness import World, agent, write_fleet

from reconciler.apply.intents import LeaveTicket
from reconciler.apply.readiness import Polling
from reconciler.apply.steps import ApplySettings
from reconciler.emulator import EmulatorConfig
from reconciler.state import open_state


class Killed(BaseException):
    """Stands for the process dying: nothing in apply may catch it."""


class KillingTransport(httpx.AsyncBaseTransport):
    """Forwards requests, and dies just before or just after the first one ``hits`` matches."""

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        *,
        hits: Callable[[httpx.Request], bool],
        after: bool,
    ) -> None:
        self._inner = inner
        self._hits = hits
        self._after = after
        self.armed = True

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        strike = self.armed and self._hits(request)
        if strike and not self._after:
            self.armed = False
            raise Killed
        response = await self._inner.handle_async_request(request)
        if strike:
            self.armed = False
            await response.aread()
            raise Killed
        return response


def _path_ends(suffix: str) -> Callable[[httpx.Request], bool]:
    return lambda request: request.url.path.endswith(suffix)


async def _killed_pass(world: World, *, hits: Callable[[httpx.Request], bool], after: bool) -> None:
    inner = world.transport
    assert inner is not None
    world.transport = KillingTransport(inner, hits=hits, after=after)
    with pytest.raises(BaseExceptionGroup) as caught:
        await world.apply()
    assert caught.group_contains(Killed)
    world.transport = inner


@pytest.mark.parametrize("after", [True, False], ids=["answer-lost", "never-sent"])
async def test_a_join_killed_in_flight_ends_with_one_agent(tmp_path: Path, after: bool) -> None:
    """Killed around a join: the next pass finds the agent by name or joins it, exactly once."""
    world = World(tmp_path)
    write_fleet(world.fleet, {"a": agent("room-a")})
    await _killed_pass(world, hits=_path_ends("/join"), after=after)
    [intent] = world.snapshot().intents
    ran = await world.apply()
    assert ran.code == 0, ran.stdout + ran.stderr
    assert "Resolved 1 of 1 intents" in ran.stdout
    [only] = await world.agents()
    assert only["name"] == intent.remote_name
    await world.assert_converged()


async def test_a_delete_killed_after_its_leave_forgets_the_agent(tmp_path: Path) -> None:
    """Killed after the leave of a removed agent: the next pass confirms it gone and drops it."""
    world = World(tmp_path)
    write_fleet(world.fleet, {"a": agent("room-a"), "b": agent("room-b")})
    assert (await world.apply()).code == 0
    write_fleet(world.fleet, {"a": agent("room-a")})
    await _killed_pass(world, hits=_path_ends("/leave"), after=True)
    assert len(world.snapshot().intents) == 1
    ran = await world.apply()
    assert ran.code == 0, ran.stdout + ran.stderr
    assert sorted(world.records()) == ["demo/a"]
    await world.assert_converged()


async def test_a_replace_killed_after_its_leave_joins_the_next_generation(tmp_path: Path) -> None:
    """Killed between the leave and the join of a replace: the next pass joins generation 2."""
    world = World(tmp_path)
    write_fleet(world.fleet, {"a": agent("room-a"), "b": agent("room-b")})
    assert (await world.apply()).code == 0
    tts = {"vendor": "elevenlabs", "params": {"key": "${env:AZURE_TTS_KEY}"}}
    write_fleet(world.fleet, {"a": agent("room-a", properties={"tts": tts}), "b": agent("room-b")})
    await _killed_pass(world, hits=_path_ends("/leave"), after=True)
    ran = await world.apply()
    assert ran.code == 0, ran.stdout + ran.stderr
    [live] = [a for a in await world.live() if a["channel"] == "room-a"]
    assert re.search(r"-g2-[0-9a-f]{8}$", live["name"])
    assert live["properties"]["tts"]["vendor"] == "elevenlabs"
    await world.assert_converged()


async def test_a_replace_killed_after_its_new_join_keeps_one_agent(tmp_path: Path) -> None:
    """Killed after the new generation's join reached the server: it is found, not joined twice."""
    world = World(tmp_path)
    write_fleet(world.fleet, {"a": agent("room-a"), "b": agent("room-b")})
    assert (await world.apply()).code == 0
    changed = agent("room-a", properties={"idle_timeout": 600})
    write_fleet(world.fleet, {"a": changed, "b": agent("room-b")})
    await _killed_pass(world, hits=_path_ends("/join"), after=True)
    ran = await world.apply()
    assert ran.code == 0, ran.stdout + ran.stderr
    [live] = [a for a in await world.live() if a["channel"] == "room-a"]
    assert re.search(r"-g2-[0-9a-f]{8}$", live["name"])
    assert (await world.control("GET", "/counters"))["join"] == {"200": 3}
    await world.assert_converged()


async def test_a_leave_still_stopping_when_the_wait_ends_is_finished_next_pass(
    tmp_path: Path,
) -> None:
    """An agent slow to stop keeps its intent; once the emulator clock has moved on, it is done."""
    world = World(tmp_path, config=EmulatorConfig(stopping_seconds=3600))
    write_fleet(world.fleet, {"a": agent("room-a"), "b": agent("room-b")})
    assert (await world.apply()).code == 0
    write_fleet(world.fleet, {"a": agent("room-a")})
    ran = await world.apply(settings=ApplySettings(leave_polling=Polling(timeout=20.0)))
    assert ran.code == 1
    assert "still STOPPING after 20 s" in ran.stdout
    assert [i.action.value for i in world.snapshot().intents] == ["leave"]
    assert sorted(world.records()) == ["demo/a", "demo/b"]
    await world.control("POST", "/clock", {"advance": 3601})
    ran = await world.apply()
    assert ran.code == 0, ran.stdout + ran.stderr
    assert "Resolved 1 of 1 intents" in ran.stdout
    assert sorted(world.records()) == ["demo/a"]
    await world.assert_converged()


async def test_a_leftover_intent_is_resolved_once_per_pass(tmp_path: Path) -> None:
    """An intent of a project gone from the manifests, plus a create: reported once, not twice."""
    world = World(tmp_path)
    write_fleet(world.fleet, {"a": agent("room-a")})
    gone = LeaveTicket(
        key="gone/x", project="gone", agent_id="a-gone", remote_name="rc-gone-x-g1", channel="x"
    )
    with open_state(world.state_path) as store:
        store.record_intent(gone.intent(now=world.clock.now()))
    ran = await world.apply()
    assert ran.code == 0, ran.stdout + ran.stderr
    assert "Resolved 0 of 1 intents" in ran.stdout
    assert ran.stdout.count("its project is not in the manifests") == 1
    assert [i.key for i in world.snapshot().intents] == ["gone/x"]
    assert [a["name"] for a in await world.live()] == [world.records()["demo/a"].remote_name]
