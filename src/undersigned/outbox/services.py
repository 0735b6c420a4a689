"""The mail queue: enqueue inside a transaction, send from the worker, retry with backoff."""

import json
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
    headers: dict[str, str] | None = None,
    at_most_once: bool = False,
    recipient_key: str = "",
) -> OutgoingMail:
    """Render a mail, unsaved: whoever saves it decides, by their transaction, whether it exists.

    The template's first line is the subject, the rest the body. It is written
    in the recipient's language (e.g. the one they signed in), not in whatever
    language the current request or the worker happens to have active.
    `headers` go into the message as they are (List-Unsubscribe, Reply-To);
    `at_most_once`: see OutgoingMail.
    """
    with translation.override(language or settings.LANGUAGE_CODE):
        text = render_to_string(template, {"site_name": settings.SITE_NAME, **context})
    subject, _, body = text.strip().partition("\n")
    return OutgoingMail(
        kind=kind,
        to=to,
        subject=subject.strip()[:300],
        body=body.strip() + "\n",
        headers=json.dumps(headers, sort_keys=True) if headers else "",
        at_most_once=at_most_once,
        recipient_key=recipient_key,
        next_attempt_at=timezone.now(),
    )


def enqueue(
    kind: str,
    to: str,
    template: str,
    context: dict[str, object],
    *,
    language: str | None = None,
    headers: dict[str, str] | None = None,
) -> OutgoingMail:
    """Render a mail now and queue it; the caller's transaction decides whether it exists."""
    mail = compose(kind, to, template, context, language=language, headers=headers)
    mail.save(force_insert=True)
    return mail


def drop_unsent(recipient_keys: list[str]) -> int:
    """Forget the unsent mail to these recipients (they left the list); how many went.

    A mail a worker is sending right now may still arrive; nothing is sent after.
    """
    if not recipient_keys:
        return 0
    dropped, _ = OutgoingMail.objects.filter(
        recipient_key__in=recipient_keys, sent_at__isnull=True
    ).delete()
    return dropped


def backoff(attempts: int) -> timedelta:
    return min(timedelta(seconds=30 * 2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def claim_next() -> OutgoingMail | None:
    """Take the next due mail for this worker, leasing it so no other worker sends it too.

    The lease is committed before SMTP is contacted: a slow or dead mail
    server must never hold a database transaction (on SQLite, the write lock).
    A worker that dies mid-send leaves a lease that simply expires; the mail is
    then sent again, unless it is to be sent at most once: an attempt that
    ended in neither a send nor a known failure may have reached the
    recipient, so such a mail is given up instead (and its address forgotten).
    """
    while True:
        with transaction.atomic():
            due = OutgoingMail.objects.filter(
                sent_at__isnull=True, gave_up_at__isnull=True, next_attempt_at__lte=timezone.now()
            ).order_by("next_attempt_at", "id")
            if connection.features.has_select_for_update_skip_locked:
                due = due.select_for_update(skip_locked=True)
            mail = due.first()
            if mail is None:
                return None
            if mail.at_most_once and mail.attempts > mail.failures:
                OutgoingMail.objects.filter(pk=mail.pk).update(
                    gave_up_at=timezone.now(),
                    last_error="cut off while sending; not sent again",
                    to="",
                    body="",
                    headers="",
                )
                log.warning("mail %s was cut off while sending; given up, not sent twice", mail.pk)
                continue
            mail.attempts += 1
            mail.next_attempt_at = timezone.now() + timedelta(
                seconds=settings.OUTBOX_LEASE_SECONDS
            )
            mail.save(update_fields=["attempts", "next_attempt_at"])
            return mail


def send_due(limit: int = 100) -> int:
    """Send the mails that are due; returns how many were sent.

    A crash after SMTP accepted a message but before we recorded it sends it
    again once the lease runs out: at least once, never lost (but for mails
    sent at most once, see claim_next).
    """
    sent = 0
    backend = get_connection()
    try:
        for _ in range(limit):
            mail = claim_next()
            if mail is None:
                break
            message = EmailMessage(
                mail.subject,
                mail.body,
                settings.DEFAULT_FROM_EMAIL,
                [mail.to],
                connection=backend,
                headers=json.loads(mail.headers) if mail.headers else None,
            )
            try:
                message.send()
            except Exception as exc:
                OutgoingMail.objects.filter(pk=mail.pk).update(
                    failures=mail.failures + 1,
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
                sent_at=timezone.now(), to="", body="", headers="", last_error=""
            )
            sent += 1
    finally:
        backend.close()
    return sent
