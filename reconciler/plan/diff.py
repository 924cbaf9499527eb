"""Field-level diffs between what an agent was last given and what the manifests now ask for.

It builds the comparable *view* of a desired agent (its join properties with every secret reference
replaced by the keyed fingerprint of its value, plus ``channel``, ``agent_rtc_uid`` and the
top-level join fields ``preset`` and ``pipeline_id``), the same
view apply stores in ``AgentRecord.applied_properties``, and says for each differing field whether
Agora's ``update`` can change it in place (design §1) or whether it forces a replacement. It also
says which flags a record keeps beside the view (``protect``, ``archiveHistory``) the manifests
now set otherwise.

Pure: no I/O, no clock, and it never sees a secret value, only references and fingerprints.
"""

from __future__ import annotations

import enum
import functools
import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final

from reconciler import naming
from reconciler.identity_memo import KeptBy
from reconciler.manifest import secrets
from reconciler.manifest.desired import DesiredAgent
from reconciler.state import AgentRecord

# The fields ``update`` replaces whole (API notes §7.3); anything else needs leave + join.
IN_PLACE_FIELDS: Final = ("llm.params", "llm.system_messages", "mllm.params", "token")
# Where apply keeps what the plan must remember about an agent beyond its properties, since a
# delete must honour it after the manifest entry is gone: ``protect``, and the directory its
# history is archived to (``ARCHIVE_KEY``). Never sent to Agora.
METADATA_KEY: Final = "$reconciler"
ARCHIVE_KEY: Final = "archiveHistory"
_IDENTITY_FIELDS: Final = ("channel", "agent_rtc_uid")


class Absent(enum.Enum):
    """A field that one side of a diff does not have (distinct from a JSON ``null``)."""

    ABSENT = "absent"


ABSENT: Final = Absent.ABSENT


@dataclass(frozen=True)
class FieldDiff:
    """One leaf that differs; a sensitive one holds fingerprints, never values or references."""

    path: str
    before: Any
    after: Any
    sensitive: bool
    in_place: bool


@dataclass(frozen=True)
class View:
    """A comparable agent spec and the paths of its leaves that hold secret fingerprints."""

    properties: Mapping[str, Any]
    sensitive: frozenset[str]


def is_in_place(path: str) -> bool:
    """Whether ``update`` can change the field at ``path`` (dotted) without a replacement."""
    return any(path == field or path.startswith(field + ".") for field in IN_PLACE_FIELDS)


def desired_view(agent: DesiredAgent, *, fingerprints: Mapping[str, str]) -> View:
    """The view of a desired agent, with each secret reference replaced by its fingerprint.

    A static ``token`` reference joins the view (so a rotated token shows as a change); a token
    the reconciler mints itself does not, since it changes on every renewal.
    """
    return Views(fingerprints).of(agent)


_OWN_FIELDS: Final = frozenset({"channel", "agent_rtc_uid"})


def _scalar(value: Any) -> bool:
    return isinstance(value, str | int | float | bool) or value is None


