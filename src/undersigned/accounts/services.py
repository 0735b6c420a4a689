"""An organiser's own address, confirmed by a mailed link before they publish or mail anyone.

Anyone may sign up with any address. Until the address's owner follows the
link, the account can write drafts but not publish them or invite founders
(which mails the founder): otherwise the site would mail, in its own name,
whatever an anonymous sign-up chose to whomever it chose.
"""

from django.conf import settings
from django.contrib.auth.models import User
from django.core import signing
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language

from undersigned.accounts.models import Account
from undersigned.core.hashing import keyed_hash
from undersigned.core.quotas import Quota
from undersigned.outbox.services import enqueue
from undersigned.registers.emails import normalise_email

CONFIRM_SALT = "undersigned.accounts.confirm-address"
# Sign-ups and "send the link again" both mail an address someone typed; an
# address gets at most this many such mails a day, whoever asks.
ADDRESS_MAILS = Quota("account-confirm-recipient", 3)


def _address_hash(address: str) -> str:
    return keyed_hash("account-email", normalise_email(address))


def address_confirmed(user: User) -> bool:
    """Whether the user's current address is one its owner confirmed.

    Superusers are made by the operator on the server (`createsuperuser`),
    who vouches for them; everyone else confirms, operator-made accounts too
    (they do it once from their account page).
    """
    if user.is_superuser:
        return True
    if not user.email:
        return False
    return Account.objects.filter(
        user=user, confirmed_email_hash=_address_hash(user.email)
    ).exists()


def mark_confirmed(user: User) -> None:
    """Record the user's current address as confirmed (the link, or the demo's own users)."""
    Account.objects.update_or_create(
        user=user,
        defaults={
            "confirmed_email_hash": _address_hash(user.email),
            "email_confirmed_at": timezone.now(),
        },
    )


def confirmation_token(user: User) -> str:
    # Signed, timestamped, and bound to the address: a link for an address
    # since changed confirms nothing. Only a keyed hash of it is in the token.
    return signing.dumps([user.pk, _address_hash(user.email)[:32]], salt=CONFIRM_SALT)


def user_for_token(token: str) -> User | None:
    """The user a valid, unexpired link was made for, while their address is still that one."""
    try:
        user_id, digest = signing.loads(
            token, salt=CONFIRM_SALT, max_age=settings.CONFIRMATION_TTL_HOURS * 3600
        )
    except (signing.BadSignature, ValueError, TypeError):
        return None
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or not user.email or _address_hash(user.email)[:32] != digest:
        return None
    return user


def send_confirmation(user: User) -> bool:
    """Queue the confirmation mail; False when the address has had its mails for today."""
    if not user.email or not ADDRESS_MAILS.take(_address_hash(user.email)):
        return False
    # The mail quotes nothing the sign-up typed (not even the user name): it
    # cannot carry a stranger's text to the address's owner.
    enqueue(
        "account-confirm",
        user.email,
        "accounts/mail/confirm_address.txt",
        {
            "confirm_url": settings.SITE_URL
            + reverse("confirm-address", args=[confirmation_token(user)]),
            "ttl_hours": settings.CONFIRMATION_TTL_HOURS,
        },
        language=get_language(),
    )
    return True


def session_generation(user_id: int) -> int:
    found = Account.objects.filter(user_id=user_id).values_list("session_generation", flat=True)
    return next(iter(found), 0)


def end_all_sessions(user: User) -> None:
    """Every session of this user ends at its next request (accounts/sessions.py)."""
    Account.objects.get_or_create(user=user)
    Account.objects.filter(user=user).update(session_generation=F("session_generation") + 1)
