"""`undersigned backup` and `restore --check-only`: --json, and progress through every stage.

The copy itself (SQLite's backup API, pg_dump and pg_restore on a live site)
is exercised end to end by tests/scenarios/test_backup_restore.py; here it is
a stand-in that writes a file and describes this test's database through its
own connection, which sees the test's uncommitted rows.
"""

import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.ops.test_integrity import add_verified
from tests.recording import record_progress
from undersigned.core.progress import silent
from undersigned.ops import snapshot
from undersigned.petitions.models import Petition, Tally

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def copy_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    def copy(target: Path, progress: Any = silent) -> dict[str, Any]:
        progress("copying the database", 0, 1)
        target.write_bytes(b"a stand-in for the copy\n" * 100)
        progress("copying the database", 1, 1)
        return snapshot.describe_current(progress)

    monkeypatch.setattr(snapshot, "_backup_sqlite", copy)
    monkeypatch.setattr(snapshot, "_backup_postgres", copy)


def test_backup_json(petition: Petition, tmp_path: Path) -> None:
    add_verified(petition, 3)
    out, err = StringIO(), StringIO()
    call_command("backup", str(tmp_path / "b"), "--json", stdout=out, stderr=err)
    result = json.loads(out.getvalue())
    manifest = json.loads((tmp_path / "b" / "manifest.json").read_text())
    assert result == {
        "ok": True,
        "destination": str(tmp_path / "b"),
        "rows": sum(manifest["tables"].values()),
        **manifest,
    }
    assert result["log"]["size"] == 4 and result["log"]["checkpoint_size"] == 4
    assert result["tables"]["signing_signature"] == 3
    assert set(result["keys"]) == {"secret_key", "hash_key", "data_keys", "log_verifier_key"}
    assert err.getvalue() == ""


def test_backup_text_is_as_before(petition: Petition, tmp_path: Path) -> None:
    add_verified(petition, 1)
    out, err = StringIO(), StringIO()
    call_command("backup", str(tmp_path / "b"), stdout=out, stderr=err)
    tables = json.loads((tmp_path / "b" / "manifest.json").read_text())["tables"]
    assert out.getvalue().startswith(
        f"backed up {snapshot.connection.vendor} to {tmp_path / 'b'}: "
        f"{sum(tables.values())} rows in {len(tables)} tables, log of 2 entries (checkpoint 2)"
    )
    assert err.getvalue() == ""  # not a terminal: no progress


def test_backup_into_a_full_directory_fails_in_json_too(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "x").write_text("x")
    out = StringIO()
    with pytest.raises(CommandError, match="exists and is not empty"):
        call_command("backup", str(tmp_path / "b"), "--json", stdout=out)
    assert json.loads(out.getvalue()) == {
        "ok": False,
        "error": f"{tmp_path / 'b'} exists and is not empty",
    }


def test_backup_reports_every_stage(
    petition: Petition, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_verified(petition, 2)
    recorded = record_progress(monkeypatch, "undersigned.ops.management.commands.backup")
    call_command("backup", str(tmp_path / "b"), stdout=StringIO())
    assert recorded.enabled == [None]
    assert recorded.stages() == [
        "copying the database",
        "counting rows",
        "digesting the log",
        "checksumming the copy (MiB)",
    ]
    counted, tables = recorded.last("counting rows")
    assert counted == tables > 10
    assert recorded.last("digesting the log") == (3, 3)
    assert recorded.last("checksumming the copy (MiB)") == (1, 1)


def test_restore_check_only_json(
    petition: Petition, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_verified(petition, 3)
    call_command("backup", str(tmp_path / "b"), stdout=StringIO())
    recorded = record_progress(monkeypatch, "undersigned.ops.management.commands.restore")
    out = StringIO()
    call_command("restore", str(tmp_path / "b"), "--check-only", "--json", stdout=out)
    result = json.loads(out.getvalue())
    assert result["ok"] is True and result["restored"] is False
    assert result["problems"] == [] and result["warnings"] == []
    assert result["log"]["size"] == 4 and result["rows"] > 3
    assert recorded.enabled == [False]
    assert recorded.stages() == [
        "checking the backup's checksum (MiB)",
        "counting rows",
        "digesting the log",
        "checking the log",
        "checking the tallies",
    ]
    assert recorded.last("checking the tallies") == (1, 1)


def test_restore_check_only_json_lists_the_differences(petition: Petition, tmp_path: Path) -> None:
    add_verified(petition, 2)
    call_command("backup", str(tmp_path / "b"), stdout=StringIO())
    Tally.objects.filter(petition=petition).update(verified=7)
    out = StringIO()
    with pytest.raises(CommandError, match="differs from the backup"):
        call_command("restore", str(tmp_path / "b"), "--check-only", "--json", stdout=out)
    result = json.loads(out.getvalue())
    assert result["ok"] is False and result["error"].startswith("the restored database differs")
    assert [p for p in result["problems"] if p.startswith("tally: ")] == [
        f"tally: {petition.slug} -/-: tally says 7 verified, 0 awaiting; "
        "rows say 2 verified, 0 awaiting"
    ]


def test_restore_of_no_backup_fails_in_json_too(tmp_path: Path) -> None:
    out = StringIO()
    with pytest.raises(CommandError, match=r"no manifest\.json"):
        call_command("restore", str(tmp_path), "--check-only", "--json", stdout=out)
    result = json.loads(out.getvalue())
    assert result["ok"] is False and "no manifest.json" in result["error"]
    assert result["restored"] is False
