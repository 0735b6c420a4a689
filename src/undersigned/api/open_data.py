"""Open data: each petition's journal (signatures per hour, per region) and a daily dump of
every public petition with its counts, each stamped with the checkpoint it agrees with.

- **Signatures per hour** are exactly what the public log's first N entries
  give for the petition, N being the latest signed checkpoint's size: per UTC
  hour, the verifications and the removals (withdrawn or invalidated), and
  the running total, whose last value is the checkpoint's count. They come
  from sharing's HourlyCount, which sums every log entry once, corrected by
  the few entries between the checkpoint and what it has summed, so anyone
  can recompute them from the log (docs/auditing.md).
- **Signatures per region** are the live tallies the petition page shows, with
  the small-cells rule (petitions.services.place_counts): a place's hidden
  signers are attributed to it only where there are enough of them, the
  others are one row of their own. They are read in one statement with the
  latest checkpoint, like the count JSON, and never older than counts already
  served (petitions.standing).
- **The daily dump** is built by the worker once a day (or by
  `undersigned open-data-dump`) and kept for OPEN_DATA_DUMP_DAYS; a download
  is those stored bytes, never a query over the petitions.

Every file is named so that it opens by double-click, with the log size
before the extension (`<slug>-signatures-per-hour-log63.csv`), says the
checkpoint in its headers (X-Log-Checkpoint-Size, X-Log-Checkpoint-Time)
and, for a CSV, in its last two columns. Downloads count against
RATE_LIMIT_API per client address (api/throttle.py); past it, 429 with
Retry-After.
"""

import csv
import io
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import Max, Subquery, Sum
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_GET

from undersigned.api.models import PetitionDump
from undersigned.api.throttle import too_many
from undersigned.core.spreadsheet import spreadsheet_cell
from undersigned.ledger.models import LogEntry, SignedCheckpoint
from undersigned.ledger.services import latest_checkpoint
from undersigned.petitions import listing
from undersigned.petitions.models import Petition
from undersigned.petitions.services import FreshCache, register_cache, small_cell_threshold
from undersigned.petitions.standing import current
from undersigned.sharing.models import HourlyCount, LogCursor
from undersigned.sharing.services import absorb_log
from undersigned.tlog import entries

log = logging.getLogger(__name__)

STAMP_COLUMNS = ["log_size", "checkpoint_time"]
HOUR_COLUMNS = ["hour", "verified", "removed", "total", *STAMP_COLUMNS]
REGION_COLUMNS = ["region", "municipality", "verified", "place", *STAMP_COLUMNS]
DUMP_COLUMNS = [
    "slug",
    "title",
    "language",
    "kind",
    "states",
    "status",
    "audience",
    "organiser",
    "url",
    "opened_at",
    "closed_at",
    "deadline",
    "verified_count",
    "awaiting_count",
    "paper_count",
    "log_verified_count",
    "log_paper_count",
    *STAMP_COLUMNS,
]


def _iso(moment: datetime | None) -> str:
    """UTC, to the second, with a Z: what a spreadsheet and a script both read."""
    if moment is None:
        return ""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _as_datetime(value: object) -> datetime:
    if isinstance(value, str):  # SQLite hands back the stored text
        parsed = parse_datetime(value)
        assert parsed is not None, f"not a time: {value!r}"
        value = parsed
    assert isinstance(value, datetime)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _csv(header: list[str], rows: Iterable[Iterable[object]]) -> str:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)  # the excel dialect, CRLF, as the signatories export
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def _download(
    body: str, *, name: str, suffix: str, size: int, when: datetime | None, max_age: int
) -> HttpResponse:
    response = HttpResponse(
        body,
        content_type="text/csv; charset=utf-8" if suffix == "csv" else "application/json",
    )
    # The log size before the extension, so the file opens by double-click.
    response["Content-Disposition"] = f'attachment; filename="{name}-log{size}.{suffix}"'
    response["X-Log-Checkpoint-Size"] = str(size)
    response["X-Log-Checkpoint-Time"] = _iso(when)
    response["Access-Control-Allow-Origin"] = "*"
    response["Access-Control-Expose-Headers"] = "X-Log-Checkpoint-Size, X-Log-Checkpoint-Time"
    response["Cache-Control"] = f"public, max-age={max_age}"
    return response