class Views:
    """``desired_view`` for the many agents of one plan, converting each shared part once.

    The agents of one AgentSet share their properties mapping and its parts, so the
    fingerprinted copy of a shared part is made once and shared by their views (views are read,
    never changed); only the fields each agent has of its own are converted per agent. A part
    is remembered by identity and path.
    """

    def __init__(self, fingerprints: Mapping[str, str]) -> None:
        self._fingerprints = fingerprints
        self._parts: KeptBy[tuple[Any, frozenset[str]]] = KeptBy()
        self._common: KeptBy[tuple[dict[str, Any], frozenset[str]]] = KeptBy()
        self._leaves: KeptBy[tuple[FieldDiff, ...]] = KeptBy()
        self._scalars: dict[tuple[str, type, Any, bool], FieldDiff] = {}

    @property
    def fingerprinting(self) -> bool:
        """Whether these views hold fingerprints (a spec digest needs views that hold none)."""
        return bool(self._fingerprints)

    def of(self, agent: DesiredAgent) -> View:
        """The view of ``agent``."""
        converted, shared = self._common.get(
            agent.properties, agent.token, lambda: self._convert(agent)
        )
        properties = dict(converted)
        sensitive = set(shared - _OWN_FIELDS)  # the agent's own values replace the shared ones
        properties["channel"] = self._part(agent.channel, "channel", sensitive)
        properties["agent_rtc_uid"] = self._part(agent.agent_rtc_uid, "agent_rtc_uid", sensitive)
        # preset and pipeline_id sit beside properties in the join body; the loader refuses them
        # inside properties, so the names cannot clash. Neither is in IN_PLACE_FIELDS: a change
        # to either replaces the agent.
        for key, item in agent.join_fields.items():
            properties[key] = self._part(item, key, sensitive)
        return View(properties=properties, sensitive=frozenset(sensitive))

    def leaves(self, view: View) -> tuple[FieldDiff, ...]:
        """``leaves(view)`` for a view these views made, each shared part's leaves found once.

        A part these views converted is one object in every view that shares it, with the same
        secret paths under it, so its leaves are the same too.
        """
        found: list[FieldDiff] = []
        for key, value in view.properties.items():
            if _scalar(value):
                found.append(self._scalar_leaf(key, value, sensitive=key in view.sensitive))
                continue
            made = functools.partial(diff, {}, {key: value}, sensitive=view.sensitive)
            found.extend(self._leaves.get(value, key, made))
        return tuple(sorted(found, key=lambda d: d.path))

    def _scalar_leaf(self, key: str, value: Any, *, sensitive: bool) -> FieldDiff:
        """``diff({}, {key: value})``'s one leaf, made once per field and value: most scalar
        fields (uid, timeouts) hold one value fleet-wide. The type is part of the key, since
        ``1``, ``1.0`` and ``True`` are equal but are not shown alike."""
        memo = (key, type(value), value, sensitive)
        leaf = self._scalars.get(memo)
        if leaf is None:
            leaf = self._scalars[memo] = _field_diff(key, ABSENT, value, sensitive=sensitive)
        return leaf

    def _convert(self, agent: DesiredAgent) -> tuple[dict[str, Any], frozenset[str]]:
        """The converted ``properties`` (and static ``token``) of ``agent``; its secret paths."""
        found: set[str] = set()
        spec: dict[str, Any] = dict(agent.properties)
        if agent.token is not None:
            spec["token"] = agent.token
        return {key: self._part(item, key, found) for key, item in spec.items()}, frozenset(found)

    def _part(self, value: Any, path: str, found: set[str]) -> Any:
        # What ``_fingerprinted`` does with a string, without the call: an agent's own channel
        # and uid come here on every pass (~10% of a 10k plan in sync).
        if type(value) is str:
            fingerprint = self._fingerprints.get(value)
            if fingerprint is None:
                return value
            found.add(path)
            return fingerprint
        if _scalar(value):
            return _fingerprinted(value, fingerprints=self._fingerprints, path=path, found=found)
        copied, inner = self._parts.get(value, path, lambda: self._copy(value, path))
        found.update(inner)
        return copied

    def _copy(self, value: Any, path: str) -> tuple[Any, frozenset[str]]:
        inner: set[str] = set()
        copied = _fingerprinted(value, fingerprints=self._fingerprints, path=path, found=inner)
        return copied, frozenset(inner)


def recorded_view(record: AgentRecord) -> Mapping[str, Any]:
    """What a record says its agent was last given, in the same shape as ``desired_view``."""
    spec = {k: v for k, v in record.applied_properties.items() if k != METADATA_KEY}
    spec["channel"] = record.channel
    spec["agent_rtc_uid"] = record.agent_rtc_uid
    return spec


