"""In Debian's chromium: the live count changes the word after the number with the number,
in Russian's three plural forms, on the petition page and in the embed."""

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from pytest_django.live_server_helper import LiveServer

from tests.browser.conftest import TIMEOUT_MS
from tests.sharing.test_embeds import set_counts
from undersigned.petitions.models import Petition

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def russian_page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 390, "height": 900}, locale="ru-RU")
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.mark.parametrize("where", ["page", "embed"])
def test_the_word_follows_the_live_count_in_russian(
    russian_page: Page, live_server: LiveServer, petition: Petition, settings: Any, where: str
) -> None:
    settings.SHARING_LIVE_SECONDS = 1
    page = russian_page
    set_counts(petition, 1, 1)
    path = f"/p/{petition.slug}/" if where == "page" else f"/p/{petition.slug}/embed/"
    page.goto(live_server.url + path)
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    verified = page.locator("span.verified").first
    awaiting = page.locator("span.awaiting").first
    expect(verified).to_have_text("1 проверенная подпись")
    expect(awaiting).to_contain_text("1 ожидает проверки")

    for count, word, waiting in (
        (2, "проверенные подписи", "ожидают проверки"),
        (5, "проверенных подписей", "ожидают проверки"),
        (21, "проверенная подпись", "ожидает проверки"),
        (1234, "проверенные подписи", "ожидают проверки"),
    ):
        set_counts(petition, count, count)
        number = f"{count:,}".replace(",", "\xa0")
        expect(verified).to_have_text(f"{number} {word}")
        expect(awaiting).to_contain_text(f"{number} {waiting}")


def test_the_word_stays_in_english_when_the_count_changes(
    page: Page, live_server: LiveServer, petition: Petition, settings: Any
) -> None:
    settings.SHARING_LIVE_SECONDS = 1
    set_counts(petition, 1, 1)
    page.goto(f"{live_server.url}/p/{petition.slug}/embed/")
    set_counts(petition, 2, 3)
    expect(page.locator("span.verified")).to_have_text("2 verified")
    expect(page.locator("span.awaiting")).to_have_text("3 awaiting verification")
