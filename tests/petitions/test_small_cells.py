"""Small cells: no public count by place points at a signer who chose to be counted without
their name (docs/security.md, "Small cells").

A place's shown signers are listed by name, so a place's count alone tells how
many hidden signers it has: a municipality with one deputy and a count of one
names her. Every public count by place (the page's table, the region chart,
the JSON API) counts hidden signers at their place only where there are at
least SMALL_CELL_THRESHOLD of them (and, on a register letter, at least as
many of the place's register entries did not sign); the others are counted in
one "place not shown" number, so the regions and it still add up to the
headline count, which stays exact.
"""

import importlib
import json
import re
from io import StringIO
from typing import Any

import pytest
from django.apps import apps
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from tests.conftest import make_petition
from undersigned.petitions import services as petitions
from undersigned.petitions.models import Petition, Tally
from undersigned.registers.models import Register, RegisterEntry
from undersigned.registers.services import import_register
from undersigned.signing import services as signing
from undersigned.signing.models import Signature
from undersigned.signing.tokens import new_token

pytestmark = pytest.mark.django_db

UNPLACED = "Counted without their name, place not shown"


def sign(
    petition: Petition, name: str, email: str, *, show: bool = True, **place: str
) -> Signature:
    """Sign through the service and confirm as the signer would (an official address
    on a register letter verifies at once)."""
    signature = signing.sign(
        petition, signing.SignRequest(full_name=name, email=email, show_name=show, **place)
    )
    raw, signature.confirm_token_hash = new_token()
    signature.save(update_fields=["confirm_token_hash"])
    return signing.confirm(raw)


def api_places(client: Client, petition: Petition) -> tuple[dict[str, Any], Any, int]:
    detail = json.loads(client.get(f"/api/petitions/{petition.slug}").content)
    by_place = {
        (r["region"], m["municipality"]): m["verified"]
        for r in detail["counts_by_region"]
        for m in r["municipalities"]
    }
    return by_place, detail.get("verified_unplaced"), detail["verified_count"]


