"""A claim on a register letter waits for a moderator, who approves it in the browser."""

import re
from typing import Any

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Locator, Page, expect
from pytest_django.live_server_helper import LiveServer

from tests.conftest import link_in
from undersigned.audit.models import AuditEvent
from undersigned.petitions import services as petitions
from undersigned.petitions.models import Petition
from undersigned.registers.models import RegisterEntry
from undersigned.signing.models import Signature

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "moderator horse battery"


def count(page: Page, bucket: str) -> Locator:
    return page.locator(f"#counts [data-count='{bucket}']")


@pytest.fixture
def moderator(letter: Petition) -> User:
    user = User.objects.create_user("mira", "mira@example.org", PASSWORD)
    letter.moderators.add(user)
    return user


def test_a_claim_off_the_register_is_approved_by_a_moderator(
    page: Page,
    live_server: LiveServer,
    letter: Petition,
    moderator: User,
    deliver: Any,
    settings: Any,
) -> None:
    settings.SITE_URL = live_server.url
    letter_url = f"{live_server.url}/p/{letter.slug}/"

    # A visitor signs with a spelling of her own and an address not on the register.
    page.goto(letter_url)
    expect(page.get_by_role("heading", name="Sign as a person on the register")).to_be_visible()
    page.get_by_label("Full name").fill("Xenia Lindstrom")
    page.get_by_label("Email", exact=True).fill("xenia@example.org")
    page.get_by_label("Show my name").check()
    page.get_by_label("Role", exact=True).fill("municipal deputy")
    page.get_by_label("Municipality", exact=True).fill("Semenovsky")
    page.get_by_role("button", name="Sign", exact=True).click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()

    page.goto(live_server.url + link_in(deliver().last_to("xenia@example.org"), "confirm"))
    assert petitions.counts(letter) == (0, 0)
    page.get_by_role("button", name="Confirm my signature").click()
    expect(
        page.get_by_role("heading", name="Thank you — your signature awaits verification")
    ).to_be_visible()
    assert Signature.objects.get().state == Signature.State.NEEDS_REVIEW

    page.goto(letter_url)
    expect(count(page, "verified")).to_have_text("0")
    expect(count(page, "awaiting")).to_have_text("1")
    expect(page.locator("section.signatories")).not_to_contain_text("Xenia Lindstrom")

    # A moderator logs in through the ordinary login page.
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(moderator.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()

    page.get_by_role("link", name="Review queue").click()
    # First time: the moderator enrolls a second factor with the key shown.
    expect(page.get_by_role("heading", name="Set up a second factor")).to_be_visible()
    key = page.locator("code").first.inner_text()
    page.get_by_label("6-digit code from your authenticator app").fill(totp_now(key))
    page.get_by_role("button", name="Confirm").click()
    expect(page).to_have_url(f"{live_server.url}/moderation/")
    row = page.get_by_role("row").filter(has_text="Xenia Lindstrom")
    expect(row).to_contain_text("municipal deputy, Semenovsky")
    row.get_by_role("link", name=re.compile(r"^Review")).click()
    expect(page.get_by_role("heading", name="Review: Xenia Lindstrom")).to_be_visible()

    # The register entry she most resembles is ranked first and chosen by default.
    kseniya = RegisterEntry.objects.get(full_name="Kseniya Lindstrem")
    candidates = page.locator("fieldset input[type=radio][name=entry]")
    expect(candidates.first).to_have_attribute("id", f"entry-{kseniya.pk}")
    expect(candidates.first).to_be_checked()
    expect(page.get_by_label(re.compile(r"Kseniya Lindstrem"))).to_be_checked()

    # The reason is chosen from the list; the moderator's own words go in the sealed note.
    page.get_by_label("Reason").select_option(label="Matches the register entry")
    page.get_by_label("Note for the moderators").fill("Council website lists her")
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_text("Approved: the signature now counts as verified.")).to_be_visible()
    expect(page.get_by_text("Nothing is waiting.")).to_be_visible()

    signature = Signature.objects.get()
    assert signature.state == Signature.State.VERIFIED
    assert signature.register_entry == kseniya
    event = AuditEvent.objects.get(action="signature.approved")
    assert event.reason == "Matches the register entry"
    assert "Council website" not in str(event.details)

    # The public page counts her as verified, under the register's place names.
    page.goto(letter_url)
    expect(count(page, "verified")).to_have_text("1")
    expect(count(page, "awaiting")).to_have_text("0")
    signatories = page.locator("section.signatories")
    expect(signatories.get_by_role("heading", level=3)).to_have_text(["St Petersburg"])
    expect(signatories.locator("strong")).to_have_text(["Semyonovsky"])
    expect(signatories.locator("li")).to_have_text(["Xenia Lindstrom, municipal deputy"])

    # And she hears of the decision by mail.
    decision = deliver().last_to("xenia@example.org")
    assert decision["Subject"].startswith("Your signature is verified")


def totp_now(base32_key: str) -> str:
    import base64

    from django_otp.oath import totp

    key = base64.b32decode(base32_key + "=" * (-len(base32_key) % 8))
    return f"{totp(key):06d}"
