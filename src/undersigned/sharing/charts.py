"""Chart geometry: buckets, scales and rectangles, as plain numbers.

Pure on purpose (no Django): the templates draw what this computes, and the
tests check the numbers without a database. Coordinates are SVG user units in
a fixed viewBox; the stylesheet scales the drawing to the page width.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Literal

Resolution = Literal["hour", "day", "week"]

# Up to three days of hourly bars (72), then days up to four months (about
# 120), then weeks: never more bars than a phone can show a pixel or two for.
HOURLY_UP_TO = timedelta(hours=72)
DAILY_UP_TO = timedelta(days=120)


@dataclass(frozen=True)
class HourCount:
    """What happened in one UTC hour: the stored unit every resolution is summed from."""

    hour: datetime  # aware, on the hour, UTC
    verified: int = 0  # signatures that began to count (public log)
    removed: int = 0  # verified signatures withdrawn or struck off (public log)
    awaiting: int = 0  # signatures confirmed then that still await verification


@dataclass(frozen=True)
class Bucket:
    start: datetime  # aware, in the display time zone
    verified: int = 0
    awaiting: int = 0
    removed: int = 0
    running_total: int = 0  # verified minus removed, from the first bucket to this one's end

    @property
    def up(self) -> int:
        return self.verified + self.awaiting


def resolution_for(span: timedelta) -> Resolution:
    if span <= HOURLY_UP_TO:
        return "hour"
    if span <= DAILY_UP_TO:
        return "day"
    return "week"


def bucket_start(moment: datetime, resolution: Resolution, tz: tzinfo) -> datetime:
    """The start of the bucket holding `moment`: a UTC hour, or a local day or week (Monday)."""
    if resolution == "hour":
        # Hours stay UTC hours (what is stored); only their labels are local,
        # so zones a half hour off UTC still get whole stored hours.
        utc = moment.astimezone(UTC)
        return utc.replace(minute=0, second=0, microsecond=0).astimezone(tz)
    day = moment.astimezone(tz).date()
    if resolution == "week":
        day -= timedelta(days=day.weekday())
    return _local_midnight(day, tz)


def _local_midnight(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day, time(), tzinfo=tz)


def _next_start(start: datetime, resolution: Resolution, tz: tzinfo) -> datetime:
    if resolution == "hour":
        return (start.astimezone(UTC) + timedelta(hours=1)).astimezone(tz)
    # Calendar steps, not 24-hour ones, so that a daylight-saving change
    # does not shift every later day by an hour.
    step = 7 if resolution == "week" else 1
    return _local_midnight(start.date() + timedelta(days=step), tz)


def bucket_series(
    hours: Iterable[HourCount],
    *,
    start: datetime,
    end: datetime,
    tz: tzinfo,
    resolution: Resolution | None = None,
) -> tuple[Resolution, list[Bucket]]:
    """Every bucket from `start` to `end` (empty ones too), at a resolution fitting the span.

    The range is widened to take in any hour with data outside it (founders
    verified before opening, withdrawals after closing), so the bars always
    add up to the totals.
    """
    rows = sorted(hours, key=lambda h: h.hour)
    if rows:
        start = min(start, rows[0].hour)
        end = max(end, rows[-1].hour)
    end = max(end, start)
    chosen = resolution or resolution_for(end - start)
    sums: dict[datetime, list[int]] = {}
    for row in rows:
        key = bucket_start(row.hour, chosen, tz)
        acc = sums.setdefault(key, [0, 0, 0])
        acc[0] += row.verified
        acc[1] += row.awaiting
        acc[2] += row.removed
    buckets: list[Bucket] = []
    running = 0
    current = bucket_start(start, chosen, tz)
    last = bucket_start(end, chosen, tz)
    while current <= last:
        verified, awaiting, removed = sums.get(current, (0, 0, 0))
        running += verified - removed
        buckets.append(Bucket(current, verified, awaiting, removed, running))
        current = _next_start(current, chosen, tz)
    return chosen, buckets


# ------------------------------------------------------------------ scales


def nice_step(rough: float) -> int:
    """The 1, 2 or 5 × 10ⁿ at or above `rough` (at least 1: counts are whole)."""
    if rough <= 1:
        return 1
    magnitude = 10 ** math.floor(math.log10(rough))
    for factor in (1, 2, 5, 10):
        if factor * magnitude >= rough:
            return int(factor * magnitude)
    raise AssertionError("unreachable: 10 × magnitude ≥ rough")


def nice_ticks(peak: int, *, most: int = 4) -> list[int]:
    """0, step, 2·step, … up to the first tick at or above `peak`: at most `most` steps."""
    if peak <= 0:
        return [0, 1]
    step = nice_step(peak / most)
    top = math.ceil(peak / step) * step
    return list(range(0, top + 1, step))


# ------------------------------------------------------------------ geometry


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    width: float
    height: float

    @property
    def right(self) -> float:
        return _r(self.x + self.width)


@dataclass(frozen=True)
class Column:
    bucket: Bucket
    slot: Rect  # the whole column, for a tooltip target
    verified: Rect | None
    awaiting: Rect | None
    removed: Rect | None


@dataclass(frozen=True)
class YTick:
    value: int
    y: float

    @property
    def text_y(self) -> float:
        return _r(self.y + 5)  # a 14-unit label's middle on its grid line


@dataclass(frozen=True)
class XTick:
    when: datetime
    x: float


@dataclass(frozen=True)
class TimeChart:
    width: int
    height: int
    plot: Rect
    baseline: float  # y of zero
    resolution: Resolution
    columns: list[Column]
    y_ticks: list[YTick]
    x_ticks: list[XTick]
    verified: int  # sums over the buckets
    awaiting: int
    removed: int
    peak: Bucket | None  # the bucket with the most new signatures, if any

    @property
    def empty(self) -> bool:
        return self.verified == 0 and self.awaiting == 0 and self.removed == 0

    @property
    def y_label_x(self) -> float:
        return self.plot.x - 6

    @property
    def x_label_y(self) -> float:
        return self.height - 22  # two lines under the axis: time (hours only) and date

    @property
    def x_date_y(self) -> float:
        return self.height - 6


def _r(value: float) -> float:
    # Two decimals keep the SVG short and the numbers exact enough to test.
    return round(value, 2)


def time_chart(
    resolution: Resolution,
    buckets: Sequence[Bucket],
    *,
    width: int = 480,
    height: int = 220,
    left: int = 44,
    right: int = 24,
    top: int = 12,
    bottom: int = 40,
    x_labels: int = 5,
) -> TimeChart:
    """Stacked bars (verified below, awaiting above) with removals hanging under the axis.

    One scale serves both sides of the axis, so a mass withdrawal looks as big
    as it was.
    """
    plot = Rect(left, top, width - left - right, height - top - bottom)
    up_peak = max((b.up for b in buckets), default=0)
    down_peak = max((b.removed for b in buckets), default=0)
    ticks = nice_ticks(up_peak)
    top_value = ticks[-1]
    scale = plot.height / (top_value + down_peak)
    baseline = plot.y + top_value * scale
    # A young petition's few bars keep a sensible width, drawn from the left:
    # the room to their right is time still to come.
    min_slots = 24 if resolution == "hour" else 12
    slot_width = plot.width / max(len(buckets), min_slots)
    bar_width = max(slot_width * 0.8, min(slot_width, 1.0))
    columns: list[Column] = []
    for i, b in enumerate(buckets):
        slot_x = plot.x + i * slot_width
        x = _r(slot_x + (slot_width - bar_width) / 2)
        w = _r(bar_width)
        v_height = b.verified * scale
        a_height = b.awaiting * scale
        columns.append(
            Column(
                bucket=b,
                slot=Rect(_r(slot_x), plot.y, _r(slot_width), plot.height),
                verified=Rect(x, _r(baseline - v_height), w, _r(v_height)) if b.verified else None,
                awaiting=(
                    Rect(x, _r(baseline - v_height - a_height), w, _r(a_height))
                    if b.awaiting
                    else None
                ),
                removed=Rect(x, _r(baseline), w, _r(b.removed * scale)) if b.removed else None,
            )
        )
    every = max(1, math.ceil(len(buckets) / x_labels))
    x_ticks = [
        XTick(b.start, _r(plot.x + (i + 0.5) * slot_width))
        for i, b in enumerate(buckets)
        if i % every == 0
    ]
    busiest = max(buckets, key=lambda b: b.up, default=None)
    return TimeChart(
        width=width,
        height=height,
        plot=plot,
        baseline=_r(baseline),
        resolution=resolution,
        columns=columns,
        y_ticks=[YTick(t, _r(baseline - t * scale)) for t in ticks],
        x_ticks=x_ticks,
        verified=sum(b.verified for b in buckets),
        awaiting=sum(b.awaiting for b in buckets),
        removed=sum(b.removed for b in buckets),
        peak=busiest if busiest is not None and busiest.up > 0 else None,
    )


@dataclass(frozen=True)
class HBar:
    label: str
    value: int
    label_y: float  # baseline of the label text
    bar: Rect
    value_x: float  # where the number is written, after the bar
    value_y: float
    other: bool = False  # the sum of the regions not shown one by one


@dataclass(frozen=True)
class RegionChart:
    width: int
    height: int
    bars: list[HBar] = field(default_factory=list)


def region_chart(
    rows: Sequence[tuple[str, int]],
    *,
    other_label: str,
    most: int = 10,
    width: int = 480,
    row_height: int = 40,
    bar_height: int = 14,
    value_room: int = 70,
    unplaced: tuple[str, int] | None = None,
) -> RegionChart:
    """Horizontal bars, biggest first; past `most` regions the rest are one "other" bar.

    `unplaced` (label, count), if given, is a last bar of its own, never merged
    into "other": signers counted in no region (petitions.services.place_counts).
    Labels go above their bars, so long region names never squeeze the bars.
    """
    ordered = sorted(rows, key=lambda r: (-r[1], r[0]))
    shown: list[tuple[str, int, bool]] = [(label, value, False) for label, value in ordered]
    if len(shown) > most:
        rest = sum(value for _, value, _ in shown[most - 1 :])
        shown = [*shown[: most - 1], (other_label, rest, True)]
    if unplaced is not None and unplaced[1] > 0:
        shown.append((unplaced[0], unplaced[1], True))
    peak = max((value for _, value, _ in shown), default=0)
    room = width - value_room
    bars: list[HBar] = []
    for i, (label, value, other) in enumerate(shown):
        top = i * row_height
        length = room * value / peak if peak else 0.0
        bar = Rect(0, _r(top + 20), _r(length), bar_height)
        bars.append(HBar(label, value, top + 15, bar, _r(length + 6), top + 33, other))
    return RegionChart(width, max(len(bars) * row_height, row_height), bars)


# ------------------------------------------------------------------ badge

# Advance widths in em of DejaVu Sans (Verdana is close), the fonts the badge
# asks for first. No font is at hand on the server's side of an <img>, so the
# text is measured from these and rounded up rather than overflow.
_NARROW = frozenset(" .,:;·'!|il1()[]-")
_WIDE = frozenset("mwMW—@%")


def text_width(text: str, size: float, *, bold: bool = False) -> float:
    em = 0.0
    for ch in text:
        if ch in _NARROW:
            em += 0.34
        elif ch in _WIDE:
            em += 0.95
        elif ch.isdigit():
            em += 0.64
        elif ch.isupper():
            em += 0.72
        else:
            em += 0.62
    return em * size * (1.08 if bold else 1.0)


@dataclass(frozen=True)
class BadgeLayout:
    width: int
    height: int
    padding: int
    big_size: int
    small_size: int
    big_y: int
    small_y: int


def badge_layout(big: str, small: str, *, big_size: int = 20, small_size: int = 12) -> BadgeLayout:
    padding = 10
    inner = max(text_width(big, big_size, bold=True), text_width(small, small_size))
    return BadgeLayout(
        width=math.ceil(inner) + 2 * padding,
        height=padding + big_size + 4 + small_size + padding,
        padding=padding,
        big_size=big_size,
        small_size=small_size,
        big_y=padding + big_size - 3,
        small_y=padding + big_size + 4 + small_size - 1,
    )
