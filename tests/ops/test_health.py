"""/healthz and /readyz: what load balancers and monitoring see."""

from datetime import timedelta
from typing import Any

import pytest
from django.db import OperationalError
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.utils import timezone

from undersigned.ledger import services as ledger
from undersigned.ledger.models import LogEntry
from undersigned.outbox.models import OutgoingMail
from undersigned.outbox.services import enqueue
from undersigned.petitions.models import Petition
from undersigned.signing import services as signing

pytestmark = pytest.mark.django_db


MONITORING_TOKEN = "monitoring-token-" + "x" * 32


@pytest.fixture
def monitoring(settings: Any) -> Client:
    """Monitoring: holds READYZ_TOKEN, so it reads the checks' detail."""
    settings.READYZ_TOKEN = MONITORING_TOKEN
    return Client(
        headers={"Authorization": f"Bearer {MONITORING_TOKEN}"}, raise_request_exception=False
    )


def sign(petition: Petition, n: int) -> None:
    for i in range(n):
        signing.sign(
            petition, signing.SignRequest(full_name=f"Person {i}", email=f"p{i}@example.org")
        )


def test_healthz_answers_without_touching_the_database(
    client: Client, django_assert_num_queries: Any
) -> None:
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_readyz_is_ready_on_a_fresh_site(monitoring: Client) -> None:
    response = monitoring.get("/readyz")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "cache", "mail", "log", "witnesses"}
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["mail"]["unsent"] == 0
    assert body["checks"]["log"]["last_checkpoint_size"] == 0


def test_mail_waiting_too_long_fails_readiness_but_not_the_database_probe(
    monitoring: Client, petition: Petition, settings: Any
) -> None:
    client = monitoring
    settings.READY_MAIL_LAG_SECONDS = 600
    sign(petition, 2)
    assert client.get("/readyz").json()["checks"]["mail"] == {
        "ok": True,
        "unsent": 2,
        "failing": 0,
        "oldest_unsent_age_seconds": pytest.approx(0, abs=5),
        "limit_seconds": 600,
    }
    # The worker has been down for 20 minutes.
    OutgoingMail.objects.update(created=timezone.now() - timedelta(minutes=20))
    response = client.get("/readyz")
    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
    body = response.json()
    assert body["status"] == "fail"
    assert body["checks"]["mail"]["ok"] is False
    assert body["checks"]["mail"]["oldest_unsent_age_seconds"] >= 1200
    assert body["checks"]["database"]["ok"] is True
    # Nothing personal in what monitoring stores.
    assert "example.org" not in response.content.decode()
    assert "Person" not in response.content.decode()
    # A load balancer asks only whether this node can serve.
    lb = Client().get("/readyz?check=database")
    assert lb.status_code == 200
    assert lb.content == b"ok\n"
    assert set(client.get("/readyz?check=database").json()["checks"]) == {"database"}


def test_unsigned_log_events_fail_readiness_until_the_worker_signs_them(
    monitoring: Client, petition: Petition, settings: Any
) -> None:
    client = monitoring
    settings.READY_LOG_LAG_SECONDS = 60
    # Publishing logged the petition's opening; no worker has run yet.
    fresh = client.get("/readyz")
    assert fresh.status_code == 200
    assert fresh.json()["checks"]["log"]["unsequenced"] == 1
    # Five minutes later the worker has still not run.
    LogEntry.objects.update(created=timezone.now() - timedelta(minutes=5))
    response = client.get("/readyz")
    assert response.status_code == 503
    log = response.json()["checks"]["log"]
    assert log["ok"] is False and log["oldest_unsigned_age_seconds"] >= 300
    # Sequenced but not yet signed still counts as unsigned.
    ledger.sequence()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["log"]["unsequenced"] == 0
    ledger.publish_checkpoint()
    response = client.get("/readyz")
    assert response.status_code == 200, response.content
    log = response.json()["checks"]["log"]
    assert log["oldest_unsigned_age_seconds"] is None
    assert log["last_checkpoint_size"] == 1
    assert log["last_checkpoint_age_seconds"] == pytest.approx(0, abs=5)


def test_an_unknown_check_is_a_clear_400(client: Client) -> None:
    response = client.get("/readyz?check=disk")
    assert response.status_code == 400
    assert "unknown check 'disk'" in response.json()["error"]


def test_a_failing_database_makes_readyz_503_naming_only_the_error_class(
    monitoring: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refused(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError('connection to server at "10.0.0.9" failed: password=hunter2')

    monkeypatch.setattr("undersigned.ops.health.connection.cursor", refused)
    response = monitoring.get("/readyz?check=database")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == {"ok": False, "error": "OperationalError"}
    assert "hunter2" not in response.content.decode()


def test_probes_by_ip_over_http_pass_host_checks_and_the_https_redirect(
    client: Client, settings: Any
) -> None:
    settings.ALLOWED_HOSTS = ["petitions.example.org"]
    settings.SECURE_SSL_REDIRECT = True
    # An ordinary page: wrong host refused, right host redirected to HTTPS.
    assert client.get("/", HTTP_HOST="10.0.0.5:8000").status_code == 400
    assert client.get("/", HTTP_HOST="petitions.example.org").status_code == 301
    for path in ("/healthz", "/readyz"):
        response = client.get(path, HTTP_HOST="10.0.0.5:8000")
        assert response.status_code == 200, (path, response.content)


def test_a_queued_mail_does_not_leak_into_readyz(monitoring: Client) -> None:
    enqueue("confirm", "secret.person@example.org", "signing/mail/confirm.txt", {})
    detail = monitoring.get("/readyz").content.decode()
    assert '"unsent": 1' in detail and "secret.person" not in detail


class FailsBeforeTheView:
    """Stands for the session or message middleware meeting a dead database."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        raise OperationalError("server closed the connection unexpectedly")


def test_a_database_error_outside_any_view_is_still_the_503_page(
    petition: Petition, settings: Any
) -> None:
    settings.DEBUG = False
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, f"{__name__}.FailsBeforeTheView"]
    response = Client(raise_request_exception=False).get(f"/p/{petition.slug}/")
    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
    page = response.content.decode()
    assert "Temporarily unavailable" in page
    assert "server closed" not in page and "Traceback" not in page


def test_other_errors_outside_a_view_stay_500(petition: Petition, settings: Any) -> None:
    settings.DEBUG = False

    settings.MIDDLEWARE = [*settings.MIDDLEWARE, f"{__name__}.Broken"]
    response = Client(raise_request_exception=False).get(f"/p/{petition.slug}/")
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.content.decode()
    assert not response.has_header("Retry-After")


class Broken(FailsBeforeTheView):
    def __call__(self, request: HttpRequest) -> HttpResponse:
        raise RuntimeError("not the database")


def test_redis_unreachable_is_the_outage_page_and_fails_readiness(
    petition: Petition, settings: Any, monitoring: Client
) -> None:
    from tests.conftest import free_port

    settings.DEBUG = False
    dead = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    settings.CACHES = {
        alias: {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": dead,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
        for alias in settings.CACHES
    }
    visitor = Client(raise_request_exception=False)
    response = visitor.post(
        f"/p/{petition.slug}/sign/",
        {"full_name": "Anna Belova", "email": "anna@example.org", "visibility": "show"},
    )
    assert response.status_code == 503, response.content[:300]
    assert int(response["Retry-After"]) > 0
    assert "Temporarily unavailable" in response.content.decode()
    ready = monitoring.get("/readyz?check=cache")
    assert ready.status_code == 503
    assert ready.json()["checks"]["cache"] == {"ok": False, "error": "ConnectionError"}
