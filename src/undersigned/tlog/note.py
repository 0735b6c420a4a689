"""C2SP signed notes (https://c2sp.org/signed-note) with Ed25519 keys.

Key strings, key ids, the note format and the rules for opening a note match
golang.org/x/mod/sumdb/note, so checkpoints we sign can be checked by Go
tooling and witnesses, and keys can move between the two.

A signed note is the text (ending in a newline), a blank line, then one line
per signature: an em dash, a space, the key name, a space, and the base64 of
the 4-byte key id followed by the signature.

Cryptography is the ``cryptography`` package's Ed25519; nothing is hand-rolled.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from undersigned.tlog import merkle

ALG_ED25519: Final = 0x01

# Go's note.Open gives up past 100 signatures; the spec asks for at least 16.
MAX_SIGNATURES: Final = 100

_SIGNATURE_PREFIX: Final = "\u2014 "
_ED25519_KEY_SIZE: Final = 32
_ED25519_SIGNATURE_SIZE: Final = 64
_HEX_KEY_ID = re.compile(r"[0-9a-fA-F]{8}")
_FORBIDDEN_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")


class NoteError(ValueError):
    """A key or note is malformed, or its signatures do not verify."""


class UnverifiedNoteError(NoteError):
    """A well-formed note carries no signature from any of the trusted keys."""


class InvalidSignatureError(NoteError):
    """A signature line names a trusted key (name and id) but does not verify."""


@dataclass(frozen=True)
class Signature:
    """One signature line of a note: key name, key id, and the base64 as written."""

    name: str
    key_id: int
    b64: str

    def line(self) -> str:
        return f"{_SIGNATURE_PREFIX}{self.name} {self.b64}\n"


def _is_utf8(text: str) -> bool:
    # A str can hold lone surrogates, which have no UTF-8 encoding.
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def is_valid_key_name(name: str) -> bool:
    """Key names are non-empty UTF-8 with no spaces, no '+' and no control characters.

    '+' separates the fields of key strings and a space ends the name on a
    signature line; control characters would make every note unopenable.
    """
    return (
        bool(name)
        and "+" not in name
        and not any(c.isspace() or c < " " for c in name)
        and _is_utf8(name)
    )


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _key_hash(name: str, encoded_key: bytes) -> int:
    digest = hashlib.sha256(name.encode("utf-8") + b"\n" + encoded_key).digest()
    return int.from_bytes(digest[:4], "big")


def ed25519_key_id(name: str, public_key: bytes) -> int:
    """Return the key id: SHA-256(name || 0x0A || 0x01 || public key)[:4] as a big-endian uint32."""
    return _key_hash(name, bytes([ALG_ED25519]) + bytes(public_key))


class NoteVerifier(Protocol):
    """What :func:`open_note` needs of a key: Ed25519 :class:`Verifier` or a cosigner's.

    The timestamped cosignature keys of c2sp.org/tlog-cosignature (in
    :mod:`undersigned.tlog.cosignature`) fit it too, so one note parser
    checks a log's signature and its witnesses' cosignatures alike.
    """

    @property
    def name(self) -> str: ...

    @property
    def key_id(self) -> int: ...

    def verify(self, message: bytes, signature: bytes) -> bool: ...


class NoteSigner(Protocol):
    """What :func:`sign_note` needs of a key: Ed25519 :class:`Signer` or a cosigner's."""

    @property
    def name(self) -> str: ...

    @property
    def key_id(self) -> int: ...

    def sign(self, message: bytes) -> bytes: ...


