"""Every page, the log-in page too, is named after SITE_NAME, never after the request's host."""

import re
from typing import Any

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

NAME = "Kolpino Neighbours"


@pytest.fixture(autouse=True)
def site_name(settings: Any) -> None:
    settings.SITE_NAME = NAME


def title_of(page: str) -> str:
    match = re.search(r"<title>(.*?)</title>", page, re.S)
    assert match, page[:500]
    return match.group(1).strip()


def test_the_login_page_names_the_site_not_the_host(client: Client) -> None:
    # Django's LoginView would put the host ("testserver") in site_name.
    page = client.get("/accounts/login/", HTTP_HOST="127.0.0.1").content.decode()
    assert title_of(page) == f"Log in — {NAME}"
    assert f'class="brand" href="/">{NAME}</a>' in page
    assert f"{NAME} — signatures are verified before they count." in page
    assert "127.0.0.1" not in page


def test_a_failed_login_still_names_the_site(client: Client) -> None:
    response = client.post("/accounts/login/", {"username": "nobody", "password": "wrong one"})
    page = response.content.decode()
    assert title_of(page) == f"Log in — {NAME}"
    assert "testserver" not in page


@pytest.mark.parametrize("path", ["/", "/accounts/signup/", "/log/", "/my-data/", "/nope/"])
def test_other_pages_name_the_site_too(client: Client, path: str) -> None:
    page = client.get(path).content.decode()
    assert title_of(page).endswith(NAME)
    assert f'class="brand" href="/">{NAME}</a>' in page
    assert "testserver" not in page
