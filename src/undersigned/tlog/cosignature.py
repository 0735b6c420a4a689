"""Witness cosignatures on checkpoints (https://c2sp.org/tlog-cosignature).

A cosignature is an ordinary signed-note signature line,
``— <cosigner name> base64(key id || timestamped_signature)``, added to a
checkpoint by a witness that checked the checkpoint is consistent with every
one it cosigned before. The spec defines two kinds, both here:

* **Ed25519** (signature type ``0x04``): the key id is
  ``SHA-256(name || 0x0A || 0x04 || 32-byte public key)[:4]`` and the signed
  message is ``cosignature/v1\\n`` + ``time <T>\\n`` + the whole checkpoint
  text (extension lines included);
* **ML-DSA-44** (signature type ``0x06``), which the spec recommends for new
  deployments: the key id is ``SHA-256(name || 0x0A || 0x06 || 1312-byte
  public key)[:4]`` and the signed message is the binary ``cosigned_message``
  (label ``subtree/v1\\n\\0``, cosigner name, timestamp, origin, start 0, end =
  tree size, root hash); extension lines are not covered.

In both, the signature bytes after the key id are ``timestamp`` (8 bytes,
big-endian POSIX seconds) followed by the Ed25519 (64 bytes) or ML-DSA-44
(2420 bytes) signature. Keys travel as signed-note verifier keys
(``<name>+<hex key id>+base64(type || public key)``); the private key string
is ``PRIVATE+KEY+<name>+<hex key id>+base64(type || 32-byte seed)``, the form
Go's golang.org/x/mod/sumdb/note and transparency-dev/formats use.

:class:`CosignatureVerifier` and :class:`CosignatureSigner` fit the
:class:`~undersigned.tlog.note.NoteVerifier` and
:class:`~undersigned.tlog.note.NoteSigner` protocols, so
:func:`~undersigned.tlog.note.open_note` checks cosignatures and the log's own
signature in one pass.

Cryptography is the ``cryptography`` package's Ed25519 and ML-DSA-44; nothing
is hand-rolled. Pure: standard library and ``cryptography`` only.
"""

from __future__ import annotations

import base64
import hashlib
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import mldsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from undersigned.tlog import merkle, note
from undersigned.tlog.merkle import Checkpoint

# Signature type bytes assigned by c2sp.org/signed-note.
ALG_ED25519_NOTE: Final = 0x01
ALG_COSIGNATURE_ED25519: Final = 0x04
ALG_COSIGNATURE_MLDSA44: Final = 0x06

ED25519: Final = "ed25519"
MLDSA44: Final = "ml-dsa-44"
_ALGORITHMS: Final = {ED25519: ALG_COSIGNATURE_ED25519, MLDSA44: ALG_COSIGNATURE_MLDSA44}

ED25519_HEADER: Final = "cosignature/v1\n"
MLDSA_LABEL: Final = b"subtree/v1\n\x00"

_TIMESTAMP_SIZE: Final = 8
_ED25519_KEY_SIZE: Final = 32
_ED25519_SIGNATURE_SIZE: Final = 64
_MLDSA44_KEY_SIZE: Final = 1312
_MLDSA44_SIGNATURE_SIZE: Final = 2420
_SEED_SIZE: Final = 32
_MAX_TIMESTAMP: Final = (1 << 63) - 1
_HEX_KEY_ID = re.compile(r"[0-9a-fA-F]{8}")


class CosignatureError(ValueError):
    """A cosigner key is malformed, or a cosignature cannot be made or read."""


@dataclass(frozen=True)
class VerifierKey:
    """The parts of a signed-note verifier key (vkey), before any algorithm is trusted."""

    name: str
    key_id: int
    alg: int
    public_key: bytes


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def key_id(name: str, alg: int, public_key: bytes) -> int:
    """Return ``SHA-256(name || 0x0A || alg || public key)[:4]`` as a big-endian uint32."""
    digest = hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([alg]) + bytes(public_key))
    return int.from_bytes(digest.digest()[:4], "big")


def parse_vkey(vkey: str) -> VerifierKey:
    """Split a vkey ``<name>+<hex8 id>+<base64(type || key)>`` and check its id.

    The id is recomputed from the name, type byte and key, so a vkey whose id
    was edited (or whose key was) is refused here. Raises :class:`CosignatureError`.
    """
    name, _, rest = vkey.partition("+")
    id_hex, _, key_b64 = rest.partition("+")
    raw = merkle.b64decode_canonical(key_b64)
    if not note.is_valid_key_name(name) or not _HEX_KEY_ID.fullmatch(id_hex) or not raw:
        raise CosignatureError("malformed verifier key")
    alg, public_key = raw[0], raw[1:]
    if int(id_hex, 16) != key_id(name, alg, public_key):
        raise CosignatureError("verifier key id does not match its name and key")
    return VerifierKey(name, int(id_hex, 16), alg, public_key)


