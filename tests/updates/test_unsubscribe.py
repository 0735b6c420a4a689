"""One-click unsubscribe (RFC 8058): the mail program's POST works without a session or a
CSRF token; a link opened in a browser shows a button first; the address is then gone
and no further update reaches it."""

import re
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from tests.conftest import Inbox, body_of
from tests.updates.common import address_of, signed
from undersigned.audit.models import AuditEvent
from undersigned.ops.management.commands.worker import run_once
from undersigned.outbox.models import OutgoingMail
from undersigned.petitions.models import Petition
from undersigned.signing.models import Signature, Subscription
from undersigned.updates import services

pytestmark = pytest.mark.django_db

UNSUBSCRIBE = re.compile(r"https?://\S+(/unsubscribe/[A-Za-z0-9_-]+/)")


@pytest.fixture(autouse=True)
def quick(settings: Any) -> None:
    settings.UPDATE_MAILS_PER_MINUTE = 60_000


def mailed_link(petition: Petition, smtp: Inbox, name: str = "Anna Belova") -> str:
    services.publish_response(
        petition,
        None,
        answered_by="The council",
        responded_on=timezone.localdate(),
        text="We agree.",
    )
    for _ in range(5):
        run_once()
    [update] = [m for m in smtp.to(address_of(name)) if m["List-Unsubscribe"]]
    found = UNSUBSCRIBE.search(body_of(update))
    assert found is not None
    return found.group(1)


def test_a_mail_programs_one_click_post_unsubscribes_without_a_csrf_token(
    petition: Petition, smtp: Inbox
) -> None:
    signed(petition, "Anna Belova")
    signed(petition, "Boris Kuznetsov")
    path = mailed_link(petition, smtp)
    # As a mail program sends it: no cookies, no token, this body (RFC 8058).
    client = Client(enforce_csrf_checks=True)
    answer = client.post(
        path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert answer.status_code == 200
    assert "Updates stopped" in answer.content.decode()
    assert [s.email for s in Subscription.objects.all()] == [address_of("Boris Kuznetsov")]
    assert answer["Cache-Control"].startswith("max-age=0") or "no-store" in answer["Cache-Control"]
    # The signature still counts.
    assert Signature.objects.filter(state="verified").count() == 2
    assert AuditEvent.objects.filter(action="petition.unsubscribed").count() == 1
    # Saying it again is no error and changes nothing.
    again = client.post(path, "List-Unsubscribe=One-Click",
                        content_type="application/x-www-form-urlencoded")
    assert again.status_code == 200
    assert Subscription.objects.count() == 1


def test_opening_the_link_shows_a_button_and_changes_nothing(
    petition: Petition, smtp: Inbox
) -> None:
    signed(petition, "Anna Belova")
    path = mailed_link(petition, smtp)
    page = Client().get(path)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Stop the updates" in html and '<form method="post">' in html
    assert address_of("Anna Belova") not in html
    assert Subscription.objects.count() == 1
    assert Client().post(path).status_code == 200  # the page's button
    assert not Subscription.objects.exists()
    assert "hold no address for it" in Client().get(path).content.decode()


def test_after_unsubscribing_no_further_update_arrives(petition: Petition, smtp: Inbox) -> None:
    signed(petition, "Anna Belova")
    path = mailed_link(petition, smtp)
    Client().post(path)
    services.publish_outcome(
        petition, None, kind="debated", happens_on=timezone.localdate(), note="Debated."
    )
    for _ in range(5):
        run_once()
    assert len([m for m in smtp.to(address_of("Anna Belova")) if m["List-Unsubscribe"]]) == 1
    assert not OutgoingMail.objects.filter(kind="update", sent_at__isnull=True).exists()


def test_unsubscribing_mid_run_drops_the_mail_not_yet_sent(
    petition: Petition, settings: Any, smtp: Inbox
) -> None:
    signed(petition, "Anna Belova")
    path = mailed_link(petition, smtp)
    signed(petition, "Boris Kuznetsov")
    settings.UPDATE_MAILS_PER_MINUTE = 1
    services.publish_outcome(
        petition, None, kind="debated", happens_on=timezone.localdate(), note="Debated."
    )
    services.fill()
    waiting = OutgoingMail.objects.filter(kind="update", sent_at__isnull=True).count()
    assert waiting == 1  # the first of the two; the other is a minute away
    Client().post(path)
    run_once()
    assert len([m for m in smtp.to(address_of("Anna Belova")) if m["List-Unsubscribe"]]) == 1


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_made_up_link_is_refused(petition: Petition, method: str) -> None:
    answer = getattr(Client(), method)("/unsubscribe/not-a-token/")
    assert answer.status_code == 400
    assert "This unsubscribe link is not valid" in answer.content.decode()
