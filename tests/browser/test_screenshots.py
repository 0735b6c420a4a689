"""The README's screenshots: the demo's fictional letter and petition, photographed on every
browser run at phone and desktop widths into docs/screenshots/, each page first checked
for what it must show."""

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from PIL import Image
from playwright.sync_api import Locator, Page, expect
from pytest_django.live_server_helper import LiveServer

from tests.browser.conftest import DESKTOP, PHONE, REPO, SCREENSHOTS
from tests.browser.test_sign_flow import confirm_url, count
from tests.conftest import second_factor_login
from undersigned.core import demo_data
from undersigned.ops.management.commands.demo import LETTER_SLUG, PETITION_SLUG
from undersigned.petitions import services as petitions
from undersigned.petitions.models import Petition
from undersigned.signing.models import Signature

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OpenPage = Callable[..., Page]
# Every picture this module takes; the README shows some and links the rest.
SHOTS = {
    "home-desktop",
    "home-phone",
    "petition-desktop",
    "petition-phone",
    "petition-ru-phone",
    "sign-error-phone",
    "confirm-phone",
    "confirmed-phone",
    "receipt-phone",
    "log-desktop",
    "moderation-desktop",
    # The petitions office (tests/browser/test_petition_cycle.py).
    "support-phone",
    "submissions-desktop",
    "submission-review-desktop",
    "rejected-desktop",
    "answers-desktop",
    "update-mail-desktop",
    "letter-ru-submission-desktop",
    "paper-sheet-ru-desktop",
    "letter-ru-paper-phone",
}


def save(target: Page | Locator, name: str, *, full_page: bool = False) -> None:
    """A PNG in docs/screenshots/, in 256 colours: a third of the bytes, alike to the eye."""
    assert name in SHOTS, name
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    if isinstance(target, Page):
        target.screenshot(path=str(path), full_page=full_page, animations="disabled")
    else:
        target.screenshot(path=str(path), animations="disabled")
    with Image.open(path) as shot:
        small = shot.convert("RGB").quantize(colors=256, dither=Image.Dither.NONE)
    small.save(path, optimize=True)


def numbers(slug: str) -> tuple[str, str]:
    verified, awaiting = petitions.counts(Petition.objects.get(slug=slug))
    assert verified > 0, "the demo has signatures to show"
    return str(verified), str(awaiting)


def test_home_page(demo_site: str, open_page: OpenPage) -> None:
    for width, name in ((DESKTOP, "home-desktop"), (PHONE, "home-phone")):
        page = open_page(width)
        page.goto(demo_site + "/")
        expect(page.get_by_role("heading", level=1)).to_have_text("Open petitions and letters")
        for title, slug in (
            (demo_data.LETTER_TITLE, LETTER_SLUG),
            (demo_data.PETITION_TITLE, PETITION_SLUG),
        ):
            card = page.locator("article").filter(has=page.get_by_role("link", name=title))
            expect(card.locator(".verified strong")).to_have_text(numbers(slug)[0])
        save(page, name, full_page=width == PHONE)


def test_the_open_letter_in_english_and_russian(demo_site: str, open_page: OpenPage) -> None:
    verified, awaiting = numbers(LETTER_SLUG)
    assert int(awaiting) > 0, "the letter shows both counts"
    url = f"{demo_site}/p/{LETTER_SLUG}/"
    for width, locale, name in (
        (DESKTOP, "en-GB", "petition-desktop"),
        (PHONE, "en-GB", "petition-phone"),
        (PHONE, "ru-RU", "petition-ru-phone"),
    ):
        page = open_page(width, locale=locale)
        page.goto(url)
        # Written in Russian, shown in English to an English reader (its translation).
        title = demo_data.LETTER_TITLE_RU if locale == "ru-RU" else demo_data.LETTER_TITLE
        expect(page.get_by_role("heading", level=1)).to_have_text(title)
        expect(count(page, "verified")).to_have_text(verified)
        expect(count(page, "awaiting")).to_have_text(awaiting)
        if locale == "ru-RU":
            expect(page.locator("html")).to_have_attribute("lang", "ru")
            expect(page.locator("#counts")).to_contain_text(f"{verified} проверенных подписей")
            sign = page.get_by_role("heading", name="Подписать как человек из реестра")
        else:
            sign = page.get_by_role("heading", name="Sign as a person on the register")
        expect(sign).to_be_visible()
        expect(page.locator(".sharing-charts svg.chart-time")).to_be_visible()
        save(page, name, full_page=width == PHONE)


