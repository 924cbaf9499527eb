"""What speak, interrupt and think leave behind: short-term history and per-turn analytics.

The emulator has no voices, so a conversation is only its traces: speak adds an assistant line
and an ``api_speak`` turn, think a ``[think API injected]`` user line and a turn, interrupt marks
the latest turn interrupted (§7.6-§7.10). ``talk`` stands for a caller in the channel: for a
while, a ``voice_input`` turn (and a user and an assistant line) every ``TALK_TURN_SECONDS`` of
the emulator's clock, written lazily by ``catch_up`` whenever the turns or the history are read.
Whether the agent may be spoken to at all is the store's decision, not this module's.
"""

from __future__ import annotations

import math
from typing import Final

from reconciler.agora import wire
from reconciler.emulator.agent import Agent

MAX_HISTORY_DEFAULT: Final = 32
TURNS_PAGE_SIZE_DEFAULT: Final = 50
THINK_PREFIX: Final = "[think API injected] "
TALK_TURN_SECONDS: Final = 5.0


def talk(agent: Agent, *, seconds: float, now: float) -> None:
    """Have a caller talk with the agent from ``now`` for ``seconds`` (after what was before)."""
    catch_up(agent, now=now)
    agent.talking_until = now + seconds
    agent.talked_to = now


def catch_up(agent: Agent, *, now: float) -> None:
    """Write the turns the talking caller has had by ``now``, each at the time it happened."""
    if agent.talking_until is None or agent.talked_to is None:
        return
    # A stopped agent's conversation ended with it (its history was already handed over).
    end = min(now, agent.talking_until, math.inf if agent.stop_ts is None else agent.stop_ts)
    at = agent.talked_to
    while at <= end:
        if agent.live:
            _remember(agent, wire.HistoryEntry(role="user", content="(the caller speaks)"))
            _remember(agent, wire.HistoryEntry(role="assistant", content="(the agent answers)"))
        _add_turn(agent, start_type="voice_input", now=at)
        at += TALK_TURN_SECONDS
    agent.talked_to = at
    if at > end and end < now:
        agent.talking_until = agent.talked_to = None


def record_speak(agent: Agent, *, text: str, now: float) -> None:
    _remember(agent, wire.HistoryEntry(role="assistant", content=text))
    _add_turn(agent, start_type="api_speak", now=now)


def record_think(agent: Agent, *, text: str, now: float) -> None:
    _remember(agent, wire.HistoryEntry(role="user", content=THINK_PREFIX + text))
    _add_turn(agent, start_type="voice_input", now=now)


def record_interrupt(agent: Agent, *, now: float) -> None:
    if not agent.turns:
        return
    cut = wire.TurnEdge(
        type="interrupted",
        end_at=_ms(now),
        metadata={"caused_by": "api_interrupt", "transport": "http"},
    )
    agent.turns[-1] = agent.turns[-1].model_copy(update={"end": cut})


def turns_page(
    agent: Agent, *, page_index: int | None, page_size: int | None
) -> wire.TurnsResponse:
    """One page of turns, 1-based; a page past the end is empty and marked last."""
    index = page_index or 1
    size = page_size or TURNS_PAGE_SIZE_DEFAULT
    total_pages = max(1, math.ceil(len(agent.turns) / size))
    return wire.TurnsResponse(
        agent_id=agent.agent_id,
        name=agent.name,
        channel=agent.channel,
        total_turn_count=len(agent.turns),
        pagination=wire.Pagination(
            page_index=index, total_pages=total_pages, is_last_page=index >= total_pages
        ),
        turns=tuple(agent.turns[(index - 1) * size : index * size]),
    )


def _remember(agent: Agent, entry: wire.HistoryEntry) -> None:
    llm = agent.properties.get("llm")
    limit = llm.get("max_history") if isinstance(llm, dict) else None
    agent.history.append(entry)
    del agent.history[: -(limit or MAX_HISTORY_DEFAULT)]


def _add_turn(agent: Agent, *, start_type: str, now: float) -> None:
    at = _ms(now)
    agent.turns.append(
        wire.Turn(
            turn_id=len(agent.turns) + 1,
            agent_id=agent.agent_id,
            channel=agent.channel,
            start=wire.TurnEdge(type=start_type, start_at=at, metadata={"transport": "http"}),
            end=wire.TurnEdge(type="ok", end_at=at),
        )
    )


def _ms(now: float) -> int:
    return int(now * 1000)
