import csv
import io
import json
from typing import Any

import pytest
from django.test import Client

from tests.conftest import confirm_now
from undersigned.core.management.commands.worker import run_once
from undersigned.ledger.keys import signer
from undersigned.ledger.note import open_note
from undersigned.petitions.models import Petition
from undersigned.signing import services as signing

pytestmark = pytest.mark.django_db


def confirmed(petition: Petition, name: str, show: bool = True, **place: str) -> Any:
    signature = signing.sign(
        petition,
        signing.SignRequest(
            full_name=name, email=f"{name.split()[0].lower()}@example.org", show_name=show, **place
        ),
    )
    return confirm_now(signature)


def body(response: Any) -> str:
    return b"".join(response.streaming_content).decode()


def test_csv_and_json_list_the_shown_signers_the_checkpoint_proves(
    client: Client, petition: Petition, organiser: Any
) -> None:
    confirmed(petition, "Anna Belova", region="St Petersburg", municipality="Kolpino")
    confirmed(petition, "Hidden Person", show=False)
    gone = confirmed(petition, "Boris Gone")
    confirmed(petition, "Vera Orlova")
    signing.invalidate(gone.pk, organiser, reason="forged")
    run_once()
    confirmed(petition, "Late Person")  # not yet in a checkpoint: not in the export

    response = client.get(f"/p/{petition.slug}/signatories.csv")
    assert response["Content-Type"].startswith("text/csv")
    assert response["X-Log-Checkpoint-Size"] == "6"
    assert response["Access-Control-Allow-Origin"] == "*"
    rows = list(csv.DictReader(io.StringIO(body(response))))
    assert [r["name"] for r in rows] == ["Anna Belova", "Vera Orlova"]
    assert rows[0]["municipality"] == "Kolpino" and rows[0]["log_index"] == "1"

    data = json.loads(body(client.get(f"/p/{petition.slug}/signatories.json")))
    assert [s["name"] for s in data["signatories"]] == ["Anna Belova", "Vera Orlova"]
    assert data["log_size"] == 6
    text, _ = open_note(data["checkpoint"], [signer().verifier()])
    assert text.split("\n")[1] == "6"


def test_a_name_is_exported_as_written_even_with_commas_and_quotes(
    client: Client, petition: Petition
) -> None:
    confirmed(petition, 'Anna "Annie", Belova')
    run_once()
    rows = list(
        csv.DictReader(io.StringIO(body(client.get(f"/p/{petition.slug}/signatories.csv"))))
    )
    assert rows[0]["name"] == 'Anna "Annie", Belova'


def test_unknown_and_draft_petitions_are_404(client: Client, organiser: Any) -> None:
    from tests.conftest import make_petition

    make_petition(organiser, slug="draft", publish=False)
    for path in ("/p/draft/signatories.csv", "/p/none/signatories.json"):
        assert client.get(path).status_code == 404


def test_an_empty_log_exports_an_empty_list(client: Client, petition: Petition) -> None:
    data = json.loads(body(client.get(f"/p/{petition.slug}/signatories.json")))
    assert data["signatories"] == [] and data["log_size"] == 0


def test_the_export_command_writes_what_the_web_export_serves(
    client: Client, petition: Petition, tmp_path: Any
) -> None:
    from io import StringIO

    from django.core.management import call_command
    from django.core.management.base import CommandError

    confirmed(petition, "Anna Belova")
    confirmed(petition, "Hidden Person", show=False)
    run_once()
    target = tmp_path / "out.csv"
    err = StringIO()
    call_command("export", petition.slug, output=str(target), stderr=err)
    web = body(client.get(f"/p/{petition.slug}/signatories.csv"))
    assert target.read_bytes().decode() == web
    assert "1 signatories as of log size 3" in err.getvalue()
    out = StringIO()
    call_command("export", petition.slug, format="json", stdout=out, stderr=StringIO())
    data = json.loads(out.getvalue())
    assert [s["name"] for s in data["signatories"]] == ["Anna Belova"] and data["log_size"] == 3
    with pytest.raises(CommandError, match="no public petition"):
        call_command("export", "nope")
