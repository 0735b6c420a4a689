"""LEDGER_WITNESSES and LEDGER_WITNESS_QUORUM: the witnesses the site asks to cosign.

Read by settings.py at start-up, so this module touches no model and no
setting: it parses text and raises ImproperlyConfigured with a message an
operator can act on.

``LEDGER_WITNESSES`` holds one witness per line, or several separated by
``;``. Each is three fields separated by spaces or tabs::

    <name> <verifier key> <submission URL>

* ``name``: what the site's policy (``/log/policy``) and ``/readyz`` call the
  witness, e.g. ``newsroom``: letters, digits and ``. _ -``, at most 64;
* ``verifier key``: the witness's cosignature key, as ``undersigned witness
  keygen`` prints it (``<key name>+<key id>+<base64>``; Ed25519 type 0x04 or
  ML-DSA-44 type 0x06, the two kinds c2sp.org/tlog-cosignature defines);
* ``submission URL``: the witness's submission prefix, ``http://`` or
  ``https://``; the site POSTs to ``<URL>/add-checkpoint``. Plain http is
  acceptable: a cosignature is checked against the key, so a network in
  between can withhold it but not forge it.

Blank entries and lines starting with ``#`` are ignored.

``LEDGER_WITNESS_QUORUM`` is how many of them must cosign a checkpoint for a
reader to accept it: a number from 0 to the number of witnesses, ``all``
(the default) or ``any``. 0 (or no witnesses) publishes the quorum ``none``.
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass, field
from typing import Final

from django.core.exceptions import ImproperlyConfigured

from undersigned.tlog.cosignature import CosignatureError, CosignatureVerifier

# The policy's group of the site's witnesses; no witness may take its name.
GROUP_NAME: Final = "witnesses"
_RESERVED: Final = frozenset({"none", GROUP_NAME})
# A policy reader must support at least 32 witnesses (tlog-policy, "Implementation limits").
MAX_WITNESSES: Final = 32
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_FIELDS = re.compile(r"[ \t]+")


@dataclass(frozen=True)
class WitnessConfig:
    """One configured witness: policy-local name, cosignature key, submission prefix."""

    name: str
    vkey: str
    url: str
    verifier: CosignatureVerifier = field(compare=False, repr=False)

    @property
    def add_checkpoint_url(self) -> str:
        return self.url.rstrip("/") + "/add-checkpoint"


def _entries(text: str) -> list[str]:
    found = []
    for line in text.replace("\r", "").split("\n"):
        for part in line.split(";"):
            part = part.strip(" \t")
            if part and not part.startswith("#"):
                found.append(part)
    return found


def parse_witnesses(text: str, setting: str = "LEDGER_WITNESSES") -> tuple[WitnessConfig, ...]:
    """Parse LEDGER_WITNESSES; raises ImproperlyConfigured naming the entry at fault."""
    witnesses: list[WitnessConfig] = []
    for number, entry in enumerate(_entries(text), start=1):
        where = f"{setting}, witness {number}"
        fields = _FIELDS.split(entry)
        if len(fields) != 3:
            raise ImproperlyConfigured(
                f"{where}: expected three fields, '<name> <verifier key> <submission URL>', "
                f"got {len(fields)} (entries are separated by newlines or ';')"
            )
        name, vkey, url = fields
        if not _NAME.fullmatch(name):
            raise ImproperlyConfigured(
                f"{where}: the name {name[:70]!r} must be 1 to 64 letters, digits, '.', '_' "
                "or '-', starting with a letter or digit"
            )
        if name in _RESERVED:
            raise ImproperlyConfigured(f"{where}: {name!r} is reserved; choose another name")
        try:
            verifier = CosignatureVerifier.from_key(vkey)
        except CosignatureError as exc:
            raise ImproperlyConfigured(
                f"{where} ({name}): the verifier key is not a cosignature key: {exc} "
                "(use the key 'undersigned witness keygen' printed)"
            ) from None
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ImproperlyConfigured(
                f"{where} ({name}): the submission URL {url[:100]!r} must start with "
                "http:// or https:// and name a host"
            )
        if parts.query or parts.fragment or parts.username or parts.password:
            raise ImproperlyConfigured(
                f"{where} ({name}): the submission URL takes no query, fragment or password"
            )
        for known in witnesses:
            if known.name == name:
                raise ImproperlyConfigured(f"{where}: the name {name!r} is used twice")
            if known.verifier.public_key == verifier.public_key:
                raise ImproperlyConfigured(
                    f"{where} ({name}): the same key as witness {known.name!r}; "
                    "one witness counts once"
                )
        witnesses.append(WitnessConfig(name, vkey, url, verifier))
    if len(witnesses) > MAX_WITNESSES:
        raise ImproperlyConfigured(
            f"{setting} lists {len(witnesses)} witnesses; at most {MAX_WITNESSES} "
            "(tlog-policy readers need support no more)"
        )
    return tuple(witnesses)


def parse_quorum(text: str, witnesses: int, setting: str = "LEDGER_WITNESS_QUORUM") -> int:
    """Parse the quorum: how many of ``witnesses`` must cosign (``all`` by default)."""
    value = text.strip().lower()
    if value in ("", "all"):
        return witnesses
    if value == "any":
        if witnesses == 0:
            raise ImproperlyConfigured(f"{setting}=any needs at least one LEDGER_WITNESSES entry")
        return 1
    if not value.isdigit():
        raise ImproperlyConfigured(f"{setting} must be a number, 'all' or 'any', not {text[:40]!r}")
    quorum = int(value)
    if quorum > witnesses:
        raise ImproperlyConfigured(
            f"{setting}={quorum}, but LEDGER_WITNESSES lists {witnesses} witness(es): "
            "a quorum cannot need more witnesses than there are"
        )
    return quorum
