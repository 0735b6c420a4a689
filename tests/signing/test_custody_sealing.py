"""Once decided, a signature's contact details leave the server: sealed to the custody key."""

import base64
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.utils import timezone

from tests.conftest import confirm_now
from undersigned.core import custody
from undersigned.petitions import services as petitions
from undersigned.petitions.models import Petition
from undersigned.registers.models import RegisterEntry
from undersigned.signing import services as signing
from undersigned.signing.custody import entry_key, seal_expired
from undersigned.signing.models import Signature
from undersigned.signing.services import SigningError, SignRequest

pytestmark = pytest.mark.django_db

State = Signature.State


def raw_columns(signature: Signature) -> dict[str, Any]:
    """The row as stored, not as the model opens it."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT full_name, email, evidence_url, register_entry_id, custody_sealed"
            " FROM signing_signature WHERE id = %s",
            [signature.pk],
        )
        name, email, evidence, entry, sealed = cursor.fetchone()
    return {"full_name": name, "email": email, "evidence_url": evidence, "entry": entry,
            "sealed": sealed}


def opened(signature: Signature, identity: str) -> list[dict[str, Any]]:
    signature.refresh_from_db()
    return [
        custody.open_sealed(identity, base64.b64decode(line))
        for line in signature.custody_sealed.splitlines()
    ]


def sign(petition: Petition, email: str, name: str, *, show: bool, **fields: Any) -> Signature:
    return signing.sign(
        petition, SignRequest(full_name=name, email=email, show_name=show, **fields)
    )


def test_a_hidden_signer_is_sealed_at_verification(
    petition: Petition, site_custody_key: str
) -> None:
    signature = sign(petition, "hidden@example.org", "Hidden Hanna", show=False)
    # Until confirmed, the server still needs the address (the mail may not be out).
    assert Signature.objects.get(pk=signature.pk).email == "hidden@example.org"
    confirm_now(signature)
    stored = raw_columns(signature)
    assert stored["full_name"] == "" and stored["email"] == "" and stored["sealed"]
    [box] = opened(signature, site_custody_key)
    assert box["full_name"] == "Hidden Hanna" and box["email"] == "hidden@example.org"
    assert box["state"] == "verified" and box["petition"] == petition.slug
    # The count and de-duplication do not need what was sealed.
    assert petitions.counts(petition) == (1, 0)
    again = sign(petition, "Hidden@Example.org", "Someone Else", show=True)
    assert again.pk == signature.pk and Signature.objects.count() == 1


def test_a_shown_signer_keeps_the_public_name_but_not_the_address(
    petition: Petition, site_custody_key: str
) -> None:
    signature = confirm_now(sign(petition, "shown@example.org", "Shown Sergei", show=True))
    stored = raw_columns(signature)
    assert stored["email"] == "" and stored["full_name"] != ""
    assert Signature.objects.get(pk=signature.pk).full_name == "Shown Sergei"
    [box] = opened(signature, site_custody_key)
    assert box["email"] == "shown@example.org" and "full_name" not in box


def test_without_a_custody_key_what_is_not_needed_is_destroyed(
    petition: Petition, settings: Any
) -> None:
    settings.CUSTODY_RECIPIENT = ""
    signature = confirm_now(sign(petition, "gone@example.org", "Gone Galina", show=False))
    stored = raw_columns(signature)
    assert stored["email"] == "" and stored["full_name"] == "" and stored["sealed"] == ""


def test_a_petition_of_its_own_key_seals_to_it(petition: Petition, site_custody_key: str) -> None:
    own_identity, own_recipient = custody.new_identity()
    Petition.objects.filter(pk=petition.pk).update(custody_recipient=own_recipient)
    petition.refresh_from_db()
    signature = confirm_now(sign(petition, "own@example.org", "Own Olga", show=False))
    assert opened(signature, own_identity)[0]["full_name"] == "Own Olga"
    with pytest.raises(custody.CustodyError):
        opened(signature, site_custody_key)


def test_a_hidden_deputy_approved_on_review_leaves_no_link_to_the_register(
    letter: Petition, site_custody_key: str
) -> None:
    moderator = User.objects.create_user("mod", "mod@example.org", "pw-for-tests-only")
    claim = sign(
        letter,
        "anna.private@mail.example.org",
        "Anna Belova",
        show=False,
        role="municipal deputy",
        municipality="Kolpino",
        evidence_url="https://council.example.org/belova",
    )
    confirm_now(claim)
    assert Signature.objects.get(pk=claim.pk).state == State.NEEDS_REVIEW
    entry = RegisterEntry.objects.get(full_name="Anna Belova")
    signing.approve(claim.pk, moderator, entry=entry, reason="")
    stored = raw_columns(claim)
    assert stored["entry"] is None and stored["evidence_url"] == "" and stored["email"] == ""
    claim.refresh_from_db()
    # Counted where the register says, and the entry stays taken.
    assert (claim.region, claim.municipality) == (entry.region, entry.municipality)
    assert claim.register_entry_key == entry_key(letter.pk, entry.pk)
    [box] = opened(claim, site_custody_key)
    assert box["register_entry"]["id"] == entry.pk
    assert box["evidence_url"] == "https://council.example.org/belova"
    assert not [
        e for e in claim.audit_events.all() if e.details.get("register_entry") == entry.pk
    ]
    rival = confirm_now(
        sign(letter, "impostor@mail.example.org", "Anna Belova", show=True,
             role="municipal deputy", municipality="Kolpino")
    )
    with pytest.raises(SigningError):
        signing.approve(rival.pk, moderator, entry=entry, reason="")
    # Withdrawing moves the count of the entry's place, though the entry is sealed.
    assert petitions.counts(letter)[0] == 1
    signing.withdraw_signature(claim.pk)
    assert petitions.counts(letter)[0] == 0


def test_an_unconfirmed_signature_is_sealed_once_its_link_expires(
    petition: Petition, site_custody_key: str
) -> None:
    waiting = sign(petition, "late@example.org", "Late Lev", show=False)
    assert seal_expired() == 0
    later = timezone.now() + timedelta(days=30)
    assert seal_expired(later) == 1
    stored = raw_columns(waiting)
    assert stored["email"] == "" and stored["full_name"] == ""
    assert opened(waiting, site_custody_key)[0]["email"] == "late@example.org"
    # Signing again, with the address typed anew, gives a working link.
    again = sign(petition, "late@example.org", "Late Lev", show=False)
    assert again.pk == waiting.pk
    confirm_now(again)
    assert petitions.counts(petition) == (1, 0)
