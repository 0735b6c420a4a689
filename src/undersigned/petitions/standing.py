"""A petition's counts as the public sees them: short-lived copies that never step back.

Every process keeps a copy of each petition's counts for a fraction of a
second (COUNT_CACHE_SECONDS; docs/performance.md), because a shared link
sends thousands of readers to one count. Copies of different processes are
read at different moments, so a reader whose requests land on different
gunicorn workers, or on different servers behind a load balancer, could see
41, then 40, then 41. This module makes that impossible:

- One read gives a `Standing`: the tallies' sums, the regions, the latest
  signed checkpoint's size and time and the petition's count in it, all in
  one SQL statement (one snapshot, on both databases).
- Its `order` is (the sum of the petition's Tally.changes, the checkpoint
  size). Both only grow with every committed change, so of two reads the
  later one has the larger or the same order, and the same order means the
  same counts. A withdrawal lowers the count but still raises the order.
- Before serving its copy, a process reads the petition's CountMark (one
  primary-key read): the order of the newest counts any process has served.
  It serves its copy only if that is not older. Otherwise it takes over the
  mark's counts (stored with it) or reads the tallies again; any read begun
  after the mark was published sees at least what its publisher saw.
- A process publishes each newer Standing it reads before serving it, with
  an UPDATE that only ever raises the mark. So everything anyone was served
  is at most the mark, and everything served after is at least it.

The copies stay "never more than the limit old" (the mark carries the
wall-clock time its counts were read, checked against this server's clock),
and no request counts signatures: a refresh sums the petition's tally rows,
as before, and takes the checkpoint's count from ledger.CheckpointCount.
"""

import json
import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils.dateparse import parse_datetime

from undersigned.ledger.models import CheckpointCount, SignedCheckpoint
from undersigned.petitions.models import CountMark, Petition, Tally
from undersigned.petitions.services import (
    MunicipalityCount,
    PlaceCounts,
    RegionCount,
    place_counts,
    register_cache,
)

log = logging.getLogger(__name__)

# The counts are kept for half of COUNT_CACHE_SECONDS: live pages and embeds
# poll the count JSON for the newest count, and under a surge each request's
# own wait comes on top of a copy's age (docs/performance.md, freshness).
SHARE = 0.5

Order = tuple[int, int]


