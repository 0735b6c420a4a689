"""Signing reads the petition and its text from the page's one-second cache.

What that may and may not change: a signature can be taken in the second
after a petition closes, but it never counts; and a signature records the
text version the page showed. Requests run outside the test's transaction
(transactional_db), as in production, so the cache is on.
"""

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests.conftest import link_in
from undersigned.petitions import services as petitions
from undersigned.petitions.models import Petition
from undersigned.petitions.services import forget_cached_counts
from undersigned.signing.models import Signature

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def cache_on(settings: Any) -> None:
    settings.COUNT_CACHE_SECONDS = 60


def sign(client: Client, petition: Petition, email: str) -> Any:
    return client.post(
        f"/p/{petition.slug}/sign/",
        {"full_name": "Irina Cached", "email": email, "visibility": "show"},
    )


def test_a_signature_taken_just_after_closing_never_counts(
    petition: Petition, organiser: User, deliver: Any
) -> None:
    client = Client()
    client.get(f"/p/{petition.slug}/")  # the open petition is now cached
    petitions.close(petition, organiser)
    assert sign(client, petition, "late@example.org").status_code == 302
    response = client.post(link_in(deliver().last_to("late@example.org"), "confirm"))
    assert response.status_code == 400
    assert "closed" in response.content.decode()
    assert Signature.objects.get().state == Signature.State.UNCONFIRMED
    assert petitions.counts(petition) == (0, 0)
    # Once the cache has caught up, the form refuses at once.
    forget_cached_counts()
    refused = sign(client, petition, "later@example.org")
    assert refused.status_code == 302 and refused.url == f"/p/{petition.slug}/"
    assert Signature.objects.count() == 1


def test_a_signature_records_the_text_the_page_shows(
    petition: Petition, organiser: User, deliver: Any
) -> None:
    client = Client()
    shown = petition.published_version()
    assert shown is not None
    client.get(f"/p/{petition.slug}/")  # the visitor reads version 1
    correction = petitions.new_version(
        petition,
        organiser,
        title="Clean air for Kolpino and Pushkin",
        body="We ask for clean air in both districts.",
        language="en",
        change_note="Pushkin added",
    )
    assert sign(client, petition, "shown@example.org").status_code == 302
    assert Signature.objects.get().text_version_id == shown.pk
    assert shown.title in deliver().last_to("shown@example.org")["Subject"]
    # A visitor a second later is shown, and signs, the correction.
    forget_cached_counts()
    assert correction.title in client.get(f"/p/{petition.slug}/").content.decode()
    assert sign(client, petition, "fresh@example.org").status_code == 302
    fresh = Signature.objects.exclude(text_version_id=shown.pk).get()
    assert fresh.text_version_id == correction.pk
