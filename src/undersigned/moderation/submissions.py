"""The moderators' decisions on submissions (petitions/submissions.py): publish, reject,
or send back for changes.

Who decides: the site's moderators (`signing.moderate_any`, past the second
factor), never the submission's creator (petitions.access). Each decision is
one transaction: the petition's new status, a Decision row, the supporters'
signatures settled (signing/supporters.py), an audit event, and the mails to
the creator (in the language they submitted in) and to the supporters who
confirmed (in theirs), through the outbox.

- Publish opens it as petitions.services.publish does (its text frozen, the
  opening logged and audited); then its confirmed supporters' signatures count,
  each verification logged after the opening.
- Reject names a standard (petitions.Standard) and may add a note; a
  duplicate names the original, a petition a visitor can read. None of its
  supporters' signatures ever counts. It is listed among the rejected, with
  its text unless the standard hides it; then its address is renamed, since a
  slug is made of the title, and its words stay out of the search index.
- Send back needs a note saying what to change; it becomes an editable draft
  of its creator's again, and its supporters are let go with the old text.

Refusals raise DecisionError with a message for the moderator; nothing is
changed then.
"""

import re
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from undersigned.audit import services as audit
from undersigned.petitions import search, services, submissions
from undersigned.petitions.access import may_moderate_submissions
from undersigned.petitions.models import Decision, Petition, Standard
from undersigned.petitions.rejected import text_hidden
from undersigned.signing import supporters
from undersigned.signing.models import Signature

Status = Petition.Status
Moderator = User | AnonymousUser


class DecisionError(Exception):
    """A refusal the moderator should read, in the active language; nothing was changed."""


def may_decide(user: Moderator, petition: Petition) -> bool:
    return may_moderate_submissions(user) and petition.organiser_id != user.pk


def _locked(petition: Petition, moderator: Moderator) -> tuple[Petition, list[Signature]]:
    """The supporters' rows, then the petition's, locked (the order a supporter's
    confirmation takes them in); refused unless it awaits this moderator's decision."""
    if not may_decide(moderator, petition):
        raise DecisionError(_("You may not decide on this submission."))
    held = supporters.lock(petition)
    petition = Petition.objects.select_for_update().get(pk=petition.pk)
    if petition.status != Status.MODERATION:
        raise DecisionError(_("This submission no longer awaits moderation."))
    return petition, held


def _record(
    petition: Petition,
    moderator: Moderator,
    kind: str,
    *,
    held: list[Signature],
    standard: Standard | None = None,
    note: str = "",
    duplicate_of: Petition | None = None,
) -> Decision:
    """The decision, recorded before the supporters' signatures are settled."""
    confirmed = sum(1 for s in held if s.state == Signature.State.CONFIRMED)
    return Decision.objects.create(
        petition=petition,
        kind=kind,
        standard=standard,
        note=note,
        duplicate_of=duplicate_of,
        decided_by=moderator if isinstance(moderator, User) else None,
        decided_at=timezone.now(),
        text_sha256=petition.current_version().sha256,
        supporters=confirmed,
    )


def _tell_creator(petition: Petition, decision: Decision) -> None:
    original = decision.duplicate_of
    submissions.mail_creator(
        petition,
        "moderation-decision",
        "moderation/mail/decision.txt",
        {
            "decision": decision,
            "standard": decision.standard,
            "note": decision.note,
            "original_url": (settings.SITE_URL + original.get_absolute_url() if original else ""),
            "petition_url": settings.SITE_URL + petition.get_absolute_url(),
        },
    )


def publish(petition: Petition, moderator: Moderator, *, note: str = "") -> Decision:
    note = note.strip()
    try:
        with transaction.atomic():
            petition, held = _locked(petition, moderator)
            decision = _record(petition, moderator, Decision.Kind.PUBLISH, held=held, note=note)
            services.publish(petition, moderator, submission=True)
            petition.refresh_from_db()
            counted = supporters.release(petition, held)
            audit.record(
                "submission.published",
                actor=moderator,
                petition=petition,
                reason=note,
                supporters=decision.supporters,
                counted=counted,
                sha256=decision.text_sha256,
            )
            _tell_creator(petition, decision)
            return decision
    except services.PetitionError as exc:
        raise DecisionError(str(exc)) from None


_PETITION_PATH = re.compile(r"/p/([-a-zA-Z0-9_]+)/?")


