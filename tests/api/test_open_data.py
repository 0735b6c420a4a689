"""Open data: each petition's signatures per hour and per region, and a daily dump of every
public petition, as CSV and JSON, each stamped with the checkpoint it agrees with, named to
open by double-click, and limited per client address."""

import csv
import io
import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.conftest import confirm_now, make_petition
from undersigned.api import open_data
from undersigned.api.models import PetitionDump
from undersigned.ledger.models import LogEntry, SignedCheckpoint
from undersigned.ledger.services import integrate
from undersigned.ops.management.commands.worker import run_hourly
from undersigned.petitions import services as petitions
from undersigned.petitions.models import Petition
from undersigned.signing import services as signing
from undersigned.signing.models import Signature
from undersigned.signing.tokens import new_token

pytestmark = pytest.mark.django_db


def verify(petition: Petition, name: str, *, show: bool = True, **place: str) -> Signature:
    email = f"{name.replace(' ', '.').lower()}@example.org"
    request = signing.SignRequest(full_name=name, email=email, show_name=show, **place)
    return confirm_now(signing.sign(petition, request))


def withdraw(signature: Signature) -> None:
    raw, signature.withdraw_token_hash = new_token()
    signature.save(update_fields=["withdraw_token_hash"])
    signing.withdraw(raw)


def rows_of(response: Any) -> list[dict[str, str]]:
    text = b"".join(response.streaming_content if response.streaming else [response.content])
    return list(csv.DictReader(io.StringIO(text.decode("utf-8"))))


def at_hour(entries: Any, hour: datetime) -> None:
    """Move these log entries' recorded time into that hour (as if they came then)."""
    moved = hour + timedelta(minutes=5)
    LogEntry.objects.filter(pk__in=[e.pk for e in entries]).update(created=moved)


def latest() -> SignedCheckpoint:
    checkpoint = SignedCheckpoint.objects.order_by("-size").first()
    assert checkpoint is not None
    return checkpoint


def test_signatures_per_hour_are_what_the_checkpoint_holds(
    client: Client, petition: Petition
) -> None:
    early = datetime(2026, 3, 1, 9, tzinfo=UTC)
    first = [verify(petition, f"Early {n}") for n in range(3)]
    integrate()
    at_hour(LogEntry.objects.filter(petition=petition, event="signature.verified"), early)
    withdraw(first[0])
    integrate()
    checkpoint = latest()
    # A verification after the checkpoint is not in it, so not in the file.
    verify(petition, "Too Late")

    response = client.get(f"/data/p/{petition.slug}/signatures-per-hour.csv")
    assert response.status_code == 200
    size = checkpoint.size
    assert response["Content-Disposition"] == (
        f'attachment; filename="{petition.slug}-signatures-per-hour-log{size}.csv"'
    )
    assert response["X-Log-Checkpoint-Size"] == str(size)
    assert response["X-Log-Checkpoint-Time"].endswith("Z")
    rows = rows_of(response)
    assert (rows[0]["hour"], rows[0]["verified"], rows[0]["removed"], rows[0]["total"]) == (
        "2026-03-01T09:00:00Z",
        "3",
        "0",
        "3",
    )
    assert sum(int(r["verified"]) - int(r["removed"]) for r in rows) == 2
    assert rows[-1]["total"] == "2"
    assert {r["log_size"] for r in rows} == {str(size)}

    data = json.loads(client.get(f"/data/p/{petition.slug}/signatures-per-hour.json").content)
    assert data["log_size"] == size and data["log_verified_count"] == 2
    assert data["checkpoint"] == checkpoint.note
    assert data["hours"][0] == {
        "hour": "2026-03-01T09:00:00Z",
        "verified": 3,
        "removed": 0,
        "total": 3,
    }


