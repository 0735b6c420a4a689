"""The home page and /petitions/: petitions by state, found by their words, a page at a time.

Both stand a surge as the petition page does (petitions/pages.py,
docs/performance.md H): the rows and their counts are rendered once per copy
of the page's rows and of its petitions' Standings, and for visitors without
a session the whole page is rendered once per copy, with only the CSRF token
(the language switch's form) put in per request. Everything that varies the
page is in the cache key: the checked query, the language, the scheme, the
host and the time zone. A request with a session (logged in, or pending
messages) or with a parameter that was not a valid choice gets its own
rendering around the same cached rows.
"""

import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.safestring import SafeString

from undersigned.petitions import listing
from undersigned.petitions.listing import PageRows, Problems, Query
from undersigned.petitions.services import FreshCache, register_cache

# Stands for the visitor's CSRF token in a page rendered for everyone; random
# per process, so no petition's text can be mistaken for it.
CSRF_PLACEHOLDER = f"csrf-placeholder-{secrets.token_hex(16)}"
MAX_SHELLS_PER_COPY = 16


@dataclass(frozen=True)
class RenderedRows:
    html: SafeString
    # Whole pages for visitors without a session, keyed by _shell_key().
    shells: dict[tuple[str, ...], str] = field(default_factory=dict, compare=False)


# Per (query, language, home page or not), kept per copy of the rows and of
# their counts (order=), so the rendering never shows older counts than the
# Standings this request was given.
_rendered: FreshCache[tuple[Query, str, bool], RenderedRows] = register_cache(FreshCache())


def _shell_key(request: HttpRequest) -> tuple[str, ...] | None:
    """Which page-for-everyone fits this request, or None if it needs its own rendering."""
    if (
        settings.SESSION_COOKIE_NAME in request.COOKIES
        or CookieStorage.cookie_name in request.COOKIES
    ):
        return None
    return (request.scheme or "", request.get_host(), timezone.get_current_timezone_name() or "")


def _page_numbers(page: int, pages: int) -> list[int | None]:
    """The page links to show: first, last, and two either side of this one (None: a gap)."""
    shown = sorted({1, pages, *range(max(1, page - 2), min(pages, page + 2) + 1)})
    numbers: list[int | None] = []
    for n in shown:
        if numbers and n - (numbers[-1] or 0) > 1:
            numbers.append(None)
        numbers.append(n)
    return numbers


def _url(query: Query, **changes: object) -> str:
    params = query.params(**changes)
    return reverse("petitions") + (f"?{urlencode(params)}" if params else "")


def _render_rows(query: Query, rows: PageRows, listed: list[listing.Listed], home: bool) -> str:
    pages = rows.pages
    language = translation.get_language() or settings.LANGUAGE_CODE
    return render_to_string(
        "petitions/_listing_rows.html",
        {
            # Each with its title and excerpt in the reader's language (else the
            # original's) and its register's name in it.
            "listed": [
                (
                    item,
                    item.row.text_in(language),
                    item.row.petition.register.terms(language).name
                    if item.row.petition.register is not None
                    else "",
                )
                for item in listed
            ],
            "query": query,
            "home": home,
            "total": rows.total,
            "pages": pages,
            "previous_url": _url(query, page=query.page - 1) if query.page > 1 else "",
            "next_url": _url(query, page=query.page + 1) if query.page < pages else "",
            "more_url": _url(query, page=2) if home and pages > 1 else "",
            "page_links": [
                (n, _url(query, page=n) if n is not None else "")
                for n in _page_numbers(query.page, pages)
            ]
            if pages > 1 and not home
            else [],
        },
    )


def _page(request: HttpRequest, query: Query, *, home: bool, problems: Problems) -> HttpResponse:
    language = translation.get_language() or settings.LANGUAGE_CODE
    rows = listing.page_rows(query)
    standings = listing.standings_of(rows)
    order = (rows.serial, tuple(standings[r.petition.pk].order for r in rows.rows))
    rendered = _rendered.get(
        (query, language, home),
        lambda: RenderedRows(
            # render_to_string output of an autoescaped template.
            SafeString(  # nosec B703
                _render_rows(query, rows, listing.with_counts(query, rows, standings), home)
            )
        ),
        order=order,
    )
    shell_key = _shell_key(request) if not problems else None
    shell = rendered.shells.get(shell_key) if shell_key is not None else None
    if shell is None:
        context: dict[str, Any] = {
            "home": home,
            "query": query,
            "problems": problems,
            "rows_html": rendered.html,
            "states": listing.state_choices(),
            "sorts": list(listing.SORTS.items()),
            "here": _url(query) if not home else reverse("home"),
            "max_query_length": listing.MAX_QUERY_LENGTH,
        }
        if shell_key is None:
            return render(request, "petitions/listing.html", context)
        context["csrf_token"] = CSRF_PLACEHOLDER
        shell = render_to_string("petitions/listing.html", context, request)
        if len(rendered.shells) >= MAX_SHELLS_PER_COPY:
            rendered.shells.clear()
        rendered.shells[shell_key] = shell
    return HttpResponse(shell.replace(CSRF_PLACEHOLDER, get_token(request)))


def home(request: HttpRequest) -> HttpResponse:
    """The open petitions with the most signatures; the rest is on /petitions/.

    The query string is ignored (a shared link's tracking parameters must not
    make every visitor's page its own).
    """
    return _page(request, Query(), home=True, problems=Problems())


def petitions(request: HttpRequest) -> HttpResponse:
    """?state=open|closed|…|all, ?q=words, ?sort=signatures|newest, ?page=N."""
    query, problems = listing.parse(request.GET)
    return _page(request, query, home=False, problems=problems)
