"""The reconciler's memory between passes: owned agents, intents in flight, lineage and serial.

Callers use ``open_state`` for the embedded SQLite store and ``MemoryStateStore`` in tests; both
honour the ``StateStore`` contract. Nothing here talks to Agora or reads manifests.
"""

from reconciler.state.memory import MemoryStateStore
from reconciler.state.sqlite import DEFAULT_STATE_PATH, SqliteStateStore, open_state, read_state
from reconciler.state.store import AgentRecord, Intent, IntentAction, StateSnapshot, StateStore

__all__ = [
    "DEFAULT_STATE_PATH",
    "AgentRecord",
    "Intent",
    "IntentAction",
    "MemoryStateStore",
    "SqliteStateStore",
    "StateSnapshot",
    "StateStore",
    "open_state",
    "read_state",
]
