"""The manifest reference in README.md, written from the JSON Schema so it cannot drift.

Per kind: a heading, what the kind is for, a YAML skeleton, and a table of its fields; an object
nested in a spec (an AgentSet's ``template``, the shared ``properties``) gets one table of its own
where it first appears, and later rows link to it. Agora's own objects inside ``properties``
(``llm``, ``tts``, ...) stay one row each: Agora's documentation describes them, and any field of
theirs passes. The output is a pure function of the models; this module reads the schema and
nothing else, and writes only the README block it is asked to (``--write``).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Final

from reconciler.manifest import models, schema, secrets

START_MARKER: Final = "<!-- manifest-reference:start -->"
END_MARKER: Final = "<!-- manifest-reference:end -->"
README: Final = "README.md"
REGENERATE: Final = f"python -m reconciler.manifest.reference --write {README}"
# The README nests the reference under "### Reference".
_KIND_LEVEL: Final = "####"
_OBJECT_LEVEL: Final = "#####"
_REQUIRED: Final = "—"
_CODE_SPAN: Final = re.compile(r"(`+).+?\1")
_REF_PREFIX: Final = "#/$defs/"


def render_reference() -> str:
    """The Markdown that README.md holds between its reference markers."""
    document = schema.manifest_schema()
    return _Renderer(document["$defs"]).render()


def readme_block(text: str) -> str:
    """What a README holds between the markers (the markers' own lines excluded)."""
    start, end = _bounds(text)
    return text[start:end]


def with_reference(text: str, *, reference: str) -> str:
    """``text`` with the block between the markers replaced by ``reference``; the rest untouched."""
    start, end = _bounds(text)
    return text[:start] + reference + text[end:]


def _bounds(text: str) -> tuple[int, int]:
    head = text.find(START_MARKER + "\n")
    tail = text.find(END_MARKER, head)
    if head < 0 or tail < 0:
        raise ValueError(f"the markers {START_MARKER} and {END_MARKER} are not both there")
    return head + len(START_MARKER) + 1, tail


class _Renderer:
    """Walks the schema once; remembers which nested objects already have their table."""

    def __init__(self, defs: dict[str, Any]) -> None:
        self._defs = defs
        self._anchors: dict[str, str] = {}

    def render(self) -> str:
        return "\n".join(self._kind(kind) for kind in models.KINDS)

    def _kind(self, kind: str) -> str:
        document = self._defs[kind]
        metadata = self._resolve(document["properties"]["metadata"])
        spec = self._resolve(document["properties"]["spec"])
        skeleton = [
            "```yaml",
            f"apiVersion: {models.API_VERSION}",
            f"kind: {kind}",
            "metadata:",
            *(f"  {name}: <{name}>" for name in metadata["properties"]),
            "spec:",
            "  # the fields below",
            "```",
        ]
        nested: list[tuple[str, str]] = []
        rows = [
            *self._rows(metadata, prefix="metadata.", nested=nested),
            *self._rows(spec, prefix="spec.", nested=nested),
        ]
        parts = [
            f"{_KIND_LEVEL} {kind}\n",
            _paragraphs(document.get("description", "")),
            "\n".join(skeleton) + "\n",
            _table(rows),
        ]
        for field, name in nested:  # grows while it is read: objects nested in objects
            parts.append(self._object(field, name, nested=nested))
        return "\n".join(part for part in parts if part)

    def _object(self, field: str, name: str, *, nested: list[tuple[str, str]]) -> str:
        definition = self._defs[name]
        rows = list(self._rows(definition, prefix="", nested=nested))
        return "\n".join(
            [
                f"{_OBJECT_LEVEL} {_heading(field)}\n",
                _paragraphs(definition.get("description", "")),
                _table(rows),
            ]
        )

    def _rows(
        self, definition: dict[str, Any], *, prefix: str, nested: list[tuple[str, str]]
    ) -> Iterator[tuple[str, str, str, str]]:
        """One row per field, required ones first, each in the models' order.

        Objects nested in one of ours join ``nested`` to get a table; those nested in one of
        Agora's (open to any field) do not.
        """
        ours = definition.get("additionalProperties") is False
        required = set(definition.get("required", ()))
        fields = definition.get("properties", {})
        for field in sorted(fields, key=lambda name: name not in required):
            node = fields[field]
            target = _ref_name(_item(_unwrap(node)))
            if ours and target and target not in self._anchors and self._has_fields(target):
                self._anchors[target] = _slug(_heading(field))
                nested.append((field, target))
            yield (
                f"`{prefix}{field}`",
                self._type(node),
                _default(node, required=field in required),
                _clean(node.get("description", "")),
            )

    def _has_fields(self, name: str) -> bool:
        return "properties" in self._defs[name]

    def _type(self, node: dict[str, Any]) -> str:
        node = _unwrap(node)
        target = _ref_name(node)
        if target is not None:
            definition = self._defs[target]
            if "enum" in definition:
                return " | ".join(str(value) for value in definition["enum"])
            anchor = self._anchors.get(target)
            return f"[object](#{anchor})" if anchor else "object"
        if "const" in node:
            return f"`{node['const']}`"
        kind = node.get("type")
        if kind == "string":
            return _string_type(node)
        if kind == "integer":
            return _integer_type(node)
        if kind == "array":
            return "list of " + self._type(node.get("items", {}))
        if kind == "object" and isinstance(node.get("additionalProperties"), dict):
            return "map of " + self._type(node["additionalProperties"])
        return str(kind or "any")

    def _resolve(self, node: dict[str, Any]) -> dict[str, Any]:
        name = _ref_name(node)
        return self._defs[name] if name else node


def _unwrap(node: dict[str, Any]) -> dict[str, Any]:
    """An optional field's schema without its null branch, keeping keywords set beside it."""
    branches = [b for b in node.get("anyOf", ()) if b.get("type") != "null"]
    if len(branches) != 1:
        return node
    beside = {k: v for k, v in node.items() if k not in ("anyOf", "default", "description")}
    return {**beside, **branches[0]}


def _item(node: dict[str, Any]) -> dict[str, Any]:
    """A list's item schema (a list of our objects gets the objects' table), else ``node``."""
    return node.get("items", {}) if node.get("type") == "array" else node


def _ref_name(node: dict[str, Any]) -> str | None:
    ref = node.get("$ref")
    return ref.removeprefix(_REF_PREFIX) if isinstance(ref, str) else None


def _string_type(node: dict[str, Any]) -> str:
    pattern = node.get("pattern", "")
    if pattern in (secrets.REFERENCE_PATTERN, f"^$|{secrets.REFERENCE_PATTERN}"):
        return "secret reference"
    if pattern.endswith("|" + secrets.REFERENCE_PATTERN):
        return "string or secret reference"
    return "string"


def _integer_type(node: dict[str, Any]) -> str:
    low, high = node.get("minimum"), node.get("maximum")
    if low is not None and high is not None:
        return f"integer ({low}–{high})"
    if low is not None:
        return f"integer (≥ {low})"
    if high is not None:
        return f"integer (≤ {high})"
    return "integer"


def _default(node: dict[str, Any], *, required: bool) -> str:
    if required:
        return _REQUIRED
    if "default" not in node:
        return "`{}`"
    value = node["default"]
    if value is None:
        return "unset"
    return f"`{value if isinstance(value, str) else json.dumps(value)}`"


def _heading(field: str) -> str:
    return f"The `{field}` object"


def _slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    kept = re.sub(r"[^\w\- ]", "", heading.lower())
    return kept.replace(" ", "-")


def _paragraphs(text: str) -> str:
    """A docstring as Markdown paragraphs: its line breaks are only wrapping."""
    paragraphs = [" ".join(p.split()) for p in text.split("\n\n") if p.strip()]
    return "\n".join(_escape(p) + "\n" for p in paragraphs)


def _clean(text: str) -> str:
    return _escape(" ".join(text.split()))


def _escape(text: str) -> str:
    """Angle brackets outside code spans would be read as HTML tags and vanish."""
    out: list[str] = []
    last = 0
    for span in _CODE_SPAN.finditer(text):
        out.append(_escape_plain(text[last : span.start()]))
        out.append(span.group())
        last = span.end()
    out.append(_escape_plain(text[last:]))
    return "".join(out)


def _escape_plain(text: str) -> str:
    return text.replace("<", "&lt;").replace(">", "&gt;").replace("*", r"\*")


def _table(rows: Sequence[tuple[str, str, str, str]]) -> str:
    lines = ["| Field | Type | Default | Description |", "|---|---|---|---|"]
    for row in rows:
        lines.append("| " + " | ".join(cell.replace("|", r"\|") for cell in row) + " |")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Print the reference, or with ``--write README`` replace the block in that file."""
    parser = argparse.ArgumentParser(
        prog="python -m reconciler.manifest.reference", description=__doc__
    )
    parser.add_argument("--write", metavar="README", type=Path, help="update this file's block")
    args = parser.parse_args(argv)
    reference = render_reference()
    if args.write is None:
        sys.stdout.write(reference)
        return 0
    path: Path = args.write
    path.write_text(with_reference(path.read_text(encoding="utf-8"), reference=reference))
    return 0


if __name__ == "__main__":
    sys.exit(main())
