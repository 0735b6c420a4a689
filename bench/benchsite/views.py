"""Reference points for the load benchmark, served by the same processes and middleware.

`trivial` is the ceiling for any page (the whole middleware stack, no
database); `insert` is the ceiling for any write (one row, one committed
transaction, behind the same CSRF check the sign form has).
"""

from typing import Any

from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

TABLE = "bench_insert"


def create_table() -> None:
    """The bare insert's table: made by the benchmark, unknown to the product's migrations."""
    serial = "BIGSERIAL" if connection.vendor == "postgresql" else "INTEGER"
    created = "TIMESTAMPTZ" if connection.vendor == "postgresql" else "TEXT"
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {TABLE} "
            f"(id {serial} PRIMARY KEY, created {created} NOT NULL, body TEXT NOT NULL)"
        )


@require_GET
def trivial(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


@require_POST
def insert(request: HttpRequest) -> HttpResponse:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {TABLE} (created, body) VALUES (%s, %s)",  # noqa: S608
            [timezone.now(), request.POST.get("email", "")],
        )
    return HttpResponse("ok", content_type="text/plain")


# ------------------------------------------------------------------ sign floor


def _insert_sql(model: Any) -> tuple[str, list[Any]]:
    fields = [f for f in model._meta.concrete_fields if not f.primary_key or not f.auto_created]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    # Table and column names from the models' own metadata; values are parameters.
    return f"INSERT INTO {model._meta.db_table} ({columns}) VALUES ({marks})", fields  # noqa: S608


@require_POST
def sign_floor(request: HttpRequest, slug: str) -> HttpResponse:
    """What the sign POST does that the product must keep, without Django's form, ORM
    statement building or rate limits: the floor the sign POST could reach by writing
    its statements by hand (docs/performance.md, "why the sign targets …").

    The same sealing (the model fields' own), keyed hash, tokens, the same rendered
    confirmation mail, and the same six statements in one transaction: BEGIN, the
    lookup of an earlier signature, three INSERTs, COMMIT.
    """
    from datetime import timedelta

    from django.conf import settings
    from django.template.loader import render_to_string
    from django.utils import translation

    from undersigned.abuse.models import SigningSource
    from undersigned.abuse.sources import source_of
    from undersigned.core.hashing import keyed_hash
    from undersigned.outbox.models import OutgoingMail
    from undersigned.petitions.pages import cached_public_petition, cached_signed_text
    from undersigned.registers.emails import normalise_email
    from undersigned.signing.models import Signature
    from undersigned.signing.tokens import new_token

    petition = cached_public_petition(slug)
    version = cached_signed_text(petition)
    address = normalise_email(request.POST.get("email", ""))
    full_name = request.POST.get("full_name", "")
    source = source_of(request, address)
    digest = keyed_hash("email", address)
    confirm_raw, confirm_hash = new_token()
    withdraw_raw, withdraw_hash = new_token()
    now = timezone.now()
    signature = Signature(
        petition=petition,
        email_hash=digest,
        text_version_id=version.pk,
        full_name=full_name,
        email=address,
        show_name=request.POST.get("visibility") == "show",
        language=translation.get_language() or "en",
        confirm_token_hash=confirm_hash,
        withdraw_token_hash=withdraw_hash,
        confirm_token_expires=now + timedelta(hours=settings.CONFIRMATION_TTL_HOURS),
    )
    with translation.override(signature.language):
        text = render_to_string(
            "signing/mail/confirm.txt",
            {
                "site_name": settings.SITE_NAME,
                "signature": signature,
                "petition": petition,
                "title": version.title,
                "confirm_url": f"{settings.SITE_URL}/confirm/{confirm_raw}/",
                "withdraw_url": f"{settings.SITE_URL}/withdraw/{withdraw_raw}/",
                "ttl_hours": settings.CONFIRMATION_TTL_HOURS,
                "founder": False,
            },
        )
    subject, _, body = text.strip().partition("\n")
    mail = OutgoingMail(kind="confirm", to=address, subject=subject, body=body, next_attempt_at=now)
    sql, fields = _insert_sql(Signature)
    earlier = "SELECT id FROM signing_signature WHERE petition_id = %s AND email_hash = %s LIMIT 1"
    if connection.features.has_select_for_update:
        earlier += " FOR UPDATE"
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(earlier, [petition.pk, digest])
        if cursor.fetchone() is not None:
            return HttpResponse("exists", content_type="text/plain", status=409)
        signature.created = now
        cursor.execute(
            sql + " RETURNING id",
            [f.get_db_prep_save(getattr(signature, f.attname), connection) for f in fields],
        )
        (signature_id,) = cursor.fetchone()
        sql, fields = _insert_sql(OutgoingMail)
        mail.created = now
        cursor.execute(
            sql, [f.get_db_prep_save(getattr(mail, f.attname), connection) for f in fields]
        )
        record = SigningSource(
            signature_id=signature_id,
            petition_id=petition.pk,
            client_hash=source.client_hash,
            network_hash=source.network_hash,
            email_domain=source.email_domain,
            created=now,
        )
        sql, fields = _insert_sql(SigningSource)
        cursor.execute(
            sql, [f.get_db_prep_save(getattr(record, f.attname), connection) for f in fields]
        )
    return HttpResponse(status=302, headers={"Location": f"/p/{slug}/signed/"})
