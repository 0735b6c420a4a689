"""A bulk loader for signatures, run inside Django (by bench/tasks.py).

Signature i (0-based, per petition) is fully determined by i, so a petition
can be grown in steps and its tallies computed without reading rows back:

- state: 1% confirmed (awaiting verification: the moderator queue; 90
  more among the first thousand, so that 10^3 fills the queue's page too),
  2% unconfirmed, the rest verified; 80% show their name;
- place: a third give none, the rest are spread over 200 municipalities in
  20 regions, so every size has the same tally rows;
- created one millisecond apart, verified a second after.

Names and addresses are sealed at rest like the app's own writes, but from a
pool of 1,000 ciphertexts (encrypting ten million values would dominate the
load); email_hash is unique per row, as the constraint requires. The public log
is optional (load_log, `scale.py --with-log`): one sequenced entry per verified
signature, as the product's export reads them, from a pool of 1,000 encoded
entries, and a checkpoint of that size. Its stored tree hashes are not
written: nothing timed here reads them (bench/ledger.py measures the log).
Foreign-key triggers are skipped during PostgreSQL's COPY (every key is valid
by construction) and the tallies are written in the same run, equal to the rows.
"""

from __future__ import annotations

import io
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import F

from undersigned.ledger.models import LogEntry, LogState, SignedCheckpoint
from undersigned.ops.bulkload import copy_text
from undersigned.petitions.models import Petition, Tally
from undersigned.signing.models import Signature
from undersigned.tlog import entries

REGIONS = [f"Region {r:02d}" for r in range(20)]
PLACES = [(region, f"{region} district {m}") for region in REGIONS for m in range(10)]
BASE_TIME = datetime(2025, 1, 1, tzinfo=UTC)
POOL = 1000
CHUNK = 200_000


# The first thousand signatures also hold 90 more awaiting review, so that
# every size from 10^3 up fills the moderator queue's 100-row page and the
# queue's times compare the same page.
EXTRA_AWAITING_BELOW = 1000
EXTRA_AWAITING = range(50, 59)


def state_of(i: int) -> str:
    r = i % 100
    if r == 0 or (i < EXTRA_AWAITING_BELOW and r in EXTRA_AWAITING):
        return Signature.State.CONFIRMED
    if r in (1, 2):
        return Signature.State.UNCONFIRMED
    return Signature.State.VERIFIED


def place_of(i: int) -> tuple[str, str]:
    k = i % 300
    return ("", "") if k < 100 else PLACES[(k - 100) % len(PLACES)]


def expected_tallies(start: int, end: int) -> Counter[tuple[str, str, str]]:
    """(region, municipality, column) → count for signatures start..end-1.

    "verified_hidden" counts the verified ones with hidden names (i % 5 == 0, as
    rows() writes them), which Tally keeps apart for the small-cell rule.
    """
    counts: Counter[tuple[str, str, str]] = Counter()
    # Below EXTRA_AWAITING_BELOW signature by signature; above it the pattern
    # repeats every 300 signatures (lcm of the state, place and visibility cycles).
    for i in range(start, min(end, EXTRA_AWAITING_BELOW)):
        bucket = {"verified": "verified", "confirmed": "awaiting"}.get(state_of(i))
        if bucket is not None:
            counts[(*place_of(i), bucket)] += 1
            if bucket == "verified" and i % 5 == 0:
                counts[(*place_of(i), "verified_hidden")] += 1
    start = max(start, EXTRA_AWAITING_BELOW)
    if start >= end:
        return counts
    period = 300
    full, rest = divmod(end - start, period)
    for i in range(start, start + period):
        state = state_of(i)
        bucket = {"verified": "verified", "confirmed": "awaiting"}.get(state)
        if bucket is None:
            continue
        n = full + (1 if i - start < rest else 0)
        if n:
            counts[(*place_of(i), bucket)] += n
            if bucket == "verified" and i % 5 == 0:
                counts[(*place_of(i), "verified_hidden")] += n
    return counts


