"""The numbers behind the charts, read without counting signatures on a page request.

Verified signatures over time come from the public log. Every verification,
withdrawal and invalidation is a log entry with its petition and time, and the
worker gives entries their leaf indexes in order, one batch per transaction.
`absorb_log` reads the entries indexed since its last run (by that index,
through its unique index, a bounded batch at a time) and adds them to
`HourlyCount`, one row per petition and UTC hour; `LogCursor` remembers where
it stopped. The leaf index is the watermark rather than the row id because ids
can become visible out of order (a transaction that took a lower id may commit
later), while indexes are handed out by a single writer and appear whole.
So each entry is read once, ever, and a chart reads at most one row per hour
its petition had events. The chart agrees with the log anyone can audit; it
trails it by the worker's sequencing (about a second) plus the cache below.

Signatures still awaiting verification are not in the log (nothing public
happens to them until they are verified). They are read from the signatures
themselves: the rows in an awaiting state, found through the (petition, state,
verified_at) index, bucketed by when they were confirmed. That is the
moderation queue, which reviewers keep short; should it pass
MAX_AWAITING_ROWS, the chart leaves awaiting out and says so rather than read
more. Both reads are kept in the cache for SHARING_CHART_SECONDS (60) per
petition, so a surge of visitors costs one read a minute.

No COUNT over signatures is ever run, and nothing here writes to signing's
tables: the signing services stay as they are.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, transaction
from django.utils import timezone

from undersigned.ledger.models import LogEntry
from undersigned.petitions.models import Petition
from undersigned.petitions.services import cached_place_counts
from undersigned.sharing.charts import HourCount
from undersigned.sharing.models import HourlyCount, LogCursor
from undersigned.signing.models import Signature
from undersigned.signing.services import AWAITING_STATES
from undersigned.tlog import entries

log = logging.getLogger(__name__)

ABSORB_BATCH = 2000
ABSORB_BATCHES = 10  # per call: a page request never reads more than 20,000 entries
MAX_AWAITING_ROWS = 20_000


def chart_seconds() -> int:
    return int(getattr(settings, "SHARING_CHART_SECONDS", 60))


# ------------------------------------------------------------------ the log


def absorb_log(*, batches: int = ABSORB_BATCHES, batch: int = ABSORB_BATCH) -> int:
    """Add log entries indexed since the last call to HourlyCount; returns how many were read."""
    total = 0
    for _ in range(batches):
        done = _absorb_batch(batch)
        total += done
        if done < batch:
            break
    return total


def _absorb_batch(limit: int) -> int:
    # Most calls find nothing new: a read without a lock says so cheaply.
    start = LogCursor.objects.filter(pk=1).values_list("next_index", flat=True).first() or 0
    if not LogEntry.objects.filter(index__gte=start).exists():
        return 0
    with transaction.atomic():
        LogCursor.objects.get_or_create(pk=1)
        # One absorber at a time: two would add the same entries twice.
        cursor = LogCursor.objects.select_for_update().get(pk=1)
        rows = list(
            LogEntry.objects.filter(index__gte=cursor.next_index)
            .order_by("index")
            .values_list("index", "petition_id", "event", "created")[:limit]
        )
        if not rows:
            return 0
        sums: dict[tuple[int, datetime], list[int]] = {}
        for _, petition_id, event, created in rows:
            if event == entries.SIGNATURE_VERIFIED:
                column = 0
            elif event in entries.REMOVALS:
                column = 1
            else:
                continue  # petition events: opened, closed, new text
            hour = created.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
            sums.setdefault((petition_id, hour), [0, 0])[column] += 1
        _add(sums)
        last = rows[-1][0]
        assert last is not None, "filtered on index >= the cursor"
        cursor.next_index = last + 1
        cursor.save(update_fields=["next_index"])
        return len(rows)


def _add(sums: dict[tuple[int, datetime], list[int]]) -> None:
    if not sums:
        return
    petitions = {p for p, _ in sums}
    hours = {h for _, h in sums}
    existing = {
        (row.petition_id, row.hour): row
        for row in HourlyCount.objects.filter(petition_id__in=petitions, hour__in=hours)
    }
    changed, new = [], []
    for (petition_id, hour), (verified, removed) in sums.items():
        row = existing.get((petition_id, hour))
        if row is None:
            new.append(
                HourlyCount(petition_id=petition_id, hour=hour, verified=verified, removed=removed)
            )
        else:
            row.verified += verified
            row.removed += removed
            changed.append(row)
    HourlyCount.objects.bulk_update(changed, ["verified", "removed"], batch_size=500)
    HourlyCount.objects.bulk_create(new, batch_size=500)


# ------------------------------------------------------------------ reads


@dataclass(frozen=True)
class Timeline:
    hours: list[HourCount]
    awaiting_shown: bool  # False when the awaiting rows were too many to read
    as_of: datetime


def read_timeline(petition: Petition) -> Timeline:
    try:
        absorb_log()
    except DatabaseError as exc:
        # Another absorber holding the lock past the timeout, say: the chart
        # is drawn from what is already summed, and the next read catches up.
        log.warning("charts could not read the log: %s", type(exc).__name__)
    by_hour: dict[datetime, HourCount] = {
        hour: HourCount(hour, verified, removed)
        for hour, verified, removed in HourlyCount.objects.filter(petition=petition).values_list(
            "hour", "verified", "removed"
        )
    }
    waiting = list(
        Signature.objects.filter(petition=petition, state__in=AWAITING_STATES)
        .order_by()
        .values_list("confirmed_at", "created")[: MAX_AWAITING_ROWS + 1]
    )
    shown = len(waiting) <= MAX_AWAITING_ROWS
    if shown:
        for confirmed_at, created in waiting:
            moment = (confirmed_at or created).astimezone(UTC)
            hour = moment.replace(minute=0, second=0, microsecond=0)
            row = by_hour.get(hour, HourCount(hour))
            by_hour[hour] = HourCount(hour, row.verified, row.removed, row.awaiting + 1)
    return Timeline(sorted(by_hour.values(), key=lambda h: h.hour), shown, timezone.now())


def timeline(petition: Petition) -> Timeline:
    """read_timeline, at most SHARING_CHART_SECONDS old (kept in the shared cache per petition)."""
    key = f"sharing:timeline:{petition.pk}"
    found: Timeline | None = cache.get(key)
    if found is None:
        found = read_timeline(petition)
        cache.set(key, found, chart_seconds())
    return found


def region_rows(petition: Petition) -> tuple[list[tuple[str, int]], int]:
    """(region, verified) from the tallies, "" for signatures with no region given, and
    how many signers are counted in no region (petitions.services.place_counts)."""
    places = cached_place_counts(petition)
    return [(r.region, r.verified) for r in places.regions if r.verified > 0], places.unplaced
