"""Who is asking, reduced to what abuse handling needs: keyed hashes, never an address."""

import hashlib
import hmac
import ipaddress
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.cache import caches
from django.http import HttpRequest
from django.utils import timezone


@dataclass(frozen=True)
class Source:
    client_hash: str
    network_hash: str
    email_domain: str
    # How long the sign form took to fill, as a bucket (abuse/formtime.py).
    fill_time: str = ""


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


# This process's copy of today's key: (day, key).
_day_key: tuple[str, bytes] = ("", b"")


def day_key(day: str) -> bytes:
    """A random key for one day, shared by the processes through the cache, never stored.

    Not derived from a lasting secret: once the day is over the cache drops
    it, and a copy of the server (database, files, environment) taken later
    cannot link any stored hash to an address, however few addresses there are.
    """
    global _day_key
    if _day_key[0] == day:
        return _day_key[1]
    cache = caches["default"]
    name = f"source-day-key:{day}"
    now = timezone.now()
    tomorrow = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    cache.add(name, secrets.token_hex(32), timeout=int((tomorrow - now).total_seconds()) + 60)
    found = cache.get(name)
    if not isinstance(found, str):
        # The cache is unreachable or dropped the key at once: this process keeps its own.
        found = secrets.token_hex(32)
    _day_key = (day, bytes.fromhex(found))
    return _day_key[1]


def daily_hash(value: str) -> str:
    # The key changes each day, so yesterday's hashes cannot be linked to today's.
    key = day_key(f"{timezone.now():%Y-%m-%d}")
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()[:HASH_LENGTH]


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
