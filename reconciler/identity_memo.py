"""What was made from an object, found again by the object's identity.

The fleet's agents share their manifests' mappings and lists (an AgentSet's 10,000 agents hold a
few distinct ``llm`` mappings), so what is derived from a shared part is worth making once per
part rather than once per agent. Parts are dicts and lists, which cannot be hashed, so they are
known by ``id``; the part is kept beside what was made from it so that its id cannot be reused
for another object while the memo lives. Use one memo for values that do not change meanwhile.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

_Made = TypeVar("_Made")


class KeptBy(Generic[_Made]):
    """``make()``'s result for ``source`` (and ``tag``), made the first time it is asked for."""

    def __init__(self) -> None:
        self._made: dict[tuple[int, Hashable], tuple[object, _Made]] = {}

    def get(self, source: object, tag: Hashable, make: Callable[[], _Made]) -> _Made:
        known = self._made.get((id(source), tag))
        if known is None or known[0] is not source:
            known = self._made[(id(source), tag)] = (source, make())
        return known[1]
