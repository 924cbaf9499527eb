"""The plan as JSON for machines, in a versioned schema (``format_version`` "1").

A consumer may rely on every field below; new fields may be added within version 1, and
anything else bumps ``format_version``. Keys are sorted and the output is byte-identical for
equal plans.

```
{
  "format_version": "1",
  "summary": {"move": 0, "create": 0, "update": 0, "replace": 0, "delete": 0, "stop": 0,
              "recreate": 0, "renew-token": 0, "adopt": 0},   # move, stop: added in 1
  "changes": [                               # in apply order
    {"action": "move|create|update|replace|delete|stop|recreate|renew-token|adopt",
     "key": "prod/lobby", "project": "prod",
     "reason": "forces replacement: tts.vendor",
     "remote_name": "rc-prod--lobby-g2",     # acted on, or joined by create/replace/recreate
     "generation": 2,
     "previous_name": "rc-prod--lobby-g1",   # replace, recreate; else null
     "agent_id": "1NT29X...",                # the existing agent acted on; null for create
     "protect": false,
     "leaves_live": true,                    # a running agent leaves because of it
     "wave": 1,                              # replace: its rollout wave; else 0 (added in 1)
     "recovered": false,                     # adopt/replace of ours found by name, no record
     "stale_agent_id": null,                 # recovered: the ended agent the record named
     "moved_from": null,                     # move: the key the record had (added in 1)
     "fields": [
       {"path": "tts.vendor", "kind": "change", "in_place": false, "sensitive": false,
        "before": "microsoft", "after": "elevenlabs"},         # absent side: key omitted
       {"path": "tts.params.key", "kind": "add|remove|change", "in_place": false,
        "sensitive": true, "before_fingerprint": "1a2b3c4d5e6f7a8b", "after_fingerprint": "..."}
                                             # fingerprints: "change" only
     ],                                      # kind: which sides exist ("add": only after)
     "update": {"llm.params": {...}}}          # update only: whole new value per in-place field
  ],
  "reports": [{"kind": "unmanaged|ours-without-record|kept-stopped|unreachable",
               "project": "prod", "key": null, "agent_id": "...", "name": "...",
               "status": "RUNNING", "message": "..."}],
  "quota": [{"project": "prod", "limit": 20, "live": 3, "leaving": 0, "joining": 2,
             "peak": 5, "ok": true}],
  "owned_live": 3,
  "owned_by_project": {"prod": 3},          # added within version 1
  "held": [{"change": {...}, "rule": "mass-delete|protect|quota|rollout-budget|window",
            "reason": "..."}],              # held back from this pass (a change as above);
                                            # added within version 1
  "rollouts": [{"scope": "AgentSet prod/desk", "project": "prod", "size": 8,
                "max_unavailable": 2, "unavailable": 0, "waves": 4, "pause_seconds": 0.0,
                "deadline_seconds": 300.0, "keys": ["prod/desk-a", "..."],
                "defer_seconds": 0.0}],             # added in 1 (defer_seconds later in 1)
  "refusals": ["..."],                      # why changes are held back; empty when none is
  "windows": [{"key": "prod/desk-a", "project": "prod", "open": true,
               "next_start": 1774854000.0, "next_stop": 1774800000.0}],  # scheduled agents
  "waiting": [{"key": "prod/x", "project": "prod", "priority": 0,
               "reason": "waiting for quota: ..."}],  # not run for want of quota
  "costs": [{"project": "prod", "currency": "USD", "price_per_minute": 0.1,
             "running_before": 16, "running_after": 20, "hour_before": 96.0,
             "hour_after": 120.0, "month_before": 69120.0, "month_after": 86400.0,
             "peak": 20, "peak_at": 1774800000.0, "limit": 20}]
                                            # windows, waiting, costs: added within version 1
}
```

A sensitive field never carries a value: only, for a ``change``, the keyed fingerprint (HMAC
under the state's own key) of each side that holds one, so a person can see that it changed. An
``add`` or ``remove`` shows none, as the text view does: there is nothing to compare it with, and
before the first apply there is no state key yet, so its fingerprint would differ between two
runs on equal inputs. Since a side may exist without a fingerprint to show, ``kind`` (added within
version 1) is what says which sides exist. ``update`` values keep secret references such as
``${env:NAME}`` unresolved.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from typing import Any, Final

from reconciler.plan import Change, Cost, Held, Plan, QuotaCheck, Report
from reconciler.plan.diff import ABSENT, FieldDiff
from reconciler.render import common

FORMAT_VERSION: Final = "1"


def render_json(plan: Plan, *, refusals: Sequence[str] = ()) -> str:
    """The plan document as indented JSON with sorted keys, ending in a newline."""
    document = plan_document(plan, refusals=refusals)
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def plan_document(
    plan: Plan, *, refusals: Sequence[str] = (), every_fingerprint: bool = False
) -> dict[str, Any]:
    """The plan as plain JSON data in the schema of this module's docstring.

    ``every_fingerprint`` keeps the fingerprints of added and removed sides too: a saved plan
    stores them so that it loads back as exactly the plan that was made.
    """
    return {
        "format_version": FORMAT_VERSION,
        "summary": {str(action): count for action, count in plan.counts().items()},
        "changes": [_change(change, every_fingerprint) for change in plan.changes],
        "reports": [_report(report) for report in plan.reports],
        "quota": [_quota(check) for check in plan.quota],
        "owned_live": plan.owned_live,
        "owned_by_project": dict(plan.owned_by_project),
        "held": [_held(held, every_fingerprint) for held in plan.held],
        "rollouts": [dataclasses.asdict(rollout) for rollout in plan.rollouts],
        "refusals": list(refusals),
        "windows": [dataclasses.asdict(window) for window in plan.windows],
        "waiting": [dataclasses.asdict(waiting) for waiting in plan.waiting],
        "costs": [_cost(cost) for cost in plan.costs],
    }


def _cost(cost: Cost) -> dict[str, Any]:
    return {
        **dataclasses.asdict(cost),
        "hour_before": cost.hour_before,
        "hour_after": cost.hour_after,
    }


def _change(change: Change, every_fingerprint: bool) -> dict[str, Any]:
    return {
        "action": str(change.action),
        "key": change.key,
        "project": change.project,
        "reason": change.reason,
        "remote_name": change.remote_name,
        "generation": change.generation,
        "previous_name": change.previous_name,
        "agent_id": change.agent_id,
        "protect": change.protect,
        "leaves_live": change.leaves_live,
        "wave": change.wave,
        "recovered": change.recovered,
        "stale_agent_id": change.stale_agent_id,
        "moved_from": change.moved_from,
        "fields": [_field(field, every_fingerprint) for field in change.fields],
        "update": dict(change.update),
    }


def _held(held: Held, every_fingerprint: bool) -> dict[str, Any]:
    change = _change(held.change, every_fingerprint)
    return {"change": change, "rule": str(held.rule), "reason": held.reason}


def _field(field: FieldDiff, every_fingerprint: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "path": field.path,
        "kind": common.field_kind(field),
        "in_place": field.in_place,
        "sensitive": field.sensitive,
    }
    compared = every_fingerprint or out["kind"] == "change"
    for side, data in (("before", field.before), ("after", field.after)):
        if data is ABSENT:
            continue
        if not field.sensitive:
            out[side] = data
        elif compared and common.short_fingerprint(data) is not None:
            out[f"{side}_fingerprint"] = data
    return out


def _report(report: Report) -> dict[str, Any]:
    return {
        "kind": str(report.kind),
        "project": report.project,
        "key": report.key,
        "agent_id": report.agent_id,
        "name": report.name,
        "status": report.status,
        "message": report.message,
    }


def _quota(check: QuotaCheck) -> dict[str, Any]:
    return {
        "project": check.project,
        "limit": check.limit,
        "live": check.live,
        "leaving": check.leaving,
        "joining": check.joining,
        "peak": check.peak,
        "ok": check.ok,
    }
