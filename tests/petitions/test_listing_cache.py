"""The listings stand a surge as the petition page does: the whole page is rendered once for
every visitor without a session, with only their CSRF token put in, and a cached page costs
the read of its petitions' count marks. Requests run outside the test's transaction
(transactional_db), as in production, so the caches are on."""

import re
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.conftest import confirm_now, make_petition, second_factor_login
from undersigned.petitions import listing_views, standing
from undersigned.petitions.models import CountMark, Petition
from undersigned.signing import services as signing

pytestmark = pytest.mark.django_db(transaction=True)

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@pytest.fixture(autouse=True)
def cache_on(settings: Any) -> None:
    settings.COUNT_CACHE_SECONDS = 60


@pytest.fixture
def listed(organiser: User) -> list[Petition]:
    return [
        make_petition(organiser, slug=f"p{n}", title=f"Petition {n}", body="Parks and schools.")
        for n in range(3)
    ]


def verify(petition: Petition, n: int) -> None:
    request = signing.SignRequest(full_name=f"Person {n}", email=f"p{n}@example.org")
    confirm_now(signing.sign(petition, request))


@pytest.mark.parametrize("path", ["/", "/petitions/?state=all&sort=newest", "/petitions/?q=parks"])
def test_each_anonymous_visitor_gets_the_same_page_with_a_working_token_of_their_own(
    listed: list[Petition], path: str
) -> None:
    first, second = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    one, two = first.get(path), second.get(path)
    assert one.context is not None  # rendered
    assert two.context is None  # the page made for the first visitor
    (token_one,), (token_two,) = TOKEN.findall(one.content.decode()), TOKEN.findall(
        two.content.decode()
    )
    assert token_one != token_two
    assert listing_views.CSRF_PLACEHOLDER not in two.content.decode()
    assert TOKEN.sub("", one.content.decode()) == TOKEN.sub("", two.content.decode())
    # The language switch works with each visitor's own token, and not with the other's.
    def switch(token: str) -> int:
        form = {"language": "ru", "next": "/", "csrfmiddlewaretoken": token}
        return int(second.post("/i18n/setlang/", form).status_code)

    assert switch(token_one) == 403
    assert switch(token_two) == 302


def test_a_cached_page_costs_one_read_of_its_marks(listed: list[Petition]) -> None:
    client = Client()
    client.get("/petitions/?q=schools")
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/petitions/?q=schools").status_code == 200
    assert len(queries) == 1, [q["sql"] for q in queries.captured_queries]
    assert CountMark._meta.db_table in queries.captured_queries[0]["sql"]


def test_the_listing_never_shows_a_count_older_than_one_already_served(
    listed: list[Petition],
) -> None:
    client = Client()
    assert "<strong>0</strong> verified" in client.get("/").content.decode()
    verify(listed[1], 1)
    # Another process (a worker, another server) read the new count and served it.
    standing._publish(listed[1].pk, standing.read(listed[1]))
    page = client.get("/").content.decode()
    assert "<strong>1</strong> verified" in page
    # The petition with the signature now comes first.
    assert page.index("Petition 1") < page.index("Petition 0")


def test_languages_and_logged_in_users_get_pages_of_their_own(
    listed: list[Petition], organiser: User
) -> None:
    Client().get("/")
    russian = Client().get("/", HTTP_ACCEPT_LANGUAGE="ru")
    assert russian.context is not None and 'lang="ru"' in russian.content.decode()
    user = second_factor_login(Client(), organiser)
    mine = user.get("/")
    assert mine.context is not None
    assert "Log out" in mine.content.decode()
    assert "Log out" not in Client().get("/").content.decode()


def test_a_choice_that_is_not_offered_is_rendered_for_that_request(
    listed: list[Petition],
) -> None:
    Client().get("/petitions/")
    wrong = Client().get("/petitions/?state=nonsense")
    assert wrong.context is not None
    assert "There is no such state" in wrong.content.decode()
    assert "There is no such state" not in Client().get("/petitions/").content.decode()
