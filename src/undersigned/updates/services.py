"""From signatures to an answer: steps reached, the response and outcomes published
and logged, and the signers who asked told about them.

Who publishes: a moderator of the petition (assigned to it, or a site
moderator with `moderate_any`), on the addressee's behalf, with the second
factor; never its organiser, who asks for the answer and must not be able to
write it. The addressee sends the answer to the petitions office
(PETITIONS_OFFICE_EMAIL) and a moderator publishes it with their name and
date; docs/operating.md, "The petitions office".

Each publication is final: a response and each outcome are published once,
with an entry in the public log that binds the document's SHA-256 to the
petition and to the count the log held at that moment (tlog.entries,
`response.published`, `outcome.published`).
"""

import logging
import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Q, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from undersigned.audit import services as audit
from undersigned.ledger import services as ledger
from undersigned.outbox.models import OutgoingMail
from undersigned.outbox.services import compose, enqueue
from undersigned.petitions.models import Outcome, Petition, Response, Step, StepReached, Tally
from undersigned.petitions.services import counts
from undersigned.petitions.texts import read_texts
from undersigned.signing.models import Subscription
from undersigned.signing.services import forget_subscriptions
from undersigned.signing.tokens import new_token, token_hash
from undersigned.tlog import entries
from undersigned.updates.models import UpdateMail, UpdateRun

log = logging.getLogger(__name__)

Actor = User | AnonymousUser | None
# At most this many mails are written in one transaction (one worker round).
FILL_BATCH = 500
# Mails are written this far ahead of the moment they may go, and no further:
# the outbox never holds more than a minute of a run, whatever its size.
HORIZON = timedelta(seconds=60)


class AnswerError(Exception):
    """A refusal the moderator should read, in the active language; nothing was changed."""


# ------------------------------------------------------------------ steps


def ask_addressees() -> int:
    """Record each step a petition's verified count has reached, once, and tell its addressee.

    Run by the worker every round: two small reads (the petitions that still
    have a step to reach, and their tallies' sums), never a count of signatures.
    Returns how many steps were reached now.
    """
    # Open petitions, and those closed in the last day (a signature verified just
    # before the close is seen after it); not those with every step recorded.
    recent = timezone.now() - timedelta(days=1)
    candidates = list(
        Petition.objects.filter(
            Q(status=Petition.Status.OPEN)
            | Q(status=Petition.Status.CLOSED, closed_at__gte=recent)
        )
        .annotate(recorded=Count("steps_reached"))
        .filter(recorded__lt=len(Step.values))
        .only("id", "status", "response_threshold", "debate_threshold")
    )
    if not candidates:
        return 0
    recorded = set(
        StepReached.objects.filter(petition__in=candidates).values_list("petition_id", "step")
    )
    waiting = {
        p.pk: p
        for p in candidates
        if any(p.step_threshold(s) and (p.pk, s) not in recorded for s in Step.values)
    }
    if not waiting:
        return 0
    verified = dict(
        Tally.objects.filter(petition_id__in=list(waiting))
        .values("petition_id")
        .annotate(n=Sum("verified"))
        .order_by()
        .values_list("petition_id", "n")
    )
    reached = 0
    for pk, petition in waiting.items():
        count = verified.get(pk) or 0
        for step in Step.values:
            threshold = petition.step_threshold(step)
            if threshold and (pk, step) not in recorded and count >= threshold:
                reached += _reach(pk, step, threshold, count)
    return reached


def _reach(petition_id: int, step: str, threshold: int, verified: int) -> int:
    with transaction.atomic():
        try:
            with transaction.atomic():
                row = StepReached.objects.create(
                    petition_id=petition_id, step=step, threshold=threshold, verified=verified
                )
        except IntegrityError:
            return 0  # another worker recorded it first
        petition = Petition.objects.get(pk=petition_id)
        if petition.addressee_email:
            headers = {}
            if settings.PETITIONS_OFFICE_EMAIL:
                headers["Reply-To"] = settings.PETITIONS_OFFICE_EMAIL
            version = petition.shown_version()
            enqueue(
                "step-reached",
                petition.addressee_email,
                "updates/mail/step_reached.txt",
                {
                    "petition": petition,
                    "title": version.title,
                    "step": step,
                    "threshold": threshold,
                    "verified": verified,
                    "petition_url": settings.SITE_URL + petition.get_absolute_url(),
                    "office_email": settings.PETITIONS_OFFICE_EMAIL,
                },
                # The addressee reads the language the petition is written in.
                language=version.language,
                headers=headers,
            )
            row.addressee_notified = True
            row.save(update_fields=["addressee_notified"])
        audit.record(
            "petition.step_reached",
            actor=None,
            petition=petition,
            step=step,
            threshold=threshold,
            verified=verified,
            addressee_notified=row.addressee_notified,
        )
    log.info("petition %s reached its %s step", petition_id, step)
    return 1


# ------------------------------------------------------------------ publishing


@dataclass(frozen=True)
class Published:
    answer: Response | Outcome
    run: UpdateRun | None  # None: nobody is mailed (the cap was reached)
    capped: bool