def _public_petition(slug: str) -> Petition:
    """A petition that is in a listing state (never a draft or an unpublished submission)."""
    found = (
        Petition.objects.filter(listing.in_state(listing.ALL, timezone.now()))
        .filter(slug=slug)
        .first()
    )
    if found is None:
        raise Http404("no such petition")
    return found


# ------------------------------------------------------------------ per hour


@dataclass(frozen=True)
class Hours:
    log_size: int
    checkpoint_time: datetime | None
    checkpoint: str  # the signed checkpoint's text ("" without one)
    rows: list[tuple[datetime, int, int]]  # (UTC hour, verified, removed), hours with changes

    @property
    def total(self) -> int:
        return sum(v - r for _, v, r in self.rows)


def _hour(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _summed(petition_id: int) -> tuple[int, dict[datetime, list[int]]]:
    """sharing's hourly sums of the petition and how far in the log they go, in one snapshot."""
    q = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT c.{q('next_index')}, h.{q('hour')}, h.{q('verified')}, h.{q('removed')} "  # noqa: S608  # nosec B608
            f"FROM (SELECT 1 AS one) base "
            f"LEFT JOIN {q(LogCursor._meta.db_table)} c ON c.{q('id')} = 1 "
            f"LEFT JOIN {q(HourlyCount._meta.db_table)} h ON h.{q('petition_id')} = %s",
            [petition_id],
        )
        rows = cursor.fetchall()
    upto = rows[0][0] or 0
    sums = {_as_datetime(hour): [v, r] for _, hour, v, r in rows if hour is not None}
    return upto, sums


def read_hours(petition: Petition) -> Hours:
    """Verified and removed signatures per UTC hour in the log's first N entries (N: the
    latest checkpoint), from the hourly sums and the few entries where they and N differ."""
    checkpoint = latest_checkpoint()
    size = checkpoint.size if checkpoint else 0
    if not connection.in_atomic_block:
        try:
            absorb_log()  # the sums catch up with the log first, as the charts do
        except DatabaseError as exc:
            log.warning("open data could not read the log: %s", type(exc).__name__)
    upto, sums = _summed(petition.pk)
    # Entries between the checkpoint and the sums: added when the sums are behind
    # it, taken away when they are ahead (they summed entries the checkpoint has not).
    low, high, sign = (upto, size, 1) if upto < size else (size, upto, -1)
    for event, created in LogEntry.objects.filter(
        petition=petition,
        index__gte=low,
        index__lt=high,
        event__in=[entries.SIGNATURE_VERIFIED, *entries.REMOVALS],
    ).values_list("event", "created"):
        column = 0 if event == entries.SIGNATURE_VERIFIED else 1
        sums.setdefault(_hour(created), [0, 0])[column] += sign
    rows = sorted((h, v, r) for h, (v, r) in sums.items() if v or r)
    return Hours(
        size,
        checkpoint.created if checkpoint else None,
        checkpoint.note if checkpoint else "",
        rows,
    )


# One copy per petition for COUNT_CACHE_SECONDS: polling journalists read the same.
_hours: FreshCache[int, Hours] = register_cache(FreshCache())


def _hours_csv(hours: Hours) -> str:
    stamp = [hours.log_size, _iso(hours.checkpoint_time)]
    total, rows = 0, []
    for hour, verified, removed in hours.rows:
        total += verified - removed
        rows.append([_iso(hour), verified, removed, total, *stamp])
    return _csv(HOUR_COLUMNS, rows)


def _hours_json(petition: Petition, hours: Hours) -> str:
    total, rows = 0, []
    for hour, verified, removed in hours.rows:
        total += verified - removed
        rows.append({"hour": _iso(hour), "verified": verified, "removed": removed, "total": total})
    return json.dumps(
        {
            "petition": petition.slug,
            "log_size": hours.log_size,
            "checkpoint_time": _iso(hours.checkpoint_time) or None,
            "checkpoint": hours.checkpoint or None,
            "log_verified_count": hours.total,
            "hours": rows,
        },
        ensure_ascii=False,
        indent=1,
    )


@require_GET
def signatures_per_hour(request: HttpRequest, slug: str, suffix: str) -> HttpResponse:
    refused = too_many(request)
    if refused is not None:
        return refused
    petition = _public_petition(slug)
    hours = _hours.get(petition.pk, lambda: read_hours(petition))
    body = _hours_csv(hours) if suffix == "csv" else _hours_json(petition, hours)
    return _download(
        body,
        name=f"{petition.slug}-signatures-per-hour",
        suffix=suffix,
        size=hours.log_size,
        when=hours.checkpoint_time,
        max_age=settings.API_CACHE_SECONDS,
    )


