"""Signatures on paper: the same checks, tallies and log as online ones, and shown apart."""

import base64
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client

from tests.conftest import confirm_now, make_petition
from undersigned.audit.models import AuditEvent
from undersigned.core import custody
from undersigned.ledger import services as ledger
from undersigned.ledger.keys import signer
from undersigned.ledger.models import LogEntry
from undersigned.ledger.views import log_line
from undersigned.ops.management.commands.worker import run_once
from undersigned.petitions import services as petitions
from undersigned.petitions.management.commands.reconcile import drift
from undersigned.petitions.models import Petition, Tally
from undersigned.registers.models import RegisterEntry
from undersigned.signing import paper
from undersigned.signing import services as signing
from undersigned.signing.models import Signature
from undersigned.signing.paper import PaperLine, PaperRefused
from undersigned.signing.paper_csv import parse_sheet_csv
from undersigned.tlog import entries
from undersigned.tlog.verify.checks import verify
from undersigned.tlog.verify.fetch import HttpFetcher

pytestmark = pytest.mark.django_db

State = Signature.State


@pytest.fixture
def moderator(petition: Petition, letter: Petition) -> User:
    user = User.objects.create_user("mod", "mod@example.org", "pw-for-tests-only")
    petition.moderators.add(user)
    letter.moderators.add(user)
    return user


def totals(petition: Petition) -> tuple[int, int, int, int]:
    """(verified, awaiting, hidden, on paper) from the tallies."""
    rows = Tally.objects.filter(petition=petition)
    return (
        sum(t.verified for t in rows),
        sum(t.awaiting for t in rows),
        sum(t.verified_hidden for t in rows),
        sum(t.verified_paper for t in rows),
    )


def logged(petition: Petition) -> entries.PetitionCount:
    """The petition's counts as anyone recomputes them from the sequenced log."""
    run_once()
    data = LogEntry.objects.order_by("index").values_list("index", "data")
    return entries.count((i, bytes(d)) for i, d in data)[petition.slug]


def written() -> tuple[int, int, int, int]:
    """Everything an entry would write: rows, log entries, audit events, tally moves."""
    return (
        Signature.objects.count(),
        LogEntry.objects.count(),
        AuditEvent.objects.count(),
        sum(Tally.objects.values_list("changes", flat=True)),
    )


def test_a_hidden_paper_signature_counts_at_once_is_logged_as_paper_and_sealed(
    petition: Petition, moderator: User, site_custody_key: str
) -> None:
    line = PaperLine("Stall, market square, sheet 1", "Olga Petrova", municipality="Kolpino")
    signature = paper.enter_one(petition, line, moderator)
    assert signature.state == State.VERIFIED and signature.channel == "paper"
    assert signature.sheet_reference == "Stall, market square, sheet 1"
    assert totals(petition) == (1, 0, 1, 1)
    # Decided at entry, so sealed at entry: the server no longer holds the name.
    with connection.cursor() as cursor:
        cursor.execute("SELECT full_name FROM signing_signature WHERE id = %s", [signature.pk])
        assert cursor.fetchone()[0] == ""
    signature.refresh_from_db()
    boxes = [
        custody.open_sealed(site_custody_key, base64.b64decode(b))
        for b in signature.custody_sealed.splitlines()
    ]
    assert any(box.get("full_name") == "Olga Petrova" for box in boxes)
    count = logged(petition)
    assert (count.verified, count.paper) == (1, 1)
    entry = entries.decode(bytes(LogEntry.objects.get(signature=signature).data))
    assert entry.channel == "paper" and entry.signer is None and entry.commitment
    assert drift(petition) == []
    event = AuditEvent.objects.get(action="signature.paper_entered")
    assert event.actor == moderator and event.signature == signature
    assert event.details["sheet"] == "Stall, market square, sheet 1"
    assert "Olga" not in str(event.details) and "Olga" not in event.reason


def test_online_entries_stay_exactly_as_they_were(petition: Petition) -> None:
    """No channel field on an online verification: old verifiers read it as before."""
    confirm_now(
        signing.sign(
            petition, signing.SignRequest(full_name="Online Olga", email="o@example.org")
        )
    )
    run_once()
    data = bytes(LogEntry.objects.get(event=entries.SIGNATURE_VERIFIED).data)
    assert b"channel" not in data
    assert entries.decode(data).channel is None