def ed25519_message(timestamp: int, text: str | bytes) -> bytes:
    """Return the Ed25519 cosignature/v1 signed message for a checkpoint's note text."""
    body = text.encode("utf-8") if isinstance(text, str) else bytes(text)
    return f"{ED25519_HEADER}time {timestamp}\n".encode("ascii") + body


def mldsa_message(
    cosigner: str, timestamp: int, origin: str, start: int, end: int, root_hash: bytes
) -> bytes:
    """Return the ML-DSA-44 ``cosigned_message`` structure (TLS presentation encoding)."""
    name = cosigner.encode("utf-8")
    log = origin.encode("utf-8")
    if not 1 <= len(name) <= 255 or not 1 <= len(log) <= 255:
        raise CosignatureError("cosigner name and log origin must be 1 to 255 bytes")
    if len(root_hash) != 32:
        raise CosignatureError("a root hash is 32 bytes")
    if start and timestamp:
        raise CosignatureError("a subtree cosignature (start > 0) has timestamp zero")
    return (
        MLDSA_LABEL
        + bytes([len(name)])
        + name
        + timestamp.to_bytes(8, "big")
        + bytes([len(log)])
        + log
        + start.to_bytes(8, "big")
        + end.to_bytes(8, "big")
        + bytes(root_hash)
    )


def signature_timestamp(signature: bytes) -> int:
    """Return the timestamp of a cosignature's bytes (after the 4-byte key id)."""
    if len(signature) < _TIMESTAMP_SIZE + _ED25519_SIGNATURE_SIZE:
        raise CosignatureError("too short to be a timestamped cosignature")
    return int.from_bytes(signature[:_TIMESTAMP_SIZE], "big")


def line_timestamp(line: note.Signature) -> int:
    """Return the timestamp of a cosignature line as :func:`~note.open_note` returned it."""
    raw = merkle.b64decode_canonical(line.b64)
    if raw is None or len(raw) < 4:
        raise CosignatureError("malformed signature line")
    return signature_timestamp(raw[4:])


