"""An independent cosignature checker, written from c2sp.org/tlog-cosignature alone.

It shares no code with undersigned.tlog: its own vkey parsing, note splitting,
key ids and signed messages, with only ``cryptography``'s primitives. The
tests check the witness's cosignatures with it, so a mistake made the same
way in both the signer and the verifier of undersigned.tlog still shows.
"""

from __future__ import annotations

import base64
import hashlib
import struct

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import mldsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

EM_DASH = "\u2014"


class SpecCosigner:
    """A cosigner known from its vkey: name, key id, signature type, public key."""

    def __init__(self, vkey: str) -> None:
        name, key_id_hex, key_b64 = vkey.split("+", 2)
        material = base64.b64decode(key_b64, validate=True)
        self.name = name
        self.type = material[0]
        self.public_key = material[1:]
        assert self.type in (0x04, 0x06), "not a cosigner key"
        # Key ID = SHA-256(name || "\n" || type || public key)[:4]
        digest = hashlib.sha256(name.encode() + b"\n" + material).digest()
        self.key_id = digest[:4]
        assert self.key_id.hex() == key_id_hex.lower(), "vkey id does not match"

    def cosignatures(self, signed_note: str) -> list[int]:
        """Return the timestamps of this cosigner's valid signatures; raise on a bad one."""
        text, _, block = signed_note.rpartition("\n\n")
        text += "\n"
        found = []
        for line in block.rstrip("\n").split("\n"):
            dash, name, sig_b64 = line.split(" ")
            assert dash == EM_DASH
            raw = base64.b64decode(sig_b64, validate=True)
            if name != self.name or raw[:4] != self.key_id:
                continue
            (timestamp,) = struct.unpack(">Q", raw[4:12])
            signature = raw[12:]
            assert self._verify(text, timestamp, signature), f"bad cosignature by {name}"
            found.append(timestamp)
        return found

    def _verify(self, text: str, timestamp: int, signature: bytes) -> bool:
        try:
            if self.type == 0x04:
                message = b"cosignature/v1\n" + b"time %d\n" % timestamp + text.encode()
                Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
            else:
                origin, size, root_b64 = text.split("\n")[:3]
                message = (
                    b"subtree/v1\n\x00"
                    + bytes([len(self.name.encode())])
                    + self.name.encode()
                    + struct.pack(">Q", timestamp)
                    + bytes([len(origin.encode())])
                    + origin.encode()
                    + struct.pack(">QQ", 0, int(size))
                    + base64.b64decode(root_b64)
                )
                mldsa.MLDSA44PublicKey.from_public_bytes(self.public_key).verify(
                    signature, message
                )
        except InvalidSignature:
            return False
        return True
