"""A petition in several languages: each translation is a frozen text version of its own.

An organiser adds a translation of the current text; on an open petition it
is published at once and entered in the log, on a draft it is published with
the petition. The page shows a visitor their language when there is a text
in it, else the original, says which is which and links to the others.
"""

import re
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client

from tests.conftest import make_petition
from undersigned.audit.models import AuditEvent
from undersigned.ledger.models import LogEntry
from undersigned.petitions import services as petitions
from undersigned.petitions.models import Petition, TextVersion
from undersigned.petitions.translations import add_translation
from undersigned.tlog import entries

pytestmark = pytest.mark.django_db

RUSSIAN_TITLE = "Чистый воздух для Колпино"
RUSSIAN_BODY = "Мы просим чистого воздуха."


def translate(petition: Petition, organiser: User, **changes: Any) -> TextVersion:
    fields = {"title": RUSSIAN_TITLE, "body": RUSSIAN_BODY, "language": "ru", **changes}
    return add_translation(petition, organiser, **fields)


def log_of(petition: Petition) -> list[tuple[str, str, int | None]]:
    return [
        (e.event, e.payload["text_sha256"], e.payload.get("version"))
        for e in LogEntry.objects.filter(petition=petition).order_by("pk")
    ]


def h1(response: Any) -> str:
    found = re.search(r'<h1 lang="(\w+)">([^<]*)</h1>', response.content.decode())
    assert found, response.content.decode()
    return f"{found.group(1)}: {found.group(2)}"


def test_a_translation_of_an_open_petition_is_a_frozen_version_in_the_log(
    petition: Petition, organiser: User
) -> None:
    original = petition.current_version()
    russian = translate(petition, organiser)
    assert (russian.number, russian.language, russian.title) == (2, "ru", RUSSIAN_TITLE)
    assert russian.published_at is not None
    assert russian.sha256 == russian.compute_sha256() != original.sha256
    # The log: the opening with the original, then the translation as a text version.
    assert log_of(petition) == [
        (entries.PETITION_OPENED, original.sha256, 1),
        (entries.PETITION_TEXT_VERSION, russian.sha256, 2),
    ]
    assert AuditEvent.objects.filter(
        petition=petition, action="petition.translation_published"
    ).exists()
    # Frozen like any published text: a change is a correction, a version of its own.
    russian.body = "Другой текст."
    with pytest.raises(ValueError, match="frozen"):
        russian.save()
    # The original stays the original and the petition's current text in English.
    assert petition.original_language() == "en"
    assert petition.current_version() == original
    assert petition.published_version("ru") == russian


def test_publishing_a_draft_publishes_all_its_translations(organiser: User) -> None:
    draft = make_petition(organiser, publish=False)
    saved = translate(draft, organiser, title="Черновик перевода")
    assert saved.published_at is None and not LogEntry.objects.exists()
    # A draft's translation can be saved again: still one version in its language.
    again = translate(draft, organiser)
    assert again.pk == saved.pk and again.title == RUSSIAN_TITLE
    assert list(draft.versions.values_list("number", "language")) == [(1, "en"), (2, "ru")]

    petitions.publish(draft, organiser)
    english, russian = draft.latest_texts()
    assert english.published_at == russian.published_at is not None
    assert log_of(draft) == [
        (entries.PETITION_OPENED, english.sha256, 1),
        (entries.PETITION_TEXT_VERSION, russian.sha256, 2),
    ]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"language": "en"}, "language the petition is written in"),
        ({"language": "de"}, "one of the site's languages"),
        ({"title": "  "}, "needs its title and its text"),
        ({"body": ""}, "needs its title and its text"),
        ({"title": "Т" * 201}, "longer than"),
    ],
)
def test_a_refused_translation_changes_nothing(
    petition: Petition, organiser: User, changes: dict[str, str], message: str
) -> None:
    before = log_of(petition)
    with pytest.raises(petitions.PetitionError, match=message):
        translate(petition, organiser, **changes)
    assert petition.versions.count() == 1
    assert log_of(petition) == before


