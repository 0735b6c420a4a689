"""The log over HTTP: C2SP tlog-tiles, proofs as JSON, receipts."""

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from undersigned.core import crypto
from undersigned.ledger import cosigning, receipts
from undersigned.ledger.keys import signer
from undersigned.ledger.models import CheckpointCount, LogEntry, SignedCheckpoint
from undersigned.ledger.services import OPENING_PURPOSE, DbHashReader, latest_checkpoint
from undersigned.petitions.models import Petition
from undersigned.signing.tokens import token_hash
from undersigned.tlog import entries as log_entries
from undersigned.tlog import merkle

YEAR = "public, max-age=31536000, immutable"


def _text(body: str | bytes, cache: str, status: int = 200) -> HttpResponse:
    response = HttpResponse(body, content_type="text/plain; charset=utf-8", status=status)
    response["Cache-Control"] = cache
    response["Access-Control-Allow-Origin"] = "*"
    return response


def _bad(message: str) -> JsonResponse:
    response = JsonResponse({"error": message}, status=400)
    response["Access-Control-Allow-Origin"] = "*"
    return response


def _size() -> int:
    latest = latest_checkpoint()
    return latest.size if latest else 0


@require_GET
def key(request: HttpRequest) -> HttpResponse:
    return _text(signer().verifier_key() + "\n", "public, max-age=86400")


@require_GET
def tile(request: HttpRequest, path: str) -> HttpResponse:
    try:
        wanted = merkle.parse_tile_path("tile/" + path)
    except ValueError as exc:
        return _text(f"bad tile path: {exc}\n", "no-store", status=400)
    level, index, width = wanted
    size = _size()
    first = index * merkle.TILE_WIDTH
    if level == merkle.ENTRIES_LEVEL:
        if first + width > size:
            return _text("that entry bundle is beyond the latest checkpoint\n", "no-store", 404)
        rows = LogEntry.objects.filter(index__gte=first, index__lt=first + width).order_by("index")
        body = merkle.encode_entry_bundle(
            [bytes(data or b"") for data in rows.values_list("data", flat=True)]
        )
    else:
        if first + width > size >> (merkle.TILE_HEIGHT * level):
            return _text("that tile is beyond the latest checkpoint\n", "no-store", 404)
        body = merkle.tile_hashes(level, index, width, DbHashReader())
    response = HttpResponse(body, content_type="application/octet-stream")
    response["Cache-Control"] = YEAR if width == merkle.TILE_WIDTH else "public, max-age=3600"
    response["Access-Control-Allow-Origin"] = "*"
    return response


def _int_param(request: HttpRequest, name: str) -> int:
    raw = request.GET.get(name)
    if raw is None or raw == "":
        raise ValueError(f"'{name}' is required")
    if not raw.isdigit() or len(raw) > 19:
        raise ValueError(f"'{name}' must be a non-negative integer, not {raw[:30]!r}")
    return int(raw)


@require_GET
def inclusion_proof(request: HttpRequest) -> JsonResponse:
    latest = _size()
    try:
        index = _int_param(request, "index")
        size = _int_param(request, "size") if "size" in request.GET else latest
    except ValueError as exc:
        return _bad(str(exc))
    if size > latest:
        return _bad(f"size {size} is beyond the latest checkpoint ({latest})")
    if index >= size:
        return _bad(f"index {index} is not below size {size}")
    reader = DbHashReader()
    leaf = reader.read_hashes([merkle.stored_hash_index(0, index)])[0]
    proof = merkle.prove_record(size, index, reader)
    response = JsonResponse(
        {
            "index": index,
            "size": size,
            "leaf_hash": receipts.b64(leaf),
            "proof": [receipts.b64(h) for h in proof],
        }
    )
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_GET
def consistency_proof(request: HttpRequest) -> JsonResponse:
    latest = _size()
    try:
        old = _int_param(request, "old")
        new = _int_param(request, "new")
    except ValueError as exc:
        return _bad(str(exc))
    if new > latest:
        return _bad(f"new {new} is beyond the latest checkpoint ({latest})")
    if not 0 < old <= new:
        return _bad("need 0 < old ≤ new")
    proof = merkle.prove_tree(new, old, DbHashReader())
    response = JsonResponse({"old": old, "new": new, "proof": [receipts.b64(h) for h in proof]})
    response["Access-Control-Allow-Origin"] = "*"
    return response


def _opening(entry: LogEntry, raw_key: str) -> tuple[bytes | None, dict[str, Any] | None]:
    """A hidden signer's commitment opening, sealed to the receipt key they just brought."""
    if not entry.opening_sealed:
        return None, None
    try:
        opened = json.loads(
            crypto.open_for_holder(raw_key, bytes(entry.opening_sealed), OPENING_PURPOSE)
        )
    except (crypto.DecryptionError, ValueError):
        return None, None
    salt = bytes.fromhex(opened.pop("salt_hex"))
    return salt, opened


