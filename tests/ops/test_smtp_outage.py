"""SMTP down: people can still sign; their mail waits and goes out when SMTP is back."""

from typing import Any

import pytest
from aiosmtpd.controller import Controller
from django.test import Client
from django.utils import timezone

from tests.conftest import Inbox, free_port, link_in
from undersigned.ops.management.commands.worker import run_once
from undersigned.outbox.models import OutgoingMail
from undersigned.petitions.models import Petition
from undersigned.signing.models import Signature

pytestmark = pytest.mark.django_db


def test_signing_works_while_smtp_is_down_and_the_mail_goes_out_when_it_returns(
    petition: Petition, settings: Any
) -> None:
    inbox = Inbox()
    port = free_port()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 5
    settings.EMAIL_USE_TLS = False
    server = Controller(inbox, hostname="127.0.0.1", port=port)
    server.start()
    server.stop()  # the mail server goes down

    visitor = Client()
    for i in range(3):
        response = visitor.post(
            f"/p/{petition.slug}/sign/",
            {"full_name": f"Signer {i}", "email": f"s{i}@example.org", "visibility": "show"},
        )
        assert response.status_code == 302, response.content
    assert Signature.objects.count() == 3

    assert run_once()["mailed"] == 0
    waiting = OutgoingMail.objects.filter(sent_at__isnull=True)
    assert waiting.count() == 3
    # One failed attempt, then the rest waits for the next round; the failure is named.
    failed = waiting.exclude(last_error="")
    assert failed.count() == 1 and failed.get().next_attempt_at > timezone.now()
    settings.READYZ_TOKEN = "monitoring-" + "x" * 32
    monitoring = Client(headers={"Authorization": f"Bearer {settings.READYZ_TOKEN}"})
    assert monitoring.get("/readyz").json()["checks"]["mail"]["failing"] == 1

    # Each round tries one message and stops: a dead server is not hammered with the queue.
    assert run_once()["mailed"] == 0
    assert OutgoingMail.objects.filter(attempts__gt=0).count() == 2

    # The mail server comes back on its address.
    server = Controller(inbox, hostname="127.0.0.1", port=port)
    server.start()
    try:
        # The backoff has run out (waited here by moving the due time, not the clock).
        OutgoingMail.objects.update(next_attempt_at=timezone.now())
        assert run_once()["mailed"] == 3
        assert not OutgoingMail.objects.filter(sent_at__isnull=True).exists()
        for i in range(3):
            confirm = link_in(inbox.last_to(f"s{i}@example.org"), "confirm")
            assert visitor.post(confirm).status_code == 200
        assert Signature.objects.filter(state=Signature.State.VERIFIED).count() == 3
    finally:
        server.stop()
