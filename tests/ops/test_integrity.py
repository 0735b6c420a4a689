"""check-log and the backup's key check: each finds what it is there to find."""

from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from undersigned.ledger import services as ledger
from undersigned.ledger.models import LogEntry, LogHash, SignedCheckpoint
from undersigned.ops.integrity import check_log
from undersigned.ops.snapshot import compare_keys, key_fingerprints
from undersigned.petitions.models import Petition
from undersigned.signing import services as signing
from undersigned.signing.models import Signature
from undersigned.signing.tokens import new_token
from undersigned.tlog import merkle

pytestmark = pytest.mark.django_db


def add_verified(petition: Petition, n: int) -> None:
    for i in range(n):
        signature = signing.sign(
            petition, signing.SignRequest(full_name=f"Person {i}", email=f"p{i}@example.org")
        )
        raw, signature.confirm_token_hash = new_token()
        signature.save(update_fields=["confirm_token_hash"])
        signing.confirm(raw)
    ledger.integrate()


def test_an_honest_log_checks_clean_and_says_so(petition: Petition, capsys: Any) -> None:
    add_verified(petition, 5)
    report = check_log()
    assert report.problems == []
    assert report.size == 6 and report.last_checkpoint == 6
    assert report.verified == {petition.slug: 5}
    call_command("check-log")
    assert "log of 6 entries consistent with 1 signed checkpoint(s)" in capsys.readouterr().out


def test_an_altered_entry_is_found(petition: Petition) -> None:
    add_verified(petition, 3)
    entry = LogEntry.objects.get(index=2)
    LogEntry.objects.filter(pk=entry.pk).update(
        data=bytes(entry.data).replace(b"Person 1", b"Person 7")
    )
    problems = check_log().problems
    assert any("does not match the entries" in p for p in problems), problems
    with pytest.raises(CommandError, match="log problem"):
        call_command("check-log")


def test_a_damaged_stored_hash_is_found(petition: Petition) -> None:
    add_verified(petition, 3)
    LogHash.objects.filter(index=merkle.stored_hash_index(0, 1)).update(hash=b"\0" * 32)
    assert any("stored hash" in p for p in check_log().problems)


def test_a_missing_entry_is_found(petition: Petition) -> None:
    add_verified(petition, 3)
    LogEntry.objects.filter(index=1).update(index=None)
    assert any("log entry 1 is missing" in p for p in check_log().problems)


def test_rows_that_disagree_with_the_log_are_found(petition: Petition) -> None:
    add_verified(petition, 3)
    # A verified row changed behind the log's back (no removal entry).
    Signature.objects.filter(pk=Signature.objects.first().pk).update(state="withdrawn")
    problems = check_log().problems
    assert problems == [f"{petition.slug}: the log counts 3 verified, the rows 2"]


def test_a_checkpoint_not_signed_by_this_key_is_found(petition: Petition) -> None:
    add_verified(petition, 2)
    SignedCheckpoint.objects.update(note="not a signed note\n\n— nobody AAAA\n")
    assert any("does not verify" in p for p in check_log().problems)


def test_restoring_under_other_keys_is_refused_and_a_new_secret_key_only_warned(
    settings: Any,
) -> None:
    saved = key_fingerprints()
    assert compare_keys(saved) == ([], [])
    assert settings.SECRET_KEY not in str(saved) and settings.HASH_KEY not in str(saved)
    settings.SECRET_KEY = "another secret key " * 3
    refusals, warnings = compare_keys(saved)
    assert refusals == [] and "SECRET_KEY differs" in warnings[0]
    settings.HASH_KEY = "another hash key"
    settings.UNDERSIGNED_DATA_KEYS = ""
    refusals, _ = compare_keys(saved)
    assert any("UNDERSIGNED_HASH_KEY differs" in r for r in refusals)
    assert any("UNDERSIGNED_DATA_KEYS lacks 1 key" in r for r in refusals)
