"""The site as a phishing relay (issue 12, section 3).

The confirmation mail goes to whatever address is typed, so whatever else is
typed must not turn it into someone's message: a name holds no link or
markup, and the mails quote typed text only where it is needed, saying who
typed it.
"""

from typing import Any

import pytest
from django.test import Client

from tests.conftest import body_of, confirm_now, link_in
from undersigned.outbox.models import OutgoingMail
from undersigned.petitions.forms import FounderForm
from undersigned.petitions.models import Petition
from undersigned.signing import services as signing
from undersigned.signing.models import Signature

pytestmark = pytest.mark.django_db

LURES = [
    "see http://prize.example to claim your prize",
    "Claim your prize at www.prize.example",
    "Anna, your account is locked: prize-claims.com",
    "write to claims@prize.example",
    "Anna <a href=x>Belova</a>",
    "join t.me/prizes",
    "bit.ly/3xYz",
    "ｈｔｔｐｓ：／／prize",  # full width, which mail readers show as https://
    "приз на сайте приз.рф",
    "ехаmple.соm",  # Cyrillic letters that look Latin
    "192.0.2.7/claim",
]
REAL_NAMES = [
    "Anna Belova",
    "Анна Белова",
    "Пётр Иванов-Петров",
    "А.С. Пушкин",
    "J.R.R. Tolkien",
    "Mary-Ann O'Neil",
    "Jean d’Arc",
    "Ж.-П. Сартр",
    "Gerard 't Hooft",
    "Đorđe Balašević",
    "Dr.Ivanov",
    "Oksana Novaya (née Staraya)",
]


def form(**overrides: str) -> dict[str, str]:
    data = {"full_name": "Anna Belova", "email": "anna@example.org", "visibility": "show"}
    data.update(overrides)
    return data


@pytest.mark.parametrize("field", ["full_name", "role", "municipality", "region"])
@pytest.mark.parametrize("lure", LURES)
def test_a_link_or_markup_is_refused_in_every_field_the_mail_or_page_shows(
    client: Client, petition: Petition, field: str, lure: str
) -> None:
    response = client.post(f"/p/{petition.slug}/sign/", form(**{field: lure}))
    assert response.status_code == 400
    page = response.content.decode()
    assert "web or mail address" in page or "looks like it contains a web address" in page
    assert not Signature.objects.exists()
    assert not OutgoingMail.objects.exists()


@pytest.mark.parametrize("name", REAL_NAMES)
def test_real_names_are_taken_as_typed(client: Client, petition: Petition, name: str) -> None:
    response = client.post(
        f"/p/{petition.slug}/sign/",
        form(full_name=name, role="депутат МС МО «Колпино»", municipality="г.Колпино"),
    )
    assert response.status_code == 302, response.content.decode()
    assert Signature.objects.get().full_name == name


def test_places_written_with_abbreviations_are_taken(client: Client, letter: Petition) -> None:
    for n, place in enumerate(["г.Москва", "пос.Металлострой", "St.Petersburg", "MO Kolpino"]):
        response = client.post(
            f"/p/{letter.slug}/sign/",
            form(email=f"s{n}@example.org", role="municipal deputy", municipality=place),
        )
        assert response.status_code == 302, (place, response.content.decode())


def test_the_founder_form_and_the_service_refuse_a_lure_too(petition: Petition) -> None:
    founder = FounderForm({"full_name": LURES[0], "email": "k@example.org"})
    assert not founder.is_valid() and "full_name" in founder.errors
    with pytest.raises(signing.SigningError, match="web"):
        signing.sign(
            petition, signing.SignRequest(full_name="Anna", role=LURES[1], email="a@example.org")
        )
    assert not Signature.objects.exists()


def test_the_confirmation_mail_quotes_the_name_as_typed_by_whoever_filled_the_form(
    client: Client, petition: Petition, deliver: Any
) -> None:
    client.post(
        f"/p/{petition.slug}/sign/",
        form(role="municipal deputy", municipality="Kolpino", region="St Petersburg"),
    )
    text = body_of(deliver().last_to("anna@example.org")).replace("\r\n", "\n")
    assert text.startswith("Hello,\n")  # greets nobody by a name someone else may have typed
    assert (
        'someone — perhaps you — asked to sign "Clean air for Kolpino" with this address, '
        'under the name "Anna Belova" (as typed in the form).'
    ) in text.replace("\n", " ")
    # Only the name: the rest of what was typed is on the page the link opens.
    assert "municipal deputy" not in text and "Kolpino," not in text
    assert "St Petersburg" not in text


def test_a_founders_mail_says_the_organiser_typed_the_name(
    petition: Petition, organiser: Any, deliver: Any
) -> None:
    signing.sign(
        petition,
        signing.SignRequest(full_name="Kseniya Lindstrem", email="k@example.org"),
        added_by=organiser,
    )
    text = body_of(deliver().last_to("k@example.org")).replace("\r\n", "\n").replace("\n", " ")
    assert '"Kseniya Lindstrem" (as the organiser typed it)' in text


def test_the_decision_mail_quotes_nothing_typed(letter: Petition, deliver: Any) -> None:
    signature = signing.sign(
        letter,
        signing.SignRequest(
            full_name="Vera Orlova",
            email="vera@mail.example.org",
            role="municipal deputy",
            municipality="Yakutsk",
        ),
    )
    confirm_now(signature)
    signing.reject(signature.pk, letter.organiser, reason="Not on the register")
    text = body_of(deliver().last_to("vera@mail.example.org"))
    assert "Vera" not in text and "Yakutsk" not in text
    assert "could not accept it" in text


def test_the_confirmation_page_still_shows_every_detail_to_check(
    client: Client, petition: Petition, deliver: Any
) -> None:
    client.post(f"/p/{petition.slug}/sign/", form(role="municipal deputy"))
    page = client.get(link_in(deliver().last_to("anna@example.org"), "confirm"))
    assert "Anna Belova" in page.content.decode() and "municipal deputy" in page.content.decode()
