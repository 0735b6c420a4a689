"""A visitor switches the site to Russian with the visible switch, then signs and confirms in it."""

import re
from collections.abc import Iterator
from email.header import decode_header, make_header
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from pytest_django.live_server_helper import LiveServer

from tests.browser.conftest import TIMEOUT_MS
from tests.browser.test_sign_flow import confirm_url, count
from undersigned.petitions import services as petitions
from undersigned.petitions.models import Petition
from undersigned.signing.models import Signature

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def no_script_page(browser: Browser) -> Iterator[Page]:
    """A browser with JavaScript turned off: the switch is a plain form."""
    context = browser.new_context(
        viewport={"width": 390, "height": 900}, locale="en-GB", java_script_enabled=False
    )
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


def test_switch_to_russian_then_sign_and_confirm_in_russian(
    page: Page, live_server: LiveServer, petition: Petition, deliver: Any, settings: Any
) -> None:
    settings.SITE_URL = live_server.url
    petition_url = f"{live_server.url}/p/{petition.slug}/"
    page.goto(petition_url)
    # The browser asks for English (en-GB): the site starts in English.
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("button", name="Sign", exact=True)).to_be_visible()

    page.get_by_role("button", name="Русский").click()
    expect(page).to_have_url(petition_url)
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    expect(page.get_by_role("button", name="Русский")).to_have_attribute("aria-current", "true")
    # The interface is Russian; the petition's own text stays English, and says so.
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text("Clean air for Kolpino")
    expect(heading).to_have_attribute("lang", "en")
    expect(page.locator("#counts")).to_contain_text("0 проверенных подписей")
    expect(count(page, "verified")).to_have_text("0")

    page.get_by_label("Имя и фамилия").fill("Анна Белова")
    page.get_by_label("Эл. почта", exact=True).fill("anna@example.org")
    show = page.get_by_label("Показывать моё имя")
    show.check()
    expect(show).to_be_checked()
    page.get_by_role("button", name="Подписать", exact=True).click()

    expect(page.get_by_role("heading", name="Проверьте почту")).to_be_visible()
    assert Signature.objects.get().language == "ru"

    inbox = deliver()
    message = inbox.last_to("anna@example.org")
    subject = str(make_header(decode_header(message["Subject"])))
    assert subject == "Подтвердите подпись: Clean air for Kolpino"
    page.goto(confirm_url(inbox, "anna@example.org", live_server))
    expect(page.get_by_role("heading", name="Подтвердите подпись")).to_be_visible()
    expect(page.get_by_text("как Анна Белова")).to_be_visible()
    assert petitions.counts(petition) == (0, 0)

    page.get_by_role("button", name="Подтвердить подпись").click()
    expect(page.get_by_role("heading", name="Ваша подпись проверена")).to_be_visible()
    assert petitions.counts(petition) == (1, 0)

    page.get_by_role("link", name="Открыть петицию").click()
    expect(page).to_have_url(petition_url)
    expect(count(page, "verified")).to_have_text("1")
    expect(page.locator("#counts")).to_contain_text("1 проверенная подпись")
    expect(page.locator("section.signatories li")).to_have_text(["Анна Белова"])


def test_the_switch_works_without_javascript(
    no_script_page: Page, live_server: LiveServer, petition: Petition
) -> None:
    page = no_script_page
    page.goto(f"{live_server.url}/p/{petition.slug}/signatories/?q=Anna")
    page.get_by_role("button", name="Русский").click()
    # Back on the same page, with the search it showed, now in Russian.
    expect(page).to_have_url(re.compile(rf"/p/{petition.slug}/signatories/\?q=Anna$"))
    expect(page.get_by_role("button", name="Найти")).to_be_visible()
    expect(page.get_by_label("Найти имя")).to_have_value("Anna")

    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("button", name="Search")).to_be_visible()


def test_the_demo_letter_reads_in_russian_and_switches_to_its_english_translation(
    demo_site: str, open_page: Any
) -> None:
    """The demo's letter was written in Russian: a Russian reader sees it all in Russian,
    switches to the English translation with a plain link, and signs that text."""
    from undersigned.core import demo_data
    from undersigned.ops.management.commands.demo import LETTER_SLUG

    page = open_page(390, locale="ru-RU")
    url = f"{demo_site}/p/{LETTER_SLUG}/"
    page.goto(url)
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text(demo_data.LETTER_TITLE_RU)
    expect(heading).to_have_attribute("lang", "ru")
    languages = page.get_by_role("navigation", name="Языки текста")
    expect(languages).to_contain_text("Оригинал")
    expect(page.locator("article")).to_contain_text("«Муниципальные депутаты (демо)»")
    regions = page.get_by_role("region", name="Проверенные подписи по регионам")
    expect(regions).to_contain_text("Санкт-Петербург")
    expect(regions).to_contain_text("Семёновский")
    expect(page.locator("section.signatories")).to_contain_text("муниципальный депутат")
    expect(page.locator("section.signatories")).not_to_contain_text("municipal deputy")

    languages.get_by_role("link", name="English").click()
    expect(page).to_have_url(f"{url}?lang=en")
    expect(heading).to_have_text(demo_data.LETTER_TITLE)
    expect(heading).to_have_attribute("lang", "en")
    expect(page.get_by_role("navigation", name="Языки текста")).to_contain_text(
        "Перевод с русского"
    )
    # The interface stays Russian; the signer signs the English text they read.
    page.get_by_label("Имя и фамилия").fill("Kseniya Lindstrem")
    page.get_by_label("Эл. почта", exact=True).fill("kseniya@mail.example.org")
    page.get_by_label("Должность").fill("муниципальный депутат")
    page.get_by_label("Муниципалитет").fill("Семёновский")
    page.get_by_role("button", name="Подписать", exact=True).click()
    expect(page.get_by_role("heading", name="Проверьте почту")).to_be_visible()
    signature = Signature.objects.filter(petition__slug=LETTER_SLUG).with_email(
        "kseniya@mail.example.org"
    ).get()
    assert signature.text_version.language == "en"
    assert signature.text_version.title == demo_data.LETTER_TITLE
    # Recorded under the register's own words, as the register and the log have them.
    assert (signature.role, signature.municipality) == ("municipal deputy", "Semyonovsky")
