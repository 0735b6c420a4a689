"""Caching and CORS for the read-only public data, so a CDN can absorb a surge."""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import get_conditional_response, patch_vary_headers, set_response_etag

# The open data's files (api/open_data.py), not its page.
PUBLIC_PREFIXES = ("/api/petitions", "/data/p/", "/data/petitions-")


class PublicDataMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.method not in ("GET", "HEAD") or not request.path.startswith(PUBLIC_PREFIXES):
            return response
        response["Access-Control-Allow-Origin"] = "*"
        if response.status_code != 200 or response.streaming:
            return response
        # Counts are at most a second stale already; a CDN may add as much again.
        response.setdefault("Cache-Control", f"public, max-age={settings.API_CACHE_SECONDS}")
        patch_vary_headers(response, ["Accept-Language"])
        set_response_etag(response)
        conditional = get_conditional_response(request, etag=response["ETag"], response=response)
        return conditional or response
