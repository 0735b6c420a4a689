"""The whole cycle in a browser, as the people in it walk it.

A citizen submits a petition; five supporters back it by mailed links; a moderator
publishes it and rejects a duplicate of it; a thousand signatures arrive; the
threshold asks the addressee to respond; the response is published; the signers
who asked to be told receive it over real SMTP, and one of them leaves with one
click. Every page on the way is checked with axe and the office's pages are
photographed into docs/screenshots/.
"""

import html
import re
from collections.abc import Callable
from email.header import decode_header, make_header
from email.message import Message
from typing import Any

import pytest
from django.test import Client
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect
from pytest_django.live_server_helper import LiveServer

from tests.browser.conftest import DESKTOP, PHONE, TIMEOUT_MS
from tests.browser.test_accessibility import violations
from tests.browser.test_moderation_flow import totp_now
from tests.browser.test_screenshots import save
from tests.conftest import (
    Inbox,
    body_of,
    link_in,
    make_petition,
    second_factor_login,
    seed_standards,
)
from tests.submissions import back, confirm_backing, creator, site_moderator
from undersigned.audit.models import AuditEvent
from undersigned.ops import bulkload
from undersigned.ops.management.commands.worker import run_once
from undersigned.petitions import submissions
from undersigned.petitions.models import Petition
from undersigned.signing.models import Signature

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery"
SUPPORTERS = ["Agnes Thornbury", "Basil Okonkwo", "Cora Lindqvist", "Desmond Varga", "Elin Marsh"]
TITLE = "Reopen the footbridge over the Izhora at Kolpino"
BODY = (
    "The footbridge between the station and the riverside park has been fenced off "
    "for two years. We ask the district to repair it and reopen it by next summer."
)
ADDRESSEE = "Head of the Kolpino District Administration"
ADDRESSEE_EMAIL = "head@kolpino.example.org"
UNSUBSCRIBE = re.compile(r"https?://\S+(/unsubscribe/[A-Za-z0-9_-]+/)")


def address(name: str) -> str:
    return name.lower().replace(" ", ".") + "@example.org"


def axe_clean(browser: Browser, page: Page, what: str) -> None:
    """The page as it stands, with this profile's session: no serious or critical violation."""
    cookies = page.context.cookies()
    found = violations(browser, page.url, cookies)  # type: ignore[arg-type]
    assert not found, (what, [(v["id"], v["help"]) for v in found])


def log_in(page: Page, base: str, username: str, say: Callable[[str], str] = str) -> None:
    """Through the login page; `say` gives its words in the page's language."""
    page.goto(f"{base}/accounts/login/")
    page.get_by_label(say("Username")).fill(username)
    page.get_by_label(say("Password")).fill(PASSWORD)
    page.get_by_role("button", name=say("Log in")).click()
    expect(page.get_by_role("button", name=say("Log out"))).to_be_visible()


def second_factor(page: Page, say: Callable[[str], str] = str) -> None:
    """First visit to a moderator's or organiser's page: enrol the authenticator shown."""
    expect(page.get_by_role("heading", name=say("Set up a second factor"))).to_be_visible()
    key = page.locator("code").first.inner_text()
    page.get_by_label(say("6-digit code from your authenticator app")).fill(totp_now(key))
    page.get_by_role("button", name=say("Confirm")).click()


def drain(rounds: int = 30) -> None:
    """The worker's rounds, as the background process runs them, until nothing is left."""
    for _ in range(rounds):
        done = run_once()
        if not any(done.get(k) for k in ("updates_written", "mailed", "sequenced")):
            break


def as_mail_program_shows(message: Message) -> str:
    headers = "".join(
        f"<dt>{html.escape(name)}</dt><dd>{html.escape(str(make_header(decode_header(message[name]))))}</dd>"
        for name in ("From", "To", "Subject", "List-Unsubscribe")
        if message[name]
    )
    return (
        '<!doctype html><html lang="en"><title>Mail</title>'
        '<body style="font: 16px/1.45 sans-serif; max-width: 44rem; margin: 1rem auto">'
        f"<dl>{headers}</dl>"
        f"<pre style='white-space: pre-wrap'>{html.escape(body_of(message))}</pre>"
    )


def new_context(browser: Browser, *, width: int = DESKTOP, locale: str = "en-GB") -> BrowserContext:
    context = browser.new_context(
        viewport={"width": width, "height": 780 if width < 600 else 900}, locale=locale
    )
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    return context


@pytest.fixture
def office(settings: Any, live_server: LiveServer, smtp: Inbox) -> str:
    settings.SITE_URL = live_server.url
    seed_standards()
    settings.PUBLISHING = "reviewed"
    settings.SUPPORTERS_NEEDED = 5
    settings.RESPONSE_THRESHOLD = 1000
    settings.DEBATE_THRESHOLD = 100_000
    settings.UPDATE_MAILS_PER_MINUTE = 60_000
    return str(live_server.url)


