"""The server side of the public log: record events, sequence them, sign checkpoints."""

import base64
import json
import logging
import os
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from undersigned.core import crypto
from undersigned.ledger.keys import signer
from undersigned.ledger.models import (
    CheckpointCount,
    LogEntry,
    LogHash,
    LogState,
    SignedCheckpoint,
)
from undersigned.petitions.models import Petition, TextVersion
from undersigned.signing.models import Signature
from undersigned.signing.tokens import new_token
from undersigned.tlog import entries, merkle
from undersigned.tlog.note import sign_note

log = logging.getLogger(__name__)

SEQUENCE_BATCH = 2000


class LedgerError(Exception):
    """The log cannot be extended without breaking a promise already signed."""


# ------------------------------------------------------------------ recording


def _base(event: str, petition: Petition, version: TextVersion, at: datetime) -> dict[str, Any]:
    return {
        "event": event,
        "petition": petition.slug,
        "text_sha256": version.sha256,
        "time": at.isoformat(),
    }


def record_petition_event(
    event: str, petition: Petition, version: TextVersion, *, reason: str | None = None
) -> LogEntry:
    payload = _base(event, petition, version, timezone.now())
    if event in (entries.PETITION_OPENED, entries.PETITION_TEXT_VERSION):
        payload.update(version=version.number, title=version.title)
    if reason:
        payload["reason"] = reason[:500]
    return LogEntry.objects.create(petition=petition, event=event, payload=payload)


def verification_payload(
    petition: Petition,
    version: TextVersion,
    at: datetime,
    *,
    name: str,
    role: str,
    place: tuple[str, str],
    show_name: bool,
    paper: bool = False,
) -> tuple[dict[str, Any], bytes | None]:
    """A verified signature's log payload, and the salt of its commitment if the name is hidden.

    `paper`: entered by a moderator from a paper sheet; the entry says so
    ("channel": "paper"), an online one carries no channel at all.
    """
    region, municipality = place
    signer_fields = entries.signer_fields(name, role, municipality, region)
    payload = _base(entries.SIGNATURE_VERIFIED, petition, version, at)
    if paper:
        payload["channel"] = entries.CHANNEL_PAPER
    if show_name:
        payload["signer"] = signer_fields
        return payload, None
    salt = entries.new_salt()
    payload["commitment_hex"] = entries.commitment(salt, signer_fields)
    return payload, salt


OPENING_PURPOSE = "ledger.opening"


def record_verification(signature: Signature) -> str:
    """Log a signature that now counts; returns the raw key of its receipt."""
    payload, salt = verification_payload(
        signature.petition,
        signature.text_version,
        signature.verified_at or timezone.now(),
        name=signature.full_name,
        role=signature.role,
        place=signature.place(),
        show_name=signature.show_name,
        paper=signature.channel == Signature.Channel.PAPER,
    )
    raw, digest = new_token()
    opening = None
    if salt is not None:
        # The salt and the name open the commitment: with both, the register's
        # names could be tried against it. The server keeps neither (the salt
        # goes to the custody box); the signer's receipt key opens this copy.
        signature.log_salt = salt
        region, municipality = signature.place()
        opening = crypto.seal_for_holder(
            raw,
            json.dumps(
                {
                    "name": signature.full_name,
                    "role": signature.role,
                    "municipality": municipality,
                    "region": region,
                    "salt_hex": salt.hex(),
                },
                ensure_ascii=False,
            ).encode(),
            OPENING_PURPOSE,
        )
    entry = LogEntry.objects.create(
        petition=signature.petition,
        signature=signature,
        event=entries.SIGNATURE_VERIFIED,
        payload=payload,
        receipt_key_hash=digest,
        opening_sealed=opening,
    )
    signature.verified_entry = entry
    return raw


