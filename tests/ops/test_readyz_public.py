"""/readyz for anyone says only ready or not; the detail is for monitoring with READYZ_TOKEN.

Queued mail moves when someone signs or asks for their data: a public count
of it, read before and after typing an address into /my-data/, told whether
that address had signed.
"""

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from undersigned.outbox.models import OutgoingMail
from undersigned.outbox.services import enqueue

pytestmark = pytest.mark.django_db

TOKEN = "a-monitoring-token-of-forty-characters-x"


@pytest.fixture(autouse=True)
def token(settings: Any) -> str:
    settings.READYZ_TOKEN = TOKEN
    return TOKEN


def test_anyone_sees_one_word_that_does_not_move_with_queued_mail(client: Client) -> None:
    before = client.get("/readyz")
    enqueue("confirm", "someone@example.org", "signing/mail/confirm.txt", {})
    after = client.get("/readyz")
    assert before.status_code == after.status_code == 200
    assert before.content == after.content == b"ok\n"
    assert before["Content-Type"].startswith("text/plain")
    assert "no-store" in after["Cache-Control"]


def test_anyone_sees_a_failure_as_503_and_one_word(client: Client, settings: Any) -> None:
    settings.READY_MAIL_LAG_SECONDS = 60
    enqueue("confirm", "someone@example.org", "signing/mail/confirm.txt", {})
    OutgoingMail.objects.update(created=timezone.now() - timedelta(minutes=5))
    response = client.get("/readyz")
    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
    assert response.content == b"fail\n"
    # The load balancer's probe still passes: the database is fine.
    probe = client.get("/readyz?check=database")
    assert probe.status_code == 200 and probe.content == b"ok\n"


def test_monitoring_reads_the_detail_with_the_token_in_a_header(client: Client) -> None:
    enqueue("confirm", "someone@example.org", "signing/mail/confirm.txt", {})
    response = client.get("/readyz", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["mail"]["unsent"] == 1
    assert set(body["checks"]) == {"database", "cache", "mail", "log", "witnesses"}


def test_monitoring_that_cannot_set_headers_gives_the_token_in_the_query(client: Client) -> None:
    response = client.get("/readyz", {"token": TOKEN, "check": "mail"})
    assert response.status_code == 200
    assert set(response.json()["checks"]) == {"mail"}


@pytest.mark.parametrize(
    "headers,query",
    [
        ({"Authorization": "Bearer not-the-token"}, {}),
        ({"Authorization": "Bearer "}, {}),
        ({}, {"token": TOKEN[:-1]}),
        ({}, {"token": ""}),
    ],
)
def test_a_wrong_token_is_refused_and_shows_nothing(
    client: Client, headers: dict[str, str], query: dict[str, str]
) -> None:
    enqueue("confirm", "someone@example.org", "signing/mail/confirm.txt", {})
    response = client.get("/readyz", query, headers=headers)
    assert response.status_code == 403
    assert b"unsent" not in response.content and b"checks" not in response.content


def test_without_a_configured_token_nobody_reads_the_detail(
    client: Client, settings: Any
) -> None:
    settings.READYZ_TOKEN = ""
    assert client.get("/readyz", headers={"Authorization": "Bearer "}).status_code == 403
    assert client.get("/readyz", {"token": ""}).status_code == 403
    assert client.get("/readyz").content == b"ok\n"


def test_probes_by_ip_get_the_detail_with_the_token_too(client: Client, settings: Any) -> None:
    """Monitoring polls each node by its address, before host checks and the HTTPS redirect."""
    settings.ALLOWED_HOSTS = ["petitions.example.org"]
    settings.SECURE_SSL_REDIRECT = True
    response = client.get(
        "/readyz", HTTP_HOST="10.0.0.5:8000", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
