"""Chart geometry (sharing/charts.py): pure functions, no database."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from undersigned.sharing import charts
from undersigned.sharing.charts import Bucket, HourCount

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)  # a Monday


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


@pytest.mark.parametrize(
    ("span", "expected"),
    [
        (timedelta(minutes=5), "hour"),
        (timedelta(hours=72), "hour"),
        (timedelta(hours=73), "day"),
        (timedelta(days=120), "day"),
        (timedelta(days=121), "week"),
    ],
)
def test_young_petitions_are_drawn_per_hour_older_ones_per_day_then_week(
    span: timedelta, expected: str
) -> None:
    assert charts.resolution_for(span) == expected


def test_hourly_buckets_fill_the_gaps_and_keep_a_running_total() -> None:
    hours = [
        HourCount(at(0), verified=3),
        HourCount(at(2), verified=1, awaiting=2),
        HourCount(at(3), removed=1),
    ]
    resolution, buckets = charts.bucket_series(hours, start=at(0.5), end=at(3.2), tz=UTC)
    assert resolution == "hour"
    assert [b.start for b in buckets] == [at(0), at(1), at(2), at(3)]
    assert [(b.verified, b.awaiting, b.removed) for b in buckets] == [
        (3, 0, 0),
        (0, 0, 0),
        (1, 2, 0),
        (0, 0, 1),
    ]
    assert [b.running_total for b in buckets] == [3, 3, 4, 3]


def test_the_range_widens_to_take_in_data_outside_it() -> None:
    # A founder verified before the petition opened, a withdrawal after it closed.
    hours = [HourCount(at(-5), verified=1), HourCount(at(30), removed=1)]
    _, buckets = charts.bucket_series(hours, start=at(0), end=at(10), tz=UTC)
    assert buckets[0].start == at(-5)
    assert buckets[-1].start == at(30)
    assert sum(b.verified for b in buckets) == 1
    assert sum(b.removed for b in buckets) == 1


def test_days_follow_the_local_calendar_across_a_clock_change() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    # 29 March 2026 has 23 hours in Berlin. 23:00 UTC on the 28th is already the 29th
    # there, and after the change 22:00 UTC on the 30th is midnight of the 31st.
    hours = [
        HourCount(datetime(2026, 3, 27, 12, tzinfo=UTC), verified=1),
        HourCount(datetime(2026, 3, 28, 23, tzinfo=UTC), verified=2),
        HourCount(datetime(2026, 3, 30, 22, tzinfo=UTC), verified=4),
    ]
    resolution, buckets = charts.bucket_series(
        hours,
        start=datetime(2026, 3, 26, tzinfo=UTC),
        end=datetime(2026, 3, 31, tzinfo=UTC),
        tz=berlin,
        resolution="day",
    )
    assert resolution == "day"
    starts = [b.start for b in buckets]
    assert all(s.hour == 0 and s.minute == 0 for s in starts), starts
    assert [s.day for s in starts] == [26, 27, 28, 29, 30, 31]
    assert [b.verified for b in buckets] == [0, 1, 0, 2, 0, 4]


def test_weeks_start_on_monday() -> None:
    hours = [HourCount(datetime(2026, 1, 7, tzinfo=UTC), verified=5)]  # a Wednesday
    resolution, buckets = charts.bucket_series(
        hours,
        start=datetime(2025, 9, 1, tzinfo=UTC),
        end=datetime(2026, 2, 1, tzinfo=UTC),
        tz=UTC,
    )
    assert resolution == "week"
    assert {b.start.weekday() for b in buckets} == {0}
    (busy,) = [b for b in buckets if b.verified]
    assert busy.start == datetime(2026, 1, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    ("peak", "ticks"),
    [
        (0, [0, 1]),
        (3, [0, 1, 2, 3]),
        (7, [0, 2, 4, 6, 8]),
        (40, [0, 10, 20, 30, 40]),
        (1234, [0, 500, 1000, 1500]),
    ],
)
def test_axis_ticks_are_round_numbers(peak: int, ticks: list[int]) -> None:
    assert charts.nice_ticks(peak) == ticks


def test_bars_are_stacked_on_one_scale_with_removals_below_the_line() -> None:
    buckets = [
        Bucket(at(0), verified=6, awaiting=2),
        Bucket(at(1)),
        Bucket(at(2), verified=2, removed=4),
    ]
    chart = charts.time_chart("hour", buckets, width=640, height=240)
    first, empty, last = chart.columns
    assert empty.verified is empty.awaiting is empty.removed is None
    assert first.verified is not None and first.awaiting is not None
    # The axis goes to 8 (ticks 0, 2, 4, 6, 8), and 4 more below for the removals.
    assert [t.value for t in chart.y_ticks] == [0, 2, 4, 6, 8]
    unit = chart.plot.height / 12
    assert first.verified.height == pytest.approx(6 * unit, abs=0.01)
    assert first.awaiting.height == pytest.approx(2 * unit, abs=0.01)
    # Awaiting sits on top of verified, verified on the axis.
    assert first.verified.y + first.verified.height == pytest.approx(chart.baseline, abs=0.01)
    assert first.awaiting.y + first.awaiting.height == pytest.approx(first.verified.y, abs=0.01)
    assert last.removed is not None
    assert last.removed.y == chart.baseline
    assert last.removed.height == pytest.approx(4 * unit, abs=0.01)
    assert last.removed.y + last.removed.height == pytest.approx(chart.plot.y + chart.plot.height)
    assert (chart.verified, chart.awaiting, chart.removed) == (8, 2, 4)
    assert chart.peak == buckets[0]


def test_a_young_petition_has_narrow_bars_from_the_left() -> None:
    chart = charts.time_chart("hour", [Bucket(at(0), verified=1)])
    (column,) = chart.columns
    assert column.verified is not None
    # One bar is never stretched over the whole width: a day of hours has room.
    assert column.slot.width == pytest.approx(chart.plot.width / 24, abs=0.01)
    assert column.verified.x < chart.plot.x + chart.plot.width / 24


def test_an_empty_series_is_empty() -> None:
    chart = charts.time_chart("day", [Bucket(at(0)), Bucket(at(24))])
    assert chart.empty
    assert chart.peak is None
    assert all(c.verified is None for c in chart.columns)


def test_region_bars_are_biggest_first_and_the_rest_are_one_bar() -> None:
    rows = [(f"Region {n}", n) for n in range(1, 14)]
    chart = charts.region_chart(rows, other_label="Other", most=4)
    assert [(b.label, b.value, b.other) for b in chart.bars] == [
        ("Region 13", 13, False),
        ("Region 12", 12, False),
        ("Region 11", 11, False),
        ("Other", sum(range(1, 11)), True),
    ]
    # The longest bar fills the room left for the number; the others are in proportion.
    longest = max(b.bar.width for b in chart.bars)
    assert longest == chart.width - 70
    for b in chart.bars:
        assert b.bar.width == pytest.approx(longest * b.value / 55, abs=0.01)
    assert chart.height == 4 * 40


def test_the_badge_grows_with_its_text() -> None:
    small = charts.badge_layout("3 verified", "0 awaiting verification")
    big = charts.badge_layout("1,234,567 verified", "0 awaiting verification")
    assert big.width > small.width
    assert small.width >= charts.text_width("0 awaiting verification", 12) + 2 * small.padding