class Columns:
    """Every concrete column of Signature with how row i fills it."""

    def __init__(self, petition: Petition) -> None:
        version = petition.shown_version()
        fields = {f.name: f for f in Signature._meta.concrete_fields if not f.primary_key}
        name_field, email_field = fields["full_name"], fields["email"]
        self.names = [
            name_field.get_db_prep_save(f"Seeded Signer {j}", connection) for j in range(POOL)
        ]
        self.emails = [
            email_field.get_db_prep_save(f"seed{j}@example.org", connection) for j in range(POOL)
        ]
        self.columns: list[str] = []
        self.constants: dict[str, Any] = {}
        known = {
            "petition": petition.pk,
            "text_version": version.pk,
        }
        for name, f in fields.items():
            self.columns.append(f.column)
            if name in GENERATED:
                continue
            if name in known:
                self.constants[f.column] = known[name]
            elif f.null:
                self.constants[f.column] = None
            elif f.has_default() or (f.blank and f.empty_strings_allowed):
                self.constants[f.column] = f.get_db_prep_save(f.get_default(), connection)
            else:
                raise RuntimeError(f"bench/seed.py does not know how to fill Signature.{name}")


def _timestamps(sqlite: bool) -> Callable[[int], str]:
    """Timestamp text for millisecond i, formatted once per second."""
    sep = " "
    cache: dict[int, str] = {}

    def at(ms: int) -> str:
        second, milli = divmod(ms, 1000)
        head = cache.get(second)
        if head is None:
            cache.clear()
            head = (BASE_TIME + timedelta(seconds=second)).strftime(f"%Y-%m-%d{sep}%H:%M:%S")
            cache[second] = head
        return f"{head}.{milli:03d}000" if sqlite else f"{head}.{milli:03d}+00"

    return at


GENERATED = (
    "state",
    "full_name",
    "email",
    "email_hash",
    "show_name",
    "municipality",
    "region",
    "is_founder",
    "created",
    "confirmed_at",
    "verified_at",
)


def rows(cols: Columns, start: int, end: int, sqlite: bool) -> Iterator[list[Any]]:
    at = _timestamps(sqlite)
    verified_at = _timestamps(sqlite)
    template = [cols.constants.get(c) for c in cols.columns]
    slot = [cols.columns.index(c) for c in GENERATED]
    names, emails = cols.names, cols.emails
    unconfirmed, verified = Signature.State.UNCONFIRMED, Signature.State.VERIFIED
    for i in range(start, end):
        state = state_of(i)
        region, municipality = place_of(i)
        later = verified_at(i + 1000)
        row = template.copy()
        for k, value in zip(
            slot,
            (
                state,
                names[i % POOL],
                emails[i % POOL],
                f"{i:064x}",
                i % 5 != 0,
                municipality,
                region,
                i < 3,
                at(i),
                later if state != unconfirmed else None,
                later if state == verified else None,
            ),
            strict=True,
        ):
            row[k] = value
        yield row


def _load_postgresql(cols: Columns, start: int, end: int) -> None:
    table = Signature._meta.db_table
    column_list = ", ".join(f'"{c}"' for c in cols.columns)
    for a in range(start, end, CHUNK):
        b = min(end, a + CHUNK)
        buf = io.StringIO()
        for row in rows(cols, a, b, sqlite=False):
            buf.write("\t".join(map(copy_text, row)))
            buf.write("\n")
        with transaction.atomic(), connection.cursor() as cursor:
            # Keys are valid by construction; skipping the per-row FK triggers is
            # what pg_restore does too.
            cursor.execute("SET LOCAL session_replication_role = replica")
            with cursor.cursor.copy(f"COPY {table} ({column_list}) FROM STDIN") as copy:
                copy.write(buf.getvalue())


def _load_sqlite(cols: Columns, start: int, end: int) -> None:
    table = Signature._meta.db_table
    column_list = ", ".join(f'"{c}"' for c in cols.columns)
    marks = ", ".join("?" for _ in cols.columns)
    sql = f"INSERT INTO {table} ({column_list}) VALUES ({marks})"  # noqa: S608
    for a in range(start, end, CHUNK):
        b = min(end, a + CHUNK)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.connection.executemany(sql, rows(cols, a, b, sqlite=True))


