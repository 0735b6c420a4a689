"""At 360 px no public page scrolls sideways, and a printed petition is the letter and its
counts, without the site's controls."""

import json
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import PHONE
from undersigned.ledger.models import LogEntry
from undersigned.ops.management.commands.demo import LETTER_SLUG, PETITION_SLUG
from undersigned.petitions.models import Petition
from undersigned.signing import services as signing
from undersigned.signing.tokens import new_token

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OpenPage = Callable[..., Page]

# What sticks out past the right edge, for the failure message: the outermost such
# elements (whose parent fits) and the innermost (whose children fit), with their text.
WIDER_THAN_THE_PAGE = """() => {
  const width = document.documentElement.clientWidth;
  const wide = el => el.getBoundingClientRect().right > width + 0.5;
  const name = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
    + (typeof el.className === 'string' && el.className ? '.' + el.className.split(' ')[0] : '')
    + ' right=' + Math.round(el.getBoundingClientRect().right)
    + ' "' + (el.textContent || '').trim().slice(0, 40) + '"';
  const all = [...document.querySelectorAll('body *')].filter(wide);
  const outer = all.filter(el => !wide(el.parentElement));
  const inner = all.filter(el => ![...el.children].some(wide));
  return [...new Set([...outer, ...inner])].slice(0, 8).map(name);
}"""


def overflow(page: Page) -> list[str]:
    """Empty when the page is no wider than the window; else what sticks out."""
    width = page.evaluate("document.documentElement.scrollWidth")
    if width <= PHONE:
        return []
    return [f"scrollWidth={width}", *page.evaluate(WIDER_THAN_THE_PAGE)]


def confirm_link(email: str) -> str:
    """A fresh confirmation link for a new signature on the public petition."""
    petition = Petition.objects.get(slug=PETITION_SLUG)
    signature = signing.sign(
        petition, signing.SignRequest(full_name="Nadezhda Tikhonova-Vasilevskaya", email=email)
    )
    raw, signature.confirm_token_hash = new_token()
    signature.save(update_fields=["confirm_token_hash"])
    return f"/confirm/{raw}/"


def test_no_public_page_scrolls_sideways_at_360_px(demo_site: str, open_page: OpenPage) -> None:
    english = open_page(PHONE)
    russian = open_page(PHONE, locale="ru-RU")
    problems: dict[str, list[str]] = {}

    def check(page: Page, name: str, path: str | None = None) -> None:
        if path is not None:
            response = page.goto(demo_site + path)
            assert response is not None and response.status < 500, (name, path)
        problems[name] = overflow(page)

    for page, language in ((english, "en"), (russian, "ru")):
        check(page, f"home ({language})", "/")
        check(page, f"letter ({language})", f"/p/{LETTER_SLUG}/")
        check(page, f"petition ({language})", f"/p/{PETITION_SLUG}/")
        check(page, f"signatories ({language})", f"/p/{LETTER_SLUG}/signatories/")
        check(page, f"log ({language})", "/log/")
        check(page, f"receipt checker ({language})", "/log/check-receipt/")
        check(page, f"my data ({language})", "/my-data/")
        check(page, f"embed ({language})", f"/p/{PETITION_SLUG}/embed/")
        check(page, f"log in ({language})", "/accounts/login/")

        # The sign form sent back with its errors.
        page.goto(f"{demo_site}/p/{LETTER_SLUG}/")
        page.locator("#sign button[type=submit]").click()
        expect(page.locator("#sign [role=alert]").first).to_be_visible()
        check(page, f"sign errors ({language})")

        check(page, f"confirm ({language})", confirm_link(f"{language}@example.org"))
        page.locator("main form button[type=submit]").click()
        expect(page.locator("h1")).to_be_visible()
        check(page, f"confirmed ({language})")

    assert LogEntry.objects.exists()
    wide = {name: found for name, found in problems.items() if found}
    assert not wide, json.dumps(wide, indent=1, ensure_ascii=False)


def test_a_printed_petition_is_the_letter_and_its_counts(
    demo_site: str, open_page: OpenPage
) -> None:
    page = open_page(1280)
    page.goto(f"{demo_site}/p/{LETTER_SLUG}/")
    page.emulate_media(media="print")
    for shown in ("h1", "#counts", ".letter", "progress"):
        expect(page.locator(shown).first).to_be_visible()
    for hidden in (
        "header.site nav",
        "form.lang-switch",
        "#sign",
        "#sign form",
        "section.share",
        ".share-links",
        ".chart-table",
        "footer.site",
        ".skip",
    ):
        expect(page.locator(hidden).first).to_be_hidden()
    # And back on screen, everything returns.
    page.emulate_media(media="screen")
    expect(page.locator("#sign form")).to_be_visible()
    expect(page.locator("section.share")).to_be_visible()


def test_printing_fits_the_paper(demo_site: str, open_page: OpenPage, tmp_path: Any) -> None:
    # Chromium's own print to PDF (A4): the page lays out at about 700 CSS px there.
    page = open_page(1280)
    page.goto(f"{demo_site}/p/{LETTER_SLUG}/")
    page.emulate_media(media="print")
    page.set_viewport_size({"width": 700, "height": 1000})
    assert page.evaluate("document.documentElement.scrollWidth") <= 700
    pdf = page.pdf(path=str(tmp_path / "letter.pdf"), format="A4")
    assert pdf.startswith(b"%PDF")
