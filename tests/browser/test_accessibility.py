"""WCAG 2.2 AA: axe-core finds no serious or critical violation on any public page or the
moderator's queue."""

import json
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from playwright.sync_api import Browser

from tests.conftest import link_in, second_factor_login
from undersigned.api.open_data import build_dump
from undersigned.ops.management.commands.worker import run_once
from undersigned.petitions.models import Petition

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def violations(browser: Browser, url: str, cookies: list[dict[str, Any]] | None = None) -> Any:
    # Playwright's evaluate is not bound by the page's CSP; bypass_csp keeps axe's own
    # helpers working too. The page itself is served with its real policy.
    context = browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 900})
    try:
        if cookies:
            context.add_cookies(cookies)
        page = context.new_page()
        page.goto(url)
        page.evaluate(AXE.read_text())
        result = page.evaluate(
            "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", TAGS
        )
        return [v for v in result["violations"] if v["impact"] in ("serious", "critical")]
    finally:
        context.close()


@pytest.fixture
def pages(
    live_server: Any, petition: Petition, letter: Petition, deliver: Any, settings: Any
) -> dict[str, str]:
    settings.SITE_URL = live_server.url
    client = Client()
    client.post(
        f"/p/{petition.slug}/sign/",
        {"full_name": "Anna Belova", "email": "a@example.org", "visibility": "show"},
    )
    mail = deliver().last_to("a@example.org")
    confirm_link, withdraw_link = link_in(mail, "confirm"), link_in(mail, "withdraw")
    base = live_server.url
    urls = {
        "home": "/",
        "petitions": "/petitions/?state=all&sort=newest",
        "petitions found": "/petitions/?q=clean",
        "petitions, none found": "/petitions/?q=volcano&state=closed",
        "open data": "/data/",
        "petition": f"/p/{petition.slug}/",
        "letter": f"/p/{letter.slug}/",
        "signatories": f"/p/{petition.slug}/signatories/",
        "check mail": f"/p/{petition.slug}/signed/",
        "confirm": confirm_link,
        "withdraw": withdraw_link,
        "bad link": "/confirm/nonsense/",
        "log": "/log/",
        "log of a petition": f"/log/?petition={petition.slug}",
        "check receipt": "/log/check-receipt/",
        "my data": "/my-data/",
        "login": "/accounts/login/",
        "signup": "/accounts/signup/",
        "not found": "/nope/",
    }
    client.post(confirm_link)
    run_once()
    build_dump()  # so that the open data page lists a dump
    return {name: base + path for name, path in urls.items()}


def test_public_pages(browser: Browser, pages: dict[str, str]) -> None:
    found = {name: violations(browser, url) for name, url in pages.items()}
    problems = {
        name: [(v["id"], v["help"], len(v["nodes"])) for v in found[name]]
        for name in found
        if found[name]
    }
    assert not problems, json.dumps(problems, indent=1)


def test_the_moderators_queue_and_review(
    browser: Browser, live_server: Any, letter: Petition, deliver: Any
) -> None:
    client = Client()
    client.post(
        f"/p/{letter.slug}/sign/",
        {
            "full_name": "Xenia Lindstrom",
            "email": "x@mail.example.org",
            "visibility": "show",
            "role": "municipal deputy",
            "municipality": "Semenovsky",
        },
    )
    client.post(link_in(deliver().last_to("x@mail.example.org"), "confirm"))
    moderator = User.objects.create_user("mod", "mod@example.org", "pw-for-tests-only")
    letter.moderators.add(moderator)
    session = second_factor_login(Client(), moderator).cookies["sessionid"].value
    cookies = [{"name": "sessionid", "value": session, "url": live_server.url}]
    from undersigned.signing.models import Signature

    review = f"{live_server.url}/moderation/{Signature.objects.get().pk}/"
    for url in (f"{live_server.url}/moderation/", review, f"{live_server.url}/moderation/sources/"):
        found = violations(browser, url, cookies)
        assert not found, json.dumps([(v["id"], v["help"]) for v in found], indent=1)
