"""The cyclic garbage collector, set for a process that holds a whole fleet in memory.

CPython collects its youngest generation every 700 new container objects. A plan or a daemon
pass builds tens of thousands of objects that live until it ends (manifest models, list items,
state rows, changes), so each young collection promotes them and the old generation, fleet and
all, is scanned over and over: a steady daemon pass at 10,000 agents spent ~60 ms in full
collections (~20% of its CPU) and ``reconciler plan`` ~0.15 s. What start-up built (modules,
classes, validators) is never garbage, so it is frozen out of every later scan, and the young
generation is collected every 10,000 allocations. Reference counting still frees acyclic garbage
at once; only garbage cycles wait a little longer.
"""

from __future__ import annotations

import gc
from typing import Final

YOUNG_THRESHOLD: Final = 10_000


def tune_collector() -> None:
    """Call once, after the imports a command needs and before it builds anything big."""
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
