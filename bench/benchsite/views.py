"""Reference points for the load benchmark, served by the same processes and middleware.

`trivial` is the ceiling for any page (the whole middleware stack, no
database); `insert` is the ceiling for any write (one row, one committed
transaction, behind the same CSRF check the sign form has).
"""

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
