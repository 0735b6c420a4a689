"""Founder invitations: the one mail an organiser makes the site send, so it is rationed.

The invitation quotes the founder's name and role as the organiser typed
them. Without limits an account could use the site as a mail relay: any
text, to any list of addresses, in the site's name. So an invitation needs a
confirmed organiser address, and is refused past a cap of founders per
petition, a number of invitations per organiser a day, and a number per
recipient a day from all organisers together (settings.py). A refusal
sends nothing and records nothing.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.contrib.auth.models import User
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from undersigned.accounts.services import address_confirmed
from undersigned.core.hashing import keyed_hash
from undersigned.core.quotas import Quota
from undersigned.petitions.models import Petition
from undersigned.registers.emails import normalise_email
from undersigned.signing.models import Signature


class InvitationRefused(Exception):
    pass


def not_confirmed_message() -> str:
    return _(
        "Confirm your own address first: follow the link we mailed you, or send it again "
        "from your account page. Until then you can write drafts but not publish them or "
        "invite anyone."
    )


@contextmanager
def invitation(petition: Petition, organiser: User, email: str) -> Iterator[None]:
    """Hold one invitation's place in every quota while the body sends it.

    Raises InvitationRefused (counting nothing) when a limit is reached; if
    the body fails, the places it held are given back.
    """
    if not address_confirmed(organiser):
        raise InvitationRefused(not_confirmed_message())
    cap = settings.FOUNDERS_PER_PETITION
    if cap > 0 and Signature.objects.filter(petition=petition, is_founder=True).count() >= cap:
        raise InvitationRefused(
            ngettext(
                "This petition has %(cap)d founding signatory, the most one may have here.",
                "This petition has %(cap)d founding signatories, the most one may have here.",
                cap,
            )
            % {"cap": cap}
        )
    per_organiser = Quota("founder-invitations-organiser", settings.FOUNDER_INVITATIONS_PER_DAY)
    per_recipient = Quota(
        "founder-invitations-recipient", settings.FOUNDER_INVITATIONS_PER_RECIPIENT
    )
    recipient = keyed_hash("founder-invitation", normalise_email(email))
    if not per_organiser.take(str(organiser.pk)):
        raise InvitationRefused(
            _("You have sent as many founder invitations as one may today. Try again tomorrow.")
        )
    if not per_recipient.take(recipient):
        per_organiser.give_back(str(organiser.pk))
        raise InvitationRefused(
            _(
                "This address has been sent as many invitations as it may get today. "
                "Try again tomorrow."
            )
        )
    try:
        yield
    except BaseException:
        per_organiser.give_back(str(organiser.pk))
        per_recipient.give_back(recipient)
        raise