class Verifier:
    """An Ed25519 public key with its name, able to check note signatures."""

    def __init__(self, name: str, public_key: bytes) -> None:
        if not is_valid_key_name(name):
            raise NoteError(f"invalid key name {name!r}")
        if len(public_key) != _ED25519_KEY_SIZE:
            raise NoteError("an Ed25519 public key is 32 bytes")
        try:
            self._key = Ed25519PublicKey.from_public_bytes(bytes(public_key))
        except ValueError as exc:
            raise NoteError("invalid Ed25519 public key") from exc
        self._name = name
        self._public_key = bytes(public_key)
        self._key_id = ed25519_key_id(name, public_key)

    @classmethod
    def from_key(cls, vkey: str) -> Verifier:
        """Parse a verifier key ``<name>+<hex8 id>+<base64(0x01 || public key)>``."""
        name, _, rest = vkey.partition("+")
        id_hex, _, key_b64 = rest.partition("+")
        key = merkle.b64decode_canonical(key_b64)
        if not is_valid_key_name(name) or not _HEX_KEY_ID.fullmatch(id_hex) or not key:
            raise NoteError("malformed verifier key")
        # The id covers the algorithm byte, so check it before trusting that byte.
        if int(id_hex, 16) != _key_hash(name, key):
            raise NoteError("verifier key id does not match its name and key")
        if key[0] != ALG_ED25519:
            raise NoteError("unknown verifier key algorithm")
        if len(key) != 1 + _ED25519_KEY_SIZE:
            raise NoteError("malformed verifier key")
        return cls(name, key[1:])

    @property
    def name(self) -> str:
        return self._name

    @property
    def key_id(self) -> int:
        return self._key_id

    @property
    def public_key(self) -> bytes:
        return self._public_key

    def verifier_key(self) -> str:
        """Return this key as a verifier key string, as :meth:`from_key` parses."""
        encoded = _b64(bytes([ALG_ED25519]) + self._public_key)
        return f"{self._name}+{self._key_id:08x}+{encoded}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        if len(signature) != _ED25519_SIGNATURE_SIZE:
            return False
        try:
            self._key.verify(bytes(signature), bytes(message))
        except InvalidSignature:
            return False
        return True

    def __repr__(self) -> str:
        return f"Verifier.from_key({self.verifier_key()!r})"


class Signer:
    """An Ed25519 private key with its name, able to sign notes."""

    def __init__(self, name: str, seed: bytes) -> None:
        if not is_valid_key_name(name):
            raise NoteError(f"invalid key name {name!r}")
        if len(seed) != _ED25519_KEY_SIZE:
            raise NoteError("an Ed25519 private key seed is 32 bytes")
        self._key = Ed25519PrivateKey.from_private_bytes(bytes(seed))
        self._name = name
        self._public_key = self._key.public_key().public_bytes_raw()
        self._key_id = ed25519_key_id(name, self._public_key)

    @classmethod
    def generate(cls, name: str) -> Signer:
        """Return a signer with a fresh random key."""
        seed = Ed25519PrivateKey.generate().private_bytes_raw()
        return cls(name, seed)

    @classmethod
    def from_key(cls, skey: str) -> Signer:
        """Parse a signer key ``PRIVATE+KEY+<name>+<hex8 id>+<base64(0x01 || seed)>``."""
        private, _, rest = skey.partition("+")
        key_word, _, rest = rest.partition("+")
        name, _, rest = rest.partition("+")
        id_hex, _, key_b64 = rest.partition("+")
        key = merkle.b64decode_canonical(key_b64)
        if (
            private != "PRIVATE"
            or key_word != "KEY"
            or not is_valid_key_name(name)
            or not _HEX_KEY_ID.fullmatch(id_hex)
            or not key
        ):
            raise NoteError("malformed signer key")
        if key[0] != ALG_ED25519:
            raise NoteError("unknown signer key algorithm")
        if len(key) != 1 + _ED25519_KEY_SIZE:
            raise NoteError("malformed signer key")
        signer = cls(name, key[1:])
        # The id is of the public key, so it can only be checked after derivation.
        if signer.key_id != int(id_hex, 16):
            raise NoteError("signer key id does not match its name and key")
        return signer

    @property
    def name(self) -> str:
        return self._name

    @property
    def key_id(self) -> int:
        return self._key_id

    def signer_key(self) -> str:
        """Return the private key string; whoever holds it can sign as this key."""
        encoded = _b64(bytes([ALG_ED25519]) + self._key.private_bytes_raw())
        return f"PRIVATE+KEY+{self._name}+{self._key_id:08x}+{encoded}"

    def verifier(self) -> Verifier:
        return Verifier(self._name, self._public_key)

    def verifier_key(self) -> str:
        return self.verifier().verifier_key()

    def sign(self, message: bytes) -> bytes:
        return self._key.sign(bytes(message))

    def __repr__(self) -> str:
        # Never the seed: reprs end up in logs and tracebacks.
        return f"<Signer {self._name}+{self._key_id:08x}>"


