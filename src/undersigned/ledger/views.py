"""The log over HTTP: C2SP tlog-tiles, proofs as JSON, receipts."""

import json
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from undersigned.core import crypto
from undersigned.ledger import receipts
from undersigned.ledger.keys import signer
from undersigned.ledger.models import LogEntry, SignedCheckpoint
from undersigned.ledger.services import OPENING_PURPOSE, DbHashReader, latest_checkpoint
from undersigned.signing.tokens import token_hash
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
def checkpoint(request: HttpRequest) -> HttpResponse:
    latest = latest_checkpoint()
    if latest is None:
        return _text("no checkpoint has been signed yet\n", "no-store", status=404)
    return _text(latest.note, "public, max-age=2")


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
    latest = latest_checkpoint()
    if entry.index is None or latest is None or latest.size <= entry.index:
        return entry, None  # not yet in a signed checkpoint: the worker adds it within seconds
    salt, opening = _opening(entry, raw_key)
    receipt = receipts.build(
        index=entry.index,
        entry=bytes(entry.data or b""),
        proof=merkle.prove_record(latest.size, entry.index, DbHashReader()),
        checkpoint_note=latest.note,
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


def checkpoint_history(request: HttpRequest) -> HttpResponse:
    rows = SignedCheckpoint.objects.order_by("-size")[:50]
    return render(
        request, "ledger/log.html", {"checkpoints": rows, "verifier_key": signer().verifier_key()}
    )
