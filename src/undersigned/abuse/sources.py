"""Who is asking, reduced to what abuse handling needs: keyed hashes, never an address."""

import ipaddress
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone

from undersigned.core.hashing import keyed_hash


@dataclass(frozen=True)
class Source:
    client_hash: str
    network_hash: str
    email_domain: str


def client_ip(request: HttpRequest) -> str:
    """The client's address; behind N trusted proxies, the Nth from the right in X-Forwarded-For."""
    hops = settings.TRUSTED_PROXY_COUNT
    if hops > 0:
        forwarded = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [h for h in forwarded if h]
        if len(forwarded) >= hops:
            return str(forwarded[-hops])
    return str(request.META.get("REMOTE_ADDR", ""))


def network_of(ip: str) -> str:
    """The /24 (IPv4) or /48 (IPv6) a client shares with its neighbours, as text."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return "unknown"
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


# Hex digits kept of a client's or network's keyed hash (SigningSource's columns).
HASH_LENGTH = 32


def daily_hash(value: str) -> str:
    # The key changes each day, so yesterday's hashes cannot be linked to today's.
    return keyed_hash(f"ip:{timezone.now():%Y-%m-%d}", value)[:HASH_LENGTH]


def email_domain(email: str) -> str:
    return email.rpartition("@")[2].strip().lower().rstrip(".")


def source_of(request: HttpRequest, email: str) -> Source:
    ip = client_ip(request)
    return Source(
        client_hash=daily_hash(ip),
        network_hash=daily_hash(network_of(ip)),
        email_domain=email_domain(email),
    )


def is_disposable(domain: str) -> bool:
    from disposable_email_domains import blocklist

    parts = domain.split(".")
    # A subdomain of a throwaway service is as throwaway as the service.
    return any(".".join(parts[i:]) in blocklist for i in range(len(parts) - 1))