def record_answer(
    event: str,
    petition: Petition,
    *,
    document: str,
    outcome: str | None = None,
    at: datetime | None = None,
) -> LogEntry:
    """Log a response or an outcome published: its document's SHA-256 and the count.

    The count and the log's size go in when the entry is sequenced (`sequence`):
    the count is then exactly what the entries before it give, which anyone
    recomputes, so nobody can later say the answer came at a lower count.
    """
    if event not in entries.ANSWERS:
        raise LedgerError(f"{event} is not an answer")
    payload = _base(event, petition, petition.shown_version(), at or timezone.now())
    payload["document"] = document
    if outcome is not None:
        payload["outcome"] = outcome
    return LogEntry.objects.create(petition=petition, event=event, payload=payload)


def record_removal(signature: Signature, event: str, *, reason: str | None = None) -> LogEntry:
    verified = signature.verified_entry
    if verified is None:
        raise LedgerError(f"signature {signature.pk} counts but has no verification entry")
    payload = _base(event, signature.petition, signature.text_version, timezone.now())
    if reason:
        payload["reason"] = reason[:500]
    entry = LogEntry.objects.create(
        petition=signature.petition,
        signature=signature,
        event=event,
        payload=payload,
        ref_entry=verified,
    )
    signature.verified_entry = None
    return entry


# ------------------------------------------------------------------ sequencing


class DbHashReader:
    """Stored hashes from the database, with the batch being written kept in memory."""

    def __init__(self) -> None:
        self.cache: dict[int, bytes] = {}

    def read_hashes(self, indexes: Sequence[int]) -> list[bytes]:
        missing = [i for i in indexes if i not in self.cache]
        if missing:
            for index, value in LogHash.objects.filter(index__in=missing).values_list(
                "index", "hash"
            ):
                self.cache[index] = bytes(value)
        try:
            return [self.cache[i] for i in indexes]
        except KeyError as exc:
            raise LedgerError(f"stored hash {exc.args[0]} is missing") from None


def _locked_state() -> LogState:
    LogState.objects.get_or_create(pk=1)
    return LogState.objects.select_for_update().get(pk=1)


def encode_entry(entry: LogEntry, ref_index: int | None, **sequenced: Any) -> bytes:
    """The entry's bytes; `sequenced` holds what only its place in the log decides
    (an answer's `count` and `size`)."""
    payload = dict(entry.payload)
    payload["time"] = datetime.fromisoformat(payload["time"])
    return entries.encode(**payload, ref=ref_index, **sequenced)


class _LiveCounts:
    """Petitions' verified counts in the log at each entry being sequenced.

    Only answers need them, and they are rare: a petition's count at the start
    of the batch is read when its first answer comes (the latest checkpoint's
    CheckpointCount, plus the entries sequenced since), and the batch's own
    entries move it as they go.
    """

    def __init__(self, size: int) -> None:
        self.size = size  # the log's size when the batch began
        self.moves: dict[int, int] = {}  # per petition, what this batch moved so far
        self.base: dict[int, int] = {}

    def move(self, entry: LogEntry) -> None:
        if entry.event == entries.SIGNATURE_VERIFIED:
            self.moves[entry.petition_id] = self.moves.get(entry.petition_id, 0) + 1
        elif entry.event in entries.REMOVALS:
            self.moves[entry.petition_id] = self.moves.get(entry.petition_id, 0) - 1

    def now(self, petition_id: int) -> int:
        if petition_id not in self.base:
            self.base[petition_id] = self._at_start(petition_id)
        return self.base[petition_id] + self.moves.get(petition_id, 0)

    def _at_start(self, petition_id: int) -> int:
        latest = SignedCheckpoint.objects.filter(size__lte=self.size).order_by("-size").first()
        signed = latest.size if latest is not None else 0
        counted = 0
        if latest is not None:
            counted = (
                CheckpointCount.objects.filter(petition_id=petition_id)
                .values_list("verified", flat=True)
                .first()
                or 0
            )
        since = (
            LogEntry.objects.filter(
                petition_id=petition_id,
                index__gte=signed,
                index__lt=self.size,
                event__in=[entries.SIGNATURE_VERIFIED, *entries.REMOVALS],
            )
            .values("event")
            .annotate(n=Count("id"))
            .order_by()
        )
        for row in since:
            counted += row["n"] if row["event"] == entries.SIGNATURE_VERIFIED else -row["n"]
        return counted


