"""Recurring windows: open/closed at a moment, and the next edge, across DST changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconciler.recurrence import Recurrence, any_open, check_cron, check_time_zone, next_edge

BERLIN = ZoneInfo("Europe/Berlin")
OPENING_HOURS = Recurrence("0 9 * * 1-5", timedelta(hours=9), "Europe/Berlin")


def berlin(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=BERLIN)  # type: ignore[misc]


def test_a_weekday_window_is_open_from_its_start_until_its_end() -> None:
    wednesday = (2026, 12, 2)
    assert not OPENING_HOURS.is_open(berlin(*wednesday, 8, 59, 59))
    assert OPENING_HOURS.is_open(berlin(*wednesday, 9, 0))
    assert OPENING_HOURS.is_open(berlin(*wednesday, 17, 59, 59))
    assert not OPENING_HOURS.is_open(berlin(*wednesday, 18, 0))
    assert not OPENING_HOURS.is_open(berlin(2026, 12, 5, 12, 0))


def test_the_next_edge_is_the_close_while_open_and_the_next_start_while_closed() -> None:
    assert OPENING_HOURS.next_edge(berlin(2026, 12, 2, 10, 0)) == berlin(2026, 12, 2, 18, 0)
    assert OPENING_HOURS.next_edge(berlin(2026, 12, 2, 18, 0)) == berlin(2026, 12, 3, 9, 0)
    assert OPENING_HOURS.next_edge(berlin(2026, 12, 4, 19, 0)) == berlin(2026, 12, 7, 9, 0)


def test_a_start_stays_at_local_time_across_the_spring_change() -> None:
    daily = Recurrence("0 9 * * *", timedelta(hours=9), "Europe/Berlin")
    before, after = berlin(2026, 3, 28, 9, 0), berlin(2026, 3, 29, 9, 0)
    assert daily.next_start(before) == after
    assert after.astimezone(UTC) - before.astimezone(UTC) == timedelta(hours=23)


def test_a_duration_is_elapsed_time_through_the_autumn_change() -> None:
    nightly = Recurrence("0 22 * * *", timedelta(hours=8), "Europe/Berlin")
    assert nightly.open_until(berlin(2026, 10, 24, 23, 0)) == berlin(2026, 10, 25, 5, 0)


def test_overlapping_windows_merge_into_one_open_span() -> None:
    hourly = Recurrence("0 * * * *", timedelta(minutes=90), "UTC")
    now = datetime(2026, 12, 2, 10, 30, tzinfo=UTC)
    assert hourly.open_until(now) is not None
    assert hourly.is_open(now)


def test_several_windows_combine() -> None:
    weekend = Recurrence("0 10 * * 6", timedelta(hours=4), "Europe/Berlin")
    saturday_noon = berlin(2026, 12, 5, 12, 0)
    assert any_open([OPENING_HOURS, weekend], saturday_noon)
    assert next_edge([OPENING_HOURS, weekend], saturday_noon) == berlin(2026, 12, 5, 14, 0)
    assert next_edge([], saturday_noon) is None


@pytest.mark.parametrize("expression", ["bad", "0 0 30 2 *", "61 * * * *", "* * * *"])
def test_an_impossible_or_malformed_cron_is_refused_with_a_reason(expression: str) -> None:
    with pytest.raises(ValueError, match="cron expression"):
        check_cron(expression)


def test_an_unknown_time_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="IANA time zone"):
        check_time_zone("Mars/Olympus")
    with pytest.raises(ValueError, match="longer than zero"):
        Recurrence("0 9 * * *", timedelta(0))


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        OPENING_HOURS.is_open(datetime(2026, 12, 2, 10, 0))


moments = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)
)


@given(now=moments)
def test_the_state_changes_at_the_next_edge_and_not_before(now: datetime) -> None:
    edge = OPENING_HOURS.next_edge(now)
    assert edge > now
    was_open = OPENING_HOURS.is_open(now)
    assert OPENING_HOURS.is_open(edge - timedelta(seconds=1)) == was_open or edge - now <= (
        timedelta(seconds=1)
    )
    assert OPENING_HOURS.is_open(edge) != was_open
