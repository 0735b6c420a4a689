"""/healthz (the process answers) and /readyz (it can serve, and background work keeps up)."""

import hmac

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache

from undersigned.ops.health import CHECKS, run_checks


@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness: answers without touching the database, so a database outage never
    makes a supervisor restart healthy processes."""
    return JsonResponse({"status": "ok"})


def _detail_allowed(request: HttpRequest) -> bool | None:
    """True for monitoring with READYZ_TOKEN, None for anyone with no token, False for a wrong one.

    The header is preferred: a query string ends up in the logs of whatever
    proxy or monitoring tool sits in between.
    """
    given: str | None = None
    scheme, _, credentials = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() == "bearer":
        given = credentials.strip()
    elif "token" in request.GET:
        given = request.GET["token"]
    if given is None:
        return None
    expected = settings.READYZ_TOKEN
    # Compared in constant time; with no token configured no answer is right.
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


@never_cache
def readyz(request: HttpRequest) -> HttpResponse:
    """Readiness: 200 when every check passes, 503 otherwise.

    `?check=database` (repeatable) runs only the named checks. Point a load
    balancer at `/readyz?check=database`: a stalled worker or a mail outage
    is not a reason to take every app server out of rotation, while
    monitoring wants the full `/readyz`.

    Anyone gets the status code and one word. The checks' detail (queued
    mail, unsigned log events) moves as people sign and ask for their data,
    so it is for monitoring only, with READYZ_TOKEN.
    """
    detail = _detail_allowed(request)
    if detail is False:
        return HttpResponse("forbidden\n", status=403, content_type="text/plain; charset=utf-8")
    names = request.GET.getlist("check") or list(CHECKS)
    unknown = sorted(set(names) - set(CHECKS))
    if unknown:
        return JsonResponse(
            {"error": f"unknown check {unknown[0]!r}", "checks": sorted(CHECKS)}, status=400
        )
    ok, results = run_checks(names)
    response: HttpResponse
    if detail:
        response = JsonResponse({"status": "ok" if ok else "fail", "checks": results})
    else:
        response = HttpResponse(
            "ok\n" if ok else "fail\n", content_type="text/plain; charset=utf-8"
        )
    if not ok:
        response.status_code = 503
        response["Retry-After"] = "10"
    return response
