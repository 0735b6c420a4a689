"""The public pages' count cache: how stale a copy may be, and that it never goes back.

A fake clock drives petitions.services.FreshCache, so nothing here waits or
depends on the machine's speed. Tests without a database run outside any
transaction, as requests do; the page and API tests use transactional_db
for the same reason (inside a transaction the cache stays out of the way).
"""

import re
import threading
from typing import Any

import pytest
from django.test import Client

from undersigned.petitions import services as petitions
from undersigned.petitions import standing
from undersigned.petitions.models import Petition, Tally
from undersigned.petitions.services import FreshCache

LIMIT = 1.0
VERIFIED_ON_PAGE = re.compile(r'data-count="verified">([0-9,\s\u00a0]+)<')


def shown_verified(page: Any) -> int:
    """The verified count as the page shows it (a cached page has no template context)."""
    match = VERIFIED_ON_PAGE.search(page.content.decode())
    assert match is not None
    return int(re.sub(r"\D", "", match.group(1)))


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    def time(self) -> float:  # petitions.standing's copies are shared: wall-clock times
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch, settings: Any) -> Clock:
    settings.COUNT_CACHE_SECONDS = LIMIT
    fake = Clock()
    monkeypatch.setattr(petitions, "time", fake)
    monkeypatch.setattr(standing, "time", fake)
    return fake


class Reads:
    """A read that returns 1, 2, 3, ... and counts how often it ran."""

    def __init__(self) -> None:
        self.value = 0

    def __call__(self) -> int:
        self.value += 1
        return self.value


def test_a_copy_is_served_until_half_the_limit_then_refreshed(clock: Clock) -> None:
    cache: FreshCache[str, int] = FreshCache()
    read = Reads()
    assert cache.get("p", read) == 1
    clock.now += LIMIT / 2 - 0.01
    assert cache.get("p", read) == 1
    clock.now += 0.02  # past half the limit: this request refreshes
    assert cache.get("p", read) == 2
    clock.now += LIMIT * 5  # long idle: never served stale, read again
    assert cache.get("p", read) == 3
    assert read.value == 3


def test_others_get_the_copy_while_one_refreshes_but_never_past_the_limit(clock: Clock) -> None:
    cache: FreshCache[str, int] = FreshCache()
    assert cache.get("p", lambda: 1) == 1
    clock.now += LIMIT * 0.75
    inside, release = threading.Event(), threading.Event()

    def slow_read() -> int:
        inside.set()
        release.wait(10)
        return 2

    refresher = threading.Thread(target=lambda: cache.get("p", slow_read))
    refresher.start()
    assert inside.wait(10)
    # Within the limit, a second request does not wait for the refresh.
    assert cache.get("p", lambda: 99) == 1
    # At the limit it must wait, and then gets the refreshed value, not its own read.
    clock.now += LIMIT
    answers: list[int] = []
    waiter = threading.Thread(target=lambda: answers.append(cache.get("p", lambda: 99)))
    waiter.start()
    waiter.join(0.2)
    assert waiter.is_alive(), "a request at the limit was served the old copy"
    # Back to when the refresh began, so that its copy is fresh for the waiter.
    clock.now -= LIMIT
    release.set()
    refresher.join(10)
    waiter.join(10)
    assert answers == [2]


def test_refreshes_are_one_at_a_time_so_a_copy_is_only_replaced_by_a_later_read(
    clock: Clock,
) -> None:
    cache: FreshCache[str, int] = FreshCache()
    cache.get("p", lambda: 1)
    clock.now += LIMIT * 2
    started: list[int] = []
    lock = threading.Lock()
    counter = iter(range(2, 100))

    def read() -> int:
        with lock:
            value = next(counter)
            started.append(value)
        return value

    results: list[int] = []
    threads = [
        threading.Thread(target=lambda: results.append(cache.get("p", read))) for _ in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    # One refresh served everyone who arrived together.
    assert started == [2]
    assert results == [2] * 8


@pytest.mark.django_db
def test_reads_inside_a_transaction_bypass_the_cache(clock: Clock) -> None:
    cache: FreshCache[str, int] = FreshCache()
    read = Reads()
    assert cache.get("p", read) == 1
    assert cache.get("p", read) == 2  # the test's own transaction: never a copy


def test_turned_off_with_a_zero_limit(clock: Clock, settings: Any) -> None:
    settings.COUNT_CACHE_SECONDS = 0
    cache: FreshCache[str, int] = FreshCache()
    read = Reads()
    assert [cache.get("p", read) for _ in range(3)] == [1, 2, 3]


@pytest.mark.django_db(transaction=True)
def test_the_count_json_is_cached_and_unknown_petitions_are_not(
    clock: Clock, petition: Petition, django_assert_num_queries: Any
) -> None:
    # Outside the test's own transaction, as requests are: inside one the cache stays out.
    client = Client()
    url = f"/api/petitions/{petition.slug}"
    assert client.get(url).json()["verified_count"] == 0
    petitions.add_to_tally(petition.pk, ("", ""), "verified", 5)
    # A copy costs one read: the mark of the newest counts any process has
    # served, which this copy must not be older than (petitions.standing).
    with django_assert_num_queries(1):
        assert client.get(url).json()["verified_count"] == 0
    # Kept for half the limit (a refresh once a quarter has passed), the page's
    # parts for the whole: a poller sees a count at most half a second old.
    clock.now += LIMIT / 4 - 0.01
    with django_assert_num_queries(1):
        assert client.get(url).json()["verified_count"] == 0
    clock.now += 0.02
    assert client.get(url).json()["verified_count"] == 5
    petitions.add_to_tally(petition.pk, ("", ""), "verified", 1)
    clock.now += LIMIT / 2
    assert client.get(url).json()["verified_count"] == 6
    for n in range(3):
        assert client.get(f"/api/petitions/nothing-{n}").status_code == 404
    from undersigned.api import views

    assert [slug for slug, _ in views._details._copies] == [petition.slug]


@pytest.mark.django_db(transaction=True)
def test_the_petition_page_is_cached_like_the_count(clock: Clock, petition: Petition) -> None:
    client = Client()
    assert shown_verified(client.get(f"/p/{petition.slug}/")) == 0
    Tally.objects.create(petition=petition, verified=7)
    assert shown_verified(client.get(f"/p/{petition.slug}/")) == 0
    clock.now += LIMIT
    page = client.get(f"/p/{petition.slug}/")
    assert shown_verified(page) == 7
    assert "csrfmiddlewaretoken" in page.content.decode()  # the form is still per visitor


@pytest.mark.django_db(transaction=True)
def test_the_page_keeps_one_copy_per_language(clock: Clock, petition: Petition) -> None:
    # The names and the form are rendered in the visitor's language, so a
    # Russian page must never be served from the English copy.
    from undersigned.petitions import pages

    Client(HTTP_ACCEPT_LANGUAGE="en").get(f"/p/{petition.slug}/")
    Client(HTTP_ACCEPT_LANGUAGE="ru").get(f"/p/{petition.slug}/")
    # Keyed by the text's language too (tests/petitions/test_translations.py): here
    # the only text, in English, under both.
    assert sorted(pages._pages._copies) == [(petition.pk, "en", "en"), (petition.pk, "ru", "en")]
