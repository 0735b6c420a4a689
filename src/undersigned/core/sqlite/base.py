"""SQLite, with writers that queue instead of sleeping.

SQLite has a single write lock per database. With `transaction_mode =
IMMEDIATE` every transaction takes it at BEGIN, and a connection that finds
it taken waits in SQLite's busy handler, which sleeps in growing steps of up
to 100 ms between tries: under a surge the lock sits free while its waiters
sleep, and the unlucky ones wait seconds. Here instead

- the threads of one process take turns on a Python lock, so the next one
  begins the moment the last one ends, and
- the one thread per process whose turn it is asks SQLite for the lock every
  millisecond, so processes hand the lock over without long sleeps either,
  up to the configured `timeout` as before.

Nothing about durability or isolation changes: the same statements run in the
same transactions, one writer at a time as SQLite runs them anyway. Statements
outside transactions still wait in SQLite's own busy handler.
"""

import sqlite3
import threading
import time
from typing import Any

from django.db.backends.sqlite3 import base

# One per process: every thread's connection to the database shares it.
_writers = threading.Lock()
RETRY_SECONDS = 0.001


# The stubs leave out the private hooks overridden here ("type: ignore[misc]").
class DatabaseWrapper(base.DatabaseWrapper):
    holds_write_turn = False

    def _start_transaction_under_autocommit(self) -> None:
        if getattr(self, "transaction_mode", None) != "IMMEDIATE" or self.holds_write_turn:
            super()._start_transaction_under_autocommit()  # type: ignore[misc]
            return
        _writers.acquire()
        self.holds_write_turn = True
        try:
            with self.wrap_database_errors:
                self._begin_immediate()
        except BaseException:
            self._end_write_turn()
            raise

    def _begin_immediate(self) -> None:
        timeout = float(self.settings_dict["OPTIONS"].get("timeout", 5))
        deadline = time.monotonic() + timeout
        cursor = self.connection.cursor()
        cursor.execute("PRAGMA busy_timeout = 0")
        try:
            while True:
                try:
                    cursor.execute("BEGIN IMMEDIATE")
                    return
                except sqlite3.OperationalError as exc:
                    busy = getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_BUSY
                    if not busy or time.monotonic() >= deadline:
                        raise
                time.sleep(RETRY_SECONDS)
        finally:
            cursor.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
            cursor.close()

    def _commit(self) -> Any:
        try:
            return super()._commit()  # type: ignore[misc]
        finally:
            self._end_write_turn()

    def _rollback(self) -> Any:
        try:
            return super()._rollback()  # type: ignore[misc]
        finally:
            self._end_write_turn()

    def _close(self) -> Any:
        try:
            return super()._close()  # type: ignore[misc]
        finally:
            self._end_write_turn()

    def _end_write_turn(self) -> None:
        if self.holds_write_turn:
            self.holds_write_turn = False
            _writers.release()
