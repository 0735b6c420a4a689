"""Receipts: a signer's proof that their entry is in the log. Pure, like the verifier."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from undersigned.ledger import entries, merkle
from undersigned.ledger.note import NoteError, Verifier, open_note

FORMAT: Final = "undersigned-receipt/1"


class ReceiptError(ValueError):
    """The receipt does not prove what it claims."""


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def build(
    *,
    index: int,
    entry: bytes,
    proof: Sequence[bytes],
    checkpoint_note: str,
    verifier_key: str,
    salt: bytes | None = None,
    signer: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    receipt: dict[str, Any] = {
        "format": FORMAT,
        "index": index,
        "entry": entry.decode(),
        "leaf_hash": b64(merkle.leaf_hash(entry)),
        "inclusion_proof": [b64(h) for h in proof],
        "checkpoint": checkpoint_note,
        "verifier_key": verifier_key,
    }
    if salt is not None and signer is not None:
        receipt["opening"] = {"salt": salt.hex(), "signer": dict(signer)}
    return receipt


def _hashes(values: Any, what: str) -> list[bytes]:
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise ReceiptError(f"{what} must be a list of base64 hashes")
    try:
        return [base64.b64decode(v, validate=True) for v in values]
    except (binascii.Error, ValueError):
        raise ReceiptError(f"{what} holds something that is not base64") from None


def check(
    receipt: Any,
    verifier: Verifier,
    current_note: str,
    consistency: Callable[[int, int], list[bytes]],
) -> list[str]:
    """Check a receipt against the current signed checkpoint; returns what was proven.

    `consistency(old, new)` gives the log's consistency proof between two sizes;
    it is checked here, so it may come from an untrusted server.
    """
    if not isinstance(receipt, dict) or receipt.get("format") != FORMAT:
        raise ReceiptError(f"this is not an {FORMAT} receipt")
    proven = []
    try:
        text, _ = open_note(str(receipt.get("checkpoint", "")), [verifier])
        checkpoint = merkle.Checkpoint.parse(text)
    except (NoteError, ValueError) as exc:
        raise ReceiptError(f"the receipt's checkpoint is not signed by this log: {exc}") from None
    proven.append(f"its checkpoint (size {checkpoint.size}) is signed by {verifier.name}")
    index, entry_text = receipt.get("index"), receipt.get("entry")
    if not isinstance(index, int) or isinstance(index, bool) or not isinstance(entry_text, str):
        raise ReceiptError("the receipt needs an integer 'index' and a string 'entry'")
    entry_bytes = entry_text.encode()
    try:
        entry = entries.decode(entry_bytes)
    except entries.EntryError as exc:
        raise ReceiptError(f"the entry is not a valid log entry: {exc}") from None
    leaf = merkle.leaf_hash(entry_bytes)
    try:
        merkle.check_record(
            _hashes(receipt.get("inclusion_proof"), "inclusion_proof"),
            checkpoint.size,
            checkpoint.root_hash,
            index,
            leaf,
        )
    except merkle.ProofError as exc:
        raise ReceiptError(f"the entry is not at index {index} of that checkpoint: {exc}") from None
    proven.append(f"entry {index} ({entry.event} on {entry.petition}) is in that checkpoint")
    opening = receipt.get("opening")
    if opening is not None:
        try:
            salt = bytes.fromhex(opening["salt"])
            committed = entries.commitment(salt, opening["signer"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ReceiptError(f"the receipt's opening is malformed: {exc}") from None
        if committed != entry.commitment:
            raise ReceiptError("the opening does not match the entry's commitment")
        proven.append("the hidden signer's details match the entry's commitment")
    try:
        current_text, _ = open_note(current_note, [verifier])
        current = merkle.Checkpoint.parse(current_text)
    except (NoteError, ValueError) as exc:
        raise ReceiptError(f"the log's current checkpoint is not valid: {exc}") from None
    if current.size < checkpoint.size:
        raise ReceiptError(
            f"the log's current checkpoint ({current.size}) is older than the receipt's "
            f"({checkpoint.size}): the log was rolled back"
        )
    if current.size > checkpoint.size:
        try:
            merkle.check_tree(
                consistency(checkpoint.size, current.size),
                current.size,
                current.root_hash,
                checkpoint.size,
                checkpoint.root_hash,
            )
        except merkle.ProofError as exc:
            raise ReceiptError(f"the log forked since the receipt was issued: {exc}") from None
    elif current.root_hash != checkpoint.root_hash:
        raise ReceiptError("the log forked: same size, different root")
    proven.append(
        f"the current checkpoint (size {current.size}) still contains it: nothing was rewritten"
    )
    return proven