# ------------------------------------------------------------------ per region


@require_GET
def signatures_per_region(request: HttpRequest, slug: str, suffix: str) -> HttpResponse:
    refused = too_many(request)
    if refused is not None:
        return refused
    petition = _public_petition(slug)
    standing = current(petition)
    places = standing.places
    when = standing.checkpoint_time
    if suffix == "csv":
        stamp = [standing.log_size, _iso(when)]
        rows: list[list[object]] = []
        for region in places.regions:
            for m in region.municipalities:
                given = "given" if region.region or m.municipality else "none"
                rows.append(
                    [
                        spreadsheet_cell(region.region),
                        spreadsheet_cell(m.municipality),
                        m.verified,
                        given,
                        *stamp,
                    ]
                )
        if places.unplaced:
            rows.append(["", "", places.unplaced, "withheld", *stamp])
        body = _csv(REGION_COLUMNS, rows)
    else:
        body = json.dumps(
            {
                "petition": petition.slug,
                "log_size": standing.log_size,
                "checkpoint_time": _iso(when) or None,
                "log_verified_count": standing.log_verified,
                "verified_count": standing.verified,
                "small_cell_threshold": small_cell_threshold(),
                "regions": [
                    {
                        "region": r.region,
                        "verified": r.verified,
                        "municipalities": [
                            {"municipality": m.municipality, "verified": m.verified}
                            for m in r.municipalities
                        ],
                    }
                    for r in places.regions
                ],
                "verified_unplaced": places.unplaced,
            },
            ensure_ascii=False,
            indent=1,
        )
    return _download(
        body,
        name=f"{petition.slug}-signatures-per-region",
        suffix=suffix,
        size=standing.log_size,
        when=when,
        max_age=settings.API_CACHE_SECONDS,
    )


# ------------------------------------------------------------------ the daily dump


def _counted_petitions(now: datetime) -> tuple[list[dict[str, Any]], int, datetime | None, str]:
    """Every listed petition's counts, and the checkpoint, from one statement (one snapshot)."""
    latest = SignedCheckpoint.objects.order_by("-size")
    chosen = Petition.objects.filter(listing.in_state(listing.ALL, now)).values("id")
    rows = list(
        Petition.objects.filter(id__in=chosen)
        .annotate(
            verified_count=Coalesce(Sum("tallies__verified"), 0),
            awaiting_count=Coalesce(Sum("tallies__awaiting"), 0),
            paper_count=Coalesce(Sum("tallies__verified_paper"), 0),
            log_verified_count=Coalesce(Max("checkpoint_count__verified"), 0),
            log_paper_count=Coalesce(Max("checkpoint_count__paper"), 0),
            log_size=Subquery(latest.values("size")[:1]),
            checkpoint_time=Subquery(latest.values("created")[:1]),
            checkpoint_id=Subquery(latest.values("id")[:1]),
        )
        .order_by("opened_at", "id")
        .values(
            "id",
            "verified_count",
            "awaiting_count",
            "paper_count",
            "log_verified_count",
            "log_paper_count",
            "log_size",
            "checkpoint_time",
            "checkpoint_id",
        )
    )
    size, when, note = 0, None, ""
    if rows and rows[0]["log_size"] is not None:
        size, when = rows[0]["log_size"], _as_datetime(rows[0]["checkpoint_time"])
        note = (
            SignedCheckpoint.objects.filter(pk=rows[0]["checkpoint_id"])
            .values_list("note", flat=True)
            .first()
            or ""
        )
    elif not rows:
        checkpoint = latest.first()  # no petition: the dump is still stamped
        if checkpoint is not None:
            size, when, note = checkpoint.size, checkpoint.created, checkpoint.note
    return rows, size, when, note


def _dump_cell(column: str, value: Any) -> object:
    if column == "states":
        return " ".join(value)
    if column in ("title", "organiser"):
        return spreadsheet_cell(value)  # typed by people: never a formula
    return "" if value is None else value