def test_the_hours_agree_with_the_checkpoint_when_the_charts_summed_further(
    client: Client, petition: Petition
) -> None:
    verify(petition, "One")
    integrate()
    size = latest().size
    # Entries sequenced after the checkpoint and already summed by the charts
    # (sharing.services.absorb_log): not in the file until a checkpoint has them.
    from undersigned.ledger.services import sequence
    from undersigned.sharing.services import absorb_log

    verify(petition, "Two")
    sequence()
    absorb_log()
    data = json.loads(client.get(f"/data/p/{petition.slug}/signatures-per-hour.json").content)
    assert data["log_size"] == size
    assert sum(h["verified"] for h in data["hours"]) == 1
    integrate()
    data = json.loads(client.get(f"/data/p/{petition.slug}/signatures-per-hour.json").content)
    assert sum(h["verified"] for h in data["hours"]) == 2


def test_signatures_per_region_keep_small_numbers_of_hidden_signers_unattributed(
    client: Client, petition: Petition, settings: Any
) -> None:
    settings.SMALL_CELL_THRESHOLD = 3
    kolpino = {"region": "St Petersburg", "municipality": "Kolpino"}
    pushkin = {"region": "St Petersburg", "municipality": "Pushkin"}
    verify(petition, "Anna Belova", **kolpino)
    verify(petition, "Hidden One", show=False, **kolpino)  # 1 hidden at Kolpino: too few
    verify(petition, "Boris Vetrov", **pushkin)
    for n in range(3):
        verify(petition, f"Hidden P{n}", show=False, **pushkin)  # 3 hidden: enough
    verify(petition, "No Place")
    integrate()
    response = client.get(f"/data/p/{petition.slug}/signatures-per-region.csv")
    assert response["Content-Disposition"] == (
        f'attachment; filename="{petition.slug}-signatures-per-region-log{latest().size}.csv"'
    )
    found = {
        (r["region"], r["municipality"], r["place"]): int(r["verified"]) for r in rows_of(response)
    }
    assert found == {
        ("St Petersburg", "Pushkin", "given"): 4,
        ("St Petersburg", "Kolpino", "given"): 1,  # the shown signer alone
        ("", "", "none"): 1,
        ("", "", "withheld"): 1,  # Kolpino's hidden signer, place not said
    }
    data = json.loads(client.get(f"/data/p/{petition.slug}/signatures-per-region.json").content)
    assert data["verified_count"] == 7 and data["verified_unplaced"] == 1
    assert data["log_size"] == latest().size and data["log_verified_count"] == 7
    kolpino_count = [
        m["verified"]
        for r in data["regions"]
        for m in r["municipalities"]
        if m["municipality"] == "Kolpino"
    ]
    assert kolpino_count == [1]


def test_a_cell_that_a_spreadsheet_would_run_is_quoted(
    client: Client, petition: Petition
) -> None:
    # Signing refuses such places; a register's could still hold one.
    petitions.add_to_tally(petition.pk, ("=HYPERLINK(1)", "@x"), "verified", 1)
    rows = rows_of(client.get(f"/data/p/{petition.slug}/signatures-per-region.csv"))
    assert rows[0]["region"] == "'=HYPERLINK(1)" and rows[0]["municipality"] == "'@x"


def test_drafts_and_unknown_petitions_have_no_files(client: Client, organiser: User) -> None:
    make_petition(organiser, slug="draft", publish=False)
    for path in (
        "/data/p/draft/signatures-per-hour.csv",
        "/data/p/nope/signatures-per-region.json",
        "/data/p/draft/signatures-per-hour.xml",
    ):
        assert client.get(path).status_code == 404


