"""The petition page says which signed checkpoint its count agrees with, and never
shows an older count than another process served (issue 13, §4)."""

import re
from typing import Any

import pytest
from django.test import Client

from tests.conftest import confirm_now
from undersigned.ledger.services import integrate
from undersigned.petitions import standing
from undersigned.petitions.models import Petition
from undersigned.signing import services as signing

COUNT = re.compile(r'data-count="verified">([^<]+)<')
AGREEMENT = re.compile(r'<p class="meta" id="log-agreement">(.*?)</p>', re.S)


def verify(petition: Petition, n: int) -> None:
    request = signing.SignRequest(full_name=f"Person {n}", email=f"p{n}@example.org")
    confirm_now(signing.sign(petition, request))


def page(client: Client, petition: Petition, **headers: str) -> str:
    response = client.get(f"/p/{petition.slug}/", **headers)
    assert response.status_code == 200
    return str(response.content.decode())


def agreement(body: str) -> str:
    match = AGREEMENT.search(body)
    assert match, body[:3000]
    return " ".join(match.group(1).split())


@pytest.mark.django_db
def test_before_any_checkpoint_the_page_says_so(client: Client, petition: Petition) -> None:
    assert agreement(page(client, petition)) == "The public log has no signed checkpoint yet."


@pytest.mark.django_db
def test_the_page_names_the_checkpoint_its_count_agrees_with(
    client: Client, petition: Petition
) -> None:
    verify(petition, 1)
    integrate()
    said = agreement(page(client, petition))
    assert said.startswith("The public log agrees: its checkpoint of 2 entries, signed ")
    assert "counts 1 too." in said
    assert f'href="/log/?petition={petition.slug}"' in said
    # A signature verified since: the live count runs ahead, and the page says
    # what the checkpoint counts.
    verify(petition, 2)
    body = page(client, petition)
    assert COUNT.search(body).group(1) == "2"  # type: ignore[union-attr]
    said = agreement(body)
    assert "checkpoint, of 2 entries" in said and "counts 1;" in said


@pytest.mark.django_db
def test_in_russian(client: Client, petition: Petition) -> None:
    verify(petition, 1)
    integrate()
    said = agreement(page(client, petition, HTTP_ACCEPT_LANGUAGE="ru"))
    assert said.startswith("Публичный журнал согласен")


@pytest.mark.django_db(transaction=True)
def test_the_page_never_shows_older_counts_than_another_process_served(
    client: Client, petition: Petition, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.COUNT_CACHE_SECONDS = 1.0

    class Clock:
        now = 1_000_000.0

        def time(self) -> float:
            return self.now

        def monotonic(self) -> float:
            return self.now

    from undersigned.petitions import services

    clock = Clock()
    monkeypatch.setattr(standing, "time", clock)
    monkeypatch.setattr(services, "time", clock)
    verify(petition, 1)
    assert COUNT.search(page(client, petition)).group(1) == "1"  # type: ignore[union-attr]
    verify(petition, 2)
    # Another process (a worker of this server or another server) read and
    # served the new count a moment later; this process's copy is still young.
    clock.now += 0.01
    standing._publish(petition.pk, standing.read(petition))
    assert COUNT.search(page(client, petition)).group(1) == "2"  # type: ignore[union-attr]
    # The count JSON agrees.
    assert client.get(f"/api/petitions/{petition.slug}").json()["verified_count"] == 2
