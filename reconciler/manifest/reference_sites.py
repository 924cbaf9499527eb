"""Where each secret reference is written, so that a reference that fails at plan or apply time
points at the line a person must fix, as ``validate --resolve-secrets`` does.

The loader records every ``${env:...}`` and ``${file:...}`` reference with its file, line, column
and field path as written (camelCase, ``spec.properties.tts.params.key``), and where each
document starts. A desired agent only knows where its own definition starts, and its properties
may come from a profile in another file; ``ReferenceIndex.locate`` finds the place that holds
the reference: in the agent's own document if it is written there, else where the same field
holds it (a profile), else wherever it is written. Only names and positions are kept, never a
value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from reconciler.manifest import secrets
from reconciler.manifest.diagnostics import Loc, SourceLocation, field_path
from reconciler.manifest.yaml_nodes import YamlDocument


@dataclass(frozen=True, slots=True)
class ReferenceSite:
    """One place a reference is written: ``where`` it is, its ``field`` path, and the line its
    ``document`` starts on."""

    where: SourceLocation
    field: str
    document: int


@dataclass(frozen=True, slots=True)
class ReferenceIndex:
    """Every reference of a fleet (file references by absolute path) and its sites."""

    sites: Mapping[str, tuple[ReferenceSite, ...]] = field(default_factory=dict)
    documents: Mapping[str, tuple[int, ...]] = field(default_factory=dict)

    def locate(
        self, ref: str, *, near: SourceLocation | None, at: str | None
    ) -> ReferenceSite | None:
        """The site of ``ref`` that an error about it, raised for the definition at ``near`` and
        the field ``at`` (a dotted path, or None), should name; None when it is not indexed."""
        sites = self.sites.get(ref, ())
        if near is not None:
            starts = [line for line in self.documents.get(near.file, ()) if line <= near.line]
            if starts:
                own = [s for s in sites if s.where.file == near.file and s.document == starts[-1]]
                if own:
                    return own[0]
        if at is not None:
            same_field = [s for s in sites if _property_path(s.field) == _property_path(at)]
            if same_field:
                return same_field[0]
        return sites[0] if sites else None


EMPTY: Final = ReferenceIndex()


def sites_in(
    doc: YamlDocument, references: Iterable[tuple[Loc, str]]
) -> list[tuple[str, ReferenceSite]]:
    """Each reference written in ``doc`` (as found by ``secrets.scan``) and where it is."""
    start, _ = doc.position(())
    base_dir = Path(doc.path).parent
    found: list[tuple[str, ReferenceSite]] = []
    for loc, text in references:
        line, column = doc.position(loc)
        site = ReferenceSite(SourceLocation(doc.path, line, column), field_path(loc), start)
        found.extend(
            (canonical(ref, base_dir=base_dir), site) for ref in secrets.find_references(text)
        )
    return found


def index(
    pairs: Iterable[tuple[str, ReferenceSite]], documents: Iterable[YamlDocument]
) -> ReferenceIndex:
    """The index of a whole load: its references' sites, and where each document starts."""
    sites: dict[str, list[ReferenceSite]] = {}
    for ref, site in pairs:
        sites.setdefault(ref, []).append(site)
    starts: dict[str, set[int]] = {}
    for doc in documents:
        starts.setdefault(doc.path, set()).add(doc.position(())[0])
    return ReferenceIndex(
        sites={ref: tuple(found) for ref, found in sites.items()},
        documents={path: tuple(sorted(lines)) for path, lines in starts.items()},
    )


def canonical(ref: secrets.SecretRef, *, base_dir: Path) -> str:
    """The reference as the desired fleet holds it: a relative file path made absolute."""
    if ref.kind == "file" and ref.problem() is None:
        target = Path(ref.target).expanduser()
        if not target.is_absolute():
            return str(secrets.SecretRef("file", str((base_dir / target).resolve())))
    return str(ref)


def _property_path(path: str) -> str:
    """``tts.params.key`` of ``spec.properties.tts.params.key`` or of an AgentSet's
    ``spec.template.properties.tts.params.key``; other paths as they are."""
    head, found, tail = path.partition("properties.")
    return tail if found else head
