"""Founder invitations are rationed, so the site is no mail relay for a stranger's text."""

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests.conftest import make_petition, second_factor_login, trust_to_publish
from undersigned.accounts.services import mark_confirmed
from undersigned.outbox.models import OutgoingMail
from undersigned.petitions.models import Petition
from undersigned.signing.models import Signature

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def small_limits(settings: Any) -> None:
    settings.FOUNDERS_PER_PETITION = 3
    settings.FOUNDER_INVITATIONS_PER_DAY = 4
    settings.FOUNDER_INVITATIONS_PER_RECIPIENT = 2


def invite(client: Client, slug: str, email: str, name: str = "Anna Belova") -> Any:
    return client.post(
        f"/dashboard/{slug}/founders/",
        {"full_name": name, "email": email, "show_name": "on"},
        follow=True,
    )


def messages_on(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def state() -> tuple[int, int]:
    return Signature.objects.count(), OutgoingMail.objects.count()


def another_organiser(name: str) -> tuple[User, Client]:
    user = User.objects.create_user(name, f"{name}@example.org", "a long pass phrase")
    mark_confirmed(user)
    user = trust_to_publish(user)  # founders on drafts: only organisers the office trusts
    return user, second_factor_login(Client(), user)


ADDED = "Founding signatory added; they confirm by the link we sent."


def test_a_petition_has_at_most_its_cap_of_founders(
    organiser_client: Client, organiser: User
) -> None:
    draft = make_petition(organiser, slug="capped", publish=False)
    for n in range(3):
        assert ADDED in messages_on(invite(organiser_client, draft.slug, f"f{n}@example.org"))
    before = state()
    refused = invite(organiser_client, draft.slug, "f3@example.org")
    assert "This petition has 3 founding signatories, the most one may have here." in (
        messages_on(refused)
    )
    assert state() == before


def test_an_organiser_sends_at_most_so_many_invitations_a_day(
    organiser_client: Client, organiser: User
) -> None:
    first = make_petition(organiser, slug="first", publish=False)
    second = make_petition(organiser, slug="second", publish=False)
    for n in range(3):
        invite(organiser_client, first.slug, f"a{n}@example.org")
    # Spread over petitions, it is the same organiser's quota.
    assert ADDED in messages_on(invite(organiser_client, second.slug, "b0@example.org"))
    before = state()
    refused = invite(organiser_client, second.slug, "b1@example.org")
    assert (
        "You have sent as many founder invitations as one may today. Try again tomorrow."
        in messages_on(refused)
    )
    assert state() == before


def test_a_recipient_gets_at_most_so_many_invitations_a_day_from_everyone(
    organiser_client: Client, organiser: User, settings: Any
) -> None:
    settings.FOUNDERS_PER_PETITION = 0
    draft = make_petition(organiser, slug="mine", publish=False)
    # Re-inviting one founder re-sends the mail: each counts.
    invite(organiser_client, draft.slug, "target@example.org")
    invite(organiser_client, draft.slug, "Target@Example.org ")
    assert OutgoingMail.objects.count() == 2
    other, other_client = another_organiser("other")
    theirs = make_petition(other, slug="theirs", publish=False)
    before = state()
    refused = invite(other_client, theirs.slug, "TARGET@example.org")
    assert (
        "This address has been sent as many invitations as it may get today. Try again tomorrow."
        in messages_on(refused)
    )
    assert state() == before
    # The refusal did not use up the other organiser's own quota.
    for n in range(4):
        assert ADDED in messages_on(invite(other_client, theirs.slug, f"o{n}@example.org")), n


def test_an_invitation_that_fails_uses_no_quota(
    organiser_client: Client, organiser: User, settings: Any
) -> None:
    settings.FOUNDER_INVITATIONS_PER_DAY = 1
    closed = make_petition(organiser, slug="closed")
    closed.status = Petition.Status.CLOSED
    closed.save()
    failed = invite(organiser_client, closed.slug, "late@example.org")
    assert "This petition is not open for signatures." in messages_on(failed)
    draft = make_petition(organiser, slug="open-draft", publish=False)
    assert ADDED in messages_on(invite(organiser_client, draft.slug, "late@example.org"))


def test_zero_turns_a_limit_off(organiser_client: Client, organiser: User, settings: Any) -> None:
    settings.FOUNDERS_PER_PETITION = 0
    settings.FOUNDER_INVITATIONS_PER_DAY = 0
    draft = make_petition(organiser, slug="many", publish=False)
    for n in range(6):
        assert ADDED in messages_on(invite(organiser_client, draft.slug, f"m{n}@example.org"))
