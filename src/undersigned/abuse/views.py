"""Moderators' view of trending sources, and bulk invalidation with undo."""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from undersigned.abuse import services
from undersigned.abuse.forms import BulkInvalidationForm
from undersigned.abuse.models import BulkInvalidation, TrendingSource
from undersigned.accounts.twofactor import second_factor_required
from undersigned.petitions.access import moderated_by
from undersigned.signing.services import SigningError


@second_factor_required
def sources(request: HttpRequest) -> HttpResponse:
    petitions = moderated_by(request.user)
    trending = TrendingSource.objects.filter(petition__in=petitions).select_related("petition")
    actions = BulkInvalidation.objects.filter(petition__in=petitions).select_related(
        "petition", "actor", "reverted_by"
    )
    return render(
        request,
        "abuse/sources.html",
        {
            "trending": trending[:200],
            "actions": actions[:100],
        },
    )


@second_factor_required
@require_POST
def invalidate(request: HttpRequest) -> HttpResponse:
    form = BulkInvalidationForm(request.POST)
    if not form.is_valid():
        for field, errors in form.errors.items():
            for error in errors:
                messages.error(request, f"{field}: {error}")
        return redirect("abuse-sources")
    data = form.cleaned_data
    petition = moderated_by(request.user).filter(slug=data["petition"]).first()
    if petition is None:
        raise Http404("no such petition among those you moderate")
    try:
        action = services.bulk_invalidate(
            petition,
            request.user,
            kind=data["kind"],
            value=data["value"],
            start=data["start"],
            end=data["end"],
            reason=data["reason"],
        )
    except SigningError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            ngettext(
                "Invalidated %(count)d signature. You can undo this below.",
                "Invalidated %(count)d signatures. You can undo this below.",
                len(action.changed),
            )
            % {"count": len(action.changed)},
        )
    return redirect("abuse-sources")


@second_factor_required
@require_POST
def revert(request: HttpRequest, action_id: int) -> HttpResponse:
    action = BulkInvalidation.objects.filter(
        pk=action_id, petition__in=moderated_by(request.user)
    ).first()
    if action is None:
        raise Http404("no such action among the petitions you moderate")
    try:
        skipped = services.revert(action, request.user)
    except SigningError as exc:
        messages.error(request, str(exc))
    else:
        message = _("Undone: the signatures are back as they were.")
        if skipped:
            message += " " + ngettext(
                "%(count)d could not be restored (see the audit trail).",
                "%(count)d could not be restored (see the audit trail).",
                len(skipped),
            ) % {"count": len(skipped)}
        messages.success(request, message)
    return redirect("abuse-sources")
