"""A submission's supporters: signatures made before the petition opens, as founders' are.

A supporter backs a submission by the link its creator shares
(petitions/submissions.py), giving what a signer gives, and confirms by the
mailed link (signing.services.sign and confirm, `supporter=True`). The
confirmed signature is held as "confirmed": counted as awaiting, in no log
entry, for nobody to cite. The moderators' decision settles them all:

- published: each is decided as a confirmation of an open petition would be
  (verified and logged after the petition's opening entry, or, on a register
  letter, verified only when the confirmation went to the register's contact
  for that person, else put to the review queue), and told so with its receipt;
- rejected: none ever counts; they end as rejected, and are told why;
- sent back for changes: they backed a text that is about to change, so they
  are let go (withdrawn) and told that they may back the new one.

Their addresses, read before the decision seals them away (signing/custody.py),
are used for that one mail, in the language each backed it in.
"""

from dataclasses import dataclass

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from undersigned.abuse.sources import Source
from undersigned.outbox.services import enqueue
from undersigned.petitions.models import Petition, Standard
from undersigned.signing.models import ResentLink, Signature
from undersigned.signing.services import (
    SignRequest,
    _link,
    _move,
    _save,
    _verifies_on_confirmation,
    sign,
)

State = Signature.State
# Supporters not yet decided: those who may still confirm, and those who did.
UNDECIDED = (State.UNCONFIRMED, State.CONFIRMED, State.NEEDS_REVIEW)


def support(petition: Petition, request: SignRequest, *, source: Source | None = None) -> Signature:
    """Back a submission: a signature waiting to count, and its confirmation mail."""
    return sign(petition, request, source=source, supporter=True)


def lock(petition: Petition) -> list[Signature]:
    """Lock the submission's undecided supporters' rows, before the petition's own
    (the order a confirmation takes them in: petitions/submissions.py)."""
    return list(
        Signature.objects.select_for_update(of=("self",))
        .filter(petition=petition, state__in=UNDECIDED)
        .select_related("petition", "register_entry", "text_version")
        .order_by("pk")
    )


@dataclass(frozen=True)
class Told:
    address: str
    language: str
    signature: Signature


def release(petition: Petition, held: list[Signature]) -> int:
    """The petition was published: decide each confirmed supporter's signature as its
    confirmation would now be, and tell them. Returns how many now count.

    Call after the petition's opening is logged, in the same transaction, with
    the rows from lock(). Those who never confirmed may still: their links work.
    """
    petition.refresh_from_db()
    counted = 0
    for signature in held:
        if signature.state != State.CONFIRMED:
            continue
        signature.petition = petition
        address = signature.email
        if _verifies_on_confirmation(signature):
            signature.verified_at = timezone.now()
            _move(signature, State.VERIFIED)
            counted += 1
        else:  # a register letter's claim that a moderator has to check
            _move(signature, State.NEEDS_REVIEW)
        _save(signature)
        _tell(Told(address, signature.language, signature), petition, "published")
    return counted


def end(
    petition: Petition,
    held: list[Signature],
    *,
    outcome: str,
    standard: Standard | None = None,
) -> int:
    """The petition was rejected (`outcome` "rejected") or sent back ("sent_back"):
    none of its supporters' signatures will count. They end, their links with them,
    and those who had confirmed are told. Returns how many had confirmed.
    """
    new_state = State.REJECTED if outcome == "rejected" else State.WITHDRAWN
    reason = (
        "The petition was not published"
        if outcome == "rejected"
        else "The petition was sent back to its creator for changes"
    )
    told = []
    now = timezone.now()
    for signature in held:
        confirmed = signature.state == State.CONFIRMED
        address = signature.email
        _move(signature, new_state)
        signature.state_reason = reason
        signature.ended_at = now
        signature.confirm_token_hash = None
        signature.confirm_token_expires = None
        signature.withdraw_token_hash = None
        _save(signature)
        ResentLink.objects.filter(signature=signature).delete()
        if confirmed:
            told.append(Told(address, signature.language, signature))
    for one in told:
        _tell(one, petition, outcome, standard=standard)
    return len(told)


def _tell(one: Told, petition: Petition, outcome: str, *, standard: Standard | None = None) -> None:
    if not one.address:
        return
    signature = one.signature
    enqueue(
        "supporter-outcome",
        one.address,
        "signing/mail/supporter_outcome.txt",
        {
            "signature": signature,
            "petition": petition,
            "title": signature.text_version.title,
            "outcome": outcome,
            "standard": standard,
            "petition_url": settings.SITE_URL + petition.get_absolute_url(),
            "standards_url": settings.SITE_URL + reverse("standards"),
            "receipt_url": _link("receipt", signature.receipt_key)
            if signature.receipt_key
            else "",
        },
        language=one.language,
    )