@dataclass(frozen=True)
class Standing:
    """A petition's public counts from one read, and where they stand in the log."""

    verified: int
    awaiting: int
    places: PlaceCounts
    changes: int  # the sum of the petition's Tally.changes
    log_size: int  # the latest signed checkpoint's size (0: none yet)
    checkpoint_time: datetime | None  # when that checkpoint was signed
    log_verified: int  # the petition's verified count from the entries below log_size
    read_at: float  # time.time() when the read began
    paper: int = 0  # of `verified`, entered from paper sheets
    log_paper: int = 0  # of `log_verified`, entered from paper sheets

    @property
    def order(self) -> Order:
        return (self.changes, self.log_size)

    def to_json(self) -> str:
        return json.dumps(
            {
                "verified": self.verified,
                "awaiting": self.awaiting,
                "regions": [
                    [r.region, r.verified, [[m.municipality, m.verified] for m in r.municipalities]]
                    for r in self.places.regions
                ],
                "unplaced": self.places.unplaced,
                "changes": self.changes,
                "log_size": self.log_size,
                "checkpoint_time": (
                    self.checkpoint_time.isoformat() if self.checkpoint_time else None
                ),
                "log_verified": self.log_verified,
                "read_at": self.read_at,
                "paper": self.paper,
                "log_paper": self.log_paper,
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str) -> "Standing":
        data: dict[str, Any] = json.loads(text)
        regions = [
            RegionCount(region, verified, [MunicipalityCount(m, n) for m, n in places])
            for region, verified, places in data["regions"]
        ]
        when = data["checkpoint_time"]
        return cls(
            verified=data["verified"],
            awaiting=data["awaiting"],
            places=PlaceCounts(regions, data["unplaced"]),
            changes=data["changes"],
            log_size=data["log_size"],
            checkpoint_time=datetime.fromisoformat(when) if when else None,
            log_verified=data["log_verified"],
            read_at=data["read_at"],
            # A mark published before paper signatures existed counts none.
            paper=data.get("paper", 0),
            # One published before the checkpoint's paper count was read is
            # not taken over (KeyError: _load_mark reads the tallies instead).
            log_paper=data["log_paper"],
        )


# ------------------------------------------------------------------ reading


def _statement() -> str:
    q = connection.ops.quote_name
    tally = q(Tally._meta.db_table)
    checkpoints = q(SignedCheckpoint._meta.db_table)
    counted = q(CheckpointCount._meta.db_table)
    columns = ", ".join(
        f"t.{q(c)}"
        for c in (
            "region",
            "municipality",
            "verified",
            "awaiting",
            "verified_hidden",
            "changes",
            "verified_paper",
        )
    )
    # One statement, so one snapshot: the tallies, the latest checkpoint and
    # the petition's count in it agree. The one-row base keeps the checkpoint
    # for a petition that has no tally row yet.
    return (
        f"SELECT {columns}, c.{q('size')}, c.{q('created')}, n.{q('verified')}, "  # noqa: S608  # nosec B608
        f"n.{q('paper')} "
        f"FROM (SELECT 1 AS one) base "
        f"LEFT JOIN {tally} t ON t.{q('petition_id')} = %s "
        f"LEFT JOIN (SELECT {q('size')}, {q('created')} FROM {checkpoints} "
        f"ORDER BY {q('size')} DESC LIMIT 1) c ON 1 = 1 "
        f"LEFT JOIN {counted} n ON n.{q('petition_id')} = %s "
        f"ORDER BY t.{q('region')}, t.{q('municipality')}"
    )


def _as_datetime(value: object) -> datetime | None:
    if isinstance(value, str):  # SQLite hands back the stored text
        value = parse_datetime(value)
    if not isinstance(value, datetime):
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def read(petition: Petition) -> Standing:
    """The petition's counts now, from the tallies and the latest checkpoint."""
    read_at = time.time()
    with connection.cursor() as cursor:
        cursor.execute(_statement(), [petition.pk, petition.pk])
        rows = cursor.fetchall()
    verified = awaiting = changes = paper = 0
    places: list[tuple[str, str, int, int]] = []
    size, created, logged, logged_paper = rows[0][7], rows[0][8], rows[0][9], rows[0][10]
    for region, municipality, v, a, hidden, moved, on_paper, *_ in rows:
        if region is None:
            continue  # the base row of a petition without tallies
        verified += v
        awaiting += a
        changes += moved
        paper += on_paper
        places.append((region, municipality, v, hidden))
    return Standing(
        verified=verified,
        awaiting=awaiting,
        places=place_counts(petition, places),
        changes=changes,
        log_size=size or 0,
        checkpoint_time=_as_datetime(created),
        log_verified=logged or 0,
        read_at=read_at,
        paper=paper,
        log_paper=logged_paper or 0,
    )


# ------------------------------------------------------------------ the shared mark


@dataclass(frozen=True)
class _Mark:
    order: Order
    read_at: float


def _read_marks(ids: list[int]) -> dict[int, _Mark]:
    """The marks of these petitions: one primary-key read, the cost of every request."""
    if not ids:
        return {}
    q = connection.ops.quote_name
    wanted = ", ".join(["%s"] * len(ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {q('petition_id')}, {q('changes')}, {q('log_size')}, {q('read_at')} "  # noqa: S608  # nosec B608
            f"FROM {q(CountMark._meta.db_table)} WHERE {q('petition_id')} IN ({wanted})",
            ids,
        )
        return {pk: _Mark((c, s), r) for pk, c, s, r in cursor.fetchall()}


def _load_mark(petition_id: int) -> Standing | None:
    counts = (
        CountMark.objects.filter(pk=petition_id).values_list("counts", flat=True).first()
    )
    if not counts:
        return None
    try:
        return Standing.from_json(counts)
    except KeyError:
        return None  # written by an older version, without a figure this one serves


def _publish(petition_id: int, standing: Standing, *, lower: bool = False) -> None:
    """Raise the petition's mark to this standing (or set it, `lower`, after a reset)."""
    q = connection.ops.quote_name
    changes, size = standing.order
    values: list[int | float | str] = [
        changes,
        size,
        standing.read_at,
        standing.to_json(),
        petition_id,
    ]
    sql = (
        f"UPDATE {q(CountMark._meta.db_table)} SET {q('changes')} = %s, "  # noqa: S608  # nosec B608
        f"{q('log_size')} = %s, {q('read_at')} = %s, {q('counts')} = %s "
        f"WHERE {q('petition_id')} = %s"
    )
    if not lower:
        # Only ever up: a slower process publishing an older read changes nothing.
        sql += f" AND ({q('changes')} < %s OR ({q('changes')} = %s AND {q('log_size')} < %s))"
        values += [changes, changes, size]
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        if cursor.rowcount:
            return
    if CountMark.objects.filter(pk=petition_id).exists():
        return  # it is already this new, or newer
    try:
        with transaction.atomic():
            CountMark.objects.create(
                petition_id=petition_id,
                changes=changes,
                log_size=size,
                read_at=standing.read_at,
                counts=standing.to_json(),
            )
    except IntegrityError:
        _publish(petition_id, standing)  # another process made the row first


# ------------------------------------------------------------------ the copies


class Standings:
    """This process's copies of each petition's Standing, checked against the marks."""

    MAX_KEYS = 2000

    def __init__(self) -> None:
        self._copies: dict[int, Standing] = {}
        self._locks: dict[int, threading.Lock] = {}
        self._guard = threading.Lock()

    @staticmethod
    def max_age() -> float:
        return float(getattr(settings, "COUNT_CACHE_SECONDS", 1.0)) * SHARE

    def get(self, petition: Petition) -> Standing:
        return self.get_many([petition])[petition.pk]

    def get_many(self, petitions: Iterable[Petition]) -> dict[int, Standing]:
        wanted = list(petitions)
        limit = self.max_age()
        if limit <= 0 or connection.in_atomic_block:
            # Inside a transaction a read may see writes that will be rolled
            # back: it is neither kept nor published.
            return {p.pk: read(p) for p in wanted}
        marks = _read_marks([p.pk for p in wanted])
        return {p.pk: self._one(p, marks.get(p.pk), limit) for p in wanted}

    def _one(self, petition: Petition, mark: _Mark | None, limit: float) -> Standing:
        copy = self._copies.get(petition.pk)
        if _usable(copy, mark, limit / 2):
            assert copy is not None
            return copy
        lock = self._lock_for(petition.pk)
        if _usable(copy, mark, limit):
            if not lock.acquire(blocking=False):
                assert copy is not None
                return copy  # another request is refreshing it right now
        else:
            lock.acquire()
        try:
            copy = self._copies.get(petition.pk)
            if _usable(copy, mark, limit / 2):
                assert copy is not None
                return copy  # refreshed while this request waited
            fresh = self._take_over(petition.pk, copy, mark, limit)
            if fresh is None:
                fresh = read(petition)
                if mark is not None and fresh.order < mark.order:
                    # Read after the mark was published, yet older: the tallies
                    # were rebuilt or restored. Counts may go down then.
                    log.warning("counts of petition %s are behind their mark", petition.pk)
                    _publish(petition.pk, fresh, lower=True)
                elif mark is None or fresh.order > mark.order:
                    _publish(petition.pk, fresh)
            if len(self._copies) >= self.MAX_KEYS:
                self._copies.clear()  # mostly petitions nobody reads any more
            self._copies[petition.pk] = fresh
            return fresh
        finally:
            lock.release()

    @staticmethod
    def _take_over(
        petition_id: int, copy: Standing | None, mark: _Mark | None, limit: float
    ) -> Standing | None:
        """The mark's counts, when they are newer than this process's and fresh."""
        if mark is None or mark.order <= _order(copy) or not _fresh(mark.read_at, limit / 2):
            return None
        taken = _load_mark(petition_id)
        if taken is None or taken.order < mark.order or not _fresh(taken.read_at, limit):
            return None
        return taken

    def _lock_for(self, petition_id: int) -> threading.Lock:
        lock = self._locks.get(petition_id)
        if lock is None:
            with self._guard:
                lock = self._locks.setdefault(petition_id, threading.Lock())
        return lock

    def forget(self) -> None:
        with self._guard:
            self._copies.clear()


def _order(standing: Standing | None) -> Order:
    return standing.order if standing is not None else (-1, -1)


def _fresh(read_at: float, bound: float) -> bool:
    # A clock that went back (or another server's, ahead of ours) is not trusted.
    return 0 <= time.time() - read_at < bound


def _usable(copy: Standing | None, mark: _Mark | None, bound: float) -> bool:
    """A copy may be served: not older than the mark, and younger than bound."""
    return (
        copy is not None
        and mark is not None
        and copy.order >= mark.order
        and _fresh(copy.read_at, bound)
    )


_standings = register_cache(Standings())


def current(petition: Petition) -> Standing:
    """The petition's counts for a public page or answer: never older than any served."""
    return _standings.get(petition)


def current_many(petitions: Iterable[Petition]) -> dict[int, Standing]:
    """current() for a listing, with one read of the marks for all of them."""
    return _standings.get_many(petitions)
