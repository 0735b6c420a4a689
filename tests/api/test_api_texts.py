"""GET /api/petitions/<slug> lists a petition's texts per language, beside the fields it had."""

import hashlib
import html
import json
import re
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from undersigned.petitions.models import Petition
from undersigned.petitions.translations import add_translation

pytestmark = pytest.mark.django_db


def detail(client: Client, petition: Petition) -> Any:
    response = client.get(f"/api/petitions/{petition.slug}")
    assert response.status_code == 200, response.content
    return json.loads(response.content)


def test_a_petition_in_one_language_lists_its_one_text(
    client: Client, petition: Petition
) -> None:
    original = petition.current_version()
    assert detail(client, petition)["texts"] == [
        {
            "language": "en",
            "version": 1,
            "title": "Clean air for Kolpino",
            "sha256": original.sha256,
            "original": True,
            "url": f"http://testserver/p/{petition.slug}/?lang=en",
        }
    ]


def test_each_translation_is_listed_and_the_old_fields_stay_the_originals(
    client: Client, petition: Petition, organiser: User
) -> None:
    before = detail(client, petition)
    russian = add_translation(
        petition, organiser, title="Чистый воздух для Колпино", body="Мы просим.", language="ru"
    )
    after = detail(client, petition)
    # Only the list of texts is new; title, language, text_version and text_sha256
    # are the original's, as they were.
    assert {k: v for k, v in after.items() if k != "texts"} == {
        k: v for k, v in before.items() if k != "texts"
    }
    assert [(t["language"], t["version"], t["original"]) for t in after["texts"]] == [
        ("en", 1, True),
        ("ru", 2, False),
    ]
    text = after["texts"][1]
    assert text["title"] == "Чистый воздух для Колпино"
    assert text["sha256"] == russian.sha256 == russian.compute_sha256()
    assert text["url"] == f"http://testserver/p/{petition.slug}/?lang=ru"
    # The address shows that text.
    page = client.get(text["url"]).content.decode()
    assert '<h1 lang="ru">Чистый воздух для Колпино</h1>' in page


def test_the_schema_describes_the_texts(client: Client, db: None) -> None:
    schema = json.loads(client.get("/api/openapi.json").content)
    text = schema["components"]["schemas"]["TextOut"]
    assert set(text["properties"]) == {"language", "version", "title", "sha256", "original", "url"}
    assert "texts" in schema["components"]["schemas"]["PetitionOut"]["required"]


def test_an_auditor_recomputes_each_texts_hash_from_its_page(
    client: Client, petition: Petition, organiser: User
) -> None:
    """docs/auditing.md, "Which text a signature signed": title, language, body from the page."""
    add_translation(
        petition,
        organiser,
        title="Чистый воздух & «честный» счёт",
        body="Первый абзац <не тег>.\n\nВторой абзац.",
        language="ru",
    )
    for text in detail(client, petition)["texts"]:
        page = client.get(text["url"]).content.decode()
        heading = re.search(r'<h1 lang="(\w+)">([^<]*)</h1>', page)
        body = re.search(r'<div class="letter" lang="\w+">([^<]*)</div>', page)
        assert heading and body
        title, language = html.unescape(heading.group(2)), heading.group(1)
        document = f"{title}\n{language}\n\n{html.unescape(body.group(1))}"
        assert hashlib.sha256(document.encode()).hexdigest() == text["sha256"]
