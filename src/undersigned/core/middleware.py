"""Turn an outage of the database (or the shared cache) into a clear 503 page, not a 500."""

import logging
import re
import sqlite3
import sys
from collections.abc import Callable

from django.db import DatabaseError, InterfaceError, OperationalError, ProgrammingError
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.views import defaults
from redis import exceptions as redis_errors

log = logging.getLogger(__name__)

# SQLite reports everything from "database is locked" to "no such table" as
# OperationalError; only these primary result codes mean the database cannot
# be used right now. The rest (SQLITE_ERROR: a missing table, a bad
# statement) are faults of this installation, and saying "cannot reach the
# database" about them sends an operator looking in the wrong place.
SQLITE_UNAVAILABLE = {
    sqlite3.SQLITE_BUSY,
    sqlite3.SQLITE_LOCKED,
    sqlite3.SQLITE_IOERR,
    sqlite3.SQLITE_CANTOPEN,
    sqlite3.SQLITE_FULL,
    sqlite3.SQLITE_READONLY,
    sqlite3.SQLITE_NOMEM,
    sqlite3.SQLITE_PROTOCOL,
    sqlite3.SQLITE_INTERRUPT,
}
# A table or column the code expects is not there: `migrate` has not run.
# Only the name is taken from the message, which can go on to quote the statement.
MISSING_IN_SCHEMA = re.compile(
    r"no such (?:table|column): ([\w.]+)|has no column named (\w+)|"
    r"(?:relation|column) \"([\w.]+)\" does not exist"
)


def _sqlite_error(exc: BaseException) -> sqlite3.Error | None:
    # Django re-raises the driver's error as its own, from the original.
    cause = exc.__cause__
    return cause if isinstance(cause, sqlite3.Error) else None


def is_database_outage(exc: BaseException | None) -> bool:
    """The database, or the shared cache (Redis) the site cannot work without, is unreachable."""
    if exc is None or missing_in_schema(exc) is not None:
        return False
    if isinstance(exc, DatabaseError) and (cause := _sqlite_error(exc)) is not None:
        code = getattr(cause, "sqlite_errorcode", None)
        if code is not None:
            return code & 0xFF in SQLITE_UNAVAILABLE
    return (
        isinstance(exc, OperationalError | InterfaceError)
        or (isinstance(exc, DatabaseError) and "connection" in str(exc).lower())
        or is_cache_outage(exc)
    )


def is_cache_outage(exc: BaseException) -> bool:
    return isinstance(exc, redis_errors.ConnectionError | redis_errors.TimeoutError)


def missing_in_schema(exc: BaseException) -> str | None:
    """The table or column a database error says is missing, if that is what it says."""
    if not isinstance(exc, OperationalError | ProgrammingError):
        return None
    match = MISSING_IN_SCHEMA.search(str(exc))
    if match is None:
        return None
    return next(name for name in match.groups() if name)


def outage_response(exc: BaseException) -> HttpResponse:
    # The class name and SQLite's "disk is full" are all the log says: the
    # message text of a driver error can quote the statement and its values.
    detail = " (disk full)" if "full" in str(exc).lower() else ""
    cache = is_cache_outage(exc)
    log.error("%s unavailable: %s%s", "cache" if cache else "database", type(exc).__name__, detail)
    body = render_to_string("core/503.html", {"cache": cache}, request=None)
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
    missing = missing_in_schema(exc) if exc is not None else None
    if missing is not None:
        # Not an outage, and no retry will help: the operator's fix is one command.
        log.error(
            "the database has no %s: its schema is behind the code; run `undersigned migrate`",
            missing,
        )
    return defaults.server_error(request)
