"""Turn the bytes of one YAML file into plain documents that remember where every value was written.

PyYAML's loaders throw positions away, keep the last of two duplicate keys without a word and
recurse once per nesting level. So this module builds, in one pass over the parser's events and
without recursion, both a small node tree (for positions) and the JSON-like data (dict, list, str,
int, float, bool, None), reporting on the way: syntax errors, duplicate keys, keys that are not
plain scalars, tags and aliases we do not support, too deep a nesting, non-UTF-8 bytes and
control characters. It also notes the values YAML 1.1 and 1.2 read differently. It knows nothing
about manifest kinds or fields beyond which names hold secrets, whose text no diagnostic quotes,
and it never raises on bad input: every problem becomes a ``Diagnostic``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Final, cast

import yaml
from yaml.constructor import SafeConstructor

from reconciler.manifest import secrets
from reconciler.manifest.diagnostics import Diagnostic, Loc, field_path
from reconciler.manifest.yaml_nodes import Map, Node, Scalar, Seq, YamlDocument

MAX_DEPTH: Final = 64

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# The stubs leave Resolver.resolve untyped; it maps a node kind, value and implicit flags to a tag.
_resolve_tag = cast(Callable[[type, str, Any], str], yaml.resolver.Resolver().resolve)
_CONSTRUCTOR: Final = SafeConstructor()
_TAG: Final = "tag:yaml.org,2002:"
_MAP, _SEQ, _STR = _TAG + "map", _TAG + "seq", _TAG + "str"
_NOT_PRINTABLE: Final = re.compile(
    "[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)
# What YAML 1.1 (PyYAML) reads differently from YAML 1.2 tools and most people: these words as
# booleans, and numbers such as 0755 (octal), 1_000 or 1:20 (base 60).
_SOFT_BOOLEANS: Final = frozenset({"yes", "no", "on", "off"})
_PLAIN_NUMBER: Final = re.compile(
    r"[-+]?(0|[1-9][0-9]*)(\.[0-9]*)?([eE][-+]?[0-9]+)?|0x[0-9a-fA-F]+"
)


@dataclass(frozen=True, slots=True)
class ParsedFile:
    """The readable documents of one file; ``complete`` is False when some of it was unreadable."""

    documents: tuple[YamlDocument, ...]
    diagnostics: tuple[Diagnostic, ...]
    complete: bool


class _Rejected(Exception):
    """A construct we refuse while composing; carries the 1-based place."""

    def __init__(self, message: str, *, line: int, column: int) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


def parse(data: bytes, *, path: str) -> ParsedFile:
    """Every document of a file, or diagnostics saying why some could not be read."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line, column = _byte_position(data, exc.start)
        byte = data[exc.start : exc.start + 1].hex()
        message = f"is not UTF-8 text (byte 0x{byte}); manifests must be UTF-8"
        return ParsedFile((), (Diagnostic(path, line, column, None, message),), complete=False)
    bad = _NOT_PRINTABLE.search(text)
    if bad:
        line, column = _text_position(text, bad.start())
        message = (
            f"contains the control character U+{ord(bad.group()):04X}, which YAML does not allow"
            " (is this a binary file?)"
        )
        return ParsedFile((), (Diagnostic(path, line, column, None, message),), complete=False)
    diagnostics: list[Diagnostic] = []
    builder = _Builder(path=path, sink=diagnostics)
    documents: list[YamlDocument] = []
    try:
        documents.extend(builder.documents(text))
    except _Rejected as exc:
        diagnostics.append(Diagnostic(path, exc.line, exc.column, None, exc.message))
        return ParsedFile(tuple(documents), tuple(diagnostics), complete=False)
    except yaml.YAMLError as exc:
        diagnostics.append(_syntax_diagnostic(exc, text=text, path=path))
        return ParsedFile(tuple(documents), tuple(diagnostics), complete=False)
    return ParsedFile(tuple(documents), tuple(diagnostics), complete=True)


@dataclass(slots=True)
class _Frame:
    """An open mapping or list: its node, the data being filled, and where it sits in its parent.

    ``secret`` says it is, or sits inside, a secret field, even one dropped as a duplicate key.
    """

    node: Map | Seq
    value: Any
    part: str | int | None
    live: bool
    secret: bool
    key: Node | None = None
    keep: bool = True
    first_line: dict[str, int] = field(default_factory=dict)


