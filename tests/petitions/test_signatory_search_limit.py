"""A name search opens up to 20,000 sealed names: each client gets RATE_LIMIT_SEARCH of them."""

from typing import Any

import pytest
from django.test import Client

from tests.petitions.test_signatory_search import names_on, sign
from undersigned.petitions.models import Petition

pytestmark = pytest.mark.django_db


def test_searches_past_the_limit_are_refused_clearly_and_read_no_name(
    client: Client, petition: Petition, settings: Any, django_assert_max_num_queries: Any
) -> None:
    settings.RATE_LIMIT_SEARCH = "3/60"
    sign(petition, "Kseniya Lindstrem", "k@example.org")
    url = f"/p/{petition.slug}/signatories/"
    for _ in range(3):
        response = client.get(url, {"q": "Ksenia"})
        assert response.status_code == 200
        assert names_on(response.content.decode()) == ["Kseniya Lindstrem"]

    with django_assert_max_num_queries(3):  # the petition and its text, not one signature
        refused = client.get(url, {"q": "Ksenia"})
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 60
    page = refused.content.decode()
    assert "Too many searches from your connection." in page
    assert "Please try again in about 1 minute." in page
    assert "No search was made." in page
    assert names_on(page) == []
    assert 'value="Ksenia"' in page  # what was typed stays in the box

    # Reading the list page by page is no search, and stays open.
    listing = client.get(url)
    assert listing.status_code == 200
    assert names_on(listing.content.decode()) == ["Kseniya Lindstrem"]


def test_the_limit_is_per_client(client: Client, petition: Petition, settings: Any) -> None:
    settings.RATE_LIMIT_SEARCH = "1/60"
    url = f"/p/{petition.slug}/signatories/"
    assert client.get(url, {"q": "Anna"}, REMOTE_ADDR="192.0.2.1").status_code == 200
    assert client.get(url, {"q": "Anna"}, REMOTE_ADDR="192.0.2.1").status_code == 429
    assert client.get(url, {"q": "Anna"}, REMOTE_ADDR="198.51.100.7").status_code == 200


def test_the_limit_can_be_turned_off(client: Client, petition: Petition, settings: Any) -> None:
    settings.RATE_LIMIT_SEARCH = "0/60"
    url = f"/p/{petition.slug}/signatories/"
    assert all(client.get(url, {"q": "Anna"}).status_code == 200 for _ in range(40))


def test_the_russian_page_says_so_in_russian(
    client: Client, petition: Petition, settings: Any
) -> None:
    settings.RATE_LIMIT_SEARCH = "1/60"
    url = f"/p/{petition.slug}/signatories/"
    client.get(url, {"q": "Anna"}, HTTP_ACCEPT_LANGUAGE="ru")
    page = client.get(url, {"q": "Anna"}, HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "Слишком много поисков с вашего подключения." in page
