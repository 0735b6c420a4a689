"""Each petition's count at the latest checkpoint is what that checkpoint's entries give.

ledger.CheckpointCount is moved in the transaction that signs a checkpoint;
the count JSON and the pages name it beside the live count (issue 13, §4),
with how many of them were entered from paper (issue 14, §4).
"""

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tests.conftest import confirm_now, make_petition
from undersigned.ledger.models import CheckpointCount, LogEntry, SignedCheckpoint
from undersigned.ledger.services import integrate, latest_checkpoint
from undersigned.petitions.models import Petition
from undersigned.signing import paper
from undersigned.signing import services as signing
from undersigned.signing.models import Signature
from undersigned.signing.paper import PaperLine
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


# ------------------------------------------------------------------ on paper


def on_paper(petition: Petition, moderator: User, name: str, *, shown: bool = True) -> Signature:
    return paper.enter_one(petition, PaperLine("Sheet 1", name, show_name=shown), moderator)


def stored_paper(petition: Petition) -> int:
    row = CheckpointCount.objects.filter(petition=petition).first()
    return row.paper if row else 0


@pytest.fixture
def moderator(petition: Petition) -> User:
    user = User.objects.create_user("mod", "mod@example.org", "pw-for-tests-only")
    petition.moderators.add(user)
    return user


def test_the_paper_count_at_each_checkpoint_is_the_recount_of_its_entries(
    petition: Petition, organiser: User, moderator: User
) -> None:
    other = make_petition(organiser, slug="other-petition")
    other.moderators.add(moderator)
    confirmed(petition, 1)
    sheet = [on_paper(petition, moderator, f"Paper {i}", shown=i % 2 == 0) for i in range(3)]
    on_paper(other, moderator, "Elsewhere")
    integrate()
    assert (stored(petition)[0], stored_paper(petition)) == (4, 3)
    signing.invalidate(sheet[0].pk, moderator, reason="Entered from paper by mistake")
    on_paper(petition, moderator, "Paper 3")
    # Recorded but not yet in a checkpoint: the stored figure is the checkpoint's.
    assert stored_paper(petition) == 3
    integrate()
    online = confirmed(petition, 2)
    signing.invalidate(online.pk, organiser, reason="forged")  # not on paper: no move
    integrate()
    counts = recomputed(latest_checkpoint().size)  # type: ignore[union-attr]
    for p in (petition, other):
        assert (stored(p)[0], stored_paper(p)) == (counts[p.slug].verified, counts[p.slug].paper)
    assert (stored(petition), stored_paper(petition)) == ((4, 0, 2), 3)
    assert stored_paper(other) == 1


@pytest.mark.django_db(transaction=True)
def test_the_migration_fills_the_paper_count_from_the_checkpoints_entries(
    petition: Petition, moderator: User
) -> None:
    confirmed(petition, 1)
    sheet = [on_paper(petition, moderator, f"Paper {i}") for i in range(3)]
    signing.invalidate(sheet[1].pk, moderator, reason="Entered from paper by mistake")
    integrate()
    on_paper(petition, moderator, "After the checkpoint")  # logged, in no checkpoint
    executor = MigrationExecutor(connection)
    executor.migrate([("ledger", "0005_witnessing")])
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    assert stored(petition) == (3, 0, 1)
    assert stored_paper(petition) == 2
    assert recomputed(latest_checkpoint().size)[petition.slug].paper == 2  # type: ignore[union-attr]
