"""The records apply writes for agents the plan recovered by name (``plan.recovery``).

A recovered agent has no record yet, and what it was given is known only as far as its name
vouches: everything but the in-place fields when its digest matched, nothing when it did not.
Its record says exactly that much, so that a pass that stops half-way leaves a record the next
plan diffs honestly (in-place fields unsent: an update; nothing known: a replace).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler import naming
from reconciler.manifest.desired import DesiredAgent
from reconciler.plan import Change, diff
from reconciler.state import AgentRecord

HINT_RECOVERED = "recovered"


def still_recoverable(change: Change, record: AgentRecord | None) -> bool:
    """Whether the key's record is still as the recovering plan saw it: none, or no live agent."""
    return change.agent_id is not None and (
        record is None or record.agent_id in (None, change.stale_agent_id)
    )


def recovered_record(
    change: Change,
    agent: DesiredAgent,
    *,
    known: Mapping[str, Any],
    prefix: str,
    now: float,
    git_revision: str | None,
) -> AgentRecord:
    """The record of the agent recovery found (the one the change leaves or adopts).

    ``known`` is the part of the agent's view its name vouches for. An adopt's record is of
    the agent adopted; a replace's, of the agent that leaves (under its own generation).
    """
    assert change.agent_id is not None  # recovery names a live agent
    view = diff.View(properties=known, sensitive=frozenset())
    name, generation = change.remote_name, change.generation
    if change.previous_name is not None:  # a replace: the record is of the agent that leaves
        parsed = naming.parse(change.previous_name, prefix=prefix)
        name = change.previous_name
        generation = parsed.generation if parsed is not None else max(generation - 1, 0)
    return AgentRecord(
        key=change.key,
        project=change.project,
        remote_name=name,
        generation=generation,
        agent_id=change.agent_id,
        channel=agent.channel,
        agent_rtc_uid=agent.agent_rtc_uid,
        applied_properties=diff.applied_properties(
            view, protect=agent.protect, archive_history=agent.archive_history
        ),
        spec_hash=diff.spec_hash(view),
        token_expires_at=None,
        created_at=now,
        updated_at=now,
        git_revision=git_revision,
        status_hint=HINT_RECOVERED,
    )
