"""Receipts: a signer's proof that their entry is in the log. Pure, like the verifier.

What check() proves, or why it fails, is read by people on the receipt checker
page, so those sentences are translated (into the active language).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from django.utils.translation import gettext

from undersigned.tlog import entries, merkle
from undersigned.tlog.note import NoteError, Verifier, open_note

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
        raise ReceiptError(gettext("%(what)s must be a list of base64 hashes") % {"what": what})
    try:
        return [base64.b64decode(v, validate=True) for v in values]
    except (binascii.Error, ValueError):
        raise ReceiptError(
            gettext("%(what)s holds something that is not base64") % {"what": what}
        ) from None


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
        raise ReceiptError(gettext("this is not an %(format)s receipt") % {"format": FORMAT})
    proven = []
    try:
        text, _ = open_note(str(receipt.get("checkpoint", "")), [verifier])
        checkpoint = merkle.Checkpoint.parse(text)
    except (NoteError, ValueError) as exc:
        raise ReceiptError(
            gettext("the receipt's checkpoint is not signed by this log: %(error)s")
            % {"error": exc}
        ) from None
    proven.append(
        gettext("its checkpoint (size %(size)d) is signed by %(name)s")
        % {"size": checkpoint.size, "name": verifier.name}
    )
    index, entry_text = receipt.get("index"), receipt.get("entry")
    if not isinstance(index, int) or isinstance(index, bool) or not isinstance(entry_text, str):
        raise ReceiptError(gettext("the receipt needs an integer 'index' and a string 'entry'"))
    entry_bytes = entry_text.encode()
    try:
        entry = entries.decode(entry_bytes)
    except entries.EntryError as exc:
        raise ReceiptError(
            gettext("the entry is not a valid log entry: %(error)s") % {"error": exc}
        ) from None
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
        raise ReceiptError(
            gettext("the entry is not at index %(index)d of that checkpoint: %(error)s")
            % {"index": index, "error": exc}
        ) from None
    proven.append(
        gettext("entry %(index)d (%(event)s on %(petition)s) is in that checkpoint")
        % {"index": index, "event": entry.event, "petition": entry.petition}
    )
    opening = receipt.get("opening")
    if opening is not None:
        try:
            salt = bytes.fromhex(opening["salt"])
            committed = entries.commitment(salt, opening["signer"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ReceiptError(
                gettext("the receipt's opening is malformed: %(error)s") % {"error": exc}
            ) from None
        if committed != entry.commitment:
            raise ReceiptError(gettext("the opening does not match the entry's commitment"))
        proven.append(gettext("the hidden signer's details match the entry's commitment"))
    try:
        current_text, _ = open_note(current_note, [verifier])
        current = merkle.Checkpoint.parse(current_text)
    except (NoteError, ValueError) as exc:
        raise ReceiptError(
            gettext("the log's current checkpoint is not valid: %(error)s") % {"error": exc}
        ) from None
    if current.size < checkpoint.size:
        raise ReceiptError(
            gettext(
                "the log's current checkpoint (%(current)d) is older than the receipt's "
                "(%(receipt)d): the log was rolled back"
            )
            % {"current": current.size, "receipt": checkpoint.size}
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
            raise ReceiptError(
                gettext("the log forked since the receipt was issued: %(error)s") % {"error": exc}
            ) from None
    elif current.root_hash != checkpoint.root_hash:
        raise ReceiptError(gettext("the log forked: same size, different root"))
    proven.append(
        gettext("the current checkpoint (size %(size)d) still contains it: nothing was rewritten")
        % {"size": current.size}
    )
    return proven
