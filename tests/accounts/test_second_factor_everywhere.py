"""Organiser pages and the admin wait for the second factor; staff can never skip it."""

from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client

from tests.conftest import make_petition, second_factor_login
from undersigned.petitions.models import Petition

pytestmark = pytest.mark.django_db

PASSWORD = "a long pass phrase"


def organiser_pages(slug: str) -> list[tuple[str, str]]:
    return [
        ("get", "/dashboard/"),
        ("get", "/dashboard/new/"),
        ("get", f"/dashboard/{slug}/"),
        ("get", f"/dashboard/{slug}/edit/"),
        ("post", f"/dashboard/{slug}/close/"),
        ("post", f"/dashboard/{slug}/versions/"),
        ("post", f"/dashboard/{slug}/founders/"),
    ]


def asks_for_code(response: Any) -> bool:
    return response.status_code == 302 and response["Location"].startswith("/accounts/2fa/")


def test_a_superuser_with_a_password_alone_changes_nothing(organiser: User) -> None:
    petition = make_petition(organiser, slug="open-one")
    root = User.objects.create_superuser("root", "root@example.org", PASSWORD)
    client = Client()
    client.force_login(root)
    for method, path in organiser_pages(petition.slug):
        assert asks_for_code(getattr(client, method)(path)), path
    petition.refresh_from_db()
    assert petition.status == Petition.Status.OPEN
    assert client.get("/admin/")["Location"].startswith("/admin/login/")
    # With the code, the same superuser manages the petition.
    second_factor_login(client, root)
    assert client.get(f"/dashboard/{petition.slug}/").status_code == 200
    assert client.get("/admin/").status_code == 200


@pytest.mark.parametrize("who", ["superuser", "staff", "moderator of every petition"])
def test_require_2fa_off_still_binds_staff_and_site_moderators(
    who: str, organiser: User, settings: Any
) -> None:
    settings.REQUIRE_2FA = False
    petition = make_petition(organiser, slug="open-one")
    if who == "superuser":
        user = User.objects.create_superuser("root", "root@example.org", PASSWORD)
    else:
        user = User.objects.create_user("someone", "someone@example.org", PASSWORD)
        user.is_staff = who == "staff"
        user.save()
        if who != "staff":
            user.user_permissions.add(Permission.objects.get(codename="moderate_any"))
    client = Client()
    client.force_login(user)
    assert asks_for_code(client.get("/dashboard/"))
    assert asks_for_code(client.get("/moderation/"))
    assert asks_for_code(client.post(f"/dashboard/{petition.slug}/close/"))
    # The admin asks for a code beside the password whatever REQUIRE_2FA says.
    assert 'name="otp_token"' in Client().get("/admin/login/").content.decode()
    assert client.get("/admin/").status_code == 302


def test_require_2fa_off_lets_ordinary_organisers_in_on_a_password(
    organiser: User, settings: Any
) -> None:
    settings.REQUIRE_2FA = False
    petition = make_petition(organiser, slug="open-one")
    client = Client()
    client.force_login(organiser)
    assert client.get(f"/dashboard/{petition.slug}/").status_code == 200


def test_by_default_every_organiser_passes_the_second_factor(organiser: User) -> None:
    petition = make_petition(organiser, slug="open-one")
    client = Client()
    client.force_login(organiser)
    for method, path in organiser_pages(petition.slug):
        assert asks_for_code(getattr(client, method)(path)), path
    petition.refresh_from_db()
    assert petition.status == Petition.Status.OPEN
