"""The pages show a register's name, places and roles in their language; the stored words stay.

The petition page (the register's name, the counts by place, the names by
place with their roles), the sign form's suggestions and the signatories
list show Register.translations' words; tallies, the public log and matching
keep the register's own (registers/terms.py).
"""

from typing import Any

import pytest
from django.test import Client

from tests.conftest import confirm_now
from tests.registers.test_register_terms import RU
from undersigned.ledger.models import LogEntry
from undersigned.petitions.models import Petition, Tally
from undersigned.registers.models import Register
from undersigned.signing import services as signing
from undersigned.signing.models import Signature

pytestmark = pytest.mark.django_db


@pytest.fixture
def translated(register: Register) -> Register:
    register.translations = RU
    register.full_clean()
    register.save()
    return register


def sign_verified(letter: Petition, name: str, email: str, **claim: str) -> Signature:
    signature = signing.sign(letter, signing.SignRequest(full_name=name, email=email, **claim))
    return confirm_now(signature)


def test_the_letter_in_russian_shows_the_registers_russian_words(
    letter: Petition, translated: Register
) -> None:
    # Kseniya's official address is on the register: she is verified on confirmation.
    sign_verified(
        letter,
        "Kseniya Lindstrem",
        "lindstrem@council.example.org",
        role="municipal deputy",
        municipality="Semyonovsky",
    )
    russian = Client(HTTP_ACCEPT_LANGUAGE="ru").get(f"/p/{letter.slug}/").content.decode()
    assert "«Депутаты»" in russian  # the register's name
    assert "Санкт-Петербург (1)" in russian  # the counts by place
    assert "<strong>Семёновский</strong>" in russian  # the names, by place
    assert "Kseniya Lindstrem, муниципальный депутат" in russian
    # The sign form suggests the register's roles in Russian (its places it does not
    # list: a place with one deputy is never named, docs/security.md).
    assert '<datalist id="role-suggestions"><option value="муниципальный депутат">' in russian
    assert "Самара" not in russian and "Якутск" not in russian
    for stored in ("St Petersburg", "Semyonovsky", "municipal deputy", "“Deputies”"):
        assert stored not in russian, stored

    english = Client().get(f"/p/{letter.slug}/").content.decode()
    assert "“Deputies”" in english and "St Petersburg (1)" in english
    assert "Kseniya Lindstrem, municipal deputy" in english
    assert "Санкт-Петербург" not in english and "Семёновский" not in english

    signatories = Client(HTTP_ACCEPT_LANGUAGE="ru").get(f"/p/{letter.slug}/signatories/")
    listed = signatories.content.decode()
    assert "<td>муниципальный депутат</td><td>Семёновский</td><td>Санкт-Петербург</td>" in listed


def test_a_signer_who_picks_the_russian_words_is_counted_under_the_registers(
    letter: Petition, translated: Register, deliver: Any
) -> None:
    response = Client(HTTP_ACCEPT_LANGUAGE="ru").post(
        f"/p/{letter.slug}/sign/",
        {
            "full_name": "Gleb Zorin",
            "email": "gleb@mail.example.org",
            "visibility": "show",
            "role": "муниципальный депутат",
            "municipality": "Самара",
            "region": "Самарская область",
        },
    )
    assert response.status_code == 302, response.content.decode()
    signature = Signature.objects.get()
    assert (signature.role, signature.municipality, signature.region) == (
        "municipal deputy",
        "Samara",
        "Samara Oblast",
    )
    confirm_now(signature)
    # Awaiting review, counted at the register's place, never at a translated one.
    places = set(Tally.objects.filter(petition=letter).values_list("region", "municipality"))
    assert places == {("Samara Oblast", "Samara")}


def test_the_log_keeps_the_registers_own_words(letter: Petition, translated: Register) -> None:
    sign_verified(
        letter,
        "Kseniya Lindstrem",
        "lindstrem@council.example.org",
        role="municipal deputy",
        municipality="Semyonovsky",
    )
    entry = LogEntry.objects.get(petition=letter, event="signature.verified")
    assert entry.payload["signer"] == {
        "name": "Kseniya Lindstrem",
        "role": "municipal deputy",
        "municipality": "Semyonovsky",
        "region": "St Petersburg",
    }
