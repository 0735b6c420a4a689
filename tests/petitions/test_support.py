"""Supporters back a submission by its shared link and confirm by mail; at N it goes to the
moderators. Their signatures wait: counted as awaiting, in no log entry."""

from typing import Any

import pytest
from django.test import Client

from tests.conftest import body_of, link_in
from tests.submissions import (
    SUPPORTERS,
    address,
    back,
    client_of,
    confirm_backing,
    creator,
    draft,
    subject_of,
    submit,
    support_path,
)
from undersigned.audit.models import AuditEvent
from undersigned.ledger.models import LogEntry
from undersigned.petitions import services
from undersigned.petitions.models import Petition
from undersigned.registers.models import Register
from undersigned.signing.models import Signature

pytestmark = pytest.mark.django_db

Status = Petition.Status
State = Signature.State


@pytest.fixture
def submission() -> Petition:
    citizen = creator()
    return submit(client_of(citizen), draft(citizen, title="Trees on Ligovsky prospekt"))


def test_the_shared_link_shows_the_text_and_how_many_back_it(submission: Petition) -> None:
    page = Client().get(support_path(submission))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Trees on Ligovsky prospekt" in html and "We ask for clean air." in html
    assert "It has 0 of the 5 supporters it needs" in html
    assert 'name="full_name"' in html and 'name="email"' in html
    assert '<label for="id_full_name">' in html
    assert "noindex" in html


def test_a_wrong_key_shows_nothing(submission: Petition) -> None:
    assert Client().get(f"/support/{submission.slug}/not-the-key/").status_code == 404
    assert Client().post(
        f"/support/{submission.slug}/not-the-key/",
        {"full_name": "Maria Sokolova", "email": "m@example.org", "visibility": "show"},
    ).status_code == 404
    assert not Signature.objects.exists()


def test_a_draft_has_no_link_to_back() -> None:
    citizen = creator()
    petition = draft(citizen)
    assert Client().get(f"/support/{petition.slug}/guessed/").status_code == 404


def test_a_supporter_confirms_and_is_held_until_publication(
    submission: Petition, deliver: Any
) -> None:
    response = back(submission, "Maria Sokolova")
    assert response.status_code == 302
    checked = Client().get(response["Location"]).content.decode()
    assert "You back this petition only once you open that link" in checked
    inbox = deliver()
    mail = inbox.last_to(address("Maria Sokolova"))
    assert subject_of(mail) == "Confirm your signature: Trees on Ligovsky prospekt"
    body = body_of(mail)
    assert 'asked to back "Trees on Ligovsky prospekt"' in body
    assert "once 5 supporters have confirmed" in body
    # Opening the link confirms nothing; the button does.
    path = link_in(mail, "confirm")
    page = Client().get(path).content.decode()
    assert "You are backing" in page and "not published yet" in page
    signature = Signature.objects.get()
    assert signature.state == State.UNCONFIRMED
    done = Client().post(path).content.decode()
    assert "Thank you for backing this petition" in done
    signature.refresh_from_db()
    # Held: awaiting, not verified, nothing in the public log.
    assert signature.state == State.CONFIRMED
    assert services.counts(submission) == (0, 1)
    assert not LogEntry.objects.filter(petition=submission).exists()
    assert "1 of the 5 supporters" in client_of(submission.organiser).get(
        f"/dashboard/{submission.slug}/"
    ).content.decode()


def test_the_fifth_confirmed_supporter_sends_it_to_the_moderators(
    submission: Petition, deliver: Any
) -> None:
    for name in SUPPORTERS[:4]:
        back(submission, name)
    inbox = deliver()
    for name in SUPPORTERS[:4]:
        confirm_backing(inbox, name)
    submission.refresh_from_db()
    assert submission.status == Status.COLLECTING
    back(submission, SUPPORTERS[4])
    # One backing twice is still one supporter.
    back(submission, SUPPORTERS[0])
    confirm_backing(deliver(), SUPPORTERS[4])
    submission.refresh_from_db()
    assert submission.status == Status.MODERATION
    assert Signature.objects.filter(petition=submission, state=State.CONFIRMED).count() == 5
    event = AuditEvent.objects.get(action="petition.awaiting_moderation", petition=submission)
    assert event.details == {"supporters": 5}
    mail = deliver().last_to("citizen@example.org")
    assert subject_of(mail) == "Your petition awaits moderation: Trees on Ligovsky prospekt"
    assert "has 5 confirmed supporters" in body_of(mail)
    # It may still be backed while it waits.
    page = Client().get(support_path(submission)).content.decode()
    assert "waits for the site's moderators" in page and "You may still back it." in page
    assert "Awaiting moderation, with 5 supporters" in client_of(
        submission.organiser
    ).get("/dashboard/").content.decode()


def test_a_withdrawn_backing_does_not_count(submission: Petition, deliver: Any) -> None:
    back(submission, "Maria Sokolova")
    inbox = deliver()
    confirm_backing(inbox, "Maria Sokolova")
    Client().post(link_in(inbox.last_to(address("Maria Sokolova")), "withdraw"))
    assert Signature.objects.get().state == State.WITHDRAWN
    assert services.counts(submission) == (0, 0)
    for name in SUPPORTERS[1:]:
        back(submission, name)
    inbox = deliver()
    for name in SUPPORTERS[1:]:
        confirm_backing(inbox, name)
    submission.refresh_from_db()
    assert submission.status == Status.COLLECTING  # four of five


def test_a_supporter_is_written_to_in_their_language(submission: Petition, deliver: Any) -> None:
    back(submission, "Maria Sokolova", language="ru")
    mail = deliver().last_to(address("Maria Sokolova"))
    assert subject_of(mail) == "Подтвердите подпись: Trees on Ligovsky prospekt"
    assert "Она ещё не опубликована" in body_of(mail)


def test_bad_input_is_refused_and_nothing_is_recorded(submission: Petition) -> None:
    response = Client().post(
        support_path(submission), {"full_name": "", "email": "not an address"}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert 'role="alert"' in html and "Enter a valid email address." in html
    assert not Signature.objects.exists()


def test_a_register_letter_s_supporter_gives_their_role_and_place(
    register: Register, deliver: Any
) -> None:
    citizen = creator()
    letter = submit(client_of(citizen), draft(citizen, slug="letter", register=register))
    refused = back(letter, "Anna Belova")
    assert refused.status_code == 400
    assert not Signature.objects.exists()
    back(letter, "Anna Belova", role="municipal deputy", municipality="Kolpino")
    confirm_backing(deliver(), "Anna Belova")
    signature = Signature.objects.get()
    # Held like any supporter's: the register's check comes when it is published.
    assert signature.state == State.CONFIRMED


def test_a_sent_back_submission_s_link_says_so(
    submission: Petition, deliver: Any
) -> None:
    Petition.objects.filter(pk=submission.pk).update(status=Status.SENT_BACK)
    page = Client().get(support_path(submission))
    assert page.status_code == 410
    assert "sent it back to its creator for changes" in page.content.decode()
