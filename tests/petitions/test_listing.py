"""The home page and /petitions/: petitions by state, found by their words in any script,
by signatures or by date, a page at a time with plain links."""

import re
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.conftest import confirm_now, make_petition
from undersigned.petitions import listing
from undersigned.petitions import services as petitions
from undersigned.petitions.models import Petition, SearchWord, TextVersion
from undersigned.signing import services as signing

pytestmark = pytest.mark.django_db


def sign(petition: Petition, n: int, *, confirm: bool = True) -> None:
    for i in range(n):
        signature = signing.sign(
            petition,
            signing.SignRequest(full_name=f"Signer {i}", email=f"s{i}-{petition.slug}@example.org"),
        )
        if confirm:
            confirm_now(signature)


def titles(response: Any) -> list[str]:
    """The petitions' titles in the order the page lists them."""
    heading = re.compile(r'<h3 class="first"><a href="/p/[^/]+/" lang="\w+">([^<]+)</a>')
    return heading.findall(response.content.decode())


@pytest.fixture
def three(organiser: User) -> dict[str, Petition]:
    """Open petitions with 3 and 1 verified, a closed one with 2, and a draft."""
    parks = make_petition(organiser, slug="parks", title="Save the parks", body="Keep every park.")
    sign(parks, 3)
    schools = make_petition(
        organiser, slug="schools", title="Школы для всех", body="Депутатам муниципальных советов."
    )
    sign(schools, 1)
    closed = make_petition(organiser, slug="river", title="Clean the river", body="Fish.")
    sign(closed, 2)
    petitions.close(closed, organiser)
    make_petition(organiser, slug="draft", title="Secret draft park", publish=False)
    return {"parks": parks, "schools": schools, "closed": closed}


def test_the_home_page_lists_open_petitions_with_the_most_signatures_first(
    client: Client, three: dict[str, Petition]
) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert titles(page) == ["Save the parks", "Школы для всех"]
    text = page.content.decode()
    assert "Clean the river" not in text and "Secret draft" not in text
    assert "<strong>3</strong> verified" in text and "<strong>1</strong> verified" in text
    # A shared link's tracking parameters change nothing.
    assert titles(client.get("/?utm_source=x&state=closed")) == titles(page)


def test_states_filter_the_listing_and_each_row_says_its_state(
    client: Client, three: dict[str, Petition]
) -> None:
    assert titles(client.get("/petitions/")) == ["Save the parks", "Школы для всех"]
    closed = client.get("/petitions/?state=closed")
    assert titles(closed) == ["Clean the river"]
    assert 'class="badge state-closed">Closed</span>' in closed.content.decode()
    assert titles(client.get("/petitions/?state=all")) == [
        "Save the parks",
        "Clean the river",
        "Школы для всех",
    ]


def test_a_petition_past_its_deadline_is_closed_before_the_worker_says_so(
    client: Client, organiser: User
) -> None:
    late = make_petition(organiser, slug="late", title="Late one")
    Petition.objects.filter(pk=late.pk).update(deadline=timezone.now() - timedelta(minutes=1))
    assert titles(client.get("/petitions/")) == []
    assert titles(client.get("/petitions/?state=closed")) == ["Late one"]


