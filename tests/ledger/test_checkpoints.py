"""The server never signs two checkpoints that contradict each other, crash or not."""

import json
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.db import transaction

from undersigned.ledger import services
from undersigned.ledger.keys import signer
from undersigned.ledger.models import LogEntry, LogHash, LogState, SignedCheckpoint
from undersigned.petitions.models import Petition
from undersigned.signing import services as signing
from undersigned.tlog import merkle
from undersigned.tlog.note import open_note

pytestmark = pytest.mark.django_db(transaction=True)


def add_verified(petition: Petition, n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        signature = signing.sign(
            petition, signing.SignRequest(full_name=f"Person {i}", email=f"p{i}@example.org")
        )
        from undersigned.signing.tokens import new_token

        raw, signature.confirm_token_hash = new_token()
        signature.save(update_fields=["confirm_token_hash"])
        signing.confirm(raw)


def parse(note: str) -> merkle.Checkpoint:
    text, _ = open_note(note, [signer().verifier()])
    return merkle.Checkpoint.parse(text)


def assert_all_consistent() -> None:
    """Every pair of signed checkpoints is proven consistent by the stored tree."""
    signed = [parse(c.note) for c in SignedCheckpoint.objects.order_by("size")]
    reader = services.DbHashReader()
    for old in signed:
        for new in signed:
            if old.size < new.size:
                merkle.check_tree(
                    merkle.prove_tree(new.size, old.size, reader),
                    new.size,
                    new.root_hash,
                    old.size,
                    old.root_hash,
                )


def test_each_growth_gets_one_consistent_checkpoint(petition: Petition) -> None:
    for round_ in range(4):
        add_verified(petition, 3, start=round_ * 3)
        services.integrate()
        assert services.publish_checkpoint() is None  # nothing new, nothing signed
    sizes = list(SignedCheckpoint.objects.order_by("size").values_list("size", flat=True))
    assert sizes == [4, 7, 10, 13]
    assert_all_consistent()


def test_a_crash_while_sequencing_leaves_nothing_half_written(petition: Petition) -> None:
    add_verified(petition, 3)
    real = merkle.stored_hashes
    calls = {"n": 0}

    def dies_on_third(*args: Any) -> list[bytes]:
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt("simulated kill")
        return real(*args)

    with (
        mock.patch.object(merkle, "stored_hashes", dies_on_third),
        pytest.raises(KeyboardInterrupt),
    ):
        services.integrate()
    assert not LogState.objects.filter(size__gt=0).exists()
    assert not LogHash.objects.exists()
    assert not LogEntry.objects.filter(index__isnull=False).exists()
    services.integrate()
    assert SignedCheckpoint.objects.get().size == 4
    assert_all_consistent()


def test_a_crash_after_signing_but_before_saving_re_signs_the_same_tree(
    petition: Petition, ledger_state: Path
) -> None:
    add_verified(petition, 2)
    services.sequence()
    with (
        mock.patch.object(SignedCheckpoint.objects, "create", side_effect=SystemExit("kill")),
        pytest.raises(SystemExit),
    ):
        services.publish_checkpoint()
    assert not SignedCheckpoint.objects.exists()
    remembered = json.loads(ledger_state.read_text())
    assert remembered["size"] == 3
    checkpoint = services.publish_checkpoint()
    assert checkpoint is not None and checkpoint.size == 3
    assert parse(checkpoint.note).root_hash == bytes(checkpoint.root)
    import base64

    assert base64.b64decode(remembered["root"]) == bytes(checkpoint.root)


def test_a_database_restored_from_an_old_backup_cannot_make_it_sign_a_fork(
    petition: Petition, ledger_state: Path
) -> None:
    add_verified(petition, 4)
    services.integrate()
    signed = SignedCheckpoint.objects.get()
    assert signed.size == 5
    # The database goes back to a backup taken at size 2 (the state file does not).
    with transaction.atomic():
        LogHash.objects.filter(index__gte=merkle.stored_hash_index(0, 2)).delete()
        LogEntry.objects.filter(index__gte=2).update(index=None, data=None)
        LogEntry.objects.filter(index__isnull=True).delete()
        LogState.objects.update(size=2)
        SignedCheckpoint.objects.all().delete()
    # New, different events arrive and are sequenced at the old indexes.
    add_verified(petition, 4, start=100)
    services.sequence()
    with pytest.raises(services.LedgerError, match="not consistent with checkpoint 5"):
        services.publish_checkpoint()
    assert not SignedCheckpoint.objects.exists()
    assert json.loads(ledger_state.read_text())["size"] == 5


def test_a_rewritten_stored_hash_stops_all_signing(petition: Petition) -> None:
    add_verified(petition, 3)
    services.integrate()
    # The stored hash of the first four leaves, which every later root is built on.
    LogHash.objects.filter(index=merkle.stored_hash_index(2, 0)).update(hash=b"\x00" * 32)
    add_verified(petition, 1, start=10)
    services.sequence()
    with pytest.raises(services.LedgerError):
        services.publish_checkpoint()
    assert SignedCheckpoint.objects.count() == 1


def test_a_state_file_of_another_key_is_ignored(petition: Petition, ledger_state: Path) -> None:
    ledger_state.write_text(json.dumps({"key": "other+00000000+AQ==", "size": 99, "root": ""}))
    add_verified(petition, 1)
    services.integrate()
    assert SignedCheckpoint.objects.get().size == 2