def applied_properties(
    view: View, *, protect: bool, archive_history: str | None = None
) -> dict[str, Any]:
    """What apply stores in ``AgentRecord.applied_properties`` after joining or updating.

    Besides the properties, the flags a later delete must honour once the manifest entry is
    gone (``protect``, ``archiveHistory``), read back by ``recorded_protect`` and
    ``recorded_archive_directory``.
    """
    stored = {k: v for k, v in view.properties.items() if k not in _IDENTITY_FIELDS}
    stored[METADATA_KEY] = {"protect": protect}
    if archive_history is not None:
        stored[METADATA_KEY][ARCHIVE_KEY] = archive_history
    return stored


def recorded_protect(record: AgentRecord) -> bool:
    """The ``protect`` flag the agent had when it was last applied."""
    return _protected(_recorded(record))


def recorded_archive_directory(record: AgentRecord) -> str | None:
    """The ``archiveHistory`` directory the agent had when it was last applied, if any."""
    return _archive_directory(_recorded(record))


def _protected(recorded: Mapping[str, Any]) -> bool:
    return recorded.get("protect") is True


def _archive_directory(recorded: Mapping[str, Any]) -> str | None:
    directory = recorded.get(ARCHIVE_KEY)
    return directory if isinstance(directory, str) and directory else None


def flag_changes(record: AgentRecord, agent: DesiredAgent) -> tuple[str, ...]:
    """The recorded flags the manifest entry now sets otherwise, as the plan's reason words them.

    No view holds these flags, so a diff of properties cannot see them; yet a delete reads them
    from the record once the entry is gone, so a record left behind would refuse a delete no
    longer protected, let through one that now is, or archive to the wrong place.
    """
    found = []
    recorded = _recorded(record)
    if _protected(recorded) != agent.protect:
        found.append(f"protect: {str(agent.protect).lower()}")
    if _archive_directory(recorded) != agent.archive_history:
        found.append(f"{ARCHIVE_KEY}: {agent.archive_history or 'none'}")
    return tuple(found)