def sequence(limit: int = SEQUENCE_BATCH) -> int:
    """Give the oldest pending entries their leaf indexes; returns how many."""
    with transaction.atomic():
        state = _locked_state()
        pending = list(LogEntry.objects.filter(index__isnull=True).order_by("id")[:limit])
        if not pending:
            return 0
        ref_ids = [e.ref_entry_id for e in pending if e.ref_entry_id is not None]
        assigned = dict(
            LogEntry.objects.filter(id__in=ref_ids, index__isnull=False).values_list("id", "index")
        )
        reader = DbHashReader()
        new_hashes: list[LogHash] = []
        live = _LiveCounts(state.size)
        for entry in pending:
            n = state.size
            ref = None
            if entry.ref_entry_id is not None:
                ref = assigned.get(entry.ref_entry_id)
                if ref is None:
                    raise LedgerError(f"entry {entry.pk} names an entry not yet in the log")
            sequenced: dict[str, int] = {}
            if entry.event in entries.ANSWERS:
                sequenced = {"count": live.now(entry.petition_id), "size": n}
            live.move(entry)
            data = encode_entry(entry, ref, **sequenced)
            first = merkle.stored_hash_index(0, n)
            for k, value in enumerate(merkle.stored_hashes(n, data, reader)):
                reader.cache[first + k] = value
                new_hashes.append(LogHash(index=first + k, hash=value))
            entry.index, entry.data = n, data
            assigned[entry.pk] = n
            state.size = n + 1
        LogHash.objects.bulk_create(new_hashes, batch_size=1000)
        # bulk_update builds one CASE expression per batch, which cost most of
        # the sequencing time (bench/ledger.py); one prepared UPDATE per row is
        # several times faster on both databases.
        table = connection.ops.quote_name(LogEntry._meta.db_table)
        with connection.cursor() as cursor:
            cursor.executemany(
                f'UPDATE {table} SET "index" = %s, "data" = %s WHERE "id" = %s',  # noqa: S608  # nosec B608
                [(e.index, bytes(e.data or b""), e.pk) for e in pending],
            )
        state.save(update_fields=["size"])
        return len(pending)


# ------------------------------------------------------------------ checkpoints


def _read_state_file(path: Path) -> dict[str, Any] | None:
    try:
        state: dict[str, Any] = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise LedgerError(f"cannot read the checkpoint state file {path}: {exc}") from None
    if state.get("key") != signer().verifier_key():
        return None  # another key is another log
    return state


