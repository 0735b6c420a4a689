"""`undersigned bulk-load`: fictional signatures that pass every check the product makes."""

import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from tests.conftest import make_petition
from tests.recording import record_progress
from undersigned.ledger.keys import signer
from undersigned.ledger.models import LogEntry
from undersigned.ops.bulkload import PLACES, fictional_names, load
from undersigned.ops.integrity import check_log
from undersigned.ops.management.commands.worker import run_once
from undersigned.petitions import services as petitions
from undersigned.petitions.management.commands.reconcile import drift
from undersigned.petitions.models import Petition
from undersigned.signing import services as signing
from undersigned.signing.models import Signature
from undersigned.tlog import entries
from undersigned.tlog.verify.checks import verify
from undersigned.tlog.verify.fetch import FetchError

pytestmark = pytest.mark.django_db

COMMAND = "undersigned.ops.management.commands.bulk-load"


class SiteFetcher:
    """The verifier's view of this site, through Django's test client instead of HTTP."""

    def __init__(self) -> None:
        self.client = Client()

    def get(self, path: str) -> bytes:
        response = self.client.get("/" + path)
        if response.status_code != 200:
            raise FetchError(f"GET {path}: HTTP {response.status_code}", response.status_code)
        if response.streaming:
            return b"".join(response.streaming_content)  # type: ignore[arg-type]
        return bytes(response.content)


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("bulk-load", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def seeded(petition: Petition) -> list[Signature]:
    return list(
        Signature.objects.filter(petition=petition, email_hash__isnull=False)
        .select_related("verified_entry")
        .order_by("pk")
    )


def test_every_row_is_as_the_product_writes_it(petition: Petition) -> None:
    load(petition, 25, chunk=10)
    rows = seeded(petition)
    assert len(rows) == 25 and {s.state for s in rows} == {"verified"}
    names = {name for name, _ in fictional_names()}
    places = {("", ""), *PLACES}
    emails = set()
    for s in rows:
        # Decided rows look as signing leaves them (signing/custody.py): no address,
        # a name only when shown, no commitment salt.
        assert s.email == "" and s.sealed_at is not None and s.log_salt is None
        assert (s.full_name in names) if s.show_name else s.full_name == ""
        emails.add(s.email_hash)
        assert (s.region, s.municipality) in places
        assert s.verified_at is not None and s.confirmed_at is not None
        # Its log entry names it, and holds what record_verification would have written.
        entry = s.verified_entry
        assert entry is not None and entry.signature_id == s.pk and entry.index is None
        fields = entries.signer_fields(s.full_name, s.role, s.municipality, s.region)
        if s.show_name:
            assert entry.payload["signer"] == fields
        else:
            assert len(entry.payload["commitment_hex"]) == 64 and "signer" not in entry.payload
        assert entry.payload["petition"] == petition.slug
        assert entry.payload["text_sha256"] == petition.current_version().sha256
    # One keyed hash per fictional person, as de-duplication needs.
    assert len(emails) == 25 and all(len(h) == 64 for h in emails)
    assert petitions.counts(petition) == (25, 0)
    assert drift(petition) == []


def test_with_log_the_log_checks_and_verifies(petition: Petition, tmp_path: Path) -> None:
    out, err = run(petition.slug, "--count", "30", "--chunk", "7", "--with-log", "--json")
    result = json.loads(out)
    assert result["ok"] is True and result["added"] == 30 and result["state"] == "verified"
    assert result["log_entries"] == 30 and result["sequenced"] == 31  # and the petition's opening
    assert result["checkpoint"] == 31
    assert err == ""
    report = check_log()
    assert report.problems == [] and report.verified == {petition.slug: 30}
    verified = verify(
        SiteFetcher(), signer().verifier_key(), tmp_path / "state.json", retry_pause=0
    )
    assert [(p.slug, p.verified, p.api_verified) for p in verified.petitions] == [
        (petition.slug, 30, 30)
    ]
    call_command("reconcile", stdout=StringIO())


def test_without_log_the_worker_sequences_the_entries(petition: Petition) -> None:
    out, _ = run(petition.slug, "--count", "12")
    assert out.startswith(f"added 12 fictional signatures (verified) to {petition.slug} in ")
    assert out.rstrip().endswith("12 log entries wait for `undersigned worker`")
    assert check_log().problems == []  # pending entries are not yet the log's business
    assert LogEntry.objects.filter(index__isnull=True, signature__isnull=False).count() == 12
    run_once()
    report = check_log()
    assert report.problems == [] and report.verified == {petition.slug: 12}


def test_seeded_signatures_can_be_taken_back_like_any_other(
    petition: Petition, organiser: User
) -> None:
    load(petition, 6, with_log=True)
    first, second = seeded(petition)[:2]
    signing.invalidate(first.pk, organiser, reason="rehearsing a fraud wave")
    signing.withdraw_signature(second.pk)
    run_once()
    assert petitions.counts(petition) == (4, 0)
    assert drift(petition) == []
    assert check_log().problems == []


def test_twice_into_one_petition_adds_new_people(petition: Petition) -> None:
    load(petition, 5)
    load(petition, 5, with_log=True)
    assert len({s.email_hash for s in seeded(petition)}) == 10
    assert petitions.counts(petition) == (10, 0)
    assert check_log().problems == []


def test_a_letter_gets_claims_waiting_for_review(letter: Petition) -> None:
    out, _ = run(letter.slug, "--count", "9", "--with-log")
    assert "9 fictional signatures (needs_review)" in out
    rows = seeded(letter)
    assert {s.state for s in rows} == {"needs_review"}
    assert all(s.role and s.municipality and s.register_entry is None for s in rows)
    assert not LogEntry.objects.filter(signature__in=rows).exists()
    assert petitions.counts(letter) == (0, 9)
    assert drift(letter) == []
    assert check_log().problems == []


@pytest.mark.parametrize("status", ["draft", "closed", "archived"])
def test_a_petition_that_takes_no_signatures_is_refused(organiser: User, status: str) -> None:
    petition = make_petition(organiser, slug="not-open", publish=status != "draft")
    Petition.objects.filter(pk=petition.pk).update(status=status)
    out = StringIO()
    with pytest.raises(CommandError, match=f"is {status}: it takes no signatures"):
        call_command("bulk-load", "not-open", "--count", "3", "--json", stdout=out)
    assert json.loads(out.getvalue())["ok"] is False
    assert not Signature.objects.exists()


def test_past_its_deadline_is_refused(petition: Petition) -> None:
    from django.utils import timezone

    Petition.objects.filter(pk=petition.pk).update(deadline=timezone.now())
    with pytest.raises(CommandError, match="past its deadline"):
        run(petition.slug, "--count", "3")
    assert not Signature.objects.exists()


def test_bad_input_is_refused(petition: Petition) -> None:
    with pytest.raises(CommandError, match="no petition with slug 'nope'"):
        run("nope", "--count", "3")
    with pytest.raises(CommandError, match="--count"):
        run(petition.slug, "--count", "0")
    with pytest.raises(CommandError, match="--count"):
        run(petition.slug)
    assert not Signature.objects.exists()


def test_a_production_site_is_refused_unless_allowed(petition: Petition, settings: Any) -> None:
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="production site"):
        run(petition.slug, "--count", "3")
    assert not Signature.objects.exists()
    run(petition.slug, "--count", "3", "--allow-production")
    assert petitions.counts(petition) == (3, 0)


def test_progress_is_reported(petition: Petition, monkeypatch: pytest.MonkeyPatch) -> None:
    recorded = record_progress(monkeypatch, COMMAND)
    run(petition.slug, "--count", "25", "--chunk", "10", "--with-log")
    assert recorded.enabled == [None]  # a bar if stderr is a terminal
    assert [r for r in recorded.reports if r[0] == "adding signatures"] == [
        ("adding signatures", 10, 25),
        ("adding signatures", 20, 25),
        ("adding signatures", 25, 25),
    ]
    assert recorded.last("sequencing the log") == (26, 26)
    run(petition.slug, "--count", "2", "--json")
    assert recorded.enabled[-1] is False


def test_nothing_on_stderr_when_not_a_terminal(petition: Petition) -> None:
    _, err = run(petition.slug, "--count", "5", "--with-log")
    assert err == ""
