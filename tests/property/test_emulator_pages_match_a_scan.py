"""The emulator's indexed list pages are exactly those of a scan over every agent."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from reconciler.emulator.listing import Key, page_of

_keys = st.lists(st.tuples(st.integers(0, 20), st.text("ABC", min_size=1, max_size=3)), unique=True)


@given(
    runs=st.lists(_keys, min_size=1, max_size=3),
    window=st.tuples(st.integers(-1, 21), st.integers(-1, 21)),
    limit=st.integers(1, 5),
)
def test_following_the_pages_lists_the_window_once_in_order(
    runs: list[list[Key]], window: tuple[int, int], limit: int
) -> None:
    sorted_runs = [
        sorted(set(run) - {k for other in runs[:i] for k in other}) for i, run in enumerate(runs)
    ]
    low, high = (window[0], ""), (window[1], "\x7f")
    scan = sorted(k for run in sorted_runs for k in run if low <= k <= high)
    seen: list[Key] = []
    start = low
    while True:
        keys, following, total = page_of(sorted_runs, low=low, high=high, start=start, limit=limit)
        assert total == len(scan)
        assert len(keys) <= limit
        seen.extend(keys)
        if following is None:
            break
        start = following
    assert seen == scan
