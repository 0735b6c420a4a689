"""Signing again with someone else's address (issue 12, section 3).

Anyone can type anyone's address. Signing again with it must not change the
claim its owner may be about to confirm, nor break a link its owner holds.
"""

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from tests.conftest import Inbox, body_of, link_in
from undersigned.outbox.models import OutgoingMail
from undersigned.petitions import services as petitions
from undersigned.petitions.models import Petition
from undersigned.signing.models import ResentLink, Signature

pytestmark = pytest.mark.django_db
State = Signature.State
VICTIM = "anna@example.org"


def sign(client: Client, petition: Petition, **fields: str) -> None:
    data = {"full_name": "Anna Belova", "email": VICTIM, "visibility": "show", **fields}
    response = client.post(f"/p/{petition.slug}/sign/", data)
    # Whoever signs gets the same answer, whatever happened to the address.
    assert response.status_code == 302, response.content.decode()
    assert response["Location"] == f"/p/{petition.slug}/signed/"


def mails_to(address: str) -> int:
    # Addresses are sealed in the queue: compare them in Python.
    return sum(mail.to == address for mail in OutgoingMail.objects.all())


def impostor(client: Client, petition: Petition, **fields: str) -> None:
    sign(client, petition, full_name="Boris Impostor", visibility="hide", **fields)


@pytest.mark.parametrize("kind", ["petition", "letter"])
def test_signing_again_keeps_the_first_claim(
    client: Client, petition: Petition, letter: Petition, deliver: Any, kind: str
) -> None:
    target = petition if kind == "petition" else letter
    sign(client, target, role="municipal deputy", municipality="Kolpino")
    first = link_in(deliver().last_to(VICTIM), "confirm")
    impostor(client, target, role="mayor", municipality="Samara")

    signature = Signature.objects.get()
    assert (signature.full_name, signature.show_name) == ("Anna Belova", True)
    assert (signature.role, signature.municipality) == ("municipal deputy", "Kolpino")
    # The owner of the address is told, in the terms of the first claim.
    message = deliver().last_to(VICTIM)
    text = body_of(message)
    assert '"Anna Belova" (as typed in the form)' in text
    assert "Boris" not in text and "mayor" not in text
    assert "They asked again" in text
    # Both mails' links confirm the first claim; whichever is used spends the other.
    second = link_in(message, "confirm")
    assert client.post(first).status_code == 200
    assert client.post(second).status_code == 400
    signature.refresh_from_db()
    assert signature.state in (State.VERIFIED, State.NEEDS_REVIEW)
    assert signature.show_name and signature.role == "municipal deputy"


def test_the_link_mailed_again_confirms_the_first_claim(
    client: Client, petition: Petition, deliver: Any
) -> None:
    sign(client, petition)
    deliver()
    impostor(client, petition)
    assert client.post(link_in(deliver().last_to(VICTIM), "confirm")).status_code == 200
    assert "Anna Belova" in client.get(f"/p/{petition.slug}/").content.decode()
    assert "Boris" not in client.get(f"/p/{petition.slug}/").content.decode()
    assert petitions.counts(petition) == (1, 0)


def test_a_confirmed_signers_withdrawal_link_survives_signing_again(
    client: Client, petition: Petition, deliver: Any
) -> None:
    sign(client, petition)
    message = deliver().last_to(VICTIM)
    client.post(link_in(message, "confirm"))
    withdraw_first = link_in(message, "withdraw")

    impostor(client, petition)
    again = deliver().last_to(VICTIM)
    assert "already signed" in again["Subject"]
    withdraw_again = link_in(again, "withdraw")
    assert withdraw_again != withdraw_first
    # Both work: the one mailed first was not replaced.
    assert client.get(withdraw_first).status_code == 200
    assert client.get(withdraw_again).status_code == 200
    assert client.post(withdraw_first).status_code == 200
    assert Signature.objects.get().state == State.WITHDRAWN
    assert petitions.counts(petition) == (0, 0)
    # Withdrawn: every link of it is spent, the further ones too.
    assert client.post(withdraw_again).status_code == 400
    assert not ResentLink.objects.exists()


def test_the_link_of_the_already_signed_mail_withdraws_too(
    client: Client, petition: Petition, deliver: Any
) -> None:
    sign(client, petition)
    client.post(link_in(deliver().last_to(VICTIM), "confirm"))
    sign(client, petition)
    assert client.post(link_in(deliver().last_to(VICTIM), "withdraw")).status_code == 200
    assert Signature.objects.get().state == State.WITHDRAWN


