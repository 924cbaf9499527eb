"""Views of the state for ``reconciler state``: keys like ``terraform state list``, and one
record like ``terraform state show``, both as text or JSON.

Pure functions from state values to strings. A record holds no secret (only keyed fingerprints),
so everything in it may be shown.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from reconciler.state import AgentRecord, StateSnapshot


def render_list_text(snapshot: StateSnapshot) -> str:
    """One key per line, in key order; nothing for an empty state."""
    return "".join(f"{key}\n" for key in snapshot.records)


def render_list_json(snapshot: StateSnapshot) -> str:
    """The lineage, serial and every record, as JSON."""
    document = {
        "lineage": snapshot.lineage,
        "serial": snapshot.serial,
        "records": [record_document(r) for r in snapshot.records.values()],
        "intents": [
            {"key": i.key, "action": str(i.action), "remote_name": i.remote_name}
            for i in snapshot.intents
        ],
    }
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def render_record_text(record: AgentRecord) -> str:
    """``# key`` then ``field = value`` lines, values as JSON, times in UTC."""
    document = record_document(record)
    width = max(len(name) for name in document)
    lines = [f"# {record.key}"]
    for name, value in document.items():
        text = json.dumps(value, indent=2, sort_keys=True).replace("\n", "\n" + " " * (width + 3))
        lines.append(f"{name.ljust(width)} = {text}")
    return "\n".join(lines) + "\n"


def render_record_json(record: AgentRecord) -> str:
    return json.dumps(record_document(record), indent=2, sort_keys=True) + "\n"


def record_document(record: AgentRecord) -> dict[str, Any]:
    """A record as plain JSON data, its times as ISO 8601 UTC."""
    return {
        "key": record.key,
        "project": record.project,
        "remote_name": record.remote_name,
        "generation": record.generation,
        "agent_id": record.agent_id,
        "channel": record.channel,
        "agent_rtc_uid": record.agent_rtc_uid,
        "status_hint": record.status_hint,
        "token_expires_at": _time(record.token_expires_at),
        "created_at": _time(record.created_at),
        "updated_at": _time(record.updated_at),
        "git_revision": record.git_revision,
        "spec_hash": record.spec_hash,
        "applied_properties": record.applied_properties,
    }


def _time(value: float | None) -> str | None:
    if value is None:
        return None
    return datetime.fromtimestamp(value, tz=UTC).isoformat(timespec="seconds")
