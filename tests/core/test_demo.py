"""`demo`: a ready-to-show site with an open letter, its register, a review queue and a petition."""

import base64
import re
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.test import Client

from undersigned.core import custody
from undersigned.petitions import services as petitions
from undersigned.petitions.models import Petition
from undersigned.registers.matching import rank_candidates
from undersigned.registers.models import RegisterEntry
from undersigned.signing.models import Signature

pytestmark = pytest.mark.django_db

LETTER = "municipal-deputies-letter"
PETITION = "kolpino-riverside-park"
State = Signature.State


def demo() -> str:
    out = StringIO()
    call_command("demo", stdout=out)
    return out.getvalue()


def everything() -> dict[str, int]:
    """How many rows each of our models holds."""
    return {
        model._meta.label: model._default_manager.count()
        for model in apps.get_models()
        if model._meta.app_label
        in ("auth", "registers", "petitions", "signing", "audit", "outbox")
    }


def test_demo_loads_the_letter_its_register_founders_and_queue(db: None) -> None:
    demo()
    letter = Petition.objects.get(slug=LETTER)
    assert letter.status == Petition.Status.OPEN and letter.is_open
    assert letter.kind == Petition.Kind.LETTER
    assert letter.audience == Petition.Audience.REGISTER and letter.register is not None
    entries = RegisterEntry.objects.filter(register=letter.register)
    assert 190 <= entries.count() <= 210

    founders = Signature.objects.filter(petition=letter, is_founder=True)
    assert founders.count() == 18
    assert set(founders.values_list("state", flat=True)) == {State.VERIFIED}
    assert all(f.register_entry_id is not None for f in founders)  # each is a register entry
    queue = Signature.objects.filter(petition=letter, state=State.NEEDS_REVIEW)
    assert queue.count() >= 5
    assert not queue.filter(is_founder=True).exists()
    # The headline numbers: the founders verified, the queue awaiting, nothing blended.
    assert petitions.counts(letter) == (18, queue.count())

    xenia = next(s for s in queue if s.full_name == "Xenia Lindstrom")
    ranked = rank_candidates(
        xenia.full_name,
        xenia.municipality,
        xenia.role,
        entries.values_list("pk", "full_name", "municipality", "role"),
    )
    assert ranked, "the review page would offer no candidate"
    assert entries.get(pk=ranked[0].key).full_name == "Kseniya Lindstrem"
    # Spelling variants are in the queue, not only exact register names.
    register_names = set(entries.values_list("full_name", flat=True))
    assert (
        sum(name not in register_names for name in queue.values_list("full_name", flat=True)) >= 3
    )

    public = Petition.objects.get(slug=PETITION)
    assert public.is_open and public.audience == Petition.Audience.ANYONE
    assert public.register is None
    verified, awaiting = petitions.counts(public)
    assert verified > 0 and awaiting == 0


def test_demo_pages_work_for_visitors(client: Client, db: None) -> None:
    demo()
    page = client.get(f"/p/{LETTER}/").content.decode()
    assert ">18</strong> verified" in page
    assert "Kseniya Lindstrem" in page  # the organiser signed first, by name
    assert "Xenia Lindstrom" not in page  # a claim in review is not listed
    response = client.post(
        f"/p/{PETITION}/sign/",
        {
            "full_name": "Visitor Person",
            "email": "visitor@example.org",
            "visibility": "show",
        },
    )
    assert response.status_code == 302
    visitor = Signature.objects.filter(petition__slug=PETITION).with_email("visitor@example.org")
    assert visitor.exists()


def test_running_the_demo_twice_adds_nothing(db: None) -> None:
    demo()
    before = everything()
    letter_counts = petitions.counts(Petition.objects.get(slug=LETTER))
    demo()
    assert everything() == before
    assert petitions.counts(Petition.objects.get(slug=LETTER)) == letter_counts


def test_the_demo_reconciles(db: None) -> None:
    demo()
    out = StringIO()
    call_command("reconcile", stdout=out)
    # The letter, the petition, the submission awaiting moderation and the rejected one.
    assert out.getvalue().strip() == "tallies match the rows for 4 petition(s)"


