import csv
import io
import json
from typing import Any

import pytest
from django.test import Client

from tests.conftest import confirm_now
from undersigned.ledger.keys import signer
from undersigned.ops.management.commands.worker import run_once
from undersigned.petitions.models import Petition
from undersigned.signing import services as signing
from undersigned.tlog.note import open_note

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


AWKWARD = [
    # (name, shown, role, municipality, region)
    ("Anna Belova", True, "", "Kolpino", "St Petersburg"),
    ('Boris "Bob", Jr.', True, "chair, residents' council", "", ""),
    ("Hidden Person", False, "", "", ""),
    ("Вера Орлова\nвторая строка", True, "депутат", "Якутск", "Саха (Якутия)"),
    ("Gleb\r\nZorin; 'quoted'", True, "", "", ""),
    ("  Leading and trailing  ", True, "", "", ""),
    ("Removed Person", True, "", "", ""),
]


def test_the_exports_are_pinned_byte_for_byte(
    client: Client, petition: Petition, organiser: Any, tmp_path: Any, monkeypatch: Any
) -> None:
    """The exact bytes of both exports, so that a faster writer cannot change them."""
    from datetime import UTC, datetime
    from io import StringIO

    from django.core.management import call_command
    from django.utils import timezone

    from undersigned.ledger.services import latest_checkpoint

    monkeypatch.setattr(timezone, "now", lambda: datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC))
    signatures = []
    for n, (name, shown, role, municipality, region) in enumerate(AWKWARD):
        signature = signing.sign(
            petition,
            signing.SignRequest(
                full_name=name,
                email=f"signer{n}@example.org",
                show_name=shown,
                role=role,
                municipality=municipality,
                region=region,
            ),
        )
        signatures.append(confirm_now(signature))
    signing.invalidate(signatures[-1].pk, organiser, reason="forged")
    run_once()
    confirmed(petition, "Late Person")  # after the checkpoint: in neither export

    checkpoint = latest_checkpoint()
    assert checkpoint is not None and checkpoint.size == 9
    text = petition.published_version().sha256
    csv_body = (
        "log_index,time,name,role,municipality,region,text_sha256\r\n"
        f"1,2025-03-04T05:06:07Z,Anna Belova,,Kolpino,St Petersburg,{text}\r\n"
        f'2,2025-03-04T05:06:07Z,"Boris ""Bob"", Jr.","chair, residents\' council",,,{text}\r\n'
        f'4,2025-03-04T05:06:07Z,"Вера Орлова\nвторая строка",'
        f"депутат,Якутск,Саха (Якутия),{text}\r\n"
        f"5,2025-03-04T05:06:07Z,\"Gleb\r\nZorin; 'quoted'\",,,,{text}\r\n"
        f"6,2025-03-04T05:06:07Z,  Leading and trailing  ,,,,{text}\r\n"
    )
    response = client.get(f"/p/{petition.slug}/signatories.csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="{petition.slug}-signatories-log9.csv"'
    )
    assert response["X-Log-Checkpoint-Size"] == "9"
    assert response["Cache-Control"] == "public, max-age=60"
    assert body(response) == csv_body

    note = json.dumps(checkpoint.note, ensure_ascii=False)
    rows = [
        (1, "Anna Belova", "", "Kolpino", "St Petersburg"),
        (2, 'Boris \\"Bob\\", Jr.', "chair, residents' council", "", ""),
        (4, "Вера Орлова\\nвторая строка", "депутат", "Якутск", "Саха (Якутия)"),
        (5, "Gleb\\r\\nZorin; 'quoted'", "", "", ""),
        (6, "  Leading and trailing  ", "", "", ""),
    ]
    json_body = (
        f'{{"petition": "{petition.slug}", "checkpoint": {note}, "log_size": 9, "signatories": ['
        + ",".join(
            f'\n{{"log_index": {i}, "time": "2025-03-04T05:06:07Z", "name": "{name}", '
            f'"role": "{role}", "municipality": "{m}", "region": "{r}", '
            f'"text_sha256": "{text}"}}'
            for i, name, role, m, r in rows
        )
        + "\n]}\n"
    )
    response = client.get(f"/p/{petition.slug}/signatories.json")
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"] == (
        f'attachment; filename="{petition.slug}-signatories-log9.json"'
    )
    assert body(response) == json_body

    target = tmp_path / "out.csv"
    call_command("export", petition.slug, output=str(target), stderr=StringIO())
    assert target.read_bytes().decode() == csv_body
    out = StringIO()
    call_command("export", petition.slug, stdout=out, stderr=StringIO())
    assert out.getvalue() == csv_body
    out = StringIO()
    call_command("export", petition.slug, format="json", stdout=out, stderr=StringIO())
    # The command puts log_size before checkpoint; otherwise the same bytes.
    assert out.getvalue() == json_body.replace(
        f'"checkpoint": {note}, "log_size": 9', f'"log_size": 9, "checkpoint": {note}'
    )


def test_queries_slices_and_chunks_of_any_size_give_the_same_bytes(
    client: Client, petition: Petition, organiser: Any, monkeypatch: Any
) -> None:
    """Small queries, slices and chunks, against the exports written row by row with decode()."""
    from io import StringIO

    from django.core.management import call_command

    from undersigned.api import exports
    from undersigned.ledger.models import LogEntry
    from undersigned.tlog import entries

    signatures = [
        confirmed(petition, f"Signer{n} Name, {n}", show=n % 3 != 0, region="Region")
        for n in range(23)
    ]
    for n in (4, 5, 8, 16):
        signing.invalidate(signatures[n].pk, organiser, reason="forged")
    run_once()

    removed = set(
        LogEntry.objects.filter(event="signature.invalidated").values_list(
            "ref_entry__index", flat=True
        )
    )
    reference = io.StringIO()
    writer = csv.writer(reference)
    writer.writerow(exports.COLUMNS)
    members = []
    for index, data in (
        LogEntry.objects.filter(event="signature.verified")
        .order_by("index")
        .values_list("index", "data")
    ):
        entry = entries.decode(bytes(data))
        if index in removed or entry.signer is None:
            continue
        row = [index, entry.time, *(entry.signer[k] for k in entries.SIGNER_FIELDS), entry.text]
        writer.writerow(row)
        members.append(json.dumps(dict(zip(exports.COLUMNS, row, strict=True)), ensure_ascii=False))
    assert len(members) == 11

    for batch, slice_, chunk in [
        (4, 3, 40),
        (1, 1, 1),
        (7, 400, 64 * 1024),
        (2000, 400, 64 * 1024),
    ]:
        monkeypatch.setattr(exports, "BATCH", batch)
        monkeypatch.setattr(exports, "SLICE", slice_)
        monkeypatch.setattr(exports, "CHUNK", chunk)
        response = client.get(f"/p/{petition.slug}/signatories.csv")
        chunks = list(response.streaming_content)
        assert all(chunks) and b"".join(chunks).decode() == reference.getvalue()
        text = body(client.get(f"/p/{petition.slug}/signatories.json"))
        assert text.endswith(', "signatories": [\n' + ",\n".join(members) + "\n]}\n")
        out, err = StringIO(), StringIO()
        call_command("export", petition.slug, stdout=out, stderr=err)
        assert out.getvalue() == reference.getvalue()
        assert "11 signatories as of log size 28" in err.getvalue()