def test_a_published_language_is_corrected_not_translated_again(
    petition: Petition, organiser: User
) -> None:
    russian = translate(petition, organiser)
    with pytest.raises(petitions.PetitionError, match="publish a correction"):
        translate(petition, organiser, title="Ещё один перевод")
    # A correction of one language is a new version of that language alone.
    corrected = petitions.new_version(
        petition,
        organiser,
        title="Чистый воздух для всего Колпино",
        body=RUSSIAN_BODY,
        language="ru",
        change_note="Весь район",
    )
    assert (corrected.number, corrected.language) == (3, "ru")
    assert petition.published_version("ru") == corrected != russian
    assert petition.published_version("en") == petition.current_version()
    assert [v.number for v in petition.latest_texts()] == [1, 3]


def test_a_correction_in_a_language_without_a_text_is_refused(
    petition: Petition, organiser: User
) -> None:
    with pytest.raises(petitions.PetitionError, match="add it as a translation"):
        petitions.new_version(
            petition,
            organiser,
            title=RUSSIAN_TITLE,
            body=RUSSIAN_BODY,
            language="ru",
            change_note="Перевод",
        )
    assert petition.versions.count() == 1


def test_a_closed_petition_takes_no_translation(petition: Petition, organiser: User) -> None:
    petitions.close(petition, organiser)
    with pytest.raises(petitions.PetitionError, match="draft or an open petition"):
        translate(petition, organiser)
    assert petition.versions.count() == 1


def test_the_page_shows_the_visitors_language_and_links_the_others(
    petition: Petition, organiser: User
) -> None:
    translate(petition, organiser)
    url = f"/p/{petition.slug}/"
    english = Client().get(url)
    assert h1(english) == "en: Clean air for Kolpino"
    page = english.content.decode()
    assert "Original" in page and "Translated from" not in page
    assert f'<a href="{url}?lang=ru" hreflang="ru" lang="ru">Русский</a>' in page
    assert f'<link rel="alternate" hreflang="ru" href="{settings.SITE_URL}{url}?lang=ru">' in page

    russian = Client(HTTP_ACCEPT_LANGUAGE="ru").get(url)
    assert h1(russian) == f"ru: {RUSSIAN_TITLE}"
    page = russian.content.decode()
    assert "Перевод с английского" in page
    assert RUSSIAN_BODY in page and "We ask for clean air." not in page
    assert f'<a href="{url}?lang=en" hreflang="en" lang="en">English</a>' in page

    # The switch: an English reader asks for the Russian text, and is told it is a translation.
    switched = Client().get(url, {"lang": "ru"})
    assert h1(switched) == f"ru: {RUSSIAN_TITLE}"
    assert "Translated from English" in switched.content.decode()
    # A language with no text, or nonsense, shows the visitor's language.
    for asked in ("de", "<script>"):
        assert h1(Client().get(url, {"lang": asked})) == "en: Clean air for Kolpino"


