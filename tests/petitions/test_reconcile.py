"""`reconcile`: proves the kept tallies equal the signature rows, reports and repairs drift."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import F

from undersigned.petitions import services as petitions
from undersigned.petitions.models import Petition, Tally
from undersigned.registers.models import RegisterEntry
from undersigned.signing import services as signing
from undersigned.signing.models import Signature
from undersigned.signing.tokens import new_token

pytestmark = pytest.mark.django_db


def sign(
    petition: Petition, name: str, email: str, *, confirm: bool = True, **place: str
) -> Signature:
    signature = signing.sign(petition, signing.SignRequest(full_name=name, email=email, **place))
    if not confirm:
        return signature
    raw, signature.confirm_token_hash = new_token()
    signature.save(update_fields=["confirm_token_hash"])
    return signing.confirm(raw)


def withdraw(signature: Signature) -> None:
    raw, signature.withdraw_token_hash = new_token()
    signature.save(update_fields=["withdraw_token_hash"])
    signing.withdraw(raw)


def reconcile(*args: str) -> str:
    out = StringIO()
    call_command("reconcile", *args, stdout=out)
    return out.getvalue()


def reconcile_failing(*args: str) -> tuple[CommandError, str]:
    out = StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("reconcile", *args, stdout=out)
    return raised.value, out.getvalue()


@pytest.fixture
def mixed_run(petition: Petition, letter: Petition) -> None:
    """Signatures in every state, moved there the way the site moves them."""
    deputy = {"role": "municipal deputy"}
    sign(petition, "Anna Belova", "a@example.org", region="St Petersburg", municipality="Kolpino")
    sign(petition, "Boris Vetrov", "b@example.org", region="St Petersburg", municipality="Kolpino")
    sign(petition, "Vera Gromova", "v@example.org")
    sign(petition, "Not Confirmed", "n@example.org", confirm=False, region="Moscow")
    withdraw(
        sign(petition, "Gleb Zorin", "g@example.org", region="Samara Oblast", municipality="Samara")
    )
    withdraw(sign(petition, "Never Confirmed", "nc@example.org", confirm=False))

    sign(
        letter,
        "Kseniya Lindstrem",
        "lindstrem@council.example.org",
        municipality="Semyonovsky",
        **deputy,
    )
    claim = sign(
        letter,
        "Gleb Zorin",
        "gleb@mail.example.org",
        municipality="Samara city",
        region="Samarskaya",
        **deputy,
    )
    signing.approve(
        claim.pk, letter.organiser, entry=RegisterEntry.objects.get(full_name="Gleb Zorin")
    )
    rejected = sign(
        letter, "Impostor Person", "imp@mail.example.org", municipality="Kolpino", **deputy
    )
    signing.reject(rejected.pk, letter.organiser, reason="Not on the register.")
    sign(letter, "Vera Orlova", "vera@mail.example.org", municipality="Yakutsk", **deputy)
    withdraw(
        sign(letter, "Dmitry Palyuga", "dp@mail.example.org", municipality="Smolninskoye", **deputy)
    )
    withdraw(
        sign(letter, "Anna Belova", "belova@council.example.org", municipality="Kolpino", **deputy)
    )
    # The mix really is mixed: every kind of state is present.
    assert set(Signature.objects.values_list("state", flat=True)) == {
        "verified",
        "unconfirmed",
        "withdrawn",
        "needs_review",
        "rejected",
    }
    assert petitions.counts(petition) == (3, 0)
    assert petitions.counts(letter) == (2, 1)


def test_a_mixed_run_reconciles(mixed_run: None) -> None:
    out = reconcile()
    assert out.strip() == "tallies match the rows for 2 petition(s)"
    assert reconcile("--petition", "deputies-letter").strip() == (
        "tallies match the rows for 1 petition(s)"
    )


def test_drift_is_reported_with_its_place_and_fixed(mixed_run: None, petition: Petition) -> None:
    Tally.objects.filter(petition=petition, region="St Petersburg", municipality="Kolpino").update(
        verified=F("verified") + 5
    )
    error, out = reconcile_failing()
    assert error.returncode == 1
    assert "1 tally drift(s) found" in str(error)
    assert out.splitlines() == [
        "clean-air St Petersburg/Kolpino: tally says 7 verified, 0 awaiting; "
        "rows say 2 verified, 0 awaiting",
    ]
    # The page shows the drifted number until it is fixed ...
    assert petitions.counts(petition) == (8, 0)

    error, out = reconcile_failing("--fix")
    assert error.returncode == 1
    assert "(fixed)" in str(error)
    assert "clean-air St Petersburg/Kolpino" in out
    assert petitions.counts(petition) == (3, 0)
    assert reconcile().strip() == "tallies match the rows for 2 petition(s)"


def test_a_tally_for_a_place_with_no_rows_and_a_lost_awaiting_count_are_found(
    mixed_run: None, letter: Petition
) -> None:
    Tally.objects.create(petition=letter, region="Moscow", municipality="Tverskoy", verified=2)
    Tally.objects.filter(petition=letter, awaiting__gt=0).update(awaiting=0)
    error, out = reconcile_failing("--petition", letter.slug)
    assert error.returncode == 1
    assert out.splitlines() == [
        "deputies-letter -/Yakutsk: tally says 0 verified, 0 awaiting; "
        "rows say 0 verified, 1 awaiting",
        "deputies-letter Moscow/Tverskoy: tally says 2 verified, 0 awaiting; "
        "rows say 0 verified, 0 awaiting",
    ]
    reconcile_failing("--petition", letter.slug, "--fix")
    assert petitions.counts(letter) == (2, 1)
    assert reconcile().strip() == "tallies match the rows for 2 petition(s)"


def test_checking_one_petition_leaves_the_others_alone(
    mixed_run: None, petition: Petition, letter: Petition
) -> None:
    Tally.objects.filter(petition=petition).update(verified=0)
    assert reconcile("--petition", letter.slug).strip() == (
        "tallies match the rows for 1 petition(s)"
    )
    error, out = reconcile_failing("--petition", petition.slug)
    assert error.returncode == 1 and out.startswith("clean-air ")
    assert petitions.counts(petition) == (0, 0)  # reporting alone changes nothing


def test_an_unknown_petition_is_a_clear_error(db: None) -> None:
    out = StringIO()
    with pytest.raises(CommandError, match="no petition with slug 'no-such-petition'"):
        call_command("reconcile", "--petition", "no-such-petition", stdout=out)
    assert out.getvalue() == ""


def test_no_petitions_reconcile_trivially(db: None) -> None:
    assert reconcile().strip() == "tallies match the rows for 0 petition(s)"
