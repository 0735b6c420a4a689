"""The moderators' page for a petition's answer, and the signers' unsubscribe link.

The answer pages are for the petition's moderators (updates/services.py
says why not its organiser) and wait for the second factor, as every
privileged page does. The unsubscribe link works without a session or a
CSRF token: a mail program's one-click POST (RFC 8058) carries neither, and
the token in the link is the secret.
"""

from collections.abc import Callable
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from undersigned.accounts.twofactor import second_factor_required
from undersigned.petitions.access import moderated_by
from undersigned.petitions.models import Outcome, Petition
from undersigned.petitions.services import counts
from undersigned.petitions.steps import logged, read_answers, where
from undersigned.signing.models import Subscription
from undersigned.updates import services
from undersigned.updates.forms import OutcomeForm, ResponseForm
from undersigned.updates.models import UpdateRun


def _answerable(request: HttpRequest, slug: str) -> Petition:
    # 404 rather than 403: nobody learns which petitions others moderate.
    petition = (
        moderated_by(request.user).filter(status__in=Petition.PUBLISHED, slug=slug).first()
    )
    if petition is None:
        raise Http404("no such petition among those you moderate")
    return petition


@second_factor_required
@require_GET
def answers(request: HttpRequest) -> HttpResponse:
    """The petitions whose responses and outcomes this moderator may publish."""
    rows = []
    for petition in moderated_by(request.user).filter(status__in=Petition.PUBLISHED).order_by(
        "-opened_at"
    )[:200]:
        verified = counts(petition)[0]
        rows.append((petition, verified, where(petition, verified, read_answers(petition))))
    return render(request, "updates/answers.html", {"rows": rows})


def _page(
    request: HttpRequest,
    petition: Petition,
    *,
    response_form: ResponseForm | None = None,
    outcome_form: OutcomeForm | None = None,
    status: int = 200,
) -> HttpResponse:
    found = read_answers(petition)
    verified = counts(petition)[0]
    runs = list(UpdateRun.objects.filter(petition=petition))
    published = {o.kind for o in found.outcomes}
    open_kinds = [(k, label) for k, label in Outcome.Kind.choices if k not in published]
    if outcome_form is None and open_kinds:
        outcome_form = OutcomeForm(initial={"kind": open_kinds[0][0]})
    if outcome_form is not None:
        kind = outcome_form.fields["kind"]
        assert isinstance(kind, forms.ChoiceField)
        kind.choices = open_kinds or Outcome.Kind.choices
    context: dict[str, Any] = {
        "petition": petition,
        "version": petition.shown_version(),
        "verified": verified,
        "progress": where(petition, verified, found),
        "response": found.response,
        "response_logged": logged(found.response) if found.response else None,
        "outcomes": [(o, logged(o)) for o in found.outcomes],
        "response_form": response_form or (ResponseForm() if found.response is None else None),
        "outcome_form": outcome_form if open_kinds else None,
        "runs": [services.progress(run) for run in runs],
        "subscribers": Subscription.objects.filter(petition=petition).count(),
        "cap": settings.UPDATES_PER_PETITION,
        "cap_left": max(0, settings.UPDATES_PER_PETITION - len(runs)),
        "per_minute": settings.UPDATE_MAILS_PER_MINUTE,
    }
    return render(request, "updates/answer.html", context, status=status)


@second_factor_required
@require_GET
def answer(request: HttpRequest, slug: str) -> HttpResponse:
    return _page(request, _answerable(request, slug))


def _published(request: HttpRequest, result: services.Published) -> None:
    if result.capped:
        messages.warning(
            request,
            _(
                "Published. No mail goes to the signers: this petition has sent the "
                "%(cap)s updates it may send."
            )
            % {"cap": settings.UPDATES_PER_PETITION},
        )
    elif result.run is not None and result.run.total:
        messages.success(
            request,
            _("Published. The signers who asked are being told: %(n)s mails.")
            % {"n": result.run.total},
        )
    else:
        messages.success(request, _("Published. No signer asked to be told."))


def _publish(
    request: HttpRequest,
    slug: str,
    form: ResponseForm | OutcomeForm,
    publish: Callable[..., services.Published],
) -> HttpResponse:
    """Publish a response or an outcome from its form; a refusal shows the page again."""
    petition = _answerable(request, slug)
    if form.is_valid():
        try:
            result = publish(petition, request.user, **form.cleaned_data)
        except services.AnswerError as exc:
            form.add_error(None, str(exc))
        else:
            _published(request, result)
            return redirect("updates-answer", slug=petition.slug)
    if isinstance(form, ResponseForm):
        return _page(request, petition, response_form=form, status=400)
    return _page(request, petition, outcome_form=form, status=400)


@second_factor_required
@require_POST
def publish_response(request: HttpRequest, slug: str) -> HttpResponse:
    return _publish(request, slug, ResponseForm(request.POST), services.publish_response)


@second_factor_required
@require_POST
def publish_outcome(request: HttpRequest, slug: str) -> HttpResponse:
    return _publish(request, slug, OutcomeForm(request.POST), services.publish_outcome)


# No CSRF token: a mail program's one-click unsubscribe is a POST from outside
# any session (RFC 8058). The token in the address is the secret; knowing it
# lets someone do nothing but stop that one person's updates.
@csrf_exempt
@never_cache
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    if request.method == "GET":
        # A link scanner may open it: only the button below unsubscribes.
        found = services.find_mail(token)
        if found is None:
            return _unknown(request)
        return render(
            request,
            "updates/unsubscribe.html",
            {
                "petition": found.run.petition,
                "title": found.run.petition.shown_version().title,
                "subscribed": found.subscription_id is not None,
            },
        )
    found = services.unsubscribe(token)
    if found is None:
        return _unknown(request)
    return render(
        request,
        "updates/unsubscribed.html",
        {"petition": found.run.petition, "title": found.run.petition.shown_version().title},
    )


def _unknown(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "signing/link_problem.html",
        {
            "problem": _(
                "This unsubscribe link is not valid. If you copied it from a mail, "
                "check that it is complete."
            )
        },
        status=400,
    )