def _receipt_for(raw_key: str) -> tuple[LogEntry, dict[str, Any] | None]:
    entry = (
        LogEntry.objects.filter(receipt_key_hash=token_hash(raw_key))
        .select_related("signature", "petition")
        .first()
    )
    if entry is None:
        raise Http404("no such receipt")
    # The newest checkpoint holding it that has its witnesses' cosignatures, if any has.
    chosen = cosigning.checkpoint_for_proof(entry.index) if entry.index is not None else None
    if entry.index is None or chosen is None:
        return entry, None  # not yet in a signed checkpoint: the worker adds it within seconds
    salt, opening = _opening(entry, raw_key)
    receipt = receipts.build(
        index=entry.index,
        entry=bytes(entry.data or b""),
        proof=merkle.prove_record(chosen.size, entry.index, DbHashReader()),
        checkpoint_note=cosigning.cosigned_note(chosen),
        verifier_key=signer().verifier_key(),
        salt=salt,
        signer=opening,
    )
    return entry, receipt


@require_GET
def receipt(request: HttpRequest, receipt_key: str) -> HttpResponse:
    entry, built = _receipt_for(receipt_key)
    removed = entry.removals.exclude(index__isnull=True).first()
    response = render(
        request,
        "ledger/receipt.html",
        {
            "entry": entry,
            "receipt": built,
            "receipt_key": receipt_key,
            "removed": removed,
            "receipt_json": json.dumps(built, indent=2, ensure_ascii=False) if built else "",
        },
    )
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response


@require_GET
def receipt_json(request: HttpRequest, receipt_key: str) -> HttpResponse:
    entry, built = _receipt_for(receipt_key)
    if built is None:
        return JsonResponse(
            {"error": "not yet in a signed checkpoint; try again in a minute"}, status=404
        )
    response = JsonResponse(built, json_dumps_params={"indent": 2, "ensure_ascii": False})
    response["Content-Disposition"] = f'attachment; filename="receipt-{entry.index}.json"'
    response["Cache-Control"] = "private, no-store"
    return response


MAX_RECEIPT = 200_000


@require_http_methods(["GET", "POST"])
def check_receipt(request: HttpRequest) -> HttpResponse:
    context: dict[str, Any] = {"pasted": "", "proven": [], "problem": ""}
    status = 200
    if request.method == "POST":
        pasted = request.POST.get("receipt", "")[:MAX_RECEIPT]
        context["pasted"] = pasted
        latest = latest_checkpoint()
        try:
            if latest is None:
                raise receipts.ReceiptError(_("this log has no signed checkpoint yet"))
            try:
                parsed = json.loads(pasted)
            except ValueError:
                raise receipts.ReceiptError(
                    _("that is not JSON: paste the whole receipt")
                ) from None
            context["proven"] = receipts.check(
                parsed,
                signer().verifier(),
                latest.note,
                lambda old, new: merkle.prove_tree(new, old, DbHashReader()),
            )
            index = parsed.get("index")
            context["removed"] = LogEntry.objects.filter(
                ref_entry__index=index, index__isnull=False
            ).first()
        except receipts.ReceiptError as exc:
            context["problem"] = str(exc)
            status = 400
    context["checkpoint"] = latest_checkpoint()
    return render(request, "ledger/check_receipt.html", context, status=status)


# ------------------------------------------------------------------ the log in words

LOG_PAGE = 50


@dataclass
class LogLine:
    """One entry of the public log as the /log/ page tells it, from its bytes alone."""

    index: int
    event: str
    petition: str
    time: datetime | None
    what: str  # the event in words
    signer: dict[str, str] | None = None  # a shown signer's public fields
    commitment: str | None = None  # a hidden signer's, instead
    ref: int | None = None  # the verification a removal takes back
    reason: str | None = None
    version: int | None = None
    title: str | None = None
    ref_url: str = ""
    paper: bool = False  # a verification entered from a paper sheet ("channel": "paper")
    # An answer's (a response or an outcome published): its document's
    # SHA-256 and the petition's count in the log just before it.
    document: str | None = None
    count: int | None = None


# What each kind of entry is called on the page. A new kind of entry (a
# response published, say) needs one line here; until then it is shown by
# its event name, never hidden.
EVENT_WORDS: dict[str, Callable[[], str]] = {
    log_entries.SIGNATURE_VERIFIED: lambda: _("Signature verified"),
    log_entries.SIGNATURE_WITHDRAWN: lambda: _("Signature withdrawn by its signer"),
    log_entries.SIGNATURE_INVALIDATED: lambda: _("Signature invalidated"),
    log_entries.PETITION_OPENED: lambda: _("Petition opened"),
    # The entry does not say which: its title and language are in its text's hash.
    log_entries.PETITION_TEXT_VERSION: lambda: _(
        "New text version: a correction or a translation"
    ),
    log_entries.PETITION_CLOSED: lambda: _("Petition closed"),
    log_entries.RESPONSE_PUBLISHED: lambda: _("Response published"),
}
# An outcome's words depend on which it is.
OUTCOME_WORDS: dict[str, Callable[[], str]] = {
    "debate_scheduled": lambda: _("Outcome published: a debate scheduled"),
    "debated": lambda: _("Outcome published: debated"),
}


