from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from tests.conftest import link_in
from undersigned.petitions import services as petitions
from undersigned.petitions.models import Petition
from undersigned.signing.models import Signature

pytestmark = pytest.mark.django_db

State = Signature.State


def sign(client: Client, petition: Petition, email: str, **extra: str) -> None:
    data = {"full_name": "Anna Belova", "email": email, "visibility": "show", **extra}
    response = client.post(f"/p/{petition.slug}/sign/", data)
    assert response.status_code == 302, response.content.decode()


def test_opening_the_link_does_not_confirm(
    client: Client, petition: Petition, deliver: Any
) -> None:
    sign(client, petition, "anna@example.org")
    confirm = link_in(deliver().last_to("anna@example.org"), "confirm")
    # Mail scanners fetch links: a GET (even several) must change nothing.
    for _ in range(3):
        page = client.get(confirm)
        assert page.status_code == 200
        assert "Confirm my signature" in page.content.decode()
    assert Signature.objects.get().state == State.UNCONFIRMED
    assert petitions.counts(petition) == (0, 0)


def test_open_petition_verifies_on_confirmation(
    client: Client, petition: Petition, deliver: Any
) -> None:
    sign(client, petition, "anna@example.org")
    response = client.post(link_in(deliver().last_to("anna@example.org"), "confirm"))
    assert "Your signature is verified" in response.content.decode()
    signature = Signature.objects.get()
    assert signature.state == State.VERIFIED
    assert signature.confirmed_at and signature.verified_at
    assert signature.confirm_token_hash is None
    assert petitions.counts(petition) == (1, 0)


def test_a_link_works_once(client: Client, petition: Petition, deliver: Any) -> None:
    sign(client, petition, "anna@example.org")
    confirm = link_in(deliver().last_to("anna@example.org"), "confirm")
    assert client.post(confirm).status_code == 200
    again = client.post(confirm)
    assert again.status_code == 400
    assert "already been used" in again.content.decode()
    assert client.get(confirm).status_code == 400
    assert petitions.counts(petition) == (1, 0)


def test_an_expired_link_is_refused(client: Client, petition: Petition, deliver: Any) -> None:
    sign(client, petition, "anna@example.org")
    confirm = link_in(deliver().last_to("anna@example.org"), "confirm")
    Signature.objects.update(confirm_token_expires=timezone.now() - timedelta(seconds=1))
    response = client.post(confirm)
    assert response.status_code == 400
    assert "expired" in response.content.decode()
    assert Signature.objects.get().state == State.UNCONFIRMED
    # Signing again sends a fresh link that works.
    sign(client, petition, "anna@example.org")
    assert client.post(link_in(deliver().last_to("anna@example.org"), "confirm")).status_code == 200
    assert petitions.counts(petition) == (1, 0)


@pytest.mark.parametrize("token", ["nonsense", "x" * 43, "%00", "..", "a" * 5000])
def test_unknown_tokens_get_a_clear_page(client: Client, token: str, db: None) -> None:
    response = client.post(f"/confirm/{token}/")
    assert response.status_code in (400, 404)
    assert b"Traceback" not in response.content


def test_confirming_after_the_petition_closed_is_refused(
    client: Client, petition: Petition, organiser: Any, deliver: Any
) -> None:
    sign(client, petition, "anna@example.org")
    confirm = link_in(deliver().last_to("anna@example.org"), "confirm")
    petitions.close(petition, organiser)
    response = client.post(confirm)
    assert response.status_code == 400
    assert "closed" in response.content.decode()
    assert petitions.counts(petition) == (0, 0)


def claim(client: Client, letter: Petition, email: str, **extra: str) -> None:
    sign(client, letter, email, role="municipal deputy", **extra)


def test_register_letter_verifies_when_the_mail_went_to_the_official_address(
    client: Client, letter: Petition, deliver: Any
) -> None:
    claim(
        client,
        letter,
        "Lindstrem@Council.example.org",
        full_name="Ksenia Lindstrem",
        municipality="Semyonovsky",
    )
    client.post(link_in(deliver().last_to("lindstrem@council.example.org"), "confirm"))
    signature = Signature.objects.get()
    assert signature.state == State.VERIFIED
    assert signature.register_entry is not None
    assert signature.register_entry.full_name == "Kseniya Lindstrem"
    assert petitions.counts(letter) == (1, 0)
    regions = petitions.counts_by_region(letter)
    assert [(r.region, r.verified) for r in regions] == [("St Petersburg", 1)]
    assert regions[0].municipalities[0].municipality == "Semyonovsky"


def test_register_letter_from_another_address_goes_to_review(
    client: Client, letter: Petition, deliver: Any
) -> None:
    claim(
        client,
        letter,
        "xenia@mail.example.org",
        full_name="Xenia Lindstrom",
        municipality="Semenovsky",
    )
    response = client.post(link_in(deliver().last_to("xenia@mail.example.org"), "confirm"))
    assert "awaits verification" in response.content.decode()
    signature = Signature.objects.get()
    assert signature.state == State.NEEDS_REVIEW
    assert signature.register_entry is None
    assert petitions.counts(letter) == (0, 1)
    page = client.get(f"/p/{letter.slug}/").content.decode()
    assert "0</strong> verified" in page
    assert "1</strong> awaiting verification" in page
