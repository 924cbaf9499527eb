"""The node tree of one YAML document: where every key and value was written.

``yaml_source`` builds these while it reads a file; diagnostics use them to point at the line
and column of a field (``YamlDocument.position``), or at the place to add a missing one. This
module only holds and walks the tree: it never reads YAML, builds data or judges a value.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from reconciler.manifest.diagnostics import Loc


@dataclass(slots=True)
class Scalar:
    tag: str
    text: str
    plain: bool
    line: int
    column: int


@dataclass(slots=True)
class Seq:
    tag: str
    line: int
    column: int
    items: list[Node] = field(default_factory=list)


@dataclass(slots=True)
class Map:
    tag: str
    line: int
    column: int
    pairs: list[tuple[Node, Node]] = field(default_factory=list)


Node = Scalar | Seq | Map


@dataclass(frozen=True, slots=True)
class YamlDocument:
    """One document of a file: its data, its node tree for positions, and what was odd about it.

    ``broken`` documents held something that could not become data (an unsupported tag, a key that
    is not a scalar); their data has holes, so callers should not judge their fields.
    ``ambiguous`` are the places where YAML 1.1 read a boolean or a number that YAML 1.2 tools
    would read otherwise (``no``, ``0755``, ``1:20``).
    """

    path: str
    index: int
    root: Node
    data: Any
    broken: bool
    ambiguous: tuple[Loc, ...]

    def node_at(self, loc: Sequence[str | int]) -> Node | None:
        """The node written at ``loc``, or None when nothing was written there."""
        found = self._walk(loc)
        return found[1] if len(found[2]) == len(loc) else None

    def position(self, loc: Sequence[str | int], *, key: bool = False) -> tuple[int, int]:
        """Line and column of the value at ``loc`` (of its key with ``key=True``).

        A path that goes past what was written lands on the deepest part that exists, at its key:
        the place to add a missing field.
        """
        key_node, node, matched = self._walk(loc)
        at = key_node if key_node is not None and (key or len(matched) < len(loc)) else node
        return at.line, at.column

    def _walk(self, loc: Sequence[str | int]) -> tuple[Node | None, Node, list[str | int]]:
        key_node: Node | None = None
        node: Node = self.root
        matched: list[str | int] = []
        for part in loc:
            child = _child(node, part)
            if child is None:
                break
            key_node, node = child
            matched.append(part)
        return key_node, node, matched


def _child(node: Node, part: str | int) -> tuple[Node | None, Node] | None:
    if isinstance(node, Map) and isinstance(part, str):
        for key, value in node.pairs:
            if isinstance(key, Scalar) and key.text == part:
                return key, value
    if isinstance(node, Seq) and isinstance(part, int) and 0 <= part < len(node.items):
        return None, node.items[part]
    return None