def build_dump(day: date | None = None) -> PetitionDump:
    """Read every listed petition's counts now and keep them as the dump of `day` (today, UTC)."""
    now = timezone.now()
    day = day or now.astimezone(UTC).date()
    counted, size, when, note = _counted_petitions(now)
    by_id = {r.petition.pk: r for r in listing.read_rows([c["id"] for c in counted])}
    site = settings.SITE_URL
    items = []
    for c in counted:
        row = by_id.get(c["id"])
        if row is None:
            continue  # no published text: nothing a reader could see
        p = row.petition
        items.append(
            {
                "slug": p.slug,
                "title": row.title,
                "language": row.language,
                "kind": p.kind,
                "states": row.states,
                "status": p.status,
                "audience": p.audience,
                "organiser": p.organiser_name,
                "url": site + p.get_absolute_url(),
                "opened_at": _iso(p.opened_at) or None,
                "closed_at": _iso(p.closed_at) or None,
                "deadline": _iso(p.deadline) or None,
                "verified_count": c["verified_count"],
                "awaiting_count": c["awaiting_count"],
                "paper_count": c["paper_count"],  # of verified_count, entered from paper
                "log_verified_count": c["log_verified_count"],
                # of log_verified_count, entered from paper
                "log_paper_count": c["log_paper_count"],
            }
        )
    stamp = [size, _iso(when)]
    as_csv = _csv(
        DUMP_COLUMNS,
        ([*(_dump_cell(k, item[k]) for k in DUMP_COLUMNS[:-2]), *stamp] for item in items),
    )
    as_json = json.dumps(
        {
            "day": day.isoformat(),
            "generated_at": _iso(now),
            "log_size": size,
            "checkpoint_time": _iso(when) or None,
            "checkpoint": note or None,
            "petitions": items,
        },
        ensure_ascii=False,
        indent=1,
    )
    with transaction.atomic():
        dump, _ = PetitionDump.objects.update_or_create(
            day=day,
            defaults={
                "log_size": size,
                "checkpoint_time": when,
                "petitions": len(items),
                "csv": as_csv,
                "json": as_json,
            },
        )
        keep = max(1, int(settings.OPEN_DATA_DUMP_DAYS))
        PetitionDump.objects.filter(day__lte=day - timedelta(days=keep)).delete()
    return dump


def daily_dump() -> int:
    """The worker's part: today's dump if there is none yet; returns how many were built."""
    today = timezone.now().astimezone(UTC).date()
    if PetitionDump.objects.filter(day=today).exists():
        return 0
    build_dump(today)
    return 1


def _dump_response(dump: PetitionDump, suffix: str) -> HttpResponse:
    return _download(
        dump.csv if suffix == "csv" else dump.json,
        name=f"petitions-{dump.day.isoformat()}",
        suffix=suffix,
        size=dump.log_size,
        when=dump.checkpoint_time,
        max_age=3600,
    )


@require_GET
def dump_latest(request: HttpRequest, suffix: str) -> HttpResponse:
    refused = too_many(request)
    if refused is not None:
        return refused
    dump = PetitionDump.objects.order_by("-day").first()
    if dump is None:
        raise Http404("no dump yet")
    return _dump_response(dump, suffix)


@require_GET
def dump_of_day(request: HttpRequest, day: str, suffix: str) -> HttpResponse:
    refused = too_many(request)
    if refused is not None:
        return refused
    try:
        wanted = date.fromisoformat(day)
    except ValueError:
        raise Http404("not a date") from None
    dump = PetitionDump.objects.filter(day=wanted).first()
    if dump is None:
        raise Http404("no dump of that day")
    return _dump_response(dump, suffix)


# ------------------------------------------------------------------ the page

# Petitions whose files the page links to; the rest follow the same pattern.
PAGE_PETITIONS = 100


def data_page(request: HttpRequest) -> HttpResponse:
    dumps = list(PetitionDump.objects.order_by("-day").defer("csv", "json"))
    ids = listing.matching_ids((listing.ALL, "newest", ""))
    rows = listing.read_rows(ids[:PAGE_PETITIONS])
    count, _, seconds = settings.RATE_LIMIT_API.partition("/")
    return render(
        request,
        "api/data.html",
        {
            "dumps": dumps,
            "rows": rows,
            "more_petitions": len(ids) > PAGE_PETITIONS,
            "limit_count": int(count),
            "limit_seconds": int(seconds),
            "keep_days": settings.OPEN_DATA_DUMP_DAYS,
            "small_cell_threshold": small_cell_threshold(),
            "example_slug": rows[0].petition.slug if rows else "my-petition",
        },
    )