def generate_signer_key(name: str) -> str:
    """Return a new Go-compatible private key string for ``name``."""
    return Signer.generate(name).signer_key()


def _check_text(text: str) -> None:
    if not text.endswith("\n"):
        raise NoteError("malformed note: text must end in a newline")
    if _FORBIDDEN_CONTROL.search(text) or not _is_utf8(text):
        raise NoteError("malformed note: text must be UTF-8 without control characters")


def sign_note(text: str, signers: Sequence[NoteSigner], existing: Sequence[Signature] = ()) -> str:
    """Return ``text`` signed by each signer.

    ``existing`` signatures (say, the log's own when a witness cosigns) are
    kept, before the new ones, unless a signer re-signs with the same key.
    """
    _check_text(text)
    message = text.encode("utf-8")
    fresh: list[Signature] = []
    for signer in signers:
        raw = signer.key_id.to_bytes(4, "big") + signer.sign(message)
        fresh.append(Signature(signer.name, signer.key_id, _b64(raw)))
    replaced = {(s.name, s.key_id) for s in fresh}
    kept: list[Signature] = []
    for sig in existing:
        decoded = merkle.b64decode_canonical(sig.b64)
        if not is_valid_key_name(sig.name) or decoded is None or len(decoded) < 5:
            raise NoteError("malformed note: existing signature is malformed")
        if int.from_bytes(decoded[:4], "big") != sig.key_id:
            raise NoteError("malformed note: existing signature has the wrong key id")
        if (sig.name, sig.key_id) not in replaced:
            kept.append(sig)
    if not fresh and not kept:
        raise NoteError("a note needs at least one signature")
    return text + "\n" + "".join(sig.line() for sig in (*kept, *fresh))


def open_note(
    message: str | bytes, verifiers: Sequence[NoteVerifier]
) -> tuple[str, list[Signature]]:
    """Verify a signed note and return its text and the signatures that verified.

    As Go's note.Open: signatures from keys not among ``verifiers`` are
    ignored, a signature from a known key that fails to verify rejects the
    whole note, and a note with no verified signature is rejected. Repeated
    signatures by one key count once (only the first is checked). Raises
    :class:`NoteError`.
    """
    if isinstance(message, bytes):
        try:
            message = message.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise NoteError("malformed note: not UTF-8") from exc
    if _FORBIDDEN_CONTROL.search(message) or not _is_utf8(message):
        raise NoteError("malformed note: control characters or invalid UTF-8")

    # The signature block never holds a blank line, so the last one is the
    # separator even when the text itself has blank lines.
    split = message.rfind("\n\n")
    if split < 0:
        raise NoteError("malformed note: no blank line before the signatures")
    text, block = message[: split + 1], message[split + 2 :]
    if not block.endswith("\n"):
        raise NoteError("malformed note: signatures must end in a newline")

    known: dict[tuple[str, int], list[NoteVerifier]] = {}
    for verifier in verifiers:
        known.setdefault((verifier.name, verifier.key_id), []).append(verifier)

    signed = text.encode("utf-8")
    verified: list[Signature] = []
    seen: set[tuple[str, int]] = set()
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError("malformed note: too many signatures")
    for line in lines:
        if not line.startswith(_SIGNATURE_PREFIX):
            raise NoteError("malformed note: signature line does not start with an em dash")
        name, _, b64 = line[len(_SIGNATURE_PREFIX) :].partition(" ")
        raw = merkle.b64decode_canonical(b64)
        if not is_valid_key_name(name) or not b64 or raw is None or len(raw) < 5:
            raise NoteError("malformed note: bad signature line")
        key_id = int.from_bytes(raw[:4], "big")
        candidates = known.get((name, key_id))
        if candidates is None:
            continue
        if len(candidates) > 1:
            # Two trusted keys sharing a name and id means the trust list
            # itself is broken; refuse rather than guess which one to use.
            raise NoteError(f"ambiguous key {name}+{key_id:08x}")
        if (name, key_id) in seen:
            continue
        seen.add((name, key_id))
        if not candidates[0].verify(signed, raw[4:]):
            raise InvalidSignatureError(f"invalid signature for key {name}+{key_id:08x}")
        verified.append(Signature(name, key_id, b64))

    if not verified:
        raise UnverifiedNoteError("note has no verifiable signatures")
    return text, verified
