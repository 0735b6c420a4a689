"""Signature lifecycle: every state change and its tally move happen in one transaction."""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from undersigned.abuse import limits
from undersigned.abuse.recording import record_source, source_row
from undersigned.abuse.sources import Source
from undersigned.audit import services as audit
from undersigned.core import typed_text
from undersigned.core.hashing import keyed_hash
from undersigned.core.inserts import Dependent, insert_if_new
from undersigned.ledger import services as ledger
from undersigned.outbox.models import OutgoingMail
from undersigned.outbox.services import compose, drop_unsent, enqueue
from undersigned.petitions import submissions
from undersigned.petitions.models import Petition, TextVersion
from undersigned.petitions.services import add_to_tally
from undersigned.petitions.texts import read_texts
from undersigned.registers.emails import normalise_email
from undersigned.registers.models import RegisterEntry
from undersigned.signing.custody import entry_key, seal_decided
from undersigned.signing.models import ResentLink, Signature, Subscription
from undersigned.signing.tokens import new_token, token_hash
from undersigned.tlog import entries as log_entries

State = Signature.State
AWAITING_STATES = (State.CONFIRMED, State.NEEDS_REVIEW)
LIVE_STATES = (State.UNCONFIRMED, State.CONFIRMED, State.NEEDS_REVIEW, State.VERIFIED)


class SigningError(Exception):
    """A refusal the signer or moderator should read; nothing was changed.

    Raised with a message already translated into the active language.
    """


@dataclass(frozen=True)
class SignRequest:
    full_name: str
    email: str
    show_name: bool = True
    role: str = ""
    municipality: str = ""
    region: str = ""
    evidence_url: str = ""
    language: str = "en"
    # "Tell me about this petition's response and outcome" (updates/).
    wants_updates: bool = False


def email_hash(email: str) -> str:
    return keyed_hash("email", normalise_email(email))


def bucket(state: str) -> str | None:
    if state == State.VERIFIED:
        return "verified"
    if state in AWAITING_STATES:
        return "awaiting"
    return None


def _save(signature: Signature) -> None:
    """Save the row, then move its tallies: the busy tally row is locked last, so
    confirmations of one petition hold it only for the commit (docs/performance.md).

    A decided signature's contact details are sealed away first (signing/custody.py);
    a signer verified now who asked for updates keeps their address for that
    alone, taken before the sealing, in the same transaction.
    """
    if signature.state == State.VERIFIED and signature.wants_updates and signature.email:
        _subscribe(signature)
    seal_decided(signature)
    signature.save()
    paper = signature.channel == Signature.Channel.PAPER
    for args in signature.tally_moves:
        add_to_tally(*args, hidden=not signature.show_name, paper=paper)
    signature.tally_moves = []


def _subscribe(signature: Signature) -> None:
    """Keep a verified signer's address to tell them of the response and outcome."""
    Subscription.objects.bulk_create(
        [
            Subscription(
                petition_id=signature.petition_id,
                email=signature.email,
                email_hash=signature.email_hash,
                language=signature.language,
            )
        ],
        ignore_conflicts=True,  # subscribed already, by an earlier signature of this address
    )


def forget_subscriptions(subscriptions: "QuerySet[Subscription]") -> int:
    """Delete these subscriptions and the update mail not yet sent to them; how many."""
    found = list(subscriptions)
    drop_unsent([s.recipient_key for s in found])
    Subscription.objects.filter(pk__in=[s.pk for s in found]).delete()
    return len(found)


def unsubscribe(signature: Signature) -> int:
    """Forget the address this signature's signer gave for updates."""
    return forget_subscriptions(
        Subscription.objects.filter(
            petition_id=signature.petition_id, email_hash=signature.email_hash
        )
    )


