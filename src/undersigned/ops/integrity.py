"""Offline integrity of a database: the log recomputed from its entries.

Used after a restore or a crash, with the site's own key: every sequenced
entry is re-hashed into a fresh tree, every signed checkpoint must verify and
name that tree's root at its size, the stored hashes must equal the
recomputed ones, and each petition's verified count recomputed from the log
must equal its verified signature rows. `undersigned verify` does the same
from outside, over HTTP; this works on a database no server serves yet.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field

from django.db.models import Count

from undersigned.core.progress import Report, silent
from undersigned.ledger.keys import signer
from undersigned.ledger.models import LogEntry, LogHash, LogState, SignedCheckpoint
from undersigned.petitions.models import Petition
from undersigned.signing.models import Signature
from undersigned.tlog import entries, merkle
from undersigned.tlog.note import NoteError, open_note


@dataclass
class LogReport:
    size: int = 0
    unsequenced: int = 0
    checkpoints: int = 0
    last_checkpoint: int = 0
    root_hex: str = ""
    verified: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def check_log(chunk: int = 5000, progress: Report = silent) -> LogReport:
    """Check everything in one pass over the entries, the stored hashes and the checkpoints.

    Memory stays small but for the counting, which keeps one integer per
    verification that still counts (a few hundred MB for ten million).
    """
    report = LogReport()
    state = LogState.objects.filter(pk=1).first()
    report.size = state.size if state is not None else 0
    report.unsequenced = LogEntry.objects.filter(index__isnull=True).count()
    verifier = signer().verifier()
    frontier = merkle.Frontier()
    stored = iter(LogHash.objects.order_by("index").values_list("index", "hash").iterator(chunk))
    checkpoints = iter(SignedCheckpoint.objects.order_by("size").iterator(chunk))
    pending_checkpoint = next(checkpoints, None)
    hashes_ok = True

    def check_checkpoint(checkpoint: SignedCheckpoint) -> None:
        report.checkpoints += 1
        report.last_checkpoint = checkpoint.size
        try:
            text, _ = open_note(checkpoint.note, [verifier])
            body = merkle.Checkpoint.parse(text)
        except (NoteError, ValueError) as exc:
            report.problems.append(f"checkpoint {checkpoint.size} does not verify: {exc}")
            return
        if body.size != checkpoint.size or body.root_hash != bytes(checkpoint.root):
            report.problems.append(f"checkpoint {checkpoint.size} differs from its signed note")
        elif checkpoint.size != frontier.size:
            report.problems.append(f"checkpoint {checkpoint.size} is beyond the log")
        elif frontier.root() != body.root_hash:
            report.problems.append(f"checkpoint {checkpoint.size} does not match the entries")

    def sequenced() -> Iterator[tuple[int, bytes]]:
        """The entries in order, hashed into the frontier as they go by."""
        nonlocal pending_checkpoint, hashes_ok
        rows = (
            LogEntry.objects.filter(index__isnull=False)
            .order_by("index")
            .values_list("index", "data")
            .iterator(chunk)
        )
        for index, data in rows:
            if index != frontier.size:
                report.problems.append(f"log entry {frontier.size} is missing (next is {index})")
                return
            if data is None:
                report.problems.append(f"log entry {index} has an index but no data")
                return
            raw = bytes(data)
            first = merkle.stored_hash_index(0, index)
            for k, value in enumerate(frontier.append(merkle.leaf_hash(raw))):
                row = next(stored, None) if hashes_ok else None
                if hashes_ok and (row is None or row[0] != first + k or bytes(row[1]) != value):
                    report.problems.append(
                        f"stored hash {first + k} differs from the recomputed tree"
                    )
                    hashes_ok = False
            while pending_checkpoint is not None and pending_checkpoint.size <= frontier.size:
                check_checkpoint(pending_checkpoint)
                pending_checkpoint = next(checkpoints, None)
            if frontier.size % chunk == 0:
                progress("checking the log", frontier.size, max(report.size, frontier.size))
            yield index, raw
        progress("checking the log", frontier.size, max(report.size, frontier.size))

    try:
        from_log = entries.count(sequenced())
    except entries.EntryError as exc:
        report.problems.append(f"the log does not decode: {exc}")
        return report
    if frontier.size != report.size:
        report.problems.append(f"the log state says {report.size} entries, {frontier.size} found")
    if hashes_ok and next(stored, None) is not None:
        report.problems.append("there are stored hashes beyond the last entry")
    while pending_checkpoint is not None:
        check_checkpoint(pending_checkpoint)
        pending_checkpoint = next(checkpoints, None)
    if frontier.size:
        report.root_hex = frontier.root().hex()

    rows_verified = dict(
        Signature.objects.filter(state=Signature.State.VERIFIED)
        .values("petition__slug")
        .annotate(n=Count("id"))
        .values_list("petition__slug", "n")
    )
    pending = set(
        LogEntry.objects.filter(index__isnull=True).values_list("petition__slug", flat=True)
    )
    for slug in Petition.objects.order_by("slug").values_list("slug", flat=True):
        logged = from_log[slug].verified if slug in from_log else 0
        report.verified[slug] = logged
        rows = rows_verified.get(slug, 0)
        # Entries not sequenced yet are not in the log: only a settled log must agree.
        if logged != rows and slug not in pending:
            report.problems.append(f"{slug}: the log counts {logged} verified, the rows {rows}")
    return report
