"""The review queue: claims on register letters that a person has to check."""

import heapq
import json
from collections.abc import Iterator

from django.contrib import messages
from django.db.models import F
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from undersigned.accounts.twofactor import second_factor_required
from undersigned.audit import services as audit
from undersigned.core.custody import EXPORT_FORMAT
from undersigned.moderation import reasons
from undersigned.moderation.forms import DecisionForm
from undersigned.petitions.access import reviewed_by
from undersigned.petitions.texts import register_name
from undersigned.registers.matching import rank_candidates
from undersigned.registers.models import RegisterEntry
from undersigned.signing import custody, services
from undersigned.signing.custody import entry_key
from undersigned.signing.models import Signature

AWAITING = services.AWAITING_STATES
QUEUE_PAGE = 100


@second_factor_required
def queue(request: HttpRequest) -> HttpResponse:
    petitions = reviewed_by(request.user)
    slug = request.GET.get("petition", "")
    mine = petitions.filter(slug=slug) if slug else petitions
    # One ordered walk of the (state, created) index per awaiting state, merged:
    # no sort over every awaiting row, however long the queue (docs/performance.md).
    per_state = [
        Signature.objects.alias(of_petition=F("petition_id") + 0)
        .filter(of_petition__in=mine.values("pk"), state=state)
        .select_related("petition")
        .order_by("created", "id")[:QUEUE_PAGE]
        for state in AWAITING
    ]
    waiting = list(heapq.merge(*per_state, key=lambda s: (s.created, s.pk)))[:QUEUE_PAGE]
    return render(
        request,
        "moderation/queue.html",
        {
            "signatures": waiting,
            "petitions": petitions.order_by("slug"),
            "selected": slug,
        },
    )


def _candidates(signature: Signature) -> list[tuple[RegisterEntry, float, list[Signature]]]:
    petition = signature.petition
    if petition.register_id is None:
        return []
    entries = RegisterEntry.objects.filter(register_id=petition.register_id)
    ranked = rank_candidates(
        signature.full_name,
        signature.municipality,
        signature.role,
        entries.values_list("pk", "full_name", "municipality", "role").iterator(),
        limit=5,
    )
    by_pk = entries.in_bulk([c.key for c in ranked])
    rows: list[tuple[RegisterEntry, float, list[Signature]]] = []
    for candidate in ranked:
        entry = by_pk[candidate.key]
        rivals = list(
            Signature.objects.filter(
                petition=petition, register_entry_key=entry_key(petition.pk, entry.pk)
            )
            .exclude(pk=signature.pk)
            .exclude(state__in=[Signature.State.REJECTED, Signature.State.WITHDRAWN])
        )
        rows.append((entry, round(candidate.score), rivals))
    bound = signature.register_entry
    if bound is not None and bound.pk not in by_pk:
        rows.insert(0, (bound, 100, []))
    return rows


@second_factor_required
@require_http_methods(["GET", "POST"])
def review(request: HttpRequest, signature_id: int) -> HttpResponse:
    signature = (
        Signature.objects.filter(pk=signature_id, petition__in=reviewed_by(request.user))
        .select_related("petition", "register_entry", "text_version")
        .first()
    )
    if signature is None:
        raise Http404("no such signature in your queue")
    form = DecisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        reason, note = data["reason_text"], data["note"]
        try:
            if data["decision"] == "approve":
                entry = None
                if data["entry"] and signature.petition.register_id is not None:
                    entry = RegisterEntry.objects.filter(
                        pk=data["entry"], register_id=signature.petition.register_id
                    ).first()
                services.approve(signature.pk, request.user, entry=entry, reason=reason, note=note)
                messages.success(request, _("Approved: the signature now counts as verified."))
            elif data["decision"] == "reject":
                services.reject(signature.pk, request.user, reason=reason, note=note)
                messages.success(request, _("Rejected; the signer is told why."))
            else:
                services.invalidate(signature.pk, request.user, reason=reason, note=note)
                messages.success(
                    request, _("Invalidated: it no longer counts, and the log says why.")
                )
        except services.SigningError as exc:
            form.add_error(None, str(exc))
        else:
            return redirect("moderation-queue")
    awaiting = signature.state in AWAITING
    return render(
        request,
        "moderation/review.html" if awaiting else "moderation/decided.html",
        {
            "signature": signature,
            "petition": signature.petition,
            "register_name": register_name(signature.petition),
            # A decided signature's identity is sealed away: nothing to rank it against.
            "candidates": _candidates(signature) if awaiting else [],
            "form": form,
            "reason_groups": [
                (decision, reasons.DECISION_LABELS[decision], options)
                for decision, options in reasons.REASONS.items()
            ],
            "history": signature.audit_events.all(),
        },
        status=400 if form.errors else 200,
    )


@second_factor_required
def custody_export(request: HttpRequest, slug: str) -> StreamingHttpResponse:
    """Every value of a petition sealed to its custody key, for `undersigned custody open`.

    Ciphertext only: the server cannot open it. Still only for the petition's
    moderators, and on the record, since it is the one file their key opens.
    """
    petition = reviewed_by(request.user).filter(slug=slug).first()
    if petition is None:
        raise Http404("no such petition among those you moderate")
    audit.record("custody.exported", actor=request.user, petition=petition)
    header = {
        "format": EXPORT_FORMAT,
        "petition": petition.slug,
        "recipient": petition.custody_key(),
        "exported_at": timezone.now().isoformat(),
    }

    def lines() -> Iterator[str]:
        yield json.dumps(header) + "\n"
        for row in custody.export_rows(petition):
            yield json.dumps(row) + "\n"

    response = StreamingHttpResponse(lines(), content_type="application/x-ndjson")
    response["Content-Disposition"] = f'attachment; filename="{petition.slug}-custody.jsonl"'
    response["Cache-Control"] = "no-store"
    return response
