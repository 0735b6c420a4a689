"""`demo`'s open letter in its two languages: written in Russian, translated into English.

The Russian page is Russian throughout (its title, text, register, places and
roles), the English page English; the stored words stay the register's own.
"""

import re

import pytest
from django.core.management import call_command
from django.test import Client

from undersigned.core import demo_data
from undersigned.ledger.models import LogEntry
from undersigned.ops.management.commands.demo import LETTER_SLUG
from undersigned.petitions.models import Petition, Tally
from undersigned.tlog import entries

pytestmark = pytest.mark.django_db

RU = demo_data.REGISTER_TRANSLATIONS["ru"]


@pytest.fixture
def letter(db: None) -> Petition:
    from io import StringIO

    call_command("demo", stdout=StringIO())
    return Petition.objects.get(slug=LETTER_SLUG)


def page(language: str, query: str = "") -> str:
    response = Client(HTTP_ACCEPT_LANGUAGE=language).get(f"/p/{LETTER_SLUG}/{query}")
    assert response.status_code == 200
    return response.content.decode()


def test_the_letter_is_russian_first_with_an_english_translation(letter: Petition) -> None:
    original, english = letter.latest_texts()
    assert (original.number, original.language, original.title) == (
        1,
        "ru",
        demo_data.LETTER_TITLE_RU,
    )
    assert (english.language, english.title) == ("en", demo_data.LETTER_TITLE)
    assert original.published_at and english.published_at
    # Both are in the log as text versions of their own, each with its hash.
    logged = {
        e.payload["text_sha256"]: e.event for e in LogEntry.objects.filter(petition=letter)
    }
    assert logged[original.sha256] == entries.PETITION_OPENED
    assert logged[english.sha256] == entries.PETITION_TEXT_VERSION


def test_the_russian_page_is_russian(letter: Petition) -> None:
    html = page("ru")
    assert f'<h1 lang="ru">{demo_data.LETTER_TITLE_RU}</h1>' in html
    assert "Мы — муниципальные депутаты." in html
    assert "Оригинал" in html
    assert f"«{RU['name']}»" in html or f"“{RU['name']}”" in html
    for word in ("Санкт-Петербург", "Семёновский", "муниципальный депутат"):
        assert word in html, word
    # None of the English words of the letter or its register.
    for english in (
        demo_data.LETTER_TITLE,
        "We are municipal deputies",
        "Municipal deputies (demo)",
        "St Petersburg",
        "Semyonovsky",
        "municipal deputy",
        "deputy of",
    ):
        assert english not in html, english


def test_the_english_page_is_english(letter: Petition) -> None:
    html = page("en")
    assert f'<h1 lang="en">{demo_data.LETTER_TITLE}</h1>' in html
    assert "Translated from Russian" in html
    assert "Municipal deputies (demo)" in html
    for word in ("St Petersburg", "Semyonovsky", "municipal deputy"):
        assert word in html, word
    # The page's own words: no Cyrillic but the name of the language to switch to.
    text = re.sub(r"<[^>]+>", " ", html.split("<main", 1)[1])
    cyrillic = set(re.findall(r"[А-Яа-яЁё][А-Яа-яЁё ()-]*[А-Яа-яЁё)]", text))
    assert cyrillic <= {"Русский"}, cyrillic


def test_the_switch_shows_the_original_to_an_english_reader(letter: Petition) -> None:
    html = page("en", "?lang=ru")
    assert f'<h1 lang="ru">{demo_data.LETTER_TITLE_RU}</h1>' in html
    assert "Original" in html
    assert f'href="/p/{LETTER_SLUG}/?lang=en"' in html


def test_tallies_keep_the_registers_own_words(letter: Petition) -> None:
    regions = set(Tally.objects.filter(petition=letter).values_list("region", flat=True))
    assert "St Petersburg" in regions
    assert not regions & set(RU["regions"].values())
