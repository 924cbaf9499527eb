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

Archiving must never stand in the way of the leave: every failure (the API, the disk) is logged
and ``save_history`` returns None. It decides nothing about when to archive.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final, Protocol

import structlog

from reconciler import diff
from reconciler.agora import wire
from reconciler.errors import ReconcilerError
from reconciler.manifest.desired import DesiredAgent
from reconciler.render.history import render_history_lines
from reconciler.state import AgentRecord

_UNSAFE: Final = re.compile(r"[^A-Za-z0-9_-]")
# Beside ``protect`` in a record's reconciler metadata, which plans never diff.
_RECORDED: Final = "archiveHistory"


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


def remember(applied: dict[str, Any], agent: DesiredAgent) -> dict[str, Any]:
    """A record's ``applied_properties`` that also carry the agent's archive directory, if any."""
    if agent.archive_history is None:
        return applied
    metadata = applied.get(diff.METADATA_KEY)
    kept = dict(metadata) if isinstance(metadata, Mapping) else {}
    return {**applied, diff.METADATA_KEY: {**kept, _RECORDED: agent.archive_history}}


def recorded_directory(record: AgentRecord) -> str | None:
    """The archive directory the record's agent was joined or last updated with."""
    metadata = record.applied_properties.get(diff.METADATA_KEY)
    directory = metadata.get(_RECORDED) if isinstance(metadata, Mapping) else None
    return directory if isinstance(directory, str) and directory else None


async def save_before_leave(
    source: HistorySource, record: AgentRecord, *, agent: DesiredAgent | None
) -> Path | None:
    """Archive the recorded agent when its manifest entry (or, once that is gone, its record) asks.

    Returns the file written, or None when nobody asked or it failed (logged).
    """
    directory = agent.archive_history if agent is not None else recorded_directory(record)
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
    try:
        _write_private(path, render_history_lines(history))
    except OSError as exc:
        log.warning(
            "history_not_archived",
            stage="write",
            error=type(exc).__name__,
            detail=f"{exc.strerror or exc} ({path})",
        )
        return None
    log.info("history_archived", path=str(path), entries=len(history.contents))
    return path


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` whole or not at all; ``mkstemp`` makes it owner-only (0600)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
