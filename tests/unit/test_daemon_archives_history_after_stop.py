"""Event 103 (history after stop) lands in the transcript archive, once per entry."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from apply_harness import agent
from daemon_harness import eventually, until
from ncs_harness import served

from reconciler.agora import wire
from reconciler.apply import archive


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


async def test_the_history_of_an_agent_that_stopped_by_itself_is_archived(
    tmp_path: Path,
) -> None:
    """Nobody could ask an agent that idled out; its 103 still reaches ``g1-<id>.jsonl`` and its
    112 ``g1-<id>.turns.jsonl``."""
    directory = tmp_path / "archive"
    idler = agent("ch-a", archiveHistory=str(directory), properties={"idle_timeout": 5})
    async with served(tmp_path, {"lobby": idler}) as it:
        [live] = await it.world.live()
        await it.speak(live["agent_id"], "Welcome!")
        await it.send_events()
        await it.world.control("POST", "/clock", {"advance": 10})
        saved = archive.archive_path(
            directory, key="demo/lobby", generation=1, agent_id=live["agent_id"]
        )

        turns = archive.turns_path(
            directory, key="demo/lobby", generation=1, agent_id=live["agent_id"]
        )

        async def both_archived() -> bool:
            return saved.exists() and turns.exists()

        await eventually(both_archived)
    assert _lines(saved) == [{"role": "assistant", "content": "Welcome!"}]
    assert [turn["turn_id"] for turn in _lines(turns)] == [1]


async def test_a_history_saved_before_a_leave_is_not_repeated_by_its_103(tmp_path: Path) -> None:
    """Removing an archived agent saves its history, then its 103 adds nothing twice."""
    directory = tmp_path / "archive"
    kept = agent("ch-b")
    archived = agent("ch-a", archiveHistory=str(directory))
    async with served(tmp_path, {"a": archived, "b": kept}) as it:
        [leaving] = [a["agent_id"] for a in await it.world.live() if a["channel"] == "ch-a"]
        await it.speak(leaving, "One")
        await it.speak(leaving, "Two")
        await it.send_events()
        it.rewrite({"b": kept})
        # The file already holds all of it: the 103 is taken in with nothing left to do.
        nothing_new = {"project": "demo", "event": "103", "outcome": "ignored"}
        await until(lambda: it.counted("reconciler_agora_events_total", **nothing_new) == 1)
    saved = archive.archive_path(directory, key="demo/a", generation=1, agent_id=leaving)
    assert [line["content"] for line in _lines(saved)] == ["One", "Two"]


async def test_a_later_history_extends_the_file_without_repeating_its_tail(tmp_path: Path) -> None:
    """The overlap of the saved tail and the new head is written once; nothing new, no write."""

    async def save(*texts: str) -> Path | None:
        contents = tuple(wire.HistoryEntry(role="user", content=text) for text in texts)
        return await archive.save_after_stop(
            contents, directory=tmp_path, key="demo/a", generation=2, agent_id="A"
        )

    first = await save("a", "b")
    assert first is not None
    assert await save("b", "c") == first
    assert [line["content"] for line in _lines(first)] == ["a", "b", "c"]
    for nothing_new in [("a", "b", "c"), (), ("b",)]:
        assert await save(*nothing_new) is None
    assert [line["content"] for line in _lines(first)] == ["a", "b", "c"]


async def test_turns_are_merged_by_turn_id(tmp_path: Path) -> None:
    """A resent or longer 112 replaces the turns it repeats and keeps turn order."""

    async def save(*turns: dict[str, Any]) -> Path | None:
        return await archive.save_turns(
            turns, directory=tmp_path, key="demo/a", generation=1, agent_id="A"
        )

    first = await save({"turn_id": 2, "v": "old"}, {"turn_id": 1})
    assert first is not None
    assert await save({"turn_id": 2, "v": "new"}, {"turn_id": 3}) == first
    assert _lines(first) == [{"turn_id": 1}, {"turn_id": 2, "v": "new"}, {"turn_id": 3}]
    assert await save() is None
