"""Offline integrity of a database: the log recomputed from its entries.

Used after a restore or a crash, with the site's own key: every sequenced
entry is re-hashed into a fresh tree, every signed checkpoint must verify and
name that tree's root at its size, the stored hashes must equal the
recomputed ones, and each petition's verified count recomputed from the log
must equal its verified signature rows. `undersigned verify` does the same
from outside, over HTTP; this works on a database no server serves yet.
"""

from dataclasses import dataclass, field

from django.db.models import Count

from undersigned.ledger import entries, merkle
from undersigned.ledger.keys import signer
from undersigned.ledger.models import LogEntry, LogHash, LogState, SignedCheckpoint
from undersigned.ledger.note import NoteError, open_note
from undersigned.petitions.models import Petition
from undersigned.signing.models import Signature


@dataclass
class LogReport:
    size: int = 0
    unsequenced: int = 0
    checkpoints: int = 0
    last_checkpoint: int = 0
    root_hex: str = ""
    verified: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def check_log(chunk: int = 5000) -> LogReport:
    report = LogReport()
    state = LogState.objects.filter(pk=1).first()
    report.size = state.size if state is not None else 0
    report.unsequenced = LogEntry.objects.filter(index__isnull=True).count()

    store = merkle.MemoryHashStore()
    sequenced: list[tuple[int, bytes]] = []
    rows = (
        LogEntry.objects.filter(index__isnull=False)
        .order_by("index")
        .values_list("index", "data")
        .iterator(chunk_size=chunk)
    )
    for index, data in rows:
        if index != store.size:
            report.problems.append(f"log entry {store.size} is missing (next is {index})")
            break
        if data is None:
            report.problems.append(f"log entry {index} has an index but no data")
            break
        store.append(bytes(data))
        sequenced.append((index, bytes(data)))
    if store.size != report.size:
        report.problems.append(f"the log state says {report.size} entries, {store.size} found")

    stored = LogHash.objects.order_by("index").values_list("index", "hash").iterator(chunk)
    expected = store.hashes
    count = 0
    for index, value in stored:
        if index >= len(expected) or bytes(value) != expected[index]:
            report.problems.append(f"stored hash {index} differs from the recomputed tree")
            break
        count += 1
    else:
        if count != len(expected):
            report.problems.append(f"{len(expected) - count} stored hashes are missing")

    verifier = signer().verifier()
    for checkpoint in SignedCheckpoint.objects.order_by("size"):
        report.checkpoints += 1
        report.last_checkpoint = checkpoint.size
        try:
            text, _ = open_note(checkpoint.note, [verifier])
            body = merkle.Checkpoint.parse(text)
        except (NoteError, ValueError) as exc:
            report.problems.append(f"checkpoint {checkpoint.size} does not verify: {exc}")
            continue
        if body.size != checkpoint.size or body.root_hash != bytes(checkpoint.root):
            report.problems.append(f"checkpoint {checkpoint.size} differs from its signed note")
        elif checkpoint.size > store.size:
            report.problems.append(f"checkpoint {checkpoint.size} is beyond the log")
        elif store.root(checkpoint.size) != body.root_hash:
            report.problems.append(f"checkpoint {checkpoint.size} does not match the entries")
    if store.size:
        report.root_hex = store.root().hex()

    try:
        from_log = entries.count(sequenced)
    except entries.EntryError as exc:
        report.problems.append(f"the log does not decode: {exc}")
        return report
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
