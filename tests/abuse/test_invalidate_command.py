"""`undersigned invalidate`: the moderators' bulk invalidation from the command line."""

import io
import json
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils import timezone

from tests.conftest import confirm_now, second_factor_login
from tests.recording import record_progress
from undersigned.abuse.models import BulkInvalidation, SigningSource
from undersigned.abuse.sources import Source
from undersigned.audit.models import AuditEvent
from undersigned.ledger import services as ledger
from undersigned.ledger.models import LogEntry
from undersigned.petitions import services as petitions
from undersigned.petitions.models import Petition
from undersigned.signing import services as signing
from undersigned.signing.models import Signature
from undersigned.tlog import entries

pytestmark = pytest.mark.django_db

COMMAND = "undersigned.abuse.management.commands.invalidate"
WAVE_NET = "ab" * 16
HONEST_NET = "cd" * 16


@pytest.fixture
def moderator(petition: Petition) -> User:
    user = User.objects.create_user("mod", "mod@example.org", "pw-for-tests-only")
    petition.moderators.add(user)
    return user


def sign(petition: Petition, email: str, network: str, *, confirm: bool = True) -> Signature:
    source = Source(client_hash="0" * 32, network_hash=network, email_domain=email.split("@")[1])
    # A name holds no address (core/typed_text.py): the address's local part.
    name = f"Name {email.split('@')[0]}"
    signature = signing.sign(
        petition, signing.SignRequest(full_name=name, email=email), source=source
    )
    return confirm_now(signature) if confirm else signature


@pytest.fixture
def wave(petition: Petition) -> list[Signature]:
    """Three honest signers and a wave of five from one network and mail domain."""
    for i in range(3):
        sign(petition, f"h{i}@example.org", HONEST_NET)
    found = [sign(petition, f"bot{i}@wave.example", WAVE_NET) for i in range(4)]
    found.append(sign(petition, "bot4@wave.example", WAVE_NET, confirm=False))
    ledger.integrate()
    return found


