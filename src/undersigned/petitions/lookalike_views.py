"""GET /petitions/lookalike.json?title=…: the published petitions a title looks like.

The new-petition form's script (petitions/static/petitions/lookalike.js)
asks it while the creator types; the form shows the same list without the
script once it is saved (petitions/organiser_views.py). The answer is public
data only: each lookalike's slug, title, URL, states and verified count.
Limited per client as the name search is, by RATE_LIMIT_SEARCH, but counted
apart from it (abuse/limits.py): typing a title never uses up anyone's name
searches. With the script asking half a second after the typing stops, the
default 30 a minute is more than a creator types. Past it, 429 with
Retry-After, and the form still shows the list when it is saved.
"""

import json

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from undersigned.abuse import limits
from undersigned.abuse.sources import source_of
from undersigned.petitions import lookalike

# At most this many, as the form shows.
SHOWN = 5


def _json(data: dict[str, object], status: int = 200) -> HttpResponse:
    response = HttpResponse(
        json.dumps(data, ensure_ascii=False), status=status, content_type="application/json"
    )
    # The creator's title is in the URL: keep the answer out of shared caches.
    response["Cache-Control"] = "private, no-store"
    return response


def lookalike_json(request: HttpRequest) -> HttpResponse:
    if request.method not in ("GET", "HEAD"):
        response = _json({"detail": _("Only GET is answered here.")}, status=405)
        response["Allow"] = "GET, HEAD"
        return response
    try:
        limits.check_lookalike(source_of(request, "").client_hash)
    except limits.RateLimited as refused:
        response = _json({"detail": str(refused)}, status=429)
        response["Retry-After"] = str(refused.retry_after)
        return response
    title = request.GET.get("title", "")
    problem = lookalike.bad_title(title)
    if problem:
        return _json({"detail": problem}, status=400)
    found = lookalike.described(lookalike.lookalikes(title, limit=SHOWN))
    return _json({"lookalikes": [item.as_json() for item in found]})
