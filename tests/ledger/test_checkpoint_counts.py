"""Each petition's count at the latest checkpoint is what that checkpoint's entries give.

ledger.CheckpointCount is moved in the transaction that signs a checkpoint;
the count JSON and the pages name it beside the live count (issue 13, §4).
"""

import pytest
from django.contrib.auth.models import User

from tests.conftest import confirm_now, make_petition
from undersigned.ledger.models import CheckpointCount, LogEntry, SignedCheckpoint
from undersigned.ledger.services import integrate, latest_checkpoint
from undersigned.petitions.models import Petition
from undersigned.signing import services as signing
from undersigned.signing.models import Signature
from undersigned.signing.tokens import new_token
from undersigned.tlog import entries

pytestmark = pytest.mark.django_db


def confirmed(petition: Petition, i: int, show: bool = True) -> Signature:
    signature = signing.sign(
        petition,
        signing.SignRequest(full_name=f"Person {i}", email=f"p{i}@example.org", show_name=show),
    )
    return confirm_now(signature)


def withdraw(signature: Signature) -> None:
    raw, signature.withdraw_token_hash = new_token()
    signature.save(update_fields=["withdraw_token_hash"])
    signing.withdraw(raw)


def recomputed(size: int) -> dict[str, entries.PetitionCount]:
    rows = LogEntry.objects.filter(index__lt=size).order_by("index").values_list("index", "data")
    return entries.count((i, bytes(d)) for i, d in rows)


def stored(petition: Petition) -> tuple[int, int, int]:
    row = CheckpointCount.objects.filter(petition=petition).first()
    return (row.verified, row.withdrawn, row.invalidated) if row else (0, 0, 0)


def test_the_count_at_each_checkpoint_is_the_recount_of_its_entries(
    petition: Petition, organiser: User
) -> None:
    other = make_petition(organiser, slug="other-petition")
    signed = [confirmed(petition, i, show=i % 2 == 0) for i in range(5)]
    confirmed(other, 100)
    integrate()
    withdraw(signed[0])
    signing.invalidate(signed[1].pk, organiser, reason="forged")
    confirmed(petition, 5)
    # Recorded but not yet in a checkpoint: the stored counts are the checkpoint's.
    assert stored(petition) == (5, 0, 0)
    integrate()
    confirmed(petition, 6)
    integrate()
    size = latest_checkpoint().size  # type: ignore[union-attr]
    counts = recomputed(size)
    for p in (petition, other):
        want = counts[p.slug]
        assert stored(p) == (want.verified, want.withdrawn, want.invalidated)
    assert stored(petition) == (5, 1, 1)
    assert stored(other) == (1, 0, 0)


def test_a_petition_with_no_signature_in_the_log_has_no_row(petition: Petition) -> None:
    integrate()  # the petition's opening is in the checkpoint, and counts nothing
    assert SignedCheckpoint.objects.exists()
    assert not CheckpointCount.objects.filter(petition=petition).exists()


def test_nothing_moves_when_no_checkpoint_is_signed(petition: Petition) -> None:
    confirmed(petition, 1)
    integrate()
    integrate()  # the tree did not grow: no new checkpoint, the counts stay
    assert stored(petition) == (1, 0, 0)
