"""A second factor (TOTP) for everyone who moderates or administers."""

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponseBase
from django.shortcuts import redirect
from django_otp.plugins.otp_totp.models import TOTPDevice

from undersigned.abuse.sources import client_ip, daily_hash

# Any view, streaming ones too; the decorator keeps its signature.
View = TypeVar("View", bound=Callable[..., HttpResponseBase])


def has_device(user: Any) -> bool:
    return bool(TOTPDevice.objects.filter(user=user, confirmed=True).exists())


def needs_second_factor(user: Any) -> bool:
    """Whether this user's pages wait for a TOTP code after the password.

    Everyone, by default (REQUIRE_2FA). A site may let its ordinary organisers
    in on a password alone, but never staff, superusers or moderators of every
    petition: they can change the text people sign, close any petition, open
    the admin or read any review queue, so REQUIRE_2FA=0 does not reach them.
    """
    return bool(
        settings.REQUIRE_2FA
        or user.is_staff
        or user.is_superuser
        or user.has_perm("signing.moderate_any")
    )


def second_factor_required(view: View) -> View:
    """Like login_required, and then a verified TOTP code in this session."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        # OTPMiddleware gives the user is_verified(): a code was confirmed this session.
        if needs_second_factor(request.user) and not request.user.is_verified():  # type: ignore[attr-defined]
            target = "two-factor-verify" if has_device(request.user) else "two-factor-setup"
            response = redirect(target)
            response["Location"] += "?" + urlencode({"next": request.get_full_path()})
            return response
        return view(request, *args, **kwargs)

    return cast(View, wrapped)


def hashed_client(request: HttpRequest) -> str:
    """What django-axes records for a client: a daily keyed hash, never the address."""
    return daily_hash(client_ip(request))
