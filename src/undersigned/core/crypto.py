"""Encryption at rest for contact details: AES-256-GCM under keys from the environment.

UNDERSIGNED_DATA_KEYS holds one or more base64 32-byte keys, comma-separated.
The first encrypts; every key decrypts, so a rotation is: put a new key first,
keep the old one after it, restart, run `undersigned rotate-keys`, then drop
the old key. Each value records which key sealed it.
"""

import base64
import binascii
import hashlib
import os
import secrets
from dataclasses import dataclass
from functools import cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

PREFIX = "v1:"
KEY_ID_BYTES = 4
NONCE_BYTES = 12


class DecryptionError(Exception):
    """A stored value could not be opened with any configured key."""


@dataclass(frozen=True)
class DataKey:
    key_id: bytes
    aead: AESGCM

    @classmethod
    def from_b64(cls, text: str) -> "DataKey":
        try:
            raw = base64.b64decode(text.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise ImproperlyConfigured(
                "UNDERSIGNED_DATA_KEYS holds a key that is not base64"
            ) from None
        if len(raw) != 32:
            raise ImproperlyConfigured("each key in UNDERSIGNED_DATA_KEYS must be 32 bytes")
        return cls(hashlib.sha256(raw).digest()[:KEY_ID_BYTES], AESGCM(raw))

    @property
    def fingerprint(self) -> str:
        return self.key_id.hex()


def new_key_b64() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


@cache
def keys() -> tuple[DataKey, ...]:
    text = settings.UNDERSIGNED_DATA_KEYS
    if not text:
        raise ImproperlyConfigured("UNDERSIGNED_DATA_KEYS is not set")
    found = tuple(DataKey.from_b64(part) for part in text.split(",") if part.strip())
    if not found:
        raise ImproperlyConfigured("UNDERSIGNED_DATA_KEYS holds no key")
    return found


def current_key() -> DataKey:
    return keys()[0]


def encrypt(plaintext: str, purpose: str) -> str:
    """Seal a value; `purpose` (e.g. "signature.email") binds it to its column."""
    key = current_key()
    nonce = os.urandom(NONCE_BYTES)
    sealed = key.aead.encrypt(nonce, plaintext.encode(), purpose.encode())
    return PREFIX + base64.b64encode(key.key_id + nonce + sealed).decode()


def key_id_of(stored: str) -> bytes | None:
    if not stored.startswith(PREFIX):
        return None
    try:
        return base64.b64decode(stored[len(PREFIX) :])[:KEY_ID_BYTES]
    except (binascii.Error, ValueError):
        return None


def decrypt(stored: str, purpose: str) -> str:
    if not stored.startswith(PREFIX):
        # Written before encryption was enabled; `rotate-keys` seals it.
        return stored
    try:
        # a2b_base64 checks the alphabet in C; b64decode(validate=True) uses a regex.
        blob = binascii.a2b_base64(stored[len(PREFIX) :], strict_mode=True)
    except (binascii.Error, ValueError):
        raise DecryptionError("stored value is not valid base64") from None
    key_id, nonce, sealed = (
        blob[:KEY_ID_BYTES],
        blob[KEY_ID_BYTES : KEY_ID_BYTES + NONCE_BYTES],
        blob[KEY_ID_BYTES + NONCE_BYTES :],
    )
    for key in keys():
        if key.key_id == key_id:
            try:
                return key.aead.decrypt(nonce, sealed, purpose.encode()).decode()
            except InvalidTag:
                raise DecryptionError(
                    f"value sealed with key {key_id.hex()} fails to open"
                ) from None
    raise DecryptionError(f"no configured key has id {key_id.hex()}")


def _holder_key(secret: str, purpose: str) -> AESGCM:
    derived = HKDF(algorithm=SHA256(), length=32, salt=None, info=purpose.encode()).derive(
        secret.encode()
    )
    return AESGCM(derived)


def seal_for_holder(secret: str, plaintext: bytes, purpose: str) -> bytes:
    """Seal to whoever holds `secret` (a 256-bit link token the server keeps only hashed).

    The server can open it again only when the holder comes back with the
    token: a seized database holds the hash, which opens nothing.
    """
    nonce = os.urandom(NONCE_BYTES)
    return nonce + _holder_key(secret, purpose).encrypt(nonce, plaintext, purpose.encode())


def open_for_holder(secret: str, sealed: bytes, purpose: str) -> bytes:
    nonce, body = sealed[:NONCE_BYTES], sealed[NONCE_BYTES:]
    try:
        return _holder_key(secret, purpose).decrypt(nonce, body, purpose.encode())
    except InvalidTag:
        raise DecryptionError("this value is sealed to another token") from None
