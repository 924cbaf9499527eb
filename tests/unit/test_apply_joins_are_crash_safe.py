"""Joins are retried only under their own name, and every answer (or its absence) is recorded."""

from __future__ import annotations

import re
from pathlib import Path

from apply_harness import World, agent, write_fleet

from reconciler.agora.client import RetryPolicy
from reconciler.apply.intents import HINT_SPENT, HINT_UNCONFIRMED
from reconciler.apply.steps import ApplySettings
from reconciler.emulator import EmulatorConfig

PAIR = {"a": agent("room-a"), "b": agent("room-b")}


async def test_a_join_answered_503_is_retried_and_starts_one_agent(tmp_path: Path) -> None:
    """The next two joins fail with 503; each key still ends with exactly one agent."""
    world = World(tmp_path)
    write_fleet(world.fleet, PAIR)
    await world.fault(endpoint="join", status=503, count=2)
    ran = await world.apply()
    assert ran.code == 0, ran.stdout + ran.stderr
    await world.assert_converged()
    assert len(await world.agents()) == 2


async def test_a_dropped_answer_after_the_join_took_effect_adopts_the_agent(
    tmp_path: Path,
) -> None:
    """The connection drops after the agent started: the retry's 409 finds it by name."""
    world = World(tmp_path)
    write_fleet(world.fleet, PAIR)
    await world.fault(endpoint="join", drop_connection=True, when="after", count=2)
    ran = await world.apply()
    assert ran.code == 0, ran.stdout + ran.stderr
    assert len(await world.agents()) == 2
    await world.assert_converged()
    counters = await world.control("GET", "/counters")
    assert counters["join"] == {"dropped": 2, "409": 2}


async def test_a_definite_refusal_spends_the_name(tmp_path: Path) -> None:
    """A 400 leaves a slot naming the next generation, and the next pass joins under it."""
    world = World(tmp_path)
    write_fleet(world.fleet, {"a": agent("room-a")})
    await world.fault(endpoint="join", status=400, count=1)
    ran = await world.apply()
    assert ran.code == 1
    assert "InvalidRequestBody" in ran.stdout or "HTTP 400" in ran.stdout
    slot = world.records()["demo/a"]
    assert (slot.agent_id, slot.generation, slot.status_hint) == (None, 2, HINT_SPENT)
    assert re.search(r"-g2-[0-9a-f]{8}$", slot.remote_name)
    assert (await world.apply()).code == 0
    [live] = await world.live()
    assert live["name"] == slot.remote_name
    await world.assert_converged()


async def test_a_conflict_with_no_agent_by_that_name_is_reported_not_looped(
    tmp_path: Path,
) -> None:
    """Another agent holds the uid: one 409, a clear reason, and the name is kept for later."""
    world = World(tmp_path)
    write_fleet(world.fleet, {"a": agent("room-a", uid="1001")})
    await world.control(
        "POST",
        "/agents",
        {"agents": [{"name": "someone-else", "channel": "room-a", "agent_rtc_uid": "1001"}]},
    )
    ran = await world.apply()
    assert ran.code == 1
    assert "is uid 1001 taken in channel room-a" in ran.stdout
    assert (await world.control("GET", "/counters"))["join"] == {"409": 1}
    slot = world.records()["demo/a"]
    assert (slot.agent_id, slot.generation, slot.status_hint) == (None, 1, HINT_UNCONFIRMED)
    assert [a["name"] for a in await world.live()] == ["someone-else"]


async def test_a_lost_answer_that_cannot_be_looked_up_stays_pending_until_the_next_pass(
    tmp_path: Path,
) -> None:
    """Every join attempt and the lookup fail: the intent survives, and the next pass settles it."""
    world = World(tmp_path)
    write_fleet(world.fleet, {"a": agent("room-a")})
    await world.fault(endpoint="join", drop_connection=True, when="after", count=1)
    await world.fault(endpoint="join", status=502)
    await world.fault(endpoint="query", status=500)
    ran = await world.apply()
    assert ran.code == 1
    [intent] = world.snapshot().intents
    assert re.search(r"-g1-[0-9a-f]{8}$", intent.remote_name)
    await world.control("DELETE", "/faults")
    ran = await world.apply()
    assert ran.code == 0, ran.stdout + ran.stderr
    assert "Resolved 1 of 1 intents" in ran.stdout
    assert len(await world.agents()) == 1
    await world.assert_converged()


