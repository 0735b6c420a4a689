"""Email address normalisation and validation shared by register import and signing."""

from __future__ import annotations

import unicodedata

MAX_EMAIL_LENGTH = 254
MAX_LOCAL_PART_LENGTH = 64

# Characters that are legal in exotic quoted RFC 5322 addresses but in practice
# mean the cell holds something other than one address (a list, a display name,
# "Name <addr>").  Rejecting them catches spreadsheet mistakes early.
_FORBIDDEN_CHARACTERS = frozenset('<>()[]\\,;:"')


def normalise_email(value: str) -> str:
    """Return the canonical form used to compare and store email addresses.

    Only surrounding whitespace is removed and the whole address lowercased.
    Provider-specific folding (dropping dots or "+tag" in Gmail local parts) is
    deliberately not done: other providers treat those characters as
    significant, so folding them could merge two different people's addresses.
    Lowercasing the local part is technically outside RFC 5321, but no
    mainstream provider distinguishes case and people type it inconsistently.
    """
    return unicodedata.normalize("NFC", value.strip()).lower()


def is_valid_email(value: str) -> bool:
    """Sanity-check an address that has already been through `normalise_email`.

    This is intentionally shallow: the only real proof of an address is a
    confirmation mail, so the check just rejects values that cannot work.
    """
    if not value or len(value) > MAX_EMAIL_LENGTH:
        return False
    if value.count("@") != 1:
        return False
    local, domain = value.split("@")
    if not local or len(local) > MAX_LOCAL_PART_LENGTH:
        return False
    if any(ch.isspace() or not ch.isprintable() or ch in _FORBIDDEN_CHARACTERS for ch in value):
        return False
    if "." not in domain or domain.startswith(".") or domain.endswith("."):
        return False
    if ".." in domain or domain.startswith("-"):
        return False
    return all(
        label and not label.startswith("-") and not label.endswith("-")
        for label in domain.split(".")
    )
