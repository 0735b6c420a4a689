"""Many people at once: tallies stay equal to the rows, and public counts never go back.

These run real threads, each with its own database connection, so they need
committed data (transactional tests). They are meant for PostgreSQL (set
DATABASE_URL, as `make test-postgres` does) and pass on SQLite too, where the
write lock serialises the writers. Nothing here measures speed.
"""

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import OperationalError, connection, connections
from django.test import Client

from tests.conftest import make_petition
from undersigned.petitions import services as petitions
from undersigned.petitions.management.commands.reconcile import drift
from undersigned.petitions.models import Petition
from undersigned.signing import services
from undersigned.signing import tokens as signing_tokens
from undersigned.signing.models import Signature

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 8
PLACES = [("", ""), ("St Petersburg", "Kolpino"), ("St Petersburg", "Smolninskoye")]


@pytest.fixture
def raw_tokens(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """hash → raw of every token the signing service makes (the raw one is only mailed)."""
    seen: dict[str, str] = {}
    lock = threading.Lock()
    original = signing_tokens.new_token

    def recording() -> tuple[str, str]:
        raw, digest = original()
        with lock:
            seen[digest] = raw
        return raw, digest

    monkeypatch.setattr(services, "new_token", recording)
    return seen


def in_threads(work: Callable[[int], None], n: int = THREADS) -> None:
    """Run work(0..n-1) at the same moment in n threads; re-raise the first failure."""
    start = threading.Barrier(n)
    failures: list[BaseException] = []

    def run(i: int) -> None:
        try:
            start.wait()
            work(i)
        except BaseException as exc:  # reported in the main thread
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    if failures:
        raise failures[0]


def retrying(action: Callable[[], Any]) -> Any:
    """Try again when SQLite's test database says "locked".

    The in-memory database the tests use on SQLite shares one cache between
    threads and answers "table is locked" at once instead of waiting as a
    database file does; PostgreSQL never gets here.
    """
    for attempt in range(400):
        try:
            return action()
        except OperationalError as exc:
            if connection.vendor != "sqlite" or "locked" not in str(exc):
                raise
            time.sleep(0.001 * min(attempt, 20))
    return action()


def request_for(i: int, n: int) -> services.SignRequest:
    region, municipality = PLACES[n % len(PLACES)]
    return services.SignRequest(
        full_name=f"Signer {i} {n}",
        email=f"signer{i}-{n}@example.org",
        region=region,
        municipality=municipality,
    )


def api_get(client: Client, slug: str) -> Any:
    response = client.get(f"/api/petitions/{slug}")
    if response.status_code == 503:  # the middleware's answer to "locked"
        raise OperationalError("database table is locked")
    assert response.status_code == 200
    return response


@pytest.fixture
def open_petition(organiser: User) -> Iterator[Petition]:
    yield make_petition(organiser)


def test_concurrent_signing_confirming_and_withdrawing_keep_tallies_equal_to_rows(
    open_petition: Petition, raw_tokens: dict[str, str]
) -> None:
    per_thread = 12

    # Everyone signs at once; every other thread also signs an address that a
    # neighbour signs, so the one-row-per-address path races too.
    def sign(i: int) -> None:
        for n in range(per_thread):
            retrying(lambda n=n: services.sign(open_petition, request_for(i, n)))
            if i % 2 == 0:
                shared = request_for((i + 1) % THREADS, n)
                retrying(lambda shared=shared: services.sign(open_petition, shared))

    in_threads(sign)
    signatures = list(Signature.objects.filter(petition=open_petition))
    assert len(signatures) == THREADS * per_thread
    confirm_links = [raw_tokens[s.confirm_token_hash] for s in signatures if s.confirm_token_hash]
    assert len(confirm_links) == len(signatures)

    # Everyone confirms at once, and every link is also tried by a second
    # thread: exactly one of the two counts it.
    confirmed = []
    lock = threading.Lock()

    def confirm(i: int) -> None:
        mine = confirm_links[i::THREADS] + confirm_links[(i + 1) % THREADS :: THREADS]
        for raw in mine:
            try:
                retrying(lambda raw=raw: services.confirm(raw))
            except services.SigningError:
                continue
            with lock:
                confirmed.append(raw)

    in_threads(confirm)
    assert sorted(confirmed) == sorted(confirm_links)
    assert petitions.counts(open_petition) == (len(signatures), 0)
    assert drift(open_petition) == []

    # A third withdraw while others sign anew: the tallies still match the rows.
    withdrawing = [
        raw_tokens[s.withdraw_token_hash]
        for s in Signature.objects.filter(petition=open_petition).order_by("id")[::3]
        if s.withdraw_token_hash
    ]

    def churn(i: int) -> None:
        for raw in withdrawing[i::THREADS]:
            retrying(lambda raw=raw: services.withdraw(raw))
        for n in range(per_thread, per_thread + 3):
            retrying(lambda n=n: services.sign(open_petition, request_for(i, n)))

    in_threads(churn)
    verified = Signature.objects.filter(petition=open_petition, state="verified").count()
    assert petitions.counts(open_petition) == (verified, 0)
    assert verified == len(signatures) - len(withdrawing)
    assert drift(open_petition) == []


def test_the_public_count_never_goes_backwards_while_people_confirm(
    open_petition: Petition, raw_tokens: dict[str, str], settings: Any
) -> None:
    # A short limit, so the copies are refreshed many times during the run.
    settings.COUNT_CACHE_SECONDS = 0.05
    petitions.forget_cached_counts()
    for n in range(40):
        services.sign(open_petition, request_for(0, n))
    links = [
        raw_tokens[s.confirm_token_hash]
        for s in Signature.objects.filter(petition=open_petition)
        if s.confirm_token_hash
    ]
    confirming = threading.Event()
    seen: dict[int, list[int]] = {}

    def work(i: int) -> None:
        if i < 2:  # two threads confirm
            for raw in links[i::2]:
                retrying(lambda raw=raw: services.confirm(raw))
            confirming.set()
            return
        # the others read the page's count and the count JSON, as visitors would
        client = Client()
        values = seen.setdefault(i, [])
        while True:
            done = confirming.is_set()
            values.append(retrying(lambda: petitions.cached_counts(open_petition))[0])
            response = retrying(lambda: api_get(client, open_petition.slug))
            values.append(response.json()["verified_count"])
            if done:
                break

    in_threads(work, n=6)
    # The API and the page keep separate copies, so each reader's sequence is
    # checked per source: what one source shows never decreases.
    for values in seen.values():
        pages, api = values[0::2], values[1::2]
        assert pages == sorted(pages)
        assert api == sorted(api)
    # Once the limit has passed, everyone sees everything.
    threading.Event().wait(settings.COUNT_CACHE_SECONDS * 2)
    assert petitions.cached_counts(open_petition) == (len(links), 0)
