"""Test doubles for the pure log code (undersigned.tlog)."""

from __future__ import annotations

from collections.abc import Sequence

from undersigned.tlog.merkle import leaf_hash, stored_hashes_for_record, tree_hash


class MemoryHashStore:
    """Stored hashes kept in a Python list: a merkle.HashReader for tests.

    The log keeps the same rows in the database (ledger.models.LogHash); the
    production code that rebuilds a tree from its leaves uses merkle.Frontier,
    which needs no storage at all.
    """

    def __init__(self) -> None:
        self._hashes: list[bytes] = []
        self._size = 0

    @classmethod
    def from_leaf_hashes(cls, leaf_hashes: Sequence[bytes]) -> MemoryHashStore:
        store = cls()
        for h in leaf_hashes:
            store.append_leaf_hash(h)
        return store

    @property
    def size(self) -> int:
        """Number of leaves appended so far."""
        return self._size

    @property
    def hashes(self) -> tuple[bytes, ...]:
        """Every stored hash, in storage order."""
        return tuple(self._hashes)

    def read_hashes(self, indexes: Sequence[int]) -> list[bytes]:
        # A negative index would silently wrap around a Python list.
        for i in indexes:
            if not 0 <= i < len(self._hashes):
                raise ValueError(f"storage index {i} is not stored")
        return [self._hashes[i] for i in indexes]

    def append_leaf_hash(self, record_hash: bytes) -> int:
        """Append a leaf by its hash and return its index."""
        n = self._size
        self._hashes.extend(stored_hashes_for_record(n, record_hash, self))
        self._size += 1
        return n

    def append(self, data: bytes) -> int:
        """Append a record and return its index."""
        return self.append_leaf_hash(leaf_hash(data))

    def root(self, size: int | None = None) -> bytes:
        """Return the root of the first ``size`` leaves (default: all of them)."""
        return tree_hash(self._size if size is None else size, self)
