"""The count anyone recomputes from the public log equals the platform's tally."""

import random

import pytest
from django.contrib.auth.models import User

from tests.conftest import confirm_now
from undersigned.ledger.models import LogEntry
from undersigned.ops.management.commands.worker import run_once
from undersigned.petitions import services as petitions
from undersigned.petitions.models import Petition
from undersigned.signing import services as signing
from undersigned.signing.models import Signature
from undersigned.signing.tokens import new_token
from undersigned.tlog import entries

pytestmark = pytest.mark.django_db


def confirmed(petition: Petition, i: int, show: bool) -> Signature:
    signature = signing.sign(
        petition,
        signing.SignRequest(full_name=f"Person {i}", email=f"p{i}@example.org", show_name=show),
    )
    return confirm_now(signature)


def test_mixed_run_of_verifications_withdrawals_and_invalidations(
    petition: Petition, organiser: User
) -> None:
    rng = random.Random(7)
    live: list[Signature] = []
    number: dict[int, int] = {}  # signature -> i: a decided signature's address is sealed away
    for i in range(60):
        live.append(confirmed(petition, i, show=rng.random() < 0.5))
        number[live[-1].pk] = i
        roll = rng.random()
        if roll < 0.15 and live:
            victim = live.pop(rng.randrange(len(live)))
            raw, victim.withdraw_token_hash = new_token()
            victim.save(update_fields=["withdraw_token_hash"])
            signing.withdraw(raw)
        elif roll < 0.25 and live:
            victim = live.pop(rng.randrange(len(live)))
            signing.invalidate(victim.pk, organiser, reason="forged")
        if i % 17 == 0:
            run_once()  # checkpoints in the middle of the run, too
    # Someone signs again after withdrawing: a new verification, not a resurrection.
    again = Signature.objects.filter(state=Signature.State.WITHDRAWN).first()
    assert again is not None
    confirmed(petition, number[again.pk], show=True)
    run_once()
    data = list(LogEntry.objects.order_by("index").values_list("index", "data"))
    recomputed = entries.count((i, bytes(d)) for i, d in data)[petition.slug]
    verified, _ = petitions.counts(petition)
    rows = Signature.objects.filter(petition=petition, state=Signature.State.VERIFIED).count()
    assert recomputed.verified == verified == rows
    assert recomputed.withdrawn >= 1 and recomputed.invalidated >= 1


def test_invalidation_needs_a_reason_and_a_verified_signature(
    petition: Petition, organiser: User
) -> None:
    signature = confirmed(petition, 1, show=True)
    with pytest.raises(signing.SigningError, match="reason"):
        signing.invalidate(signature.pk, organiser, reason=" ")
    signing.invalidate(signature.pk, organiser, reason="forged")
    with pytest.raises(signing.SigningError, match="Only a verified"):
        signing.invalidate(signature.pk, organiser, reason="again")
    assert petitions.counts(petition) == (0, 0)
    run_once()
    last = entries.decode(bytes(LogEntry.objects.order_by("-index").first().data))  # type: ignore[union-attr]
    assert last.event == "signature.invalidated" and last.reason == "forged"


@pytest.mark.parametrize(
    "data",
    [
        b'{"v":NaN}',
        b"[" * 5000 + b"]" * 5000,
        b'{"event":"petition.closed","v":true}',
        b'{"event":"petition.closed","v":1.0}',
        b"\xff",
        b"[]",
        b'{"v":1}',
    ],
)
def test_malformed_entries_are_entry_errors(data: bytes) -> None:
    with pytest.raises(entries.EntryError):
        entries.decode(data)


def test_deleting_the_salts_leaves_the_log_and_its_counts_intact(petition: Petition) -> None:
    for i in range(6):
        confirmed(petition, i, show=i % 2 == 0)
    run_once()
    before = list(LogEntry.objects.order_by("index").values_list("index", "data"))
    Signature.objects.update(log_salt=None)  # what the retention purge does
    run_once()
    after = list(LogEntry.objects.order_by("index").values_list("index", "data"))
    assert [(i, bytes(d)) for i, d in before] == [(i, bytes(d)) for i, d in after]
    assert entries.count((i, bytes(d)) for i, d in after)[petition.slug].verified == 6
    # Without the salt nothing in the log names the hidden signers.
    text = b"".join(bytes(d) for _, d in after).decode()
    assert "Person 1" not in text and "Person 0" in text