def test_the_page_and_the_api_show_the_paper_figure_apart(
    client: Client, petition: Petition, moderator: User
) -> None:
    page = client.get(f"/p/{petition.slug}/").content.decode()
    assert "on paper" not in page
    confirm_now(
        signing.sign(petition, signing.SignRequest(full_name="Online Olga", email="o@example.org"))
    )
    for i, name in enumerate(["Anna Shown", "Boris Shown"]):
        paper.enter_one(petition, PaperLine(f"sheet {i}", name, show_name=True), moderator)
    page = client.get(f"/p/{petition.slug}/").content.decode()
    assert '<strong data-count="verified">3</strong>' in page
    assert '(of which <strong data-count="paper">2</strong> on paper)' in page
    assert "Anna Shown" in page
    data = client.get(f"/api/petitions/{petition.slug}").json()
    assert (data["verified_count"], data["paper_count"]) == (3, 2)
    listed = {p["slug"]: p for p in client.get("/api/petitions").json()}
    assert listed[petition.slug]["paper_count"] == 2
    ru = client.get(f"/p/{petition.slug}/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert '(из них <strong data-count="paper">2</strong> на бумаге)' in ru


def test_thresholds_count_paper_signatures(organiser: User, moderator: User) -> None:
    target = make_petition(organiser, slug="small-goal", thresholds=[2])
    target.moderators.add(moderator)
    for i in range(2):
        paper.enter_one(target, PaperLine("sheet A", f"Signer {i}"), moderator)
    assert petitions.counts(target) == (2, 0)
    page = Client().get(f"/p/{target.slug}/").content.decode()
    assert "Reached 2 verified signatures" in page


def test_the_same_line_twice_is_refused_and_nothing_is_written(
    petition: Petition, moderator: User
) -> None:
    paper.enter_one(
        petition, PaperLine("Sheet 7", "Ivan Ivanov", municipality="Kolpino"), moderator
    )
    before = written()
    # The same signer typed in another script and spelling, from the same sheet.
    again = PaperLine("sheet 7", "Иван Иванов", municipality="Колпино")
    with pytest.raises(PaperRefused, match="entered before from sheet"):
        paper.enter_one(petition, again, moderator)
    assert written() == before
    # A namesake from another sheet is someone the site cannot tell apart (documented).
    paper.enter_one(
        petition, PaperLine("Sheet 8", "Ivan Ivanov", municipality="Kolpino"), moderator
    )
    assert totals(petition)[3] == 2


def test_a_batch_with_one_bad_line_writes_nothing(petition: Petition, moderator: User) -> None:
    before = written()
    lines = [
        PaperLine("S1", "Good Person", line=2),
        PaperLine("S1", "=HYPERLINK(1)", line=3),
        PaperLine("S1", "Good Person", line=4),
        PaperLine("", "No Sheet", line=5),
    ]
    with pytest.raises(PaperRefused) as refused:
        paper.enter(petition, lines, moderator)
    by_line = {p.line: str(p) for p in refused.value.problems}
    assert set(by_line) == {3, 4, 5}
    assert "line 4: The same signer on the same sheet as line 2." == by_line[4]
    assert by_line[5] == "line 5: Sheet is missing."
    assert written() == before


def test_a_closed_petition_takes_no_paper_signatures(
    petition: Petition, moderator: User, organiser: User
) -> None:
    petitions.close(petition, organiser)
    petition.refresh_from_db()
    with pytest.raises(PaperRefused, match="not open for signatures"):
        paper.enter_one(petition, PaperLine("S1", "Late Person"), moderator)


def test_a_letter_binds_the_register_entry_and_keeps_one_signature_per_entry(
    letter: Petition, moderator: User, client: Client, deliver: Any
) -> None:
    # Found by name and municipality, across scripts, as the review does.
    line = PaperLine("Council session 12 March", "Анна Белова", municipality="Колпино")
    signature = paper.enter_one(letter, line, moderator)
    belova = RegisterEntry.objects.get(full_name="Anna Belova")
    assert signature.register_entry_key is not None
    assert signature.place() == ("St Petersburg", "Kolpino")
    assert signature.role == "municipal deputy"
    # Hidden: the entry itself went to the custody key, the keyed hash stays.
    assert signature.register_entry is None
    assert totals(letter) == (1, 0, 1, 1)
    before = written()
    # The same deputy on another sheet, by the entry's number: the register's rule.
    other = PaperLine("Council session 19 March", "Anna Belova", entry_id=belova.pk)
    with pytest.raises(PaperRefused, match="already has a verified signature"):
        paper.enter_one(letter, other, moderator)
    assert written() == before
    # ...and online too: the claim may wait, but it cannot be approved.
    client.post(
        f"/p/{letter.slug}/sign/",
        {
            "full_name": "Anna Belova",
            "email": "anna@mail.example.org",
            "visibility": "show",
            "role": "municipal deputy",
            "municipality": "Kolpino",
        },
    )
    from tests.conftest import link_in

    client.post(link_in(deliver().last_to("anna@mail.example.org"), "confirm"))
    claim = Signature.objects.with_email("anna@mail.example.org").get()
    assert claim.state == State.NEEDS_REVIEW
    with pytest.raises(signing.SigningError, match="already has a verified signature"):
        signing.approve(claim.pk, moderator, entry=belova)


def test_an_online_verified_entry_refuses_the_paper_line(
    letter: Petition, moderator: User
) -> None:
    entry = RegisterEntry.objects.get(full_name="Gleb Zorin")
    claim = signing.sign(
        letter,
        signing.SignRequest(
            full_name="Gleb Zorin",
            email="gleb@mail.example.org",
            role="municipal deputy",
            municipality="Samara",
        ),
    )
    confirm_now(claim)
    signing.approve(claim.pk, moderator, entry=entry)
    with pytest.raises(PaperRefused, match=rf"#{entry.pk} Gleb Zorin .*already has a verified"):
        paper.enter_one(letter, PaperLine("S1", "Gleb Zorin", municipality="Samara"), moderator)


def test_a_letter_line_must_name_an_entry_that_exists_and_fits(
    letter: Petition, moderator: User
) -> None:
    zorin = RegisterEntry.objects.get(full_name="Gleb Zorin")
    cases = [
        (PaperLine("S1", "Nobody Known", municipality="Kolpino"), "No register entry matches"),
        (PaperLine("S1", "Anna Belov", municipality="Kolpino"), "the closest are #"),
        (PaperLine("S1", "Anna Belova"), "or the municipality"),
        (PaperLine("S1", "Anna Belova", entry_id=zorin.pk), "is not “Anna Belova”"),
        (PaperLine("S1", "Anna Belova", entry_id=999999), "no entry number 999999"),
    ]
    before = written()
    for line, message in cases:
        with pytest.raises(PaperRefused, match=message):
            paper.enter_one(letter, line, moderator)
    assert written() == before


def test_an_open_petition_has_no_register_entries(petition: Petition, moderator: User) -> None:
    with pytest.raises(PaperRefused, match="has no register"):
        paper.enter_one(petition, PaperLine("S1", "Some One", entry_id=3), moderator)


def test_a_paper_signature_is_invalidated_like_any_other(
    petition: Petition, moderator: User
) -> None:
    signature = paper.enter_one(petition, PaperLine("S1", "Forged Name", show_name=True), moderator)
    assert logged(petition).paper == 1
    signing.invalidate(signature.pk, moderator, reason="Found to be forged")
    assert totals(petition) == (0, 0, 0, 0)
    count = logged(petition)
    assert (count.verified, count.paper, count.invalidated) == (0, 0, 1)
    assert drift(petition) == []


def test_reconcile_sees_a_drifted_paper_column(petition: Petition, moderator: User) -> None:
    paper.enter_one(petition, PaperLine("S1", "Some One"), moderator)
    Tally.objects.filter(petition=petition).update(verified_paper=0)
    assert any("on paper: tally says 0, rows say 1" in line for line in drift(petition))


# ------------------------------------------------------------------ CSV


def test_a_sheet_as_excel_saves_it_in_russian(petition: Petition, moderator: User) -> None:
    text = (
        "sep=;\r\n"
        "Sheet;Full name;Show name;Municipality\r\n"
        "Лист 3;Ольга Смирнова;да;Колпино\r\n"
        ";Пётр Кузнецов;;Колпино\r\n"
    )
    parsed = parse_sheet_csv(text.encode("cp1251"), encoding="windows-1251", sheet="Лист 4")
    assert parsed.ok, [str(p) for p in parsed.problems]
    assert [(x.sheet_reference, x.full_name, x.show_name, x.line) for x in parsed.lines] == [
        ("Лист 3", "Ольга Смирнова", True, 3),
        ("Лист 4", "Пётр Кузнецов", False, 4),
    ]
    refused = parse_sheet_csv(text.encode("cp1251"))
    assert [str(p) for p in refused.problems] == [
        "The file is not UTF-8 text (byte 47). If Excel saved it, choose Windows-1251 and "
        "preview again, or save it as “CSV UTF-8”."
    ]
    signatures = paper.enter(petition, parsed.lines, moderator)
    assert len(signatures) == 2 and totals(petition) == (2, 0, 1, 2)


def test_a_sheet_reports_every_bad_line_and_returns_none(petition: Petition) -> None:
    data = (
        "\ufefffull_name,sheet,show_name,register_entry,colour\n"
        "A Person,S1,yes,,\n"
    ).encode()
    assert [str(p) for p in parse_sheet_csv(data).problems] == [
        "Unknown column “colour” (the columns are sheet, full_name, show_name, role, "
        "municipality, region, register_entry)."
    ]
    data = (
        b"full_name,sheet,show_name,register_entry\n"
        b"A Person,S1,perhaps,\n"
        b"B Person,S1,no,twelve\n"
        b"C Person,S1\n"
        b"D Person,S1,no,12\n"
    )
    parsed = parse_sheet_csv(data)
    assert parsed.lines == []
    assert [str(p) for p in parsed.problems] == [
        "line 2: “show_name” is “perhaps”; write yes or no",
        "line 3: “register_entry” is “twelve”, not an entry's number",
        "line 4: expected 4 fields, found 2",
    ]
    assert [str(p) for p in parse_sheet_csv(b"full_name\n").problems] == [
        "The file has no “sheet” column: give the sheet's reference for all its lines."
    ]
    assert [str(p) for p in parse_sheet_csv(b"full_name\n", sheet="S").problems] == [
        "The file has a header but no signatures."
    ]
    assert [str(p) for p in parse_sheet_csv(b"sheet,role\nS,x\n").problems] == [
        "The header has no “full_name” column."
    ]


def test_a_letter_sheet_by_entry_numbers_and_names(letter: Petition, moderator: User) -> None:
    vera = RegisterEntry.objects.get(full_name="Vera Orlova")
    data = (
        "sheet,full_name,municipality,register_entry,show_name\n"
        f"Session 1,Vera Orlova,,{vera.pk},yes\n"
        "Session 1,Ксения Линдстрем,Семёновский,,no\n"
        "Session 1,Anna Belova,Kolpino,,\n"
    ).encode()
    parsed = parse_sheet_csv(data)
    assert parsed.ok
    assert paper.check(letter, parsed.lines).ok
    signatures = paper.enter(letter, parsed.lines, moderator)
    assert [s.register_entry_key is not None for s in signatures] == [True, True, True]
    assert signatures[0].register_entry == vera  # shown: the entry stays on the row
    assert totals(letter) == (3, 0, 2, 3)
    again = paper.check(letter, parsed.lines)
    assert [p.line for p in again.problems] == [2, 3, 4]
    assert "entered before from sheet “Session 1”" in str(again.problems[0])


# ------------------------------------------------------------------ the log and its verifier


@pytest.mark.django_db(transaction=True)
def test_the_verifier_recounts_the_paper_figure(
    live_server: Any, petition: Petition, moderator: User, tmp_path: Path
) -> None:
    confirm_now(
        signing.sign(petition, signing.SignRequest(full_name="Online Olga", email="o@example.org"))
    )
    kept = paper.enter_one(petition, PaperLine("S1", "Paper Pavel", show_name=True), moderator)
    gone = paper.enter_one(petition, PaperLine("S1", "Paper Polina"), moderator)
    signing.invalidate(gone.pk, moderator, reason="Entered from paper by mistake")
    ledger.integrate()
    report = verify(
        HttpFetcher(live_server.url + "/"),
        signer().verifier_key(),
        tmp_path / "verify-state.json",
        retry_pause=0,
    )
    counted = next(p for p in report.petitions if p.slug == petition.slug)
    assert (counted.verified, counted.paper, counted.invalidated) == (2, 1, 1)
    assert counted.api_verified == 2
    assert "2 verified (log, of which 1 on paper)" in report.summary()
    assert report.as_dict()["petitions"][petition.slug]["paper"] == 1
    assert kept.verified_entry is not None
    line = log_line(0, bytes(LogEntry.objects.get(pk=kept.verified_entry.pk).data))
    assert line.paper and line.signer == {
        "name": "Paper Pavel",
        "role": "",
        "municipality": "",
        "region": "",
    }


def entry_with(**fields: Any) -> bytes:
    base = {"v": 1, "petition": "p", "text": "0" * 64, "time": "2026-01-01T00:00:00Z"}
    return entries.canonical_json({**base, **fields})


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"event": "signature.verified", "commitment": "a" * 64, "channel": "online"}, "channel"),
        ({"event": "signature.verified", "commitment": "a" * 64, "channel": ["paper"]}, "channel"),
        ({"event": "signature.withdrawn", "ref": 0, "channel": "paper"}, "carries no 'channel'"),
    ],
)
def test_the_log_refuses_a_channel_it_does_not_define(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(entries.EntryError, match=message):
        entries.decode(entry_with(**fields))
    paper_entry = entry_with(event="signature.verified", commitment="a" * 64, channel="paper")
    ok = entries.decode(paper_entry)
    assert ok.channel == "paper"
