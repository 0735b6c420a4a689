"""The petitions office's cycle in Russian, for a letter only deputies on a register may sign.

A Russian-speaking citizen submits the letter on the demo's register of deputies; five
deputies back it from their official addresses; a moderator publishes it; a council
session's sheet of paper signatures is entered from a CSV file and shown apart; the
threshold asks the addressee; the response is published; the deputies who asked to be
told receive it in Russian over real SMTP, and one of them leaves with one click.
Every page is in Russian, checked with axe, and the office's Russian pages are
photographed into docs/screenshots/.
"""

import re
from email.header import decode_header, make_header
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from django.utils import translation
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser.conftest import DESKTOP, PHONE
from tests.browser.test_petition_cycle import (
    PASSWORD,
    axe_clean,
    drain,
    log_in,
    new_context,
    second_factor,
)
from tests.browser.test_screenshots import save
from tests.conftest import Inbox, body_of, link_in
from tests.submissions import creator, site_moderator
from undersigned.core import demo_data
from undersigned.petitions import services as petitions
from undersigned.petitions.models import Petition
from undersigned.registers.models import Register
from undersigned.signing.models import Signature, Subscription

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TITLE = "Письмо муниципальных депутатов о школьных автобусах"
BODY = (
    "Мы, муниципальные депутаты, просим правительство области вернуть школьные автобусы "
    "в сёла, где их отменили этой осенью: дети ходят в школу по трассе без тротуара."
)
ADDRESSEE = "Губернатор Ленинградской области"
ADDRESSEE_EMAIL = "governor@region.example.org"
UNSUBSCRIBE = re.compile(r"https?://\S+(/unsubscribe/[A-Za-z0-9_-]+/)")
PEOPLE = demo_data.register_people()
# Deputies whose register entry holds an official address (every third): their
# confirmation goes there, so their backing needs no moderator.
SUPPORTERS = [PEOPLE[i] for i in (3, 6, 9, 12, 15)]
TOLD = {SUPPORTERS[0]["full_name"], SUPPORTERS[1]["full_name"]}
ON_PAPER = [PEOPLE[i] for i in range(16, 60) if i % 3][:12]
RU = demo_data.REGISTER_TRANSLATIONS["ru"]


def label(page: Page, text: str) -> Any:
    """The field labelled `text`, optional or not ("… (необязательно)")."""
    return page.get_by_label(
        re.compile("^" + re.escape(text) + rf"(\s*{re.escape(ru('(optional)'))})?$")
    )


def ru(text: str) -> str:
    """A label as the Russian page shows it, from the site's own catalogue."""
    with translation.override("ru"):
        return translation.gettext(text)


def subject(message: Message) -> str:
    return str(make_header(decode_header(message["Subject"]))).replace("\r\n", "")


def russian_context(browser: Browser, *, width: int = DESKTOP) -> BrowserContext:
    return new_context(browser, width=width, locale="ru-RU")


