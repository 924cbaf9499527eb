"""One page of the list endpoint, cut from sorted runs of (start_ts, agent_id) keys.

Each status keeps its agents in a sorted list (``store``), so a page is a bisect into each run the
filter names and a merge of at most ``limit + 1`` keys from each: its cost does not grow with the
number of agents, which keeps paging 50,000 agents cheap. Pure: no agents, no clock.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from itertools import islice

Key = tuple[int, str]


def page_of(
    runs: Sequence[Sequence[Key]], *, low: Key, high: Key, start: Key, limit: int
) -> tuple[list[Key], Key | None, int]:
    """The keys of one page, the key the next page starts at (None at the end), and the total.

    ``low`` and ``high`` bound the time window (both inclusive), ``start`` is where the page
    begins (the cursor's key, or ``low``), and the total counts every key in the window.
    """
    total = 0
    heads = []
    for run in runs:
        first = bisect_left(run, low)
        last = max(first, bisect_right(run, high))
        total += last - first
        begin = bisect_left(run, start, first, last)
        heads.append(run[begin : min(last, begin + limit + 1)])
    keys = list(islice(heapq.merge(*heads), limit + 1))
    return keys[:limit], keys[limit] if len(keys) > limit else None, total
