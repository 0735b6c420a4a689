"""What a signature's source keeps: a day's random key never stored, a domain only for a while."""

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from tests.abuse.test_fraud_wave import sign_and_confirm
from undersigned.abuse import sources
from undersigned.abuse.models import SigningSource, TrendingSource
from undersigned.abuse.services import hash_old_domains, matching_sources
from undersigned.petitions.models import Petition

pytestmark = pytest.mark.django_db


def everything_stored() -> str:
    with connection.cursor() as cursor:
        dump = ""
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            dump += repr(cursor.fetchall())
    return dump


def test_the_day_key_is_random_and_kept_nowhere_but_the_cache(
    client: Client, petition: Petition, deliver: Any, settings: Any
) -> None:
    sign_and_confirm(client, petition, deliver, "a@example.org", "203.0.113.77")
    day = f"{timezone.now():%Y-%m-%d}"
    key = sources.day_key(day)
    # Not derived from the site's lasting hash key: a copy of the server taken
    # tomorrow holds nothing that links today's hashes to a network.
    from undersigned.core.hashing import keyed_hash

    assert sources.daily_hash("203.0.113.0/24") != keyed_hash(f"ip:{day}", "203.0.113.0/24")[:32]
    assert key.hex() not in everything_stored()
    assert not list(settings.DATA_DIR.rglob("*day*key*"))
    # A new day, a new key: the same network hashes differently.
    assert sources.day_key("2099-01-01") != key


def test_a_mail_domain_is_readable_only_for_the_trending_window(
    client: Client, petition: Petition, deliver: Any, settings: Any
) -> None:
    settings.SOURCE_DOMAIN_CLEAR_HOURS = 48
    sign_and_confirm(client, petition, deliver, "a@rare-employer.example", "203.0.113.77")
    assert hash_old_domains() == 0
    assert SigningSource.objects.get().email_domain == "rare-employer.example"
    assert hash_old_domains(timezone.now() + timedelta(hours=49)) == 1
    assert "rare-employer" not in everything_stored()
    # A bulk invalidation by that domain still finds the signature.
    window = (timezone.now() - timedelta(hours=1), timezone.now() + timedelta(hours=1))
    found = matching_sources(
        petition, TrendingSource.Kind.DOMAIN, "rare-employer.example", *window
    )
    assert found.count() == 1
    assert hash_old_domains(timezone.now() + timedelta(hours=50)) == 0  # once only
