"""The SQLite backend lets one writing transaction per process run at a time.

Each test makes its own database file and connections with the backend
directly (whatever database the suite itself runs on), one connection per
thread, as Django gives every request thread its own.
"""

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import OperationalError

from undersigned.core.sqlite import base


def connect(path: Path, busy_timeout: float = 20) -> base.DatabaseWrapper:
    wrapper = base.DatabaseWrapper(
        {
            "ENGINE": "undersigned.core.sqlite",
            "NAME": str(path),
            "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": busy_timeout},
            "ATOMIC_REQUESTS": False,
            "AUTOCOMMIT": True,
            "CONN_MAX_AGE": 0,
            "CONN_HEALTH_CHECKS": False,
            "TIME_ZONE": None,
            "USER": "",
            "PASSWORD": "",
            "HOST": "",
            "PORT": "",
            "TEST": {},
        }
    )
    wrapper.ensure_connection()
    return wrapper


@pytest.fixture(autouse=True)
def own_connections(django_db_blocker: Any) -> Iterator[None]:
    # These are this module's own databases, not the suite's test database.
    with django_db_blocker.unblock():
        yield


@pytest.fixture
def database(tmp_path: Path) -> Path:
    path = tmp_path / "writers.sqlite3"
    setup = connect(path)
    with setup.cursor() as cursor:
        cursor.execute("CREATE TABLE t (who TEXT)")
    setup.close()
    return path


def begin(wrapper: base.DatabaseWrapper) -> None:
    # What transaction.atomic() does first on SQLite.
    wrapper._start_transaction_under_autocommit()


def insert(wrapper: base.DatabaseWrapper, who: str) -> None:
    with wrapper.cursor() as cursor:
        cursor.execute("INSERT INTO t VALUES (%s)", [who])


def rows(path: Path) -> list[str]:
    reader = connect(path)
    with reader.cursor() as cursor:
        cursor.execute("SELECT who FROM t ORDER BY rowid")
        found = [row[0] for row in cursor.fetchall()]
    reader.close()
    return found


class Second(threading.Thread):
    """A second request thread that wants to write while the first one does."""

    def __init__(self, path: Path, busy_timeout: float = 0.05) -> None:
        super().__init__(daemon=True)
        self.path = path
        self.busy_timeout = busy_timeout
        self.began = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        # By default a timeout far shorter than the first writer's transaction:
        # were it waiting for SQLite's lock, its BEGIN would fail with "database
        # is locked"; queued on the turn, it never meets the lock.
        wrapper = connect(self.path, busy_timeout=self.busy_timeout)
        try:
            begin(wrapper)
            self.began.set()
            insert(wrapper, "second")
            wrapper.commit()
        except BaseException as exc:  # reported to the test thread
            self.error = exc
        finally:
            wrapper.close()


@pytest.mark.parametrize("end", ["commit", "rollback", "close"])
def test_a_second_writer_begins_when_the_first_ends(database: Path, end: str) -> None:
    first = connect(database)
    begin(first)
    insert(first, "first")
    second = Second(database)
    second.start()
    assert not second.began.wait(0.3)  # waiting for its turn
    ending: dict[str, Any] = {
        "commit": first.commit,
        "rollback": first.rollback,
        "close": first.close,
    }
    ending[end]()
    assert second.began.wait(10), "the second writer never got its turn"
    second.join(10)
    assert second.error is None
    expected = {"commit": ["first", "second"], "rollback": ["second"], "close": ["second"]}
    assert rows(database) == expected[end]
    first.close()


def other_process_writing(path: Path) -> sqlite3.Connection:
    """Another process's transaction holding SQLite's write lock (a plain connection)."""
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO t VALUES ('other')")
    return other


def test_a_writer_waits_for_another_processs_transaction(database: Path) -> None:
    other = other_process_writing(database)
    second = Second(database, busy_timeout=20)
    second.start()
    assert not second.began.wait(0.3)
    other.execute("COMMIT")
    assert second.began.wait(10)
    second.join(10)
    assert second.error is None
    assert rows(database) == ["other", "second"]
    other.close()


def test_giving_up_after_the_timeout_gives_the_turn_back(database: Path) -> None:
    other = other_process_writing(database)
    impatient = connect(database, busy_timeout=0.1)
    with pytest.raises(OperationalError, match="locked"):
        begin(impatient)
    assert not impatient.holds_write_turn
    other.execute("COMMIT")
    writer = connect(database)
    begin(writer)  # would wait for ever had the turn been kept
    insert(writer, "after")
    writer.commit()
    assert rows(database) == ["other", "after"]
    for connection in (impatient, writer):
        connection.close()
    other.close()
