"""The CLI's defaults for concurrency and bursts: one value each, and bursts that stay polite."""

from __future__ import annotations

import pytest

from reconciler.apply.ratelimit import RateLimit, burst_for
from reconciler.apply.steps import DEFAULT_CONCURRENCY
from reconciler.cli.fleet import CONCURRENCY_DEFAULT_TEXT


def test_the_cli_shows_the_concurrency_apply_uses() -> None:
    assert str(DEFAULT_CONCURRENCY) == CONCURRENCY_DEFAULT_TEXT


@pytest.mark.parametrize(
    ("per_second", "burst"),
    [(0.5, 1), (3, 3), (10, 10), (100, 10), (500, 50), (10_000, 1_000)],
)
def test_a_burst_is_a_tenth_of_a_seconds_calls_at_least_ten(per_second: float, burst: int) -> None:
    assert burst_for(per_second) == burst


def test_the_default_rate_limit_follows_the_same_rule() -> None:
    assert RateLimit().burst == burst_for(RateLimit().per_second)
