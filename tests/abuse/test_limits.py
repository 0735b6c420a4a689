from typing import Any

import pytest
from django.test import Client

from undersigned.abuse.sources import is_disposable, network_of
from undersigned.outbox.models import OutgoingMail
from undersigned.petitions import services as petitions
from undersigned.petitions.models import Petition
from undersigned.signing.models import Signature

pytestmark = pytest.mark.django_db


def sign(client: Client, petition: Petition, email: str, ip: str = "198.51.100.7") -> Any:
    return client.post(
        f"/p/{petition.slug}/sign/",
        {"full_name": "Anna Belova", "email": email, "visibility": "show"},
        REMOTE_ADDR=ip,
    )


def test_throwaway_addresses_are_refused_and_nothing_changes(
    client: Client, petition: Petition
) -> None:
    for email in ("x@mailinator.com", "x@sub.mailinator.com"):
        response = sign(client, petition, email)
        assert response.status_code == 400
        assert "throwaway mail services are not accepted" in response.content.decode()
    assert not Signature.objects.exists() and not OutgoingMail.objects.exists()
    assert is_disposable("mailinator.com") and not is_disposable("example.org")


def test_one_client_is_limited_and_a_refused_attempt_changes_nothing(
    client: Client, petition: Petition, settings: Any
) -> None:
    settings.RATE_LIMIT_CLIENT = "3/600"
    for i in range(3):
        assert sign(client, petition, f"p{i}@example.org").status_code == 302
    refused = sign(client, petition, "p3@example.org")
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert "Nothing was recorded" in refused.content.decode()
    assert Signature.objects.count() == 3 and OutgoingMail.objects.count() == 3
    assert petitions.counts(petition) == (0, 0)
    # Another client is not affected.
    assert sign(client, petition, "q@example.org", ip="192.0.2.1").status_code == 302


def test_one_mail_domain_is_limited_per_petition(
    client: Client, petition: Petition, settings: Any
) -> None:
    settings.RATE_LIMIT_DOMAIN = "2/600"
    assert sign(client, petition, "a@wave.example", ip="192.0.2.1").status_code == 302
    assert sign(client, petition, "b@wave.example", ip="192.0.2.2").status_code == 302
    assert sign(client, petition, "c@wave.example", ip="192.0.2.3").status_code == 429
    assert sign(client, petition, "c@other.example", ip="192.0.2.3").status_code == 302


def test_a_petition_burst_is_limited(client: Client, petition: Petition, settings: Any) -> None:
    settings.RATE_LIMIT_PETITION = "2/60"
    assert sign(client, petition, "a@example.org", ip="192.0.2.1").status_code == 302
    assert sign(client, petition, "b@example.net", ip="192.0.2.2").status_code == 302
    response = sign(client, petition, "c@example.com", ip="192.0.2.3")
    assert response.status_code == 429
    assert "very many signatures" in response.content.decode()


def test_networks_are_slash_24_and_slash_48() -> None:
    assert network_of("203.0.113.77") == "203.0.113.0/24"
    assert network_of("2001:db8:abcd:12::1") == "2001:db8:abcd::/48"
    assert network_of("::ffff:203.0.113.5") == "203.0.113.0/24"
    assert network_of("not an address") == "unknown"


def test_behind_a_trusted_proxy_the_forwarded_address_counts(
    client: Client, petition: Petition, settings: Any
) -> None:
    settings.TRUSTED_PROXY_COUNT = 1
    settings.RATE_LIMIT_CLIENT = "1/600"
    headers = {"HTTP_X_FORWARDED_FOR": "spoofed, 203.0.113.9"}
    assert (
        client.post(
            f"/p/{petition.slug}/sign/",
            {"full_name": "A", "email": "a@example.org", "visibility": "show"},
            REMOTE_ADDR="10.0.0.1",
            **headers,
        ).status_code
        == 302
    )
    other = {"HTTP_X_FORWARDED_FOR": "203.0.113.10"}
    assert (
        client.post(
            f"/p/{petition.slug}/sign/",
            {"full_name": "B", "email": "b@example.org", "visibility": "show"},
            REMOTE_ADDR="10.0.0.1",
            **other,
        ).status_code
        == 302
    )
    again = client.post(
        f"/p/{petition.slug}/sign/",
        {"full_name": "C", "email": "c@example.org", "visibility": "show"},
        REMOTE_ADDR="10.0.0.1",
        **headers,
    )
    assert again.status_code == 429


@pytest.mark.parametrize("bad", ["abc", "10", "10/0", "/60", "-1/60"])
def test_a_bad_limit_setting_is_refused_at_start(bad: str) -> None:
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "undersigned", "check"],
        env={**__import__("os").environ, "RATE_LIMIT_CLIENT": bad},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "RATE_LIMIT_CLIENT must look like 10/600" in result.stderr
