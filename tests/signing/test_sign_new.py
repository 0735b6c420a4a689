"""A new signer's signature, mail and source are written together, without looking first.

Requests run outside the test's transaction (transactional_db) with the page
cache on, as in production, so the statements counted are a surge's.
"""

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.conftest import link_in
from undersigned.abuse import blocklist
from undersigned.abuse.models import SigningSource
from undersigned.abuse.sources import Source, daily_hash
from undersigned.core.hashing import keyed_hash
from undersigned.outbox.models import OutgoingMail
from undersigned.petitions import services as petitions
from undersigned.petitions.models import Petition
from undersigned.signing.models import Signature

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def cache_on(settings: Any) -> None:
    settings.COUNT_CACHE_SECONDS = 60
    settings.TRUSTED_PROXY_COUNT = 1


def sign(client: Client, petition: Petition, email: str, **fields: str) -> Any:
    data = {"full_name": "Oksana Novaya", "email": email, "visibility": "hide", **fields}
    return client.post(f"/p/{petition.slug}/sign/", data, HTTP_X_FORWARDED_FOR="198.51.100.7")


def test_a_new_signer_is_one_statement_on_postgresql_and_one_transaction_elsewhere(
    petition: Petition,
) -> None:
    client = Client()
    client.get(f"/p/{petition.slug}/")  # the petition and its text are now cached
    # ... and so is the block list, which signing reads once per COUNT_CACHE_SECONDS.
    blocklist.refuses(petition.pk, "198.51.100.7", Source("", "", ""))
    with CaptureQueriesContext(connection) as queries:
        assert sign(client, petition, "oksana@example.org").status_code == 302
    statements = [q["sql"] for q in queries.captured_queries]
    writes = [s for s in statements if "INSERT" in s.upper()]
    if connection.vendor == "postgresql":
        assert len(statements) == 1, statements
        assert statements[0].startswith("WITH new_row AS (INSERT INTO")
        assert statements[0].count("INSERT INTO") == 3
    else:
        assert len(writes) == 3, statements
    assert Signature.objects.count() == OutgoingMail.objects.count() == 1


def test_every_field_the_signer_gave_is_recorded(petition: Petition, deliver: Any) -> None:
    client = Client()
    response = sign(
        client,
        petition,
        " Oksana@Example.org ",
        role="teacher",
        municipality="Kolpino",
        region="St Petersburg",
    )
    assert response.status_code == 302
    signature = Signature.objects.get()
    assert signature.full_name == "Oksana Novaya"
    assert signature.email == "oksana@example.org"
    assert signature.email_hash == keyed_hash("email", "oksana@example.org")
    assert signature.show_name is False
    assert (signature.role, signature.municipality, signature.region) == (
        "teacher",
        "Kolpino",
        "St Petersburg",
    )
    assert signature.language == "en"
    assert signature.state == Signature.State.UNCONFIRMED
    assert signature.text_version_id == petition.shown_version().pk
    assert not signature.is_founder and signature.added_by_id is None
    assert signature.register_entry_id is None and not signature.sent_to_official_contact
    assert signature.created is not None and signature.confirm_token_expires is not None
    assert signature.confirm_token_expires > signature.created
    source = SigningSource.objects.get()
    assert source.signature_id == signature.pk and source.petition_id == petition.pk
    assert source.client_hash == daily_hash("198.51.100.7")
    assert source.network_hash == daily_hash("198.51.100.0/24")
    assert source.email_domain == "example.org"
    # The mail written with it carries the links that work for this row.
    message = deliver().last_to("oksana@example.org")
    assert client.post(link_in(message, "confirm")).status_code == 200
    assert petitions.counts(petition) == (1, 0)


def test_signing_again_before_confirming_keeps_the_row_and_its_first_claim(
    petition: Petition, deliver: Any
) -> None:
    client = Client()
    sign(client, petition, "twice@example.org")
    first = link_in(deliver().last_to("twice@example.org"), "confirm")
    sign(client, petition, "twice@example.org", full_name="Oksana Second")
    inbox = deliver()
    assert Signature.objects.count() == 1 and SigningSource.objects.count() == 1
    assert Signature.objects.get().full_name == "Oksana Novaya"
    second = link_in(inbox.last_to("twice@example.org"), "confirm")
    assert client.post(second).status_code == 200
    assert client.post(first).status_code == 400  # the signature is confirmed already
