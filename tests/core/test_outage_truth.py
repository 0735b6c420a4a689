"""The outage page says the database (or cache) is unreachable only when it is.

A database that is there but lacks a table the code needs (`migrate` did not
create it) is a fault of the installation: the visitor gets the ordinary
error page, and the log tells the operator what is missing and what to run.
"""

import logging
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import OperationalError, connection
from django.test import Client

from tests.conftest import free_port
from undersigned.core.middleware import is_database_outage, missing_in_schema
from undersigned.petitions.models import Petition


def django_error(run: Any) -> OperationalError:
    """What Django raises for a real sqlite3 failure: its own error, from the driver's."""
    try:
        run()
    except sqlite3.OperationalError as exc:
        try:
            raise OperationalError(*exc.args) from exc
        except OperationalError as wrapped:
            return wrapped
    raise AssertionError("sqlite3 did not fail")


def test_a_missing_table_is_not_an_outage() -> None:
    missing = django_error(lambda: sqlite3.connect(":memory:").execute("SELECT * FROM gone"))
    assert not is_database_outage(missing)
    assert missing_in_schema(missing) == "gone"


def test_a_locked_or_unopenable_database_is_an_outage(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN IMMEDIATE")
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    locked = django_error(lambda: other.execute("INSERT INTO t VALUES (1)"))
    assert "locked" in str(locked) and is_database_outage(locked)
    holder.execute("ROLLBACK")
    unopenable = django_error(lambda: sqlite3.connect(tmp_path / "no" / "such" / "dir.sqlite3"))
    assert is_database_outage(unopenable)
    # A refused connection to PostgreSQL carries no SQLite code, and stays an outage.
    assert is_database_outage(OperationalError("connection refused"))


@pytest.mark.django_db(transaction=True)
def test_a_login_without_the_cache_table_is_not_called_a_database_outage(
    settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """The fresh `make demo` of issue 12: `migrate` had not made the shared cache's table."""
    settings.DEBUG = False
    User.objects.create_user("mod", "mod@example.org", "a long pass phrase")
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE undersigned_shared_cache")
    try:
        with caplog.at_level(logging.ERROR):
            response = Client(raise_request_exception=False).post(
                "/accounts/login/", {"username": "mod", "password": "a long pass phrase"}
            )
    finally:
        call_command("createcachetable", verbosity=0)
    page = response.content.decode()
    assert response.status_code == 500
    assert "Something went wrong on our side" in page
    assert "Temporarily unavailable" not in page and "cannot reach" not in page
    assert not response.has_header("Retry-After")  # waiting will not fix it
    assert "database unavailable" not in caplog.text
    assert "has no undersigned_shared_cache" in caplog.text
    assert "run `undersigned migrate`" in caplog.text


@pytest.mark.django_db
def test_an_unreachable_cache_is_named_as_the_cache(petition: Petition, settings: Any) -> None:
    settings.DEBUG = False
    dead = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    settings.CACHES = {
        alias: {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": dead,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
        for alias in settings.CACHES
    }
    response = Client(raise_request_exception=False).post(
        f"/p/{petition.slug}/sign/",
        {"full_name": "Anna Belova", "email": "anna@example.org", "visibility": "show"},
    )
    assert response.status_code == 503
    page = response.content.decode()
    assert "The site cannot reach its cache server right now." in page
    assert "database" not in page
