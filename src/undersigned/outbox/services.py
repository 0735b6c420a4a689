"""The mail queue: enqueue inside a transaction, send from the worker, retry with backoff."""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from undersigned.outbox.models import OutgoingMail

log = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(hours=1)


def compose(
    kind: str,
    to: str,
    template: str,
    context: dict[str, object],
    *,
    language: str | None = None,
) -> OutgoingMail:
    """Render a mail, unsaved: whoever saves it decides, by their transaction, whether it exists.

    The template's first line is the subject, the rest the body. It is written
    in the recipient's language (e.g. the one they signed in), not in whatever
    language the current request or the worker happens to have active.
    """
    with translation.override(language or settings.LANGUAGE_CODE):
        text = render_to_string(template, {"site_name": settings.SITE_NAME, **context})
    subject, _, body = text.strip().partition("\n")
    return OutgoingMail(
        kind=kind,
        to=to,
        subject=subject.strip()[:300],
        body=body.strip() + "\n",
        next_attempt_at=timezone.now(),
    )


def enqueue(
    kind: str,
    to: str,
    template: str,
    context: dict[str, object],
    *,
    language: str | None = None,
) -> OutgoingMail:
    """Render a mail now and queue it; the caller's transaction decides whether it exists."""
    mail = compose(kind, to, template, context, language=language)
    mail.save(force_insert=True)
    return mail


def backoff(attempts: int) -> timedelta:
    return min(timedelta(seconds=30 * 2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def claim_next() -> OutgoingMail | None:
    """Take the next due mail for this worker, leasing it so no other worker sends it too.

    The lease is committed before SMTP is contacted: a slow or dead mail
    server must never hold a database transaction (on SQLite, the write lock).
    A worker that dies mid-send leaves a lease that simply expires.
    """
    with transaction.atomic():
        due = OutgoingMail.objects.filter(
            sent_at__isnull=True, next_attempt_at__lte=timezone.now()
        ).order_by("next_attempt_at", "id")
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        mail = due.first()
        if mail is None:
            return None
        mail.attempts += 1
        mail.next_attempt_at = timezone.now() + timedelta(seconds=settings.OUTBOX_LEASE_SECONDS)
        mail.save(update_fields=["attempts", "next_attempt_at"])
        return mail


def send_due(limit: int = 100) -> int:
    """Send the mails that are due; returns how many were sent.

    A crash after SMTP accepted a message but before we recorded it sends it
    again once the lease runs out: at least once, never lost.
    """
    sent = 0
    backend = get_connection()
    try:
        for _ in range(limit):
            mail = claim_next()
            if mail is None:
                break
            message = EmailMessage(
                mail.subject, mail.body, settings.DEFAULT_FROM_EMAIL, [mail.to], connection=backend
            )
            try:
                message.send()
            except Exception as exc:
                OutgoingMail.objects.filter(pk=mail.pk).update(
                    last_error=type(exc).__name__,
                    next_attempt_at=timezone.now() + backoff(mail.attempts),
                )
                log.warning(
                    "mail %s attempt %s failed: %s", mail.pk, mail.attempts, type(exc).__name__
                )
                # The server is likely down; the rest waits for the next round.
                break
            OutgoingMail.objects.filter(pk=mail.pk).update(
                # Sent: the address and the one-time links in the body are no longer needed.
                sent_at=timezone.now(), to="", body="", last_error=""
            )
            sent += 1
    finally:
        backend.close()
    return sent
