"""The organiser's pages: draft, publish, correct, close, add founders, read the audit trail.

Each waits for the second factor (accounts/twofactor.py): they change the
text people sign, and publishing and inviting founders make the site mail people.
"""

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from undersigned.accounts.services import address_confirmed
from undersigned.accounts.sessions import signed_in
from undersigned.accounts.twofactor import second_factor_required
from undersigned.audit import services as audit
from undersigned.audit.models import AuditEvent
from undersigned.petitions import invitations, lookalike, services, submissions
from undersigned.petitions.access import organised_by, organiser_petition_or_404
from undersigned.petitions.forms import (
    AddresseeNoticeForm,
    FounderForm,
    NewVersionForm,
    PetitionForm,
)
from undersigned.petitions.models import Petition, TextVersion
from undersigned.petitions.steps import read_answers, where
from undersigned.petitions.translations import translation_context
from undersigned.signing import services as signing
from undersigned.signing.models import Signature


@second_factor_required
def dashboard(request: HttpRequest) -> HttpResponse:
    rows = []
    for petition in organised_by(request.user).order_by("-created"):
        verified, awaiting = services.counts(petition)
        # Where a submission stands: supporters, moderation, the decision (submissions.py).
        stage = submissions.stage(petition)
        rows.append((petition, petition.current_version(), verified, awaiting, stage))
    return render(
        request,
        "petitions/dashboard.html",
        {"rows": rows, "address_confirmed": address_confirmed(signed_in(request))},
    )


def _initial(petition: Petition) -> dict[str, Any]:
    version = petition.current_version()
    return {
        "kind": petition.kind,
        "title": version.title,
        "body": version.body,
        "language": version.language,
        "organiser_name": petition.organiser_name,
        "addressee": petition.addressee,
        "addressee_email": petition.addressee_email,
        "response_threshold": petition.response_threshold,
        "debate_threshold": petition.debate_threshold,
        "audience": petition.audience,
        "register": petition.register,
        "thresholds": ", ".join(str(t) for t in petition.thresholds),
        "deadline": petition.deadline,
        "retention_days": petition.retention_days,
    }


def _apply(petition: Petition, version: TextVersion, data: dict[str, Any]) -> None:
    petition.kind = data["kind"]
    petition.organiser_name = data["organiser_name"]
    petition.addressee = data["addressee"]
    petition.addressee_email = data["addressee_email"]
    petition.response_threshold = data["response_threshold"]
    petition.debate_threshold = data["debate_threshold"]
    petition.audience = data["audience"]
    petition.register = data["register"]
    petition.thresholds = data["thresholds"]
    petition.deadline = data["deadline"]
    petition.retention_days = data["retention_days"]
    version.title = data["title"]
    version.body = data["body"]
    version.language = data["language"]


@second_factor_required
@require_http_methods(["GET", "POST"])
def new_petition(request: HttpRequest) -> HttpResponse:
    form = PetitionForm(request.POST or None)
    # Published petitions like this one are shown once before it is saved (lookalike.py).
    seen = request.POST.get("lookalikes_seen", "")
    alike = lookalike.for_form(form, seen) if form.is_bound else []
    if request.method == "POST" and form.is_valid() and not alike:
        with transaction.atomic():
            petition = Petition(
                organiser=signed_in(request), slug=services.unique_slug(form.cleaned_data["title"])
            )
            version = TextVersion(number=1)
            _apply(petition, version, form.cleaned_data)
            petition.save()
            version.petition = petition
            version.save()
        if submissions.may_publish_directly(request.user):
            messages.success(request, _("Draft saved. Publish it when the text is final."))
        else:
            messages.success(request, _("Draft saved. Submit it when the text is final."))
        return redirect("manage", slug=petition.slug)
    return render(
        request,
        "petitions/edit.html",
        {"form": form, "petition": None, "lookalikes": alike},
        status=400 if form.errors else 200,
    )


@second_factor_required
@require_http_methods(["GET", "POST"])
def edit_draft(request: HttpRequest, slug: str) -> HttpResponse:
    petition = organiser_petition_or_404(request.user, slug)
    if petition.status not in Petition.EDITABLE:
        if petition.is_submission:
            messages.error(
                request,
                _(
                    "A submitted text is frozen while its supporters back it "
                    "and moderators check it."
                ),
            )
        else:
            messages.error(
                request, _("A published text is frozen: publish a correction instead.")
            )
        return redirect("manage", slug=slug)
    form = PetitionForm(request.POST or None, initial=_initial(petition))
    version = petition.current_version()
    language = form.cleaned_data.get("language") if form.is_bound and form.is_valid() else None
    if language and language != version.language:
        if petition.versions.filter(language=language).exists():
            # Two texts in one language: which would the page show?
            form.add_error("language", _("The draft has a translation in this language already."))
    # A new title is checked as a new petition's is; the one saved before was already.
    seen = request.POST.get("lookalikes_seen", "") or version.title
    alike = lookalike.for_form(form, seen) if form.is_bound else []
    if request.method == "POST" and form.is_valid() and not alike:
        _apply(petition, version, form.cleaned_data)
        with transaction.atomic():
            petition.save()
            version.save()
        messages.success(request, _("Draft saved."))
        return redirect("manage", slug=slug)
    return render(
        request,
        "petitions/edit.html",
        {"form": form, "petition": petition, "lookalikes": alike},
        status=400 if form.errors else 200,
    )


