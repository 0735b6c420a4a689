"""Copies of a petition's counts in different processes never step back (petitions.standing).

Two `Standings` stand for two processes (gunicorn workers, or servers sharing
the database); a fake clock drives them. The multi-process proof with real
servers is tests/scenarios/test_counts_never_back.py.
"""

import json
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import confirm_now
from undersigned.ledger.services import integrate
from undersigned.petitions import services as petitions
from undersigned.petitions import standing
from undersigned.petitions.models import CountMark, Petition, Tally
from undersigned.petitions.standing import Standings
from undersigned.signing import services as signing
from undersigned.signing.models import Signature
from undersigned.signing.tokens import new_token

# Outside the test's transaction, as requests are: inside one no copy is kept.
pytestmark = pytest.mark.django_db(transaction=True)

LIMIT = 1.0  # COUNT_CACHE_SECONDS; the counts are kept for half of it


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def time(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch, settings: Any) -> Clock:
    settings.COUNT_CACHE_SECONDS = LIMIT
    fake = Clock()
    monkeypatch.setattr(standing, "time", fake)
    return fake


def verify(petition: Petition, n: int) -> Signature:
    request = signing.SignRequest(full_name=f"Person {n}", email=f"p{n}@example.org")
    return confirm_now(signing.sign(petition, request))


def withdraw(signature: Signature) -> None:
    raw, signature.withdraw_token_hash = new_token()
    signature.save(update_fields=["withdraw_token_hash"])
    signing.withdraw(raw)


def test_a_process_never_serves_older_counts_than_another_served(
    clock: Clock, petition: Petition
) -> None:
    a, b = Standings(), Standings()
    verify(petition, 1)
    assert a.get(petition).verified == 1
    verify(petition, 2)
    # Another process read the tallies a moment later and served what it read.
    clock.now += 0.01
    later = standing.read(petition)
    standing._publish(petition.pk, later)
    # a's copy is young, but older than what was served: a takes over those counts.
    with CaptureQueriesContext(connection) as queries:
        assert a.get(petition).verified == 2
    assert len(queries) == 2  # the mark's order, then the counts stored with it
    assert not any(Tally._meta.db_table in q["sql"] for q in queries.captured_queries)
    # A process with no copy yet takes them over too, while they are fresh.
    with CaptureQueriesContext(connection) as queries:
        assert b.get(petition).verified == 2
    assert not any(Tally._meta.db_table in q["sql"] for q in queries.captured_queries)
    # From then on a copy as new as the mark costs the one read of the mark.
    with CaptureQueriesContext(connection) as queries:
        assert a.get(petition).verified == b.get(petition).verified == 2
    assert len(queries) == 2
    assert all(CountMark._meta.db_table in q["sql"] for q in queries.captured_queries)


def test_no_read_counts_signatures(clock: Clock, petition: Petition) -> None:
    for n in range(3):
        verify(petition, n)
    with CaptureQueriesContext(connection) as queries:
        Standings().get(petition)
    assert queries.captured_queries
    assert not any(
        Signature._meta.db_table in q["sql"] for q in queries.captured_queries
    ), queries.captured_queries


def test_a_withdrawal_lowers_the_count_but_the_order_still_rises(
    clock: Clock, petition: Petition
) -> None:
    a, b = Standings(), Standings()
    signed = [verify(petition, n) for n in range(3)]
    before = a.get(petition)
    withdraw(signed[0])
    clock.now += LIMIT  # a's copy is out of date; it reads again
    after = a.get(petition)
    assert (before.verified, after.verified) == (3, 2)
    assert after.order > before.order
    assert b.get(petition).verified == 2


def test_a_stale_mark_is_not_taken_over(clock: Clock, petition: Petition) -> None:
    a, b = Standings(), Standings()
    a.get(petition)
    verify(petition, 1)
    clock.now += LIMIT  # the mark's counts are a second old: b reads the tallies
    with CaptureQueriesContext(connection) as queries:
        assert b.get(petition).verified == 1
    assert any(Tally._meta.db_table in q["sql"] for q in queries.captured_queries)


