"""The petition page rendered once for every visitor without a session.

In a surge the page is read by thousands of anonymous visitors, so it is
rendered once per copy of the cached parts and only the CSRF token is put in
per request. These tests pin what must stay per visitor: each one's token
(and that it works), a logged-in user's own page, pending messages, the
language, and anything a query string asks for. Requests run outside the
test's transaction (transactional_db), as in production, so the cache is on.
"""

import re
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from undersigned.petitions import pages
from undersigned.petitions.models import Petition
from undersigned.petitions.services import forget_cached_counts

TOKEN_IN_FORM = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def cache_on(settings: Any) -> None:
    settings.COUNT_CACHE_SECONDS = 60


def tokens_in(page: Any) -> list[str]:
    return TOKEN_IN_FORM.findall(page.content.decode())


def sign_with(client: Client, petition: Petition, token: str, email: str) -> int:
    response = client.post(
        f"/p/{petition.slug}/sign/",
        {
            "full_name": "Olga Visitor",
            "email": email,
            "visibility": "show",
            "csrfmiddlewaretoken": token,
        },
    )
    return response.status_code


def test_each_anonymous_visitor_gets_a_working_token_of_their_own(petition: Petition) -> None:
    first, second = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    first_page = first.get(f"/p/{petition.slug}/")
    second_page = second.get(f"/p/{petition.slug}/")
    assert first_page.context is not None  # rendered
    assert second_page.context is None  # the page made for the first visitor
    assert pages.CSRF_PLACEHOLDER not in second_page.content.decode()
    first_tokens, second_tokens = tokens_in(first_page), tokens_in(second_page)
    # The language switch and the sign form each carry the visitor's token.
    assert len(first_tokens) == len(second_tokens) == 2
    assert set(first_tokens).isdisjoint(second_tokens)
    assert second.cookies["csrftoken"].value != first.cookies["csrftoken"].value

    assert sign_with(second, petition, second_tokens[1], "second@example.org") == 302
    assert sign_with(first, petition, first_tokens[1], "first@example.org") == 302


def test_a_token_from_someone_elses_page_is_still_refused(petition: Petition) -> None:
    first, second = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    first.get(f"/p/{petition.slug}/")
    stolen = tokens_in(first.get(f"/p/{petition.slug}/"))[1]
    second.get(f"/p/{petition.slug}/")
    assert sign_with(second, petition, stolen, "victim@example.org") == 403


def test_apart_from_the_token_everyone_sees_the_same_page(petition: Petition) -> None:
    pages = [Client().get(f"/p/{petition.slug}/").content.decode() for _ in range(2)]
    # The form's stamp of when it was rendered is per visitor too (abuse/formtime.py).
    per_visitor = re.compile(r'name="(?:csrfmiddlewaretoken|form_started)" value="[^"]+"')
    first, second = (per_visitor.sub("", page) for page in pages)
    assert first == second


def test_a_logged_in_user_never_gets_the_anonymous_page(
    petition: Petition, organiser: User
) -> None:
    anonymous = Client().get(f"/p/{petition.slug}/").content.decode()
    assert "Log out" not in anonymous
    logged_in = Client()
    logged_in.force_login(organiser)
    page = logged_in.get(f"/p/{petition.slug}/")
    assert page.context is not None
    assert "Log out" in page.content.decode()
    # ... and their page does not become everyone's.
    assert "Log out" not in Client().get(f"/p/{petition.slug}/").content.decode()


def test_a_pending_message_is_shown_to_its_visitor(petition: Petition) -> None:
    Petition.objects.filter(pk=petition.pk).update(status=Petition.Status.CLOSED)
    forget_cached_counts()  # as a second later: the close is seen
    Client().get(f"/p/{petition.slug}/")  # the page for everyone exists
    visitor = Client()
    response = visitor.post(
        f"/p/{petition.slug}/sign/",
        {"full_name": "Late Signer", "email": "late@example.org", "visibility": "show"},
        follow=True,
    )
    assert "no longer takes signatures" in response.content.decode()
    assert response.redirect_chain[-1][0] == f"/p/{petition.slug}/"


def test_each_language_has_its_own_page(petition: Petition) -> None:
    english = Client(HTTP_ACCEPT_LANGUAGE="en").get(f"/p/{petition.slug}/")
    russian = Client(HTTP_ACCEPT_LANGUAGE="ru").get(f"/p/{petition.slug}/")
    assert english.content.decode().count('<html lang="en"') == 1
    assert russian.content.decode().count('<html lang="ru"') == 1
    again = Client(HTTP_ACCEPT_LANGUAGE="ru").get(f"/p/{petition.slug}/")
    assert again.context is None
    assert '<html lang="ru"' in again.content.decode()


def test_a_query_string_gets_a_page_of_its_own(petition: Petition) -> None:
    Client().get(f"/p/{petition.slug}/")
    page = Client().get(f"/p/{petition.slug}/?utm_source=poster")
    assert page.context is not None
    assert page.status_code == 200


def test_nothing_is_kept_with_the_cache_off(petition: Petition, settings: Any) -> None:
    settings.COUNT_CACHE_SECONDS = 0
    for _ in range(2):
        page = Client().get(f"/p/{petition.slug}/")
        assert page.context is not None
