"""Streaming exports of public signatories, read from the public log itself.

An export is exactly what a given signed checkpoint proves: the shown signers
of verified entries not later withdrawn or invalidated, up to that size. It
streams with constant memory but for the set of removed indexes.

Speed (docs/performance.md, G): the target is 100,000 rows/s for a petition
of millions, so the per-row path is kept short. Entries are read
back with tlog.entries.read_verified, a parse of bytes the server checked
when it sequenced them, rather than re-checked with the verifier's decode;
rows are plain tuples; the text is written by one csv.writer into a buffer
and handed on in chunks of about 64 KB rather than row by row. The bytes are
those the row-by-row writer made (tests/api/test_exports.py pins them).

The CSV is meant to be opened in a spreadsheet, so a signer's cell that a
spreadsheet would run as a formula is written with a quote in front
(core/spreadsheet.py); the JSON, like the log, has the text as signed.
docs/log-format.md ("Exports") says exactly how the two differ.
"""

import csv
import io
import json
from collections.abc import Iterable, Iterator

from django.db import connection
from django.db.models import F
from django.http import Http404, HttpRequest, StreamingHttpResponse
from django.views.decorators.http import require_GET

from undersigned.core.spreadsheet import FORMULA_START, spreadsheet_cell
from undersigned.ledger.models import LogEntry, SignedCheckpoint
from undersigned.ledger.services import latest_checkpoint
from undersigned.petitions.models import Petition
from undersigned.tlog import entries as log_entries

COLUMNS = ["log_index", "time", "name", "role", "municipality", "region", "text_sha256"]
Row = tuple[int, str, str, str, str, str, str]
# Entries per query. More saves little (a round trip per 2,000 rows is under
# 1 µs a row) and costs memory: about 1 KB per entry while a page is read.
BATCH = 2000
# Rows rendered at a time, between looks at the chunk's size: ~50 KB of CSV.
SLICE = 400
CHUNK = 64 * 1024

# What json.dumps(row, ensure_ascii=False) builds on every call, built once.
_json_row = json.JSONEncoder(ensure_ascii=False).encode


def _removed(petition: Petition, size: int) -> set[int]:
    rows = LogEntry.objects.filter(
        petition=petition,
        index__lt=size,
        event__in=[log_entries.SIGNATURE_WITHDRAWN, log_entries.SIGNATURE_INVALIDATED],
    ).values_list("ref_entry__index", flat=True)
    return {index for index in rows if index is not None}


def _verified(
    petition: Petition, size: int, after: int
) -> Iterator[tuple[int, bytes | memoryview]]:
    """(leaf index, stored bytes) of the verifications still counted, in log order."""
    removed = _removed(petition, size)
    # SQLite, without statistics, answers "petition = ?" from the petition
    # index and sorts all of the petition's entries again for every page;
    # petition_id + 0 keeps it on the unique index on "index". PostgreSQL must
    # see the plain column: it guesses that few rows match "petition_id + 0"
    # and then reads and sorts the rest of the log for every page (60 ms a
    # page at 10^5), where with its statistics it walks the index on "index"
    # (or the petition's, for a petition that is a small part of the log).
    of_petition = F("petition_id") + 0 if connection.vendor == "sqlite" else F("petition_id")
    last = after
    while True:
        batch = list(
            LogEntry.objects.alias(of_petition=of_petition)
            .filter(
                of_petition=petition.pk,
                event=log_entries.SIGNATURE_VERIFIED,
                index__gt=last,
                index__lt=size,
            )
            .order_by("index")
            .values_list("index", "data")[:BATCH]
        )
        if not batch:
            return
        for index, data in batch:
            if index is None or data is None:
                continue  # excluded by the query; keeps the types honest
            last = index
            if index not in removed:
                yield index, data


def shown_signatories(
    petition: Petition, size: int, *, after: int = -1
) -> Iterator[tuple[int, log_entries.Entry]]:
    """Shown signers still counted at log size `size`, by leaf index after `after`."""
    for index, data in _verified(petition, size, after):
        entry = log_entries.decode(bytes(data))
        if entry.signer is not None:
            yield index, entry


def signatory_batches(petition: Petition, size: int) -> Iterator[list[Row]]:
    """The export's rows, in COLUMNS order, SLICE at a time: what both exports write."""
    read = log_entries.read_verified
    rows: list[Row] = []
    for index, data in _verified(petition, size, -1):
        time, text, signer = read(data)
        if signer is not None:
            rows.append(
                (
                    index,
                    time,
                    signer["name"],
                    signer["role"],
                    signer["municipality"],
                    signer["region"],
                    text,
                )
            )
            if len(rows) == SLICE:
                yield rows
                rows = []
    if rows:
        yield rows


