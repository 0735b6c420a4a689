"""SQLite, with the writing transactions of one process taken one at a time.

SQLite has a single write lock per database. With `transaction_mode =
IMMEDIATE` every transaction takes it at BEGIN, and a thread that finds it
taken waits in SQLite's busy handler, which sleeps in steps of up to 100 ms
and polls: under a surge the lock sits idle while the waiters sleep, and the
unlucky ones wait seconds. Here the threads of one process queue on a Python
lock instead, and the next one begins the moment the last one commits; only
the few processes of a site still meet in the busy handler.

Nothing about durability or isolation changes: the same statements run in the
same transactions, one at a time as SQLite would have run them anyway.
"""

import threading
from typing import Any

from django.db.backends.sqlite3 import base

# One per process: every thread's connection to the database shares it.
_writers = threading.Lock()


# The stubs leave out the private hooks overridden here ("type: ignore[misc]").
class DatabaseWrapper(base.DatabaseWrapper):
    holds_write_turn = False

    def _start_transaction_under_autocommit(self) -> None:
        if getattr(self, "transaction_mode", None) == "IMMEDIATE" and not self.holds_write_turn:
            _writers.acquire()
            self.holds_write_turn = True
        try:
            super()._start_transaction_under_autocommit()  # type: ignore[misc]
        except BaseException:
            self._end_write_turn()
            raise

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
