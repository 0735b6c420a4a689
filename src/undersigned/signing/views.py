import secrets
from collections.abc import Callable
from dataclasses import replace

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from undersigned.abuse import blocklist, formtime, limits
from undersigned.abuse.sources import Source, client_ip, is_disposable, source_of
from undersigned.petitions import submissions
from undersigned.petitions.models import Petition
from undersigned.petitions.pages import (
    cached_public_petition,
    petition_page,
    public_petition,
)
from undersigned.petitions.texts import register_name
from undersigned.signing import services, supporters
from undersigned.signing.forms import SignForm


# A refused form is shown again with the name and address typed into it.
@never_cache
@require_POST
def sign(request: HttpRequest, slug: str) -> HttpResponse:
    # The petition and its text as the page shows them (at most a second old):
    # two reads fewer per signature in a surge. A petition closed within that
    # second can still take a signature here, but confirm() reads the petition
    # afresh and refuses it, so it never counts.
    petition = cached_public_petition(slug)
    form = SignForm(request.POST, petition=petition)
    if not petition.is_open:
        messages.error(request, _("This petition is closed and no longer takes signatures."))
        return redirect(petition)
    if not form.is_valid():
        return petition_page(request, petition, form=form, status=400)
    checked = _checked_source(
        request, petition, form, lambda: petition_page(request, petition, form=form, status=400)
    )
    if isinstance(checked, HttpResponse):
        return checked
    try:
        services.sign(
            petition,
            _sign_request(form),
            source=checked,
            version=form.text_read,  # the text the page showed them (signing/texts.py)
        )
    except services.SigningError as exc:
        form.add_error(None, str(exc))
        return petition_page(request, petition, form=form, status=400)
    return redirect("signed", slug=petition.slug)


def _checked_source(
    request: HttpRequest, petition: Petition, form: SignForm, again: Callable[[], HttpResponse]
) -> Source | HttpResponse:
    """Where a valid sign (or support) form comes from, with its fill time; or the answer
    that refuses it: `again` (the form shown again with its error) or the rate limit's page.
    """
    source = source_of(request, form.cleaned_data["email"])
    if is_disposable(source.email_domain):
        form.add_error(
            "email",
            _(
                "Addresses from throwaway mail services are not accepted: "
                "use an address you will keep, so your signature can be "
                "confirmed and withdrawn later."
            ),
        )
        return again()
    if blocklist.refuses(petition.pk, client_ip(request), source):
        # Before the rate limits, so a refused attempt counts nowhere either.
        form.add_error(None, str(blocklist.REFUSAL))
        return again()
    try:
        limits.check(petition.pk, source)
    except limits.RateLimited as exc:
        response = render(
            request,
            "signing/rate_limited.html",
            {"petition": petition, "message": str(exc)},
            status=429,
        )
        response["Retry-After"] = str(exc.retry_after)
        return response
    # Only now, for an attempt that is recorded: the stamp is then marked as used.
    return replace(source, fill_time=formtime.fill_time(request.POST.get(formtime.FIELD)))


@never_cache
def signed(request: HttpRequest, slug: str) -> HttpResponse:
    petition = public_petition(slug)
    return render(request, "signing/check_mail.html", {"petition": petition})


# A link page names the petition someone signed (and the confirm page, what
# they typed): nothing a shared computer's browser or a proxy may keep.
@never_cache
@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    # GET only shows a button: mail scanners that open links must not sign for anyone.
    if request.method == "GET":
        try:
            signature = services.check_confirmable(services.find_by_confirm_token(token))
        except services.SigningError as exc:
            return render(request, "signing/link_problem.html", {"problem": str(exc)}, status=400)
        return render(
            request,
            "signing/confirm.html",
            {"signature": signature, "petition": signature.petition},
        )
    try:
        signature = services.confirm(token)
    except services.SigningError as exc:
        return render(request, "signing/link_problem.html", {"problem": str(exc)}, status=400)
    return render(
        request, "signing/confirmed.html", {"signature": signature, "petition": signature.petition}
    )


@never_cache
@require_http_methods(["GET", "POST"])
def withdraw(request: HttpRequest, token: str) -> HttpResponse:
    if request.method == "GET":
        signature = services.find_by_withdraw_token(token)
        if signature is None or signature.state not in services.LIVE_STATES:
            return render(
                request,
                "signing/link_problem.html",
                {"problem": _("This withdrawal link has already been used or is not valid.")},
                status=400,
            )
        return render(
            request,
            "signing/withdraw.html",
            {"signature": signature, "petition": signature.petition},
        )
    try:
        signature = services.withdraw(token)
    except services.SigningError as exc:
        return render(request, "signing/link_problem.html", {"problem": str(exc)}, status=400)
    return render(request, "signing/withdrawn.html", {"petition": signature.petition})


# ------------------------------------------------------------------ supporters


def _sign_request(form: SignForm) -> services.SignRequest:
    """What a valid sign form (or a supporter's, its fields) asks, in the page's language."""
    data = form.cleaned_data
    return services.SignRequest(
        full_name=data["full_name"],
        email=data["email"],
        show_name=data["visibility"] == "show",
        role=data.get("role", ""),
        municipality=data.get("municipality", ""),
        region=data.get("region", ""),
        evidence_url=data.get("evidence_url", ""),
        language=translation.get_language() or "en",
        wants_updates=bool(data.get("updates")),
    )


def _submission(slug: str, key: str) -> Petition:
    """The submission this shared link is of; 404 for a link that names none."""
    petition = Petition.objects.filter(slug=slug).exclude(support_key="").first()
    if petition is None or not secrets.compare_digest(petition.support_key, key):
        raise Http404("no such submission")
    return petition


def _support_page(
    request: HttpRequest, petition: Petition, form: SignForm, status: int = 200
) -> HttpResponse:
    return render(
        request,
        "signing/support.html",
        {
            "petition": petition,
            "version": petition.current_version(),
            "register_name": register_name(petition),
            "form": form,
            "supporters": submissions.supporters(petition),
            "needed": submissions.supporters_needed(),
            "form_stamp": formtime.stamp(),
        },
        status=status,
    )


# The link is shared by its creator before the petition is public: the page
# and what it says of the submission are for those who hold it, never kept.
@never_cache
@require_http_methods(["GET", "POST"])
def support(request: HttpRequest, slug: str, key: str) -> HttpResponse:
    """Back a submission: the shared link's page, and its form (a sign form's fields)."""
    petition = _submission(slug, key)
    if not petition.is_submission:
        if petition.status in Petition.PUBLISHED or petition.status == Petition.Status.REJECTED:
            return redirect("petition", slug=petition.slug)  # its public page says what came of it
        return render(request, "signing/support_closed.html", {"petition": petition}, status=410)
    form = SignForm(request.POST or None, petition=petition)
    if request.method == "GET":
        return _support_page(request, petition, form)
    if not form.is_valid():
        return _support_page(request, petition, form, status=400)
    checked = _checked_source(
        request, petition, form, lambda: _support_page(request, petition, form, status=400)
    )
    if isinstance(checked, HttpResponse):
        return checked
    try:
        supporters.support(
            petition,
            _sign_request(form),
            source=checked,
        )
    except services.SigningError as exc:
        form.add_error(None, str(exc))
        return _support_page(request, petition, form, status=400)
    return redirect("supported", slug=petition.slug, key=key)


@never_cache
def supported(request: HttpRequest, slug: str, key: str) -> HttpResponse:
    petition = _submission(slug, key)
    return render(request, "signing/check_mail.html", {"petition": petition, "supporter": True})
