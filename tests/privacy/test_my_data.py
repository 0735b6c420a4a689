import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from tests.conftest import body_of, link_in
from undersigned.ledger.models import LogEntry
from undersigned.ops.management.commands.worker import run_once
from undersigned.petitions import services as petitions
from undersigned.petitions.models import Petition
from undersigned.signing.models import Signature
from undersigned.tlog import entries

pytestmark = pytest.mark.django_db


def signed(client: Client, petition: Petition, deliver: Any, email: str, visibility: str) -> None:
    client.post(
        f"/p/{petition.slug}/sign/",
        {"full_name": "Hidden Hanna", "email": email, "visibility": visibility},
    )
    client.post(link_in(deliver().last_to(email), "confirm"))


def data_link(client: Client, deliver: Any, email: str) -> str:
    response = client.post("/my-data/", {"email": email})
    assert "A link is on its way to this address" in response.content.decode()
    mail = deliver().last_to(email.lower())
    found = re.search(r"https?://\S+(/my-data/[A-Za-z0-9_-]+/)", body_of(mail))
    assert found
    return found.group(1)


def test_a_signer_sees_and_deletes_what_is_held(
    client: Client, petition: Petition, deliver: Any
) -> None:
    signed(client, petition, deliver, "hanna@example.org", "hide")
    run_once()
    assert petitions.counts(petition) == (1, 0)
    link = data_link(client, deliver, "Hanna@Example.org")
    page = client.get(link).content.decode()
    # Decided, so the server holds the name and address only sealed to the custody key.
    assert "Hidden Hanna" not in page and "hanna@example.org" not in page
    assert "sealed: only this petition" in page and "Verified" in page
    assert "Deleted" not in page
    response = client.post(link)
    assert "1 signature withdrawn and erased" in response.content.decode()
    signature = Signature.objects.get()
    assert signature.state == Signature.State.WITHDRAWN
    assert signature.email == "" and signature.full_name == "" and signature.log_salt is None
    assert signature.custody_sealed == ""
    assert signature.email_hash.startswith("erased:")
    assert petitions.counts(petition) == (0, 0)
    # The log stays whole and provable; it never held the name or address.
    run_once()
    data = list(LogEntry.objects.order_by("index").values_list("index", "data"))
    assert entries.count((i, bytes(d)) for i, d in data)[petition.slug].verified == 0
    assert all(b"Hanna" not in bytes(d) and b"hanna" not in bytes(d) for _, d in data)
    # The link is spent.
    assert client.get(link).status_code == 400


def test_the_form_does_not_reveal_who_signed(
    client: Client, petition: Petition, deliver: Any
) -> None:
    # Mailed like a signer's link, to the address only (test_my_data_reveals_nothing.py).
    link = data_link(client, deliver, "nobody@example.org")
    assert "We hold nothing" in client.get(link).content.decode()
    assert client.post("/my-data/", {"email": "not an address"}).status_code == 400


def test_personal_data_is_purged_after_the_retention_period(
    client: Client, petition: Petition, deliver: Any, organiser: Any
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from undersigned.privacy.services import purge_due

    signed(client, petition, deliver, "shown@example.org", "show")
    signed(client, petition, deliver, "hidden@example.org", "hide")
    petitions.close(petition, organiser)
    assert purge_due() == 0  # within 90 days nothing is touched
    later = timezone.now() + timedelta(days=91)
    assert purge_due(now=later) == 2
    rows = {s.show_name: s for s in Signature.objects.all()}
    assert rows[True].full_name == "Hidden Hanna"  # public already, kept for the page
    assert rows[False].full_name == "" and rows[False].log_salt is None
    assert all(s.email == "" and s.email_hash.startswith("erased:") for s in rows.values())
    assert petitions.counts(petition) == (2, 0)
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM signing_signature")
        assert "example.org" not in repr(cursor.fetchall())
    Petition.objects.filter(pk=petition.pk).update(purged_at=None)
    assert purge_due(now=later) == 0  # already erased rows are not counted again