async def test_retry_after_is_honoured_on_fake_time(tmp_path: Path) -> None:
    """A 429 with Retry-After: 7 makes the join wait 7 s of the injected clock, then succeed."""
    world = World(tmp_path)
    write_fleet(world.fleet, {"a": agent("room-a")})
    await world.fault(endpoint="join", status=429, retry_after=7, count=1)
    ran = await world.apply()
    assert ran.code == 0, ran.stdout + ran.stderr
    assert 7 in world.clock.slept
    await world.assert_converged()


async def test_a_409_naming_the_holder_is_checked_by_name_and_adopted(tmp_path: Path) -> None:
    """When the 409 body names the agent, one query confirms it is ours: no channel listing."""
    config = EmulatorConfig(stopping_seconds=0, conflict_body_includes_agent_id=True)
    world = World(tmp_path, config=config)
    write_fleet(world.fleet, {"a": agent("room-a")})
    await world.fault(endpoint="join", drop_connection=True, when="after", count=1)
    ran = await world.apply()
    assert ran.code == 0, ran.stdout + ran.stderr
    counters = await world.control("GET", "/counters")
    assert counters["join"] == {"dropped": 1, "409": 1}
    assert counters["list"] == {"200": 1}
    await world.assert_converged()


async def test_a_join_failing_for_good_is_sent_only_as_often_as_the_client_tries(
    tmp_path: Path,
) -> None:
    """Every join answers 503: four sends (the client's retries), not four per apply retry."""
    world = World(tmp_path)
    write_fleet(world.fleet, {"a": agent("room-a")})
    await world.fault(endpoint="join", status=503)
    ran = await world.apply()
    assert ran.code == 1
    assert (await world.control("GET", "/counters"))["join"] == {"503": RetryPolicy().attempts}
    slot = world.records()["demo/a"]
    assert (slot.agent_id, slot.generation, slot.status_hint) == (None, 1, HINT_UNCONFIRMED)


async def test_a_join_refused_with_429_waits_its_retry_after_only_in_the_client(
    tmp_path: Path,
) -> None:
    """Every join answers 429 with Retry-After: 9: the client's three waits, and no more."""
    world = World(tmp_path)
    write_fleet(world.fleet, {"a": agent("room-a")})
    await world.fault(endpoint="join", status=429, retry_after=9)
    ran = await world.apply()
    assert ran.code == 1
    assert (await world.control("GET", "/counters"))["join"] == {"429": RetryPolicy().attempts}
    assert world.clock.slept.count(9) == RetryPolicy().attempts - 1


async def test_a_join_whose_answer_is_lost_every_time_is_resent_under_its_name(
    tmp_path: Path,
) -> None:
    """Every join answers 502 (the client never resends it): apply resends it, then looks it up."""
    world = World(tmp_path)
    write_fleet(world.fleet, {"a": agent("room-a")})
    await world.fault(endpoint="join", status=502)
    ran = await world.apply()
    assert ran.code == 1
    attempts = ApplySettings().join_retry.attempts
    assert (await world.control("GET", "/counters"))["join"] == {"502": attempts}
    slot = world.records()["demo/a"]
    assert (slot.agent_id, slot.generation, slot.status_hint) == (None, 1, HINT_UNCONFIRMED)


async def test_a_lost_answer_then_a_refusal_is_looked_up_not_spent(tmp_path: Path) -> None:
    """The agent started but its answer was lost, then the resend got 429s: found by its name."""
    world = World(tmp_path)
    write_fleet(world.fleet, {"a": agent("room-a")})
    await world.fault(endpoint="join", drop_connection=True, when="after", count=1)
    # Every rule a call matches counts it: the dropped call uses up one of these 429s too.
    await world.fault(endpoint="join", status=429, count=RetryPolicy().attempts + 1)
    ran = await world.apply()
    assert ran.code == 0, ran.stdout + ran.stderr
    counters = await world.control("GET", "/counters")
    assert counters["join"] == {"dropped": 1, "429": RetryPolicy().attempts}
    assert len(await world.agents()) == 1
    await world.assert_converged()
