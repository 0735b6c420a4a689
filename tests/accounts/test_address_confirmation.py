"""A signed-up organiser confirms their own address before publishing or mailing anyone."""

import re
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core import signing
from django.test import Client

from tests.conftest import Inbox, body_of, make_petition, second_factor_login, trust_to_publish
from undersigned.accounts.services import address_confirmed, mark_confirmed
from undersigned.outbox.models import OutgoingMail
from undersigned.petitions.models import Petition
from undersigned.signing.models import Signature

pytestmark = pytest.mark.django_db

ADDRESS_LINK = re.compile(r"https?://[^/\s]+(/accounts/confirm/[^/\s]+/)")
NOT_YET = "Confirm your own address first"


def sign_up(client: Client, **overrides: str) -> Any:
    form = {
        "username": "newcomer",
        "email": "newcomer@example.org",
        "password1": "a long pass phrase 7",
        "password2": "a long pass phrase 7",
        **overrides,
    }
    return client.post("/accounts/signup/", form, follow=True)


def messages_on(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def confirm_path(inbox: Inbox, address: str) -> str:
    match = ADDRESS_LINK.search(body_of(inbox.last_to(address)))
    assert match, body_of(inbox.last_to(address))
    return match.group(1)


def test_a_new_organiser_drafts_but_publishes_and_invites_only_once_confirmed(
    client: Client, deliver: Any
) -> None:
    response = sign_up(client)
    assert any("We sent a link to newcomer@example.org" in m for m in messages_on(response))
    # One the office trusts to publish without moderation (tests/petitions/test_submit.py
    # has those it does not).
    user = trust_to_publish(User.objects.get(username="newcomer"))
    assert not address_confirmed(user)

    organiser = second_factor_login(Client(), user)
    assert "Your address is not confirmed yet" in organiser.get("/dashboard/").content.decode()
    draft = make_petition(user, slug="fresh", publish=False)
    mails = OutgoingMail.objects.count()

    refused = organiser.post("/dashboard/fresh/publish/", follow=True)
    assert any(NOT_YET in m for m in messages_on(refused))
    refused = organiser.post(
        "/dashboard/fresh/founders/",
        {"full_name": "Anyone", "email": "victim@example.net", "show_name": "on"},
        follow=True,
    )
    assert any(NOT_YET in m for m in messages_on(refused))
    draft.refresh_from_db()
    assert draft.status == Petition.Status.DRAFT
    assert not Signature.objects.exists()
    assert OutgoingMail.objects.count() == mails  # nothing went out on a refusal

    # The mail quotes nothing the sign-up typed, not even the user name.
    inbox = deliver()
    mail = inbox.last_to("newcomer@example.org")
    assert "newcomer" not in body_of(mail).replace("newcomer@example.org", "")
    path = confirm_path(inbox, "newcomer@example.org")
    # Opening the link (a mail scanner does) confirms nothing; the button does.
    page = Client().get(path)
    assert page.status_code == 200 and "Confirm your address" in page.content.decode()
    assert not address_confirmed(user)
    done = Client().post(path, follow=True)
    assert any("Your address is confirmed" in m for m in messages_on(done))
    assert address_confirmed(user)

    published = organiser.post("/dashboard/fresh/publish/", follow=True)
    assert "Published: the text is now frozen." in messages_on(published)
    draft.refresh_from_db()
    assert draft.status == Petition.Status.OPEN


def test_sign_up_needs_an_address(client: Client) -> None:
    response = sign_up(client, email="")
    assert response.status_code == 400
    assert not User.objects.filter(username="newcomer").exists()


def test_a_link_for_an_address_since_changed_confirms_nothing(client: Client, deliver: Any) -> None:
    sign_up(client)
    path = confirm_path(deliver(), "newcomer@example.org")
    user = User.objects.get(username="newcomer")
    user.email = "someone-else@example.org"
    user.save()
    response = Client().post(path)
    assert response.status_code == 400
    assert "This link is not valid" in response.content.decode()
    assert not address_confirmed(user)


def test_a_confirmed_address_changed_later_is_unconfirmed_again(organiser: User) -> None:
    assert address_confirmed(organiser)
    organiser.email = "new-address@example.org"
    organiser.save()
    assert not address_confirmed(organiser)
    mark_confirmed(organiser)
    assert address_confirmed(organiser)


def test_an_expired_or_forged_link_confirms_nothing(
    client: Client, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    sign_up(client)
    user = User.objects.get(username="newcomer")
    from undersigned.accounts.services import confirmation_token

    with monkeypatch.context() as m:
        # A link made longer ago than CONFIRMATION_TTL_HOURS.
        made = signing.time.time() - settings.CONFIRMATION_TTL_HOURS * 3600 - 60
        m.setattr(signing.time, "time", lambda: made)
        old = confirmation_token(user)
    forged = signing.dumps([user.pk, "0" * 32], salt="undersigned.accounts.confirm-address")
    for token in (old, forged, "garbage", confirmation_token(user) + "x"):
        assert Client().post(f"/accounts/confirm/{token}/").status_code == 400, token
    assert not address_confirmed(user)


def test_the_link_can_be_sent_again_a_few_times_a_day(client: Client, deliver: Any) -> None:
    sign_up(client)  # the first of three mails today
    for _ in range(2):
        again = client.post("/accounts/confirm-again/", follow=True)
        assert any("We sent a link" in m for m in messages_on(again))
    mails = OutgoingMail.objects.count()
    refused = client.post("/accounts/confirm-again/", follow=True)
    assert any("as many links as it may get today" in m for m in messages_on(refused))
    assert OutgoingMail.objects.count() == mails
    # A second sign-up with the same address does not get round it.
    other = sign_up(Client(), username="second")
    assert any("as many links as it may get today" in m for m in messages_on(other))
    assert OutgoingMail.objects.count() == mails


def test_a_client_makes_only_a_few_accounts_an_hour(client: Client) -> None:
    for n in range(5):
        assert sign_up(Client(), username=f"user{n}", email=f"u{n}@example.org").status_code == 200
    response = sign_up(Client(), username="user5", email="u5@example.org")
    assert response.status_code == 400
    assert "Too many new accounts from your connection" in response.content.decode()
    assert not User.objects.filter(username="user5").exists()


def test_operator_made_accounts_confirm_from_their_account_page(deliver: Any) -> None:
    user = User.objects.create_user("made", "made@example.org", "a long pass phrase")
    assert not address_confirmed(user)
    client = Client()
    client.force_login(user)
    page = client.get("/accounts/").content.decode()
    assert "not confirmed yet" in page and "Send the confirmation link again" in page
    client.post("/accounts/confirm-again/")
    Client().post(confirm_path(deliver(), "made@example.org"))
    assert address_confirmed(user)
    assert "Send the confirmation link again" not in client.get("/accounts/").content.decode()
    # Superusers are the operator's own, made on the server.
    root = User.objects.create_superuser("root", "root@example.org", "a long pass phrase")
    assert address_confirmed(root)
