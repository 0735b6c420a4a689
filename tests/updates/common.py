"""What the tests of updates share: signers who ask (or not) to be told, and a moderator."""

from datetime import timedelta

from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from tests.conftest import confirm_now, second_factor_login
from undersigned.petitions.models import Petition
from undersigned.signing import services as signing
from undersigned.signing.models import Signature


def signed(
    petition: Petition,
    name: str,
    *,
    updates: bool = True,
    language: str = "en",
    show: bool = True,
) -> Signature:
    """A verified signature; `updates`: the signer ticked "Tell me about … response"."""
    email = name.lower().replace(" ", ".") + "@example.org"
    request = signing.SignRequest(
        full_name=name, email=email, show_name=show, language=language, wants_updates=updates
    )
    return confirm_now(signing.sign(petition, request))


def address_of(name: str) -> str:
    return name.lower().replace(" ", ".") + "@example.org"


def moderator_of(petition: Petition, username: str = "mod") -> User:
    user = User.objects.create_user(username, f"{username}@example.org", "correct horse battery")
    petition.moderators.add(user)
    return user


def moderator_client(petition: Petition, username: str = "mod") -> Client:
    return second_factor_login(Client(), moderator_of(petition, username))


def response_form(**overrides: str) -> dict[str, str]:
    data = {
        "answered_by": "Head of the Kolpino District Administration",
        "responded_on": (timezone.localdate() - timedelta(days=3)).isoformat(),
        "text": "We will plant\r\n200 trees along the river.",
    }
    data.update(overrides)
    return data
