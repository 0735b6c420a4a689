"""A visitor signs a public petition in a real browser and confirms through a real mail."""

import re
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect
from pytest_django.live_server_helper import LiveServer

from tests.conftest import Inbox, link_in
from undersigned.petitions import services as petitions
from undersigned.petitions.models import Petition

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def count(page: Page, bucket: str) -> Locator:
    return page.locator(f"#counts [data-count='{bucket}']")


def confirm_url(inbox: Inbox, address: str, live_server: LiveServer) -> str:
    """The confirm link exactly as the real SMTP message carries it."""
    message = inbox.last_to(address)
    path = link_in(message, "confirm")
    url = f"{live_server.url}{path}"
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    assert url in payload.decode(), "the mail links to SITE_URL, i.e. the live server"
    return url


def tab_to(page: Page, target: Locator, *, limit: int = 40) -> None:
    """Press Tab until `target` has focus, as a keyboard user would."""
    for _ in range(limit):
        if target.evaluate("el => el === document.activeElement"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{target} never received focus after {limit} presses of Tab")


def test_visitor_signs_confirms_by_mail_and_is_counted(
    page: Page, live_server: LiveServer, petition: Petition, deliver: Any, settings: Any
) -> None:
    settings.SITE_URL = live_server.url
    page.goto(f"{live_server.url}/p/{petition.slug}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Clean air for Kolpino")
    expect(count(page, "verified")).to_have_text("0")

    page.get_by_label("Full name").fill("Anna Belova")
    page.get_by_label("Email", exact=True).fill("anna@example.org")
    show = page.get_by_label("Show my name")
    show.check()
    expect(show).to_be_checked()
    page.get_by_role("button", name="Sign", exact=True).click()

    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    assert page.url == f"{live_server.url}/p/{petition.slug}/signed/"

    url = confirm_url(deliver(), "anna@example.org", live_server)
    page.goto(url)
    expect(page.get_by_role("heading", name="Confirm your signature")).to_be_visible()
    expect(page.get_by_text("as Anna Belova")).to_be_visible()
    # Opening the link (as a mail scanner would) must not confirm anything.
    assert petitions.counts(petition) == (0, 0)

    page.get_by_role("button", name="Confirm my signature").click()
    expect(page.get_by_role("heading", name="Your signature is verified")).to_be_visible()
    assert petitions.counts(petition) == (1, 0)

    page.get_by_role("link", name="See the petition").click()
    expect(page).to_have_url(f"{live_server.url}/p/{petition.slug}/")
    expect(count(page, "verified")).to_have_text("1")
    expect(count(page, "awaiting")).to_have_text("0")
    expect(page.locator("section.signatories li")).to_have_text(["Anna Belova"])

    # The link works once: opening it again explains instead of confirming twice.
    page.goto(url)
    expect(page.get_by_role("heading", name="This link cannot be used")).to_be_visible()
    assert petitions.counts(petition) == (1, 0)


def test_signing_and_confirming_by_keyboard_alone(
    page: Page, live_server: LiveServer, petition: Petition, deliver: Any, settings: Any
) -> None:
    settings.SITE_URL = live_server.url
    page.goto(f"{live_server.url}/p/{petition.slug}/")
    keyboard = page.keyboard

    tab_to(page, page.get_by_label("Full name"))
    keyboard.type("Boris Kuznetsov")
    tab_to(page, page.get_by_label("Email", exact=True))
    keyboard.type("boris@example.org")
    # Tab enters the radio group on its checked option ("Show my name", the default);
    # the arrow key moves to the other option and Space makes sure it is chosen.
    tab_to(page, page.get_by_label("Show my name"))
    keyboard.press("ArrowDown")
    hide = page.get_by_label("Count me without showing my name")
    expect(hide).to_be_focused()
    keyboard.press("Space")
    expect(hide).to_be_checked()
    tab_to(page, page.get_by_role("button", name="Sign", exact=True))
    keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()

    page.goto(confirm_url(deliver(), "boris@example.org", live_server))
    expect(page.get_by_text("You will be counted without your name being shown")).to_be_visible()
    assert petitions.counts(petition) == (0, 0)
    tab_to(page, page.get_by_role("button", name="Confirm my signature"))
    keyboard.press("Space")
    expect(page.get_by_role("heading", name="Your signature is verified")).to_be_visible()

    tab_to(page, page.get_by_role("link", name="See the petition"))
    keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/p/{petition.slug}/$"))
    expect(count(page, "verified")).to_have_text("1")
    # Counted, but the name the signer chose to hide is nowhere on the page.
    expect(page.locator("section.signatories")).to_contain_text(
        "No verified signatory has chosen to be shown yet."
    )
    expect(page.get_by_text("Boris Kuznetsov")).to_have_count(0)


def test_a_form_error_is_announced_and_keeps_what_was_typed(
    page: Page, live_server: LiveServer, petition: Petition
) -> None:
    page.goto(f"{live_server.url}/p/{petition.slug}/")
    page.get_by_label("Full name").fill("Anna Belova")
    page.get_by_label("Email", exact=True).fill("not an address")
    page.get_by_role("button", name="Sign", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("valid email address")
    expect(page.get_by_label("Full name")).to_have_value("Anna Belova")
    assert petitions.counts(petition) == (0, 0)


def test_help_text_is_tied_to_its_field(
    page: Page, live_server: LiveServer, petition: Petition
) -> None:
    # Django points aria-describedby at "<id>_helptext"; the page must render the help there.
    page.goto(f"{live_server.url}/p/{petition.slug}/")
    expect(page.get_by_label("Email", exact=True)).to_have_accessible_description(
        "We send a link to confirm; it is never shown."
    )