def window() -> list[str]:
    now = timezone.now()
    return [
        "--start",
        (now - timedelta(hours=1)).isoformat(),
        "--end",
        (now + timedelta(hours=1)).isoformat(),
    ]


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("invalidate", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def states(petition: Petition) -> dict[str, int]:
    found: dict[str, int] = {}
    for state in Signature.objects.filter(petition=petition).values_list("state", flat=True):
        found[state] = found.get(state, 0) + 1
    return found


def by_domain(petition: Petition, *extra: str) -> tuple[str, ...]:
    return (petition.slug, "--domain", "wave.example", *window(), *extra)


def test_invalidate_by_domain(petition: Petition, moderator: User, wave: list[Signature]) -> None:
    assert petitions.counts(petition) == (7, 0)
    out, err = run(*by_domain(petition, "--reason", "Bot wave", "--user", "mod", "--yes"))
    action = BulkInvalidation.objects.get()
    assert out.splitlines() == [
        f"5 of 5 matching signature(s) of {petition.slug} from domain wave.example "
        f"from {action.window_start.isoformat()} to {action.window_end.isoformat()} "
        "can be invalidated",
        f"invalidated 5 signature(s) of {petition.slug}: bulk invalidation {action.pk} by mod; "
        f"to undo: undersigned invalidate --revert {action.pk} --user mod",
    ]
    assert err == ""  # not a terminal: no progress
    assert petitions.counts(petition) == (3, 0)
    assert states(petition) == {"verified": 3, "invalidated": 5}
    assert action.actor == moderator and action.reason == "Bot wave"
    assert sorted(i for i, _ in action.changed) == sorted(s.pk for s in wave)
    event = AuditEvent.objects.get(action="signatures.bulk_invalidated")
    assert event.actor_name == "mod" and event.reason == "Bot wave"
    assert event.details == {"bulk": action.pk, "count": 5, "source_kind": "domain"}
    # Into the log as the page does it: one removal per verified signature, with the reason.
    ledger.integrate()
    logged = [
        entries.decode(bytes(d))
        for d in LogEntry.objects.order_by("index").values_list("data", flat=True)
    ]
    removals = [e for e in logged if e.event == "signature.invalidated"]
    assert len(removals) == 4 and all(e.reason == "Bot wave" for e in removals)
    call_command("reconcile", stdout=StringIO())
    call_command("check-log", stdout=StringIO())


def test_json_by_network_prefix_as_the_page_shows_it(
    petition: Petition, moderator: User, wave: list[Signature]
) -> None:
    args = (petition.slug, "--network", WAVE_NET[:8], *window())
    out, _ = run(*args, "--reason", "Bot wave", "--user", "mod", "--yes", "--json")
    result = json.loads(out)
    action = BulkInvalidation.objects.get()
    assert result == {
        "ok": True,
        "action": action.pk,
        "petition": petition.slug,
        "kind": "network",
        "value": WAVE_NET,
        "start": action.window_start.isoformat(),
        "end": action.window_end.isoformat(),
        "matched": 5,
        "reason": "Bot wave",
        "actor": "mod",
        "count": 5,
        "signatures": [i for i, _ in action.changed],
    }
    assert sorted(result["signatures"]) == sorted(s.pk for s in wave)


def test_the_same_as_the_page(petition: Petition, moderator: User, wave: list[Signature]) -> None:
    """The page on one half of a wave and the command on the other leave the same traces."""
    start, end = timezone.now() - timedelta(hours=1), timezone.now() + timedelta(hours=1)
    page = second_factor_login(Client(), moderator)
    response = page.post(
        "/moderation/sources/invalidate/",
        {
            "petition": petition.slug,
            "kind": "network",
            "value": HONEST_NET,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "reason": "Same reason",
        },
    )
    assert response.status_code == 302
    run(
        *(petition.slug, "--network", WAVE_NET, "--start", start.isoformat()),
        *("--end", end.isoformat(), "--reason", "Same reason", "--user", "mod", "--yes"),
    )
    from_page, from_command = BulkInvalidation.objects.order_by("pk")
    for field in ("petition_id", "kind", "window_start", "window_end", "reason", "actor_id"):
        assert getattr(from_page, field) == getattr(from_command, field), field
    page_event, command_event = AuditEvent.objects.filter(
        action="signatures.bulk_invalidated"
    ).order_by("pk")
    assert (page_event.actor_name, page_event.reason) == (
        command_event.actor_name,
        command_event.reason,
    )
    assert set(page_event.details) == set(command_event.details)
    assert petitions.counts(petition) == (0, 0)
    call_command("reconcile", stdout=StringIO())


def test_dry_run_changes_nothing(
    petition: Petition, moderator: User, wave: list[Signature]
) -> None:
    out, _ = run(*by_domain(petition, "--reason", "x", "--user", "mod", "--dry-run", "--json"))
    result = json.loads(out)
    assert result["ok"] is True and result["dry_run"] is True
    assert result["count"] == 5 and sorted(result["signatures"]) == sorted(s.pk for s in wave)
    assert not BulkInvalidation.objects.exists()
    assert petitions.counts(petition) == (7, 0)


def test_without_yes_and_no_terminal_nothing_is_done(
    petition: Petition, moderator: User, wave: list[Signature]
) -> None:
    with pytest.raises(CommandError, match="Add --yes"):
        run(*by_domain(petition, "--reason", "Bot wave", "--user", "mod"))
    assert not BulkInvalidation.objects.exists()
    assert petitions.counts(petition) == (7, 0)


class Keyboard(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("answer", "done"), [("y\n", True), ("yes\n", True), ("\n", False)])
def test_on_a_terminal_it_asks(
    petition: Petition,
    moderator: User,
    wave: list[Signature],
    monkeypatch: pytest.MonkeyPatch,
    answer: str,
    done: bool,
) -> None:
    monkeypatch.setattr("sys.stdin", Keyboard(answer))
    args = by_domain(petition, "--reason", "Bot wave", "--user", "mod")
    if done:
        _, err = run(*args)
        assert err == f"Invalidate 5 signature(s) of {petition.slug}? [y/N] "
        assert petitions.counts(petition) == (3, 0)
    else:
        with pytest.raises(CommandError, match="not confirmed"):
            run(*args)
        assert petitions.counts(petition) == (7, 0)


def test_revert(petition: Petition, moderator: User, wave: list[Signature]) -> None:
    run(*by_domain(petition, "--reason", "Bot wave", "--user", "mod", "--yes"))
    action = BulkInvalidation.objects.get()
    out, _ = run("--revert", str(action.pk), "--user", "mod", "--yes", "--json")
    result = json.loads(out)
    assert result == {
        "ok": True,
        "action": action.pk,
        "reverted": True,
        "petition": petition.slug,
        "actor": "mod",
        "count": 5,
        "signatures": [i for i, _ in action.changed],
        "skipped": [],
    }
    assert petitions.counts(petition) == (7, 0)
    assert states(petition) == {"verified": 7, "unconfirmed": 1}
    action.refresh_from_db()
    assert action.reverted_at is not None and action.reverted_by == moderator
    event = AuditEvent.objects.get(action="signatures.bulk_reinstated")
    assert event.actor_name == "mod" and event.details["count"] == 5
    ledger.integrate()
    call_command("reconcile", stdout=StringIO())
    call_command("check-log", stdout=StringIO())
    # Twice is refused, and changes nothing.
    with pytest.raises(CommandError, match="already undone"):
        run("--revert", str(action.pk), "--user", "mod", "--yes")
    assert AuditEvent.objects.filter(action="signatures.bulk_reinstated").count() == 1


def test_revert_text(petition: Petition, moderator: User, wave: list[Signature]) -> None:
    run(*by_domain(petition, "--reason", "Bot wave", "--user", "mod", "--yes"))
    action = BulkInvalidation.objects.get()
    out, _ = run("--revert", str(action.pk), "--user", "mod", "--yes")
    assert out.splitlines()[-1] == (
        f"undone bulk invalidation {action.pk}: 5 signature(s) of {petition.slug} "
        "are back as they were"
    )


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("no-such", "--domain", "wave.example", "--reason", "r"), "no petition with slug"),
        (("{slug}", "--domain", "wave.example", "--reason", "r", "--user", "ghost"), "no user"),
        (("{slug}", "--domain", "quiet.example", "--reason", "r"), "nothing to invalidate"),
        (("{slug}", "--domain", "wave.example"), "--reason: This field is required"),
        (("{slug}", "--domain", "wave.example", "--reason", "a\x07b"), "--reason: "),
        (("{slug}", "--reason", "r"), "give the source"),
        (("--domain", "wave.example", "--reason", "r"), "give the PETITION"),
        (("{slug}", "--network", "abc", "--reason", "r"), "at least its first 8"),
    ],
)
def test_bad_input_changes_nothing(
    petition: Petition, moderator: User, wave: list[Signature], args: tuple[str, ...], error: str
) -> None:
    args = tuple(a.replace("{slug}", petition.slug) for a in args)
    if "--user" not in args:
        args = (*args, "--user", "mod")
    out = StringIO()
    with pytest.raises(CommandError, match=error):
        call_command("invalidate", *args, *window(), "--yes", "--json", stdout=out)
    assert json.loads(out.getvalue())["ok"] is False
    assert not BulkInvalidation.objects.exists()
    assert petitions.counts(petition) == (7, 0)


