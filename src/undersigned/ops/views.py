"""/healthz (the process answers) and /readyz (it can serve, and background work keeps up)."""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache

from undersigned.ops.health import CHECKS, run_checks


@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness: answers without touching the database, so a database outage never
    makes a supervisor restart healthy processes."""
    return JsonResponse({"status": "ok"})


@never_cache
def readyz(request: HttpRequest) -> HttpResponse:
    """Readiness: 200 when every check passes, 503 otherwise.

    `?check=database` (repeatable) runs only the named checks. Point a load
    balancer at `/readyz?check=database`: a stalled worker or a mail outage
    is not a reason to take every app server out of rotation, while
    monitoring wants the full `/readyz`.
    """
    names = request.GET.getlist("check") or list(CHECKS)
    unknown = sorted(set(names) - set(CHECKS))
    if unknown:
        return JsonResponse(
            {"error": f"unknown check {unknown[0]!r}", "checks": sorted(CHECKS)}, status=400
        )
    ok, results = run_checks(names)
    response = JsonResponse({"status": "ok" if ok else "fail", "checks": results})
    if not ok:
        response.status_code = 503
        response["Retry-After"] = "10"
    return response
