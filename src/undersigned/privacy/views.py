from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from undersigned.abuse import limits
from undersigned.abuse.sources import source_of
from undersigned.privacy import services


class EmailForm(forms.Form):
    email = forms.EmailField(label=gettext_lazy("Your email address"), max_length=254)


# What a shared computer's browser keeps must not show who asked about an address.
@never_cache
@require_http_methods(["GET", "POST"])
def ask(request: HttpRequest) -> HttpResponse:
    form = EmailForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            # Shares the signing limits' per-client budget: no one can mail-bomb with it.
            limits.check(0, source_of(request, form.cleaned_data["email"]))
        except limits.RateLimited as exc:
            return render(
                request, "privacy/ask.html", {"form": form, "limited": str(exc)}, status=429
            )
        # Mailed whether or not the address signed: the answer is the same page either way.
        services.request_link(form.cleaned_data["email"], language=translation.get_language())
        return render(request, "privacy/sent.html")
    return render(request, "privacy/ask.html", {"form": form}, status=400 if form.errors else 200)


@never_cache
@require_http_methods(["GET", "POST"])
def held(request: HttpRequest, token: str) -> HttpResponse:
    data_request = services.find_request(token)
    if data_request is None:
        return render(
            request,
            "signing/link_problem.html",
            {"problem": _("This link has expired or was already used. Ask for a new one.")},
            status=400,
        )
    if request.method == "POST":
        count = services.delete_everything(data_request)
        return render(request, "privacy/deleted.html", {"count": count})
    return render(
        request,
        "privacy/held.html",
        {
            "signatures": services.held_for(data_request),
            "subscribed": {s.petition_id for s in services.subscriptions_of(data_request)},
        },
    )