@second_factor_required
def manage(request: HttpRequest, slug: str) -> HttpResponse:
    petition = organiser_petition_or_404(request.user, slug)
    verified, awaiting = services.counts(petition)
    context = {
        "petition": petition,
        "version": petition.current_version(),
        "verified": verified,
        "awaiting": awaiting,
        "founder_form": FounderForm(),
        "stage": submissions.stage(petition),
        "can_publish": submissions.may_publish_directly(request.user),
        "support_url": submissions.support_url(petition) if petition.support_key else "",
        "published": petition.status in Petition.PUBLISHED,
        "needed": submissions.supporters_needed(),
        "standards_url": reverse("standards"),
        # Its texts per language, and the form that adds a translation.
        **translation_context(petition),
        "notice_form": AddresseeNoticeForm(initial={"addressee_email": petition.addressee_email}),
        "progress": where(petition, verified, read_answers(petition)),
        "version_form": NewVersionForm(initial=_initial(petition)),
        "founders": Signature.objects.filter(petition=petition, is_founder=True).order_by("id"),
        "events": AuditEvent.objects.filter(petition=petition).select_related("signature")[:200],
        # Claims, not identities: the template shows a name only if the signer chose so.
        "claims": Signature.objects.filter(
            petition=petition, state__in=[Signature.State.CONFIRMED, Signature.State.NEEDS_REVIEW]
        ).order_by("created", "pk")[:200],
    }
    return render(request, "petitions/manage.html", context)


@second_factor_required
@require_POST
def change_status(request: HttpRequest, slug: str, action: str) -> HttpResponse:
    petition = organiser_petition_or_404(request.user, slug)
    transitions: dict[str, Callable[[Petition, services.Actor], None]] = {
        "publish": services.publish,
        "close": services.close,
        "archive": services.archive,
    }
    if action not in (*transitions, "submit"):
        messages.error(request, _("Unknown action."))
        return redirect("manage", slug=slug)
    if action in ("publish", "submit") and not address_confirmed(signed_in(request)):
        # A published petition mails everyone who signs it, in the organiser's words.
        messages.error(request, invitations.not_confirmed_message())
        return redirect("manage", slug=slug)
    if action == "publish" and not submissions.may_publish_directly(request.user):
        messages.error(
            request,
            _(
                "On this site a moderator checks each petition before it is published: "
                "submit it instead."
            ),
        )
        return redirect("manage", slug=slug)
    if action == "submit":
        return _submit(request, petition)
    try:
        transitions[action](petition, request.user)
    except services.PetitionError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            {
                "publish": _("Published: the text is now frozen."),
                "close": _("Closed: no more signatures are taken."),
                "archive": _("Archived."),
            }[action],
        )
    return redirect("manage", slug=slug)


def _submit(request: HttpRequest, petition: Petition) -> HttpResponse:
    try:
        submissions.submit(
            petition, signed_in(request), language=translation.get_language() or "en"
        )
    except services.PetitionError as exc:
        messages.error(request, str(exc))
    else:
        if submissions.supporters_needed():
            messages.success(
                request,
                _("Submitted: the text is frozen. Share its link with your supporters."),
            )
        else:
            messages.success(request, _("Submitted: the text is frozen until moderators decide."))
    return redirect("manage", slug=petition.slug)


@second_factor_required
@require_POST
def add_version(request: HttpRequest, slug: str) -> HttpResponse:
    petition = organiser_petition_or_404(request.user, slug)
    form = NewVersionForm(request.POST)
    if form.is_valid():
        try:
            services.new_version(petition, request.user, **form.cleaned_data)
        except services.PetitionError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Correction published as a new text version."))
    else:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
    return redirect("manage", slug=slug)


@second_factor_required
@require_POST
def add_founder(request: HttpRequest, slug: str) -> HttpResponse:
    petition = organiser_petition_or_404(request.user, slug)
    form = FounderForm(request.POST)
    if not form.is_valid():
        for field, errors in form.errors.items():
            for error in errors:
                messages.error(request, f"{field}: {error}")
        return redirect("manage", slug=slug)
    if petition.status == Petition.Status.DRAFT and not submissions.may_publish_directly(
        request.user
    ):
        # A founder confirmed on a draft would count at once: a submission's first
        # signatures are its supporters', which count only if moderators publish it.
        messages.error(
            request,
            _(
                "Founding signatories are added once the petition is published; "
                "until then its supporters back it."
            ),
        )
        return redirect("manage", slug=slug)
    data = form.cleaned_data
    organiser = signed_in(request)
    try:
        with invitations.invitation(petition, organiser, data["email"]):
            signing.sign(
                petition,
                signing.SignRequest(
                    full_name=data["full_name"],
                    email=data["email"],
                    show_name=data["show_name"],
                    role=data["role"],
                    municipality=data["municipality"],
                    region=data["region"],
                    language=petition.current_version().language,
                ),
                added_by=organiser,
            )
    except (invitations.InvitationRefused, signing.SigningError) as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Founding signatory added; they confirm by the link we sent."))
    return redirect("manage", slug=slug)


@second_factor_required
@require_POST
def set_addressee_notice(request: HttpRequest, slug: str) -> HttpResponse:
    """Change where the site tells the addressee that a step is reached, after publishing too."""
    petition = organiser_petition_or_404(request.user, slug)
    form = AddresseeNoticeForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        return redirect("manage", slug=slug)
    with transaction.atomic():
        petition.addressee_email = form.cleaned_data["addressee_email"]
        petition.save(update_fields=["addressee_email"])
        # The trail says that it changed, not what it is.
        audit.record(
            "petition.addressee_notice_changed",
            actor=request.user,
            petition=petition,
            notice_address_set=bool(petition.addressee_email),
        )
    messages.success(request, _("The addressee's address for notices is saved."))
    return redirect("manage", slug=slug)
