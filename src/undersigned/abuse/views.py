"""Moderators' view of trending sources, bulk invalidation with undo, and the block list."""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from undersigned.abuse import blocklist, services
from undersigned.abuse.forms import EVERY_PETITION, BlockForm, BulkInvalidationForm, UnblockForm
from undersigned.abuse.models import BlockedSource, BulkInvalidation, TrendingSource
from undersigned.accounts.sessions import signed_in
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


@second_factor_required
def blocked(request: HttpRequest) -> HttpResponse:
    petitions = list(moderated_by(request.user).order_by("slug"))
    everywhere = blocklist.may_block_everywhere(request.user)
    if not petitions and not everywhere:
        raise Http404("you moderate no petition")
    return render(
        request,
        "abuse/blocklist.html",
        {
            "entries": blocklist.visible_to(request.user, petitions),
            "petitions": petitions,
            "everywhere": everywhere,
            "every_petition": EVERY_PETITION,
            "kinds": [
                (value, label)
                for value, label in BlockedSource.Kind.choices
                if value != BlockedSource.Kind.NETWORK_HASH
            ],
        },
    )


def _may_change(request: HttpRequest, petition_id: int | None) -> bool:
    if petition_id is None:
        return blocklist.may_block_everywhere(request.user)
    return moderated_by(request.user).filter(pk=petition_id).exists()


@second_factor_required
@require_POST
def block(request: HttpRequest) -> HttpResponse:
    form = BlockForm(request.POST)
    if not form.is_valid():
        for field, errors in form.errors.items():
            for error in errors:
                messages.error(request, f"{form.fields[field].label}: {error}")
        return redirect("abuse-blocklist")
    data = form.cleaned_data
    petition = None
    if data["petition"] != EVERY_PETITION:
        petition = moderated_by(request.user).filter(slug=data["petition"]).first()
        if petition is None:
            raise Http404("no such petition among those you moderate")
    elif not blocklist.may_block_everywhere(request.user):
        raise Http404("only a site moderator blocks a source everywhere")
    try:
        entry = blocklist.add(
            signed_in(request),
            kind=data["kind"],
            value=data["value"],
            reason=data["reason"],
            petition=petition,
        )
    except blocklist.BlocklistError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("Blocked %(source)s: signing from it is refused from now on.")
            % {"source": entry.label},
        )
    return redirect("abuse-blocklist")


@second_factor_required
@require_POST
def unblock(request: HttpRequest, entry_id: int) -> HttpResponse:
    entry = BlockedSource.objects.filter(pk=entry_id).first()
    if entry is None or not _may_change(request, entry.petition_id):
        raise Http404("no such entry among those you may change")
    form = UnblockForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say why: the reason is kept in the audit trail."))
        return redirect("abuse-blocklist")
    try:
        blocklist.remove(signed_in(request), entry, reason=form.cleaned_data["reason"])
    except blocklist.BlocklistError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request, _("Removed from the block list: %(source)s.") % {"source": entry.label}
        )
    return redirect("abuse-blocklist")