def spreadsheet_row(row: Row) -> Row:
    """The row with its signer's cells (name, role, municipality, region) made safe."""
    index, time, name, role, municipality, region, text = row
    return (
        index,
        time,
        spreadsheet_cell(name),
        spreadsheet_cell(role),
        spreadsheet_cell(municipality),
        spreadsheet_cell(region),
        text,
    )


def csv_chunks(batches: Iterable[list[Row]]) -> Iterator[str]:
    """The CSV text, header first, in chunks of about CHUNK characters."""
    buffer = io.StringIO(newline="")
    write = buffer.write
    writer = csv.writer(buffer)  # the excel dialect: QUOTE_MINIMAL, ",", '"', "\r\n"
    writer.writerow(COLUMNS)
    starts = FORMULA_START
    for rows in batches:
        for row in rows:
            # csv.writer quotes a field only for a comma, a quote, "\r" or "\n" in
            # it; a row with none of them, and no cell spreadsheet_cell would
            # change, is the plain join, made here without csv.writer's
            # character-by-character pass (2 µs a row, a quarter of the
            # export; looking for formulas costs 0.3 µs). Anything else goes
            # through spreadsheet_row and csv.writer (test_export_csv.py).
            line = ",".join(row[1:])
            if (
                line.count(",") == 5
                and '"' not in line
                and "\n" not in line
                and "\r" not in line
                and ";" not in line
                and "\t" not in line
                and starts.isdisjoint((row[2][:1], row[3][:1], row[4][:1], row[5][:1]))
            ):
                write(f"{row[0]},{line}\r\n")
            else:
                writer.writerow(spreadsheet_row(row))
        if buffer.tell() >= CHUNK:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        # Never an empty chunk: a server may take it for the end of the body.
        yield buffer.getvalue()


def json_rows(batches: Iterable[list[Row]]) -> Iterator[str]:
    """The members of the JSON array, each on a line of its own, comma-separated, in chunks."""
    separator = "\n"
    for rows in batches:
        yield separator + ",\n".join(
            _json_row(dict(zip(COLUMNS, row, strict=True))) for row in rows
        )
        separator = ",\n"


def _petition_and_checkpoint(slug: str) -> tuple[Petition, SignedCheckpoint | None]:
    petition = Petition.objects.public().filter(slug=slug).first()
    if petition is None:
        raise Http404("no such petition")
    return petition, latest_checkpoint()


def _stamp(
    response: StreamingHttpResponse, checkpoint: SignedCheckpoint | None, name: str, suffix: str
) -> StreamingHttpResponse:
    size = checkpoint.size if checkpoint else 0
    # The log size before the extension, so the file opens by double-click.
    response["Content-Disposition"] = f'attachment; filename="{name}-log{size}.{suffix}"'
    response["X-Log-Checkpoint-Size"] = str(size)
    response["Access-Control-Allow-Origin"] = "*"
    response["Access-Control-Expose-Headers"] = "X-Log-Checkpoint-Size"
    response["Cache-Control"] = "public, max-age=60"
    return response


@require_GET
def signatories_csv(request: HttpRequest, slug: str) -> StreamingHttpResponse:
    petition, checkpoint = _petition_and_checkpoint(slug)
    size = checkpoint.size if checkpoint else 0
    response = StreamingHttpResponse(
        csv_chunks(signatory_batches(petition, size)), content_type="text/csv; charset=utf-8"
    )
    return _stamp(response, checkpoint, f"{petition.slug}-signatories", "csv")


@require_GET
def signatories_json(request: HttpRequest, slug: str) -> StreamingHttpResponse:
    petition, checkpoint = _petition_and_checkpoint(slug)
    size = checkpoint.size if checkpoint else 0

    def chunks() -> Iterator[str]:
        head = {
            "petition": petition.slug,
            "checkpoint": checkpoint.note if checkpoint else None,
            "log_size": size,
        }
        yield json.dumps(head, ensure_ascii=False)[:-1] + ', "signatories": ['
        yield from json_rows(signatory_batches(petition, size))
        yield "\n]}\n"

    response = StreamingHttpResponse(chunks(), content_type="application/json")
    return _stamp(response, checkpoint, f"{petition.slug}-signatories", "json")
