"""A small log for the tlog tests: entries, signed checkpoints, proofs, a fork."""

from __future__ import annotations

from tests.ledger.doubles import MemoryHashStore
from undersigned.tlog import merkle, note
from undersigned.tlog.merkle import Checkpoint


class Log:
    """An append-only log signing its checkpoints with an Ed25519 note key."""

    def __init__(
        self, origin: str = "petitions.example.org/log", signer: note.Signer | None = None
    ) -> None:
        self.signer = signer or note.Signer.generate(origin)
        self.origin = origin
        self.store = MemoryHashStore()
        self.entries: list[bytes] = []

    @property
    def vkey(self) -> str:
        return self.signer.verifier_key()

    def append(self, *entries: bytes) -> None:
        for entry in entries:
            self.entries.append(entry)
            self.store.append(entry)

    def grow(self, count: int, tag: str = "entry") -> None:
        start = len(self.entries)
        self.append(*(f"{tag} {i}".encode() for i in range(start, start + count)))

    def root(self, size: int | None = None) -> bytes:
        return self.store.root(size)

    def checkpoint_text(self, size: int | None = None) -> str:
        size = self.store.size if size is None else size
        return Checkpoint(self.origin, size, self.root(size)).to_text()

    def signed(self, size: int | None = None, signer: note.Signer | None = None) -> str:
        return note.sign_note(self.checkpoint_text(size), [signer or self.signer])

    def consistency(self, old: int, new: int | None = None) -> list[bytes]:
        new = self.store.size if new is None else new
        if old in (0, new):
            return []
        return merkle.prove_tree(new, old, self.store)

    def inclusion(self, index: int, size: int | None = None) -> list[bytes]:
        size = self.store.size if size is None else size
        return merkle.prove_record(size, index, self.store)

    def fork(self, keep: int, tag: str = "forged") -> Log:
        """A log with the same key and the first ``keep`` entries, then different ones."""
        other = Log(self.origin, self.signer)
        other.append(*self.entries[:keep])
        other.grow(len(self.entries) - keep, tag)
        return other