def test_the_already_signed_mail_goes_to_the_typed_address_and_names_nobody(
    client: Client, petition: Petition, deliver: Any
) -> None:
    sign(client, petition)
    client.post(link_in(deliver().last_to(VICTIM), "confirm"))
    impostor(client, petition, email=" ANNA@Example.org ")
    mail = OutgoingMail.objects.filter(kind="already-signed").get()
    assert mail.to == VICTIM
    text = body_of(deliver().last_to(VICTIM))
    assert "Anna Belova" not in text and "Boris" not in text
    assert "tried to sign" in text


def test_mail_for_signing_again_is_rate_limited_per_address(
    client: Client, petition: Petition, organiser: Any, settings: Any
) -> None:
    from tests.conftest import make_petition

    settings.RATE_LIMIT_RESEND = "2/3600"
    other = make_petition(organiser, slug="other", title="Another petition")
    sign(client, petition)
    sign(client, other)
    for _ in range(4):
        impostor(client, petition)
        impostor(client, other)
    # Two first mails, then two more in all: the limit is the address's, not a petition's.
    assert mails_to(VICTIM) == 4
    sign(client, petition, email="vera@example.org", full_name="Vera Orlova")
    impostor(client, petition, email="vera@example.org")
    assert mails_to("vera@example.org") == 2
    assert Signature.objects.count() == 3
    assert ResentLink.objects.count() == 2 * 2 + 2  # a confirm and a withdraw link per mail


def test_an_expired_claim_is_taken_over_and_the_earlier_withdrawal_link_still_works(
    client: Client, petition: Petition, deliver: Any
) -> None:
    sign(client, petition)
    first = deliver().last_to(VICTIM)
    Signature.objects.update(confirm_token_expires=timezone.now() - timedelta(seconds=1))
    # Nobody confirmed in time: the claim is dead, and a new one starts afresh.
    sign(client, petition, full_name="Anna Belova-Smirnova", visibility="hide")
    signature = Signature.objects.get()
    assert signature.full_name == "Anna Belova-Smirnova" and not signature.show_name
    second = deliver().last_to(VICTIM)
    assert "They asked again" not in body_of(second)
    assert client.post(link_in(first, "confirm")).status_code == 400
    assert client.get(link_in(second, "confirm")).status_code == 200
    # Both mails went to the one address: its owner may withdraw with either.
    assert client.get(link_in(second, "withdraw")).status_code == 200
    assert client.post(link_in(first, "withdraw")).status_code == 200
    assert Signature.objects.get().state == State.WITHDRAWN


def test_links_of_a_withdrawn_claim_do_not_work_for_the_next_one(
    client: Client, petition: Petition, deliver: Any
) -> None:
    sign(client, petition)
    first = deliver().last_to(VICTIM)
    impostor(client, petition)
    resent = deliver().last_to(VICTIM)
    client.post(link_in(first, "withdraw"))
    sign(client, petition, full_name="Anna Belova-Smirnova")  # a new claim on the same row
    inbox: Inbox = deliver()
    assert client.post(link_in(resent, "confirm")).status_code == 400
    assert client.post(link_in(resent, "withdraw")).status_code == 400
    assert Signature.objects.get().state == State.UNCONFIRMED
    assert client.post(link_in(inbox.last_to(VICTIM), "confirm")).status_code == 200
    assert Signature.objects.get().full_name == "Anna Belova-Smirnova"


def test_erasing_a_signature_erases_its_further_links(
    client: Client, petition: Petition, deliver: Any
) -> None:
    from undersigned.privacy.services import erase

    sign(client, petition)
    impostor(client, petition)
    resent = deliver().last_to(VICTIM)
    assert ResentLink.objects.count() == 2
    erase(Signature.objects.get())
    assert not ResentLink.objects.exists()
    assert client.post(link_in(resent, "withdraw")).status_code == 400


def test_a_reinstated_signer_without_a_link_gets_one_by_signing_again(
    client: Client, petition: Petition, organiser: Any, deliver: Any
) -> None:
    from undersigned.signing import services as signing

    sign(client, petition)
    client.post(link_in(deliver().last_to(VICTIM), "confirm"))
    signature = Signature.objects.get()
    signing.invalidate(signature.pk, organiser, reason="checked by mistake")
    signing.reinstate(signature.pk, organiser, state=State.VERIFIED)
    assert Signature.objects.get().withdraw_token_hash is None
    sign(client, petition)
    assert client.post(link_in(deliver().last_to(VICTIM), "withdraw")).status_code == 200
    assert Signature.objects.get().state == State.WITHDRAWN
