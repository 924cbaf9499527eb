"""Views of an agent's short-term history: a transcript for a person, JSON, and JSON lines.

Pure functions from the API's ``HistoryResponse`` to strings; the JSON-lines form is the one the
transcript archive writes, so a saved transcript and ``history -o json`` agree entry for entry.
They never print or read anything.
"""

from __future__ import annotations

import json
from typing import Any, Final

from reconciler.agora import wire

FORMAT_VERSION: Final = "1"
_INDENT: Final = "  "


def entry_document(entry: wire.HistoryEntry) -> dict[str, Any]:
    """One entry as JSON: ``role`` and ``content``, plus whatever else the API sent with it."""
    return entry.model_dump(mode="json", exclude_none=True)


def render_history_text(key: str, history: wire.HistoryResponse) -> str:
    """``role: content`` per entry, continuation lines indented, under a one-line heading."""
    count = len(history.contents)
    noun = "entry" if count == 1 else "entries"
    lines = [f"{key} (agent {history.agent_id}, {history.status}): {count} {noun}"]
    for entry in history.contents:
        first, *rest = entry.content.splitlines() or [""]
        lines.append(f"{entry.role}: {first}")
        lines.extend(_INDENT + line for line in rest)
    return "\n".join(lines) + "\n"


def render_history_json(key: str, history: wire.HistoryResponse) -> str:
    """The history as JSON (``format_version`` 1), keys sorted."""
    document = {
        "format_version": FORMAT_VERSION,
        "key": key,
        "agent_id": history.agent_id,
        "status": history.status,
        "start_ts": history.start_ts,
        "contents": [entry_document(entry) for entry in history.contents],
    }
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def render_history_lines(history: wire.HistoryResponse) -> str:
    """JSON lines: one entry per line, in the order the API gave them."""
    return "".join(
        json.dumps(entry_document(entry), sort_keys=True, ensure_ascii=False) + "\n"
        for entry in history.contents
    )
