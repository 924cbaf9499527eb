"""Put valid documents together into a DesiredFleet, and say where they do not fit together.

This is where documents meet: names defined twice, references to missing projects or profiles,
profiles merged under agent properties (merge.py says how), AgentSets expanded to one agent per
channel, renames (``Moved``; moves.py says what may move), what a merged agent still lacks, uids
against the API's rules, two agents with one uid in one channel, and more agents than a
project's quota. Everything is a dict lookup, so ten thousand agents cost no more than ten
thousand times one. Pure: no files, no environment, no secrets resolved.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from reconciler.agora import wire
from reconciler.manifest import merge, models, moves, quota, resolve
from reconciler.manifest.desired import DesiredAgent, DesiredFleet
from reconciler.manifest.diagnostics import (
    Diagnostic,
    Loc,
    SourceLocation,
)
from reconciler.manifest.documents import Entry
from reconciler.manifest.rollout import RolloutSpec
from reconciler.manifest.yaml_nodes import Node, Seq
from reconciler.recurrence import Recurrence

_REQUIRED: Final = ("agent_rtc_uid", "remote_rtc_uids")
_ANY_UID: Final = frozenset({"0", "*"})


@dataclass(frozen=True, slots=True)
class Declared:
    """Names written in any readable document, valid or not, and whether every file was readable.

    A reference to a declared name that failed validation is not reported again; when some file
    was unreadable, a missing name may be in it, so missing references are not reported at all.
    """

    projects: frozenset[str]
    profiles: frozenset[str]
    complete: bool


@dataclass(frozen=True, slots=True)
class _Shape:
    """What every member of one Agent or AgentSet document shares: project, template, merge."""

    entry: Entry
    project: Entry
    profile: Entry | None
    template: models.AgentTemplate
    properties: dict[str, Any]
    join_fields: dict[str, str]


@dataclass(frozen=True, slots=True)
class _Common:
    """What every member of a shape is given alike, made once per shape: an AgentSet of 10,000
    channels then holds one ``properties`` mapping, which later stages walk once by identity."""

    properties: Mapping[str, Any]
    token: str | None
    archive_history: str | None
    rollout: RolloutSpec
    schedule: tuple[Recurrence, ...]
    channel_nodes: Sequence[Node] | None


@dataclass(frozen=True, slots=True)
class _Member:
    key: str
    name: str
    channel: str
    shape: _Shape
    common: _Common
    name_loc: Loc


def assemble(
    entries: Sequence[Entry], *, declared: Declared
) -> tuple[DesiredFleet, list[Diagnostic]]:
    """The fleet made of the valid entries, and every problem found between them."""
    sink: list[Diagnostic] = []
    projects = _unique(entries, "Project", sink)
    profiles = _unique(entries, "Profile", sink)
    bases = {name: merge.without_nulls(entry.properties) for name, entry in profiles.items()}
    members: list[_Member] = []
    for entry in entries:
        if isinstance(entry.model, models.Agent | models.AgentSet):
            shape = _shape(
                entry,
                projects=projects,
                profiles=profiles,
                bases=bases,
                declared=declared,
                sink=sink,
            )
            if shape is not None:
                members.extend(_members(shape, sink))
    agents: dict[str, DesiredAgent] = {}
    first: dict[str, _Member] = {}
    for member in members:
        if member.key in first:
            sink.append(
                member.shape.entry.diagnostic(
                    member.name_loc,
                    f"agent {member.key} is already defined at "
                    f"{first[member.key].shape.entry.where(first[member.key].name_loc)}",
                )
            )
            continue
        first[member.key] = member
        agents[member.key] = _desired(member)
    sink.extend(_uid_clashes(list(first.values())))
    sink.extend(quota.over_quota(projects, agents))
    _unique(entries, "Moved", sink)
    fleet = DesiredFleet(
        projects={name: resolve.project_spec(entry) for name, entry in sorted(projects.items())},
        agents=dict(sorted(agents.items())),
        moves=moves.collect(entries, projects=projects, agents=agents, sink=sink),
    )
    return fleet, sink


def _unique(entries: Sequence[Entry], kind: str, sink: list[Diagnostic]) -> dict[str, Entry]:
    found: dict[str, Entry] = {}
    for entry in entries:
        if entry.model.kind != kind:
            continue
        name = entry.model.metadata.name
        if name in found:
            earlier = found[name].where(("metadata", "name"))
            sink.append(
                entry.diagnostic(
                    ("metadata", "name"), f"{kind} {name} is already defined at {earlier}"
                )
            )
            continue
        found[name] = entry
    return found


def _shape(
    entry: Entry,
    *,
    projects: Mapping[str, Entry],
    profiles: Mapping[str, Entry],
    bases: Mapping[str, dict[str, Any]],
    declared: Declared,
    sink: list[Diagnostic],
) -> _Shape | None:
    model = entry.model
    assert isinstance(model, models.Agent | models.AgentSet)
    template = model.spec if isinstance(model, models.Agent) else model.spec.template
    template_loc: Loc = ("spec",) if isinstance(model, models.Agent) else ("spec", "template")
    project = _lookup(
        entry,
        kind="Project",
        name=model.metadata.project,
        loc=("metadata", "project"),
        known=projects,
        declared=declared.projects,
        complete=declared.complete,
        sink=sink,
    )
    profile = None
    if template.profile is not None:
        profile = _lookup(
            entry,
            kind="Profile",
            name=template.profile,
            loc=(*template_loc, "profile"),
            known=profiles,
            declared=declared.profiles,
            complete=declared.complete,
            sink=sink,
        )
        if profile is None:
            return None
    if project is None:
        return None
    base = bases[profile.model.metadata.name] if profile else {}
    merged = merge.merge(base, entry.properties)
    shape = _Shape(
        entry, project, profile, template, merged, resolve.join_fields(template, profile)
    )
    problems = list(_merged_problems(shape))
    sink.extend(problems)
    return None if any(d.is_error for d in problems) else shape


def _lookup(
    entry: Entry,
    *,
    kind: str,
    name: str,
    loc: Loc,
    known: Mapping[str, Entry],
    declared: frozenset[str],
    complete: bool,
    sink: list[Diagnostic],
) -> Entry | None:
    if name in known:
        return known[name]
    if name not in declared and complete:
        close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
        if close:
            hint = f" — did you mean {close[0]}?"
        elif known:
            hint = f" (defined: {', '.join(sorted(known))})"
        else:
            hint = " (none is defined)"
        sink.append(entry.diagnostic(loc, f"no {kind} named {name}{hint}"))
    return None


def _merged_problems(shape: _Shape) -> Iterator[Diagnostic]:
    """What the merged properties of one Agent or AgentSet lack, and uids the API would refuse."""
    props = shape.properties
    missing = [name for name in _REQUIRED if name not in props]
    for name in missing:
        where = f" or in profile {shape.profile.model.metadata.name}" if shape.profile else ""
        yield shape.entry.diagnostic(
            (*shape.entry.properties_loc, name),
            f"is required: set it here{where}",
            key=True,
        )
    if missing:
        return
    string_uid = props.get("enable_string_uid") is True
    uid = props["agent_rtc_uid"]
    problem = wire.uid_problem(uid, string_uid=string_uid)
    if problem:
        yield _at_origin(shape, ("agent_rtc_uid",), problem)
    for index, remote in enumerate(props["remote_rtc_uids"]):
        problem = wire.uid_problem(remote, string_uid=string_uid, wildcard=True)
        if problem:
            yield _at_origin(shape, ("remote_rtc_uids", index), problem)
    if uid not in _ANY_UID and uid in props["remote_rtc_uids"]:
        yield _at_origin(
            shape,
            ("agent_rtc_uid",),
            f"uid {uid} is also in remote_rtc_uids: the agent would listen to itself",
        )
    if not ({"llm", "tts"} <= props.keys() or "mllm" in props or shape.join_fields):
        yield shape.entry.diagnostic(
            shape.entry.properties_loc,
            "has no llm and tts (nor mllm), here or in its profile: "
            "the Agora API will refuse to start this agent",
            key=True,
            severity="warning",
        )


def _members(shape: _Shape, sink: list[Diagnostic]) -> Iterator[_Member]:
    model = shape.entry.model
    assert isinstance(model, models.Agent | models.AgentSet)
    owner = model.metadata.project
    common = _common(shape, f"{owner}/{model.metadata.name}")
    if isinstance(model, models.Agent):
        name = model.metadata.name
        at_name: Loc = ("metadata", "name")
        yield _Member(f"{owner}/{name}", name, model.spec.channel, shape, common, at_name)
        return
    for channel in model.spec.channel_schedules:
        if channel not in model.spec.channels:
            at: Loc = ("spec", "channelSchedules", channel)
            sink.append(
                shape.entry.diagnostic(at, f"channel {channel} is not in channels", key=True)
            )
    seen: dict[str, int] = {}
    for index, channel in enumerate(model.spec.channels):
        loc: Loc = ("spec", "channels", index)
        if channel in seen:
            sink.append(
                shape.entry.diagnostic(
                    loc, f"channel {channel} is already listed at [{seen[channel]}]"
                )
            )
            continue
        seen[channel] = index
        name = f"{model.metadata.name}-{channel}"
        yield _Member(f"{owner}/{name}", name, channel, shape, common, loc)


def _common(shape: _Shape, key: str) -> _Common:
    """``key`` names the agent of an Agent document (an AgentSet's rollout scope is its own)."""
    token = shape.properties.get("token")
    return _Common(
        properties={k: v for k, v in shape.properties.items() if k not in ("channel", "token")},
        token=token if isinstance(token, str) else None,
        archive_history=shape.template.archive_history or resolve.profile_archive(shape.profile),
        rollout=resolve.agent_rollout(shape.entry, shape.project, key),
        schedule=resolve.agent_schedule(shape.entry, shape.template, shape.profile, channel=None),
        channel_nodes=_channel_nodes(shape),
    )


def _channel_nodes(shape: _Shape) -> Sequence[Node] | None:
    """Where an AgentSet's channels are written, found once rather than walked to per member."""
    if not isinstance(shape.entry.model, models.AgentSet):
        return None
    channels = shape.entry.doc.node_at(("spec", "channels"))
    return channels.items if isinstance(channels, Seq) else None


def _source(member: _Member) -> SourceLocation:
    """Where ``member`` is written: its channel in an AgentSet, else its Agent document."""
    doc = member.shape.entry.doc
    nodes, index = member.common.channel_nodes, member.name_loc[-1]
    if nodes is not None and isinstance(index, int) and 0 <= index < len(nodes):
        return SourceLocation(doc.path, nodes[index].line, nodes[index].column)
    is_set = isinstance(member.shape.entry.model, models.AgentSet)
    line, column = doc.position(member.name_loc if is_set else ())
    return SourceLocation(doc.path, line, column)


def _desired(member: _Member) -> DesiredAgent:
    shape, common = member.shape, member.common
    model = shape.entry.model
    schedule = common.schedule
    if isinstance(model, models.AgentSet) and member.channel in model.spec.channel_schedules:
        schedule = resolve.agent_schedule(
            shape.entry, shape.template, shape.profile, member.channel
        )
    return DesiredAgent(
        key=member.key,
        project=shape.project.model.metadata.name,
        name=member.name,
        channel=member.channel,
        agent_rtc_uid=shape.properties["agent_rtc_uid"],
        properties=common.properties,
        token=common.token,
        restart_policy=shape.template.restart_policy,
        protect=shape.template.protect,
        archive_history=common.archive_history,
        source=_source(member),
        join_fields=shape.join_fields,
        rollout=common.rollout,
        schedule=schedule,
        priority=shape.template.priority,
        preemption=shape.template.preemption,
    )


def _uid_clashes(members: Sequence[_Member]) -> Iterator[Diagnostic]:
    """Every uid in a channel must be unique: agents' own uids, and the users they listen to."""
    agent_uid: dict[tuple[str, str, str], _Member] = {}
    user_uid: dict[tuple[str, str, str], _Member] = {}
    for member in members:
        shape = member.shape
        project = shape.project.model.metadata.name
        uid = shape.properties["agent_rtc_uid"]
        slot = (project, member.channel, uid)
        if uid not in _ANY_UID:
            if slot in agent_uid:
                other = agent_uid[slot]
                yield _at_origin(
                    shape,
                    ("agent_rtc_uid",),
                    f"uid {uid} is already used in channel {member.channel} by agent "
                    f"{other.key} ({other.shape.entry.where(other.name_loc)})",
                )
            elif slot in user_uid:
                other = user_uid[slot]
                yield _at_origin(
                    shape,
                    ("agent_rtc_uid",),
                    f"uid {uid} is already used in channel {member.channel} by the user "
                    f"agent {other.key} listens to",
                )
            agent_uid.setdefault(slot, member)
        for index, remote in enumerate(shape.properties["remote_rtc_uids"]):
            if remote in _ANY_UID:
                continue
            peer = (project, member.channel, remote)
            if peer in agent_uid and agent_uid[peer] is not member:
                yield _at_origin(
                    shape,
                    ("remote_rtc_uids", index),
                    f"uid {remote} is agent {agent_uid[peer].key}'s own uid in channel "
                    f"{member.channel}, not a user's",
                )
            user_uid.setdefault(peer, member)


def _at_origin(shape: _Shape, loc: Loc, message: str) -> Diagnostic:
    """Point at whichever of the agent or its profile wrote the (top-level) property."""
    source = shape.entry
    if loc[0] not in source.properties and shape.profile is not None:
        source = shape.profile
    return source.diagnostic((*source.properties_loc, *loc), message)
