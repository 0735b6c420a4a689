"""The witnessed log over HTTP: the cosigned checkpoint, the site's policy, .tlog-proof receipts."""

from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from undersigned.ledger import cosigning
from undersigned.ledger.models import LogEntry
from undersigned.ledger.services import DbHashReader, latest_checkpoint
from undersigned.signing.tokens import token_hash
from undersigned.tlog import merkle
from undersigned.tlog import proof as tlog_proof


def _text(body: str, cache: str, status: int = 200) -> HttpResponse:
    response = HttpResponse(body, content_type="text/plain; charset=utf-8", status=status)
    response["Cache-Control"] = cache
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_GET
def checkpoint(request: HttpRequest) -> HttpResponse:
    """The latest signed checkpoint, with every witness cosignature received so far.

    It is published as soon as it is signed and gains cosignature lines as
    the witnesses answer, so a reader requiring the quorum may need to ask
    again a few seconds later.
    """
    latest = latest_checkpoint()
    if latest is None:
        return _text("no checkpoint has been signed yet\n", "no-store", status=404)
    return _text(cosigning.cosigned_note(latest), "public, max-age=2")


@require_GET
def policy(request: HttpRequest) -> HttpResponse:
    """The site's c2sp.org/tlog-policy: the log key, each witness, the group, the quorum."""
    return _text(cosigning.site_policy().to_text(), "public, max-age=300")


@require_GET
def receipt_proof(request: HttpRequest, receipt_key: str) -> HttpResponse:
    """A signer's receipt as a c2sp.org/tlog-proof file, to check offline against a policy.

    The entry's bytes travel in the ``extra`` line; a hidden signer's opening
    of the commitment does not (it is in the JSON receipt only).
    """
    entry = LogEntry.objects.filter(receipt_key_hash=token_hash(receipt_key)).first()
    if entry is None:
        raise Http404("no such receipt")
    chosen = cosigning.checkpoint_for_proof(entry.index) if entry.index is not None else None
    if entry.index is None or chosen is None:
        response = _text(
            "not yet in a signed checkpoint; try again in a minute\n", "no-store", status=404
        )
        response["Referrer-Policy"] = "no-referrer"
        return response
    built = tlog_proof.build(
        entry.index,
        merkle.prove_record(chosen.size, entry.index, DbHashReader()),
        cosigning.cosigned_note(chosen),
        extra=bytes(entry.data or b""),
    )
    response = HttpResponse(built.to_bytes(), content_type=tlog_proof.MEDIA_TYPE)
    response["Content-Disposition"] = (
        f'attachment; filename="receipt-{entry.index}{tlog_proof.FILE_EXTENSION}"'
    )
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response
