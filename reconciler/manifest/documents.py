"""Judge one YAML document on its own: its kind, its fields and its secrets.

Every check here needs only the document in hand; what documents mean together (references,
merging, uniqueness, quotas) is assemble.py's business. Problems become diagnostics, never
exceptions, and a secret's value never appears in one.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from pydantic import ValidationError

from reconciler.manifest import explain, models, reference_sites, secrets
from reconciler.manifest import unknown_fields as check_fields
from reconciler.manifest.diagnostics import Diagnostic, Loc, Severity, field_path
from reconciler.manifest.yaml_nodes import Scalar, YamlDocument

Model = models.Document

PROPERTIES_AT: Final[dict[str, Loc]] = {
    "Agent": ("spec", "properties"),
    "AgentSet": ("spec", "template", "properties"),
    "Profile": ("spec", "properties"),
}
_RESERVED: Final = {
    "channel": "it is set from spec.channel (spec.channels for an AgentSet)",
    "preset": "preset is a top-level join field: set preset beside properties",
    "pipeline_id": "pipeline_id is a top-level join field: set pipelineId beside properties",
}


@dataclass(frozen=True, slots=True)
class Entry:
    """A document whose fields are valid, with its ``properties`` as written.

    ``properties`` keeps every field written, known or not, with relative ``${file:...}`` paths
    made absolute from the document's directory. ``references`` is every secret reference
    written in its spec, by where it is (``secrets.scan``).
    """

    doc: YamlDocument
    model: Model
    properties: Mapping[str, Any]
    references: tuple[tuple[Loc, str], ...] = ()

    @property
    def properties_loc(self) -> Loc:
        return PROPERTIES_AT.get(self.model.kind, ())

    def diagnostic(
        self, loc: Loc, message: str, *, key: bool = False, severity: Severity = "error"
    ) -> Diagnostic:
        """A problem with the field at ``loc`` (its key with ``key=True``), where it is written."""
        line, column = self.doc.position(loc, key=key)
        return Diagnostic(self.doc.path, line, column, field_path(loc), message, severity)

    def where(self, loc: Loc) -> str:
        """``path:line:column`` of the field at ``loc``, for messages that point at another."""
        line, column = self.doc.position(loc)
        return f"{self.doc.path}:{line}:{column}"


def declared(doc: YamlDocument) -> tuple[str, str] | None:
    """``(kind, name)`` as written, even in a document whose other fields are wrong.

    References are checked against these, so one broken Project does not also make every agent
    that names it complain that the project is missing.
    """
    data = doc.data
    if not isinstance(data, dict):
        return None
    kind, metadata = data.get("kind"), data.get("metadata")
    name = metadata.get("name") if isinstance(metadata, dict) else None
    return (kind, name) if isinstance(kind, str) and isinstance(name, str) else None


def read(
    doc: YamlDocument,
    *,
    environ: Mapping[str, str] | None,
    roots: tuple[Path, ...] | None = None,
) -> tuple[Entry | None, list[Diagnostic]]:
    """The typed document and its diagnostics; with ``environ`` every reference is also resolved.

    With ``roots``, every ``${file:}`` reference must point into one of them
    (``secrets.file_problem``), whether or not it is resolved.
    """
    data = doc.data
    if not isinstance(data, dict):
        line, column = doc.position(())
        message = "a manifest document must be a mapping of apiVersion, kind, metadata and spec"
        return None, [Diagnostic(doc.path, line, column, None, message)]
    kind = data.get("kind")
    model_type = models.KINDS.get(kind) if isinstance(kind, str) else None
    if model_type is None:
        return None, [_unknown_kind(doc, kind)]
    if doc.broken:
        return None, []
    diagnostics: list[Diagnostic] = []
    model: Model | None = None
    try:
        model = model_type.model_validate(data)
    except ValidationError as exc:
        diagnostics.extend(explain.explain(exc, doc=doc, model=model_type))
    spec = data.get("spec")
    found = secrets.scan(spec if isinstance(spec, dict) else {}, ("spec",))
    diagnostics.extend(_secret_problems(doc, found, environ=environ, roots=roots))
    props_loc = PROPERTIES_AT.get(model_type.__name__, ())
    raw = _get(data, props_loc)
    properties = raw if isinstance(raw, dict) else {}
    for name, why in _RESERVED.items():
        if name in properties:
            line, column = doc.position((*props_loc, name), key=True)
            where = field_path((*props_loc, name))
            diagnostics.append(Diagnostic(doc.path, line, column, where, f"remove it: {why}"))
    diagnostics.extend(_ambiguity_warnings(doc, judged=diagnostics))
    if model is None:
        return None, diagnostics
    # The scan above already holds every reference, so the properties need no second walk to tell.
    names_a_file = any(
        loc[: len(props_loc)] == props_loc and "${file:" in text for loc, text in found.references
    )
    if names_a_file:
        properties = absolute_files(properties, base_dir=Path(doc.path).parent)
    return Entry(doc, model, properties, found.references), diagnostics


def unknown_fields(entry: Entry) -> Iterator[Diagnostic]:
    """Warnings for the property names Agora does not document, where they are written; the
    reserved names have their own error above. A Project holds no properties."""
    if entry.model.kind not in PROPERTIES_AT:
        return iter(())
    return check_fields.unknown_fields(
        entry.doc, at=entry.properties_loc, properties=entry.properties, skip=_RESERVED
    )


def _unknown_kind(doc: YamlDocument, kind: object) -> Diagnostic:
    known = sorted(models.KINDS)
    line, column = doc.position(("kind",))
    if not isinstance(kind, str):
        wanted = "is required" if kind is None else "must be a word"
        return Diagnostic(doc.path, line, column, "kind", f"{wanted} (one of {', '.join(known)})")
    close = difflib.get_close_matches(str(kind), known, n=1, cutoff=0.6)
    hint = f" — did you mean {close[0]}?" if close else f" (expected one of {', '.join(known)})"
    return Diagnostic(doc.path, line, column, "kind", f"unknown kind {kind!r}{hint}")


def _get(data: Any, loc: Loc) -> Any:
    for part in loc:
        if not isinstance(data, dict):
            return None
        data = data.get(part)
    return data


def _secret_problems(
    doc: YamlDocument,
    found: secrets.Scan,
    *,
    environ: Mapping[str, str] | None,
    roots: tuple[Path, ...] | None,
) -> Iterator[Diagnostic]:
    for loc, value in found.secret_fields:
        if value is None or value == "" or secrets.is_reference(value):
            continue
        line, column = doc.position(loc)
        yield Diagnostic(
            doc.path,
            line,
            column,
            field_path(loc),
            "is a secret: write a reference such as ${env:NAME} or ${file:PATH}, never the value",
        )
    base_dir = Path(doc.path).parent
    for loc, text in found.references:
        for ref in secrets.find_references(text):
            problem = ref.problem()
            if problem is None and roots is not None:
                problem = secrets.file_problem(ref, base_dir=base_dir, roots=roots)
            if problem is None and environ is not None:
                try:
                    secrets.resolve(ref, environ=environ, base_dir=base_dir)
                except secrets.SecretUnavailableError as exc:
                    problem = exc.message
            if problem:
                line, column = doc.position(loc)
                yield Diagnostic(doc.path, line, column, field_path(loc), problem)


def _ambiguity_warnings(doc: YamlDocument, *, judged: list[Diagnostic]) -> Iterator[Diagnostic]:
    """A yes/no/on/off or 0755 no error covers: valid, but other tools read it otherwise.

    A secret field gets none: the warning quotes the text, and a literal secret is an error anyway.
    """
    taken = {(d.line, d.column) for d in judged}
    for loc in doc.ambiguous:
        if secrets.is_secret_path(loc):
            continue
        node = doc.node_at(loc)
        if not isinstance(node, Scalar) or (node.line, node.column) in taken:
            continue
        value: Any = doc.data
        for part in loc:
            value = value[part]
        if isinstance(value, bool):
            shown = str(value).lower()
            advice = f"YAML 1.2 tools as a word: write {shown}, or quote it if you meant the word"
        else:
            shown = str(value)
            advice = f"YAML 1.2 tools differently: write {shown} if you meant it"
        message = f"YAML 1.1 reads an unquoted {node.text} as {shown}, {advice}"
        where = field_path(loc) or None
        yield Diagnostic(doc.path, node.line, node.column, where, message, severity="warning")


def absolute_files(value: Any, *, base_dir: Path) -> Any:
    """The same data with every relative ``${file:...}`` path joined to ``base_dir``.

    A string without a file reference comes back as it is; mappings and lists are copied, so a
    caller that knows there is no file reference inside (from ``secrets.scan``) skips the call.
    """
    if isinstance(value, str):
        if "${file:" not in value:
            return value
        for ref in secrets.find_references(value):
            value = value.replace(str(ref), reference_sites.canonical(ref, base_dir=base_dir))
        return value
    if isinstance(value, dict):
        return {key: absolute_files(item, base_dir=base_dir) for key, item in value.items()}
    if isinstance(value, list):
        return [absolute_files(item, base_dir=base_dir) for item in value]
    return value
