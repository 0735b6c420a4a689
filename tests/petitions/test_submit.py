"""PUBLISHING: organisers the office trusts publish at once; everyone else submits."""

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests.conftest import body_of, second_factor_login
from tests.submissions import (
    client_of,
    creator,
    draft,
    subject_of,
    submit,
    support_link_in,
)
from undersigned.audit.models import AuditEvent
from undersigned.ledger.models import LogEntry
from undersigned.outbox.models import OutgoingMail
from undersigned.petitions.models import Petition
from undersigned.signing.models import Signature

pytestmark = pytest.mark.django_db

Status = Petition.Status


def messages_on(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_the_default_is_reviewed(settings: Any) -> None:
    from undersigned import settings as site

    assert site.PUBLISHING == "reviewed"
    assert site.SUPPORTERS_NEEDED == 5


def test_a_creator_the_office_does_not_trust_cannot_publish(client: Client) -> None:
    citizen = creator()
    petition = draft(citizen)
    response = client_of(citizen).post(f"/dashboard/{petition.slug}/publish/", follow=True)
    assert (
        "On this site a moderator checks each petition before it is published: submit it instead."
        in messages_on(response)
    )
    petition.refresh_from_db()
    assert petition.status == Status.DRAFT
    assert not LogEntry.objects.filter(petition=petition).exists()
    assert not OutgoingMail.objects.exists()


def test_their_manage_page_offers_to_submit_not_to_publish() -> None:
    citizen = creator()
    petition = draft(citizen)
    page = client_of(citizen).get(f"/dashboard/{petition.slug}/").content.decode()
    assert "Submit for moderation" in page and "Publish (freezes the text)" not in page
    assert "It then needs 5 supporters" in page


def test_submitting_freezes_the_text_and_mails_the_link_to_share(deliver: Any) -> None:
    citizen = creator()
    petition = draft(citizen, title="A bench in Sosnovka park")
    client = client_of(citizen)
    response = client.post(f"/dashboard/{petition.slug}/submit/", follow=True)
    assert "Submitted: the text is frozen. Share its link with your supporters." in messages_on(
        response
    )
    petition.refresh_from_db()
    assert petition.status == Status.COLLECTING
    assert petition.support_key and petition.submitted_at is not None
    # The manage page shows where it stands and the link.
    page = client.get(f"/dashboard/{petition.slug}/").content.decode()
    assert "0 of the 5 supporters it needs have confirmed" in page
    assert f"/support/{petition.slug}/{petition.support_key}/" in page
    # The dashboard too.
    assert "Gathering supporters: 0 of 5" in client.get("/dashboard/").content.decode()
    # The text cannot be changed while supporters back it.
    refused = client.post(
        f"/dashboard/{petition.slug}/edit/",
        {"kind": "petition", "title": "Something else", "body": "x", "language": "en"},
        follow=True,
    )
    assert any("A submitted text is frozen" in m for m in messages_on(refused))
    assert petition.current_version().title == "A bench in Sosnovka park"
    # Audited, with the text's hash; nothing in the public log.
    event = AuditEvent.objects.get(action="petition.submitted", petition=petition)
    assert event.actor == citizen
    assert event.details["sha256"] == petition.current_version().sha256
    assert not LogEntry.objects.filter(petition=petition).exists()
    # The creator is mailed the link, over SMTP.
    inbox = deliver()
    mail = inbox.last_to("citizen@example.org")
    assert subject_of(mail) == "Your petition is submitted: A bench in Sosnovka park"
    assert support_link_in(inbox, "citizen@example.org") == (
        f"/support/{petition.slug}/{petition.support_key}/"
    )
    assert "5 supporters have to back it" in body_of(mail)


def test_the_mail_is_in_the_language_the_creator_submitted_in(deliver: Any) -> None:
    citizen = creator()
    petition = draft(citizen, title="Скамейка в парке Сосновка")
    client = second_factor_login(Client(HTTP_ACCEPT_LANGUAGE="ru"), citizen)
    client.post(f"/dashboard/{petition.slug}/submit/")
    petition.refresh_from_db()
    assert petition.creator_language == "ru"
    mail = deliver().last_to("citizen@example.org")
    assert subject_of(mail) == "Петиция подана: Скамейка в парке Сосновка"


def test_a_submission_is_not_public() -> None:
    citizen = creator()
    petition = submit(client_of(citizen), draft(citizen))
    assert petition.status == Status.COLLECTING
    anyone = Client()
    assert anyone.get(f"/p/{petition.slug}/").status_code == 404
    assert anyone.get(f"/api/petitions/{petition.slug}").status_code == 404
    assert petition.slug not in anyone.get("/petitions/?state=all").content.decode()
    assert not Petition.objects.public().filter(pk=petition.pk).exists()
    # Nobody signs it as a petition: only its supporters, by the shared link.
    signing = anyone.post(
        f"/p/{petition.slug}/sign/",
        {"full_name": "Someone", "email": "someone@example.org", "visibility": "show"},
    )
    assert signing.status_code == 404
    assert not Signature.objects.exists()


def test_an_unconfirmed_address_cannot_submit() -> None:
    user = User.objects.create_user("fresh", "fresh@example.org", "correct horse battery")
    petition = draft(user)
    response = client_of(user).post(f"/dashboard/{petition.slug}/submit/", follow=True)
    assert any("Confirm your own address first" in m for m in messages_on(response))
    petition.refresh_from_db()
    assert petition.status == Status.DRAFT and not petition.support_key
    assert not AuditEvent.objects.filter(action="petition.submitted").exists()


def test_a_register_letter_needs_its_register_before_it_is_submitted() -> None:
    citizen = creator()
    petition = draft(citizen)
    Petition.objects.filter(pk=petition.pk).update(audience=Petition.Audience.REGISTER)
    response = client_of(citizen).post(f"/dashboard/{petition.slug}/submit/", follow=True)
    assert "Choose the register of people who may sign before submitting." in messages_on(
        response
    )
    petition.refresh_from_db()
    assert petition.status == Status.DRAFT


def test_only_a_draft_is_submitted() -> None:
    citizen = creator()
    client = client_of(citizen)
    petition = submit(client, draft(citizen))
    response = client.post(f"/dashboard/{petition.slug}/submit/", follow=True)
    assert "Only a draft can be submitted." in messages_on(response)
    assert AuditEvent.objects.filter(action="petition.submitted").count() == 1


def test_with_no_supporters_needed_it_goes_straight_to_moderation(
    settings: Any, deliver: Any
) -> None:
    settings.SUPPORTERS_NEEDED = 0
    citizen = creator()
    petition = submit(client_of(citizen), draft(citizen, title="Lights on Nevsky"))
    assert petition.status == Status.MODERATION
    body = body_of(deliver().last_to("citizen@example.org"))
    assert '"Lights on Nevsky" is submitted and waits for the moderators.' in body
    assert "/support/" not in body


def test_their_founders_wait_for_publication(settings: Any) -> None:
    # A founder confirmed on a draft would count at once; a submission's first
    # signatures are its supporters', which count only if it is published.
    citizen = creator()
    petition = draft(citizen)
    response = client_of(citizen).post(
        f"/dashboard/{petition.slug}/founders/",
        {"full_name": "Anna Belova", "email": "anna@example.org", "show_name": "on"},
        follow=True,
    )
    assert (
        "Founding signatories are added once the petition is published; "
        "until then its supporters back it." in messages_on(response)
    )
    assert not Signature.objects.exists() and not OutgoingMail.objects.exists()


def test_a_trusted_organiser_publishes_at_once(organiser_client: Client, organiser: User) -> None:
    # The `organiser` fixture has the permission "Can publish petitions without moderation".
    petition = draft(organiser)
    response = organiser_client.post(f"/dashboard/{petition.slug}/publish/", follow=True)
    assert "Published: the text is now frozen." in messages_on(response)
    petition.refresh_from_db()
    assert petition.status == Status.OPEN


def test_staff_publish_at_once() -> None:
    staff = creator("clerk")
    staff.is_staff = True
    staff.save(update_fields=["is_staff"])
    petition = draft(staff)
    client_of(staff).post(f"/dashboard/{petition.slug}/publish/")
    petition.refresh_from_db()
    assert petition.status == Status.OPEN


def test_where_anyone_may_publish_every_organiser_does(settings: Any) -> None:
    settings.PUBLISHING = "anyone"
    citizen = creator()
    petition = draft(citizen)
    client = client_of(citizen)
    page = client.get(f"/dashboard/{petition.slug}/").content.decode()
    assert "Publish (freezes the text)" in page
    client.post(f"/dashboard/{petition.slug}/publish/")
    petition.refresh_from_db()
    assert petition.status == Status.OPEN
