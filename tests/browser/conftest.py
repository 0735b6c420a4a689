"""Browser fixtures: Debian's chromium driven by Playwright against pytest-django's live server.

Playwright is never allowed to fetch a browser of its own: the tests launch
/usr/bin/chromium (``apt-get install chromium``) and skip when it is missing,
unless CI=true, where a missing browser is a failure.
"""

import os
import shutil
from collections.abc import Callable, Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    expect,
    sync_playwright,
)

CHROMIUM = os.environ.get("UNDERSIGNED_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "docs" / "screenshots"
PHONE = 360  # the narrowest width the pages are made for
DESKTOP = 1280
# Generous for a loaded CI machine; a working page answers in well under a second.
TIMEOUT_MS = 15_000
expect.set_options(timeout=10_000)


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    if not (os.path.isfile(CHROMIUM) or shutil.which(CHROMIUM)):
        message = f"{CHROMIUM} not found: apt-get install --no-install-recommends chromium"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    # Playwright's sync API keeps an asyncio loop in this thread, so Django
    # would refuse ORM calls from the test body ("async unsafe") without this.
    # Set only while browser tests run, so other tests keep Django's guard.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as p:
            yield p
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """One chromium per test module."""
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh profile per test: no cookies or sessions leak between tests."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


@pytest.fixture
def open_page(browser: Browser) -> Iterator[Callable[..., Page]]:
    """Pages in fresh profiles of a given width and language (Accept-Language)."""
    contexts: list[BrowserContext] = []

    def open_page(
        width: int, *, locale: str = "en-GB", cookies: list[dict[str, Any]] | None = None
    ) -> Page:
        context = browser.new_context(
            viewport={"width": width, "height": 780 if width < 600 else 900},
            locale=locale,
            device_scale_factor=1,
        )
        context.set_default_timeout(TIMEOUT_MS)
        context.set_default_navigation_timeout(TIMEOUT_MS)
        if cookies:
            context.add_cookies(cookies)  # type: ignore[arg-type]
        contexts.append(context)
        return context.new_page()

    try:
        yield open_page
    finally:
        for context in contexts:
            context.close()


@pytest.fixture
def demo_site(live_server: Any, settings: Any) -> str:
    """The live server holding what `undersigned demo` loads, its log sequenced and signed."""
    from tests.conftest import seed_standards
    from undersigned.ops.management.commands.worker import run_once

    settings.SITE_URL = live_server.url
    seed_standards()  # the demo rejects a duplicate for one
    call_command("demo", stdout=StringIO())
    run_once()  # as the worker would: log entries numbered, a checkpoint signed
    return str(live_server.url)