def _field(raw: dict[str, Any], name: str, kind: type) -> Any:
    value = raw.get(name)
    return value if isinstance(value, kind) and not isinstance(value, bool) else None


def log_line(index: int, data: bytes) -> LogLine:
    """An entry in words: only what its bytes say (hidden signers stay a commitment).

    The server's own entries passed entries.decode when they were written;
    they are read leniently here, so that a kind of entry this version does
    not know is still listed under its own name.
    """
    try:
        raw = json.loads(data)
    except ValueError:
        raw = None
    if not isinstance(raw, dict):
        return LogLine(index, "", "", None, _("An entry this page cannot read"))
    event = _field(raw, "event", str) or ""
    words = EVENT_WORDS.get(event)
    if event == log_entries.OUTCOME_PUBLISHED:
        words = OUTCOME_WORDS.get(_field(raw, "outcome", str) or "", words)
    when = None
    if isinstance(raw.get("time"), str):
        try:
            when = datetime.strptime(raw["time"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        except ValueError:
            when = None
    signer = raw.get("signer")
    if not (isinstance(signer, dict) and all(isinstance(v, str) for v in signer.values())):
        signer = None
    return LogLine(
        index=index,
        event=event,
        petition=_field(raw, "petition", str) or "",
        time=when,
        what=words() if words else _("Entry of kind “%(event)s”") % {"event": event},
        signer=signer,
        commitment=_field(raw, "commitment", str),
        ref=_field(raw, "ref", int),
        reason=_field(raw, "reason", str),
        version=_field(raw, "version", int),
        title=_field(raw, "title", str),
        paper=raw.get("channel") == log_entries.CHANNEL_PAPER,
        document=_field(raw, "document", str),
        count=_field(raw, "count", int),
    )


def _before_param(request: HttpRequest) -> int | None:
    raw = request.GET.get("before", "")
    if raw == "":
        return None
    if not raw.isdigit() or len(raw) > 19:
        raise ValueError(_("“before” must be an entry number, such as 120."))
    return int(raw)


def log_page(request: HttpRequest) -> HttpResponse:
    """The entries of the public log in words, newest first, a page at a time.

    `?petition=<slug>` keeps one petition's; `?before=N` starts below entry N.
    Only entries inside the latest signed checkpoint are listed: those are
    public, each with its inclusion proof against that checkpoint.
    """
    latest = latest_checkpoint()
    size = latest.size if latest else 0
    checkpoints = list(
        SignedCheckpoint.objects.order_by("-size").prefetch_related("cosignatures")[:10]
    )
    for recent in checkpoints:
        recent.witnessed = cosigning.witnessing(recent)  # type: ignore[attr-defined]
    context: dict[str, Any] = {
        "checkpoint": latest,
        "checkpoints": checkpoints,
        "witnesses": cosigning.witnesses(),
        "quorum": settings.LEDGER_WITNESS_QUORUM,
        "witnessed": checkpoints[0].witnessed if checkpoints else None,  # type: ignore[attr-defined]
        "verifier_key": signer().verifier_key(),
        "lines": [],
        "problem": "",
        "petition": None,
    }
    entries = LogEntry.objects.filter(index__lt=size)
    slug = request.GET.get("petition", "")
    if slug:
        petition = Petition.objects.public().filter(slug=slug[:200]).first()
        if petition is None:
            context["problem"] = _("No public petition has the address “%(slug)s”.") % {
                "slug": slug[:200]
            }
            return render(request, "ledger/log.html", context, status=404)
        context["petition"] = petition
        context["counted"] = CheckpointCount.objects.filter(petition=petition).first()
        entries = entries.filter(petition=petition)
    try:
        before = _before_param(request)
    except ValueError as exc:
        context["problem"] = str(exc)
        return render(request, "ledger/log.html", context, status=400)
    shown = entries if before is None else entries.filter(index__lt=before)
    rows = list(shown.order_by("-index").values_list("index", "data")[: LOG_PAGE + 1])
    lines = [log_line(i, bytes(d or b"")) for i, d in rows[:LOG_PAGE] if i is not None]
    for line in lines:
        if line.ref is not None:
            # The page that starts at the entry taken back, scrolled to it.
            also = f"petition={quote(slug)}&" if slug else ""
            line.ref_url = f"?{also}before={line.ref + 1}#entry-{line.ref}"
    context["lines"] = lines
    context["size"] = size
    context["paged"] = before is not None
    if len(rows) > LOG_PAGE and lines:
        context["older"] = lines[-1].index
    if before is not None and lines:
        # The page above this one: the LOG_PAGE entries after its first line.
        newer = list(
            entries.filter(index__gt=lines[0].index)
            .order_by("index")
            .values_list("index", flat=True)[:LOG_PAGE]
        )
        if len(newer) == LOG_PAGE and newer[-1] is not None and newer[-1] + 1 < size:
            context["newer"] = newer[-1] + 1
    return render(request, "ledger/log.html", context)


checkpoint_history = log_page  # the name urls.py gives /log/
