"""Recovery by name: which live agent a key without a live owned agent may take over.

When the state is lost, emptied or stale, the live fleet still carries what ownership needs in
its names (``naming``): this fleet's prefix, the key's slug, the generation, and the digest of the
spec ``update`` cannot change. The planner asks ``pick`` for the agent a desired key should own
again, then ``adopt`` or ``replace`` for the change that takes it over; adopting re-sends the
fields ``update`` changes, since they are not in the name and their live values are unknown.

Only names in the digest form count: a name from before digests (or any other name) proves
nothing and stays reported, never touched. Keys not in the manifests are never asked about, so
their agents stay reported too. Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from reconciler import naming
from reconciler.manifest.desired import DesiredAgent
from reconciler.observe.fleet import LiveAgent, ObservedProject
from reconciler.plan import diff
from reconciler.plan.model import Action, Change


@dataclass(frozen=True)
class Candidate:
    """A live agent whose name carries our prefix, and what its name says."""

    live: LiveAgent
    parsed: naming.ParsedName


def by_slug(seen: ObservedProject, *, prefix: str) -> Mapping[str, Sequence[Candidate]]:
    """The project's live agents with our prefix, by slug, each slug's agents in id order."""
    index: dict[str, list[Candidate]] = {}
    for agent_id in sorted(seen.live):
        live = seen.live[agent_id]
        parsed = None if live.name is None else naming.parse(live.name, prefix=prefix)
        if parsed is not None:
            index.setdefault(parsed.slug, []).append(Candidate(live=live, parsed=parsed))
    return index


def pick(
    candidates: Iterable[Candidate], *, claimed: Iterable[str], digest: str
) -> Candidate | None:
    """The unclaimed digest-named agent a key takes over: one with its digest if any, else any.

    Among several (duplicates from an earlier loss), the newest generation wins, then the
    smallest id; the others stay reported. The caller adopts a match and replaces a mismatch.
    """
    taken = set(claimed)
    usable = [c for c in candidates if c.parsed.digest and c.live.agent_id not in taken]
    matching = [c for c in usable if c.parsed.digest == digest]
    pool = matching or usable
    if not pool:
        return None
    newest = max(c.parsed.generation for c in pool)
    return min((c for c in pool if c.parsed.generation == newest), key=lambda c: c.live.agent_id)


def adopt(
    agent: DesiredAgent,
    found: Candidate,
    *,
    view: diff.View,
    mints_token: bool,
    stale: str | None,
) -> Change:
    """Adopt a recovered agent whose digest is the manifests', re-sending the in-place fields."""
    return take_over(
        agent,
        found.live,
        generation=found.parsed.generation,
        view=view,
        mints_token=mints_token,
        stale=stale,
        why=f"{_found(stale)} and the manifests' spec digest",
    )


def take_over(
    agent: DesiredAgent,
    live: LiveAgent,
    *,
    generation: int,
    view: diff.View,
    mints_token: bool,
    stale: str | None,
    why: str,
) -> Change:
    """Own ``live`` for ``agent``'s key, trusting it runs the spec ``update`` cannot change.

    That trust is all a name (or an operator's ``import``) can give, so each in-place field the
    manifests set is sent whole, and a token the reconciler mints is minted afresh, since its
    expiry is unknown. ``why`` opens the change's reason.
    """
    known = diff.without_in_place(view.properties)
    fields = diff.diff(known, view.properties, sensitive=view.sensitive)
    update: dict[str, Any] = diff.in_place_update(agent, fields)
    if mints_token:
        update["token"] = None
    resent = "; re-sends " + ", ".join(update) if update else ""
    return Change(
        action=Action.ADOPT,
        key=agent.key,
        project=agent.project,
        reason=why + resent,
        remote_name=live.name or live.agent_id,
        generation=generation,
        agent_id=live.agent_id,
        fields=fields,
        update=MappingProxyType(update),
        protect=agent.protect,
        recovered=True,
        stale_agent_id=stale,
    )


def replace(
    agent: DesiredAgent,
    found: Candidate,
    *,
    view: diff.View,
    fresh: tuple[str, int, str],
    stale: str | None,
) -> Change:
    """Replace a recovered agent whose digest is not the manifests': what it runs is unknown.

    ``fresh`` is the planner's next name, its generation, and the note its reason takes.
    """
    name, generation, note = fresh
    digest = diff.spec_digest(agent)
    return Change(
        action=Action.REPLACE,
        key=agent.key,
        project=agent.project,
        reason=(
            f"{_found(stale)}, but its spec digest {found.parsed.digest} is not the "
            f"manifests' {digest}: forces replacement{note}"
        ),
        remote_name=name,
        generation=generation,
        agent_id=found.live.agent_id,
        previous_name=found.live.name,
        fields=diff.leaves(view),
        protect=agent.protect,
        leaves_live=True,
        recovered=True,
        stale_agent_id=stale,
    )


def _found(stale: str | None) -> str:
    """How the plan's reason says why a live agent without a record is taken over."""
    if stale is None:
        return "no record owns it, but it carries this fleet's name for the key"
    return f"the record's agent {stale} has ended, and this one carries this fleet's name"
