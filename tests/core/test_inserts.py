"""core.inserts writes a new row and its dependents as Model.save() would, all or nothing.

The rows are read back raw from the database and compared column by column
with rows `save()` wrote from the same values, so a field added to a model
later is compared too. Sealed columns are compared by what they open to (each
sealing has its own nonce), and the creation times by being a moment apart.
"""

from datetime import timedelta
from typing import Any

import pytest
from django.db import IntegrityError, connection, models
from django.utils import timezone

from undersigned.abuse.models import SigningSource
from undersigned.core.fields import EncryptedTextField
from undersigned.core.inserts import Dependent, insert_if_new
from undersigned.outbox.models import OutgoingMail
from undersigned.petitions.models import Petition
from undersigned.signing.models import Signature


def raw_row(model: type[models.Model], pk: Any) -> dict[str, Any]:
    """The row as stored: column names to the database's own values, nothing opened."""
    table = connection.ops.quote_name(model._meta.db_table)
    column = connection.ops.quote_name(model._meta.pk.column)  # type: ignore[union-attr]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table} WHERE {column} = %s", [pk])  # noqa: S608
        names = [d[0] for d in cursor.description]
        values = cursor.fetchone()
    assert values is not None
    return dict(zip(names, values, strict=True))


def assert_same_row(model: type[models.Model], written: Any, saved: Any, skip: set[str]) -> None:
    ours, theirs = raw_row(model, written), raw_row(model, saved)
    assert ours.keys() == theirs.keys()
    for field in model._meta.concrete_fields:
        column = field.column
        if column in skip:
            continue
        if isinstance(field, EncryptedTextField):
            # Sealed, never the clear text, and opening to the same value.
            opened = [
                field.from_db_value(v, None, connection)  # type: ignore[arg-type]
                for v in (ours[column], theirs[column])
            ]
            assert opened[0] == opened[1], column
            if opened[0]:
                assert ours[column] != opened[0], f"{column} is stored in the clear"
        elif isinstance(field, models.DateTimeField) and ours[column] is not None:
            assert abs(_moment(ours[column]) - _moment(theirs[column])) < timedelta(minutes=1)
        else:
            assert ours[column] == theirs[column], column


def _moment(value: Any) -> Any:
    # SQLite hands timestamps back as text.
    if isinstance(value, str):
        from django.utils.dateparse import parse_datetime

        parsed = parse_datetime(value)
        assert parsed is not None
        return parsed.replace(tzinfo=None)
    return value.replace(tzinfo=None)


def signature(petition: Petition, email_hash: str) -> Signature:
    version = petition.shown_version()
    return Signature(
        petition=petition,
        text_version_id=version.pk,
        email_hash=email_hash,
        full_name="Zoya Insertova",
        email="zoya@example.org",
        show_name=False,
        role="resident",
        municipality="Kolpino",
        region="St Petersburg",
        evidence_url="https://example.org/zoya",
        language="ru",
        confirm_token_hash=email_hash[::-1],
        withdraw_token_hash=email_hash.upper(),
        confirm_token_expires=timezone.now() + timedelta(hours=72),
    )


def mail() -> OutgoingMail:
    return OutgoingMail(
        kind="confirm",
        to="zoya@example.org",
        subject="Подтвердите подпись",
        body="Ссылка: https://example.org/confirm/x/\n",
        next_attempt_at=timezone.now(),
    )


def source(petition: Petition) -> SigningSource:
    return SigningSource(
        petition_id=petition.pk,
        client_hash="c" * 32,
        network_hash="n" * 32,
        email_domain="example.org",
        created=timezone.now(),
    )


@pytest.mark.django_db
def test_the_rows_are_those_save_would_write(petition: Petition) -> None:
    saved = signature(petition, "a" * 64)
    saved.save()
    saved_mail = mail()
    saved_mail.save()
    saved_source = source(petition)
    saved_source.signature = saved
    saved_source.save()

    written, written_mail, written_source = signature(petition, "b" * 64), mail(), source(petition)
    assert insert_if_new(
        written,
        unique=("petition", "email_hash"),
        dependents=[Dependent(written_mail), Dependent(written_source, link="signature")],
    )

    assert written.pk is not None and written.pk != saved.pk
    assert written_mail.pk is not None and written_source.signature_id == written.pk
    assert_same_row(
        Signature,
        written.pk,
        saved.pk,
        skip={"id", "email_hash", "confirm_token_hash", "withdraw_token_hash"},
    )
    assert_same_row(OutgoingMail, written_mail.pk, saved_mail.pk, skip={"id"})
    assert_same_row(SigningSource, written.pk, saved.pk, skip={"signature_id"})
    # The instances are as save() leaves them: saved, and read back equal.
    fresh = Signature.objects.get(pk=written.pk)
    assert (fresh.full_name, fresh.email, fresh.state) == (
        "Zoya Insertova",
        "zoya@example.org",
        "unconfirmed",
    )
    assert not written._state.adding
    assert OutgoingMail.objects.get(pk=written_mail.pk).to == "zoya@example.org"


@pytest.mark.django_db
def test_an_existing_row_means_nothing_is_written(petition: Petition) -> None:
    first = signature(petition, "c" * 64)
    assert insert_if_new(first, unique=("petition", "email_hash"), dependents=[Dependent(mail())])
    again = signature(petition, "c" * 64)
    again.confirm_token_hash, again.withdraw_token_hash = "d" * 64, "e" * 64
    again_mail, again_source = mail(), source(petition)
    assert not insert_if_new(
        again,
        unique=("petition", "email_hash"),
        dependents=[Dependent(again_mail), Dependent(again_source, link="signature")],
    )
    assert again.pk is None and again_mail.pk is None
    assert Signature.objects.count() == 1
    assert OutgoingMail.objects.count() == 1
    assert not SigningSource.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_refused_dependent_leaves_nothing_behind(petition: Petition) -> None:
    # A source naming a petition that does not exist: the database refuses it,
    # and the signature and mail written with it must not remain.
    orphan = source(petition)
    orphan.petition_id = petition.pk + 10_000
    with pytest.raises(IntegrityError):
        insert_if_new(
            signature(petition, "f" * 64),
            unique=("petition", "email_hash"),
            dependents=[Dependent(mail()), Dependent(orphan, link="signature")],
        )
    assert not Signature.objects.exists()
    assert not OutgoingMail.objects.exists()
    assert not SigningSource.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_another_unique_column_refuses_as_save_does(petition: Petition) -> None:
    # Only the named unique fields mean "exists already"; any other clash is an error.
    first = signature(petition, "1" * 64)
    assert insert_if_new(first, unique=("petition", "email_hash"))
    clash = signature(petition, "2" * 64)
    clash.confirm_token_hash = first.confirm_token_hash
    with pytest.raises(IntegrityError):
        insert_if_new(clash, unique=("petition", "email_hash"), dependents=[Dependent(mail())])
    assert Signature.objects.count() == 1
    assert not OutgoingMail.objects.exists()
