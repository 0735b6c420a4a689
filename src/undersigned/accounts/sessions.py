"""Signed-in sessions last hours, not Django's two weeks, and can all be ended at once.

Signers never log in, so every account here runs petitions, reviews them or
administers the site: every signed-in session is a privileged one. A
session ends PRIVILEGED_SESSION_HOURS after its log-in however busy it
has been (Django's own expiry, SESSION_COOKIE_AGE, only counts from the
last change), and at its next request once its user has signed out
everywhere. A session from before this rule, without a log-in time, ends too.
"""

import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from undersigned.accounts.services import session_generation

LOGGED_IN_AT = "undersigned_logged_in_at"
GENERATION = "undersigned_session_generation"


def stamp(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """At log-in: when it happened, and which generation of this user's sessions it is.

    Connected in AccountsConfig.ready, before any log-in can happen.
    """
    if request is None or not hasattr(request, "session"):
        return
    request.session[LOGGED_IN_AT] = int(time.time())
    request.session[GENERATION] = session_generation(user.pk)


def signed_in(request: HttpRequest) -> User:
    """The logged-in user of a view behind login_required."""
    if not isinstance(request.user, User):
        raise PermissionDenied("log in first")
    return request.user


def why_ended(request: HttpRequest) -> str | None:
    """Why this signed-in session may not go on, or None while it may."""
    logged_in_at = request.session.get(LOGGED_IN_AT)
    if not isinstance(logged_in_at, int):
        return "expired"
    if time.time() - logged_in_at >= settings.PRIVILEGED_SESSION_HOURS * 3600:
        return "expired"
    assert request.user.pk is not None  # only asked about signed-in sessions
    if request.session.get(GENERATION) != session_generation(request.user.pk):
        return "signed out"
    return None


class PrivilegedSessionMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # Only requests that carry a session cookie are looked at: reading the
        # session marks a response "Vary: Cookie", which the public pages and
        # API must not get for visitors who have none.
        if settings.SESSION_COOKIE_NAME in request.COOKIES and request.user.is_authenticated:
            reason = why_ended(request)
            if reason is not None:
                logout(request)
                if reason == "expired":
                    hours = settings.PRIVILEGED_SESSION_HOURS
                    messages.info(
                        request,
                        ngettext(
                            "Your session ended after %(hours)d hour. Log in again.",
                            "Your session ended after %(hours)d hours. Log in again.",
                            hours,
                        )
                        % {"hours": hours},
                    )
                else:
                    messages.info(request, _("You were signed out everywhere. Log in again."))
        return self.get_response(request)
