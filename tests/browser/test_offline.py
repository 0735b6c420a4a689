"""Pages render fully offline: no font, script, style or image comes from elsewhere.

Every request a page makes that is not for the site itself is refused and
recorded; every public page, in both languages, must make none and still
show its content (a missing stylesheet or script would show as a failed
request to the site, which is recorded too). The Content Security Policy
stops most outside loads before they are requested, so the browser's console
errors (where it reports those refusals) must be empty as well.
"""

from collections.abc import Callable
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import ConsoleMessage, Page, Request, Route, expect

from tests.browser.conftest import DESKTOP, PHONE
from undersigned.ops.management.commands.demo import LETTER_SLUG, PETITION_SLUG

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PUBLIC_PAGES = [
    "/",
    f"/p/{LETTER_SLUG}/",
    f"/p/{PETITION_SLUG}/",
    f"/p/{LETTER_SLUG}/signatories/",
    f"/p/{PETITION_SLUG}/embed/",
    "/log/",
    "/log/check-receipt/",
    "/my-data/",
    "/api/docs",
    "/accounts/login/",
]


def test_public_pages_need_nothing_from_elsewhere(
    demo_site: str, open_page: Callable[..., Page]
) -> None:
    site = urlsplit(demo_site).netloc
    elsewhere: list[str] = []
    failed: list[str] = []
    console_errors: list[str] = []

    def only_the_site(route: Route) -> None:
        if urlsplit(route.request.url).netloc == site or route.request.url.startswith("data:"):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    for width, locale in ((DESKTOP, "en-GB"), (PHONE, "ru-RU")):
        page = open_page(width, locale=locale)
        page.route("**/*", only_the_site)

        def note_failure(request: Request) -> None:
            # A load the browser cancelled because the test went on to the next
            # page (a favicon still on its way) is not a broken resource.
            if urlsplit(request.url).netloc == site and request.failure != "net::ERR_ABORTED":
                failed.append(f"{request.url} ({request.failure})")

        def note_error(message: ConsoleMessage) -> None:
            if message.type == "error":
                console_errors.append(message.text)

        page.on("requestfailed", note_failure)
        page.on("console", note_error)
        for path in PUBLIC_PAGES:
            response = page.goto(demo_site + path, wait_until="networkidle")
            assert response is not None and response.status == 200, path
            expect(page.locator("body")).not_to_be_empty()

    assert elsewhere == []
    assert failed == []
    assert console_errors == []