class _Builder:
    """Events → node tree and plain data in one pass, with an explicit stack and no recursion.

    Problems are collected, not raised, except for what makes the rest unreadable (an alias, too
    deep a nesting), which ends the file.
    """

    def __init__(self, *, path: str, sink: list[Diagnostic]) -> None:
        self.path = path
        self.sink = sink
        self.stack: list[_Frame] = []
        self.root: Node | None = None
        self.data: Any = None
        self.broken = False
        self.ambiguous: list[Loc] = []
        self.tags: dict[str, str] = {}

    def documents(self, text: str) -> Iterator[YamlDocument]:
        loader = _Loader(text)
        try:
            index = 0
            while True:
                event = loader.get_event()
                kind = type(event)
                if kind is yaml.ScalarEvent:
                    self.scalar(event)
                elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
                    self.open(event)
                elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
                    self.stack.pop()
                elif kind is yaml.AliasEvent:
                    line, column = _place(event)
                    raise _Rejected(
                        "aliases (*name) are not supported: share settings with a Profile instead",
                        line=line,
                        column=column,
                    )
                elif kind is yaml.DocumentEndEvent:
                    document = self.finish(index)
                    index += 1
                    if document is not None:
                        yield document
                elif kind is yaml.StreamEndEvent or event is None:
                    return
        finally:
            loader.dispose()

    def finish(self, index: int) -> YamlDocument | None:
        root, data = self.root, self.data
        document = None
        if root is not None and not (isinstance(root, Scalar) and root.tag == _NULL):
            document = YamlDocument(
                path=self.path,
                index=index,
                root=root,
                data=data,
                broken=self.broken,
                ambiguous=tuple(self.ambiguous),
            )
        self.root, self.data, self.broken, self.ambiguous = None, None, False, []
        return document

    def scalar(self, event: yaml.ScalarEvent) -> None:
        tag, text = event.tag, event.value
        if tag is None or tag == "!":
            # Only plain scalars have an implicit tag to find; the answer depends on the text alone.
            if event.implicit[0]:
                tag = self.tags.get(text)
                if tag is None:
                    tag = self.tags[text] = _resolve_tag(yaml.ScalarNode, text, (True, False))
            else:
                tag = _STR
        line, column = _place(event)
        # A plain scalar has no style: None from the Python parser, "" from libyaml.
        node = Scalar(tag, text, not event.style, line, column)
        part = self.attach(node)
        if part is _KEY:
            return
        value = text if tag == _STR else self.value_of(node, part)
        if part is not _DROPPED:
            self.store(part, value)

    def open(self, event: yaml.MappingStartEvent | yaml.SequenceStartEvent) -> None:
        line, column = _place(event)
        if len(self.stack) >= MAX_DEPTH:
            raise _Rejected(f"nesting is deeper than {MAX_DEPTH} levels", line=line, column=column)
        collection: Map | Seq
        value: Any
        if isinstance(event, yaml.SequenceStartEvent):
            collection, value, wanted = Seq(event.tag or _SEQ, line, column), [], _SEQ
        else:
            collection, value, wanted = Map(event.tag or _MAP, line, column), {}, _MAP
        part = self.attach(collection)
        if collection.tag not in (wanted, "!"):
            what = "list" if wanted == _SEQ else "mapping"
            self.problem(collection, part, f"unsupported tag {_short(collection.tag)} on a {what}")
        if part not in (_KEY, _DROPPED):
            self.store(part, value)
        live = part not in (_KEY, _DROPPED) and (not self.stack or self.stack[-1].live)
        part_in_parent = part if isinstance(part, str | int) else None
        secret = self.in_secret(part)
        self.stack.append(_Frame(collection, value, part_in_parent, live, secret))

    def attach(self, node: Node) -> str | int | object:
        """Hang a node on its parent; say where its value goes (_KEY: it is a key, not a value)."""
        if not self.stack:
            self.root = node
            return _ROOT
        frame = self.stack[-1]
        if isinstance(frame.node, Seq):
            frame.node.items.append(node)
            return len(frame.node.items) - 1
        if frame.key is None:
            frame.key = node
            frame.keep = self.check_key(frame, node)
            return _KEY
        key, frame.key = frame.key, None
        frame.node.pairs.append((key, node))
        return key.text if frame.keep and isinstance(key, Scalar) else _DROPPED

    def in_secret(self, part: str | int | object) -> bool:
        """Whether the node just attached at ``part`` is, or sits inside, a secret field."""
        if not self.stack:
            return False
        frame = self.stack[-1]
        if frame.secret or part is _KEY or not isinstance(frame.node, Map):
            return frame.secret
        key = frame.node.pairs[-1][0]
        return isinstance(key, Scalar) and secrets.is_secret_name(key.text)

    def store(self, part: str | int | object, value: Any) -> None:
        if part is _ROOT:
            self.data = value
        elif isinstance(part, str):
            self.stack[-1].value[part] = value
        else:
            self.stack[-1].value.append(value)

    def check_key(self, frame: _Frame, node: Node) -> bool:
        if not isinstance(node, Scalar) or node.tag not in _KEY_TAGS:
            message = (
                _NO_MERGE
                if isinstance(node, Scalar) and node.tag == _MERGE
                else "mapping keys must be plain words or quoted strings"
            )
            self.problem(node, None, message)
            return False
        first = frame.first_line.get(node.text)
        if first is not None:
            self.problem(
                node,
                node.text,
                f"duplicate key {node.text!r} (first at line {first}); "
                "YAML would silently keep only one of them",
                breaks=False,
            )
            return False
        frame.first_line[node.text] = node.line
        return True

    def value_of(self, node: Scalar, part: str | int | object) -> Any:
        build = _SCALARS.get(node.tag)
        if build is None:
            message = _NO_MERGE if node.tag == _MERGE else f"unsupported tag {_short(node.tag)}"
            self.problem(node, part, message)
            return None
        try:
            value = build(node)
        except (ValueError, KeyError, IndexError):
            # Explicit tags reach PyYAML's constructors with any text: `!!int` alone, `!!int 0b_`.
            written = "the value" if self.in_secret(part) else repr(node.text)
            self.problem(node, part, f"{written} is not a valid {_short(node.tag)}")
            return None
        if isinstance(value, float) and not math.isfinite(value):
            written = "the value" if self.in_secret(part) else node.text
            self.problem(node, part, f"{written} is not a finite number; JSON cannot carry it")
            return None
        live = part is not _DROPPED and (not self.stack or self.stack[-1].live)
        if live and node.plain and _ambiguous(node.text, value):
            self.ambiguous.append(self.loc(part))
        return value

    def loc(self, part: str | int | object) -> Loc:
        parts = [frame.part for frame in self.stack if frame.part is not None]
        return (*parts, part) if isinstance(part, str | int) else tuple(parts)

    def problem(
        self, node: Node, part: str | int | object, message: str, *, breaks: bool = True
    ) -> None:
        self.broken = self.broken or breaks
        where = field_path(self.loc(part)) or None
        self.sink.append(Diagnostic(self.path, node.line, node.column, where, message))