@pytest.mark.parametrize(
    ("start", "end", "error"),
    [
        ("yesterday", "2030-01-01", "--start: Enter a valid date/time"),
        ("2030-01-02", "2030-01-01T10:00", "--end must be after --start"),
        ("2030-01-01", "", "--end: This field is required"),
    ],
)
def test_bad_windows(
    petition: Petition, moderator: User, wave: list[Signature], start: str, end: str, error: str
) -> None:
    args = (petition.slug, "--domain", "wave.example", "--start", start, "--end", end)
    with pytest.raises(CommandError, match=error):
        run(*args, "--reason", "r", "--user", "mod", "--yes")
    assert not BulkInvalidation.objects.exists()


def test_only_moderators_of_the_petition(
    petition: Petition, wave: list[Signature], moderator: User
) -> None:
    User.objects.create_user("stranger", "s@example.org", "pw-for-tests-only")
    with pytest.raises(CommandError, match="stranger does not moderate"):
        run(*by_domain(petition, "--reason", "r", "--user", "stranger", "--yes"))
    run(*by_domain(petition, "--reason", "r", "--user", "mod", "--yes"))
    action = BulkInvalidation.objects.get()
    with pytest.raises(CommandError, match="stranger does not moderate"):
        run("--revert", str(action.pk), "--user", "stranger", "--yes")
    with pytest.raises(CommandError, match="no bulk invalidation 999"):
        run("--revert", "999", "--user", "mod", "--yes")
    with pytest.raises(CommandError, match="--revert takes only"):
        run("--revert", str(action.pk), petition.slug, "--user", "mod", "--yes")
    assert BulkInvalidation.objects.get().reverted_at is None


def test_an_inactive_user_cannot_act(petition: Petition, moderator: User, wave: Any) -> None:
    moderator.is_active = False
    moderator.save()
    with pytest.raises(CommandError, match="not active"):
        run(*by_domain(petition, "--reason", "r", "--user", "mod", "--yes"))


def test_an_ambiguous_network_prefix(petition: Petition, moderator: User, wave: Any) -> None:
    sign(petition, "x@other.example", WAVE_NET[:8] + "ef" * 12)
    with pytest.raises(CommandError, match="2 networks"):
        run(petition.slug, "--network", WAVE_NET[:8], *window(), "--reason", "r", "--user", "mod")
    assert SigningSource.objects.count() == 9


def test_progress_is_reported(
    petition: Petition, moderator: User, wave: list[Signature], monkeypatch: pytest.MonkeyPatch
) -> None:
    recorded = record_progress(monkeypatch, COMMAND)
    run(*by_domain(petition, "--reason", "Bot wave", "--user", "mod", "--yes"))
    assert recorded.enabled == [None]  # a bar if stderr is a terminal
    assert recorded.last("invalidating signatures") == (5, 5)
    action = BulkInvalidation.objects.get()
    run("--revert", str(action.pk), "--user", "mod", "--yes", "--json")
    assert recorded.enabled[-1] is False
    assert recorded.last("reinstating signatures") == (5, 5)