def test_order_by_date_puts_the_newest_first(client: Client, three: dict[str, Petition]) -> None:
    Petition.objects.filter(slug="parks").update(opened_at=timezone.now() - timedelta(days=3))
    newest = client.get("/petitions/?state=all&sort=newest")
    assert titles(newest) == ["Clean the river", "Школы для всех", "Save the parks"]
    # The form says what is chosen.
    text = newest.content.decode()
    assert '<option value="newest" selected>' in text and '<option value="all" selected>' in text


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("parks", ["Save the parks"]),  # the title
        ("PARK", ["Save the parks"]),
        ("every", ["Save the parks"]),  # the text
        ("shkoly", ["Школы для всех"]),  # Latin for Cyrillic
        ("депутатам", ["Школы для всех"]),
        ("deputatam", ["Школы для всех"]),
        ("депутаты", ["Школы для всех"]),  # another ending of the same word
        ("муниципальные советы", ["Школы для всех"]),  # every word, in any order
        ("парк", ["Save the parks"]),  # Cyrillic for Latin
        ("park school", []),  # every word must be found in one petition
        ("secret", []),  # drafts are never found
        ("fish", []),  # closed: not in the open state
    ],
)
def test_search_finds_words_of_titles_and_texts_in_any_script(
    client: Client, three: dict[str, Petition], query: str, found: list[str]
) -> None:
    assert titles(client.get("/petitions/", {"q": query})) == found


def test_search_in_another_state_and_what_an_empty_search_says(
    client: Client, three: dict[str, Petition]
) -> None:
    found = client.get("/petitions/", {"q": "fish", "state": "closed"})
    assert titles(found) == ["Clean the river"]
    none = client.get("/petitions/", {"q": "volcano"}).content.decode()
    assert "0 petitions found for “volcano”" in none
    assert "No petition matches these words" in none
    # Only punctuation: nothing to look for, nothing found, no error.
    assert titles(client.get("/petitions/", {"q": "!!! ---"})) == []


def test_a_correction_replaces_the_words_searched(
    client: Client, organiser: User, three: dict[str, Petition]
) -> None:
    petitions.new_version(
        three["parks"],
        organiser,
        title="Save the gardens",
        body="Keep every garden.",
        language="en",
        change_note="gardens, not parks",
    )
    assert titles(client.get("/petitions/", {"q": "gardens"})) == ["Save the gardens"]
    assert titles(client.get("/petitions/", {"q": "parks"})) == []


def test_every_published_language_is_searched(
    client: Client, organiser: User, three: dict[str, Petition]
) -> None:
    TextVersion.objects.create(
        petition=three["parks"],
        number=2,
        title="Спасите парки",
        body="Сохраните каждый сквер.",
        language="ru",
        published_at=timezone.now(),
    )
    # Found by the words of either text; each reader is shown the title in their
    # language, as the petition's page shows it.
    assert titles(client.get("/petitions/", {"q": "сквер"})) == ["Save the parks"]
    assert titles(client.get("/petitions/", {"q": "skver"})) == ["Save the parks"]
    russian = client.get("/petitions/", {"q": "every"}, HTTP_ACCEPT_LANGUAGE="ru")
    assert titles(russian) == ["Спасите парки"]


def test_search_reads_the_index_and_no_signature(
    client: Client, three: dict[str, Petition]
) -> None:
    assert SearchWord.objects.filter(petition=three["schools"], word="deputatam").exists()
    with CaptureQueriesContext(connection) as queries:
        client.get("/petitions/", {"q": "депутатам", "sort": "signatures"})
    sql = " ".join(q["sql"] for q in queries.captured_queries)
    assert "petitions_searchword" in sql
    assert "signing_signature" not in sql  # counts come from the tallies, never the rows
    assert "LIKE" not in sql.upper()  # index ranges, no scan of any text


def test_pages_of_twenty_with_plain_links(client: Client, organiser: User) -> None:
    for n in range(45):
        make_petition(organiser, slug=f"p{n:02}", title=f"Petition number {n:02}")
    Petition.objects.update(opened_at=timezone.now())
    for n, petition in enumerate(Petition.objects.order_by("slug")):
        Petition.objects.filter(pk=petition.pk).update(
            opened_at=timezone.now() - timedelta(hours=n)
        )
    first = client.get("/petitions/?sort=newest")
    assert titles(first) == [f"Petition number {n:02}" for n in range(20)]
    text = first.content.decode()
    assert "45 petitions · page 1 of 3" in text
    assert '<a href="/petitions/?sort=newest&amp;page=2" rel="next">Next page</a>' in text
    assert "<script" not in text
    last = client.get("/petitions/?sort=newest&page=3")
    assert titles(last) == [f"Petition number {n:02}" for n in range(40, 45)]
    assert 'rel="prev"' in last.content.decode() and 'rel="next"' not in last.content.decode()
    assert titles(client.get("/petitions/?sort=newest&page=9")) == []
    # The home page shows the first page and links to the rest.
    home = client.get("/").content.decode()
    assert '<a href="/petitions/?page=2">More open petitions</a>' in home


