"""Events 111 and 110 of our agents feed per-project latency histograms and error counts."""

from __future__ import annotations

from pathlib import Path

import pytest
from apply_harness import agent
from daemon_harness import until
from ncs_harness import served


async def test_turn_latencies_and_errors_are_exported_per_project(tmp_path: Path) -> None:
    """A spoken turn (111) observes each stage in seconds; a failure (110) counts its code."""
    async with served(tmp_path, {"a": agent("ch-a")}) as it:
        [live] = await it.world.live()
        await it.send_events()
        await it.speak(live["agent_id"], "Hello")
        metrics = {"project": "demo", "event": "111", "outcome": "acted"}
        await until(lambda: it.counted("reconciler_agora_events_total", **metrics) == 1)
        await it.world.control("POST", f"/agents/{live['agent_id']}/fail", {"message": "x"})
        errors = {"project": "demo", "event": "110", "outcome": "acted"}
        await until(lambda: it.counted("reconciler_agora_events_total", **errors) == 1)
    for stage, seconds in {
        "asr_ttlw": 0.22,
        "llm_ttfb": 0.41,
        "llm_ttfs": 0.52,
        "tts_ttfb": 0.18,
    }.items():
        labels = {"project": "demo", "stage": stage}
        assert it.counted("reconciler_agent_latency_seconds_count", **labels) == 1
        assert it.counted("reconciler_agent_latency_seconds_sum", **labels) == pytest.approx(
            seconds
        )
    coded = {"project": "demo", "module": "agent", "code": "500"}
    assert it.counted("reconciler_agent_errors_total", **coded) == 1
