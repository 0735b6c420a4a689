"""/my-data/ does the same work and answers the same page whether or not an address signed.

Before, typing an address that had signed queued a mail (visible in
/readyz's public mail count), wrote a row and took longer; one that had not
signed cost a single query. Now both cost the same queries and queue the same
mail; only the page behind the mailed link, opened by the address's owner,
says what is held.
"""

import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.conftest import body_of, confirm_now, link_in
from undersigned.outbox.models import OutgoingMail
from undersigned.petitions.models import Petition
from undersigned.privacy.models import DataRequest
from undersigned.signing import services as signing

pytestmark = pytest.mark.django_db

SIGNED = "hanna@example.org"
NEVER_SIGNED = "nobody@example.org"
MONITORING = "monitoring-token-for-this-test-0123456789"


@pytest.fixture
def signer(petition: Petition) -> None:
    signature = signing.sign(
        petition, signing.SignRequest(full_name="Hidden Hanna", email=SIGNED, show_name=False)
    )
    confirm_now(signature)
    OutgoingMail.objects.all().delete()  # the confirmation mail is not what is compared


def shape(sql: str) -> str:
    """A statement without its values: what it does and what it costs, not for whom."""
    sql = re.sub(r"'(?:[^']|'')*'", "?", sql)
    sql = re.sub(r'SAVEPOINT "\w+"', "SAVEPOINT ?", sql)
    sql = re.sub(r"\b\d+(?:\.\d+)?\b", "?", sql)
    return re.sub(r"\s+", " ", sql)


def page_of(response: Any) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())


def ask(email: str) -> tuple[Any, list[str], OutgoingMail | None]:
    before = set(OutgoingMail.objects.values_list("id", flat=True))
    client = Client()
    with CaptureQueriesContext(connection) as queries:
        response = client.post("/my-data/", {"email": email})
    new = OutgoingMail.objects.exclude(id__in=before)
    assert new.count() <= 1
    return response, [shape(q["sql"]) for q in queries.captured_queries], new.first()


def test_signed_or_not_the_same_page_the_same_queries_and_a_mail(signer: None) -> None:
    signed, signed_queries, signed_mail = ask(SIGNED)
    never, never_queries, never_mail = ask(NEVER_SIGNED)
    assert signed.status_code == never.status_code == 200
    assert page_of(signed) == page_of(never)
    assert "A link is on its way to this address" in page_of(never)
    assert signed_queries == never_queries
    assert not any("signing_signature" in sql for sql in never_queries)
    # A mail either way, from the same template.
    assert signed_mail is not None and never_mail is not None
    assert (signed_mail.kind, signed_mail.subject) == (never_mail.kind, never_mail.subject)
    without_link = re.compile(r"/my-data/[A-Za-z0-9_-]+/")
    assert without_link.sub("", signed_mail.body) == without_link.sub("", never_mail.body)
    assert DataRequest.objects.count() == 2


def test_monitoring_sees_the_same_queue_either_way(signer: None, settings: Any) -> None:
    settings.READYZ_TOKEN = MONITORING
    monitoring = Client(headers={"Authorization": f"Bearer {MONITORING}"})

    def unsent() -> int:
        return int(monitoring.get("/readyz").json()["checks"]["mail"]["unsent"])

    start = unsent()
    ask(SIGNED)
    after_signed = unsent()
    ask(NEVER_SIGNED)
    assert after_signed - start == unsent() - after_signed == 1
    # And anyone else sees only the one word, whatever is queued.
    assert Client().get("/readyz").content == b"ok\n"


def test_the_owner_of_an_address_that_never_signed_reads_that_nothing_is_held(
    client: Client, petition: Petition, deliver: Any
) -> None:
    client.post("/my-data/", {"email": NEVER_SIGNED})
    mail = body_of(deliver().last_to(NEVER_SIGNED))
    found = re.search(r"https?://\S+(/my-data/[A-Za-z0-9_-]+/)", mail)
    assert found, mail
    page = client.get(found.group(1))
    assert page.status_code == 200
    text = page.content.decode()
    assert "We hold nothing about this address" in text
    assert "Delete my data and withdraw" not in text


def test_links_to_one_address_are_limited_and_the_page_does_not_say_so(
    signer: None, settings: Any
) -> None:
    settings.RATE_LIMIT_MY_DATA = "2/3600"
    for email in (SIGNED, NEVER_SIGNED):
        answers = [ask(email) for _ in range(3)]
        assert [response.status_code for response, _, _ in answers] == [200, 200, 200]
        assert len({page_of(response) for response, _, _ in answers}) == 1
        assert [mail is not None for _, _, mail in answers] == [True, True, False]
    # Counted by the address, however it is written.
    assert ask("Someone.Else@Example.org")[2] is not None
    assert ask("someone.else@example.org")[2] is not None
    assert ask(" SOMEONE.ELSE@example.org")[2] is None


def test_one_client_asking_about_many_addresses_is_refused_and_nothing_is_mailed(
    client: Client, petition: Petition, settings: Any
) -> None:
    settings.RATE_LIMIT_CLIENT = "2/600"
    for i in range(2):
        assert client.post("/my-data/", {"email": f"victim{i}@example.org"}).status_code == 200
    refused = client.post("/my-data/", {"email": "victim9@example.org"})
    assert refused.status_code == 429
    assert "Too many signing attempts from your connection" in refused.content.decode()
    assert OutgoingMail.objects.count() == DataRequest.objects.count() == 2


def test_the_signers_own_link_still_shows_what_is_held(
    client: Client, petition: Petition, deliver: Any
) -> None:
    client.post(
        f"/p/{petition.slug}/sign/",
        {"full_name": "Hidden Hanna", "email": SIGNED, "visibility": "hide"},
    )
    client.post(link_in(deliver().last_to(SIGNED), "confirm"))
    client.post("/my-data/", {"email": SIGNED})
    found = re.search(r"https?://\S+(/my-data/[A-Za-z0-9_-]+/)", body_of(deliver().last_to(SIGNED)))
    assert found
    page = client.get(found.group(1)).content.decode()
    assert "We hold nothing" not in page and "Delete my data and withdraw" in page
