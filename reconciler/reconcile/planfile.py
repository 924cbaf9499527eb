"""Saved plans (``plan --out``): a plan and what it was made from, so apply can refuse it stale.

A plan file pins the state's lineage and serial, a fingerprint of the observed fleet (each live
agent's id and status, and how each owned agent ended) and the digest of the manifests. If any
of them moved, the plan may no longer be right, and ``staleness`` says which. The plan itself is
stored in the JSON view's schema (``render.json``), so a plan file holds no secret either.

It reads and writes only the plan file; it must not decide whether to apply.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

from reconciler import files, render
from reconciler.errors import StateError
from reconciler.observe.fleet import ObservedFleet
from reconciler.plan import (
    Action,
    Change,
    Cost,
    Held,
    HoldRule,
    Plan,
    QuotaCheck,
    Report,
    ReportKind,
    Rollout,
    Waiting,
    Window,
)
from reconciler.plan.diff import ABSENT, FieldDiff

PLANFILE_VERSION: Final = "1"


@dataclass(frozen=True)
class PlanFile:
    """A plan and its provenance; ``lineage`` is None when the state did not exist yet."""

    plan: Plan
    lineage: str | None
    serial: int
    observed_fingerprint: str
    manifests_digest: str


def observed_fingerprint(observed: ObservedFleet) -> str:
    """A digest of who is live with which status, and how owned agents ended, per project."""
    lines: list[str] = []
    for project, seen in sorted(observed.projects.items()):
        lines.extend(f"{project}\tlive\t{a.agent_id}\t{a.status}" for a in seen.live.values())
        lines.extend(f"{project}\tended\t{a.agent_id}\t{a.status}" for a in seen.ended.values())
    return "sha256:" + hashlib.sha256("\n".join(sorted(lines)).encode()).hexdigest()


def staleness(
    planfile: PlanFile, *, lineage: str | None, serial: int, observed_fp: str, digest: str
) -> list[str]:
    """What moved since the plan was made, one sentence each; empty when it is still current."""
    moved = []
    if planfile.lineage is not None and lineage != planfile.lineage:
        moved.append(f"the state is another one (lineage {planfile.lineage} -> {lineage})")
    if serial != planfile.serial:
        moved.append(f"the state changed (serial {planfile.serial} -> {serial})")
    if observed_fp != planfile.observed_fingerprint:
        moved.append("the live agents changed since the plan was made")
    if digest != planfile.manifests_digest:
        moved.append("the manifests changed since the plan was made")
    return moved


def dumps(planfile: PlanFile) -> str:
    """The plan file's text: sorted, indented JSON."""
    document = {
        "planfile_version": PLANFILE_VERSION,
        "lineage": planfile.lineage,
        "serial": planfile.serial,
        "observed_fingerprint": planfile.observed_fingerprint,
        "manifests_digest": planfile.manifests_digest,
        "plan": render.plan_document(planfile.plan, every_fingerprint=True),
    }
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_planfile(path: Path, planfile: PlanFile) -> None:
    """Write atomically (a reader sees the old file or the new one, never half of one);
    ``StateError`` naming the path when it cannot be written, e.g. under a plain file."""
    try:
        files.write_private(path, dumps(planfile))
    except OSError as exc:
        where = exc.filename or path
        raise StateError(
            f"plan file {path} cannot be written: {exc.strerror or exc} ({where})"
        ) from exc


