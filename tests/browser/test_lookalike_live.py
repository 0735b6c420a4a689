"""While a creator types a title, the form lists the published petitions it looks like."""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from tests.conftest import confirm_now, make_petition, second_factor_login
from undersigned.petitions.models import Petition
from undersigned.signing import services as signing

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"


@pytest.fixture
def deputies(organiser: User) -> Petition:
    petition = make_petition(organiser, slug="deputies", title="Депутатам муниципальных собраний")
    for i in range(2):
        confirm_now(
            signing.sign(
                petition, signing.SignRequest(full_name=f"Signer {i}", email=f"s{i}@example.org")
            )
        )
    return petition


@pytest.fixture
def form_page(
    live_server: LiveServer, organiser: User, open_page: Callable[..., Page]
) -> Callable[..., Page]:
    session = second_factor_login(Client(), organiser).cookies["sessionid"].value

    def open_form(locale: str = "en-GB") -> Page:
        page = open_page(
            1280,
            locale=locale,
            cookies=[{"name": "sessionid", "value": session, "url": live_server.url}],
        )
        page.goto(f"{live_server.url}/dashboard/new/")
        return page

    return open_form


def test_the_list_follows_the_title_and_the_save_then_goes_through(
    form_page: Callable[..., Page], deputies: Petition, live_server: LiveServer
) -> None:
    page = form_page()
    region = page.locator("#lookalikes")
    expect(region).to_have_attribute("aria-live", "polite")
    expect(region).to_be_empty()

    page.get_by_label("Title").press_sequentially("deputatam munitsipalnykh")
    link = region.get_by_role("link", name="Депутатам муниципальных собраний")
    expect(link).to_have_attribute("href", "/p/deputies/")
    expect(link).not_to_have_attribute("target", "_blank")
    expect(region.get_by_role("heading", name="Petitions that look like yours")).to_be_visible()
    expect(region).to_contain_text("Open 2 verified signatures")
    expect(page.locator("#lookalikes-seen")).to_have_value("deputatam munitsipalnykh")

    # The list, as the script writes it, passes axe as the server's does.
    page.evaluate(AXE.read_text())
    result: Any = page.evaluate(
        "() => axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa']}})"
    )
    serious = [v for v in result["violations"] if v["impact"] in ("serious", "critical")]
    assert serious == [], json.dumps(serious, indent=1)

    # Another title: the list goes.
    page.get_by_label("Title").fill("Night buses for Samara")
    expect(region).to_be_empty()
    expect(page.locator("#lookalikes-seen")).to_have_value("")

    # Back to the lookalike: the creator has seen the list, so saving goes through at once.
    page.get_by_label("Title").fill("Deputatam munitsipalnykh sobraniy")
    expect(link).to_be_visible()
    page.get_by_label("Text", exact=True).fill("Просим вас.")
    page.get_by_label("Organiser shown to the public").fill("Friends of Kolpino")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("Draft saved.")).to_be_visible()
    assert Petition.objects.filter(status=Petition.Status.DRAFT).count() == 1


def test_the_russian_form_counts_in_russian(
    form_page: Callable[..., Page], deputies: Petition
) -> None:
    page = form_page("ru-RU")
    page.get_by_label("Заголовок").fill("Депутатам муниципальных собраний")
    region = page.locator("#lookalikes")
    expect(region.get_by_role("heading", name="Петиции, похожие на вашу")).to_be_visible()
    expect(region).to_contain_text("2 проверенные подписи")
