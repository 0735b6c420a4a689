"""Custody keys: sealing to a key whose private half never touches the server.

A petition's moderators generate an age X25519 identity on their own machine
(`undersigned custody keygen`). The server is given only its public half, the
recipient (`age1…`), and seals to it whatever it no longer needs to read: a
hidden signer's name, every address once its mail is sent and its signature is
decided, evidence once reviewed. What is sealed can be opened only where the
identity is, so a seized server yields ciphertext.

The formats are age's own (age-encryption.org/v1), so the standard `age`
tool opens what this module seals and unlocks a key file locked here. The
work is done by pyrage (the Rust `age` crate); nothing here is hand-made
crypto. This module imports no Django: the moderators' commands use it on a
machine that has no site installed.
"""

import base64
import binascii
import json
from typing import Any

import pyrage
from pyrage import passphrase as age_passphrase
from pyrage import x25519

ARMOR_BEGIN = "-----BEGIN AGE ENCRYPTED FILE-----"
ARMOR_END = "-----END AGE ENCRYPTED FILE-----"
ARMOR_COLUMNS = 64
RECIPIENT_PREFIX = "age1"
IDENTITY_PREFIX = "AGE-SECRET-KEY-1"
# The first line of a petition's custody export (JSON lines), as the site writes it.
EXPORT_FORMAT = "undersigned-custody-export/v1"


class CustodyError(ValueError):
    """A key, passphrase or sealed value that cannot be used; the message says which."""


def new_identity() -> tuple[str, str]:
    """A fresh key pair: (identity, recipient) as age writes them."""
    identity = x25519.Identity.generate()
    return str(identity), str(identity.to_public())


def check_recipient(text: str) -> str:
    """The recipient, stripped, or CustodyError when it is not an age X25519 public key."""
    text = text.strip()
    if not text.startswith(RECIPIENT_PREFIX):
        raise CustodyError("a custody key's public half starts with 'age1'")
    try:
        x25519.Recipient.from_str(text)
    except Exception:  # pyrage raises its own RecipientError, or ValueError
        raise CustodyError("this is not a valid age public key (age1…)") from None
    return text


def recipient_of(identity: str) -> str:
    return str(_identity(identity).to_public())


def _identity(text: str) -> x25519.Identity:
    text = text.strip()
    if not text.startswith(IDENTITY_PREFIX):
        raise CustodyError("a custody key's private half starts with 'AGE-SECRET-KEY-1'")
    try:
        return x25519.Identity.from_str(text)
    except Exception:
        raise CustodyError("this is not a valid age secret key") from None


def seal(recipient: str, payload: dict[str, Any]) -> bytes:
    """A JSON object sealed to the recipient: an age file only its identity opens."""
    data = json.dumps(payload, ensure_ascii=False, sort_keys=True).encode()
    return bytes(pyrage.encrypt(data, [x25519.Recipient.from_str(recipient)]))


def open_sealed(identity: str, sealed: bytes) -> dict[str, Any]:
    try:
        data = pyrage.decrypt(bytes(sealed), [_identity(identity)])
    except pyrage.DecryptError:
        raise CustodyError("this value was sealed to another custody key") from None
    found = json.loads(data)
    if not isinstance(found, dict):
        raise CustodyError("the sealed value is not an object")
    return found


def armor(data: bytes) -> str:
    """age's ASCII armour (PEM-like, 64 columns), as `age --armor` writes it."""
    text = base64.b64encode(data).decode()
    lines = [text[i : i + ARMOR_COLUMNS] for i in range(0, len(text), ARMOR_COLUMNS)]
    return "\n".join([ARMOR_BEGIN, *lines, ARMOR_END]) + "\n"


def dearmor(text: str) -> bytes:
    lines = [line.strip() for line in text.strip().splitlines()]
    if len(lines) < 2 or lines[0] != ARMOR_BEGIN or lines[-1] != ARMOR_END:
        raise CustodyError("not an armoured age file")
    try:
        return base64.b64decode("".join(lines[1:-1]), validate=True)
    except (binascii.Error, ValueError):
        raise CustodyError("the armoured age file is damaged") from None


def lock_identity(identity: str, passphrase: str) -> str:
    """The identity encrypted with a passphrase (age's scrypt recipient), armoured.

    `age -d key.age` opens it too, so the key outlives this program.
    """
    _identity(identity)
    if len(passphrase) < 12:
        raise CustodyError("choose a passphrase of at least 12 characters")
    plain = f"# Undersigned custody key\n{identity.strip()}\n".encode()
    return armor(bytes(age_passphrase.encrypt(plain, passphrase)))


def unlock_identity(locked: str, passphrase: str) -> str:
    try:
        plain = bytes(age_passphrase.decrypt(dearmor(locked), passphrase)).decode()
    except pyrage.DecryptError:
        raise CustodyError("wrong passphrase for this custody key file") from None
    for line in plain.splitlines():
        if line.startswith(IDENTITY_PREFIX):
            _identity(line)
            return line.strip()
    raise CustodyError("the key file holds no age secret key")
