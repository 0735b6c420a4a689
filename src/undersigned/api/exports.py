"""Streaming exports of public signatories, read from the public log itself.

An export is exactly what a given signed checkpoint proves: the shown signers
of verified entries not later withdrawn or invalidated, up to that size. It
streams with constant memory but for the set of removed indexes.
"""

import csv
import json
from collections.abc import Iterator

from django.db.models import F
from django.http import Http404, HttpRequest, StreamingHttpResponse
from django.views.decorators.http import require_GET

from undersigned.ledger import entries as log_entries
from undersigned.ledger.models import LogEntry, SignedCheckpoint
from undersigned.ledger.services import latest_checkpoint
from undersigned.petitions.models import Petition

COLUMNS = ["log_index", "time", "name", "role", "municipality", "region", "text_sha256"]
BATCH = 2000


class _Echo:
    def write(self, value: str) -> str:
        return value


def _removed(petition: Petition, size: int) -> set[int]:
    rows = LogEntry.objects.filter(
        petition=petition,
        index__lt=size,
        event__in=[log_entries.SIGNATURE_WITHDRAWN, log_entries.SIGNATURE_INVALIDATED],
    ).values_list("ref_entry__index", flat=True)
    return {index for index in rows if index is not None}


def shown_signatories(
    petition: Petition, size: int, *, after: int = -1
) -> Iterator[tuple[int, log_entries.Entry]]:
    """Shown signers still counted at log size `size`, by leaf index after `after`."""
    removed = _removed(petition, size)
    last = after
    while True:
        batch = list(
            # petition_id + 0 keeps SQLite off the petition index, so it walks
            # the unique index on "index" instead of sorting every page again.
            LogEntry.objects.alias(of_petition=F("petition_id") + 0)
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
            if index in removed:
                continue
            entry = log_entries.decode(bytes(data))
            if entry.signer is not None:
                yield index, entry


def signatory_rows(petition: Petition, size: int) -> Iterator[list[object]]:
    """The export's rows, in COLUMNS order: what the web export and the command write."""
    for index, entry in shown_signatories(petition, size):
        signer = entry.signer or {}
        yield [
            index,
            entry.time,
            signer["name"],
            signer["role"],
            signer["municipality"],
            signer["region"],
            entry.text,
        ]


def _petition_and_checkpoint(slug: str) -> tuple[Petition, SignedCheckpoint | None]:
    petition = Petition.objects.exclude(status=Petition.Status.DRAFT).filter(slug=slug).first()
    if petition is None:
        raise Http404("no such petition")
    return petition, latest_checkpoint()


def _stamp(
    response: StreamingHttpResponse, checkpoint: SignedCheckpoint | None, filename: str
) -> StreamingHttpResponse:
    size = checkpoint.size if checkpoint else 0
    response["Content-Disposition"] = f'attachment; filename="{filename}-log{size}"'
    response["X-Log-Checkpoint-Size"] = str(size)
    response["Access-Control-Allow-Origin"] = "*"
    response["Access-Control-Expose-Headers"] = "X-Log-Checkpoint-Size"
    response["Cache-Control"] = "public, max-age=60"
    return response


@require_GET
def signatories_csv(request: HttpRequest, slug: str) -> StreamingHttpResponse:
    petition, checkpoint = _petition_and_checkpoint(slug)
    size = checkpoint.size if checkpoint else 0
    writer = csv.writer(_Echo())

    def rows() -> Iterator[str]:
        yield writer.writerow(COLUMNS)
        for row in signatory_rows(petition, size):
            yield writer.writerow(row)

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    return _stamp(response, checkpoint, f"{petition.slug}-signatories.csv")


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
        first = True
        for values in signatory_rows(petition, size):
            row = dict(zip(COLUMNS, values, strict=True))
            yield ("" if first else ",") + "\n" + json.dumps(row, ensure_ascii=False)
            first = False
        yield "\n]}\n"

    response = StreamingHttpResponse(chunks(), content_type="application/json")
    return _stamp(response, checkpoint, f"{petition.slug}-signatories.json")
