"""The operator's view and hands: fleet ``status``; speak, interrupt, think, history on an agent.

``status`` is the pure fleet status (drift read off the planner's plan); ``commands`` is the edge
shell that loads, observes and talks to one owned agent. It reads the state without its lock and
never writes it; it must not import ``apply``, ``daemon`` or ``cli``.
"""

from reconciler.operate.commands import (
    AgentNotRunningError,
    AmbiguousAgentError,
    Done,
    History,
    SpeakNotSupportedError,
    TextTooLongError,
    UnknownAgentError,
    Workspace,
    fleet_status,
    history,
    interrupt,
    resolve_key,
    speak,
    think,
)

__all__ = [
    "AgentNotRunningError",
    "AmbiguousAgentError",
    "Done",
    "History",
    "SpeakNotSupportedError",
    "TextTooLongError",
    "UnknownAgentError",
    "Workspace",
    "fleet_status",
    "history",
    "interrupt",
    "resolve_key",
    "speak",
    "think",
]