def test_the_sign_form_with_a_mistake(demo_site: str, open_page: OpenPage) -> None:
    page = open_page(PHONE)
    page.goto(f"{demo_site}/p/{PETITION_SLUG}/")
    page.get_by_label("Full name").fill("Marina Sokolova")
    page.get_by_label("Email", exact=True).fill("marina.sokolova@")
    page.get_by_role("button", name="Sign", exact=True).click()
    form = page.locator("#sign")
    expect(form.get_by_role("alert")).to_contain_text("Enter a valid email address.")
    expect(page.get_by_label("Full name")).to_have_value("Marina Sokolova")
    save(form, "sign-error-phone")


def test_signing_confirming_and_the_receipt(
    demo_site: str, open_page: OpenPage, deliver: Any, live_server: LiveServer
) -> None:
    before = int(numbers(PETITION_SLUG)[0])
    page = open_page(PHONE)
    page.goto(f"{demo_site}/p/{PETITION_SLUG}/")
    page.get_by_label("Full name").fill("Marina Sokolova")
    page.get_by_label("Email", exact=True).fill("marina@example.org")
    page.get_by_role("button", name="Sign", exact=True).click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()

    page.goto(confirm_url(deliver(), "marina@example.org", live_server))
    expect(page.get_by_role("heading", name="Confirm your signature")).to_be_visible()
    expect(page.get_by_text("as Marina Sokolova")).to_be_visible()
    save(page, "confirm-phone", full_page=True)

    page.get_by_role("button", name="Confirm my signature").click()
    expect(page.get_by_role("heading", name="Your signature is verified")).to_be_visible()
    assert petitions.counts(Petition.objects.get(slug=PETITION_SLUG))[0] == before + 1
    save(page, "confirmed-phone", full_page=True)

    deliver()  # the worker puts the signature into a signed checkpoint
    page.get_by_role("link", name="Get your receipt").click()
    expect(page.get_by_role("heading", name="Your receipt")).to_be_visible()
    newest = Signature.objects.order_by("-pk").first()
    assert newest is not None
    entry = newest.log_entries.get()
    expect(page.locator("main strong").first).to_have_text(str(entry.index))
    save(page, "receipt-phone", full_page=True)


def test_the_public_log(demo_site: str, open_page: OpenPage) -> None:
    page = open_page(DESKTOP)
    page.goto(f"{demo_site}/log/")
    expect(page.get_by_role("heading", level=1)).to_have_text("The public log")
    entries = page.get_by_role("region", name="Entries").locator("tbody tr")
    expect(entries).not_to_have_count(0)
    # Newest first, in words: the letter's 18 founders, the petition's 40 signers
    # and the two openings are all in, so the newest entry's index is at least 59.
    assert int(entries.first.locator("th").inner_text()) >= 18 + 40 + 2 - 1
    expect(entries.filter(has_text="Signature verified").first).to_be_visible()
    # The newest checkpoint holds them all.
    checkpoints = page.locator("table").last.locator("tbody tr")
    assert int(checkpoints.first.locator("td").first.inner_text()) >= 18 + 40 + 2
    save(page, "log-desktop")


def test_the_moderators_queue(demo_site: str, open_page: OpenPage) -> None:
    moderator = User.objects.get(username="moderator")
    session = second_factor_login(Client(), moderator).cookies["sessionid"].value
    page = open_page(DESKTOP, cookies=[{"name": "sessionid", "value": session, "url": demo_site}])
    page.goto(f"{demo_site}/moderation/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Signatures awaiting verification")
    waiting = Signature.objects.filter(state=Signature.State.NEEDS_REVIEW).count()
    assert waiting == len(demo_data.SPELLING_VARIANTS)
    expect(page.locator("tbody tr")).to_have_count(waiting)
    name = demo_data.SPELLING_VARIANTS[0][0]
    expect(page.get_by_role("row").filter(has_text=name)).to_be_visible()
    save(page, "moderation-desktop")


def test_the_readme_shows_only_pictures_taken_here() -> None:
    readme = (REPO / "README.md").read_text()
    shown = set(re.findall(r"docs/screenshots/([\w-]+)\.png", readme))
    assert shown and shown <= SHOTS, shown - SHOTS
    on_disk = {path.stem for path in SCREENSHOTS.glob("*.png")}
    assert on_disk == SHOTS, "a picture no test takes any more, or one not yet taken"