def _move(
    signature: Signature,
    new_state: str,
    *,
    old_place: tuple[str, str] | None = None,
    reason: str | None = None,
) -> None:
    """Change a signature's state, keeping the tallies equal to the rows and logging it."""
    before_state = signature.state
    if new_state == State.VERIFIED and before_state != State.VERIFIED:
        signature.receipt_key = ledger.record_verification(signature)
    elif before_state == State.VERIFIED and new_state != State.VERIFIED:
        removal_events: dict[str, str] = {
            State.WITHDRAWN: log_entries.SIGNATURE_WITHDRAWN,
            State.INVALIDATED: log_entries.SIGNATURE_INVALIDATED,
        }
        event = removal_events.get(new_state)
        if event is None:
            raise SigningError(f"a verified signature cannot become {new_state}")
        ledger.record_removal(signature, event, reason=reason)
    before = bucket(before_state)
    place_before = old_place or signature.place()
    signature.state = new_state
    after = bucket(new_state)
    place_after = signature.place()
    if before == after and place_before == place_after:
        return
    if before:
        signature.tally_moves.append((signature.petition_id, place_before, before, -1))
    if after:
        signature.tally_moves.append((signature.petition_id, place_after, after, +1))


def _link(name: str, token: str) -> str:
    return settings.SITE_URL + reverse(name, args=[token])


def _can_take_signatures(petition: Petition, founder: bool, supporter: bool = False) -> bool:
    if petition.status in Petition.SUPPORTABLE:
        # A submission (petitions/submissions.py): only its supporters back it.
        return supporter
    if founder:
        return petition.status in (Petition.Status.DRAFT, Petition.Status.OPEN)
    return petition.is_open


def sign(
    petition: Petition,
    request: SignRequest,
    *,
    added_by: User | None = None,
    source: Source | None = None,
    version: TextVersion | None = None,
    supporter: bool = False,
) -> Signature:
    """Record a signature (or find the existing one) and queue its confirmation mail.

    The visitor always gets the same answer, "check your mail", so the form
    does not reveal who has signed. `version` is the text the signer was
    shown; by default the petition's published (or, for a draft, current) one.
    `supporter`: backing a submission by its shared link (signing/supporters.py);
    like a founder's, its signature is made before the petition opens.
    """
    founder = added_by is not None
    if not _can_take_signatures(petition, founder, supporter):
        raise SigningError(gettext("This petition is not open for signatures."))
    if petition.needs_register and not (request.role and request.municipality):
        raise SigningError(gettext("Give the role and municipality you hold on the register."))
    _check_typed_text(request)
    address = normalise_email(request.email)
    digest = keyed_hash("email", address)
    if version is None:
        version = petition.shown_version()
    if not founder and not supporter and not petition.needs_register:
        signature = _sign_new(petition, request, address, digest, version, source)
        if signature is not None:
            return signature
    for attempt in range(2):
        try:
            with transaction.atomic():
                signature = _sign_locked(petition, request, address, digest, version, added_by)
                if source is not None:
                    record_source(signature.pk, signature.petition_id, source)
                return signature
        except IntegrityError:
            # A concurrent request created the same (petition, email) row
            # first; the second pass finds it and re-sends, never adding a row.
            if attempt:
                raise
    raise AssertionError("unreachable")


def _check_typed_text(request: SignRequest) -> None:
    """What the forms refuse, refused for every caller: the text is mailed and exported."""
    for value, label in (
        (request.full_name, gettext("Full name")),
        (request.role, gettext("Role")),
        (request.municipality, gettext("Municipality")),
        (request.region, gettext("Region")),
    ):
        why = typed_text.problem(value, label)
        if why:
            raise SigningError(why)


