"""Rejected submissions are public in their own list, with the reason; their text only when
the reason allows."""

import json
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests.conftest import make_petition
from tests.submissions import client_of, creator, draft, site_moderator
from undersigned.moderation import submissions as decide
from undersigned.petitions.models import Petition, Standard

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_supporters_needed(settings: Any) -> None:
    settings.SUPPORTERS_NEEDED = 0  # tests/petitions/test_support.py has them


def rejected(title: str, code: str, *, note: str = "", original: str = "", slug: str) -> Petition:
    citizen = creator(slug[:20])
    petition = draft(citizen, slug=slug, title=title, body=f"The text of {title}.")
    client_of(citizen).post(f"/dashboard/{petition.slug}/submit/")
    petition.refresh_from_db()
    decide.reject(
        petition,
        site_moderator(f"mod-{slug[:20]}"),
        standard=Standard.objects.get(code=code),
        note=note,
        original=original,
    )
    petition.refresh_from_db()
    return petition


@pytest.fixture
def site(organiser: User) -> dict[str, Petition]:
    return {
        "open": make_petition(organiser, slug="parks", title="More parks in Kupchino"),
        "duplicate": rejected(
            "Parks for Kupchino", "duplicate", original="parks", slug="parks-for-kupchino"
        ),
        "advert": rejected(
            "Buy our garden furniture", "advertising", note="A shop's offer.", slug="furniture"
        ),
        "defamatory": rejected(
            "Councillor Ivanov is a thief", "defamatory", note="Names him.", slug="ivanov-thief"
        ),
    }


def test_the_rejected_list_shows_each_with_its_reason(site: dict[str, Petition]) -> None:
    page = Client().get("/petitions/?state=rejected")
    assert page.status_code == 200
    html = page.content.decode()
    assert "3 petitions" in html
    assert "Parks for Kupchino" in html and "<strong>Rejected: A duplicate</strong>" in html
    assert "Buy our garden furniture" in html and "Rejected: Advertising or spam" in html
    # The defamatory one: listed, but only as its reason.
    assert "Rejected: Defamatory" in html
    assert "Ivanov" not in html and "thief" not in html
    assert "More parks in Kupchino" not in html


def test_rejected_petitions_are_not_under_all(site: dict[str, Petition]) -> None:
    html = Client().get("/petitions/?state=all").content.decode()
    assert "More parks in Kupchino" in html
    assert "Parks for Kupchino" not in html and "Rejected: Defamatory" not in html
    listed = json.loads(Client().get("/api/petitions").content)
    assert [item["slug"] for item in listed] == ["parks"]


def test_the_api_filters_rejected_too(site: dict[str, Petition]) -> None:
    listed = json.loads(Client().get("/api/petitions?state=rejected&sort=newest").content)
    by_slug = {item["slug"]: item for item in listed}
    hidden = site["defamatory"].slug
    assert set(by_slug) == {"parks-for-kupchino", "furniture", hidden}
    assert by_slug["furniture"]["title"] == "Buy our garden furniture"
    assert by_slug["furniture"]["states"] == ["rejected"] and by_slug["furniture"][
        "verified_count"
    ] == 0
    assert by_slug[hidden]["title"] == "" and "ivanov" not in hidden
    # Each says why, as the page does; a hiding standard keeps the note back too.
    assert by_slug["parks-for-kupchino"]["rejection"]["standard"] == "duplicate"
    assert by_slug["parks-for-kupchino"]["rejection"]["duplicate_of"] == "parks"
    assert by_slug["furniture"]["rejection"]["reason"] == "Advertising or spam"
    assert by_slug["furniture"]["rejection"]["note"] == "A shop's offer."
    assert by_slug[hidden]["rejection"]["standard"] == "defamatory"
    assert by_slug[hidden]["rejection"]["note"] == ""
    assert "Names him" not in json.dumps(listed)
    open_ones = json.loads(Client().get("/api/petitions").content)
    assert [item["rejection"] for item in open_ones] == [None]
    assert Client().get("/api/petitions?state=sideways").status_code == 422


def test_a_rejected_page_shows_the_reason_and_the_original(site: dict[str, Petition]) -> None:
    page = Client().get("/p/parks-for-kupchino/").content.decode()
    assert "Parks for Kupchino" in page and "The text of Parks for Kupchino." in page
    assert "Rejected: A duplicate" in page
    assert '<a href="/p/parks/">More parks in Kupchino</a>' in page
    assert 'name="robots" content="noindex"' in page
    assert "It was never published, and took no signatures." in page
    assert 'action="/p/parks-for-kupchino/sign/"' not in page
    advert = Client().get("/p/furniture/").content.decode()
    assert "Rejected: Advertising or spam" in advert and "A shop&#x27;s offer." in advert


def test_a_reason_that_hides_the_text_leaves_only_the_notice(site: dict[str, Petition]) -> None:
    petition = site["defamatory"]
    assert Client().get("/p/ivanov-thief/").status_code == 404
    page = Client().get(f"/p/{petition.slug}/").content.decode()
    assert "<h1>Rejected: Defamatory</h1>" in page
    assert "<title>Rejected petition" in page
    for hidden in ("Ivanov", "thief", "The text of", "Names him.", "Friends of Kolpino"):
        assert hidden not in page
    # In Russian too, with the standard's Russian wording.
    russian = Client(HTTP_ACCEPT_LANGUAGE="ru").get(f"/p/{petition.slug}/").content.decode()
    assert "<h1>Отклонена: Клевета</h1>" in russian


def test_rejected_texts_are_found_by_their_words_unless_hidden(site: dict[str, Petition]) -> None:
    found = Client().get("/petitions/?state=rejected&q=furniture").content.decode()
    assert "Buy our garden furniture" in found and "1 petition found" in found
    assert "No petition matches" in Client().get(
        "/petitions/?state=rejected&q=ivanov"
    ).content.decode()


def test_reindexing_every_petition_keeps_that_rule(site: dict[str, Petition]) -> None:
    """After a change of the folding, index_all rewrites the words: a rejected text's
    stay findable (it was never published), a hidden one's stay out."""
    from undersigned.petitions.search import index_all

    index_all()
    found = Client().get("/petitions/?state=rejected&q=furniture").content.decode()
    assert "Buy our garden furniture" in found
    assert "No petition matches" in Client().get(
        "/petitions/?state=rejected&q=ivanov"
    ).content.decode()


def test_nothing_of_a_rejected_petition_is_signed_or_shared(site: dict[str, Petition]) -> None:
    slug = site["advert"].slug
    anyone = Client()
    assert anyone.post(
        f"/p/{slug}/sign/",
        {"full_name": "Someone", "email": "someone@example.org", "visibility": "show"},
    ).status_code == 404
    for path in (
        f"/p/{slug}/signatories/",
        f"/api/petitions/{slug}",
        f"/p/{slug}/badge.svg",
        f"/data/p/{slug}/signatures-per-hour.csv",
    ):
        assert anyone.get(path).status_code == 404, path
