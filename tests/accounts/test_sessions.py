"""Signed-in sessions end hours after their log-in, and all of a user's can be ended at once."""

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests.conftest import second_factor_login
from undersigned.accounts.sessions import LOGGED_IN_AT

pytestmark = pytest.mark.django_db

PASSWORD = "a long pass phrase"


@pytest.fixture
def user() -> User:
    return User.objects.create_user("mod", "mod@example.org", PASSWORD)


def log_in(client: Client) -> Any:
    return client.post("/accounts/login/", {"username": "mod", "password": PASSWORD})


def messages_on(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def age_session(client: Client, seconds: int) -> None:
    session = client.session
    session[LOGGED_IN_AT] -= seconds
    session.save()


def test_a_session_ends_its_hours_after_the_log_in_however_busy(
    user: User, settings: Any
) -> None:
    settings.PRIVILEGED_SESSION_HOURS = 8
    client = Client()
    response = log_in(client)
    assert response.status_code == 302
    # The cookie itself is no longer Django's two weeks.
    assert int(response.cookies["sessionid"]["max-age"]) == 8 * 3600
    assert client.get("/accounts/").status_code == 200
    age_session(client, 8 * 3600 - 60)
    assert client.get("/accounts/").status_code == 200  # still inside the hours
    age_session(client, 61)
    ended = client.get("/accounts/", follow=True)
    assert ended.redirect_chain[0][0].startswith("/accounts/login/")
    assert "Your session ended after 8 hours. Log in again." in messages_on(ended)
    assert "_auth_user_id" not in client.session


def test_a_second_factor_does_not_extend_the_session(user: User, settings: Any) -> None:
    client = second_factor_login(Client(), user)
    assert client.get("/dashboard/").status_code == 200
    age_session(client, settings.PRIVILEGED_SESSION_HOURS * 3600)
    assert client.get("/dashboard/")["Location"].startswith("/accounts/login/")


def test_a_session_from_before_the_rule_ends(user: User) -> None:
    client = Client()
    log_in(client)
    session = client.session
    del session[LOGGED_IN_AT]
    session.save()
    assert client.get("/accounts/")["Location"].startswith("/accounts/login/")


def test_signing_out_everywhere_ends_every_session_of_the_user(user: User) -> None:
    laptop, phone = Client(), second_factor_login(Client(), user)
    log_in(laptop)
    other = User.objects.create_user("other", "other@example.org", PASSWORD)
    bystander = second_factor_login(Client(), other)
    page = laptop.get("/accounts/").content.decode()
    assert 'action="/accounts/sign-out-everywhere/"' in page
    assert "A log-in lasts 8 hours." in page

    response = laptop.post("/accounts/sign-out-everywhere/", follow=True)
    assert "You are signed out on every device, this one included." in messages_on(response)
    assert "_auth_user_id" not in laptop.session
    ended = phone.get("/dashboard/", follow=True)
    assert ended.redirect_chain[0][0].startswith("/accounts/login/")
    assert "You were signed out everywhere. Log in again." in messages_on(ended)
    # Other people's sessions go on; a new log-in works again.
    assert bystander.get("/dashboard/").status_code == 200
    fresh = Client()
    assert log_in(fresh).status_code == 302
    assert fresh.get("/accounts/").status_code == 200


def test_signing_out_everywhere_takes_a_post(user: User) -> None:
    client = Client()
    log_in(client)
    assert client.get("/accounts/sign-out-everywhere/").status_code == 405
    assert client.get("/accounts/").status_code == 200


def test_visitors_without_a_session_get_no_vary_cookie(client: Client) -> None:
    """Looking at sessions only where there is one keeps public answers cacheable."""
    response = client.get("/api/petitions")
    assert "Cookie" not in response.get("Vary", "")
    assert "sessionid" not in response.cookies
