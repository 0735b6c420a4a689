"""A petition names whom it is addressed to: set in the organiser's form, shown as
"To: …" on the page and in the API; the addressee's notice address is sealed and
never shown."""

import json
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from tests.petitions.test_organiser import draft_form
from undersigned.petitions.models import Petition

pytestmark = pytest.mark.django_db


def new_draft(organiser_client: Client, **fields: Any) -> Any:
    return organiser_client.post("/dashboard/new/", draft_form(**fields))


def test_the_organiser_names_the_addressee_and_the_page_says_to_whom(
    organiser_client: Client,
) -> None:
    answer = new_draft(
        organiser_client,
        addressee="The City Council of Kolpino",
        addressee_email="Council@Kolpino.example.org",
    )
    assert answer.status_code == 302
    petition = Petition.objects.get()
    assert petition.addressee == "The City Council of Kolpino"
    assert petition.addressee_email == "Council@Kolpino.example.org"
    with connection.cursor() as cursor:
        cursor.execute("SELECT addressee_email FROM petitions_petition")
        assert cursor.fetchone()[0].startswith("v1:"), "sealed at rest like every address"
    # Still editable while a draft, and shown in the form.
    form = organiser_client.get(f"/dashboard/{petition.slug}/edit/").content.decode()
    assert 'value="The City Council of Kolpino"' in form
    organiser_client.post(f"/dashboard/{petition.slug}/publish/")

    page = Client().get(petition.get_absolute_url()).content.decode()
    assert "To: The City Council of Kolpino" in page
    assert "kolpino.example.org" not in page.lower()
    api = Client().get(f"/api/petitions/{petition.slug}")
    assert json.loads(api.content)["addressee"] == "The City Council of Kolpino"
    assert b"kolpino.example.org" not in api.content.lower()
    ru = Client().get(petition.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "Кому: The City Council of Kolpino" in ru


def test_no_addressee_no_line(petition: Petition) -> None:
    assert "To:" not in Client().get(petition.get_absolute_url()).content.decode()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("addressee_email", "not an address", "Enter a valid email address."),
        ("addressee", "The council\nof Kolpino", "must be plain text on one line"),
        ("response_threshold", "-5", "greater than or equal to 0"),
        ("debate_threshold", "lots", "Enter a whole number."),
    ],
)
def test_a_bad_addressee_or_threshold_is_refused_and_saves_nothing(
    organiser_client: Client, field: str, value: str, message: str
) -> None:
    answer = new_draft(organiser_client, **{field: value})
    assert answer.status_code == 400
    assert message in answer.content.decode()
    assert not Petition.objects.exists()


def test_after_publishing_the_organiser_changes_only_the_notice_address(
    organiser_client: Client, petition: Petition
) -> None:
    from undersigned.audit.models import AuditEvent

    manage = organiser_client.get(f"/dashboard/{petition.slug}/").content.decode()
    assert "Addressee and steps" in manage
    answer = organiser_client.post(
        f"/dashboard/{petition.slug}/addressee/", {"addressee_email": "mayor@kolpino.example.org"}
    )
    assert answer.status_code == 302
    petition.refresh_from_db()
    assert petition.addressee_email == "mayor@kolpino.example.org"
    event = AuditEvent.objects.get(action="petition.addressee_notice_changed")
    assert "kolpino.example.org" not in str(event.details) + event.reason
    bad = organiser_client.post(
        f"/dashboard/{petition.slug}/addressee/", {"addressee_email": "nonsense"}, follow=True
    )
    assert "Enter a valid email address." in bad.content.decode()
    petition.refresh_from_db()
    assert petition.addressee_email == "mayor@kolpino.example.org"


def test_only_the_petitions_organiser_sets_its_notice_address(
    petition: Petition,
) -> None:
    from django.contrib.auth.models import User

    from tests.conftest import second_factor_login

    other = User.objects.create_user("other", "other@example.org", "correct horse battery")
    client = second_factor_login(Client(), other)
    answer = client.post(
        f"/dashboard/{petition.slug}/addressee/", {"addressee_email": "x@example.org"}
    )
    assert answer.status_code == 404
    petition.refresh_from_db()
    assert petition.addressee_email == ""
