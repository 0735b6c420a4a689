"""Every role against every private page: what each may see, and each denial."""

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests.conftest import make_petition, second_factor_login
from undersigned.petitions.models import Petition
from undersigned.registers.models import Register
from undersigned.signing import services as signing
from undersigned.signing.models import Signature
from undersigned.signing.tokens import new_token

pytestmark = pytest.mark.django_db

ROLES = [
    "anonymous",
    "owner",
    "owner_no_2fa",
    "other_organiser",
    "moderator",
    "moderator_no_2fa",
    "unassigned_moderator",
    "admin",
    "admin_no_2fa",
]


@pytest.fixture
def world(register: Register) -> dict[str, Any]:
    owner = User.objects.create_user("owner", "o@example.org", "pw-for-tests-1")
    other = User.objects.create_user("other", "x@example.org", "pw-for-tests-2")
    moderator = User.objects.create_user("mod", "m@example.org", "pw-for-tests-3")
    stranger = User.objects.create_user("mod2", "n@example.org", "pw-for-tests-4")
    admin = User.objects.create_superuser("root", "r@example.org", "pw-for-tests-5")
    letter = make_petition(owner, slug="letter", register=register)
    letter.moderators.add(moderator)
    make_petition(other, slug="others-petition", title="Another petition")
    signature = signing.sign(
        letter,
        signing.SignRequest(
            full_name="Claimant Person",
            email="c@example.org",
            role="deputy",
            municipality="Kolpino",
        ),
    )
    raw, signature.confirm_token_hash = new_token()
    signature.save(update_fields=["confirm_token_hash"])
    signing.confirm(raw)
    users = {
        "owner": owner,
        "owner_no_2fa": owner,
        "other_organiser": other,
        "moderator": moderator,
        "moderator_no_2fa": moderator,
        "unassigned_moderator": stranger,
        "admin": admin,
        "admin_no_2fa": admin,
    }
    return {"users": users, "letter": letter, "signature": Signature.objects.get()}


def client_for(role: str, world: dict[str, Any]) -> Client:
    client = Client()
    if role == "anonymous":
        return client
    user = world["users"][role]
    if role.endswith("_no_2fa"):
        client.force_login(user)
        return client
    return second_factor_login(client, user)


def denied(response: Any, role: str) -> bool:
    if response.status_code == 404:
        return True
    if response.status_code == 302:
        to = response["Location"]
        return to.startswith(("/accounts/login/", "/accounts/2fa/", "/admin/login/"))
    return response.status_code == 403


# (method, path, data, roles allowed); {sig} is the awaiting signature's id.
PAGES = [
    ("get", "/dashboard/letter/", {}, {"owner", "admin"}),
    ("get", "/dashboard/letter/edit/", {}, {"owner", "admin"}),
    (
        "post",
        "/dashboard/letter/founders/",
        {"full_name": "F", "email": "f@example.org"},
        {"owner", "admin"},
    ),
    ("post", "/dashboard/letter/versions/", {"title": "T"}, {"owner", "admin"}),
    ("post", "/dashboard/letter/close/", {}, {"owner", "admin"}),
    # Reading a claim is for the petition's assigned moderators only: not its
    # organiser, not an admin who is not assigned (docs/security.md).
    ("get", "/moderation/{sig}/", {}, {"moderator"}),
    (
        "post",
        "/moderation/{sig}/",
        {"decision": "reject", "reason": "not-on-register"},
        {"moderator"},
    ),
    ("get", "/moderation/custody/letter.jsonl", {}, {"moderator"}),
    (
        "post",
        "/moderation/sources/invalidate/",
        {
            "petition": "letter",
            "kind": "domain",
            "value": "example.org",
            "start": "2020-01-01T00:00",
            "end": "2099-01-01T00:00",
            "reason": "test",
        },
        # The fraud tools: moderators, and admins (who hold every permission); not the organiser.
        {"moderator", "admin"},
    ),
    ("get", "/admin/", {}, {"admin"}),
    ("get", "/admin/registers/register/import/", {}, {"admin"}),
    ("get", "/admin/signing/signature/", {}, {"admin"}),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    ("method", "path", "data", "allowed"), PAGES, ids=[f"{m} {p}" for m, p, _, _ in PAGES]
)
def test_role_matrix(
    world: dict[str, Any],
    role: str,
    method: str,
    path: str,
    data: dict[str, str],
    allowed: set[str],
) -> None:
    signature = world["signature"]
    before = (Signature.objects.get().state, Petition.objects.get(slug="letter").status)
    response = getattr(client_for(role, world), method)(path.format(sig=signature.pk), data)
    if role in allowed:
        assert not denied(response, role), (role, response.status_code, response.get("Location"))
    else:
        assert denied(response, role), (role, response.status_code, response.get("Location"))
        # A refused request changes nothing.
        assert (Signature.objects.get().state, Petition.objects.get(slug="letter").status) == before


@pytest.mark.parametrize("role", ROLES)
def test_lists_show_only_what_the_role_may_see(world: dict[str, Any], role: str) -> None:
    client = client_for(role, world)
    dashboard = client.get("/dashboard/")
    queue = client.get("/moderation/")
    if role == "anonymous":
        assert denied(dashboard, role) and denied(queue, role)
        return
    if role.endswith("_no_2fa"):
        # A password alone opens no organiser, review or admin page.
        assert denied(dashboard, role) and denied(queue, role)
        return
    sees_letter = role in {"owner", "admin"}
    assert ("Clean air for Kolpino" in dashboard.content.decode()) == sees_letter
    assert ("Claimant Person" in queue.content.decode()) == (role == "moderator")
