"""How long the sign form took to fill: a bot signal, kept as a coarse bucket and nothing finer.

The petition page carries a stamp in a hidden field: the time it was rendered
for this visitor, signed with the site's key (django.core.signing), so a
client can neither forge an older one nor edit it. The page itself is
rendered once for every anonymous visitor (petitions.pages); the stamp, like
the CSRF token, is put in per request. When the form comes back, the time
since the stamp goes into one of a few buckets on the signature's source row
(abuse.models.SigningSource), which lives as long as that row: no
timestamp, no address, nothing about the visitor.

A form posted without the page (a script) has no valid stamp; a stamp posted
a second time (a script that fetched the page once) is marked as replayed.
Neither is refused: a signal is for moderators to weigh, next to the
trending sources it is shown with.
"""

import hashlib
import secrets
import time

from django.core import signing
from django.core.cache import caches
from django.db import models
from django.utils.translation import gettext_lazy as _

FIELD = "form_started"
_SALT = "undersigned.abuse.form-started"
# A stamp older than this is not believed: it is as good as none. It is also how
# long a used stamp is remembered, so that no replay within its life goes unseen.
MAX_AGE_SECONDS = 24 * 3600


class FillTime(models.TextChoices):
    UNDER_2 = "lt2", _("under 2 s")
    UNDER_5 = "2-5", _("2–5 s")
    UNDER_15 = "5-15", _("5–15 s")
    UNDER_60 = "15-60", _("15–60 s")
    LONGER = "gt60", _("over 60 s")
    NO_STAMP = "none", _("without the page's stamp")
    REPLAYED = "replay", _("with a stamp used before")


# Upper bounds in seconds, in order.
_BUCKETS = (
    (2.0, FillTime.UNDER_2),
    (5.0, FillTime.UNDER_5),
    (15.0, FillTime.UNDER_15),
    (60.0, FillTime.UNDER_60),
)


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def stamp(now_ms: int | None = None) -> str:
    """A new stamp for one rendering of the form. The nonce keeps two visitors'
    stamps of the same millisecond apart, so that one is not taken for the other's replay."""
    at = _now_ms() if now_ms is None else now_ms
    return signing.Signer(salt=_SALT).sign(f"{at}.{secrets.token_hex(6)}")


def seconds_taken(value: str | None, now_ms: int | None = None) -> float | None:
    """Seconds since a stamp was made, or None for no stamp, a forged or an expired one."""
    if not value or len(value) > 200:
        return None
    try:
        raw = signing.Signer(salt=_SALT).unsign(value)
    except signing.BadSignature:
        return None
    at, _, _nonce = raw.partition(".")
    if not at.isdigit():
        return None
    now = _now_ms() if now_ms is None else now_ms
    # Another process's clock a little ahead makes a small negative: no time at all.
    seconds = max(0.0, (now - int(at)) / 1000)
    return None if seconds > MAX_AGE_SECONDS else seconds


def bucket_of(seconds: float | None) -> FillTime:
    if seconds is None:
        return FillTime.NO_STAMP
    for bound, bucket in _BUCKETS:
        if seconds < bound:
            return bucket
    return FillTime.LONGER


def fill_time(value: str | None, now_ms: int | None = None) -> FillTime:
    """The bucket of a posted stamp, remembering the stamp as used.

    Call it once per signing attempt that goes on to be recorded. Used stamps
    are remembered in the default cache (shared through Redis; without it, each
    process remembers its own, and a replay to another process goes unseen).
    """
    seconds = seconds_taken(value, now_ms)
    if seconds is None or value is None:
        return FillTime.NO_STAMP
    key = "form-stamp:" + hashlib.sha256(value.encode()).hexdigest()[:32]
    if not caches["default"].add(key, 1, timeout=MAX_AGE_SECONDS):
        return FillTime.REPLAYED
    return bucket_of(seconds)