def table_rows(page: str) -> list[tuple[str, str]]:
    """(municipality, count) of the page's "Verified signatures by region" table."""
    table = page.split('id="regions-heading"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<td>([^<]*)</td><td>([\d,]+)</td>", table)
    unplaced = re.search(rf"{UNPLACED}</th><td>([\d,]+)</td>", table)
    return rows + ([(UNPLACED, unplaced.group(1))] if unplaced else [])


@pytest.fixture
def open_petition(petition: Petition) -> Petition:
    """Kolpino: two shown signers and one hidden one. Pushkin: one hidden signer only.
    Pavlovsk: two shown signers. One shown signer gave no place."""
    spb = {"region": "St Petersburg"}
    sign(petition, "Anna Belova", "anna@example.org", municipality="Kolpino", **spb)
    sign(petition, "Boris Vetrov", "boris@example.org", municipality="Kolpino", **spb)
    sign(petition, "Hidden One", "h1@example.org", show=False, municipality="Kolpino", **spb)
    sign(petition, "Hidden Two", "h2@example.org", show=False, municipality="Pushkin", **spb)
    sign(petition, "Vera Gromova", "vera@example.org", municipality="Pavlovsk", **spb)
    sign(petition, "Gleb Zorin", "gleb@example.org", municipality="Pavlovsk", **spb)
    sign(petition, "Dina Nikto", "dina@example.org")
    return petition


def test_a_lone_hidden_signer_is_in_no_place_anywhere(
    client: Client, open_petition: Petition
) -> None:
    by_place, unplaced, verified = api_places(client, open_petition)
    assert verified == 7
    # Kolpino shows its two listed signers, as Pavlovsk, with no hidden one, does:
    # the count cannot tell whether a hidden signer is behind it. Pushkin's only
    # signer is hidden, so Pushkin is not listed at all.
    assert by_place == {
        ("St Petersburg", "Kolpino"): 2,
        ("St Petersburg", "Pavlovsk"): 2,
        ("", ""): 1,
    }
    assert unplaced == 2
    assert sum(by_place.values()) + unplaced == verified

    page = client.get(f"/p/{open_petition.slug}/").content.decode()
    assert table_rows(page) == [("Kolpino", "2"), ("Pavlovsk", "2"), ("—", "1"), (UNPLACED, "2")]
    assert "Pushkin" not in page
    assert "St Petersburg (4)" in page  # the region is the sum of its rows
    # The region chart, and its text for screen readers, say the same.
    assert f"St Petersburg: 4; Region not given: 1; {UNPLACED}: 2." in page


def test_enough_hidden_signers_are_counted_at_their_place(
    client: Client, open_petition: Petition, settings: Any
) -> None:
    settings.SMALL_CELL_THRESHOLD = 3
    for i in range(2, 4):
        kolpino = {"region": "St Petersburg", "municipality": "Kolpino"}
        sign(open_petition, f"Hidden {i}", f"k{i}@example.org", show=False, **kolpino)
    by_place, unplaced, verified = api_places(client, open_petition)
    # Three hidden signers in Kolpino: its count is whole; Pushkin's one is not.
    assert by_place[("St Petersburg", "Kolpino")] == 5
    assert ("St Petersburg", "Pushkin") not in by_place
    assert unplaced == 1
    assert sum(by_place.values()) + unplaced == verified == 9


def test_a_threshold_of_zero_shows_every_count(
    client: Client, open_petition: Petition, settings: Any
) -> None:
    settings.SMALL_CELL_THRESHOLD = 0
    by_place, unplaced, _ = api_places(client, open_petition)
    assert by_place[("St Petersburg", "Kolpino")] == 3
    assert by_place[("St Petersburg", "Pushkin")] == 1
    assert unplaced == 0


# Four deputies in Kolpino and one in Yakutsk, each with the official address a
# confirmation verifies by.
COUNCIL_CSV = """full_name,role,municipality,region,email
Anna Belova,municipal deputy,Kolpino,St Petersburg,belova@council.example.org
Boris Vetrov,municipal deputy,Kolpino,St Petersburg,vetrov@council.example.org
Dina Nikto,municipal deputy,Kolpino,St Petersburg,nikto@council.example.org
Egor Krylov,municipal deputy,Kolpino,St Petersburg,krylov@council.example.org
Vera Orlova,municipal deputy,Yakutsk,Sakha (Yakutia),orlova@council.example.org
"""


@pytest.fixture
def council(organiser: User) -> Petition:
    result = import_register("Councils", COUNCIL_CSV.encode())
    assert result.ok, result.errors
    assert isinstance(result.register, Register)
    return make_petition(
        organiser, slug="council-letter", title="Letter of councils", register=result.register
    )


def deputy(letter: Petition, name: str, email: str, *, show: bool = True) -> Signature:
    signature = sign(letter, name, email, show=show, role="municipal deputy", municipality="x")
    assert signature.state == Signature.State.VERIFIED
    return signature


def test_a_municipality_with_one_deputy_does_not_name_her(
    client: Client, council: Petition
) -> None:
    deputy(council, "Vera Orlova", "orlova@council.example.org", show=False)
    deputy(council, "Anna Belova", "belova@council.example.org")
    by_place, unplaced, verified = api_places(client, council)
    assert by_place == {("St Petersburg", "Kolpino"): 1}
    assert (unplaced, verified) == (1, 2)
    page = client.get(f"/p/{council.slug}/").content.decode()
    assert "Yakutsk" not in page and "Sakha" not in page


def test_a_council_that_signed_whole_is_not_shown_whole(
    client: Client, council: Petition, settings: Any
) -> None:
    """Enough hidden signers, but too few of the register's people left who did not sign:
    "3 of Kolpino's 4 deputies, none listed" would say each of them very likely signed."""
    settings.SMALL_CELL_THRESHOLD = 2
    deputy(council, "Boris Vetrov", "vetrov@council.example.org", show=False)
    deputy(council, "Dina Nikto", "nikto@council.example.org", show=False)
    by_place, unplaced, _ = api_places(client, council)
    # Two hidden and two deputies who did not sign: both at least the threshold.
    assert by_place == {("St Petersburg", "Kolpino"): 2} and unplaced == 0
    deputy(council, "Egor Krylov", "krylov@council.example.org", show=False)
    by_place, unplaced, _ = api_places(client, council)
    # Three hidden, one who did not sign: Kolpino is not shown.
    assert by_place == {} and unplaced == 3


def test_the_tally_keeps_the_hidden_count_through_every_move(
    open_petition: Petition, letter: Petition
) -> None:
    def hidden_at(petition: Petition, municipality: str) -> tuple[int, int]:
        row = Tally.objects.get(petition=petition, municipality=municipality)
        return row.verified, row.verified_hidden

    assert hidden_at(open_petition, "Kolpino") == (3, 1)
    assert hidden_at(open_petition, "Pushkin") == (1, 1)
    hidden = Signature.objects.get(petition=open_petition, municipality="Pushkin")
    signing.invalidate(hidden.pk, open_petition.organiser, reason="A forgery.")
    assert hidden_at(open_petition, "Pushkin") == (0, 0)
    signing.reinstate(hidden.pk, open_petition.organiser, state=Signature.State.VERIFIED)
    assert hidden_at(open_petition, "Pushkin") == (1, 1)
    signing.withdraw_signature(hidden.pk)
    assert hidden_at(open_petition, "Pushkin") == (0, 0)

    # A claim approved by a moderator is counted at the register's place, hidden.
    claim = signing.sign(
        letter,
        signing.SignRequest(
            full_name="Gleb Zorin",
            email="gleb@mail.example.org",
            show_name=False,
            role="municipal deputy",
            municipality="Samara city",
        ),
    )
    raw, claim.confirm_token_hash = new_token()
    claim.save(update_fields=["confirm_token_hash"])
    signing.confirm(raw)
    gleb = RegisterEntry.objects.get(full_name="Gleb Zorin")
    signing.approve(claim.pk, letter.organiser, entry=gleb)
    assert hidden_at(letter, "Samara") == (1, 1)


def test_reconcile_finds_and_fixes_a_hidden_count_that_drifted(open_petition: Petition) -> None:
    Tally.objects.filter(petition=open_petition, municipality="Kolpino").update(verified_hidden=0)
    out = StringIO()
    with pytest.raises(CommandError, match="1 tally drift"):
        call_command("reconcile", "--fix", stdout=out)
    assert "St Petersburg/Kolpino" in out.getvalue()
    assert "hidden: tally says 0, rows say 1" in out.getvalue()
    assert Tally.objects.get(petition=open_petition, municipality="Kolpino").verified_hidden == 1
    call_command("reconcile", stdout=StringIO())


def test_the_migration_counts_the_hidden_signers_already_there(open_petition: Petition) -> None:
    Tally.objects.update(verified_hidden=0)
    migration = importlib.import_module(
        "undersigned.petitions.migrations.0004_tally_verified_hidden"
    )
    migration.fill(apps, None)
    assert dict(
        Tally.objects.filter(petition=open_petition).values_list("municipality", "verified_hidden")
    ) == {"Kolpino": 1, "Pushkin": 1, "Pavlovsk": 0, "": 0}


def test_the_counts_cached_for_pages_follow_the_same_rule(open_petition: Petition) -> None:
    places = petitions.cached_place_counts(open_petition)
    assert places.unplaced == 2
    assert [(r.region, r.verified) for r in places.regions] == [("St Petersburg", 4), ("", 1)]
