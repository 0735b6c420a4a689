import json
import re
from typing import Any

import pytest
from django.test import Client

from tests.conftest import body_of, link_in
from undersigned.ledger.models import LogEntry
from undersigned.ops.management.commands.worker import run_once
from undersigned.petitions.models import Petition
from undersigned.signing.models import Signature
from undersigned.tlog import entries
from undersigned.tlog.note import Signer, sign_note

pytestmark = pytest.mark.django_db

RECEIPT_LINK = re.compile(r'href="(/receipt/[A-Za-z0-9_-]+/)"')


def confirm(
    client: Client, petition: Petition, deliver: Any, email: str, visibility: str = "show"
) -> str:
    client.post(
        f"/p/{petition.slug}/sign/",
        {"full_name": "Anna Belova", "email": email, "visibility": visibility},
    )
    page = client.post(link_in(deliver().last_to(email), "confirm")).content.decode()
    match = RECEIPT_LINK.search(page)
    assert match, page
    return match.group(1)


def receipt_json(client: Client, link: str) -> dict[str, Any]:
    response = client.get(link.rstrip("/") + ".json")
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    return dict(response.json())


def check(client: Client, receipt: Any) -> Any:
    text = receipt if isinstance(receipt, str) else json.dumps(receipt)
    return client.post("/log/check-receipt/", {"receipt": text})


def test_the_confirmation_page_links_a_receipt_that_appears_once_logged(
    client: Client, petition: Petition, deliver: Any
) -> None:
    link = confirm(client, petition, deliver, "a@example.org")
    # Before the worker's next round the receipt is promised, not yet provable.
    pending = client.get(link)
    assert "will be in the next signed checkpoint" in pending.content.decode()
    assert client.get(link.rstrip("/") + ".json").status_code == 404
    run_once()
    receipt = receipt_json(client, link)
    entry = entries.decode(receipt["entry"].encode())
    assert entry.event == "signature.verified" and entry.signer is not None
    assert entry.signer["name"] == "Anna Belova"
    response = check(client, receipt)
    assert response.status_code == 200
    assert "The receipt checks out" in response.content.decode()


def test_an_old_receipt_still_checks_after_the_log_grows(
    client: Client, petition: Petition, deliver: Any
) -> None:
    link = confirm(client, petition, deliver, "a@example.org")
    run_once()
    receipt = receipt_json(client, link)
    for i in range(5):
        confirm(client, petition, deliver, f"b{i}@example.org")
    run_once()
    body = check(client, receipt).content.decode()
    assert "The receipt checks out" in body
    assert "nothing was rewritten" in body


def test_a_hidden_signer_gets_the_opening_of_their_commitment(
    client: Client, petition: Petition, deliver: Any
) -> None:
    link = confirm(client, petition, deliver, "h@example.org", visibility="hide")
    run_once()
    receipt = receipt_json(client, link)
    assert "Anna Belova" not in receipt["entry"]
    assert receipt["opening"]["signer"]["name"] == "Anna Belova"
    salt = bytes.fromhex(receipt["opening"]["salt"])
    assert (
        entries.commitment(salt, receipt["opening"]["signer"])
        == json.loads(receipt["entry"])["commitment"]
    )
    assert "hidden signer" in check(client, receipt).content.decode()
    # The server itself kept neither the name nor the salt: only the receipt key opens them.
    signature = Signature.objects.get()
    assert signature.full_name == "" and signature.log_salt is None
    assert salt.hex() not in json.dumps(list(LogEntry.objects.values_list("payload", flat=True)))
    # A wrong name does not open the commitment.
    receipt["opening"]["signer"]["name"] = "Someone Else"
    assert check(client, receipt).status_code == 400


def test_tampered_receipts_are_refused(client: Client, petition: Petition, deliver: Any) -> None:
    link = confirm(client, petition, deliver, "a@example.org")
    run_once()
    good = receipt_json(client, link)

    altered_entry = dict(good, entry=good["entry"].replace("Anna Belova", "Anna Belov"))
    altered_index = dict(good, index=good["index"] + 1)
    altered_proof = dict(good, inclusion_proof=[*reversed(good["inclusion_proof"]), "AAAA"])
    body = good["checkpoint"].split("\n\n")[0] + "\n"
    forged = dict(
        good, checkpoint=sign_note(body, [Signer.generate(good["verifier_key"].split("+")[0])])
    )
    for bad, reason in [
        (altered_entry, "is not at index"),
        (altered_index, "is not at index"),
        (altered_proof, "not at index"),
        (forged, "not signed by this log"),
        ("{not json", "not JSON"),
        ({"format": "something else"}, "not an undersigned-receipt/1"),
    ]:
        response = check(client, bad)
        assert response.status_code == 400, reason
        assert "does not check out" in response.content.decode()
        assert reason in response.content.decode()


def test_moderator_approval_mails_a_receipt(client: Client, letter: Petition, deliver: Any) -> None:
    from undersigned.registers.models import RegisterEntry
    from undersigned.signing import services
    from undersigned.signing.models import Signature

    client.post(
        f"/p/{letter.slug}/sign/",
        {
            "full_name": "Gleb Zorin",
            "email": "g@mail.example.org",
            "visibility": "show",
            "role": "municipal deputy",
            "municipality": "Samara",
        },
    )
    client.post(link_in(deliver().last_to("g@mail.example.org"), "confirm"))
    signature = Signature.objects.get()
    services.approve(
        signature.pk, letter.organiser, entry=RegisterEntry.objects.get(full_name="Gleb Zorin")
    )
    run_once()
    mail = body_of(deliver().last_to("g@mail.example.org"))
    found = re.search(r"https?://\S+(/receipt/[A-Za-z0-9_-]+/)", mail)
    assert found, mail
    receipt = receipt_json(client, found.group(1))
    assert json.loads(receipt["entry"])["signer"]["municipality"] == "Samara"


def test_unknown_receipt_is_404(client: Client, db: None) -> None:
    assert client.get("/receipt/nope/").status_code == 404
    assert client.get("/receipt/nope.json").status_code == 404
