"""How a Profile's properties and an agent's combine: maps merge, lists replace, null removes.

Kustomize and Helm users expect this: an agent overrides one field deep inside ``llm.params``
without repeating the rest, but replaces a list such as ``system_messages`` whole, since merging
two lists of messages has no meaning anyone could guess. Pure functions on JSON-like data.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """``over`` deep-merged onto ``base``: maps merge, lists and scalars replace, null removes.

    ``base`` must hold no nulls (see ``without_nulls``); what ``over`` leaves alone is shared with
    it, not copied, so ten thousand agents on one profile hold one copy of its settings.
    """
    out = {key: value for key, value in base.items() if key not in over}
    for key, value in over.items():
        below = base.get(key)
        if value is None:
            continue
        if isinstance(value, dict) and isinstance(below, dict):
            out[key] = merge(below, value)
        else:
            out[key] = without_nulls(value)
    return out


def without_nulls(value: Any) -> Any:
    """A copy of the mappings in ``value`` without null entries: null removes, it is never sent."""
    if isinstance(value, Mapping):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    return value