def sheet_csv(path: Path) -> Path:
    lines = ["sheet,full_name,show_name,role,municipality,region"]
    for person in ON_PAPER:
        lines.append(
            f"Заседание 3 декабря,{person['full_name']},да,{person['role']},"
            f"{person['municipality']},{person['region']}"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def office(demo_site: str, settings: Any, smtp: Inbox) -> str:
    settings.PUBLISHING = "reviewed"
    settings.SUPPORTERS_NEEDED = 5
    settings.UPDATE_MAILS_PER_MINUTE = 60_000
    drain()  # the demo's own mail and log
    return demo_site


def test_a_register_letter_in_russian_from_submission_to_the_answer(
    office: str, browser: Browser, smtp: Inbox, tmp_path: Path
) -> None:
    base = office
    citizen = creator("vera")
    moderator = site_moderator("office")
    for user in (citizen, moderator):
        user.set_password(PASSWORD)
        user.save()

    # 1. The citizen writes the letter in Russian, on the register, and submits it.
    context = russian_context(browser)
    page = context.new_page()
    log_in(page, base, "vera", ru)
    page.goto(f"{base}/dashboard/new/")
    second_factor(page, ru)
    page.goto(f"{base}/dashboard/new/")
    label(page, ru("Kind")).select_option("letter")
    label(page, ru("Title")).fill(TITLE)
    label(page, ru("Text")).fill(BODY)
    label(page, ru("Language of the text")).select_option("ru")
    label(page, ru("Organiser shown to the public")).fill("Вера Сомова")
    label(page, ru("Addressed to")).fill(ADDRESSEE)
    label(page, ru("The addressee's address for notices")).fill(ADDRESSEE_EMAIL)
    page.get_by_label(ru("Only people on a register")).check()
    label(page, ru("Register")).select_option(str(Register.objects.get().pk))
    label(page, ru("Verified signatures at which the addressee is asked to respond")).fill("15")
    page.locator("form button[type=submit]").last.click()
    # The site shows, once, the letters this one looks like: the demo's letter of deputies.
    alike = page.locator("#lookalikes")
    expect(alike).to_contain_text(ru("Petitions that look like yours"))
    expect(alike.get_by_role("link", name=demo_data.LETTER_TITLE_RU)).to_be_visible()
    page.locator("form button[type=submit]").last.click()  # it asks for something else: go on
    expect(page.get_by_role("heading", level=1)).to_contain_text(TITLE)
    page.get_by_role("button", name=ru("Submit for moderation")).click()
    support_link = label(page, ru("The link for your supporters")).input_value()
    axe_clean(browser, page, "the creator's page, in Russian")
    save(page, "letter-ru-submission-desktop", full_page=True)
    letter = Petition.objects.get(organiser=citizen)
    assert letter.status == Petition.Status.COLLECTING
    assert letter.needs_register
    assert letter.current_version().language == "ru"

    # 2. Five deputies back it from their official addresses, in Russian.
    for person in SUPPORTERS:
        supporter = russian_context(browser, width=PHONE)
        page = supporter.new_page()
        page.goto(support_link)
        expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
        expect(page.locator("main")).to_contain_text(RU["name"])
        label(page, ru("Full name")).fill(person["full_name"])
        label(page, ru("Email")).fill(person["email"])
        label(page, ru("Role")).fill(RU["roles"][person["role"]])
        label(page, ru("Municipality")).fill(RU["municipalities"][person["municipality"]])
        box = page.get_by_label(
            ru("Tell me about this petition's response and outcome"), exact=True
        )
        expect(box).not_to_be_checked()  # off for register letters: no mailing lists
        if person["full_name"] in TOLD:
            box.check()
        page.get_by_role("button", name=ru("Back it")).click()
        expect(page.get_by_role("heading", name=ru("Check your email"))).to_be_visible()
        drain()
        page.goto(base + link_in(smtp.last_to(person["email"]), "confirm"))
        page.locator("main form button[type=submit]").first.click()
        expect(page.locator("html")).to_have_attribute("lang", "ru")
        supporter.close()
    letter.refresh_from_db()
    assert letter.status == Petition.Status.MODERATION

    # 3. The moderator, in Russian, publishes it.
    office_context = russian_context(browser)
    page = office_context.new_page()
    log_in(page, base, "office", ru)
    page.goto(f"{base}/moderation/submissions/")
    second_factor(page, ru)
    page.goto(f"{base}/moderation/submissions/")
    axe_clean(browser, page, "the submissions queue, in Russian")
    page.get_by_role("link", name=TITLE).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    axe_clean(browser, page, "a submission's review, in Russian")
    publish = ru_p("moderation decision", "Publish")
    page.get_by_role("button", name=publish).click()
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    letter.refresh_from_db()
    assert letter.status == Petition.Status.OPEN
    assert petitions.counts(letter) == (5, 0), "the deputies' official addresses verify them"

    # 4. A council session's sheet of paper signatures, from a CSV file.
    # Only the letter's own moderators enter signatures (docs/security.md): the office
    # assigns its moderator to the letter, as the admin does.
    letter.moderators.add(moderator)
    page.goto(f"{base}/moderation/paper/{letter.slug}/")
    axe_clean(browser, page, "the paper signatures page, in Russian")
    label(page, ru("CSV file")).set_input_files(str(sheet_csv(tmp_path / "sheet.csv")))
    page.get_by_role("button", name=ru("Check the file")).click()
    entered = page.get_by_role("button", name=re.compile("^Ввести"))
    expect(entered).to_be_visible()
    save(page, "paper-sheet-ru-desktop", full_page=True)
    entered.click()
    assert petitions.counts(letter) == (17, 0)
    paper = Signature.objects.filter(petition=letter, channel=Signature.Channel.PAPER)
    assert paper.count() == 12
    assert set(paper.values_list("sheet_reference", flat=True)) == {"Заседание 3 декабря"}

    # The public page, in Russian: the count, of which on paper, the register's words.
    visitor = russian_context(browser, width=PHONE)
    page = visitor.new_page()
    page.goto(f"{base}/p/{letter.slug}/")
    expect(page.locator("#counts [data-count='verified']")).to_have_text("17")
    expect(page.locator("#counts")).to_contain_text("12")
    expect(page.locator("#counts")).to_contain_text("на бумаге")
    expect(page.locator("article")).to_contain_text(RU["name"])
    signatories = page.locator("section.signatories")
    expect(signatories).to_contain_text(RU["roles"]["municipal deputy"])
    expect(signatories).not_to_contain_text("municipal deputy")
    axe_clean(browser, page, "the letter's page, in Russian")
    save(page, "letter-ru-paper-phone", full_page=True)

    # 5. Past the letter's own threshold (15): the addressee is asked, once.
    drain()
    asked = smtp.to(ADDRESSEE_EMAIL)
    assert len(asked) == 1
    assert TITLE in body_of(asked[0])

    # 6. The response, published in Russian, reaches the two who asked, in Russian.
    page = office_context.new_page()
    page.goto(f"{base}/moderation/answers/{letter.slug}/")
    label(page, ru("Who answered")).fill(ADDRESSEE)
    label(page, ru("Date of the response")).fill("2026-12-02")
    label(page, ru("The response")).fill(
        "Школьные автобусы вернутся на все отменённые маршруты с 11 января."
    )
    page.get_by_role("button", name=ru("Publish the response")).click()
    expect(page.locator("main")).to_contain_text("с 11 января")
    axe_clean(browser, page, "the response page, in Russian")
    drain()
    updates = {
        person["full_name"]: [m for m in smtp.to(person["email"]) if m["List-Unsubscribe"]]
        for person in SUPPORTERS
    }
    assert {name for name, mails in updates.items() if mails} == TOLD
    told = updates[SUPPORTERS[0]["full_name"]][0]
    assert subject(told).startswith("Ответ на «")
    assert "с 11 января" in body_of(told)

    # One of them leaves with one click.
    found = UNSUBSCRIBE.search(body_of(told))
    assert found is not None
    page = visitor.new_page()
    page.goto(base + found.group(1))
    page.get_by_role("button", name=ru("Stop the updates")).click()
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    expect(page.locator("main")).not_to_contain_text(ru("Stop the updates"))
    kept = [s.email for s in Subscription.objects.filter(petition=letter)]
    assert kept == [SUPPORTERS[1]["email"]], "the one who left is forgotten, the other kept"
    for c in (context, office_context, visitor):
        c.close()


def ru_p(context: str, text: str) -> str:
    with translation.override("ru"):
        return translation.pgettext(context, text)
