"""The new-petition form shows the published petitions its title looks like, once, before saving."""

import re
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests.conftest import make_petition
from tests.petitions.test_organiser import draft_form
from undersigned.petitions.models import Petition

pytestmark = pytest.mark.django_db

URL = "/dashboard/new/"


@pytest.fixture
def benches(organiser: User) -> Petition:
    return make_petition(
        organiser,
        slug="benches",
        title="Скамейки для Колпино",
        body="Просим поставить скамейки вдоль реки.",
    )


def region(response: Any) -> str:
    """The lookalikes region of the page, as the server rendered it."""
    found = re.search(r'<div id="lookalikes".*?</div>', response.content.decode(), re.S)
    assert found, "the region is always on the form"
    return found.group(0)


def seen_value(response: Any) -> str:
    found = re.search(
        r'name="lookalikes_seen" id="lookalikes-seen" value="([^"]*)"', response.content.decode()
    )
    assert found
    return found.group(1)


def test_a_title_like_a_published_petition_shows_it_and_a_second_save_goes_through(
    organiser_client: Client, benches: Petition
) -> None:
    data = draft_form(title="Skameyki dlya Kolpino")
    shown = organiser_client.post(URL, data)
    assert shown.status_code == 200
    assert Petition.objects.count() == 1  # nothing saved yet
    listed = region(shown)
    assert 'aria-live="polite"' in listed
    assert "Petitions that look like yours" in listed
    # A plain link (same tab) that says the petition's state and count.
    assert '<a href="/p/benches/" lang="en">Скамейки для Колпино</a>' in listed
    assert "target=" not in listed
    assert '<span class="badge state-open">Open</span>' in listed
    assert "0 verified signatures" in listed
    assert "If yours asks for something else, save it again." in shown.content.decode()
    # What was typed stays in the form.
    assert 'value="Skameyki dlya Kolpino"' in shown.content.decode()
    assert seen_value(shown) == "Skameyki dlya Kolpino"

    saved = organiser_client.post(URL, {**data, "lookalikes_seen": seen_value(shown)})
    assert saved.status_code == 302
    assert Petition.objects.filter(status=Petition.Status.DRAFT).get().current_version().title == (
        "Skameyki dlya Kolpino"
    )


def test_a_changed_title_is_looked_at_again(organiser_client: Client, benches: Petition) -> None:
    data = draft_form(title="Benches for Kolpino parks")
    again = organiser_client.post(
        URL, {**data, "title": "Skameyki v Kolpino", "lookalikes_seen": "Benches for Kolpino parks"}
    )
    assert again.status_code == 200
    assert "/p/benches/" in region(again)
    assert Petition.objects.count() == 1


def test_a_title_like_no_petition_is_saved_at_once(
    organiser_client: Client, benches: Petition
) -> None:
    response = organiser_client.post(URL, draft_form(title="Night buses for Samara"))
    assert response.status_code == 302
    assert Petition.objects.count() == 2


def test_a_form_with_errors_shows_the_lookalikes_too(
    organiser_client: Client, benches: Petition
) -> None:
    response = organiser_client.post(URL, draft_form(title="Скамейки в Колпино", body=""))
    assert response.status_code == 400
    assert "/p/benches/" in region(response)
    assert Petition.objects.count() == 1


def test_without_lookalikes_the_region_is_empty_and_the_script_is_a_static_file(
    organiser_client: Client, benches: Petition
) -> None:
    page = organiser_client.get(URL)
    assert page.status_code == 200
    listed = region(page)
    assert 'data-url="/petitions/lookalike.json"' in listed
    assert 'data-count-one="%(n)s verified signature"' in listed
    assert 'data-count-other="%(n)s verified signatures"' in listed
    # Nothing inside: nothing appears or moves for a visitor without the script.
    assert re.sub(r"<div[^>]*>", "", listed).strip() == "</div>"
    text = page.content.decode()
    assert '<script src="/static/petitions/lookalike.js" defer></script>' in text
    assert "<script>" not in text  # nothing inline: the CSP allows none
    assert seen_value(page) == ""


def test_the_russian_form_says_it_in_russian(organiser_client: Client, benches: Petition) -> None:
    organiser_client.cookies["django_language"] = "ru"
    page = organiser_client.get(URL)
    listed = region(page)
    assert 'data-count-one="%(n)s проверенная подпись"' in listed
    assert 'data-count-few="%(n)s проверенные подписи"' in listed
    assert 'data-count-many="%(n)s проверенных подписей"' in listed
    shown = organiser_client.post(URL, draft_form(title="Skameyki dlya Kolpino", language="ru"))
    listed = region(shown)
    assert "Петиции, похожие на вашу" in listed
    assert "0 проверенных подписей" in listed


def test_editing_a_draft_checks_a_new_title_once_and_not_the_one_it_had(
    organiser_client: Client, organiser: User, benches: Petition
) -> None:
    draft = make_petition(
        organiser, slug="river", title="Clean the river banks", body="Litter.", publish=False
    )
    url = f"/dashboard/{draft.slug}/edit/"
    # Its own title again: saved at once.
    same = organiser_client.post(url, draft_form(title="Clean the river banks"))
    assert same.status_code == 302
    # A title like a published petition's: shown first, nothing saved.
    data = draft_form(title="Skameyki dlya Kolpino")
    shown = organiser_client.post(url, data)
    assert shown.status_code == 200
    assert '<a href="/p/benches/"' in region(shown)
    assert draft.current_version().title == "Clean the river banks"
    # Saved on the second try.
    again = organiser_client.post(url, {**data, "lookalikes_seen": seen_value(shown)})
    assert again.status_code == 302
    assert draft.current_version().title == "Skameyki dlya Kolpino"