def test_a_petition_in_one_language_has_no_switch(client: Client, petition: Petition) -> None:
    page = client.get(f"/p/{petition.slug}/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert h1_text(page) == "Clean air for Kolpino"  # the original, as there is no other
    assert "text-languages" not in page and "Перевод с" not in page


def h1_text(page: str) -> str:
    found = re.search(r"<h1[^>]*>([^<]*)</h1>", page)
    assert found
    return found.group(1)


def test_the_page_lists_the_corrections_of_the_text_it_shows(
    petition: Petition, organiser: User
) -> None:
    translate(petition, organiser)
    petitions.new_version(
        petition,
        organiser,
        title="Чистый воздух для всего Колпино",
        body=RUSSIAN_BODY,
        language="ru",
        change_note="Весь район",
    )
    russian = Client(HTTP_ACCEPT_LANGUAGE="ru").get(f"/p/{petition.slug}/").content.decode()
    assert "Весь район" in russian
    # The translation is no correction of the English text.
    english = Client().get(f"/p/{petition.slug}/").content.decode()
    assert "Corrections" not in english and "Весь район" not in english


def test_the_listing_shows_each_reader_their_language(
    petition: Petition, organiser: User
) -> None:
    translate(petition, organiser)
    assert "Clean air for Kolpino" in Client().get("/petitions/").content.decode()
    russian = Client(HTTP_ACCEPT_LANGUAGE="ru").get("/petitions/").content.decode()
    assert f'lang="ru">{RUSSIAN_TITLE}</a>' in russian
    assert "Clean air for Kolpino" not in russian


def test_the_organiser_adds_a_translation_from_the_manage_page(
    organiser_client: Client, petition: Petition
) -> None:
    manage = organiser_client.get(f"/dashboard/{petition.slug}/").content.decode()
    assert "Add a translation" in manage
    response = organiser_client.post(
        f"/dashboard/{petition.slug}/translations/",
        {"language": "ru", "title": RUSSIAN_TITLE, "body": RUSSIAN_BODY},
        follow=True,
    )
    assert "Translation published as a text version of its own." in response.content.decode()
    assert petition.published_version("ru") is not None
    # Russian is published now: the form offers no language, so it is gone.
    assert "Add a translation" not in response.content.decode()
    refused = organiser_client.post(
        f"/dashboard/{petition.slug}/translations/",
        {"language": "ru", "title": "Другое", "body": "Другое."},
        follow=True,
    )
    assert petition.versions.count() == 2
    assert refused.status_code == 200  # back on the manage page, with the form's error


def test_someone_elses_petition_takes_no_translation_from_them(
    petition: Petition, db: None
) -> None:
    from tests.conftest import second_factor_login

    stranger = User.objects.create_user("stranger", "s@example.org", "x")
    client = second_factor_login(Client(), stranger)
    response = client.post(
        f"/dashboard/{petition.slug}/translations/",
        {"language": "ru", "title": RUSSIAN_TITLE, "body": RUSSIAN_BODY},
    )
    assert response.status_code == 404
    assert petition.versions.count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_cached_page_is_kept_per_language_of_the_text(
    petition: Petition, organiser: User, settings: Any
) -> None:
    """With the page cache on (requests outside a transaction, as in production):
    each language of the text has its page, shared by the visitors who read it."""
    settings.COUNT_CACHE_SECONDS = 60
    translate(petition, organiser)
    url = f"/p/{petition.slug}/"
    readers = [
        (Client(), {}, "en: Clean air for Kolpino"),
        (Client(HTTP_ACCEPT_LANGUAGE="ru"), {}, f"ru: {RUSSIAN_TITLE}"),
        (Client(), {"lang": "ru"}, f"ru: {RUSSIAN_TITLE}"),
        (Client(HTTP_ACCEPT_LANGUAGE="ru"), {"lang": "en"}, "en: Clean air for Kolpino"),
    ]
    for client, query, shown in readers * 2:  # the second round from the cache
        assert h1(client.get(url, query)) == shown
    # The switch's links are shared pages too: a second reader of ?lang=ru gets the
    # page rendered for the first, not one of their own.
    first, second = Client().get(url, {"lang": "ru"}), Client().get(url, {"lang": "ru"})
    assert second.context is None and h1(second) == h1(first)
    # Anything else in the query string is rendered for its request alone.
    assert Client().get(url, {"lang": "ru", "utm": "x"}).context is not None


def test_a_drafts_original_cannot_take_the_language_of_its_translation(
    organiser_client: Client, organiser: User
) -> None:
    from tests.petitions.test_organiser import draft_form

    draft = make_petition(organiser, publish=False)
    translate(draft, organiser)
    response = organiser_client.post(
        f"/dashboard/{draft.slug}/edit/", draft_form(title="Другой заголовок", language="ru")
    )
    assert response.status_code == 400
    assert "The draft has a translation in this language already." in response.content.decode()
    assert draft.current_version().title == "Clean air for Kolpino"
    assert list(draft.versions.values_list("language", flat=True)) == ["en", "ru"]
