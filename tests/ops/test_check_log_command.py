"""`undersigned check-log`: --json for monitoring, progress on a terminal, quiet otherwise."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.ops.test_integrity import add_verified
from tests.recording import record_progress
from undersigned.ledger.models import LogEntry
from undersigned.ops.integrity import check_log
from undersigned.petitions.models import Petition

pytestmark = pytest.mark.django_db

COMMAND = "undersigned.ops.management.commands.check-log"


def test_json_of_an_honest_log(petition: Petition) -> None:
    add_verified(petition, 5)
    out, err = StringIO(), StringIO()
    call_command("check-log", "--json", stdout=out, stderr=err)
    result = json.loads(out.getvalue())
    assert result["ok"] is True and result["problems"] == []
    assert result["size"] == 6 and result["checkpoints"] == 1 and result["last_checkpoint"] == 6
    assert result["unsequenced"] == 0
    assert result["verified"] == {petition.slug: 5}
    assert len(result["root"]) == 64
    assert out.getvalue().count("\n") == 1 and err.getvalue() == ""


def test_json_of_a_damaged_log_lists_the_problems_and_fails(petition: Petition) -> None:
    add_verified(petition, 3)
    entry = LogEntry.objects.get(index=2)
    LogEntry.objects.filter(pk=entry.pk).update(
        data=bytes(entry.data).replace(b"Person 1", b"Person 7")
    )
    out = StringIO()
    with pytest.raises(CommandError, match="log problem"):
        call_command("check-log", "--json", stdout=out)
    result = json.loads(out.getvalue())
    assert result["ok"] is False
    assert any("does not match the entries" in p for p in result["problems"])


def test_text_output_is_as_before(petition: Petition) -> None:
    add_verified(petition, 2)
    out, err = StringIO(), StringIO()
    call_command("check-log", stdout=out, stderr=err)
    assert out.getvalue() == (
        "log of 3 entries consistent with 1 signed checkpoint(s) (last at 3); "
        "0 entries waiting for the worker\n"
    )
    assert err.getvalue() == ""  # not a terminal: no progress


def test_the_walk_over_the_log_is_reported(
    petition: Petition, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_verified(petition, 4)
    recorded = record_progress(monkeypatch, COMMAND)
    call_command("check-log", stdout=StringIO())
    assert recorded.enabled == [None]  # drawn if stderr is a terminal
    assert recorded.last("checking the log") == (5, 5)
    call_command("check-log", "--json", stdout=StringIO())
    assert recorded.enabled[-1] is False


def test_progress_in_chunks(petition: Petition) -> None:
    add_verified(petition, 6)
    seen: list[tuple[str, int, int]] = []
    check_log(chunk=2, progress=lambda *args: seen.append(args))
    assert seen == [("checking the log", n, 7) for n in (2, 4, 6, 7)]
