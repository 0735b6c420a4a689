"""A fraud wave from one network: limited, detected, bulk-invalidated, undone, all audited."""

import re
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.utils import timezone

from tests.conftest import link_in, second_factor_login
from undersigned.abuse.models import BulkInvalidation, SigningSource, TrendingSource
from undersigned.abuse.services import detect_trending, purge_old_sources
from undersigned.audit.models import AuditEvent
from undersigned.ledger.models import LogEntry
from undersigned.ops.management.commands.worker import run_once
from undersigned.petitions import services as petitions
from undersigned.petitions.models import Petition
from undersigned.signing.models import Signature
from undersigned.tlog import entries

pytestmark = pytest.mark.django_db


@pytest.fixture
def moderator(petition: Petition) -> Client:
    user = User.objects.create_user("mod", "mod@example.org", "pw-for-tests-only")
    petition.moderators.add(user)
    return second_factor_login(Client(), user)


def sign_and_confirm(client: Client, petition: Petition, deliver: Any, email: str, ip: str) -> int:
    response = client.post(
        f"/p/{petition.slug}/sign/",
        {
            "full_name": f"Name {email.split('@')[0]}",
            "email": email,
            "visibility": "show",
        },
        REMOTE_ADDR=ip,
    )
    if response.status_code != 302:
        return response.status_code
    client.post(link_in(deliver().last_to(email), "confirm"))
    return 302


def test_fraud_wave(
    client: Client, petition: Petition, moderator: Client, deliver: Any, settings: Any
) -> None:
    settings.RATE_LIMIT_CLIENT = "100/600"
    settings.RATE_LIMIT_DOMAIN = "100/600"
    settings.TRENDING_NETWORK_THRESHOLD = 10
    settings.TRENDING_DOMAIN_THRESHOLD = 1000
    # Honest signers from all over.
    for i in range(5):
        assert (
            sign_and_confirm(client, petition, deliver, f"h{i}@example.org", f"192.0.2.{i + 1}")
            == 302
        )
    # A burst from one /24, many addresses: the per-client limit catches a single
    # host, and the wave as a whole is what detection is for.
    settings.RATE_LIMIT_CLIENT = "3/600"
    outcomes = [
        sign_and_confirm(
            client, petition, deliver, f"bot{i}@wave.example", f"203.0.113.{i % 6 + 10}"
        )
        for i in range(24)
    ]
    assert outcomes.count(429) == 6  # each of 6 hosts got 3 through, then was refused
    wave = 18
    assert petitions.counts(petition) == (5 + wave, 0)

    assert detect_trending() == 1
    trend = TrendingSource.objects.get()
    assert trend.kind == "network" and trend.count == wave
    page = moderator.get("/moderation/sources/").content.decode()
    assert f"network #{trend.value[:8]}" in page and "203.0.113" not in page

    response = moderator.post(
        "/moderation/sources/invalidate/",
        {
            "petition": petition.slug,
            "kind": "network",
            "value": trend.value,
            "start": trend.window_start.isoformat(),
            "end": trend.window_end.isoformat(),
            "reason": "Bot wave from one network",
        },
    )
    assert response.status_code == 302
    assert petitions.counts(petition) == (5, 0)
    action = BulkInvalidation.objects.get()
    assert len(action.changed) == wave
    assert Signature.objects.filter(state="invalidated").count() == wave
    assert (
        AuditEvent.objects.filter(action="signatures.bulk_invalidated", actor_name="mod").count()
        == 1
    )
    run_once()
    logged = [
        entries.decode(bytes(d))
        for d in LogEntry.objects.order_by("index").values_list("data", flat=True)
    ]
    assert sum(e.event == "signature.invalidated" for e in logged) == wave
    assert all(
        e.reason == "Bot wave from one network"
        for e in logged
        if e.event == "signature.invalidated"
    )
    data = LogEntry.objects.order_by("index").values_list("index", "data")
    assert entries.count((i, bytes(d)) for i, d in data)[petition.slug].verified == 5

    # The moderator was wrong: undo brings every signature back, logged anew.
    moderator.post(f"/moderation/bulk/{action.pk}/undo/")
    assert petitions.counts(petition) == (5 + wave, 0)
    action.refresh_from_db()
    assert action.reverted_at is not None
    assert AuditEvent.objects.filter(action="signatures.bulk_reinstated").count() == 1
    run_once()
    data = LogEntry.objects.order_by("index").values_list("index", "data")
    assert entries.count((i, bytes(d)) for i, d in data)[petition.slug].verified == 5 + wave
    from django.core.management import call_command

    call_command("reconcile")
    # Undoing twice is refused.
    moderator.post(f"/moderation/bulk/{action.pk}/undo/")
    assert petitions.counts(petition) == (5 + wave, 0)


def test_no_ip_address_is_stored_anywhere(client: Client, petition: Petition, deliver: Any) -> None:
    sign_and_confirm(client, petition, deliver, "a@example.org", "203.0.113.77")
    sign_and_confirm(client, petition, deliver, "b@example.org", "2001:db8:abcd:12::1")
    run_once()
    tables = connection.introspection.table_names()
    with connection.cursor() as cursor:
        dump = ""
        for table in tables:
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            dump += repr(cursor.fetchall())
    for needle in ("203.0.113", "2001:db8", "203-0-113"):
        assert needle not in dump
    assert re.search(r"[0-9a-f]{32}", SigningSource.objects.first().network_hash)  # type: ignore[union-attr]


def test_sources_are_forgotten_after_the_retention_period(
    client: Client, petition: Petition, deliver: Any, settings: Any
) -> None:
    settings.ABUSE_RETENTION_DAYS = 30
    sign_and_confirm(client, petition, deliver, "a@example.org", "203.0.113.77")
    assert purge_old_sources() == 0
    assert purge_old_sources(now=timezone.now() + timedelta(days=31)) == 1
    assert not SigningSource.objects.exists()
    assert petitions.counts(petition) == (1, 0)


def test_only_moderators_of_the_petition_can_bulk_invalidate(
    client: Client, petition: Petition, deliver: Any
) -> None:
    sign_and_confirm(client, petition, deliver, "a@example.org", "203.0.113.77")
    source = SigningSource.objects.get()
    stranger = second_factor_login(
        Client(), User.objects.create_user("s", "s@example.org", "pw-for-tests")
    )
    response = stranger.post(
        "/moderation/sources/invalidate/",
        {
            "petition": petition.slug,
            "kind": "network",
            "value": source.network_hash,
            "start": (timezone.now() - timedelta(hours=1)).isoformat(),
            "end": (timezone.now() + timedelta(hours=1)).isoformat(),
            "reason": "x",
        },
    )
    assert response.status_code == 404
    assert petitions.counts(petition) == (1, 0)
