"""Contact details are sealed at rest, and keys rotate without downtime."""

from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from undersigned.core import crypto
from undersigned.outbox.models import OutgoingMail
from undersigned.petitions.models import Petition
from undersigned.registers.models import Register, RegisterEntry
from undersigned.signing import services as signing
from undersigned.signing.models import Signature

pytestmark = pytest.mark.django_db


@pytest.fixture
def fresh_keys(settings: Any) -> Any:
    def use(*keys: str) -> None:
        settings.UNDERSIGNED_DATA_KEYS = ",".join(keys)
        crypto.keys.cache_clear()

    yield use
    crypto.keys.cache_clear()


def raw_rows(table: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
        return repr(cursor.fetchall())


def test_names_addresses_and_mail_are_sealed_in_the_database(
    petition: Petition, register: Register
) -> None:
    signing.sign(
        petition,
        signing.SignRequest(
            full_name="Zinaida Hidden", show_name=False, email="zinaida@example.org"
        ),
    )
    dump = raw_rows("signing_signature") + raw_rows("outbox_outgoingmail")
    dump += raw_rows("registers_registerentry")
    for secret in ("Zinaida", "zinaida@example.org", "lindstrem@council.example.org"):
        assert secret not in dump
    assert Signature.objects.get().full_name == "Zinaida Hidden"
    assert OutgoingMail.objects.get().to == "zinaida@example.org"
    assert RegisterEntry.objects.get(full_name="Kseniya Lindstrem").official_email == (
        "lindstrem@council.example.org"
    )


def test_a_sealed_value_cannot_be_moved_to_another_column() -> None:
    sealed = crypto.encrypt("anna@example.org", "signature.email")
    assert crypto.decrypt(sealed, "signature.email") == "anna@example.org"
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(sealed, "outbox.to")


def test_rotation_reseals_everything_under_the_new_key(
    petition: Petition, fresh_keys: Any, capsys: Any
) -> None:
    old, new = crypto.new_key_b64(), crypto.new_key_b64()
    fresh_keys(old)
    for i in range(3):
        signing.sign(
            petition, signing.SignRequest(full_name=f"Person {i}", email=f"p{i}@example.org")
        )
    fresh_keys(new, old)  # the new key first, the old one still readable
    with pytest.raises(CommandError):
        call_command("rotate-keys", "--check")
    assert Signature.objects.filter(full_name__isnull=False).count() == 3  # still readable
    call_command("rotate-keys")
    call_command("rotate-keys", "--check")
    fresh_keys(new)  # the old key is gone
    assert sorted(s.full_name for s in Signature.objects.all()) == [
        "Person 0",
        "Person 1",
        "Person 2",
    ]
    assert {m.to for m in OutgoingMail.objects.all()} == {
        "p0@example.org",
        "p1@example.org",
        "p2@example.org",
    }


def test_values_written_before_encryption_are_sealed_by_rotation(petition: Petition) -> None:
    signing.sign(petition, signing.SignRequest(full_name="Old Row", email="old@example.org"))
    with connection.cursor() as cursor:
        cursor.execute("UPDATE signing_signature SET full_name = %s", ["Old Row"])
    assert Signature.objects.get().full_name == "Old Row"
    call_command("rotate-keys")
    assert "Old Row" not in raw_rows("signing_signature")
    assert Signature.objects.get().full_name == "Old Row"


def test_a_missing_key_is_a_clear_error(petition: Petition, fresh_keys: Any) -> None:
    fresh_keys(crypto.new_key_b64())
    signing.sign(petition, signing.SignRequest(full_name="A", email="a@example.org"))
    fresh_keys(crypto.new_key_b64())
    with pytest.raises(crypto.DecryptionError, match="no configured key"):
        Signature.objects.get()
