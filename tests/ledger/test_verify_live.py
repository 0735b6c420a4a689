"""`undersigned verify` against the real server over HTTP, with the database tampered."""

from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User

from tests.ledger.doubles import MemoryHashStore
from undersigned.ledger import services
from undersigned.ledger.keys import signer
from undersigned.ledger.models import LogEntry, LogHash, LogState, SignedCheckpoint
from undersigned.petitions.models import Petition
from undersigned.signing import services as signing
from undersigned.signing.tokens import new_token
from undersigned.tlog import merkle
from undersigned.tlog.note import sign_note
from undersigned.tlog.verify.checks import verify
from undersigned.tlog.verify.errors import VerifyError
from undersigned.tlog.verify.fetch import HttpFetcher

pytestmark = pytest.mark.django_db(transaction=True)


def add_verified(petition: Petition, start: int, n: int) -> None:
    for i in range(start, start + n):
        signature = signing.sign(
            petition,
            signing.SignRequest(
                full_name=f"Person {i}", email=f"p{i}@example.org", show_name=i % 2 == 0
            ),
        )
        raw, signature.confirm_token_hash = new_token()
        signature.save(update_fields=["confirm_token_hash"])
        signing.confirm(raw)
    services.integrate()


@pytest.fixture
def site(live_server: Any, petition: Petition, tmp_path: Path) -> Any:
    add_verified(petition, 0, 6)

    def run() -> Any:
        return verify(
            HttpFetcher(live_server.url + "/"),
            signer().verifier_key(),
            tmp_path / "verify-state.json",
            retry_pause=0,
        )

    return run


def verified(report: Any, slug: str) -> int:
    return int(next(p.verified for p in report.petitions if p.slug == slug))


def code_of(run: Any) -> tuple[int, str]:
    with pytest.raises(VerifyError) as caught:
        run()
    return caught.value.code, str(caught.value)


def test_an_honest_log_verifies_and_the_next_run_proves_consistency(
    site: Any, petition: Petition, organiser: User
) -> None:
    report = site()
    assert report.size == 7
    assert verified(report, petition.slug) == 6
    add_verified(petition, 10, 3)
    signature = petition.signatures.filter(state="verified").first()
    signing.invalidate(signature.pk, organiser, reason="forged")
    services.integrate()
    report = site()
    assert report.previous_size == 7 and report.size == 11
    assert verified(report, petition.slug) == 8


def test_an_altered_entry_is_detected(site: Any) -> None:
    site()
    entry = LogEntry.objects.get(index=3)  # Person 2, whose name is shown
    altered = bytes(entry.data).replace(b"Person 2", b"Person 9")
    assert altered != bytes(entry.data)
    LogEntry.objects.filter(pk=entry.pk).update(data=altered)
    code, message = code_of(site)
    assert code == 5 and "entry 3" in message


def test_a_removed_entry_is_detected(site: Any) -> None:
    site()
    last = LogEntry.objects.get(index=6)
    LogEntry.objects.filter(pk=last.pk).update(index=None)
    code, message = code_of(site)
    assert code in (1, 5), message
    assert "6" in message


def test_a_rolled_back_checkpoint_is_detected(site: Any, petition: Petition) -> None:
    add_verified(petition, 20, 2)
    site()
    # The server now serves an older checkpoint than the one accepted.
    SignedCheckpoint.objects.filter(size=LogState.objects.get().size).delete()
    code, message = code_of(site)
    assert code == 3 and "rollback" in message


def test_a_forked_checkpoint_is_detected(site: Any, petition: Petition) -> None:
    site()
    # A server that rewrote history and signed it with the same key (the
    # guard in publish_checkpoint is bypassed here on purpose).
    size = LogState.objects.get().size
    entries = [bytes(d) for d in LogEntry.objects.order_by("index").values_list("data", flat=True)]
    entries[3] = entries[3].replace(b"Person 2", b"Forged 2")
    entries.append(entries[-1])
    store = MemoryHashStore()
    for data in entries:
        store.append(data)
    LogHash.objects.all().delete()
    LogHash.objects.bulk_create(LogHash(index=i, hash=h) for i, h in enumerate(store.hashes))
    LogEntry.objects.filter(index=3).update(data=entries[3])
    extra = LogEntry.objects.get(index=size - 1)
    extra.pk = None
    extra.index, extra.receipt_key_hash = size, None
    extra.save()
    LogState.objects.update(size=size + 1)
    root = store.root(size + 1)
    note = sign_note(merkle.Checkpoint(signer().name, size + 1, root).to_text(), [signer()])
    SignedCheckpoint.objects.create(size=size + 1, root=root, note=note)
    code, message = code_of(site)
    assert code == 4 and "fork" in message