def _clean(text: str) -> str:
    return text.replace("\r\n", "\n").strip()


def _locked(petition: Petition) -> Petition:
    petition = Petition.objects.select_for_update().get(pk=petition.pk)
    if petition.status not in Petition.PUBLISHED:
        raise AnswerError(_("A draft has no response: publish the petition first."))
    return petition


def publish_response(
    petition: Petition, actor: Actor, *, answered_by: str, responded_on: date, text: str
) -> Published:
    """Publish the addressee's response, log it with the count, and start telling the signers."""
    answered_by, text = answered_by.strip(), _clean(text)
    if not answered_by or not text:
        raise AnswerError(_("Give the response's text and who answered."))
    if responded_on > timezone.localdate():
        raise AnswerError(_("The date of the response cannot be in the future."))
    with transaction.atomic():
        petition = _locked(petition)
        if Response.objects.filter(petition=petition).exists():
            raise AnswerError(_("This petition's response is published already; it is final."))
        response = Response(
            petition=petition,
            answered_by=answered_by[:200],
            responded_on=responded_on,
            text=text,
            published_by=actor if isinstance(actor, User) else None,
            verified=counts(petition)[0],
        )
        response.sha256 = response.compute_sha256()
        response.log_entry = ledger.record_answer(
            entries.RESPONSE_PUBLISHED, petition, document=response.sha256
        )
        response.save()
        audit.record(
            "petition.response_published",
            actor=actor,
            petition=petition,
            sha256=response.sha256,
            verified=response.verified,
        )
        run = _start(petition, UpdateRun.Kind.RESPONSE, actor)
    return Published(response, run, capped=run is None)


def publish_outcome(
    petition: Petition,
    actor: Actor,
    *,
    kind: str,
    happens_on: date,
    link: str = "",
    note: str = "",
) -> Published:
    """Publish a debate scheduled or held, log it with the count, and tell the signers."""
    if kind not in Outcome.Kind.values:
        raise AnswerError(_("Choose what happened."))
    if kind == Outcome.Kind.DEBATED and happens_on > timezone.localdate():
        raise AnswerError(_("A debate that was held has a date that is not in the future."))
    with transaction.atomic():
        petition = _locked(petition)
        if Outcome.objects.filter(petition=petition, kind=kind).exists():
            raise AnswerError(_("This outcome is published already; it is final."))
        outcome = Outcome(
            petition=petition,
            kind=kind,
            happens_on=happens_on,
            link=link.strip(),
            note=_clean(note),
            published_by=actor if isinstance(actor, User) else None,
            verified=counts(petition)[0],
        )
        outcome.sha256 = outcome.compute_sha256()
        outcome.log_entry = ledger.record_answer(
            entries.OUTCOME_PUBLISHED, petition, document=outcome.sha256, outcome=kind
        )
        outcome.save()
        audit.record(
            "petition.outcome_published",
            actor=actor,
            petition=petition,
            outcome=kind,
            sha256=outcome.sha256,
            verified=outcome.verified,
        )
        run = _start(petition, kind, actor)
    return Published(outcome, run, capped=run is None)


def _start(petition: Petition, kind: str, actor: Actor) -> UpdateRun | None:
    """A run of mails to the petition's subscribers, unless it has sent its share already."""
    if UpdateRun.objects.filter(petition=petition).count() >= settings.UPDATES_PER_PETITION:
        audit.record("petition.update_not_sent", actor=actor, petition=petition, kind=kind)
        return None
    subscribed = Subscription.objects.filter(petition=petition)
    last = subscribed.aggregate(last=Max("id"))["last"] or 0
    run = UpdateRun.objects.create(
        petition=petition,
        kind=kind,
        started_by=actor if isinstance(actor, User) else None,
        last_subscription=last,
        total=subscribed.filter(id__lte=last).count(),
    )
    if run.total == 0:
        UpdateRun.objects.filter(pk=run.pk).update(filled_at=timezone.now())
        run.refresh_from_db()
    audit.record(
        "petition.update_started", actor=actor, petition=petition, kind=kind, recipients=run.total
    )
    return run


# ------------------------------------------------------------------ mailing


def interval() -> timedelta:
    """The time between two update mails, across every petition."""
    return timedelta(seconds=60 / settings.UPDATE_MAILS_PER_MINUTE)


def fill(now: datetime | None = None) -> int:
    """Write the next mails of every unfinished run, as many as may go within a minute.

    Run by the worker every round. Each batch is one transaction with its
    run's cursor, so a crash loses nothing and repeats nothing: the next round
    resumes after the last subscriber written, and the unique (run,
    subscription) refuses a second mail to anyone. Each mail is given its own
    moment to go, one `interval()` after the one before across all runs, and
    the outbox sends each at most once. Returns how many mails were written.
    """
    now = now or timezone.now()
    written = 0
    for run_id in UpdateRun.objects.filter(filled_at__isnull=True).values_list("id", flat=True):
        try:
            written += _fill_run(run_id, now)
        except IntegrityError:
            # Another worker wrote this batch at the same moment: its
            # transaction stands, this one changed nothing.
            log.info("update run %s was filled by another worker", run_id)
    return written


