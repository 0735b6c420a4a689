"""Offline proofs of logging (https://c2sp.org/tlog-proof), ``.tlog-proof`` files.

A proof is the index of an entry, its Merkle inclusion proof and the
(cosigned) checkpoint it is proven against, as text::

    c2sp.org/tlog-proof@v1
    extra <base64 of opaque extra data>       (optional line)
    index <decimal, no leading zeros>
    <base64 hash>                             (zero or more: leaf's sibling first,
    <base64 hash>                              the root's child last, RFC 6962 2.1.1)

    <the checkpoint's signed note, verbatim, with its signatures and cosignatures>

The extra data is not authenticated by anything in the file. Undersigned puts
the log entry itself there (the leaf is ``SHA-256(0x00 || entry)``), so the
file is self-contained; a verifier that uses it as the leaf data, as
:func:`verify` does when told to, authenticates it through the inclusion proof.

Verifying, in the spec's order: compute the leaf hash; check the checkpoint is
signed by a log of the policy whose key name is the origin; check the
witnesses' cosignatures meet the policy's quorum; check the inclusion proof
binds the leaf to the checkpoint's root.

Pure: standard library and ``cryptography`` (through the key modules) only.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from undersigned.tlog import merkle
from undersigned.tlog.policy import Policy, QuorumResult

HEADER: Final = "c2sp.org/tlog-proof@v1"
FILE_EXTENSION: Final = ".tlog-proof"
MEDIA_TYPE: Final = "text/plain; charset=utf-8"

_DECIMAL = re.compile(r"0|[1-9][0-9]*")
# The longest inclusion proof a tree of 2**63 leaves can need.
_MAX_PROOF_LINES: Final = 63


class TlogProofError(ValueError):
    """A tlog-proof file is malformed, or does not prove what it claims."""


def _b64decode(text: str, what: str) -> bytes:
    raw = merkle.b64decode_canonical(text)
    if raw is None:
        raise TlogProofError(f"{what} is not canonical base64")
    return raw


@dataclass(frozen=True)
class TlogProof:
    """The contents of a c2sp.org/tlog-proof@v1 file."""

    index: int
    inclusion_proof: tuple[bytes, ...]
    # The signed note, verbatim: checkpoint text, blank line, signature lines.
    checkpoint: str
    extra: bytes | None = None

    def __post_init__(self) -> None:
        if isinstance(self.index, bool) or not 0 <= self.index <= merkle.MAX_TREE_SIZE:
            raise TlogProofError("index out of range")
        if len(self.inclusion_proof) > _MAX_PROOF_LINES:
            raise TlogProofError("inclusion proof is longer than any tree is tall")
        if any(len(h) != merkle.HASH_SIZE for h in self.inclusion_proof):
            raise TlogProofError("inclusion proof hashes are 32 bytes")
        # Whether it is a well-signed checkpoint is verify()'s question, not the format's.
        if not self.checkpoint.endswith("\n"):
            raise TlogProofError("the checkpoint must end in a newline")

    def to_text(self) -> str:
        """Return the file's text, as :meth:`parse` reads it."""
        lines = [HEADER]
        if self.extra is not None:
            lines.append("extra " + base64.b64encode(self.extra).decode("ascii"))
        lines.append(f"index {self.index}")
        lines += [base64.b64encode(h).decode("ascii") for h in self.inclusion_proof]
        return "".join(line + "\n" for line in lines) + "\n" + self.checkpoint

    def to_bytes(self) -> bytes:
        return self.to_text().encode("utf-8")

    @classmethod
    def parse(cls, data: str | bytes) -> TlogProof:
        """Parse a tlog-proof file strictly; raises :class:`TlogProofError`."""
        if isinstance(data, bytes):
            try:
                data = data.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise TlogProofError("a tlog proof is UTF-8 text") from exc
        head, sep, checkpoint = data.partition("\n\n")
        if not sep:
            raise TlogProofError("no empty line between the proof and the checkpoint")
        lines = head.split("\n")
        if lines[0] != HEADER:
            raise TlogProofError(f"the first line must be {HEADER!r}")
        rest = lines[1:]
        extra: bytes | None = None
        if rest and rest[0].startswith("extra "):
            extra = _b64decode(rest[0][len("extra ") :], "the extra data")
            rest = rest[1:]
        if not rest or not rest[0].startswith("index "):
            raise TlogProofError("missing the 'index' line")
        index_text = rest[0][len("index ") :]
        if not _DECIMAL.fullmatch(index_text):
            raise TlogProofError("the index is not a decimal without leading zeros")
        index = int(index_text)
        hashes = tuple(_b64decode(line, "an inclusion proof line") for line in rest[1:])
        return cls(index, hashes, checkpoint, extra)


def build(
    index: int,
    inclusion_proof: Sequence[bytes],
    checkpoint: str,
    extra: bytes | None = None,
) -> TlogProof:
    """Return the proof of entry ``index`` against a (cosigned) signed checkpoint."""
    return TlogProof(index, tuple(bytes(h) for h in inclusion_proof), checkpoint, extra)


@dataclass(frozen=True)
class VerifiedProof:
    """What a verified proof established."""

    index: int
    leaf_hash: bytes
    quorum: QuorumResult


def verify(
    proof: TlogProof | str | bytes,
    policy: Policy,
    *,
    leaf_hash: bytes | None = None,
    entry: bytes | None = None,
    entry_from_extra: bool = False,
) -> VerifiedProof:
    """Verify a proof offline against a policy, for one leaf.

    Give the leaf as ``leaf_hash``, or as the ``entry`` data (hashed as an RFC
    6962 leaf), or say ``entry_from_extra`` to take the entry from the
    file's extra line (it is then authenticated by the inclusion proof).
    Raises :class:`TlogProofError` for a malformed file or a failed inclusion
    proof, :class:`~undersigned.tlog.policy.PolicyError` (or its
    :class:`~undersigned.tlog.policy.QuorumError`) for a checkpoint the policy
    does not accept.
    """
    if not isinstance(proof, TlogProof):
        proof = TlogProof.parse(proof)
    given = sum(x is not None and x is not False for x in (leaf_hash, entry, entry_from_extra))
    if given != 1:
        raise TypeError("give exactly one of leaf_hash, entry, entry_from_extra")
    if entry_from_extra:
        if proof.extra is None:
            raise TlogProofError("the proof has no extra line to take the entry from")
        entry = proof.extra
    if entry is not None:
        leaf_hash = merkle.leaf_hash(entry)
    assert leaf_hash is not None
    if len(leaf_hash) != merkle.HASH_SIZE:
        raise TlogProofError("a leaf hash is 32 bytes")
    quorum = policy.verify(proof.checkpoint)
    checkpoint = quorum.checkpoint
    try:
        merkle.check_record(
            proof.inclusion_proof, checkpoint.size, checkpoint.root_hash, proof.index, leaf_hash
        )
    except merkle.ProofError as exc:
        raise TlogProofError(f"inclusion proof: {exc}") from exc
    return VerifiedProof(proof.index, leaf_hash, quorum)
