"""A second factor (TOTP) for everyone who moderates or administers."""

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django_otp.plugins.otp_totp.models import TOTPDevice

from undersigned.abuse.sources import client_ip, daily_hash

View = Callable[..., HttpResponse]


def has_device(user: Any) -> bool:
    return bool(TOTPDevice.objects.filter(user=user, confirmed=True).exists())


def second_factor_required(view: View) -> View:
    """Like login_required, and then a verified TOTP code in this session."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        # OTPMiddleware gives the user is_verified(): a code was confirmed this session.
        if settings.REQUIRE_2FA and not request.user.is_verified():  # type: ignore[attr-defined]
            target = "two-factor-verify" if has_device(request.user) else "two-factor-setup"
            response = redirect(target)
            response["Location"] += "?" + urlencode({"next": request.get_full_path()})
            return response
        return view(request, *args, **kwargs)

    return wrapped


def hashed_client(request: HttpRequest) -> str:
    """What django-axes records for a client: a daily keyed hash, never the address."""
    return daily_hash(client_ip(request))
