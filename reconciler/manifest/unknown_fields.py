"""Warn about field names in ``properties`` that Agora does not document: most are typos.

Unknown fields stay allowed, since the API grows faster than any table of it; but at the levels
whose keys Agora's documentation lists in full (``agora.fields``) an unknown key is reported with
where it is written and the closest documented name, so ``ttss:`` or ``tts.vendr:`` no longer
pass silently. ``strict`` (``validate --strict``, or a Project's ``strictProperties``) makes the
same findings errors, for CI. Pure: one document in, diagnostics out.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Iterator, Mapping
from typing import Any, Final

from reconciler.agora import fields
from reconciler.manifest.diagnostics import Diagnostic, Loc, Severity, field_path
from reconciler.manifest.yaml_nodes import YamlDocument

_CUTOFF: Final = 0.6


def unknown_fields(
    doc: YamlDocument,
    *,
    at: Loc,
    properties: Mapping[str, Any],
    skip: Collection[str] = (),
    strict: bool = False,
) -> Iterator[Diagnostic]:
    """A diagnostic for each undocumented key of ``properties`` (written at ``at``) and of its
    known levels; ``skip`` names top-level keys another check already reports."""
    severity: Severity = "error" if strict else "warning"
    for key in properties:
        if key not in skip:
            yield from _check(doc, (*at, key), key, fields.PROPERTIES, "properties", severity)
    for name, known in fields.NESTED.items():
        level = properties.get(name)
        if isinstance(level, Mapping):
            for key in level:
                yield from _check(doc, (*at, name, key), key, known, name, severity)


def _check(
    doc: YamlDocument,
    loc: Loc,
    key: object,
    known: frozenset[str],
    level: str,
    severity: Severity,
) -> Iterator[Diagnostic]:
    if not isinstance(key, str) or key in known:
        return
    close = difflib.get_close_matches(key, sorted(known), n=1, cutoff=_CUTOFF)
    hint = f" — did you mean {close[0]}?" if close else ""
    message = f"is not a field Agora documents in {level}{hint} (it is sent as written)"
    line, column = doc.position(loc, key=True)
    yield Diagnostic(doc.path, line, column, field_path(loc), message, severity)