def test_the_demo_prints_its_addresses_and_a_working_moderator_login(db: None) -> None:
    out = demo()
    site = settings.SITE_URL
    assert f"{site}/p/{LETTER}/" in out
    assert f"{site}/p/{PETITION}/" in out
    assert f"{site}/moderation/" in out
    assert f"{site}/api/petitions" in out
    login = re.search(r"login: moderator / (\S+)", out)
    assert login, out
    moderator = Client()
    assert log_in(moderator, login.group(1)).status_code == 302
    # First visit: the moderator enrolls a second factor, then sees the queue.
    setup = moderator.get("/moderation/", follow=True)
    key = re.search(r"Key: <code[^>]*>([A-Z2-7]+)</code>", setup.content.decode())
    assert key, setup.content.decode()
    code = totp_now(key.group(1))
    queue = moderator.post(
        setup.redirect_chain[-1][0], {"code": code, "next": "/moderation/"}, follow=True
    )
    assert queue.status_code == 200
    assert "Xenia Lindstrom" in queue.content.decode()

    # Running it again gives new passwords; the old one stops working.
    again = re.search(r"login: moderator / (\S+)", demo())
    assert again and again.group(1) != login.group(1)
    assert log_in(Client(), login.group(1)).status_code == 200  # the form again, refused
    assert log_in(Client(), again.group(1)).status_code == 302


def log_in(client: Client, password: str) -> Any:
    return client.post("/accounts/login/", {"username": "moderator", "password": password})


def totp_now(base32_key: str) -> str:
    import base64

    from django_otp.oath import totp

    key = base64.b32decode(base32_key + "=" * (-len(base32_key) % 8))
    return f"{totp(key):06d}"


def test_the_demo_leaves_no_mail_to_send_to_its_fictional_people(db: None) -> None:
    demo()
    from undersigned.outbox.models import OutgoingMail

    assert not OutgoingMail.objects.exists()


def test_quiet_prints_only_working_logins(db: None) -> None:
    out = StringIO()
    call_command("demo", quiet=True, stdout=out)
    lines = out.getvalue().split()
    logins = dict(zip(lines[::2], lines[1::2], strict=True))
    assert sorted(logins) == ["admin", "moderator", "organiser"]
    assert "http" not in out.getvalue()
    assert log_in(Client(), logins["moderator"]).status_code == 302


def test_the_demo_makes_a_custody_key_whose_private_half_is_not_the_sites(
    db: None, settings: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    settings.CUSTODY_RECIPIENT = ""  # no site key: the demo makes its own
    monkeypatch.setenv("UNDERSIGNED_DEMO_CUSTODY_DIR", str(tmp_path / "moderators-laptop"))
    out = demo()
    letter = Petition.objects.get(slug=LETTER)
    assert letter.custody_recipient.startswith("age1")
    [key_file] = (tmp_path / "moderators-laptop").glob("*.age")
    assert Path(settings.DATA_DIR) not in key_file.parents
    assert str(key_file) in out and "never touches the server" in out
    passphrase = Path(f"{key_file}.passphrase").read_text().strip()
    identity = custody.unlock_identity(key_file.read_text(), passphrase)
    assert custody.recipient_of(identity) == letter.custody_recipient
    # The founders are decided: their addresses went to that key, and only there.
    founder = Signature.objects.filter(petition=letter, is_founder=True).first()
    assert founder is not None and founder.email == "" and founder.custody_sealed
    box = custody.open_sealed(identity, base64.b64decode(founder.custody_sealed.splitlines()[0]))
    assert "@" in box["email"] and box["petition"] == LETTER


def test_demo_fills_the_petitions_office(db: None) -> None:
    """A submission with its supporters awaits the moderator, and a duplicate of the
    riverside park petition is rejected, naming it: the queue and the rejected list
    show something on a new demo."""
    from undersigned.outbox.models import OutgoingMail
    from undersigned.petitions.submissions import supporters, supporters_needed

    demo()
    waiting = Petition.objects.get(slug="light-the-izhora-footpath")
    assert waiting.status == Petition.Status.MODERATION
    assert supporters(waiting) == supporters_needed()
    assert not Petition.objects.public().filter(pk=waiting.pk).exists()
    duplicate = Petition.objects.get(slug="save-the-riverside-park")
    assert duplicate.status == Petition.Status.REJECTED
    decision = duplicate.decisions.get()
    assert decision.duplicate_of is not None and decision.duplicate_of.slug == PETITION
    assert not OutgoingMail.objects.exists(), "no mail to the demo's fictional people"
    listed = Client().get("/petitions/?state=rejected").content.decode()
    assert "Save the Kolpino riverside park from private development" in listed
    assert "A duplicate" in listed
