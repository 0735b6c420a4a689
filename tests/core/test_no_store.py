"""Pages that show who signed what, or what someone typed, are never kept by a cache.

On a shared or seized computer a browser's cache (or a proxy's) would
otherwise keep the confirm page with the signer's name, the withdrawal page
and what /my-data/ shows, long after the tab is closed.
"""

import re
from typing import Any

import pytest
from django.http import HttpResponse
from django.test import Client

from tests.conftest import body_of, link_in
from undersigned.petitions.models import Petition

pytestmark = pytest.mark.django_db

SIGNER = {"full_name": "Anna Belova", "email": "anna@example.org", "visibility": "hide"}


def assert_never_stored(response: HttpResponse, what: str) -> None:
    directives = {d.strip() for d in response.get("Cache-Control", "").split(",")}
    assert {"no-store", "no-cache", "must-revalidate", "private"} <= directives, (
        what,
        response.get("Cache-Control"),
    )


def test_signing_confirming_and_withdrawing_send_no_store(
    client: Client, petition: Petition, deliver: Any
) -> None:
    refused = client.post(f"/p/{petition.slug}/sign/", {**SIGNER, "email": "not an address"})
    assert refused.status_code == 400 and "Anna Belova" in refused.content.decode()
    assert_never_stored(refused, "a refused sign form, shown again with what was typed")

    signed = client.post(f"/p/{petition.slug}/sign/", SIGNER)
    assert signed.status_code == 302
    assert_never_stored(client.get(signed["Location"]), "check your mail")
    message = deliver().last_to("anna@example.org")
    confirm, withdraw = link_in(message, "confirm"), link_in(message, "withdraw")

    page = client.get(confirm)
    assert page.status_code == 200 and "Anna Belova" in page.content.decode()
    assert_never_stored(page, "confirm page")
    assert_never_stored(client.post(confirm), "confirmed page")
    assert_never_stored(client.post(confirm), "a spent confirmation link")

    page = client.get(withdraw)
    assert page.status_code == 200
    assert_never_stored(page, "withdraw page")
    assert_never_stored(client.post(withdraw), "withdrawn page")
    assert_never_stored(client.get(withdraw), "a spent withdrawal link")


def test_my_data_pages_send_no_store(client: Client, petition: Petition, deliver: Any) -> None:
    assert_never_stored(client.get("/my-data/"), "my-data form")
    asked = client.post("/my-data/", {"email": "anna@example.org"})
    assert asked.status_code == 200
    assert_never_stored(asked, "my-data sent")
    assert_never_stored(client.post("/my-data/", {"email": "nope"}), "my-data refused form")
    mail = body_of(deliver().last_to("anna@example.org"))
    found = re.search(r"https?://\S+(/my-data/[A-Za-z0-9_-]+/)", mail)
    assert found
    assert_never_stored(client.get(found.group(1)), "what is held")
    assert_never_stored(client.post(found.group(1)), "deleted")
    assert_never_stored(client.get(found.group(1)), "a spent data link")
