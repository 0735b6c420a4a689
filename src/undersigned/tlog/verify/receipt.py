"""``undersigned verify --receipt``: a signer's .tlog-proof, checked offline against a policy.

The file (c2sp.org/tlog-proof@v1) holds the log entry (its ``extra`` line),
the entry's index, its inclusion proof and the cosigned checkpoint. With the
reader's policy alone, no network and nothing of the site: the checkpoint must
be signed by the policy's log, carry the policy's witness quorum, and the
inclusion proof must bind the entry to the checkpoint's root. A hidden
signer's entry holds only a commitment to their name: what opens it is in the
JSON receipt, which the signer keeps, not in this file.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from undersigned.tlog import entries as log_entries
from undersigned.tlog import proof as tlog_proof
from undersigned.tlog.policy import NONE, Policy, PolicyError, QuorumError, log_entry
from undersigned.tlog.verify.errors import (
    EXIT_CONTENT,
    EXIT_QUORUM,
    EXIT_SIGNATURE,
    EXIT_USAGE,
    VerifyError,
)
from undersigned.tlog.verify.report import Witnesses, witness_line


def policy_of_key(vkey: str) -> Policy:
    """A policy of one log and no witness (quorum ``none``): only the log's signature counts."""
    try:
        return Policy([log_entry(vkey.strip())], [], [], NONE)
    except PolicyError as exc:
        raise VerifyError(EXIT_USAGE, f"--key: {exc}") from None


@dataclass(frozen=True)
class ReceiptReport:
    """What a verified receipt proves."""

    index: int
    origin: str
    size: int
    root: bytes
    entry: log_entries.Entry
    witnesses: Witnesses

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": True,
            "receipt": True,
            "index": self.index,
            "origin": self.origin,
            "size": self.size,
            "root": base64.b64encode(self.root).decode("ascii"),
            "event": self.entry.event,
            "petition": self.entry.petition,
            "time": self.entry.time,
            "signer": dict(self.entry.signer) if self.entry.signer else None,
            "commitment": self.entry.commitment,
            "witnesses": self.witnesses.as_dict(),
            "split_view_excluded": self.witnesses.quorum != NONE,
        }

    def summary(self) -> str:
        entry = self.entry
        lines = [
            f"receipt: entry {self.index} of {self.origin}",
            f"entry:   {entry.event} on {entry.petition} at {entry.time}",
        ]
        if entry.signer:
            shown = ", ".join(v for v in entry.signer.values() if v)
            lines.append(f"signer:  {shown}")
        elif entry.commitment:
            lines.append(
                "signer:  hidden (a commitment; the JSON receipt holds what opens it)"
            )
        lines.append(
            f"in:      checkpoint of size {self.size}, root "
            f"{base64.b64encode(self.root).decode('ascii')}"
        )
        lines.append(witness_line(self.witnesses))
        lines.append("all checks passed")
        return "\n".join(lines)


def check_receipt(data: bytes, policy: Policy) -> ReceiptReport:
    """Verify a .tlog-proof file against ``policy``; raises :class:`VerifyError`.

    Exit codes: 5 for a malformed file, an entry that is not a log entry or
    an inclusion proof that fails; 2 for a checkpoint the policy's log did not
    sign, or a cosignature that does not verify; 7 below the quorum.
    """
    try:
        parsed = tlog_proof.TlogProof.parse(data)
    except tlog_proof.TlogProofError as exc:
        raise VerifyError(EXIT_CONTENT, f"not a tlog-proof receipt: {exc}") from None
    if parsed.extra is None:
        raise VerifyError(EXIT_CONTENT, "the receipt has no 'extra' line holding the entry")
    try:
        entry = log_entries.decode(parsed.extra)
    except (log_entries.EntryError, ValueError, RecursionError) as exc:
        raise VerifyError(EXIT_CONTENT, f"the receipt's entry is not a log entry: {exc}") from None
    try:
        verified = tlog_proof.verify(parsed, policy, entry_from_extra=True)
    except QuorumError as exc:
        missing = ", ".join(exc.result.missing) or "none"
        raise VerifyError(
            EXIT_QUORUM,
            f"the receipt's checkpoint {exc.result.describe()}; missing: {missing}. "
            "Without the quorum it may be a split view",
        ) from None
    except PolicyError as exc:
        raise VerifyError(EXIT_SIGNATURE, f"the receipt's checkpoint is refused: {exc}") from None
    except tlog_proof.TlogProofError as exc:
        raise VerifyError(EXIT_CONTENT, f"the receipt does not prove its entry: {exc}") from None
    result = verified.quorum
    return ReceiptReport(
        index=verified.index,
        origin=result.checkpoint.origin,
        size=result.checkpoint.size,
        root=result.checkpoint.root_hash,
        entry=entry,
        witnesses=Witnesses(result.signed, result.missing, result.quorum, result.satisfied),
    )
