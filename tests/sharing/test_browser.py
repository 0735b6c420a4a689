"""In Debian's chromium: the live count, the badge and preview images, framing the embed."""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from pytest_django.live_server_helper import LiveServer

from tests.browser.test_accessibility import violations
from tests.sharing.conftest import confirm_now, sign
from undersigned.ledger.services import integrate
from undersigned.petitions.models import Petition, Tally

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def count(page: Page, bucket: str) -> Any:
    return page.locator(f"#counts [data-count='{bucket}']")


def test_the_count_updates_after_a_confirmation_without_reloading(
    page: Page, live_server: LiveServer, petition: Petition, settings: Any
) -> None:
    settings.SITE_URL = live_server.url
    settings.SHARING_LIVE_SECONDS = 1  # the page asks every 10 s; a test need not wait that long
    waiting = sign(petition, "anna@example.org", confirm=False)
    page.goto(f"{live_server.url}/p/{petition.slug}/")
    expect(count(page, "verified")).to_have_text("0")
    # Marks this very document: a reload would make a new one without the mark.
    page.evaluate("window.notReloaded = true")
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))

    confirm_now(waiting)  # the signer clicks the link in their mail, elsewhere

    expect(count(page, "verified")).to_have_text("1")
    assert page.evaluate("window.notReloaded") is True
    assert f"{live_server.url}/api/petitions/{petition.slug}" in requests
    assert not [r for r in requests if r.rstrip("/").endswith(f"/p/{petition.slug}")]

    # Big numbers are written in the page's language, as the server writes them.
    Tally.objects.filter(petition=petition).update(verified=1234567, awaiting=89)
    expect(count(page, "verified")).to_have_text("1,234,567")
    expect(count(page, "awaiting")).to_have_text("89")
    assert page.evaluate("window.notReloaded") is True


def test_the_badge_qr_code_and_preview_images_load(
    page: Page, live_server: LiveServer, petition: Petition, settings: Any
) -> None:
    settings.SITE_URL = live_server.url
    sign(petition, "anna@example.org")
    page.goto(f"{live_server.url}/p/{petition.slug}/")
    for selector in ("img.badge-preview", "img.qr"):
        image = page.locator(selector)
        expect(image).to_be_visible()
        width = image.evaluate("img => img.complete && img.naturalWidth")
        assert width and width > 0, selector

    # The badge as another site shows it: an <img> on a page of its own.
    page.goto(f"{live_server.url}/p/{petition.slug}/badge.svg")
    assert page.locator("svg").get_attribute("role") == "img"
    expect(page.locator("svg text").first).to_have_text("1 verified")
    # The text measured on the server fits the drawing chromium makes of it.
    fits = page.evaluate(
        """() => {
            const svg = document.querySelector('svg');
            const width = svg.width.baseVal.value;
            return [...svg.querySelectorAll('text')].every(
                t => t.getBBox().x + t.getBBox().width <= width - 4);
        }"""
    )
    assert fits

    preview = page.request.get(f"{live_server.url}/p/{petition.slug}/og.png")
    assert preview.ok
    assert preview.headers["content-type"] == "image/png"


@contextmanager
def other_site(body: str) -> Iterator[str]:
    """A page of another origin (another port on loopback) serving `body`.

    Loopback, like the live server: chromium keeps public sites from framing
    addresses on the local network, which would hide what is tested here.
    """

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            data = body.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def test_another_site_can_frame_the_embed_but_not_the_petition_page(
    page: Page, live_server: LiveServer, petition: Petition, settings: Any
) -> None:
    settings.SITE_URL = live_server.url
    sign(petition, "anna@example.org")
    embed = f"{live_server.url}/p/{petition.slug}/embed/"
    page_url = f"{live_server.url}/p/{petition.slug}/"
    html = (
        "<!doctype html><title>Elsewhere</title>"
        f'<iframe id="embed" src="{embed}" title="counter"></iframe>'
        f'<iframe id="page" src="{page_url}" title="page"></iframe>'
    )
    with other_site(html) as elsewhere:
        page.goto(elsewhere)
        framed = page.frame_locator("#embed")
        expect(framed.locator("[data-count='verified']")).to_have_text("1")
        expect(framed.get_by_role("link", name="Read and sign")).to_be_visible()

        # The petition page refuses to be framed: chromium shows its error page instead.
        page.wait_for_load_state("load")
        frames = {
            name: page.locator(f"#{name}").element_handle().content_frame()  # type: ignore[union-attr]
            for name in ("embed", "page")
        }
        assert frames["embed"] is not None and frames["embed"].url == embed
        assert frames["page"] is not None and frames["page"].url.startswith("chrome-error://")
        expect(page.frame_locator("#page").get_by_text("Clean air for Kolpino")).to_have_count(0)


def test_the_embed_and_a_page_with_every_chart_pass_axe(
    browser: Browser, live_server: LiveServer, letter: Petition, settings: Any
) -> None:
    settings.SITE_URL = live_server.url
    sign(letter, "belova@council.example.org", role="municipal deputy", municipality="Kolpino")
    sign(letter, "gleb@mail.example.org", role="municipal deputy", municipality="Samara")
    integrate()  # the worker's sequencing, so the verification is in the chart
    for path in (f"/p/{letter.slug}/", f"/p/{letter.slug}/embed/"):
        found = violations(browser, f"{live_server.url}{path}")
        assert found == [], [(v["id"], v["help"]) for v in found]
