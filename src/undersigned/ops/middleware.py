"""Answer health probes before host validation and the HTTPS redirect.

A load balancer probes each app server by its own address over plain HTTP:
with ALLOWED_HOSTS naming only the public host and SECURE_SSL_REDIRECT on,
the probe would get a 400 or a 301 instead of the truth. This middleware
comes first and serves /healthz and /readyz itself; nothing else is touched.
"""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from undersigned.ops import views

PROBES: dict[str, Callable[[HttpRequest], HttpResponse]] = {
    "/healthz": views.healthz,
    "/readyz": views.readyz,
}


class HealthCheckMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        probe = PROBES.get(request.path_info)
        if probe is not None and request.method in ("GET", "HEAD"):
            return probe(request)
        return self.get_response(request)
