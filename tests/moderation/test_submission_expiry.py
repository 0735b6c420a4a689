"""A submission that does not find its supporters in SUBMISSION_DAYS goes back to its
creator, and its supporters' names and addresses go with the signatures, sealed away:
an abandoned submission keeps nobody's identity in the clear on the server."""

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from tests.conftest import body_of
from tests.submissions import address, back, client_of, confirm_backing, creator, draft, submit
from undersigned.audit.models import AuditEvent
from undersigned.moderation.submissions import expire_unsupported
from undersigned.ops.management.commands.worker import run_hourly
from undersigned.petitions.models import Decision, Petition
from undersigned.signing.models import Signature

pytestmark = pytest.mark.django_db

Status = Petition.Status


@pytest.fixture
def collecting(deliver: Any) -> Petition:
    citizen = creator()
    petition = submit(
        client_of(citizen), draft(citizen, slug="bins", title="More bins by the pier")
    )
    back(petition, "Anna Belova")
    confirm_backing(deliver(), "Anna Belova")
    back(petition, "Oleg Ivanov")  # never confirms
    assert petition.status == Status.COLLECTING
    return petition


def stored_names() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT full_name, email FROM signing_signature")
        return [value for row in cursor.fetchall() for value in row]


def test_in_time_nothing_happens(collecting: Petition, settings: Any) -> None:
    settings.SUBMISSION_DAYS = 30
    assert expire_unsupported(timezone.now() + timedelta(days=29)) == 0
    collecting.refresh_from_db()
    assert collecting.status == Status.COLLECTING


def test_too_late_it_goes_back_and_its_supporters_are_let_go(
    collecting: Petition, settings: Any, deliver: Any
) -> None:
    settings.SUBMISSION_DAYS = 30
    before = stored_names()
    assert expire_unsupported(timezone.now() + timedelta(days=31)) == 1
    collecting.refresh_from_db()
    assert collecting.status == Status.SENT_BACK
    decision = Decision.objects.get(petition=collecting)
    assert decision.kind == Decision.Kind.SEND_BACK
    assert decision.decided_by is None
    assert decision.supporters == 1
    assert "within 30 days" in decision.note
    states = set(Signature.objects.filter(petition=collecting).values_list("state", flat=True))
    assert states == {Signature.State.WITHDRAWN}
    # The sealing on decision (signing/custody.py) leaves no identity readable.
    after = stored_names()
    assert after != before
    assert not [v for v in after if v and v in before]
    assert AuditEvent.objects.filter(action="submission.expired", petition=collecting).exists()
    inbox = deliver()
    told = inbox.last_to(collecting.organiser.email)
    assert "within 30 days" in body_of(told)
    # The supporter who had confirmed is told; the one who never did is not written to.
    assert len(inbox.to(address("Anna Belova"))) == 2  # the confirmation link, then this
    assert len(inbox.to(address("Oleg Ivanov"))) == 1  # only the confirmation link
    # A second round does nothing more.
    assert expire_unsupported(timezone.now() + timedelta(days=60)) == 0


def test_the_creators_language_is_the_notes(deliver: Any, settings: Any) -> None:
    settings.SUBMISSION_DAYS = 10
    citizen = creator("vera")
    client = client_of(citizen)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "ru"
    petition = submit(client, draft(citizen, slug="urny", title="Больше урн у пирса"))
    assert petition.creator_language == "ru"
    expire_unsupported(timezone.now() + timedelta(days=11))
    assert "за 10 дн." in Decision.objects.get(petition=petition).note


def test_one_waiting_for_moderation_is_the_offices_and_stays(
    collecting: Petition, settings: Any
) -> None:
    settings.SUBMISSION_DAYS = 1
    Petition.objects.filter(pk=collecting.pk).update(status=Status.MODERATION)
    assert expire_unsupported(timezone.now() + timedelta(days=100)) == 0


def test_the_worker_runs_it_hourly(collecting: Petition, settings: Any) -> None:
    settings.SUBMISSION_DAYS = 1
    Petition.objects.filter(pk=collecting.pk).update(
        submitted_at=timezone.now() - timedelta(days=2)
    )
    assert run_hourly()["submissions_expired"] == 1
