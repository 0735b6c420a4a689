"""GET /petitions/lookalike.json?title=…: public lookalikes for the form's script, rate limited."""

import json
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests.conftest import confirm_now, make_petition
from undersigned.petitions import services as petitions
from undersigned.petitions.models import Petition
from undersigned.signing import services as signing

pytestmark = pytest.mark.django_db

URL = "/petitions/lookalike.json"


@pytest.fixture
def deputies(organiser: User) -> Petition:
    petition = make_petition(
        organiser,
        slug="deputies",
        title="Депутатам муниципальных собраний",
        body="Просим вас поддержать жителей Колпино.",
    )
    for i in range(3):
        confirm_now(
            signing.sign(
                petition,
                signing.SignRequest(full_name=f"Signer {i}", email=f"s{i}@example.org"),
            )
        )
    make_petition(organiser, slug="parks", title="Save the parks of Kolpino")
    return petition


def answer(response: Any) -> dict[str, Any]:
    assert response["Content-Type"] == "application/json"
    data: dict[str, Any] = json.loads(response.content)
    return data


def test_a_transliterated_title_finds_the_petition_with_public_fields_only(
    client: Client, deputies: Petition
) -> None:
    response = client.get(URL, {"title": "deputatam munitsipalnykh sobraniy"})
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    assert answer(response) == {
        "lookalikes": [
            {
                "slug": "deputies",
                "title": "Депутатам муниципальных собраний",
                "url": "/p/deputies/",
                "states": [{"state": "open", "label": "Open"}],
                "verified": 3,
            }
        ]
    }
    # Nothing alike: an empty list, not an error.
    nothing = client.get(URL, {"title": "Night buses for Samara"})
    assert nothing.status_code == 200 and answer(nothing) == {"lookalikes": []}


def test_the_states_are_named_in_the_visitors_language(client: Client, deputies: Petition) -> None:
    petitions.close(deputies, deputies.organiser)
    response = client.get(
        URL, {"title": "Депутатам муниципальных собраний"}, HTTP_ACCEPT_LANGUAGE="ru"
    )
    (found,) = answer(response)["lookalikes"]
    assert found["states"] == [{"state": "closed", "label": "Сбор подписей закрыт"}]


def test_drafts_are_not_answered(client: Client, organiser: User) -> None:
    make_petition(organiser, slug="secret", title="Ремонт моста на улице Мельничной", publish=False)
    response = client.get(URL, {"title": "Ремонт моста на улице Мельничной"})
    assert answer(response) == {"lookalikes": []}


@pytest.mark.parametrize(
    ("params", "detail"),
    [
        ({}, "Give the title to compare, as ?title=…"),
        ({"title": "   "}, "Give the title to compare, as ?title=…"),
        ({"title": "x" * 201}, "A title has at most 200 characters."),
        ({"title": "!!! — ???"}, "The title has no letters or digits to compare."),
    ],
)
def test_bad_input_is_a_clear_400(
    client: Client, deputies: Petition, params: dict[str, str], detail: str
) -> None:
    response = client.get(URL, params)
    assert response.status_code == 400
    assert answer(response) == {"detail": detail}


def test_only_get_is_answered(client: Client, deputies: Petition) -> None:
    response = client.post(URL, {"title": "Депутатам"})
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"
    assert answer(response) == {"detail": "Only GET is answered here."}


def test_look_ups_past_the_limit_are_refused_and_counted_apart_from_name_searches(
    client: Client, deputies: Petition, settings: Any
) -> None:
    settings.RATE_LIMIT_SEARCH = "2/60"
    for _ in range(2):
        assert client.get(URL, {"title": "Депутатам собраний"}).status_code == 200
    refused = client.get(URL, {"title": "Депутатам собраний"})
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 60
    assert answer(refused) == {
        "detail": "Too many look-ups from your connection. Please try again in about 1 minute."
    }
    # Another client is not limited, and this one's name searches are left whole.
    other = client.get(URL, {"title": "Депутатам собраний"}, REMOTE_ADDR="198.51.100.7")
    assert other.status_code == 200
    signatories = f"/p/{deputies.slug}/signatories/"
    assert client.get(signatories, {"q": "Signer"}).status_code == 200


def test_the_limit_can_be_turned_off(client: Client, deputies: Petition, settings: Any) -> None:
    settings.RATE_LIMIT_SEARCH = "0/60"
    assert all(client.get(URL, {"title": "Депутатам"}).status_code == 200 for _ in range(40))
