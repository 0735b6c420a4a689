from typing import Any

import pytest
from django.test import Client

from tests.conftest import Inbox, link_in
from undersigned.outbox.models import OutgoingMail
from undersigned.petitions import services as petitions
from undersigned.petitions.models import Petition
from undersigned.signing.models import Signature

pytestmark = pytest.mark.django_db


def form(**overrides: str) -> dict[str, str]:
    data = {"full_name": "Anna Belova", "email": "anna@example.org", "visibility": "show"}
    data.update(overrides)
    return data


def test_signing_records_an_unconfirmed_signature_and_queues_mail(
    client: Client, petition: Petition
) -> None:
    response = client.post(f"/p/{petition.slug}/sign/", form())
    assert response.status_code == 302
    assert response["Location"] == f"/p/{petition.slug}/signed/"
    signature = Signature.objects.get()
    assert signature.state == Signature.State.UNCONFIRMED
    assert signature.text_version.number == 1
    assert signature.confirm_token_hash and len(signature.confirm_token_hash) == 64
    mail = OutgoingMail.objects.get()
    assert mail.to == "anna@example.org" and mail.kind == "confirm"
    # The request itself sent nothing: the mail waits for the worker.
    assert mail.sent_at is None
    assert petitions.counts(petition) == (0, 0)


def test_confirmation_mail_arrives_over_smtp_with_a_working_link(
    client: Client, petition: Petition, deliver: Any
) -> None:
    client.post(f"/p/{petition.slug}/sign/", form(email="Anna@Example.org"))
    inbox: Inbox = deliver()
    message = inbox.last_to("anna@example.org")
    assert "Clean air for Kolpino" in message["Subject"]
    confirm = link_in(message, "confirm")
    # The raw token is only in the mail; the database holds its hash.
    token = confirm.split("/")[2]
    assert not Signature.objects.filter(confirm_token_hash=token).exists()
    assert client.get(confirm).status_code == 200
    assert client.post(confirm).status_code == 200
    assert petitions.counts(petition) == (1, 0)


def test_signing_twice_resends_and_never_adds_a_row(
    client: Client, petition: Petition, deliver: Any
) -> None:
    client.post(f"/p/{petition.slug}/sign/", form())
    first = link_in(deliver().last_to("anna@example.org"), "confirm")
    client.post(f"/p/{petition.slug}/sign/", form(email=" ANNA@example.org "))
    inbox = deliver()
    assert Signature.objects.count() == 1
    assert len(inbox.to("anna@example.org")) == 2
    second = link_in(inbox.last_to("anna@example.org"), "confirm")
    assert first != second
    # Either link confirms (test_resign.py): the first was not replaced. Once used,
    # the other is spent too.
    assert client.get(first).status_code == 200
    assert client.post(second).status_code == 200
    assert client.post(first).status_code == 400
    # Signing again after confirming tells the signer, and still adds nothing.
    client.post(f"/p/{petition.slug}/sign/", form())
    inbox = deliver()
    assert Signature.objects.count() == 1
    assert "already signed" in inbox.last_to("anna@example.org")["Subject"]
    assert petitions.counts(petition) == (1, 0)


def test_the_answer_is_the_same_whether_or_not_the_address_has_signed(
    client: Client, petition: Petition
) -> None:
    first = client.post(f"/p/{petition.slug}/sign/", form())
    again = client.post(f"/p/{petition.slug}/sign/", form())
    assert first.status_code == again.status_code == 302
    assert first["Location"] == again["Location"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("full_name", "", "This field is required"),
        ("full_name", "x" * 121, "at most 120 characters"),
        ("full_name", "Anna\x00Belova", "plain text on one line"),
        ("full_name", "Anna\u202eBelova", "plain text on one line"),
        ("full_name", "12345", "Write your name in letters"),
        ("email", "", "This field is required"),
        ("email", "not-an-address", "Enter a valid email address"),
        ("email", "a@" + "b" * 250 + ".org", "at most 254 characters"),
        ("visibility", "everyone", "Select a valid choice"),
    ],
)
def test_bad_input_is_explained_and_changes_nothing(
    client: Client, petition: Petition, field: str, value: str, message: str
) -> None:
    response = client.post(f"/p/{petition.slug}/sign/", form(**{field: value}))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Signature.objects.exists()
    assert not OutgoingMail.objects.exists()


def test_missing_fields_and_junk_bodies_are_refused(client: Client, petition: Petition) -> None:
    assert client.post(f"/p/{petition.slug}/sign/", {}).status_code == 400
    response = client.post(
        f"/p/{petition.slug}/sign/",
        data=b"\xff\xfe" * 1000,
        content_type="application/octet-stream",
    )
    assert response.status_code == 400
    assert not Signature.objects.exists()


def test_oversized_body_is_refused_without_a_traceback(client: Client, petition: Petition) -> None:
    response = client.post(
        f"/p/{petition.slug}/sign/", form(full_name="A" * 7_000_000), raise_request_exception=False
    )
    assert response.status_code == 400
    assert b"Traceback" not in response.content
    assert not Signature.objects.exists()


def test_a_name_is_shown_escaped(client: Client, petition: Petition, deliver: Any) -> None:
    # Markup is refused at the form (test_phishing_relay.py); what a name may
    # hold that HTML treats apart is still escaped.
    name = 'Anna "Annie" Belova & O\'Neil'
    client.post(f"/p/{petition.slug}/sign/", form(full_name=name))
    confirm = link_in(deliver().last_to("anna@example.org"), "confirm")
    client.post(confirm)
    page = client.get(f"/p/{petition.slug}/").content.decode()
    assert name not in page
    assert "Anna &quot;Annie&quot; Belova &amp; O&#x27;Neil" in page


def test_closed_petition_takes_no_signature(
    client: Client, petition: Petition, organiser: Any
) -> None:
    petitions.close(petition, organiser)
    response = client.post(f"/p/{petition.slug}/sign/", form(), follow=True)
    assert "closed" in response.content.decode()
    assert not Signature.objects.exists()


def test_drafts_and_unknown_slugs_are_not_found(client: Client, organiser: Any) -> None:
    from tests.conftest import make_petition

    draft = make_petition(organiser, slug="draft-one", publish=False)
    assert client.post(f"/p/{draft.slug}/sign/", form()).status_code == 404
    assert client.get(f"/p/{draft.slug}/").status_code == 404
    response = client.post("/p/no-such-petition/sign/", form())
    assert response.status_code == 404
    assert "There is no page at this address" in client.get("/p/no-such-thing/").content.decode()


def test_sign_form_needs_post(client: Client, petition: Petition) -> None:
    assert client.get(f"/p/{petition.slug}/sign/").status_code == 405


def test_register_letter_needs_the_claimed_role_and_municipality(
    client: Client, letter: Petition
) -> None:
    response = client.post(f"/p/{letter.slug}/sign/", form())
    assert response.status_code == 400
    assert not Signature.objects.exists()
    response = client.post(
        f"/p/{letter.slug}/sign/",
        form(role="municipal deputy", municipality="Kolpino", evidence_url="javascript:alert(1)"),
    )
    assert response.status_code == 400
    assert not Signature.objects.exists()


def test_the_signer_can_hide_their_name(client: Client, petition: Petition, deliver: Any) -> None:
    client.post(f"/p/{petition.slug}/sign/", form(full_name="Hidden Person", visibility="hide"))
    client.post(link_in(deliver().last_to("anna@example.org"), "confirm"))
    page = client.get(f"/p/{petition.slug}/").content.decode()
    assert "Hidden Person" not in page
    assert petitions.counts(petition) == (1, 0)