def find_original(given: str, petition: Petition) -> Petition:
    """The petition a duplicate repeats, by its slug or its page's address."""
    text = given.strip()
    found_path = _PETITION_PATH.search(text)
    slug = found_path.group(1) if found_path else text.strip("/")
    original = Petition.objects.filter(slug=slug[:80]).first() if slug else None
    if original is None or original.pk == petition.pk:
        raise DecisionError(
            _("No petition has the address “%(slug)s”: give the original's slug or link.")
            % {"slug": given.strip()[:80]}
        )
    readable = original.status in Petition.PUBLISHED or (
        original.status == Status.REJECTED and not text_hidden(original.rejection())
    )
    if not readable:
        raise DecisionError(
            _("“%(slug)s” is not a petition the public can read: name a published one.")
            % {"slug": original.slug}
        )
    return original


def reject(
    petition: Petition,
    moderator: Moderator,
    *,
    standard: Standard | None,
    note: str = "",
    original: str = "",
) -> Decision:
    """Reject for `standard`; a duplicate's `original` is the repeated petition's slug or link."""
    note = note.strip()
    if standard is None or standard.retired:
        raise DecisionError(_("Choose the standard it fails."))
    duplicate_of = None
    if standard.names_original:
        if not original.strip():
            raise DecisionError(_("Name the petition it duplicates."))
        duplicate_of = find_original(original, petition)
    with transaction.atomic():
        petition, held = _locked(petition, moderator)
        decision = _record(
            petition,
            moderator,
            Decision.Kind.REJECT,
            held=held,
            standard=standard,
            note=note,
            duplicate_of=duplicate_of,
        )
        petition.status = Status.REJECTED
        if standard.hides_text:
            petition.slug = services.free_slug(f"rejected-{petition.pk}", exclude_id=petition.pk)
        petition.save(update_fields=["status", "slug"])
        supporters.end(petition, held, outcome="rejected", standard=standard)
        search.index_petition(petition.pk)  # its words for the rejected list, or none
        audit.record(
            "submission.rejected",
            actor=moderator,
            petition=petition,
            # In English, as the trail's other reasons are.
            reason=_english_title(standard),
            standard=standard.code,
            note=note,
            duplicate_of=duplicate_of.slug if duplicate_of else None,
            supporters=decision.supporters,
            sha256=decision.text_sha256,
        )
        _tell_creator(petition, decision)
        return decision


def _english_title(standard: Standard) -> str:
    text = standard.text_in("en")
    return text.title if text is not None else standard.code


def expire_unsupported(now: datetime | None = None) -> int:
    """Send back every submission still gathering supporters SUBMISSION_DAYS after it
    was submitted (run by the worker). Its supporters are let go, as with a
    moderator's sending back, so an abandoned submission holds nobody's name or
    address in the clear; its creator may submit it again. Returns how many.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(days=int(settings.SUBMISSION_DAYS))
    stale = Petition.objects.filter(status=Status.COLLECTING, submitted_at__lte=cutoff)
    expired = 0
    for pk in stale.values_list("pk", flat=True):
        with transaction.atomic():
            held = supporters.lock(Petition(pk=pk))
            petition = Petition.objects.select_for_update().get(pk=pk)
            if petition.status != Status.COLLECTING:
                continue  # its last supporter confirmed in the meantime
            with translation.override(petition.creator_language or settings.LANGUAGE_CODE):
                note = _(
                    "It did not find its supporters in time (%(n)d needed within %(days)d "
                    "days). Submit it again to gather them anew."
                ) % {"n": submissions.supporters_needed(), "days": settings.SUBMISSION_DAYS}
            _send_back(petition, held, AnonymousUser(), note, action="submission.expired")
            expired += 1
    return expired


def send_back(petition: Petition, moderator: Moderator, *, note: str) -> Decision:
    note = note.strip()
    if not note:
        raise DecisionError(_("Say what the creator should change: they read your note."))
    with transaction.atomic():
        petition, held = _locked(petition, moderator)
        return _send_back(petition, held, moderator, note, action="submission.sent_back")


def _send_back(
    petition: Petition, held: list[Signature], moderator: Moderator, note: str, *, action: str
) -> Decision:
    """Back to its creator as an editable draft; its supporters let go and told. In the
    caller's transaction, with the rows locked (_locked, or the expiry's own)."""
    decision = _record(petition, moderator, Decision.Kind.SEND_BACK, held=held, note=note)
    petition.status = Status.SENT_BACK
    petition.save(update_fields=["status"])
    supporters.end(petition, held, outcome="sent_back")
    audit.record(
        action,
        actor=moderator if isinstance(moderator, User) else None,
        petition=petition,
        reason=note,
        supporters=decision.supporters,
        sha256=decision.text_sha256,
    )
    _tell_creator(petition, decision)
    return decision