class CosignatureVerifier:
    """A witness's public key (Ed25519 type 0x04 or ML-DSA-44 type 0x06) and name."""

    def __init__(self, name: str, algorithm: str, public_key: bytes) -> None:
        if not note.is_valid_key_name(name):
            raise CosignatureError(f"invalid key name {name!r}")
        if algorithm not in _ALGORITHMS:
            raise CosignatureError(f"unknown cosignature algorithm {algorithm!r}")
        self._ed25519: Ed25519PublicKey | None = None
        self._mldsa: mldsa.MLDSA44PublicKey | None = None
        try:
            if algorithm == ED25519:
                if len(public_key) != _ED25519_KEY_SIZE:
                    raise CosignatureError("an Ed25519 public key is 32 bytes")
                self._ed25519 = Ed25519PublicKey.from_public_bytes(bytes(public_key))
            else:
                if len(public_key) != _MLDSA44_KEY_SIZE:
                    raise CosignatureError("an ML-DSA-44 public key is 1312 bytes")
                self._mldsa = mldsa.MLDSA44PublicKey.from_public_bytes(bytes(public_key))
        except (ValueError, UnsupportedAlgorithm) as exc:
            if isinstance(exc, CosignatureError):
                raise
            raise CosignatureError(f"invalid {algorithm} public key") from exc
        self._name = name
        self._algorithm = algorithm
        self._public_key = bytes(public_key)
        self._key_id = key_id(name, _ALGORITHMS[algorithm], public_key)

    @classmethod
    def from_key(cls, vkey: str) -> CosignatureVerifier:
        """Parse a cosigner vkey; only types 0x04 and 0x06 are cosignature keys."""
        parsed = parse_vkey(vkey)
        for algorithm, alg in _ALGORITHMS.items():
            if parsed.alg == alg:
                return cls(parsed.name, algorithm, parsed.public_key)
        raise CosignatureError(
            f"verifier key type 0x{parsed.alg:02x} is not a tlog-cosignature key (0x04 or 0x06)"
        )

    @property
    def name(self) -> str:
        return self._name

    @property
    def key_id(self) -> int:
        return self._key_id

    @property
    def algorithm(self) -> str:
        return self._algorithm

    @property
    def public_key(self) -> bytes:
        return self._public_key

    def verifier_key(self) -> str:
        """Return the vkey string, as :meth:`from_key` parses."""
        encoded = _b64(bytes([_ALGORITHMS[self._algorithm]]) + self._public_key)
        return f"{self._name}+{self._key_id:08x}+{encoded}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        """Check a cosignature (timestamp || signature) over a checkpoint's note text.

        ``message`` is the note text as :func:`~note.open_note` passes it. A
        note text that is not a checkpoint never verifies.
        """
        if len(signature) < _TIMESTAMP_SIZE:
            return False
        timestamp = int.from_bytes(signature[:_TIMESTAMP_SIZE], "big")
        raw = bytes(signature[_TIMESTAMP_SIZE:])
        if timestamp > _MAX_TIMESTAMP:
            return False
        try:
            text = bytes(message).decode("utf-8")
            checkpoint = Checkpoint.parse(text)
        except (UnicodeDecodeError, ValueError):
            return False
        try:
            if self._ed25519 is not None:
                if len(raw) != _ED25519_SIGNATURE_SIZE:
                    return False
                self._ed25519.verify(raw, ed25519_message(timestamp, message))
                return True
            assert self._mldsa is not None
            if len(raw) != _MLDSA44_SIGNATURE_SIZE:
                return False
            signed = mldsa_message(
                self._name, timestamp, checkpoint.origin, 0, checkpoint.size, checkpoint.root_hash
            )
            self._mldsa.verify(raw, signed)
            return True
        except (InvalidSignature, CosignatureError):
            return False

    def __repr__(self) -> str:
        return f"CosignatureVerifier.from_key({self.verifier_key()!r})"


class CosignatureSigner:
    """A witness's private key: makes timestamped cosignatures of checkpoints.

    ``clock`` returns the current POSIX time; tests pass a fixed one.
    """

    def __init__(
        self,
        name: str,
        algorithm: str,
        seed: bytes,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not note.is_valid_key_name(name):
            raise CosignatureError(f"invalid key name {name!r}")
        if algorithm not in _ALGORITHMS:
            raise CosignatureError(f"unknown cosignature algorithm {algorithm!r}")
        if len(seed) != _SEED_SIZE:
            raise CosignatureError("a private key seed is 32 bytes")
        self._ed25519: Ed25519PrivateKey | None = None
        self._mldsa: mldsa.MLDSA44PrivateKey | None = None
        if algorithm == ED25519:
            self._ed25519 = Ed25519PrivateKey.from_private_bytes(bytes(seed))
            public = self._ed25519.public_key().public_bytes_raw()
        else:
            self._mldsa = mldsa.MLDSA44PrivateKey.from_seed_bytes(bytes(seed))
            public = self._mldsa.public_key().public_bytes_raw()
        self._name = name
        self._algorithm = algorithm
        self._seed = bytes(seed)
        self._public_key = public
        self._key_id = key_id(name, _ALGORITHMS[algorithm], public)
        self._clock = clock

    @classmethod
    def generate(cls, name: str, algorithm: str = MLDSA44) -> CosignatureSigner:
        """Return a signer with a fresh random key (ML-DSA-44 unless told otherwise)."""
        if algorithm == ED25519:
            seed = Ed25519PrivateKey.generate().private_bytes_raw()
        elif algorithm == MLDSA44:
            seed = mldsa.MLDSA44PrivateKey.generate().private_bytes_raw()
        else:
            raise CosignatureError(f"unknown cosignature algorithm {algorithm!r}")
        return cls(name, algorithm, seed)

    @classmethod
    def from_key(cls, skey: str, clock: Callable[[], float] = time.time) -> CosignatureSigner:
        """Parse ``PRIVATE+KEY+<name>+<hex8 id>+<base64(type || seed)>``.

        Type 0x01 (a plain Ed25519 note key) is taken as an Ed25519 cosigner,
        as transparency-dev/formats does; the key id is then the 0x04 one.
        """
        private, _, rest = skey.strip().partition("+")
        key_word, _, rest = rest.partition("+")
        name, _, rest = rest.partition("+")
        id_hex, _, key_b64 = rest.partition("+")
        raw = merkle.b64decode_canonical(key_b64)
        if (
            private != "PRIVATE"
            or key_word != "KEY"
            or not note.is_valid_key_name(name)
            or not _HEX_KEY_ID.fullmatch(id_hex)
            or not raw
            or len(raw) != 1 + _SEED_SIZE
        ):
            raise CosignatureError("malformed cosigner private key")
        alg = raw[0]
        if alg in (ALG_ED25519_NOTE, ALG_COSIGNATURE_ED25519):
            signer = cls(name, ED25519, raw[1:], clock)
        elif alg == ALG_COSIGNATURE_MLDSA44:
            signer = cls(name, MLDSA44, raw[1:], clock)
        else:
            raise CosignatureError(f"unknown cosigner key type 0x{alg:02x}")
        if alg != ALG_ED25519_NOTE and signer.key_id != int(id_hex, 16):
            raise CosignatureError("cosigner key id does not match its name and key")
        return signer

    @property
    def name(self) -> str:
        return self._name

    @property
    def key_id(self) -> int:
        return self._key_id

    @property
    def algorithm(self) -> str:
        return self._algorithm

    def signer_key(self) -> str:
        """Return the private key string; whoever holds it can cosign as this witness."""
        encoded = _b64(bytes([_ALGORITHMS[self._algorithm]]) + self._seed)
        return f"PRIVATE+KEY+{self._name}+{self._key_id:08x}+{encoded}"

    def verifier(self) -> CosignatureVerifier:
        return CosignatureVerifier(self._name, self._algorithm, self._public_key)

    def verifier_key(self) -> str:
        return self.verifier().verifier_key()

    def sign(self, message: bytes) -> bytes:
        """Return ``timestamp || signature`` over a checkpoint's note text, timestamped now."""
        timestamp = int(self._clock())
        if not 0 < timestamp <= _MAX_TIMESTAMP:
            # tlog-witness: the cosignature MUST NOT omit the timestamp.
            raise CosignatureError("the clock gives no usable timestamp")
        return self.sign_at(message, timestamp)

    def sign_at(self, message: bytes, timestamp: int) -> bytes:
        """Return ``timestamp || signature`` over a checkpoint's note text."""
        try:
            checkpoint = Checkpoint.parse(bytes(message).decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise CosignatureError(f"only checkpoints are cosigned: {exc}") from exc
        if not 0 <= timestamp <= _MAX_TIMESTAMP:
            raise CosignatureError("timestamp out of range")
        if self._ed25519 is not None:
            raw = self._ed25519.sign(ed25519_message(timestamp, message))
        else:
            assert self._mldsa is not None
            raw = self._mldsa.sign(
                mldsa_message(
                    self._name,
                    timestamp,
                    checkpoint.origin,
                    0,
                    checkpoint.size,
                    checkpoint.root_hash,
                )
            )
        return timestamp.to_bytes(_TIMESTAMP_SIZE, "big") + raw

    def cosign(self, checkpoint_text: str) -> note.Signature:
        """Return this witness's signature line for a checkpoint's note text."""
        raw = self._key_id.to_bytes(4, "big") + self.sign(checkpoint_text.encode("utf-8"))
        return note.Signature(self._name, self._key_id, _b64(raw))

    def __repr__(self) -> str:
        # Never the seed: reprs end up in logs and tracebacks.
        return f"<CosignatureSigner {self._name}+{self._key_id:08x} {self._algorithm}>"


def log_verifier_from_key(vkey: str) -> note.NoteVerifier:
    """Parse a log's vkey: an Ed25519 note key (0x01) or an ML-DSA-44 one (0x06).

    tlog-checkpoint lets a log sign with either (and recommends ML-DSA-44,
    whose checkpoint signature is the same structure as a cosignature).
    Raises :class:`CosignatureError`.
    """
    parsed = parse_vkey(vkey)
    if parsed.alg == ALG_ED25519_NOTE:
        try:
            return note.Verifier.from_key(vkey)
        except note.NoteError as exc:
            raise CosignatureError(str(exc)) from exc
    if parsed.alg == ALG_COSIGNATURE_MLDSA44:
        return CosignatureVerifier(parsed.name, MLDSA44, parsed.public_key)
    raise CosignatureError(
        f"verifier key type 0x{parsed.alg:02x} cannot sign checkpoints (0x01 or 0x06)"
    )


def signature_lines(signatures: Sequence[note.Signature]) -> str:
    """Return signature lines as a note (and an add-checkpoint response) writes them."""
    return "".join(sig.line() for sig in signatures)


def add_cosignatures(
    signed_checkpoint: str, cosigner_lines: str | bytes, verifiers: Sequence[note.NoteVerifier]
) -> tuple[str, list[note.Signature]]:
    """Append witness signature lines to a signed checkpoint after checking them.

    As tlog-witness suggests: the lines are appended to the note and the note
    opened with only the witnesses' keys, so lines from keys not among
    ``verifiers`` are dropped, and a line from a known key that fails to
    verify rejects the lot. Returns the note with the verified lines appended
    (each cosigner once) and those lines. Raises :class:`note.NoteError`.
    """
    if isinstance(cosigner_lines, bytes):
        try:
            cosigner_lines = cosigner_lines.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise note.NoteError("cosignature lines are not UTF-8") from exc
    if not cosigner_lines.endswith("\n"):
        raise note.NoteError("cosignature lines must end in a newline")
    if "\n\n" in cosigner_lines:
        raise note.NoteError("cosignature lines hold a blank line")
    if not signed_checkpoint.endswith("\n"):
        raise note.NoteError("malformed note")
    _, verified = note.open_note(signed_checkpoint + cosigner_lines, verifiers)
    split = signed_checkpoint.rfind("\n\n")
    present = {line for line in signed_checkpoint[split + 2 :].splitlines()}
    fresh = [sig for sig in verified if sig.line().rstrip("\n") not in present]
    return signed_checkpoint + signature_lines(fresh), verified
