"""What the tests of submissions share: a creator the office does not trust, supporters who
back a submission by its shared link, and a moderator of the site."""

import re
from email.header import decode_header, make_header
from email.message import Message
from typing import Any

from django.contrib.auth.models import Permission, User
from django.test import Client

from tests.conftest import Inbox, body_of, link_in, make_petition, second_factor_login
from undersigned.accounts.services import mark_confirmed
from undersigned.petitions.models import Petition

SUPPORT_LINK = re.compile(r"https?://\S+(/support/[-a-zA-Z0-9_]+/[A-Za-z0-9_-]+/)")


def creator(username: str = "citizen") -> User:
    """Someone who signed up and confirmed their address: they submit, they do not publish."""
    user = User.objects.create_user(username, f"{username}@example.org", "correct horse battery")
    mark_confirmed(user)
    return user


def client_of(user: User) -> Client:
    return second_factor_login(Client(), user)


def site_moderator(username: str = "office") -> User:
    """A moderator of the site (the permission the fraud tools and answers use)."""
    user = User.objects.create_user(username, f"{username}@example.org", "correct horse battery")
    user.user_permissions.add(Permission.objects.get(codename="moderate_any"))
    return User.objects.get(pk=user.pk)


def draft(owner: User, **fields: Any) -> Petition:
    return make_petition(owner, publish=False, **fields)


def submit(client: Client, petition: Petition) -> Petition:
    response = client.post(f"/dashboard/{petition.slug}/submit/", follow=True)
    assert response.status_code == 200
    petition.refresh_from_db()
    return petition


def support_path(petition: Petition) -> str:
    petition.refresh_from_db()
    return f"/support/{petition.slug}/{petition.support_key}/"


def back(
    petition: Petition,
    name: str,
    *,
    language: str = "en",
    **fields: str,
) -> Any:
    """A supporter's POST to the shared link's form, from a browser in `language`."""
    email = name.lower().replace(" ", ".") + "@example.org"
    data = {"full_name": name, "email": email, "visibility": "show", **fields}
    return Client(HTTP_ACCEPT_LANGUAGE=language).post(support_path(petition), data)


def address(name: str) -> str:
    return name.lower().replace(" ", ".") + "@example.org"


def confirm_backing(inbox: Inbox, name: str) -> Any:
    """The supporter opens the mailed link and presses Confirm."""
    return Client().post(link_in(inbox.last_to(address(name)), "confirm"), follow=True)


def subject_of(message: Message) -> str:
    """A mail's subject as its reader sees it: decoded and unfolded."""
    return str(make_header(decode_header(message["Subject"]))).replace("\r\n", "")


def support_link_in(inbox: Inbox, to: str) -> str:
    found = SUPPORT_LINK.search(body_of(inbox.last_to(to)))
    assert found, body_of(inbox.last_to(to))
    return found.group(1)


SUPPORTERS = ["Maria Sokolova", "Pyotr Lebedev", "Olga Vasnetsova", "Ivan Durov", "Nina Ptitsyna"]


def fully_supported(petition: Petition, deliver: Any, names: list[str] = SUPPORTERS) -> Inbox:
    """Each of `names` backs the submission and confirms; the worker sends what follows."""
    for name in names:
        assert back(petition, name).status_code == 302
    inbox = deliver()
    for name in names:
        confirm_backing(inbox, name)
    petition.refresh_from_db()
    return deliver()
