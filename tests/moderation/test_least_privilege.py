"""Who reads a hidden signer's identity: the petition's assigned moderators, while a claim waits."""

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests.conftest import link_in, second_factor_login
from undersigned.audit.models import AuditEvent
from undersigned.core import custody, custody_cli
from undersigned.petitions.models import Petition
from undersigned.registers.models import RegisterEntry
from undersigned.signing.models import Signature

pytestmark = pytest.mark.django_db

State = Signature.State
HIDDEN = "Anna Vetrova"
ADDRESS = "anna.home@mail.example.org"


@pytest.fixture
def moderator(letter: Petition) -> Client:
    user = User.objects.create_user("mod", "mod@example.org", "pw-for-tests-only")
    letter.moderators.add(user)
    return second_factor_login(Client(), user)


@pytest.fixture
def hidden_claim(client: Client, letter: Petition, deliver: Any) -> Signature:
    client.post(
        f"/p/{letter.slug}/sign/",
        {
            "full_name": HIDDEN,
            "email": ADDRESS,
            "visibility": "hide",
            "role": "municipal deputy",
            "municipality": "Kolpino",
            "evidence_url": "https://council.example.org/kolpino",
        },
    )
    client.post(link_in(deliver().last_to(ADDRESS), "confirm"))
    signature = Signature.objects.with_email(ADDRESS).get()
    assert signature.state == State.NEEDS_REVIEW
    return signature


def test_the_organiser_sees_the_claim_but_not_who_made_it(
    letter: Petition, hidden_claim: Signature
) -> None:
    organiser = second_factor_login(Client(), letter.organiser)
    page = organiser.get(f"/dashboard/{letter.slug}/").content.decode()
    assert "Claims awaiting review" in page and "Kolpino" in page
    assert HIDDEN not in page and ADDRESS not in page and "council.example.org/kolpino" not in page
    # Organising a petition is not reviewing it.
    assert HIDDEN not in organiser.get("/moderation/").content.decode()
    assert organiser.get(f"/moderation/{hidden_claim.pk}/").status_code == 404
    assert organiser.get(f"/moderation/custody/{letter.slug}.jsonl").status_code == 404


def test_a_superuser_is_no_reviewer_unless_assigned(
    letter: Petition, hidden_claim: Signature
) -> None:
    admin = User.objects.create_superuser("root", "root@example.org", "pw-for-tests-only")
    client = second_factor_login(Client(), admin)
    assert client.get(f"/moderation/{hidden_claim.pk}/").status_code == 404
    letter.moderators.add(admin)
    assert HIDDEN in client.get(f"/moderation/{hidden_claim.pk}/").content.decode()


def test_a_decided_signature_shows_nobody_to_anyone(
    letter: Petition, moderator: Client, hidden_claim: Signature
) -> None:
    waiting = moderator.get(f"/moderation/{hidden_claim.pk}/").content.decode()
    assert HIDDEN in waiting and ADDRESS in waiting
    assert "only while it awaits review" in waiting
    entry = RegisterEntry.objects.get(full_name="Anna Belova")
    response = moderator.post(
        f"/moderation/{hidden_claim.pk}/",
        {
            "decision": "approve",
            "entry": entry.pk,
            "reason": "register-match",
            "note": "Matches register entry Anna Vetrova, Kolpino",
        },
    )
    assert response.status_code == 302
    decided = moderator.get(f"/moderation/{hidden_claim.pk}/").content.decode()
    assert HIDDEN not in decided and ADDRESS not in decided and "Anna Belova" not in decided
    assert 'value="invalidate"' in decided and "Matches the register entry" in decided
    # The trail the organiser reads has the reason from the list, never the note.
    event = AuditEvent.objects.get(action="signature.approved")
    assert event.reason == "Matches the register entry"
    assert "Vetrova" not in json.dumps(event.details) and event.details["register_entry"] is None
    trail = second_factor_login(Client(), letter.organiser).get(f"/dashboard/{letter.slug}/")
    assert "Vetrova" not in trail.content.decode()


def test_a_reason_outside_the_list_is_refused_and_changes_nothing(
    moderator: Client, hidden_claim: Signature
) -> None:
    for reason in ("Matches register entry Anna Vetrova, Kolpino", "forged", ""):
        response = moderator.post(
            f"/moderation/{hidden_claim.pk}/", {"decision": "reject", "reason": reason}
        )
        assert response.status_code == 400
    hidden_claim.refresh_from_db()
    assert hidden_claim.state == State.NEEDS_REVIEW


def test_moderators_open_the_custody_export_on_their_own_machine(
    letter: Petition,
    moderator: Client,
    hidden_claim: Signature,
    site_custody_key: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    entry = RegisterEntry.objects.get(full_name="Anna Belova")
    moderator.post(
        f"/moderation/{hidden_claim.pk}/",
        {"decision": "approve", "entry": entry.pk, "reason": "register-match", "note": "by phone"},
    )
    response = moderator.get(f"/moderation/custody/{letter.slug}.jsonl")
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    export = tmp_path / "export.jsonl"
    export.write_bytes(b"".join(response.streaming_content))  # type: ignore[attr-defined]
    assert HIDDEN.encode() not in export.read_bytes()
    assert AuditEvent.objects.filter(action="custody.exported").count() == 1
    # The moderators' key file, locked with their passphrase, never seen by the site.
    passphrase = tmp_path / "passphrase"
    passphrase.write_text("a long moderator passphrase")
    key_file = tmp_path / "custody.age"
    key_file.write_text(custody.lock_identity(site_custody_key, passphrase.read_text()))
    out = tmp_path / "signers.csv"
    code = custody_cli.main(
        ["open", str(export), "--key", str(key_file), "--passphrase-file", str(passphrase),
         "--out", str(out)]
    )
    assert code == 0
    [row] = list(csv.DictReader(io.StringIO(out.read_text())))
    assert row["full_name"] == HIDDEN and row["email"] == ADDRESS
    assert row["register_entry"] == "Anna Belova" and row["state"] == "verified"
    assert row["evidence_url"] == "https://council.example.org/kolpino"
    capsys.readouterr()
    # Another key opens nothing, and says so.
    other, _ = custody.new_identity()
    other_file = tmp_path / "other.age"
    other_file.write_text(custody.lock_identity(other, passphrase.read_text()))
    code = custody_cli.main(
        ["open", str(export), "--key", str(other_file), "--passphrase-file", str(passphrase),
         "--json"]
    )
    assert code == 1
    assert "another custody key" in json.loads(capsys.readouterr().out)["error"]


def test_the_admin_shows_no_claim(letter: Petition, hidden_claim: Signature) -> None:
    admin = User.objects.create_superuser("root", "root@example.org", "pw-for-tests-only")
    client = second_factor_login(Client(), admin)
    pages = ("/admin/signing/signature/", f"/admin/signing/signature/{hidden_claim.pk}/change/")
    for path in pages:
        page = client.get(path)
        assert page.status_code == 200
        body = page.content.decode()
        assert HIDDEN not in body and ADDRESS not in body and "council.example.org" not in body