def _write_state_file(path: Path, size: int, root: bytes, note: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    body = json.dumps(
        {
            "key": signer().verifier_key(),
            "size": size,
            "root": base64.b64encode(root).decode(),
            "checkpoint": note,
        }
    )
    with open(tmp, "w") as f:
        f.write(body)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def _check_extends(
    size: int, root: bytes, old_size: int, old_root: bytes, reader: DbHashReader, what: str
) -> None:
    if old_size > size:
        raise LedgerError(f"the tree ({size}) is smaller than {what} ({old_size})")
    if old_size == 0:
        return
    if old_size == size:
        if old_root != root:
            raise LedgerError(f"the tree's root differs from {what} at the same size {size}")
        return
    try:
        merkle.check_tree(merkle.prove_tree(size, old_size, reader), size, root, old_size, old_root)
    except merkle.ProofError as exc:
        raise LedgerError(f"the tree is not consistent with {what}: {exc}") from None


def publish_checkpoint() -> SignedCheckpoint | None:
    """Sign the current tree if it grew, after proving it extends everything signed before."""
    with transaction.atomic():
        state = _locked_state()
        latest = SignedCheckpoint.objects.order_by("-size").first()
        if state.size == 0 or (latest is not None and latest.size == state.size):
            return None
        reader = DbHashReader()
        root = merkle.tree_hash(state.size, reader)
        if latest is not None:
            _check_extends(
                state.size,
                root,
                latest.size,
                bytes(latest.root),
                reader,
                f"checkpoint {latest.size} in the database",
            )
        remembered = _read_state_file(settings.LEDGER_STATE_FILE)
        if remembered is not None:
            _check_extends(
                state.size,
                root,
                int(remembered["size"]),
                base64.b64decode(remembered["root"]),
                reader,
                f"checkpoint {remembered['size']} this server signed last "
                f"({settings.LEDGER_STATE_FILE})",
            )
        key = signer()
        body = merkle.Checkpoint(origin=key.name, size=state.size, root_hash=root).to_text()
        note = sign_note(body, [key])
        _move_checkpoint_counts(latest.size if latest is not None else 0, state.size)
        # The state file is written before the checkpoint becomes visible:
        # after a crash in between, re-signing the same tree gives the same root.
        _write_state_file(settings.LEDGER_STATE_FILE, state.size, root, note)
        return SignedCheckpoint.objects.create(size=state.size, root=root, note=note)


_COUNT_COLUMNS = {
    entries.SIGNATURE_VERIFIED: "verified",
    entries.SIGNATURE_WITHDRAWN: "withdrawn",
    entries.SIGNATURE_INVALIDATED: "invalidated",
}


def on_paper() -> Q:
    """Log entries that move a paper count: a verification marked "channel":
    "paper", or a withdrawal or invalidation naming one (a removal carries no
    channel of its own)."""
    paper = entries.CHANNEL_PAPER
    return Q(payload__channel=paper) | Q(ref_entry__payload__channel=paper)


def _move_checkpoint_counts(old_size: int, new_size: int) -> None:
    """Move each petition's CheckpointCount by the entries [old_size, new_size) add.

    Runs in the transaction that signs the checkpoint of new_size, so that
    whoever reads the latest checkpoint and a count together (in one
    statement) reads the count of exactly that checkpoint. A range of the
    unique index on "index": as many rows as the checkpoint adds. `paper`
    moves with the verifications entered from paper and the removals of them.
    """
    moves: dict[int, dict[str, tuple[int, int]]] = {}
    rows = (
        LogEntry.objects.filter(
            index__gte=old_size, index__lt=new_size, event__in=list(_COUNT_COLUMNS)
        )
        .values("petition_id", "event")
        .annotate(n=Count("id"), paper=Count("id", filter=on_paper()))
        .order_by()
    )
    for row in rows:
        column = _COUNT_COLUMNS[row["event"]]
        moves.setdefault(row["petition_id"], {})[column] = (row["n"], row["paper"])
    for petition_id, n in moves.items():
        added, added_paper = n.get("verified", (0, 0))
        withdrawn, withdrawn_paper = n.get("withdrawn", (0, 0))
        invalidated, invalidated_paper = n.get("invalidated", (0, 0))
        verified = added - withdrawn - invalidated
        paper = added_paper - withdrawn_paper - invalidated_paper
        counts = CheckpointCount.objects.filter(petition_id=petition_id)
        if not counts.update(
            verified=F("verified") + verified,
            withdrawn=F("withdrawn") + withdrawn,
            invalidated=F("invalidated") + invalidated,
            paper=F("paper") + paper,
        ):
            # Only the signer of checkpoints writes these rows, under the log's lock.
            CheckpointCount.objects.create(
                petition_id=petition_id,
                verified=verified,
                withdrawn=withdrawn,
                invalidated=invalidated,
                paper=paper,
            )


def latest_checkpoint() -> SignedCheckpoint | None:
    return SignedCheckpoint.objects.order_by("-size").first()


def integrate() -> int:
    """The worker's part: sequence what is pending, then sign the grown tree."""
    total = 0
    while (done := sequence()) > 0:
        total += done
        if done < SEQUENCE_BATCH:
            break
    publish_checkpoint()
    return total
