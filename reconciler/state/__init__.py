"""The reconciler's memory between passes: owned agents, intents in flight, lineage and serial.

Callers use ``open_state`` and ``read_state`` with what ``--state`` names: an SQLite file (the
embedded default) or a ``postgresql://`` URL (the shared backend, under a fenced lease); tests also
use ``MemoryStateStore``. All honour the ``StateStore`` contract. Nothing here talks to Agora or
reads manifests.
"""

from reconciler.state.backends import DEFAULT_LEASE_TTL, anchor_path, open_state, read_state
from reconciler.state.location import PostgresLocation, StateTarget, parse_location
from reconciler.state.memory import MemoryStateStore
from reconciler.state.sqlite import DEFAULT_STATE_PATH, SqliteStateStore
from reconciler.state.store import AgentRecord, Intent, IntentAction, StateSnapshot, StateStore

__all__ = [
    "DEFAULT_LEASE_TTL",
    "DEFAULT_STATE_PATH",
    "AgentRecord",
    "Intent",
    "IntentAction",
    "MemoryStateStore",
    "PostgresLocation",
    "SqliteStateStore",
    "StateSnapshot",
    "StateStore",
    "StateTarget",
    "anchor_path",
    "open_state",
    "parse_location",
    "read_state",
]
