"""The barest Django that inserts a row: no middleware, no apps, one module.

Served by `bench/bare_django.py` to reproduce the issue's reference figures
(a bare Django view inserting one row, a trivial view) on this machine, so
the product's own reference views can be read against them. Never part of
the product.
"""

import os

from django.conf import settings
from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.utils import timezone

settings.configure(
    DEBUG=False,
    ALLOWED_HOSTS=["*"],
    ROOT_URLCONF=__name__,
    SECRET_KEY=os.environ["BARE_SECRET_KEY"],
    MIDDLEWARE=[],
    INSTALLED_APPS=[],
    USE_TZ=True,
    DATABASES={
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": os.environ["BARE_DATABASE"],
            "USER": "postgres",
            "HOST": "127.0.0.1",
            "CONN_MAX_AGE": 60,
        }
    },
)

import django  # noqa: E402

django.setup()


def trivial(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


def insert(request: HttpRequest) -> HttpResponse:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO bench_insert (created, body) VALUES (%s, %s)",
            [timezone.now(), request.POST.get("email", "")],
        )
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [path("bench/trivial", trivial), path("bench/insert", insert)]

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()