def test_a_mark_without_the_checkpoints_paper_figure_is_not_taken_over(
    clock: Clock, petition: Petition
) -> None:
    # Published by a process of the version before log_paper (during an
    # upgrade): taking it over would serve 0 on paper at the checkpoint.
    verify(petition, 1)
    read = standing.read(petition)
    standing._publish(petition.pk, read)
    published = json.loads(read.to_json())
    del published["log_paper"]
    CountMark.objects.filter(pk=petition.pk).update(counts=json.dumps(published))
    with CaptureQueriesContext(connection) as queries:
        assert Standings().get(petition).verified == 1
    assert any(Tally._meta.db_table in q["sql"] for q in queries.captured_queries)


def test_copies_are_refreshed_after_half_the_limit(clock: Clock, petition: Petition) -> None:
    a = Standings()
    a.get(petition)
    verify(petition, 1)
    clock.now += LIMIT / 4 - 0.01
    assert a.get(petition).verified == 0
    clock.now += 0.02
    assert a.get(petition).verified == 1


def test_an_older_publisher_never_lowers_the_mark(clock: Clock, petition: Petition) -> None:
    old = standing.read(petition)
    verify(petition, 1)
    new = standing.read(petition)
    standing._publish(petition.pk, new)
    standing._publish(petition.pk, old)  # a slow process, publishing its older read late
    mark = CountMark.objects.get(petition=petition)
    assert (mark.changes, mark.log_size) == new.order
    assert standing.Standing.from_json(mark.counts) == new


def test_rebuilt_tallies_are_served_even_below_the_mark(clock: Clock, petition: Petition) -> None:
    a = Standings()
    for n in range(2):
        verify(petition, n)
    assert a.get(petition).verified == 2
    # An operator restores an older backup: the tallies (and their changes) go back.
    Tally.objects.filter(petition=petition).update(verified=1, changes=1)
    clock.now += LIMIT
    assert a.get(petition).verified == 1
    assert CountMark.objects.get(petition=petition).changes == 1


def test_the_counts_name_the_checkpoint_they_agree_with(clock: Clock, petition: Petition) -> None:
    a = Standings()
    empty = a.get(petition)
    assert (empty.log_size, empty.checkpoint_time, empty.log_verified) == (0, None, 0)
    verify(petition, 1)
    integrate()
    verify(petition, 2)  # recorded, not yet in a checkpoint
    clock.now += LIMIT
    now = a.get(petition)
    assert now.verified == 2 and now.log_verified == 1
    assert now.log_size == 2  # the opening and the first verification
    assert now.checkpoint_time is not None and now.checkpoint_time.tzinfo is not None
    integrate()
    clock.now += LIMIT
    assert (a.get(petition).log_verified, a.get(petition).log_size) == (2, 3)


def test_a_listing_reads_every_mark_at_once(clock: Clock, petition: Petition) -> None:
    from tests.conftest import make_petition

    other = make_petition(petition.organiser, slug="other-one")
    a = Standings()
    a.get_many([petition, other])
    with CaptureQueriesContext(connection) as queries:
        found = a.get_many([petition, other])
    assert sorted(found) == sorted([petition.pk, other.pk])
    assert len(queries) == 1


def test_counts_survive_the_trip_through_the_mark(clock: Clock, petition: Petition) -> None:
    petitions.add_to_tally(petition.pk, ("St Petersburg", "Kolpino"), "verified", 7)
    petitions.add_to_tally(petition.pk, ("", ""), "verified", 2)
    integrate()
    read = standing.read(petition)
    assert standing.Standing.from_json(read.to_json()) == read
    assert [r.region for r in read.places.regions] == ["St Petersburg", ""]