def test_from_submission_to_the_response_in_the_signers_mailboxes(
    office: str, browser: Browser, smtp: Inbox
) -> None:
    base = office
    # Another citizen already submitted the same request; it has its supporters.
    earlier = make_petition(
        creator("boris"),
        slug="fix-the-izhora-footbridge",
        title="Fix the Izhora footbridge in Kolpino and reopen it",
        body="Repair and reopen the fenced-off footbridge over the Izhora.",
        publish=False,
        addressee=ADDRESSEE,
    )
    second_factor_login(Client(), earlier.organiser).post(
        f"/dashboard/{earlier.slug}/submit/", follow=True
    )
    for name in ("Fyodor Lamb", "Greta Nilsen", "Hugo Adeyemi", "Ines Carvalho", "Jonas Berg"):
        back(earlier, name)
        drain()
        confirm_backing(smtp, name)
    earlier.refresh_from_db()
    assert earlier.status == Petition.Status.MODERATION

    citizen = creator("ada")  # signed up and confirmed her address
    moderator = site_moderator("office")
    for user in (citizen, moderator):
        user.set_password(PASSWORD)
        user.save()

    # 1. The citizen writes the petition and submits it.
    context = new_context(browser)
    page = context.new_page()
    log_in(page, base, "ada")
    page.goto(f"{base}/dashboard/new/")
    second_factor(page)  # organisers too hold signers' data
    page.goto(f"{base}/dashboard/new/")
    page.get_by_label("Title").fill(TITLE)
    page.get_by_label("Text", exact=True).fill(BODY)
    page.get_by_label("Organiser shown to the public").fill("Ada Quill")
    page.get_by_label("Addressed to").fill(ADDRESSEE)
    page.get_by_label("The addressee's address for notices").fill(ADDRESSEE_EMAIL)
    page.get_by_role("button", name=re.compile("^(Save|Create)")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(TITLE)
    page.get_by_role("button", name="Submit for moderation").click()
    support_link = page.get_by_label("The link for your supporters").input_value()
    assert support_link.startswith(base + "/support/")
    axe_clean(browser, page, "the creator's page of a submission")
    petition = Petition.objects.get(organiser=citizen)
    assert petition.status == Petition.Status.COLLECTING
    assert petition.addressee == ADDRESSEE

    # 2. Five supporters back it by the shared link and confirm by mail.
    for n, name in enumerate(SUPPORTERS):
        supporter = new_context(browser, width=PHONE)
        page = supporter.new_page()
        page.goto(support_link)
        expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
        if n == 0:
            axe_clean(browser, page, "the supporters' page")
            save(page, "support-phone", full_page=True)
        page.get_by_label("Full name").fill(name)
        page.get_by_label("Email", exact=True).fill(address(name))
        page.get_by_role("button", name="Back it").click()
        expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
        drain()
        page.goto(base + link_in(smtp.last_to(address(name)), "confirm"))
        page.get_by_role("button", name=re.compile("^Confirm")).click()
        expect(page.locator("main")).to_contain_text(re.compile("(support|back)", re.I))
        supporter.close()
    petition.refresh_from_db()
    assert petition.status == Petition.Status.MODERATION
    assert submissions.supporters(petition) == 5
    drain()
    assert any("moderat" in body_of(m).lower() for m in smtp.to(citizen.email))

    # 3. A moderator of the site publishes it, and rejects the other as its duplicate.
    office_context = new_context(browser)
    page = office_context.new_page()
    log_in(page, base, "office")
    page.goto(f"{base}/moderation/submissions/")
    second_factor(page)
    page.goto(f"{base}/moderation/submissions/")

    def row(title: str) -> Locator:
        return page.get_by_role("row").filter(has=page.get_by_role("cell", name=title, exact=True))

    ours, earlier_row = row(TITLE), row("Fix the Izhora footbridge in Kolpino and reopen it")
    expect(ours).to_be_visible()
    # Both wait, neither published: the queue says they look alike.
    expect(earlier_row.get_by_role("link", name=TITLE)).to_be_visible()
    expect(earlier_row).to_contain_text("also waiting here")
    axe_clean(browser, page, "the submissions queue")
    save(page, "submissions-desktop")

    ours.get_by_role("link", name=re.compile("^Review")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    axe_clean(browser, page, "a submission's review")
    page.get_by_role("button", name="Publish", exact=True).click()
    expect(page.locator("main")).to_contain_text(re.compile("[Pp]ublished"))
    petition.refresh_from_db()
    assert petition.status == Petition.Status.OPEN

    page.goto(f"{base}/moderation/submissions/{earlier.slug}/")
    lookalike = page.get_by_role("radio", name=TITLE)
    expect(lookalike).to_be_visible()  # the petition just published looks alike
    save(page, "submission-review-desktop", full_page=True)
    lookalike.check()
    page.get_by_label("Standard it fails").select_option(label="A duplicate")
    page.get_by_label("Note").fill("Please sign the footbridge petition already open.")
    page.get_by_role("button", name="Reject").click()
    expect(page.locator("main")).to_contain_text(re.compile("[Rr]ejected"))
    earlier.refresh_from_db()
    assert earlier.status == Petition.Status.REJECTED
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"submission.published", "submission.rejected"} <= actions, actions
    drain()
    assert smtp.to(earlier.organiser.email), "the rejected submission's creator is told"

    # The public sees the rejection, its reason and the original.
    visitor = new_context(browser)
    page = visitor.new_page()
    page.goto(f"{base}/petitions/?state=rejected")
    row = page.locator("main").get_by_role("link", name=re.compile("Fix the Izhora footbridge"))
    expect(row).to_be_visible()
    expect(page.locator("main")).to_contain_text("A duplicate")
    axe_clean(browser, page, "the rejected petitions")
    save(page, "rejected-desktop")
    row.click()
    expect(page.locator("main")).to_contain_text("A duplicate")
    expect(page.get_by_role("link", name=TITLE)).to_be_visible()
    axe_clean(browser, page, "a rejected petition's page")

    # The published petition counts its supporters.
    page.goto(f"{base}/p/{petition.slug}/")
    expect(page.locator("#counts [data-count='verified']")).to_have_text("5")
    # Two people sign online, one asking to be told of the answer, one not.
    for name, told in (("Karim Osei", True), ("Lena Voss", False)):
        page.goto(f"{base}/p/{petition.slug}/")
        page.get_by_label("Full name").fill(name)
        page.get_by_label("Email", exact=True).fill(address(name))
        box = page.get_by_label("Tell me about this petition's response and outcome")
        expect(box).to_be_checked()  # on for a public petition, as the UK does
        if not told:
            box.uncheck()
        page.get_by_role("button", name="Sign", exact=True).click()
        expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
        drain()
        page.goto(base + link_in(smtp.last_to(address(name)), "confirm"))
        page.get_by_role("button", name="Confirm my signature").click()
        expect(page.get_by_role("heading", name="Your signature is verified")).to_be_visible()

    # 4. A thousand signatures arrive; the threshold asks the addressee to respond.
    before = len(smtp.to(ADDRESSEE_EMAIL))
    bulkload.load(Petition.objects.get(pk=petition.pk), 1000, with_log=True)
    drain()
    asked = smtp.to(ADDRESSEE_EMAIL)[before:]
    assert len(asked) == 1, "the addressee is asked once"
    assert TITLE in body_of(asked[0])
    page.goto(f"{base}/p/{petition.slug}/")
    expect(page.locator("#counts [data-count='verified']")).to_have_text("1,007")
    expect(page.locator("main")).to_contain_text(re.compile("[Aa]waiting (a )?response"))

    # 5. The moderator publishes the response the addressee sent.
    page = office_context.new_page()
    page.goto(f"{base}/moderation/answers/{petition.slug}/")
    page.get_by_label("Who answered").fill(ADDRESSEE)
    page.get_by_label("Date of the response").fill("2026-12-01")
    page.get_by_label("The response", exact=True).fill(
        "The footbridge will be repaired in the spring and reopened by 1 June."
    )
    page.get_by_role("button", name="Publish the response").click()
    expect(page.locator("main")).to_contain_text("reopened by 1 June")
    axe_clean(browser, page, "the response and updates page")
    save(page, "answers-desktop", full_page=True)
    drain()

    # 6. Who asked hears of it, over SMTP; who did not, does not.
    told = [m for m in smtp.to(address("Karim Osei")) if m["List-Unsubscribe"]]
    assert len(told) == 1
    assert "reopened by 1 June" in body_of(told[0])
    assert not [m for m in smtp.to(address("Lena Voss")) if m["List-Unsubscribe"]]
    supporters_told = [
        n for n in SUPPORTERS if any(m["List-Unsubscribe"] for m in smtp.to(address(n)))
    ]
    assert supporters_told == SUPPORTERS, "supporters of a public petition are told by default"
    assert Signature.objects.filter(petition=petition, state="verified").count() == 1007

    # The mails are plain text (no HTML part to check): photographed as a mail program shows them.
    shown_mail = visitor.new_page()
    shown_mail.set_content(as_mail_program_shows(told[0]))
    save(shown_mail, "update-mail-desktop", full_page=True)

    # One of them leaves with one click from the mail.
    found = UNSUBSCRIBE.search(body_of(told[0]))
    assert found is not None
    page = visitor.new_page()
    page.goto(base + found.group(1))
    axe_clean(browser, page, "the unsubscribe page")
    page.get_by_role("button", name="Stop the updates").click()
    expect(page.locator("main")).to_contain_text(re.compile("(no more|not be)", re.I))

    # The outcome reaches the others but not the one who left.
    page = office_context.new_page()
    page.goto(f"{base}/moderation/answers/{petition.slug}/")
    page.get_by_label("What happened").select_option(index=0)
    page.get_by_label(re.compile("^Date")).last.fill("2026-12-20")
    page.get_by_role("button", name="Publish the outcome").click()
    drain()
    assert len([m for m in smtp.to(address("Karim Osei")) if m["List-Unsubscribe"]]) == 1
    assert len([m for m in smtp.to(address(SUPPORTERS[0])) if m["List-Unsubscribe"]]) == 2
    for c in (context, office_context, visitor):
        c.close()