def _fill_run(run_id: int, now: datetime) -> int:
    step = interval()
    with transaction.atomic():
        run = UpdateRun.objects.select_for_update().select_related("petition").get(pk=run_id)
        if run.filled_at is not None:
            return 0
        latest = UpdateRun.objects.filter(next_slot__gt=now).aggregate(latest=Max("next_slot"))
        slot = max(now, latest["latest"] or now)
        room = min(FILL_BATCH, math.ceil((now + HORIZON - slot) / step))
        if room <= 0:
            return 0
        batch = list(
            Subscription.objects.filter(
                petition_id=run.petition_id, id__gt=run.cursor, id__lte=run.last_subscription
            ).order_by("id")[:room]
        )
        context = _update_context(run)
        mails = []
        for subscription in batch:
            raw, digest = new_token()
            mail = _update_mail(run, subscription, raw, context)
            mail.next_attempt_at = slot
            mail.save(force_insert=True)
            slot += step
            mails.append(
                UpdateMail(run=run, subscription=subscription, mail=mail, token_hash=digest)
            )
        UpdateMail.objects.bulk_create(mails)
        if batch:
            run.cursor = batch[-1].pk
            run.next_slot = slot
        if len(batch) < room:
            run.filled_at = now
        run.save(update_fields=["cursor", "next_slot", "filled_at"])
    return len(batch)


def _update_context(run: UpdateRun) -> dict[str, Any]:
    petition = run.petition
    context: dict[str, Any] = {
        "petition": petition,
        # Each signer is written to in their language, with the title in it if
        # the petition has a text in that language, else the original's (_update_mail).
        "texts": read_texts(petition),
        "kind": run.kind,
        "petition_url": settings.SITE_URL + petition.get_absolute_url(),
    }
    if run.kind == UpdateRun.Kind.RESPONSE:
        context["response"] = Response.objects.filter(petition=petition).first()
    else:
        context["outcome"] = Outcome.objects.filter(petition=petition, kind=run.kind).first()
    return context


def unsubscribe_url(raw: str) -> str:
    return settings.SITE_URL + reverse("unsubscribe", args=[raw])


def _update_mail(
    run: UpdateRun, subscription: Subscription, raw: str, context: dict[str, Any]
) -> OutgoingMail:
    url = unsubscribe_url(raw)
    title = context["texts"].for_reader(subscription.language).title
    return compose(
        "update",
        subscription.email,
        "updates/mail/update.txt",
        {**context, "title": title, "unsubscribe_url": url},
        language=subscription.language,
        # RFC 2369 and RFC 8058: mail programs offer "unsubscribe", and may do
        # it with one POST to the link, without opening it.
        headers={
            "List-Unsubscribe": f"<{url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "List-Id": f"<{run.petition.slug}.updates.{_site_host()}>",
        },
        at_most_once=True,
        recipient_key=subscription.recipient_key,
    )


def _site_host() -> str:
    return settings.SITE_URL.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0] or "localhost"


# ------------------------------------------------------------------ leaving


def find_mail(raw: str) -> UpdateMail | None:
    return (
        UpdateMail.objects.filter(token_hash=token_hash(raw))
        .select_related("run__petition")
        .first()
    )


def unsubscribe(raw: str) -> UpdateMail | None:
    """Stop the updates of the subscriber this link was mailed to, and forget their
    address; None when the link is not one of ours. Saying it twice is no error."""
    with transaction.atomic():
        found = find_mail(raw)
        if found is None:
            return None
        if found.subscription_id is not None:
            forget_subscriptions(Subscription.objects.filter(pk=found.subscription_id))
            audit.record("petition.unsubscribed", actor=None, petition=found.run.petition)
        return found


# ------------------------------------------------------------------ progress


@dataclass(frozen=True)
class Progress:
    run: UpdateRun
    sent: int
    waiting: int  # written and not yet sent, or not yet written
    left: int  # not sent: they unsubscribed, withdrew or erased their data first
    cut_off: int  # not sent: a worker stopped while sending it (never sent twice)

    @property
    def total(self) -> int:
        return self.run.total

    @property
    def done(self) -> bool:
        return self.run.filled_at is not None and self.waiting == 0


def progress(run: UpdateRun) -> Progress:
    mails = UpdateMail.objects.filter(run=run)
    sent = mails.filter(mail__sent_at__isnull=False).count()
    # A mail the outbox no longer has was sent a month ago (and purged) unless
    # its subscriber left, which drops it unsent.
    sent += mails.filter(mail__isnull=True, subscription__isnull=False).count()
    cut_off = mails.filter(mail__gave_up_at__isnull=False).count()
    queued = mails.filter(mail__isnull=False, mail__sent_at__isnull=True).count() - cut_off
    unwritten = 0
    if run.filled_at is None:
        unwritten = Subscription.objects.filter(
            petition_id=run.petition_id, id__gt=run.cursor, id__lte=run.last_subscription
        ).count()
    waiting = queued + unwritten
    left = max(0, run.total - sent - waiting - cut_off)
    return Progress(run=run, sent=sent, waiting=waiting, left=left, cut_off=cut_off)
