"""The observe stage: the live agents of each project, sorted by who owns them (design §4 step 2).

``fleet`` lists and queries through a read-only ``AgentReader`` and assembles an
``ObservedFleet``. Read-only by construction: it has no join, update or leave, never writes the
state, and imports no HTTP library (the reader is handed in).
"""

from reconciler.observe.fleet import (
    GONE,
    LIST_PAGE_SIZE,
    LIST_WINDOW_SECONDS,
    QUERY_CONCURRENCY,
    AgentReader,
    EndedAgent,
    LiveAgent,
    ObservedFleet,
    ObservedProject,
    Ownership,
    Target,
    assemble,
    classify,
    ids_to_query,
    observe_fleet,
    observe_project,
)

__all__ = [
    "GONE",
    "LIST_PAGE_SIZE",
    "LIST_WINDOW_SECONDS",
    "QUERY_CONCURRENCY",
    "AgentReader",
    "EndedAgent",
    "LiveAgent",
    "ObservedFleet",
    "ObservedProject",
    "Ownership",
    "Target",
    "assemble",
    "classify",
    "ids_to_query",
    "observe_fleet",
    "observe_project",
]
