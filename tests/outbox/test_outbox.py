from datetime import timedelta
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from django.utils import timezone

from tests.conftest import Inbox, free_port
from undersigned.outbox.models import OutgoingMail
from undersigned.outbox.services import backoff, enqueue, send_due

pytestmark = pytest.mark.django_db


def queue_one(to: str = "anna@example.org") -> OutgoingMail:
    return enqueue(
        "confirm",
        to,
        "signing/mail/already_signed.txt",
        {
            "signature": {"full_name": "Anna", "get_state_display": "Verified"},
            "title": "A petition",
        },
    )


def test_queued_mail_is_delivered_by_smtp_and_its_body_cleared(smtp: Inbox) -> None:
    mail = queue_one()
    assert send_due() == 1
    message = smtp.last_to("anna@example.org")
    assert "A petition" in message["Subject"]
    mail.refresh_from_db()
    assert mail.sent_at is not None and mail.attempts == 1
    assert mail.body == ""
    assert send_due() == 0
    assert len(smtp.to("anna@example.org")) == 1


def test_smtp_down_keeps_the_mail_and_retries_with_backoff(settings: Any) -> None:
    port = free_port()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 2
    mail = queue_one()
    assert send_due() == 0
    mail.refresh_from_db()
    assert mail.sent_at is None and mail.attempts == 1
    assert mail.last_error == "ConnectionRefusedError"
    assert mail.next_attempt_at > timezone.now() + timedelta(seconds=20)
    # Not due yet: nothing is attempted.
    assert send_due() == 0
    mail.refresh_from_db()
    assert mail.attempts == 1

    # SMTP comes back; once the backoff has passed the mail goes out.
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        OutgoingMail.objects.update(next_attempt_at=timezone.now())
        assert send_due() == 1
        assert len(inbox.to("anna@example.org")) == 1
    finally:
        controller.stop()
    mail.refresh_from_db()
    assert mail.sent_at is not None and mail.attempts == 2 and mail.last_error == ""


def test_backoff_grows_and_is_capped() -> None:
    delays = [backoff(n) for n in range(1, 12)]
    assert delays == sorted(delays)
    assert delays[0] == timedelta(seconds=30)
    assert delays[-1] == timedelta(hours=1)


def test_a_lease_keeps_two_workers_from_sending_one_mail(smtp: Inbox) -> None:
    from undersigned.outbox.services import claim_next

    queue_one()
    first = claim_next()
    assert first is not None
    # A second worker finds nothing due while the first holds the lease.
    assert claim_next() is None
    # A worker that died mid-send leaves a lease that runs out: the mail is sent after all.
    OutgoingMail.objects.update(next_attempt_at=timezone.now())
    assert send_due() == 1
    assert len(smtp.to("anna@example.org")) == 1