@pytest.mark.parametrize(
    ("params", "said"),
    [
        ({"state": "nonsense"}, "There is no such state to choose"),
        ({"sort": "popularity"}, "There is no such order to choose"),
        ({"page": "abc"}, "A page is a whole number from 1"),
        ({"page": "0"}, "A page is a whole number from 1"),
    ],
)
def test_a_choice_that_is_not_offered_is_said_and_the_default_shown(
    client: Client, three: dict[str, Petition], params: dict[str, str], said: str
) -> None:
    response = client.get("/petitions/", params)
    assert response.status_code == 200
    assert said in response.content.decode()
    assert titles(response) == ["Save the parks", "Школы для всех"]


def test_the_form_is_labelled_and_works_without_javascript(
    client: Client, three: dict[str, Petition]
) -> None:
    text = client.get("/").content.decode()
    assert 'action="/petitions/"' in text and 'method="get"' in text
    for field in ("listing-q", "listing-state", "listing-sort"):
        assert f'<label for="{field}">' in text and f'id="{field}"' in text
    assert text.index("<h1>") < text.index("<h2 ") < text.index("<h3 ")


def test_the_page_in_russian(client: Client, three: dict[str, Petition]) -> None:
    text = client.get("/petitions/?state=all", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "Петиции и письма" in text
    assert "Сбор подписей закрыт" in text and "Идёт сбор подписей" in text


def test_query_words_are_folded_stemmed_and_bounded() -> None:
    from undersigned.petitions.search import _after, search_terms

    assert search_terms("Депутатам муниципальных") == ["deputat", "munitsipaln"]
    assert search_terms("park parks") == ["park"]
    assert search_terms("a b") == ["a", "b"]  # one-letter words when that is all there is
    assert search_terms("a park") == ["park"]
    assert len(search_terms(" ".join(f"w{n}xx" for n in range(20)))) == 8
    assert _after("abc") == "abd" and _after("abz") == "ac" and _after("a9") == "aa"
    assert _after("zz") is None
    assert listing.parse({"q": "  many   spaces  "})[0].q == "many spaces"


def test_the_steps_states_filter_the_listing(client: Client, organiser: User) -> None:
    from undersigned.updates.services import ask_addressees, publish_outcome, publish_response

    waiting, answered, debated = (
        make_petition(organiser, slug=title.lower(), title=title, response_threshold=1)
        for title in ("Waiting", "Answered", "Debated")
    )
    for petition in (waiting, answered, debated):
        sign(petition, 1)
    ask_addressees()  # the worker records the response step, reached at 1
    today = timezone.localdate()
    for petition in (answered, debated):
        publish_response(
            petition, organiser, answered_by="The Council", responded_on=today, text="No."
        )
    publish_outcome(debated, organiser, kind="debated", happens_on=today)

    def listed(state: str) -> list[str]:
        return sorted(titles(client.get("/petitions/", {"state": state})))

    assert listed("awaiting_response") == ["Waiting"]
    assert listed("responded") == ["Answered", "Debated"]
    assert listed("debated") == ["Debated"]
    assert listed("open") == ["Answered", "Debated", "Waiting"]
    page = client.get("/petitions/", {"state": "debated"}).content.decode()
    assert "Open</span>" in page and "Responded</span>" in page and "Debated</span>" in page
    assert '<option value="awaiting_response">Awaiting a response</option>' in page