def test_the_daily_dump_is_built_once_a_day_by_the_worker_and_kept(
    client: Client, petition: Petition, letter: Petition, organiser: User
) -> None:
    make_petition(organiser, slug="draft", title="Secret", publish=False)
    verify(petition, "Anna Belova")
    verify(petition, "Boris Vetrov")
    integrate()
    verify(petition, "After Checkpoint")
    assert client.get("/data/petitions-latest.csv").status_code == 404
    assert run_hourly()["open_data_dumps"] == 1
    assert run_hourly()["open_data_dumps"] == 0  # once a day
    dump = PetitionDump.objects.get()
    assert dump.day == timezone.now().astimezone(UTC).date()

    response = client.get("/data/petitions-latest.csv")
    size = latest().size
    assert response["Content-Disposition"] == (
        f'attachment; filename="petitions-{dump.day.isoformat()}-log{size}.csv"'
    )
    rows = {r["slug"]: r for r in rows_of(response)}
    assert set(rows) == {"clean-air", "deputies-letter"}
    assert rows["clean-air"]["verified_count"] == "3"
    assert rows["clean-air"]["log_verified_count"] == "2"  # what the checkpoint counts
    assert rows["clean-air"]["paper_count"] == "0"
    assert rows["clean-air"]["log_paper_count"] == "0"
    assert rows["clean-air"]["log_size"] == str(size)
    assert rows["clean-air"]["states"] == "open"
    assert rows["deputies-letter"]["kind"] == "letter"

    # A download is the stored bytes: no petition, tally or log read.
    with CaptureQueriesContext(connection) as queries:
        again = client.get(f"/data/petitions-{dump.day.isoformat()}.json")
    assert not any(
        table in q["sql"]
        for q in queries.captured_queries
        for table in ("petitions_tally", "petitions_petition", "ledger_logentry")
    )
    data = json.loads(again.content)
    assert data["log_size"] == size and data["checkpoint"] == latest().note
    assert {p["slug"] for p in data["petitions"]} == {"clean-air", "deputies-letter"}
    assert client.get("/data/petitions-2001-01-01.csv").status_code == 404


def test_old_dumps_are_dropped_and_the_command_writes_one_on_demand(
    petition: Petition, settings: Any, capsys: Any
) -> None:
    settings.OPEN_DATA_DUMP_DAYS = 2
    today = timezone.now().astimezone(UTC).date()
    for days in (5, 1):
        open_data.build_dump(today - timedelta(days=days))
    call_command("open-data-dump")
    assert "petitions, log size" in capsys.readouterr().out
    assert sorted(PetitionDump.objects.values_list("day", flat=True)) == [
        today - timedelta(days=1),
        today,
    ]
    # On demand again: today's is rewritten, not added.
    verify(petition, "Anna Belova")
    call_command("open-data-dump")
    assert PetitionDump.objects.filter(day=today).count() == 1
    assert '"verified_count": 1' in PetitionDump.objects.get(day=today).json
    assert isinstance(PetitionDump.objects.get(day=today).day, date)


def test_past_the_limit_files_answer_429_with_retry_after(
    client: Client, petition: Petition, settings: Any
) -> None:
    settings.RATE_LIMIT_API = "2/60"
    url = f"/data/p/{petition.slug}/signatures-per-hour.csv"
    assert client.get(url).status_code == 200
    assert client.get(f"/data/p/{petition.slug}/signatures-per-region.json").status_code == 200
    refused = client.get(url)
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 60
    assert client.get(url, REMOTE_ADDR="192.0.2.44").status_code == 200
    # The page that documents the limits is not counted.
    assert client.get("/data/").status_code == 200


def test_the_data_page_lists_the_files_and_says_the_limits(
    client: Client, petition: Petition, settings: Any
) -> None:
    settings.RATE_LIMIT_API = "90/60"
    open_data.build_dump()
    page = client.get("/data/").content.decode()
    assert f"/data/p/{petition.slug}/signatures-per-hour.csv" in page
    assert f"/data/p/{petition.slug}/signatures-per-region.json" in page
    assert "/data/petitions-latest.csv" in page
    assert "90 requests per 60 seconds" in page and "Retry-After" in page
    assert "<caption" in page and 'scope="col"' in page
    # Every page's footer links here.
    assert '<a href="/data/">Open data</a>' in client.get("/").content.decode()
    russian = client.get("/data/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "Открытые данные" in russian


def test_closed_petitions_keep_their_files(
    client: Client, petition: Petition, organiser: User
) -> None:
    verify(petition, "Anna Belova")
    petitions.close(petition, organiser)
    integrate()
    data = json.loads(client.get(f"/data/p/{petition.slug}/signatures-per-hour.json").content)
    assert data["log_verified_count"] == 1