def _sign_new(
    petition: Petition,
    request: SignRequest,
    address: str,
    digest: str,
    version: TextVersion,
    source: Source | None,
) -> Signature | None:
    """A first signature from this address, with its mail and source: one statement on
    PostgreSQL instead of six (core/inserts.py; docs/performance.md).

    Most signers in a surge are new, so this writes without looking first and
    returns None, having written nothing, when the address has a signature
    here already; `sign` then takes the general path, which finds it. Petitions
    bound to a register and founders' signatures always take the general path.
    """
    signature = Signature(petition=petition, email_hash=digest)
    confirm_raw, withdraw_raw = _take_request(signature, request, address, version)
    assert withdraw_raw is not None  # a new row has no link yet
    mail = _confirm_mail(signature, petition, version, confirm_raw, withdraw_raw)
    dependents = [Dependent(mail)]
    if source is not None:
        dependents.append(Dependent(source_row(petition.pk, source), link="signature"))
    if not insert_if_new(signature, unique=("petition", "email_hash"), dependents=dependents):
        return None
    return signature


def _confirm_mail(
    signature: Signature,
    petition: Petition,
    version: TextVersion,
    confirm_raw: str,
    withdraw_raw: str,
    *,
    resent_to: str = "",
    language: str = "",
) -> OutgoingMail:
    """The signature's confirmation mail, unsaved: its caller writes it with the row.

    `resent_to` is the address typed by someone signing again while the first
    claim awaits confirmation: the mail then says so, in their language, and
    gives the hours the first claim's links have left.
    """
    hours = settings.CONFIRMATION_TTL_HOURS
    if resent_to and signature.confirm_token_expires is not None:
        left = (signature.confirm_token_expires - timezone.now()).total_seconds()
        hours = max(1, -int(-left // 3600))
    return compose(
        "confirm",
        resent_to or signature.email,
        "signing/mail/confirm.txt",
        {
            "signature": signature,
            "petition": petition,
            "title": version.title,
            "confirm_url": _link("confirm", confirm_raw),
            "withdraw_url": _link("withdraw", withdraw_raw),
            "ttl_hours": hours,
            "founder": signature.is_founder,
            "resent": bool(resent_to),
            # Backing a submission: it counts only once the petition is published.
            "supporter": petition.status in Petition.SUPPORTABLE,
            "supporters_needed": settings.SUPPORTERS_NEEDED,
        },
        language=language or signature.language,
    )


def _official_entry(petition: Petition, digest: str) -> RegisterEntry | None:
    if not petition.needs_register or petition.register_id is None:
        return None
    return RegisterEntry.objects.filter(
        register_id=petition.register_id, official_email_hash=digest
    ).first()


def _take_request(
    signature: Signature,
    request: SignRequest,
    address: str,
    version: TextVersion,
    entry: RegisterEntry | None = None,
) -> tuple[str, str | None]:
    """Fill a new or re-used row from the request, unconfirmed with a fresh confirmation link.

    Returns the raw confirmation and withdrawal tokens, which only the mail
    carries; no withdrawal token when the row has a withdrawal link already
    (an expired claim taken over): that link keeps working, and the caller
    adds one for this mail (`_add_link`).
    """
    signature.text_version_id = version.pk
    signature.full_name = request.full_name
    signature.email = address
    signature.show_name = request.show_name
    signature.role = request.role
    signature.municipality = request.municipality
    signature.region = entry.region if entry else request.region
    signature.evidence_url = request.evidence_url
    signature.language = request.language
    signature.wants_updates = request.wants_updates
    signature.register_entry = entry
    signature.register_entry_key = entry_key(signature.petition_id, entry.pk) if entry else None
    signature.sent_to_official_contact = entry is not None
    signature.state = State.UNCONFIRMED
    signature.state_reason = ""
    signature.ended_at = None
    confirm_raw, signature.confirm_token_hash = new_token()
    withdraw_raw = None
    if not signature.withdraw_token_hash:
        withdraw_raw, signature.withdraw_token_hash = new_token()
    signature.confirm_token_expires = timezone.now() + timedelta(
        hours=settings.CONFIRMATION_TTL_HOURS
    )
    return confirm_raw, withdraw_raw


def _sign_locked(
    petition: Petition,
    request: SignRequest,
    address: str,
    digest: str,
    version: TextVersion,
    added_by: User | None,
) -> Signature:
    # Most signers are new: asking for the id alone keeps that common answer,
    # "no row", cheap (a whole row's 30 columns cost more to ask for than to find).
    found = list(
        Signature.objects.select_for_update(of=("self",))
        .filter(petition=petition, email_hash=digest)
        .values_list("pk", flat=True)[:1]
    )
    existing = Signature.objects.get(pk=found[0]) if found else None
    if existing is not None and _awaits_confirmation(existing):
        # The first claim stands: whoever signs again with its address gets
        # the same claim's link again, never a change to its name, role or
        # visibility (which the owner of the address would then confirm).
        if limits.resend_allowed(digest):
            _resend_confirmation(existing, address, request.language)
        return existing
    if existing is not None and existing.state not in (State.UNCONFIRMED, State.WITHDRAWN):
        if limits.resend_allowed(digest):
            _send_already_signed(existing, address, request.language)
        return existing

    # A new claim: no signature yet, a withdrawn one, or one whose link expired unused.
    signature = existing or Signature(petition=petition, email_hash=digest)
    entry = _official_entry(petition, digest)
    confirm_raw, withdraw_raw = _take_request(signature, request, address, version, entry)
    signature.is_founder = signature.is_founder or added_by is not None
    signature.added_by = signature.added_by or added_by
    _save(signature)
    if existing is not None:
        # Links to the claim this one replaces confirm nothing any more.
        ResentLink.objects.filter(signature=signature, kind=ResentLink.Kind.CONFIRM).delete()
    if withdraw_raw is None:
        withdraw_raw = _add_link(signature, ResentLink.Kind.WITHDRAW)
    _confirm_mail(signature, petition, version, confirm_raw, withdraw_raw).save(force_insert=True)
    return signature


def _awaits_confirmation(signature: Signature) -> bool:
    """Unconfirmed with a link that still works: a claim someone may yet confirm."""
    expires = signature.confirm_token_expires
    return (
        signature.state == State.UNCONFIRMED
        and signature.confirm_token_hash is not None
        and expires is not None
        and expires > timezone.now()
    )


# Further links a signature keeps of each kind; beyond them the oldest
# further one goes. The first mail's links, on the row itself, always stay.
RESENT_LINKS_KEPT = 10


def _add_link(signature: Signature, kind: str) -> str:
    """A further link of `kind` for `signature`, the earlier ones still valid; the raw token."""
    raw, digest = new_token()
    ResentLink.objects.create(signature=signature, kind=kind, token_hash=digest)
    stale = ResentLink.objects.filter(signature=signature, kind=kind).order_by("-pk")[
        RESENT_LINKS_KEPT:
    ]
    ResentLink.objects.filter(pk__in=list(stale.values_list("pk", flat=True))).delete()
    return raw


def _resend_confirmation(signature: Signature, address: str, language: str) -> None:
    """The first claim's confirmation again, to the address typed now, with links of its own."""
    version = signature.text_version
    _confirm_mail(
        signature,
        signature.petition,
        version,
        _add_link(signature, ResentLink.Kind.CONFIRM),
        _add_link(signature, ResentLink.Kind.WITHDRAW),
        resent_to=address,
        language=language,
    ).save(force_insert=True)


def _send_already_signed(signature: Signature, address: str, language: str) -> None:
    # To the address typed now: a decided signature's own is sealed away, and
    # so may its name be, so the mail names nobody.
    # In the language of this attempt: whoever just signed again waits for this mail.
    withdraw_url = ""
    if signature.state in LIVE_STATES:
        if signature.withdraw_token_hash:
            # A further link: the one mailed first must keep working.
            withdraw_raw = _add_link(signature, ResentLink.Kind.WITHDRAW)
        else:  # none left (reinstated after an invalidation): this one is the first again
            withdraw_raw, signature.withdraw_token_hash = new_token()
            signature.save(update_fields=["withdraw_token_hash"])
        withdraw_url = _link("withdraw", withdraw_raw)
    enqueue(
        "already-signed",
        address,
        "signing/mail/already_signed.txt",
        {
            "signature": signature,
            "petition": signature.petition,
            # In the language of this attempt, where the petition has a text in it.
            "title": read_texts(signature.petition).for_reader(language).title,
            "withdraw_url": withdraw_url,
        },
        language=language,
    )


def _by_link(kind: str, raw: str) -> int | None:
    """The signature a further (re-sent) link of `kind` belongs to."""
    return (
        ResentLink.objects.filter(kind=kind, token_hash=token_hash(raw))
        .values_list("signature_id", flat=True)
        .first()
    )


def find_by_confirm_token(raw: str) -> Signature | None:
    rows = Signature.objects.select_related("petition")
    found = rows.filter(confirm_token_hash=token_hash(raw)).first()
    if found is None:
        pk = _by_link(ResentLink.Kind.CONFIRM, raw)
        found = rows.filter(pk=pk).first() if pk is not None else None
    return found


def find_by_withdraw_token(raw: str) -> Signature | None:
    rows = Signature.objects.select_related("petition")
    found = rows.filter(withdraw_token_hash=token_hash(raw)).first()
    if found is None:
        pk = _by_link(ResentLink.Kind.WITHDRAW, raw)
        found = rows.filter(pk=pk).first() if pk is not None else None
    return found


def check_confirmable(signature: Signature | None) -> Signature:
    if signature is None or signature.state != State.UNCONFIRMED:
        raise SigningError(
            gettext(
                "This confirmation link has already been used or is not valid. "
                "If you have not confirmed yet, sign again to get a new link."
            )
        )
    expires = signature.confirm_token_expires
    if expires is None or expires <= timezone.now():
        raise SigningError(
            gettext("This confirmation link has expired. Sign again to get a new link.")
        )
    petition = signature.petition
    if not _can_take_signatures(petition, signature.is_founder, supporter=True):
        if petition.status in (Petition.Status.REJECTED, Petition.Status.SENT_BACK):
            raise SigningError(
                gettext(
                    "This petition was not published as it was when you backed it, "
                    "so there is nothing to confirm."
                )
            )
        raise SigningError(gettext("This petition closed before the signature was confirmed."))
    return signature


def confirm(raw_token: str) -> Signature:
    """Confirm the email address; verify at once when the rules allow, else queue for review."""
    with transaction.atomic():
        rows = (
            Signature.objects.select_for_update(of=("self",))
            # text_version: the log entry names the text, one read fewer per confirmation.
            .select_related("petition", "register_entry", "text_version")
        )
        found = rows.filter(confirm_token_hash=token_hash(raw_token)).first()
        if found is None:  # a link mailed again when someone signed again (rare: a second read)
            pk = _by_link(ResentLink.Kind.CONFIRM, raw_token)
            found = rows.filter(pk=pk).first() if pk is not None else None
        signature = check_confirmable(found)
        now = timezone.now()
        signature.confirmed_at = now
        signature.confirm_token_hash = None
        signature.confirm_token_expires = None
        # A supporter's backing of a submission waits, confirmed, until a
        # moderator publishes it (signing/supporters.py): never counted before.
        held = signature.petition.status in Petition.SUPPORTABLE
        if held:
            _move(signature, State.CONFIRMED)
        elif _verifies_on_confirmation(signature):
            signature.verified_at = now
            _move(signature, State.VERIFIED)
        elif signature.petition.needs_register:
            _move(signature, State.NEEDS_REVIEW)
        else:
            _move(signature, State.CONFIRMED)
        _save(signature)
        if held:
            submissions.supporter_confirmed(signature.petition_id)
        return signature


def _verifies_on_confirmation(signature: Signature) -> bool:
    if not signature.petition.needs_register:
        return True
    entry = signature.register_entry
    if entry is None or not signature.sent_to_official_contact:
        return False
    # The entry may already be held by a verified signature (a second
    # address on the register): a moderator has to sort that out.
    return not Signature.objects.holding(
        signature.petition_id, signature.register_entry_key
    ).exists()


def withdraw(raw_token: str) -> Signature:
    """The signer's own withdrawal, by the link mailed to them."""
    with transaction.atomic():
        signature = (
            Signature.objects.filter(withdraw_token_hash=token_hash(raw_token))
            .values_list("pk", flat=True)
            .first()
        )
        if signature is None:
            signature = _by_link(ResentLink.Kind.WITHDRAW, raw_token)
        if signature is None:
            raise SigningError(
                gettext("This withdrawal link has already been used or is not valid.")
            )
        return withdraw_signature(signature)


def withdraw_signature(signature_id: int) -> Signature:
    """Withdraw a signature that is still live: it stops counting, and the log says so."""
    with transaction.atomic():
        signature = (
            Signature.objects.select_for_update(of=("self",))
            .select_related("petition", "register_entry")
            .get(pk=signature_id)
        )
        if signature.state not in LIVE_STATES:
            raise SigningError(
                gettext("This withdrawal link has already been used or is not valid.")
            )
        _move(signature, State.WITHDRAWN)
        signature.ended_at = timezone.now()
        signature.confirm_token_hash = None
        signature.withdraw_token_hash = None
        _save(signature)
        ResentLink.objects.filter(signature=signature).delete()
        # Who no longer supports the petition is not told how it ends.
        unsubscribe(signature)
        audit.record(
            "signature.withdrawn", actor=None, petition=signature.petition, signature=signature
        )
        return signature


def approve(
    signature_id: int,
    moderator: User | AnonymousUser,
    *,
    entry: RegisterEntry | None,
    reason: str = "",
    note: str = "",
) -> Signature:
    with transaction.atomic():
        signature = (
            Signature.objects.select_for_update(of=("self",))
            .select_related("petition", "register_entry")
            .get(pk=signature_id)
        )
        if signature.state not in AWAITING_STATES:
            raise SigningError(
                gettext(
                    "This signature is %(state)s; "
                    "only signatures awaiting verification can be approved."
                )
                % {"state": signature.get_state_display().lower()}
            )
        petition = signature.petition
        if petition.needs_register:
            if entry is None or entry.register_id != petition.register_id:
                raise SigningError(gettext("Choose the register entry this signer is."))
            holder = (
                Signature.objects.holding(petition.pk, entry_key(petition.pk, entry.pk))
                .exclude(pk=signature.pk)
                .first()
            )
            if holder is not None:
                raise SigningError(
                    gettext("%(name)s already has a verified signature (#%(id)s) on this letter.")
                    % {"name": entry.full_name, "id": holder.pk}
                )
        old_place = signature.place()
        if petition.needs_register and entry is not None:
            signature.register_entry = entry
            signature.register_entry_key = entry_key(petition.pk, entry.pk)
        signature.verified_at = timezone.now()
        signature.state_reason = reason[:500]
        signature.moderator_note = note
        _move(signature, State.VERIFIED, old_place=old_place)
        address = signature.email
        _save(signature)
        audit.record(
            "signature.approved",
            actor=moderator,
            petition=petition,
            signature=signature,
            reason=reason,
            # Which entry a hidden signer is stays in the custody box, not in the trail.
            register_entry=entry.pk if entry and signature.show_name else None,
        )
        _notify_decision(signature, address)
        return signature


def reject(
    signature_id: int, moderator: User | AnonymousUser, *, reason: str, note: str = ""
) -> Signature:
    if not reason.strip():
        raise SigningError(
            gettext("Give a reason for the rejection; the signer and organiser will see it.")
        )
    with transaction.atomic():
        signature = (
            Signature.objects.select_for_update(of=("self",))
            .select_related("petition", "register_entry")
            .get(pk=signature_id)
        )
        if signature.state not in AWAITING_STATES:
            raise SigningError(
                gettext(
                    "This signature is %(state)s; "
                    "only signatures awaiting verification can be rejected."
                )
                % {"state": signature.get_state_display().lower()}
            )
        _move(signature, State.REJECTED)
        signature.state_reason = reason.strip()[:500]
        signature.moderator_note = note
        signature.ended_at = timezone.now()
        address = signature.email
        _save(signature)
        audit.record(
            "signature.rejected",
            actor=moderator,
            petition=signature.petition,
            signature=signature,
            reason=reason.strip(),
        )
        _notify_decision(signature, address)
        return signature


def invalidate(
    signature_id: int,
    moderator: User | AnonymousUser,
    *,
    reason: str,
    any_live_state: bool = False,
    audit_each: bool = True,
    note: str = "",
) -> Signature:
    """Take back a signature found to be false (a forgery, a fraud wave): it stops counting.

    Normally only a verified signature; a bulk invalidation also takes those
    still awaiting confirmation or review.
    """
    if not reason.strip():
        raise SigningError(gettext("Give a reason for the invalidation; it is public in the log."))
    allowed = LIVE_STATES if any_live_state else (State.VERIFIED,)
    with transaction.atomic():
        signature = (
            Signature.objects.select_for_update(of=("self",))
            .select_related("petition", "register_entry", "text_version")
            .get(pk=signature_id)
        )
        if signature.state not in allowed:
            raise SigningError(gettext("Only a verified signature can be invalidated."))
        _move(signature, State.INVALIDATED, reason=reason.strip())
        signature.state_reason = reason.strip()[:500]
        signature.moderator_note = note
        signature.ended_at = timezone.now()
        signature.confirm_token_hash = None
        signature.withdraw_token_hash = None
        _save(signature)
        ResentLink.objects.filter(signature=signature).delete()
        unsubscribe(signature)
        if audit_each:
            audit.record(
                "signature.invalidated",
                actor=moderator,
                petition=signature.petition,
                signature=signature,
                reason=reason.strip(),
            )
        return signature


def reinstate(signature_id: int, moderator: User | AnonymousUser, *, state: str) -> Signature:
    """Undo an invalidation, back to the state it had; a verification is logged anew."""
    if state not in LIVE_STATES:
        raise SigningError(f"cannot reinstate to {state}")
    with transaction.atomic():
        signature = (
            Signature.objects.select_for_update(of=("self",))
            .select_related("petition", "register_entry", "text_version")
            .get(pk=signature_id)
        )
        if signature.state != State.INVALIDATED:
            raise SigningError(gettext("Only an invalidated signature can be reinstated."))
        if (
            state == State.VERIFIED
            and signature.register_entry_key
            and Signature.objects.holding(
                signature.petition_id, signature.register_entry_key
            ).exists()
        ):
            # The entry of a hidden signer is sealed away: the message names nobody.
            raise SigningError(
                gettext("The register entry of this signature has another verified signature.")
            )
        if state == State.VERIFIED:
            signature.verified_at = timezone.now()
        _move(signature, state)
        signature.state_reason = ""
        signature.ended_at = None
        _save(signature)
        return signature


def _notify_decision(signature: Signature, address: str) -> None:
    """Tell the signer; `address` was read before the decision sealed it away."""
    if not address:
        return
    enqueue(
        "decision",
        address,
        "signing/mail/decision.txt",
        {
            "signature": signature,
            "petition": signature.petition,
            # The title of the text they signed, in the language they read it in.
            "title": signature.text_version.title,
            "petition_url": settings.SITE_URL + signature.petition.get_absolute_url(),
            "receipt_url": _link("receipt", signature.receipt_key) if signature.receipt_key else "",
        },
        language=signature.language,
    )
