from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import UserCreationForm, UsernameField
from django.contrib.auth.models import User
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from undersigned.accounts import services
from undersigned.accounts.sessions import LOGGED_IN_AT, signed_in
from undersigned.accounts.twofactor import has_device, hashed_client
from undersigned.core.quotas import Quota

# Each sign-up mails the address it names; a client may make a few an hour.
SIGNUPS = Quota("signups-client", 5, seconds=3600)


class LoginView(auth_views.LoginView):
    """Django's log-in page, named after this site.

    Without the sites framework Django's view puts the request's host into
    `site_name`, and a view's context outranks the context processor's, so the
    page would be titled "127.0.0.1" or whatever host the visitor typed.
    """

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["site_name"] = settings.SITE_NAME
        return context


class SignupForm(UserCreationForm[User]):
    class Meta:
        model = User
        fields = ("username", "email")
        field_classes = {"username": UsernameField}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The address is confirmed before the account publishes or mails anyone.
        self.fields["email"].required = True


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if not settings.ALLOW_SIGNUP:
        raise Http404("sign-up is closed on this site")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if not SIGNUPS.take(hashed_client(request)):
            form.add_error(None, _("Too many new accounts from your connection. Try again later."))
        else:
            with transaction.atomic():
                user = form.save()
                sent = services.send_confirmation(user)
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            _say_whether_sent(request, user, sent)
            return redirect("dashboard")
    return render(
        request, "accounts/signup.html", {"form": form}, status=400 if form.errors else 200
    )


def _say_whether_sent(request: HttpRequest, user: User, sent: bool) -> None:
    if sent:
        messages.info(
            request,
            _(
                "We sent a link to %(email)s. Follow it to confirm your address: "
                "until then you can write drafts but not publish or invite anyone."
            )
            % {"email": user.email},
        )
    else:
        messages.error(
            request,
            _("%(email)s has been sent as many links as it may get today. Try again tomorrow.")
            % {"email": user.email},
        )


@login_required
def account(request: HttpRequest) -> HttpResponse:
    user = signed_in(request)
    logged_in_at = request.session.get(LOGGED_IN_AT)
    ends = (
        datetime.fromtimestamp(logged_in_at + settings.PRIVILEGED_SESSION_HOURS * 3600, tz=UTC)
        if isinstance(logged_in_at, int)
        else None
    )
    return render(
        request,
        "accounts/account.html",
        {
            "account_user": user,
            "address_confirmed": services.address_confirmed(user),
            "has_device": has_device(user),
            "session_ends": ends,
            "session_hours": settings.PRIVILEGED_SESSION_HOURS,
        },
    )


@login_required
@require_POST
def send_confirmation(request: HttpRequest) -> HttpResponse:
    user = signed_in(request)
    if services.address_confirmed(user):
        messages.info(request, _("Your address is already confirmed."))
    elif not user.email:
        messages.error(
            request, _("Your account has no address: ask the site's operator to add one.")
        )
    else:
        _say_whether_sent(request, user, services.send_confirmation(user))
    return redirect("account")


@require_http_methods(["GET", "POST"])
def confirm_address(request: HttpRequest, token: str) -> HttpResponse:
    """The mailed link: a page with a button, so a mail scanner opening links confirms nothing."""
    user = services.user_for_token(token)
    if user is None:
        return render(request, "accounts/confirm_address.html", {"invalid": True}, status=400)
    if request.method == "POST":
        services.mark_confirmed(user)
        messages.success(
            request,
            _("Your address is confirmed: you can publish petitions and invite founders."),
        )
        return redirect("dashboard" if request.user.is_authenticated else "login")
    return render(request, "accounts/confirm_address.html", {"invalid": False})


@login_required
@require_POST
def sign_out_everywhere(request: HttpRequest) -> HttpResponse:
    services.end_all_sessions(signed_in(request))
    logout(request)
    messages.success(request, _("You are signed out on every device, this one included."))
    return redirect("login")