def load_planfile(path: Path) -> PlanFile:
    """Read a plan file; ``StateError`` when it is missing, damaged or of another version."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise StateError(f"plan file {path} cannot be read: {exc.strerror}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise StateError(f"plan file {path} is not JSON: {exc}") from None
    try:
        return loads(document)
    except (KeyError, TypeError, ValueError) as exc:
        raise StateError(f"plan file {path} is damaged: {type(exc).__name__} {exc}") from None


def loads(document: Any) -> PlanFile:
    """The plan file held by parsed JSON; KeyError, TypeError or ValueError when malformed."""
    version = document["planfile_version"]
    if version != PLANFILE_VERSION:
        raise ValueError(f"version {version!r} is not {PLANFILE_VERSION!r}")
    plan = document["plan"]
    if plan["format_version"] != render.FORMAT_VERSION:
        raise ValueError(f"plan format {plan['format_version']!r} is not supported")
    return PlanFile(
        plan=Plan(
            changes=tuple(_change(item) for item in plan["changes"]),
            reports=tuple(_report(item) for item in plan["reports"]),
            quota=tuple(_quota(item) for item in plan["quota"]),
            owned_live=int(plan["owned_live"]),
            held=tuple(_held(item) for item in plan.get("held", ())),
            rollouts=tuple(_rollout(item) for item in plan.get("rollouts", ())),
            owned_by_project=MappingProxyType(
                {str(k): int(v) for k, v in plan.get("owned_by_project", {}).items()}
            ),
            windows=tuple(Window(**item) for item in plan.get("windows", ())),
            waiting=tuple(Waiting(**item) for item in plan.get("waiting", ())),
            costs=tuple(_cost(item) for item in plan.get("costs", ())),
        ),
        lineage=_optional_str(document["lineage"]),
        serial=int(document["serial"]),
        observed_fingerprint=str(document["observed_fingerprint"]),
        manifests_digest=str(document["manifests_digest"]),
    )


def _change(item: Any) -> Change:
    return Change(
        action=Action(item["action"]),
        key=str(item["key"]),
        project=str(item["project"]),
        reason=str(item["reason"]),
        remote_name=str(item["remote_name"]),
        generation=int(item["generation"]),
        agent_id=_optional_str(item["agent_id"]),
        previous_name=_optional_str(item["previous_name"]),
        fields=tuple(_field(field) for field in item["fields"]),
        update=MappingProxyType(dict(item["update"])),
        protect=bool(item["protect"]),
        leaves_live=bool(item["leaves_live"]),
        wave=int(item.get("wave", 0)),
        recovered=bool(item.get("recovered", False)),
        stale_agent_id=_optional_str(item.get("stale_agent_id")),
        moved_from=_optional_str(item.get("moved_from")),
    )


def _cost(item: Any) -> Cost:
    names = {field.name for field in dataclasses.fields(Cost)}
    return Cost(**{name: value for name, value in item.items() if name in names})


def _held(item: Any) -> Held:
    return Held(
        change=_change(item["change"]), rule=HoldRule(item["rule"]), reason=str(item["reason"])
    )


def _rollout(item: Any) -> Rollout:
    return Rollout(
        scope=str(item["scope"]),
        project=str(item["project"]),
        size=int(item["size"]),
        max_unavailable=int(item["max_unavailable"]),
        unavailable=int(item["unavailable"]),
        waves=int(item["waves"]),
        pause_seconds=float(item["pause_seconds"]),
        deadline_seconds=float(item["deadline_seconds"]),
        keys=tuple(str(key) for key in item["keys"]),
        defer_seconds=float(item.get("defer_seconds", 0.0)),
    )


def _field(item: Any) -> FieldDiff:
    sensitive = bool(item["sensitive"])
    suffix = "_fingerprint" if sensitive else ""
    # Plan files written before ``kind`` existed say which sides exist only by the keys present.
    kind = item.get("kind")
    if kind not in (None, "add", "remove", "change"):
        raise ValueError(f"field kind {kind!r} is not add, remove or change")
    return FieldDiff(
        path=str(item["path"]),
        before=_side(item, "before" + suffix, exists=kind in ("remove", "change")),
        after=_side(item, "after" + suffix, exists=kind in ("add", "change")),
        sensitive=sensitive,
        in_place=bool(item["in_place"]),
    )


def _side(item: Any, name: str, *, exists: bool) -> Any:
    """One side of a field: its stored value or fingerprint; None for a side that exists but was
    stored without either (a secret with no fingerprint to show, which no view ever prints)."""
    if name in item:
        return item[name]
    return None if exists else ABSENT


def _report(item: Any) -> Report:
    return Report(
        kind=ReportKind(item["kind"]),
        project=str(item["project"]),
        message=str(item["message"]),
        agent_id=_optional_str(item["agent_id"]),
        key=_optional_str(item["key"]),
        name=_optional_str(item["name"]),
        status=_optional_str(item["status"]),
    )


def _quota(item: Any) -> QuotaCheck:
    return QuotaCheck(
        project=str(item["project"]),
        limit=int(item["limit"]),
        live=int(item["live"]),
        leaving=int(item["leaving"]),
        joining=int(item["joining"]),
    )


def _optional_str(value: Any) -> str | None:
    return None if value is None else str(value)
