"""Submissions: where PUBLISHING=reviewed, a petition is checked before anyone may sign it.

    draft ─submit→ collecting ─Nth supporter confirms→ moderation ─a moderator→ open
                                                                 ├→ rejected
                                                                 └→ sent back ─submit→ collecting

Only organisers the operator trusts (the permission `publish_directly`, or
staff) publish at once, as every organiser does where PUBLISHING=anyone. Any
other creator submits: the submission gets a link to share, and its
supporters back it there with their name and address, confirming by a mailed
link as signers do (signing/supporters.py). Their confirmed signatures wait,
counted as awaiting, and count once it opens; never if it is rejected. When
SUPPORTERS_NEEDED of them have confirmed, it waits for a moderator of the
site, who checks it against the published standards (petitions.Standard) and
decides (moderation/submissions.py). Each step is audited and mailed to the
creator, in the language they submitted in.

While it is submitted its text is frozen (its supporters back that text); a
submission sent back is an editable draft again, whose supporters were let go
with the old text, and submitting it again gathers supporters anew.
"""

import secrets
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from undersigned.audit import services as audit
from undersigned.outbox.services import enqueue
from undersigned.petitions.models import Decision, Petition
from undersigned.petitions.services import PetitionError
from undersigned.signing.models import Signature

Status = Petition.Status
AnyUser = User | AnonymousUser


def reviewed() -> bool:
    return str(settings.PUBLISHING) != "anyone"


def may_publish_directly(user: AnyUser) -> bool:
    """Whether this user's petitions open at once, or are submitted for moderation."""
    if not reviewed():
        return True
    if not user.is_authenticated or not isinstance(user, User):
        return False
    return user.is_staff or user.has_perm("petitions.publish_directly")


def supporters_needed() -> int:
    return int(settings.SUPPORTERS_NEEDED)


def supporters(petition: Petition) -> int:
    """Supporters who confirmed and still back it (their signatures wait to count)."""
    return Signature.objects.filter(
        petition=petition, state=Signature.State.CONFIRMED, is_founder=False
    ).count()


def support_url(petition: Petition) -> str:
    """The link its creator shares: where supporters back it (absolute)."""
    return settings.SITE_URL + reverse("support", args=[petition.slug, petition.support_key])


def mail_creator(
    petition: Petition, kind: str, template: str, context: dict[str, object]
) -> None:
    """Mail the creator about their submission, in the language they submitted it in."""
    address = petition.organiser.email
    if not address:
        return
    version = petition.current_version()
    enqueue(
        kind,
        address,
        template,
        {
            "petition": petition,
            "title": version.title,
            "manage_url": settings.SITE_URL + reverse("manage", args=[petition.slug]),
            "standards_url": settings.SITE_URL + reverse("standards"),
            "needed": supporters_needed(),
            **context,
        },
        language=petition.creator_language or version.language,
    )


def submit(petition: Petition, actor: User, *, language: str) -> Petition:
    """Submit a draft (or one sent back) for its supporters and then the moderators.

    Raises PetitionError, having changed nothing, when it cannot be submitted.
    """
    with transaction.atomic():
        petition = Petition.objects.select_for_update().get(pk=petition.pk)
        if petition.status not in Petition.EDITABLE:
            raise PetitionError(_("Only a draft can be submitted."))
        if petition.needs_register and petition.register_id is None:
            raise PetitionError(_("Choose the register of people who may sign before submitting."))
        if petition.deadline and petition.deadline <= timezone.now():
            raise PetitionError(_("The deadline is already past; move it before submitting."))
        again = petition.status == Status.SENT_BACK
        needed = supporters_needed()
        petition.status = Status.COLLECTING if needed else Status.MODERATION
        # The link keeps working when it comes back from changes: it was shared already.
        petition.support_key = petition.support_key or secrets.token_urlsafe(16)
        petition.submitted_at = timezone.now()
        petition.creator_language = language[:8]
        petition.save(
            update_fields=["status", "support_key", "submitted_at", "creator_language"]
        )
        version = petition.current_version()
        audit.record(
            "petition.submitted",
            actor=actor,
            petition=petition,
            text_version=version.number,
            sha256=version.sha256,
            again=again,
        )
        mail_creator(
            petition,
            "submitted",
            "petitions/mail/submitted.txt",
            {"support_url": support_url(petition), "again": again},
        )
        return petition


def supporter_confirmed(petition_id: int) -> bool:
    """A supporter has just confirmed: move the submission to the moderators once it has
    enough. Called inside the confirmation's transaction, after the signature's row
    was locked (the moderators' decisions lock the supporters' rows before the
    petition's too, so the two never wait for each other). Returns whether it moved.
    """
    with transaction.atomic():
        petition = Petition.objects.select_for_update().get(pk=petition_id)
        if petition.status != Status.COLLECTING:
            return False
        count = supporters(petition)
        if count < supporters_needed():
            return False
        petition.status = Status.MODERATION
        petition.save(update_fields=["status"])
        audit.record(
            "petition.awaiting_moderation", actor=None, petition=petition, supporters=count
        )
        mail_creator(
            petition,
            "awaiting-moderation",
            "petitions/mail/awaiting_moderation.txt",
            {"supporters": count},
        )
        return True


@dataclass(frozen=True)
class Stage:
    """Where a petition stands on its way to publication, for its creator."""

    status: str
    supporters: int = 0
    needed: int = 0
    decision: Decision | None = None  # the latest, when it was sent back or rejected

    @property
    def collecting(self) -> bool:
        return self.status == Status.COLLECTING

    @property
    def in_moderation(self) -> bool:
        return self.status == Status.MODERATION

    @property
    def sent_back(self) -> bool:
        return self.status == Status.SENT_BACK

    @property
    def rejected(self) -> bool:
        return self.status == Status.REJECTED


def stage(petition: Petition) -> Stage:
    if petition.status in Petition.SUPPORTABLE:
        return Stage(petition.status, supporters(petition), supporters_needed())
    if petition.status in (Status.SENT_BACK, Status.REJECTED):
        decision = (
            petition.decisions.select_related("standard", "duplicate_of")
            .prefetch_related("standard__texts")
            .order_by("-decided_at", "-pk")
            .first()
        )
        return Stage(petition.status, decision=decision)
    return Stage(petition.status)
