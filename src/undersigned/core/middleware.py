"""Turn an outage of the database (or the shared cache) into a clear 503 page, not a 500."""

import logging
import sys
from collections.abc import Callable

from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.views import defaults
from redis import exceptions as redis_errors

log = logging.getLogger(__name__)


def is_database_outage(exc: BaseException | None) -> bool:
    """The database, or the shared cache (Redis) the site cannot work without, is unreachable."""
    return (
        isinstance(exc, OperationalError | InterfaceError)
        or (isinstance(exc, DatabaseError) and "connection" in str(exc).lower())
        or isinstance(exc, redis_errors.ConnectionError | redis_errors.TimeoutError)
    )


def outage_response(exc: BaseException) -> HttpResponse:
    # The class name and SQLite's "disk is full" are all the log says: the
    # message text of a driver error can quote the statement and its values.
    detail = " (disk full)" if "full" in str(exc).lower() else ""
    log.error("database unavailable: %s%s", type(exc).__name__, detail)
    body = render_to_string("core/503.html", request=None)
    response = HttpResponse(body, status=503)
    response["Retry-After"] = "30"
    return response


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        if is_database_outage(exc):
            return outage_response(exc)
        return None


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: also a 503 for database errors raised outside any view.

    process_exception only sees exceptions from views; the session and
    message middleware write to the database after the view has answered, and
    a database that dies at that moment must still give the outage page.
    Django calls this inside its `except` block, so the exception is at hand.
    """
    exc = sys.exc_info()[1]
    if is_database_outage(exc):
        assert exc is not None
        return outage_response(exc)
    return defaults.server_error(request)
