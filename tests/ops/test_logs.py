"""Logs name no secret link and no person, in plain or JSON form."""

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import OperationalError
from django.test import Client

from undersigned.ops.logs import JsonFormatter, RedactSecrets

pytestmark = pytest.mark.django_db


@pytest.fixture
def console() -> Iterator[io.StringIO]:
    """What the configured console handler writes (settings.LOGGING), captured."""
    handler = next(
        h
        for h in logging.getLogger().handlers
        if isinstance(h, logging.StreamHandler)
        and any(isinstance(f, RedactSecrets) for f in h.filters)
    )
    captured = io.StringIO()
    previous = handler.setStream(captured)
    try:
        yield captured
    finally:
        handler.setStream(previous)


def test_an_outage_on_a_confirmation_link_logs_no_token(
    monkeypatch: pytest.MonkeyPatch, console: io.StringIO, settings: Any
) -> None:
    settings.DEBUG = False

    def down(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr("undersigned.signing.services.find_by_confirm_token", down)
    token = "Zq8secretTOKENvalue123"
    response = Client(raise_request_exception=False).get(f"/confirm/{token}/")
    assert response.status_code == 503
    logged = console.getvalue()
    assert "Service Unavailable: /confirm/[redacted]/" in logged  # the event is still there
    assert token not in logged


def test_the_json_format_is_one_object_per_line_with_secrets_redacted() -> None:
    args = ("Not Found", "/withdraw/abc/")
    record = logging.LogRecord("django.request", logging.ERROR, __file__, 1, "%s: %s", args, None)
    record.status_code = 404
    RedactSecrets().filter(record)
    line = JsonFormatter().format(record)
    entry = json.loads(line)
    assert entry["message"] == "Not Found: /withdraw/[redacted]/"
    assert entry["status"] == 404 and entry["level"] == "ERROR"
    assert "\n" not in line
