from typing import Any

import pytest
from django.test import Client

from tests.conftest import link_in
from undersigned.audit.models import AuditEvent
from undersigned.petitions import services as petitions
from undersigned.petitions.models import Petition
from undersigned.signing.models import Signature

pytestmark = pytest.mark.django_db


def signed_and_confirmed(client: Client, petition: Petition, deliver: Any) -> str:
    client.post(
        f"/p/{petition.slug}/sign/",
        {"full_name": "Anna Belova", "email": "anna@example.org", "visibility": "show"},
    )
    message = deliver().last_to("anna@example.org")
    client.post(link_in(message, "confirm"))
    return link_in(message, "withdraw")


def test_withdrawal_needs_a_post_and_uncounts(
    client: Client, petition: Petition, deliver: Any
) -> None:
    withdraw = signed_and_confirmed(client, petition, deliver)
    assert petitions.counts(petition) == (1, 0)
    page = client.get(withdraw)
    assert page.status_code == 200 and "Withdraw my signature" in page.content.decode()
    assert petitions.counts(petition) == (1, 0)
    response = client.post(withdraw)
    assert "withdrawn" in response.content.decode()
    assert Signature.objects.get().state == Signature.State.WITHDRAWN
    assert petitions.counts(petition) == (0, 0)
    assert "Anna Belova" not in client.get(f"/p/{petition.slug}/").content.decode()
    assert AuditEvent.objects.filter(action="signature.withdrawn").count() == 1
    # The link is spent.
    assert client.post(withdraw).status_code == 400


def test_signing_again_after_withdrawing_reuses_the_row(
    client: Client, petition: Petition, deliver: Any
) -> None:
    client.post(signed_and_confirmed(client, petition, deliver))
    client.post(
        f"/p/{petition.slug}/sign/",
        {"full_name": "Anna Belova", "email": "anna@example.org", "visibility": "hide"},
    )
    client.post(link_in(deliver().last_to("anna@example.org"), "confirm"))
    signature = Signature.objects.get()
    assert signature.state == Signature.State.VERIFIED and not signature.show_name
    assert petitions.counts(petition) == (1, 0)


def test_a_signer_can_withdraw_before_confirming(
    client: Client, petition: Petition, deliver: Any
) -> None:
    client.post(
        f"/p/{petition.slug}/sign/",
        {"full_name": "Anna Belova", "email": "anna@example.org", "visibility": "show"},
    )
    message = deliver().last_to("anna@example.org")
    client.post(link_in(message, "withdraw"))
    assert client.post(link_in(message, "confirm")).status_code == 400
    assert petitions.counts(petition) == (0, 0)
