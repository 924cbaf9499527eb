"""The transcript archive: an agent's short-term history saved as JSON lines before it leaves.

Agora keeps an agent's history only while the agent runs (API notes §7.9), so whoever is about to
make one leave calls ``save_history`` first. Each agent generation gets its own file,
``DIR/<project>/<name>/g<generation>-<agent_id>.jsonl``, one history entry per line; saving the
same generation again replaces its file whole (written aside, then renamed), since a later
history holds the latest turns. A relative ``DIR`` is taken from the working directory, as
``--state`` is. Files are readable by their owner only: they hold what people said.

Apply calls ``save_before_leave`` before it deletes or replaces an agent. A delete has no manifest
entry left to say where its agent's history goes, so each record carries the directory its agent
was joined or last updated with (``remember``); a replace follows the manifest entry.

An agent that stopped by itself could not be asked; Agora then sends its history in event 103,
which ``save_after_stop`` merges into the same file without repeating what was saved before;
the turns of event 112 go beside it (``save_turns``), merged by turn id.

Archiving must never stand in the way of the leave: every failure (the API, the disk) is logged
and ``save_history`` returns None. It decides nothing about when to archive.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final, Protocol

import structlog

from reconciler import files
from reconciler.agora import wire
from reconciler.errors import ReconcilerError
from reconciler.manifest.desired import DesiredAgent
from reconciler.plan import diff
from reconciler.render.history import render_history_lines
from reconciler.state import AgentRecord

_UNSAFE: Final = re.compile(r"[^A-Za-z0-9_-]")


class HistorySource(Protocol):
    """Whatever can fetch an agent's history (``AgoraClient`` can)."""

    async def history(self, agent_id: str) -> wire.HistoryResponse: ...


def archive_path(directory: Path, *, key: str, generation: int, agent_id: str) -> Path:
    """Where generation ``generation`` of ``key`` (``project/name``) goes under ``directory``.

    Manifest names are already safe path parts; an agent id is the API's opaque string, so any
    character outside ``[A-Za-z0-9_-]`` becomes ``_``.
    """
    project, _, name = key.partition("/")
    return directory / project / name / f"g{generation}-{_UNSAFE.sub('_', agent_id)}.jsonl"


async def save_before_leave(
    source: HistorySource, record: AgentRecord, *, agent: DesiredAgent | None
) -> Path | None:
    """Archive the recorded agent when its manifest entry (or, once that is gone, its record) asks.

    Returns the file written, or None when nobody asked or it failed (logged).
    """
    directory = (
        agent.archive_history if agent is not None else diff.recorded_archive_directory(record)
    )
    if directory is None or record.agent_id is None:
        return None
    return await save_history(
        source,
        directory=directory,
        key=record.key,
        generation=record.generation,
        agent_id=record.agent_id,
    )


async def save_history(
    source: HistorySource, *, directory: str | Path, key: str, generation: int, agent_id: str
) -> Path | None:
    """Fetch the history and write it; the file written, or None (logged) when that failed."""
    log = structlog.get_logger(__name__).bind(key=key, agent_id=agent_id, generation=generation)
    try:
        history = await source.history(agent_id)
    except ReconcilerError as exc:
        log.warning(
            "history_not_archived", stage="fetch", error=type(exc).__name__, detail=str(exc)
        )
        return None
    path = archive_path(Path(directory), key=key, generation=generation, agent_id=agent_id)
    if not _write(path, render_history_lines(history), log=log):
        return None
    log.info("history_archived", path=str(path), entries=len(history.contents))
    return path


async def save_after_stop(
    contents: Sequence[wire.HistoryEntry],
    *,
    directory: str | Path,
    key: str,
    generation: int,
    agent_id: str,
) -> Path | None:
    """Archive the history Agora sent after the agent stopped (event 103), merged with the file.

    What ``save_history`` wrote before a leave is the start of this history, so entries already
    saved are kept once: the file's longest tail that this history starts with is not repeated,
    and a history the file holds already in a row adds nothing. The file written, or None
    (logged) when there was nothing new or it failed.
    """
    log = structlog.get_logger(__name__).bind(key=key, agent_id=agent_id, generation=generation)
    path = archive_path(Path(directory), key=key, generation=generation, agent_id=agent_id)
    try:
        saved = path.read_text(encoding="utf-8").splitlines(keepends=True) if path.exists() else []
    except OSError as exc:
        log.warning("history_not_archived", stage="read", error=type(exc).__name__)
        return None
    lines = render_history_lines(
        wire.HistoryResponse(agent_id=agent_id, status="STOPPED", contents=tuple(contents))
    ).splitlines(keepends=True)
    overlap = next(
        (n for n in range(min(len(saved), len(lines)), 0, -1) if saved[-n:] == lines[:n]), 0
    )
    fresh = lines[overlap:]
    # A history the file already holds in a row (a resent 103) adds nothing either.
    if not fresh or "\n" + "".join(lines) in "\n" + "".join(saved):
        log.info("history_already_archived", path=str(path), entries=len(saved))
        return None
    # Off the event loop: the daemon's HTTP server shares it, and fsync can take a while.
    if not await asyncio.to_thread(_write, path, "".join(saved + fresh), log=log):
        return None
    log.info("history_archived", path=str(path), entries=len(saved) + len(fresh), after_stop=True)
    return path


def turns_path(directory: Path, *, key: str, generation: int, agent_id: str) -> Path:
    """Where the turns of a generation go: beside its history, ``...<agent_id>.turns.jsonl``."""
    history = archive_path(directory, key=key, generation=generation, agent_id=agent_id)
    return history.with_name(history.stem + ".turns.jsonl")


async def save_turns(
    turns: Sequence[Mapping[str, Any]],
    *,
    directory: str | Path,
    key: str,
    generation: int,
    agent_id: str,
) -> Path | None:
    """Archive the turns Agora sent after the session (event 112), one JSON line per turn.

    Merged with the file by ``turn_id`` (a resent 112 replaces what it repeats), in turn order.
    The file written, or None (logged) when there were no turns or it failed.
    """
    log = structlog.get_logger(__name__).bind(key=key, agent_id=agent_id, generation=generation)
    path = turns_path(Path(directory), key=key, generation=generation, agent_id=agent_id)
    if not turns:
        return None
    try:
        lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
        by_id = {_turn_id(json.loads(line)): json.loads(line) for line in lines}
    except (OSError, ValueError) as exc:
        log.warning("turns_not_archived", stage="read", error=type(exc).__name__)
        return None
    by_id.update({_turn_id(turn): dict(turn) for turn in turns})
    text = "".join(
        json.dumps(by_id[turn_id], sort_keys=True, ensure_ascii=False) + "\n"
        for turn_id in sorted(by_id)
    )
    if not await asyncio.to_thread(_write, path, text, log=log):
        return None
    log.info("turns_archived", path=str(path), turns=len(by_id))
    return path


def _turn_id(turn: Mapping[str, Any]) -> tuple[int, str]:
    """Sort key and identity of a turn: its ``turn_id`` (turns without one sort last, by text)."""
    turn_id = turn.get("turn_id")
    if isinstance(turn_id, int):
        return (turn_id, "")
    return (2**63, json.dumps(turn, sort_keys=True))


def _write(path: Path, text: str, *, log: structlog.typing.FilteringBoundLogger) -> bool:
    try:
        files.write_private(path, text)
    except OSError as exc:
        log.warning(
            "history_not_archived",
            stage="write",
            error=type(exc).__name__,
            detail=f"{exc.strerror or exc} ({path})",
        )
        return False
    return True