_ROOT, _KEY, _DROPPED = object(), object(), object()


def _ambiguous(text: str, value: Any) -> bool:
    if isinstance(value, bool):
        return text.lower() in _SOFT_BOOLEANS
    return isinstance(value, int | float) and not _PLAIN_NUMBER.fullmatch(text)


def _place(event: yaml.Event) -> tuple[int, int]:
    mark = event.start_mark
    return (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)


def _scalar_node(node: Scalar) -> yaml.ScalarNode:
    return yaml.ScalarNode(node.tag, node.text)


_NULL: Final = _TAG + "null"
_MERGE: Final = _TAG + "merge"
_NO_MERGE: Final = "merge keys (<<) are not supported: share settings with a Profile instead"
_SCALARS: Final[dict[str, Callable[[Scalar], Any]]] = {
    _STR: lambda node: node.text,
    # A YAML 1.1 timestamp stays the text written: JSON has no dates, and YAML 1.2 has none either.
    _TAG + "timestamp": lambda node: node.text,
    _NULL: lambda node: None,
    _TAG + "bool": lambda node: SafeConstructor.bool_values[node.text.lower()],
    _TAG + "int": lambda node: _CONSTRUCTOR.construct_yaml_int(_scalar_node(node)),
    _TAG + "float": lambda node: _CONSTRUCTOR.construct_yaml_float(_scalar_node(node)),
}
# A plain key such as 1001, on or ~ is taken as the word written: JSON keys are strings.
_KEY_TAGS: Final = frozenset(_SCALARS)


def _short(tag: str) -> str:
    return "!!" + tag.removeprefix(_TAG) if tag.startswith(_TAG) else tag


def _syntax_diagnostic(exc: yaml.YAMLError, *, text: str, path: str) -> Diagnostic:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    if mark is not None:
        line, column = mark.line + 1, mark.column + 1
    else:
        position = getattr(exc, "position", None)
        at = position if isinstance(position, int) else 0
        line, column = _text_position(text, min(at, len(text)))
    problem = getattr(exc, "problem", None) or getattr(exc, "reason", None) or "unreadable YAML"
    context, context_mark = getattr(exc, "context", None), getattr(exc, "context_mark", None)
    if context and context_mark is not None and context_mark is not mark:
        problem += f" ({context} that starts at line {context_mark.line + 1})"
    return Diagnostic(path, line, column, None, f"YAML syntax error: {problem}")


def _text_position(text: str, index: int) -> tuple[int, int]:
    return text.count("\n", 0, index) + 1, index - (text.rfind("\n", 0, index) + 1) + 1


def _byte_position(data: bytes, index: int) -> tuple[int, int]:
    return data.count(b"\n", 0, index) + 1, index - (data.rfind(b"\n", 0, index) + 1) + 1
