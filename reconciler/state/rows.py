"""The flat row form of records and intents that every backend stores.

Both stores keep rows and decode them on each snapshot, so they hand out equal, fresh values and
treat damaged data alike: anything that does not decode is a ``StateError`` naming the record,
never a half-built value. This module must not touch storage.
"""

from __future__ import annotations

import functools
import json
import types
import typing
from collections.abc import Callable, Iterable, Iterator
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
# A damaged row may hold anything in any column: messages show at most this much of it.
_KEY_SHOWN_MAX: Final = 80
_PROBLEM_MAX: Final = 200


def encode_json(value: JsonObject) -> str:
    """Canonical JSON, so equal properties store as equal text; NaN is refused as non-JSON."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)


def _decode_json(text: Any, *, what: str, column: str) -> JsonObject:
    """A JSON object column; the error says where the JSON breaks, never what it holds."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}"
        raise StateError(
            f"{what} is corrupt: {column} is not JSON ({exc.msg} at {where})"
        ) from None
    except TypeError:
        raise StateError(f"{what} is corrupt: {column} is {_kind(text)}, not JSON text") from None
    if not isinstance(value, dict):
        raise StateError(f"{what} is corrupt: {column} is {_kind(value)}, not a JSON object")
    return value


_PASSED: Final[set[tuple[type, ...]]] = set()


def _check_types(cls: type, columns: tuple[str, ...], row: Row, *, what: Callable[[], str]) -> None:
    """Refuse a column whose value is not of its field's type, naming the column and the type.

    Checked before the value is built, so the message is ours (the column and what it holds)
    rather than whatever a comparison deep inside would say about the values themselves.
    ``what`` names the row; it is asked only for a message, as a whole state is checked row by
    row on every read.
    """
    # Whether a value passes depends on its type alone, and a state's rows have few shapes.
    signature = (cls, *map(type, row))
    if signature in _PASSED:
        return
    for column, value, allowed in zip(columns, row, _column_types(cls, columns), strict=True):
        if allowed and not isinstance(value, allowed):
            names = " or ".join(sorted("null" if t is type(None) else t.__name__ for t in allowed))
            raise StateError(f"{what()} is corrupt: {column} is {_kind(value)}, expected {names}")
    _PASSED.add(signature)


@functools.cache
def _column_types(cls: type, columns: tuple[str, ...]) -> tuple[tuple[type, ...], ...]:
    """The types each of ``columns`` may hold, in their order (empty: not checked here)."""
    hints = typing.get_type_hints(cls)
    return tuple(_plain_types(hints[column]) if column in hints else () for column in columns)


def _plain_types(hint: Any) -> tuple[type, ...]:
    """The classes a column may hold for a field of this type (``float`` takes ``int``, an
    enum its text); empty for anything fancier, such as a JSON object decoded separately."""
    parts = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
    if not all(isinstance(part, type) and not typing.get_args(part) for part in parts):
        return ()
    stored = {str if part is IntentAction else part for part in parts}
    return tuple(stored | ({int} if float in stored else set()))


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    name = type(value).__name__
    return f"{'an' if name[0] in 'aeiou' else 'a'} {name}"


def _shown(key: Any) -> str:
    """The row's key as the message names it: short, whatever was written into it."""
    text = repr(key)
    return text if len(text) <= _KEY_SHOWN_MAX else text[: _KEY_SHOWN_MAX - 1] + "…"


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


def records_from_rows(rows: Iterable[Row]) -> Iterator[AgentRecord]:
    """``record_from_row`` for a whole snapshot, decoding each distinct properties text once.

    The agents of one AgentSet were usually given the same properties, so a state of 10,000
    records holds a few distinct texts; their records share one decoded (and never changed)
    mapping.
    """
    decoded: dict[str, JsonObject] = {}
    for row in rows:
        yield record_from_row(row, decoded=decoded)


def record_from_row(row: Row, *, decoded: dict[str, JsonObject] | None = None) -> AgentRecord:
    """Rebuild a record, refusing one whose fields do not hang together.

    ``decoded`` remembers the properties already decoded, by their text.
    """

    def what() -> str:
        return f"state record {_shown(row[0])}"

    _check_types(AgentRecord, RECORD_COLUMNS, row, what=what)
    values = dict(zip(RECORD_COLUMNS, row, strict=True))
    text = values["applied_properties"]
    known = decoded.get(text) if decoded is not None and isinstance(text, str) else None
    if known is None:
        known = _decode_json(text, what=what(), column="applied_properties")
        if decoded is not None and isinstance(text, str):
            decoded[text] = known
    values["applied_properties"] = known
    try:
        return AgentRecord(**values)
    except (TypeError, ValueError) as exc:
        raise StateError(f"{what()} is corrupt: {_cut(str(exc))}") from None


def intent_from_row(row: Row) -> Intent:
    """Rebuild an intent, refusing one whose fields do not hang together."""
    what = f"state intent {_shown(row[0])}"
    _check_types(Intent, INTENT_COLUMNS, row, what=lambda: what)
    values = dict(zip(INTENT_COLUMNS, row, strict=True))
    values["payload"] = _decode_json(values["payload"], what=what, column="payload")
    try:
        values["action"] = IntentAction(values["action"])
        return Intent(**values)
    except (TypeError, ValueError) as exc:
        raise StateError(f"{what} is corrupt: {_cut(str(exc))}") from None


def _cut(text: str) -> str:
    return text if len(text) <= _PROBLEM_MAX else text[: _PROBLEM_MAX - 1] + "…"
