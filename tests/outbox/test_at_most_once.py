"""Mail with headers, and mail sent at most once (updates to signers, issue 14 §3).

Ordinary mail is sent at least once: a worker killed after SMTP took a
message sends it again when the lease runs out. An update to many signers
must not reach anyone twice, so such a mail is given up instead when an
attempt ended without a known outcome; one that failed with a known error
is still retried.
"""

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from tests.conftest import Inbox, free_port
from undersigned.outbox.models import OutgoingMail
from undersigned.outbox.services import claim_next, compose, drop_unsent, send_due

pytestmark = pytest.mark.django_db


def queue(*, at_most_once: bool, key: str = "") -> OutgoingMail:
    mail = compose(
        "update",
        "anna@example.org",
        "privacy/mail/link.txt",
        {"url": "https://example.org/x/", "hours": 24},
        headers={"List-Unsubscribe": "<https://example.org/unsubscribe/t/>"},
        at_most_once=at_most_once,
        recipient_key=key,
    )
    mail.save(force_insert=True)
    return mail


def lease_runs_out(mail: OutgoingMail) -> None:
    OutgoingMail.objects.filter(pk=mail.pk).update(next_attempt_at=timezone.now())


def test_headers_are_sent_and_then_forgotten(smtp: Inbox) -> None:
    mail = queue(at_most_once=False)
    with connection.cursor() as cursor:
        cursor.execute("SELECT headers FROM outbox_outgoingmail WHERE id = %s", [mail.pk])
        stored = cursor.fetchone()[0]
    assert stored.startswith("v1:"), "the unsubscribe link is a secret: sealed at rest"
    assert send_due() == 1
    message = smtp.last_to("anna@example.org")
    assert message["List-Unsubscribe"] == "<https://example.org/unsubscribe/t/>"
    mail.refresh_from_db()
    assert (mail.headers, mail.to, mail.body) == ("", "", "")


def test_a_mail_cut_off_mid_send_is_given_up_not_sent_twice(smtp: Inbox) -> None:
    mail = queue(at_most_once=True)
    # A worker leased it and died before saying how the sending went.
    assert claim_next() is not None
    lease_runs_out(mail)
    assert send_due() == 0
    assert smtp.to("anna@example.org") == []
    mail.refresh_from_db()
    assert mail.gave_up_at is not None and mail.sent_at is None
    assert (mail.to, mail.body, mail.headers) == ("", "", "")
    assert send_due() == 0  # and stays given up


def test_ordinary_mail_is_still_sent_again_after_a_cut_off(smtp: Inbox) -> None:
    mail = queue(at_most_once=False)
    assert claim_next() is not None
    lease_runs_out(mail)
    assert send_due() == 1
    assert len(smtp.to("anna@example.org")) == 1


def test_a_known_failure_is_retried_for_at_most_once_mail(settings: Any, smtp: Inbox) -> None:
    real_port = settings.EMAIL_PORT
    settings.EMAIL_PORT = free_port()  # nothing listens: refused, a known failure
    mail = queue(at_most_once=True)
    assert send_due() == 0
    mail.refresh_from_db()
    assert (mail.attempts, mail.failures, mail.gave_up_at) == (1, 1, None)
    settings.EMAIL_PORT = real_port
    lease_runs_out(mail)
    assert send_due() == 1
    assert len(smtp.to("anna@example.org")) == 1


def test_a_recipients_unsent_mail_is_dropped_when_they_leave(smtp: Inbox) -> None:
    kept = queue(at_most_once=True, key="subscription:1")
    assert send_due() == 1
    queue(at_most_once=True, key="subscription:1")
    other = queue(at_most_once=True, key="subscription:2")
    assert drop_unsent(["subscription:1"]) == 1
    assert set(OutgoingMail.objects.values_list("pk", flat=True)) == {kept.pk, other.pk}
    assert drop_unsent([]) == 0


def test_a_given_up_mail_does_not_hold_readiness_back(smtp: Inbox, settings: Any) -> None:
    from undersigned.ops.health import check_mail

    mail = queue(at_most_once=True)
    assert claim_next() is not None
    OutgoingMail.objects.filter(pk=mail.pk).update(
        next_attempt_at=timezone.now(), created=timezone.now() - timedelta(days=1)
    )
    send_due()
    assert check_mail()["unsent"] == 0
    assert check_mail()["ok"]
