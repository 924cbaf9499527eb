"""The flat row form of records and intents that every backend stores.

Both stores keep rows and decode them on each snapshot, so they hand out equal, fresh values and
treat damaged data alike: anything that does not decode is a ``StateError`` naming the record,
never a half-built value. This module must not touch storage.
"""

from __future__ import annotations

import json
from typing import Any, Final

from reconciler.errors import StateError
from reconciler.state.store import AgentRecord, Intent, IntentAction, JsonObject

RECORD_COLUMNS: Final = (
    "key",
    "project",
    "remote_name",
    "generation",
    "agent_id",
    "channel",
    "agent_rtc_uid",
    "applied_properties",
    "spec_hash",
    "token_expires_at",
    "created_at",
    "updated_at",
    "git_revision",
    "status_hint",
)

INTENT_COLUMNS: Final = (
    "id",
    "key",
    "project",
    "action",
    "remote_name",
    "agent_id",
    "channel",
    "created_at",
    "payload",
    "generation",
)

Row = tuple[Any, ...]


def encode_json(value: JsonObject) -> str:
    """Canonical JSON, so equal properties store as equal text; NaN is refused as non-JSON."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)


def _decode_json(text: Any, *, what: str) -> JsonObject:
    try:
        value = json.loads(text)
    except (TypeError, ValueError) as exc:
        raise StateError(f"{what} is corrupt: not JSON") from exc
    if not isinstance(value, dict):
        raise StateError(f"{what} is corrupt: not a JSON object")
    return value


def record_row(record: AgentRecord) -> Row:
    """The record in ``RECORD_COLUMNS`` order."""
    return (
        record.key,
        record.project,
        record.remote_name,
        record.generation,
        record.agent_id,
        record.channel,
        record.agent_rtc_uid,
        encode_json(record.applied_properties),
        record.spec_hash,
        record.token_expires_at,
        record.created_at,
        record.updated_at,
        record.git_revision,
        record.status_hint,
    )


def intent_row(intent: Intent) -> Row:
    """The intent in ``INTENT_COLUMNS`` order."""
    return (
        intent.id,
        intent.key,
        intent.project,
        intent.action.value,
        intent.remote_name,
        intent.agent_id,
        intent.channel,
        intent.created_at,
        encode_json(intent.payload),
        intent.generation,
    )


def record_from_row(row: Row) -> AgentRecord:
    """Rebuild a record, refusing one whose fields do not hang together."""
    what = f"state record {row[0]!r}"
    values = dict(zip(RECORD_COLUMNS, row, strict=True))
    values["applied_properties"] = _decode_json(values["applied_properties"], what=what)
    try:
        return AgentRecord(**values)
    except (TypeError, ValueError) as exc:
        raise StateError(f"{what} is corrupt: {exc}") from exc


def intent_from_row(row: Row) -> Intent:
    """Rebuild an intent, refusing one whose fields do not hang together."""
    what = f"state intent {row[0]!r}"
    values = dict(zip(INTENT_COLUMNS, row, strict=True))
    values["payload"] = _decode_json(values["payload"], what=what)
    try:
        values["action"] = IntentAction(values["action"])
        return Intent(**values)
    except (TypeError, ValueError) as exc:
        raise StateError(f"{what} is corrupt: {exc}") from exc
