"""Erasing personal data: on a signer's request, and on schedule after a petition closes.

What stays: the tallies, the public log (which holds only what was public, or
a commitment whose salt is erased here), and the fact that a signature row
existed. What goes: addresses and their hashes, hidden names, evidence links,
salts, tokens, sources and mail.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from undersigned.abuse import limits
from undersigned.abuse.models import SigningSource
from undersigned.audit import services as audit
from undersigned.outbox.models import OutgoingMail
from undersigned.outbox.services import enqueue
from undersigned.petitions.models import Petition
from undersigned.privacy.models import DataRequest
from undersigned.signing import services as signing
from undersigned.signing.models import ResentLink, Signature, Subscription
from undersigned.signing.tokens import new_token, token_hash

State = Signature.State
LINK_TTL = timedelta(hours=24)
SENT_MAIL_KEPT = timedelta(days=30)


def erase(signature: Signature) -> None:
    """Forget who this was; the row keeps its state so every count stays provable."""
    keep_name = signature.state == State.VERIFIED and signature.show_name
    # The address kept for updates goes first: its hash is the signature's.
    signing.unsubscribe(signature)
    Signature.objects.filter(pk=signature.pk).update(
        email="",
        email_hash=f"erased:{signature.pk}",
        full_name=signature.full_name if keep_name else "",
        evidence_url="",
        # The copies sealed to the custody key go too: erased means for everyone.
        custody_sealed="",
        log_salt=None,
        confirm_token_hash=None,
        withdraw_token_hash=None,
    )
    SigningSource.objects.filter(signature=signature).delete()
    ResentLink.objects.filter(signature=signature).delete()


def request_link(email: str, *, language: str | None = None) -> bool:
    """Mail the address a link to what is held about it, whether or not anything is.

    Whoever types an address must not learn whether it signed: not from the
    page, not from how long the answer takes, not from the queue of mail. So
    the same work is done either way (a request row and a mail; no query of
    signatures at all), and only the page behind the link, which only the
    address's owner can open, says what is held. The mail is fixed text with
    nothing the asker typed; the view limits asking per client, and this
    limits links per address (RATE_LIMIT_MY_DATA): past it nothing is mailed,
    and the owner still has the earlier link. Returns whether a mail was queued.
    The mail is in `language`: that of the person who asked, on the page they used.
    """
    digest = signing.email_hash(email)
    if limits.exceeded("my-data", digest, settings.RATE_LIMIT_MY_DATA) is not None:
        return False
    raw, hashed = new_token()
    with transaction.atomic():
        DataRequest.objects.create(
            email_hash=digest, token_hash=hashed, expires=timezone.now() + LINK_TTL
        )
        enqueue(
            "my-data",
            email.strip().lower(),
            "privacy/mail/link.txt",
            {
                "url": settings.SITE_URL + f"/my-data/{raw}/",
                "hours": 24,
            },
            language=language,
        )
    return True


def find_request(raw: str) -> DataRequest | None:
    found = DataRequest.objects.filter(token_hash=token_hash(raw)).first()
    if found is None or found.expires <= timezone.now():
        return None
    return found


def subscriptions_of(data_request: DataRequest) -> list[Subscription]:
    """The petitions this address asked to be told about (its address is kept for that)."""
    return list(
        Subscription.objects.filter(email_hash=data_request.email_hash)
        .select_related("petition")
        .order_by("created")
    )


def held_for(data_request: DataRequest) -> list[Signature]:
    return list(
        Signature.objects.filter(email_hash=data_request.email_hash)
        .select_related("petition", "text_version", "register_entry")
        .order_by("created")
    )


def delete_everything(data_request: DataRequest) -> int:
    """Withdraw every live signature of the address and erase its data."""
    count = 0
    with transaction.atomic():
        for signature in held_for(data_request):
            if signature.state in signing.LIVE_STATES:
                signature = signing.withdraw_signature(signature.pk)
            erase(signature)
            audit.record(
                "signature.erased_on_request",
                actor=None,
                petition=signature.petition,
                signature=signature,
            )
            count += 1
        # Any left without a signature of this address (there should be none).
        signing.forget_subscriptions(
            Subscription.objects.filter(email_hash=data_request.email_hash)
        )
        DataRequest.objects.filter(email_hash=data_request.email_hash).delete()
    return count


def purge_due(now: datetime | None = None) -> int:
    """Erase signers' data of petitions closed longer than their retention period."""
    now = now or timezone.now()
    due = Petition.objects.filter(
        status__in=[Petition.Status.CLOSED, Petition.Status.ARCHIVED],
        purged_at__isnull=True,
        closed_at__isnull=False,
    )
    purged = 0
    for petition in due:
        if petition.closed_at + timedelta(days=petition.retention_days) > now:  # type: ignore[operator]
            continue
        with transaction.atomic():
            for signature in Signature.objects.filter(petition=petition).exclude(
                email_hash__startswith="erased:"
            ):
                erase(signature)
                purged += 1
            # The addresses kept for updates go with the rest, mail not yet sent too.
            signing.forget_subscriptions(Subscription.objects.filter(petition=petition))
            Petition.objects.filter(pk=petition.pk).update(purged_at=now)
            audit.record(
                "petition.personal_data_purged",
                actor=None,
                petition=petition,
                retention_days=petition.retention_days,
            )
    OutgoingMail.objects.filter(sent_at__lt=now - SENT_MAIL_KEPT).delete()
    DataRequest.objects.filter(expires__lt=now).delete()
    return purged
