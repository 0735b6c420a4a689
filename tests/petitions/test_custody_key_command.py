"""`undersigned custody-key`: a petition's own custody key, given as its public half only."""

import json
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from undersigned.audit.models import AuditEvent
from undersigned.core import custody
from undersigned.petitions.models import Petition

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command("custody-key", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_a_petition_takes_its_own_key_and_gives_it_back(
    petition: Petition, site_custody_key: str
) -> None:
    assert "the site's custody key" in run(petition.slug)
    _, recipient = custody.new_identity()
    assert recipient in run(petition.slug, recipient)
    petition.refresh_from_db()
    assert petition.custody_recipient == recipient and petition.custody_key() == recipient
    assert AuditEvent.objects.filter(action="petition.custody_key_set").count() == 1
    result = json.loads(run(petition.slug, "--site", "--json"))
    assert result["own"] is False and result["recipient"] != recipient


@pytest.mark.parametrize(
    "bad", ["age1notakey", "AGE-SECRET-KEY-1QQQQ", "ssh-ed25519 AAAAC3", "change-me"]
)
def test_a_private_key_or_garbage_is_refused_and_nothing_changes(
    petition: Petition, bad: str, settings: Any
) -> None:
    with pytest.raises(CommandError):
        run(petition.slug, bad)
    petition.refresh_from_db()
    assert petition.custody_recipient == ""
    assert not AuditEvent.objects.filter(action="petition.custody_key_set").exists()


def test_an_unknown_petition_is_refused() -> None:
    with pytest.raises(CommandError, match="no petition"):
        run("nope")