def load(petition: Petition, start: int, end: int) -> float:
    """Add signatures start..end-1 to the petition with their tallies; returns seconds."""
    began = time.perf_counter()
    cols = Columns(petition)
    connection.ensure_connection()
    if connection.vendor == "postgresql":
        _load_postgresql(cols, start, end)
    else:
        _load_sqlite(cols, start, end)
    with transaction.atomic():
        if start == 0:
            # The founders (i < 3) were added by the organiser, as the product records them.
            first = Signature.objects.filter(petition=petition).order_by("id")[:3]
            Signature.objects.filter(pk__in=list(first.values_list("pk", flat=True))).update(
                added_by=petition.organiser
            )
        # Sorted, so a place's verified count moves before its verified_hidden
        # (the tally's check constraint keeps hidden within verified).
        for (region, municipality, bucket), n in sorted(expected_tallies(start, end).items()):
            tally, _ = Tally.objects.get_or_create(
                petition=petition, region=region, municipality=municipality
            )
            Tally.objects.filter(pk=tally.pk).update(**{bucket: F(bucket) + n})
    if connection.vendor == "postgresql":
        # What autovacuum would have done by the time anyone looks.
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM ANALYZE {Signature._meta.db_table}")
            cursor.execute(f"VACUUM ANALYZE {Tally._meta.db_table}")
    return time.perf_counter() - began


# ------------------------------------------------------------------ the public log


def verified_before(i: int) -> int:
    """How many of signatures 0..i-1 are verified (see state_of)."""
    full, rest = divmod(i, 100)
    verified = full * 97 + max(0, rest - 3)
    full, rest = divmod(min(i, EXTRA_AWAITING_BELOW), 100)
    extra = full * len(EXTRA_AWAITING)
    extra += max(0, min(rest, EXTRA_AWAITING.stop) - EXTRA_AWAITING.start)
    return verified - extra


def load_log(petition: Petition, start: int, end: int) -> float:
    """Sequenced log entries for the verified signatures start..end-1, and a checkpoint."""
    began = time.perf_counter()
    version = petition.shown_version()
    pool: list[bytes] = []
    for j in range(POOL):
        region, municipality = place_of(j)
        fields = entries.signer_fields(f"Seeded Signer {j}", "", municipality, region)
        pool.append(
            entries.encode(
                event=entries.SIGNATURE_VERIFIED,
                petition=petition.slug,
                text_sha256=version.sha256,
                time=BASE_TIME + timedelta(seconds=j),
                **(
                    {"signer": fields}
                    if j % 5
                    else {"commitment_hex": entries.commitment(b"\0" * entries.SALT_BYTES, fields)}
                ),
            )
        )
    fields = {f.name: f for f in LogEntry._meta.concrete_fields if not f.primary_key}
    now = BASE_TIME
    fixed = {
        "petition": petition.pk,
        "event": entries.SIGNATURE_VERIFIED,
        "payload": "{}",  # JSON text on both databases
        "created": fields["created"].get_db_prep_save(now, connection),
    }
    columns = [f.column for f in fields.values()]
    template: list[Any] = []
    for name, f in fields.items():
        if name in fixed:
            template.append(fixed[name])
        elif name in ("index", "data"):
            template.append(None)
        elif f.null:
            template.append(None)
        else:
            raise RuntimeError(f"bench/seed.py does not know how to fill LogEntry.{name}")
    at_index, at_data = columns.index("index"), columns.index("data")
    if connection.vendor == "sqlite":
        template = [str(v) if isinstance(v, datetime) else v for v in template]

    def log_rows(a: int, b: int) -> Iterator[list[Any]]:
        index = verified_before(a)
        for i in range(a, b):
            if state_of(i) != Signature.State.VERIFIED:
                continue
            row = template.copy()
            row[at_index] = index
            row[at_data] = pool[i % POOL]
            index += 1
            yield row

    table = LogEntry._meta.db_table
    column_list = ", ".join(f'"{c}"' for c in columns)
    for a in range(start, end, CHUNK):
        b = min(end, a + CHUNK)
        with transaction.atomic(), connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SET LOCAL session_replication_role = replica")
                buf = io.StringIO()
                for row in log_rows(a, b):
                    buf.write("\t".join(map(copy_text, row)))
                    buf.write("\n")
                with cursor.cursor.copy(f"COPY {table} ({column_list}) FROM STDIN") as copy:
                    copy.write(buf.getvalue())
            else:
                marks = ", ".join("?" for _ in columns)
                cursor.connection.executemany(
                    f"INSERT INTO {table} ({column_list}) VALUES ({marks})",  # noqa: S608
                    log_rows(a, b),
                )
    size = verified_before(end)
    with transaction.atomic():
        LogState.objects.update_or_create(pk=1, defaults={"size": size})
        SignedCheckpoint.objects.create(size=size, root=b"\0" * 32, note="bench checkpoint\n")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM ANALYZE {table}")
    return time.perf_counter() - began
