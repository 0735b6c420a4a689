"""One-time link tokens. Only their hashes are stored, so a database leak confirms nothing."""

import hashlib
import secrets


def new_token() -> tuple[str, str]:
    raw = secrets.token_urlsafe(32)
    return raw, token_hash(raw)


def token_hash(raw: str) -> str:
    # Tokens carry 256 random bits, so an unkeyed hash cannot be reversed by guessing.
    return hashlib.sha256(raw.encode()).hexdigest()
