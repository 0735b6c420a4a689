"""Rate limits in fixed windows, counted in the cache."""

from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from undersigned.abuse.sources import Source


class RateLimited(Exception):
    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Limit:
    count: int
    seconds: int

    @classmethod
    def parse(cls, text: str) -> "Limit":
        count, _, seconds = text.partition("/")
        return cls(int(count), int(seconds))


def _hit(scope: str, ident: str, limit: Limit) -> int | None:
    """Count one attempt; returns seconds to wait if the window is already full."""
    if limit.count <= 0:
        return None
    # The default cache: Redis shares it across processes; without Redis each
    # process counts alone (docs/security.md), which keeps signing free of writes.
    cache = caches["default"]
    now = int(timezone.now().timestamp())
    window = now // limit.seconds
    key = f"rl:{scope}:{ident}:{window}"
    cache.add(key, 0, timeout=limit.seconds + 5)
    try:
        used = cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, timeout=limit.seconds + 5)
        used = 1
    if used > limit.count:
        return (window + 1) * limit.seconds - now
    return None


def exceeded(scope: str, ident: str, text: str) -> int | None:
    """Count one use by `ident` under a "count/seconds" limit; seconds to wait if it is over."""
    return _hit(scope, ident, Limit.parse(text))


def _try_again(wait: int) -> str:
    minutes = max(1, round(wait / 60))
    return ngettext(
        "Please try again in about %(minutes)d minute.",
        "Please try again in about %(minutes)d minutes.",
        minutes,
    ) % {"minutes": minutes}


def check_search(client_hash: str) -> None:
    """Refuse a name search over the client's budget: each one opens thousands of sealed names."""
    wait = exceeded("search", client_hash, settings.RATE_LIMIT_SEARCH)
    if wait is not None:
        message = gettext("Too many searches from your connection.")
        raise RateLimited(f"{message} {_try_again(wait)}", wait)


def check_lookalike(client_hash: str) -> None:
    """Refuse a title look-up over RATE_LIMIT_SEARCH, counted apart from the name searches:
    typing a title never uses up anyone's searches."""
    wait = exceeded("lookalike", client_hash, settings.RATE_LIMIT_SEARCH)
    if wait is not None:
        message = gettext("Too many look-ups from your connection.")
        raise RateLimited(f"{message} {_try_again(wait)}", wait)


def check(petition_id: int, source: Source) -> None:
    """Refuse a signing attempt over any limit, before anything is written."""
    checks = [
        (
            "client",
            f"{petition_id}:{source.client_hash}",
            settings.RATE_LIMIT_CLIENT,
            gettext("Too many signing attempts from your connection."),
        ),
        (
            "domain",
            f"{petition_id}:{source.email_domain}",
            settings.RATE_LIMIT_DOMAIN,
            gettext("Too many signatures from your mail provider right now."),
        ),
        (
            "petition",
            str(petition_id),
            settings.RATE_LIMIT_PETITION,
            gettext("This petition is receiving very many signatures right now."),
        ),
    ]
    for scope, ident, text, message in checks:
        wait = _hit(scope, ident, Limit.parse(text))
        if wait is not None:
            minutes = max(1, round(wait / 60))
            advice = ngettext(
                "Please try again in about %(minutes)d minute. Nothing was recorded.",
                "Please try again in about %(minutes)d minutes. Nothing was recorded.",
                minutes,
            ) % {"minutes": minutes}
            raise RateLimited(f"{message} {advice}", wait)


def resend_allowed(email_hash: str) -> bool:
    """Count a mail that signing again sends an address; False once over RATE_LIMIT_RESEND.

    Per address (its keyed hash) across petitions: signing with someone's
    address over and over must not fill their inbox. Past the limit nothing
    is sent, and the visitor sees the same answer as always.
    """
    return _hit("resend", email_hash, Limit.parse(settings.RATE_LIMIT_RESEND)) is None