def spec_digest(agent: DesiredAgent, *, views: Views | None = None) -> str:
    """The short digest of what ``update`` cannot change, which every remote name carries.

    It is what recovery compares when the state is lost, so it must not need the state: secrets
    count by their reference, not by their fingerprint (keyed by the lost state) nor by their
    value (a name is public). The in-place fields are left out, since an update changes them
    without a new name; channel and uid are in. ``views``, made with no fingerprints, shares
    the conversion of the parts many agents share.
    """
    if views is not None and views.fingerprinting:
        raise ValueError("a spec digest counts secrets by reference: views without fingerprints")
    view = (views or Views({})).of(agent)
    fixed = _without(view.properties, IN_PLACE_FIELDS)
    canonical = json.dumps(fixed, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[: naming.DIGEST_LEN]


def spec_hash(view: View) -> str:
    """A stable hash of a view, for ``AgentRecord.spec_hash``."""
    canonical = json.dumps(view.properties, sort_keys=True, separators=(",", ":"), default=str)
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def diff(
    before: Mapping[str, Any], after: Mapping[str, Any], *, sensitive: frozenset[str]
) -> tuple[FieldDiff, ...]:
    """Every differing leaf, sorted by path; dicts are walked, lists compared whole.

    A leaf is sensitive when either side holds a fingerprint there (``sensitive`` names the
    desired side's) or its field name is a secret one, so that a removed secret stays masked too.
    """
    if before == after:
        return ()
    found = [
        _field_diff(path, old, new, sensitive=path in sensitive)
        for path, old, new in _leaf_changes(before, after, prefix="")
    ]
    return tuple(sorted(found, key=lambda d: d.path))


def _field_diff(path: str, before: Any, after: Any, *, sensitive: bool) -> FieldDiff:
    return FieldDiff(
        path=path,
        before=before,
        after=after,
        sensitive=sensitive or (secrets.is_secret_path(path) and _textual(before, after)),
        in_place=is_in_place(path),
    )


def leaves(view: View) -> tuple[FieldDiff, ...]:
    """Every leaf of a view as an addition, for showing what a new agent will be given."""
    return diff({}, view.properties, sensitive=view.sensitive)


def forcing_fields(diffs: tuple[FieldDiff, ...]) -> tuple[str, ...]:
    """The paths that force a replacement, in path order."""
    return tuple(d.path for d in diffs if not d.in_place)


def in_place_update(agent: DesiredAgent, diffs: tuple[FieldDiff, ...]) -> dict[str, Any]:
    """The whole new value of each in-place field that changed, keyed by its dotted path.

    Agora replaces each of these fields whole, so the value is the complete desired one, with
    secret references left as references for apply to resolve; a field the manifests dropped is
    sent empty. A ``token`` of None means "mint a fresh one".
    """
    desired: dict[str, Any] = {**agent.properties, "token": agent.token}
    update: dict[str, Any] = {}
    for field in IN_PLACE_FIELDS:
        if not any(_within(d.path, field) for d in diffs):
            continue
        value = _lookup(desired, field)
        if value is ABSENT and field != "token":
            value = [] if field.endswith("system_messages") else {}
        update[field] = value
    return update


def _textual(*values: Any) -> bool:
    """Whether either side could hold a secret: numbers and booleans never do (secret_fields)."""
    return any(not isinstance(v, int | float | bool | Absent) and v is not None for v in values)


def without_in_place(properties: Mapping[str, Any]) -> dict[str, Any]:
    """``properties`` without the fields ``update`` replaces: what a name's digest vouches for."""
    return _without(properties, IN_PLACE_FIELDS)


def _without(data: Mapping[str, Any], paths: Iterable[str]) -> dict[str, Any]:
    """A copy of ``data`` without the subtrees at the dotted ``paths``."""
    copy = dict(data)
    for path in paths:
        head, _, rest = path.partition(".")
        if head not in copy:
            continue
        if not rest:
            del copy[head]
        elif isinstance(copy[head], Mapping):
            copy[head] = _without(copy[head], (rest,))
    return copy


def _recorded(record: AgentRecord) -> Mapping[str, Any]:
    metadata = record.applied_properties.get(METADATA_KEY)
    return metadata if isinstance(metadata, Mapping) else {}


def _fingerprinted(
    value: Any, *, fingerprints: Mapping[str, str], path: str, found: set[str]
) -> Any:
    # Checks ordered by frequency, concrete types before the Mapping ABC: this runs for every
    # leaf of every desired agent on every pass.
    if isinstance(value, str):
        if value in fingerprints:
            found.add(path)
            return fingerprints[value]
        return value
    if isinstance(value, dict | MappingProxyType) or (
        not isinstance(value, list | tuple | int | float | bool) and isinstance(value, Mapping)
    ):
        prefix = f"{path}." if path else ""
        return {
            key: _fingerprinted(item, fingerprints=fingerprints, path=f"{prefix}{key}", found=found)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [
            _fingerprinted(item, fingerprints=fingerprints, path=path, found=found)
            for item in value
        ]
    return value


def _leaf_changes(before: Any, after: Any, *, prefix: str) -> Iterator[tuple[str, Any, Any]]:
    if isinstance(before, Mapping) and isinstance(after, Mapping):
        for key in sorted(set(before) | set(after)):
            old, new = before.get(key, ABSENT), after.get(key, ABSENT)
            if old != new:
                yield from _leaf_changes(old, new, prefix=_join(prefix, key))
        return
    if isinstance(before, Mapping) and before and after is ABSENT:
        for key in sorted(before):
            yield from _leaf_changes(before[key], ABSENT, prefix=_join(prefix, key))
        return
    if isinstance(after, Mapping) and after and before is ABSENT:
        for key in sorted(after):
            yield from _leaf_changes(ABSENT, after[key], prefix=_join(prefix, key))
        return
    yield prefix, before, after


def _lookup(data: Mapping[str, Any], path: str) -> Any:
    current: Any = data
    for part in path.split("."):
        if not isinstance(current, Mapping) or part not in current:
            return ABSENT
        current = current[part]
    return current


def _within(path: str, field: str) -> bool:
    return path == field or path.startswith(field + ".")


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else str(key)
