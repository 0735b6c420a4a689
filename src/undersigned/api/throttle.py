"""The open data's rate limit: per client address, documented, answered with 429 and Retry-After.

Journalists and researchers poll the listing, the journals and the dumps; the
limit (RATE_LIMIT_API, "count/seconds") keeps one client from taking the
site's capacity while leaving room to poll every petition's files once a
minute. One petition's count (GET /api/petitions/<slug>) is not limited: it
is served from a copy (docs/performance.md) and every visitor's live count
polls it. Counted in the default cache like the other limits (abuse/limits.py):
shared by every process with Redis, per process without.
"""

import json

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext, ngettext

from undersigned.abuse import limits
from undersigned.abuse.sources import source_of


def too_many(request: HttpRequest) -> HttpResponse | None:
    """Count one request of this client; the 429 to answer if it is over RATE_LIMIT_API."""
    wait = limits.exceeded("api", source_of(request, "").client_hash, settings.RATE_LIMIT_API)
    if wait is None:
        return None
    count, _, seconds = settings.RATE_LIMIT_API.partition("/")
    detail = ngettext(
        "Too many requests from your address: the limit is %(count)s per %(seconds)s second.",
        "Too many requests from your address: the limit is %(count)s per %(seconds)s seconds.",
        int(seconds),
    ) % {"count": count, "seconds": seconds}
    again = gettext("Try again in %(wait)d s.") % {"wait": wait}
    response = HttpResponse(
        json.dumps({"detail": f"{detail} {again}"}, ensure_ascii=False),
        status=429,
        content_type="application/json",
    )
    response["Retry-After"] = str(wait)
    response["Access-Control-Allow-Origin"] = "*"
    response["Access-Control-Expose-Headers"] = "Retry-After"
    return response
