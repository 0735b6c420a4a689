"""Keyed hashes: how we find a person again without storing what identifies them."""

import hashlib
import hmac
from collections.abc import Callable

from django.conf import settings


def keyed_hash(purpose: str, value: str) -> str:
    """HMAC-SHA256 of value under the site's hash key, separated by purpose.

    A plain SHA-256 of an email can be reversed by hashing a list of known
    addresses; the key makes that impossible without the server's secret.
    """
    return keyed_hasher(purpose)(value)


def keyed_hasher(purpose: str) -> Callable[[str], str]:
    """keyed_hash for one purpose, its key derived once: for hashing many values in a row."""
    key = hmac.new(settings.HASH_KEY.encode(), purpose.encode(), hashlib.sha256).digest()

    def digest(value: str) -> str:
        return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()

    return digest
