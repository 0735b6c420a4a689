"""Log entries: their canonical encoding, signer commitments, and counting from them.

Pure: the server encodes with it and the independent verifier decodes with it.
The format is specified in docs/log-format.md; change both together, and
bump FORMAT_VERSION for any change an old verifier would misread.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

FORMAT_VERSION: Final = 1

SIGNATURE_VERIFIED: Final = "signature.verified"
SIGNATURE_WITHDRAWN: Final = "signature.withdrawn"
SIGNATURE_INVALIDATED: Final = "signature.invalidated"
PETITION_OPENED: Final = "petition.opened"
PETITION_CLOSED: Final = "petition.closed"
PETITION_TEXT_VERSION: Final = "petition.text_version"
# The addressee's answer and what came of the petition, each bound to the count
# the log held when it was published (docs/log-format.md, "Answers").
RESPONSE_PUBLISHED: Final = "response.published"
OUTCOME_PUBLISHED: Final = "outcome.published"
OUTCOMES: Final = ("debate_scheduled", "debated")

REMOVALS: Final = frozenset({SIGNATURE_WITHDRAWN, SIGNATURE_INVALIDATED})
ANSWERS: Final = frozenset({RESPONSE_PUBLISHED, OUTCOME_PUBLISHED})
EVENTS: Final = (
    frozenset({SIGNATURE_VERIFIED, PETITION_OPENED, PETITION_CLOSED, PETITION_TEXT_VERSION})
    | REMOVALS
    | ANSWERS
)
SIGNER_FIELDS: Final = ("name", "role", "municipality", "region")
SALT_BYTES: Final = 32
# How a verified signature was given, when not online: a moderator entered it
# from a paper sheet. Absent means online, so every entry written before
# paper signatures existed reads, and encodes, exactly as it did.
CHANNEL_PAPER: Final = "paper"
CHANNELS: Final = frozenset({CHANNEL_PAPER})


class EntryError(ValueError):
    """An entry that is not a valid version-1 log entry, or a log that breaks the counting rules."""


def canonical_json(value: Mapping[str, Any]) -> bytes:
    """UTF-8 JSON with sorted keys and no insignificant whitespace: one byte string per value."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode()


def format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_salt() -> bytes:
    return secrets.token_bytes(SALT_BYTES)


def signer_fields(name: str, role: str, municipality: str, region: str) -> dict[str, str]:
    return {"name": name, "role": role, "municipality": municipality, "region": region}


def commitment(salt: bytes, signer: Mapping[str, str]) -> str:
    """SHA-256(salt || canonical signer fields), hex: binding, and hiding without the salt."""
    if len(salt) != SALT_BYTES:
        raise EntryError(f"a commitment salt is {SALT_BYTES} bytes")
    fields = {k: signer[k] for k in SIGNER_FIELDS}
    return hashlib.sha256(salt + canonical_json(fields)).hexdigest()


def encode(
    *,
    event: str,
    petition: str,
    text_sha256: str,
    time: datetime,
    signer: Mapping[str, str] | None = None,
    commitment_hex: str | None = None,
    ref: int | None = None,
    version: int | None = None,
    title: str | None = None,
    reason: str | None = None,
    channel: str | None = None,
    document: str | None = None,
    count: int | None = None,
    size: int | None = None,
    outcome: str | None = None,
) -> bytes:
    entry: dict[str, Any] = {
        "v": FORMAT_VERSION,
        "event": event,
        "petition": petition,
        "text": text_sha256,
        "time": format_time(time),
    }
    if signer is not None:
        entry["signer"] = {k: signer[k] for k in SIGNER_FIELDS}
    if commitment_hex is not None:
        entry["commitment"] = commitment_hex
    if ref is not None:
        entry["ref"] = ref
    if version is not None:
        entry["version"] = version
    if title is not None:
        entry["title"] = title
    if reason is not None:
        entry["reason"] = reason
    if channel is not None:
        entry["channel"] = channel
    for key, value in (("document", document), ("count", count), ("size", size)):
        if value is not None:
            entry[key] = value
    if outcome is not None:
        entry["outcome"] = outcome
    data = canonical_json(entry)
    decode(data)  # never write what a verifier would refuse
    return data


@dataclass(frozen=True)
class Entry:
    event: str
    petition: str
    text: str
    time: str
    signer: Mapping[str, str] | None = None
    commitment: str | None = None
    ref: int | None = None
    version: int | None = None
    title: str | None = None
    reason: str | None = None
    channel: str | None = None  # "paper", or None: online
    document: str | None = None  # an answer's SHA-256 (a response or an outcome)
    count: int | None = None  # an answer's: its petition's count in the log before it
    size: int | None = None  # an answer's: the log's size before it, its own index
    outcome: str | None = None


def _hex256(raw: Mapping[str, Any], key: str) -> str:
    value = _want(raw, key, str)
    if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
        raise EntryError(f"field {key!r} must be a lowercase hex SHA-256")
    return str(value)


def _want(entry: Mapping[str, Any], key: str, kind: type) -> Any:
    value = entry.get(key)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise EntryError(f"field {key!r} must be a {kind.__name__}")
    return value


def decode(data: bytes) -> Entry:
    """Parse and check one entry; refuses anything that is not in canonical form."""
    try:
        raw = json.loads(data.decode("utf-8"))
        canonical = canonical_json(raw) if isinstance(raw, dict) else b""
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        # ValueError also covers NaN and Infinity, which canonical JSON refuses.
        raise EntryError(f"entry is not UTF-8 JSON in canonical form: {exc}") from None
    if not isinstance(raw, dict):
        raise EntryError("entry is not a JSON object")
    if canonical != data:
        raise EntryError("entry is not in canonical form")
    if type(raw.get("v")) is not int or raw["v"] != FORMAT_VERSION:
        raise EntryError(f"unknown entry format version {raw.get('v')!r}")
    event = _want(raw, "event", str)
    if event not in EVENTS:
        raise EntryError(f"unknown event {event!r}")
    known = {
        "v",
        "event",
        "petition",
        "text",
        "time",
        "signer",
        "commitment",
        "ref",
        "version",
        "title",
        "reason",
        "channel",
        "document",
        "count",
        "size",
        "outcome",
    }
    if set(raw) - known:
        raise EntryError(f"unknown fields {sorted(set(raw) - known)}")
    text = _hex256(raw, "text")
    entry = Entry(
        event=event,
        petition=_want(raw, "petition", str),
        text=text,
        time=_want(raw, "time", str),
        signer=raw.get("signer"),
        commitment=raw.get("commitment"),
        ref=raw.get("ref"),
        version=raw.get("version"),
        title=raw.get("title"),
        reason=raw.get("reason"),
        channel=raw.get("channel"),
        document=raw.get("document"),
        count=raw.get("count"),
        size=raw.get("size"),
        outcome=raw.get("outcome"),
    )
    try:
        datetime.strptime(entry.time, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        raise EntryError("field 'time' must be YYYY-MM-DDTHH:MM:SSZ") from None
    if event == SIGNATURE_VERIFIED:
        if (entry.signer is None) == (entry.commitment is None):
            raise EntryError("a verification carries either 'signer' or 'commitment'")
        if entry.signer is not None:
            signer = _want(raw, "signer", dict)
            if set(signer) != set(SIGNER_FIELDS) or not all(
                isinstance(v, str) for v in signer.values()
            ):
                raise EntryError(f"'signer' must hold exactly the strings {SIGNER_FIELDS}")
        else:
            c = _want(raw, "commitment", str)
            if len(c) != 64 or any(ch not in "0123456789abcdef" for ch in c):
                raise EntryError("field 'commitment' must be a lowercase hex SHA-256")
    elif entry.signer is not None or entry.commitment is not None:
        raise EntryError(f"{event} carries no signer")
    if event in REMOVALS:
        ref = _want(raw, "ref", int)
        if ref < 0:
            raise EntryError("field 'ref' must be a leaf index")
    elif entry.ref is not None:
        raise EntryError(f"{event} carries no 'ref'")
    if entry.version is not None:
        _want(raw, "version", int)
    for key in ("title", "reason"):
        if raw.get(key) is not None:
            _want(raw, key, str)
    if "channel" in raw:
        if event != SIGNATURE_VERIFIED:
            raise EntryError(f"{event} carries no 'channel'")
        if not isinstance(raw["channel"], str) or raw["channel"] not in CHANNELS:
            # "online" is never written: an online verification has no channel field.
            raise EntryError(f"field 'channel' must be one of {sorted(CHANNELS)}")
    if event in ANSWERS:
        _hex256(raw, "document")
        for key in ("count", "size"):
            if _want(raw, key, int) < 0:
                raise EntryError(f"field {key!r} must not be negative")
    elif any(raw.get(k) is not None for k in ("document", "count", "size")):
        raise EntryError(f"{event} carries no 'document', 'count' or 'size'")
    if event == OUTCOME_PUBLISHED:
        if _want(raw, "outcome", str) not in OUTCOMES:
            raise EntryError(f"field 'outcome' must be one of {list(OUTCOMES)}")
    elif entry.outcome is not None:
        raise EntryError(f"{event} carries no 'outcome'")
    return entry


_parse_json = json.JSONDecoder().raw_decode


def read_verified(data: bytes | memoryview) -> tuple[str, str, Mapping[str, str] | None]:
    """(time, text, signer or None) of a signature.verified entry this server sequenced.

    For reading the server's own stored entries back in bulk (the exports),
    not for checking a log: that is decode(), and the verifier's. encode()
    runs decode() before anything is written and sequencing stores exactly
    its bytes, so every stored entry passed decode() once; re-encoding it to
    compare the canonical form again costs ~30-50 µs an entry, parsing it ~2 µs.
    What this returns is still checked: the format version (a later format
    must not be misread as this one), the event, and the type of each field
    handed out. Anything else goes through decode(), which refuses what is
    wrong.
    """
    try:
        source = str(data, "utf-8")
        # raw_decode: json.loads less its Python wrapper (a third of the time);
        # the end it returns shows whether anything follows the object.
        raw, end = _parse_json(source)
    except (UnicodeDecodeError, ValueError, RecursionError):
        source, raw, end = "", None, -1
    if (
        end == len(source)
        and type(raw) is dict
        and type(raw.get("v")) is int
        and raw["v"] == FORMAT_VERSION
    ):
        time, text, signer = raw.get("time"), raw.get("text"), raw.get("signer")
        if (
            raw.get("event") == SIGNATURE_VERIFIED
            and type(time) is str
            and type(text) is str
            and (
                (signer is None and type(raw.get("commitment")) is str)
                or (
                    type(signer) is dict
                    and len(signer) == len(SIGNER_FIELDS)
                    and type(signer.get("name")) is str
                    and type(signer.get("role")) is str
                    and type(signer.get("municipality")) is str
                    and type(signer.get("region")) is str
                )
            )
        ):
            return time, text, signer
    entry = decode(bytes(data))
    if entry.event != SIGNATURE_VERIFIED:
        raise EntryError(f"expected a {SIGNATURE_VERIFIED} entry, not {entry.event}")
    return entry.time, entry.text, entry.signer


@dataclass
class PetitionCount:
    verified: int = 0
    withdrawn: int = 0
    invalidated: int = 0
    # Of `verified`, how many were entered from paper ("channel": "paper").
    paper: int = 0
    live: set[int] = field(default_factory=set)
    live_paper: set[int] = field(default_factory=set)


def count(entries: Iterable[tuple[int, bytes]]) -> dict[str, PetitionCount]:
    """Each petition's verified count, recomputed from the log alone.

    A verification adds one; a withdrawal or invalidation removes the
    verification it names by leaf index. `paper` counts the live
    verifications marked as entered from paper. A removal that names anything but a
    live verification of the same petition, earlier in the log, is an error:
    an honest log never writes one. So is an answer (a response or an outcome
    published) whose `size` is not its own index, or whose `count` is not its
    petition's count from the entries before it: the count an answer claims to
    have come at is checked, not taken on trust.
    """
    counts: dict[str, PetitionCount] = {}
    owner: dict[int, str] = {}
    for index, data in entries:
        entry = decode(data)
        tally = counts.setdefault(entry.petition, PetitionCount())
        if entry.event == SIGNATURE_VERIFIED:
            tally.live.add(index)
            if entry.channel == CHANNEL_PAPER:
                tally.live_paper.add(index)
            owner[index] = entry.petition
        elif entry.event in REMOVALS:
            assert entry.ref is not None
            if entry.ref >= index or owner.get(entry.ref) != entry.petition:
                raise EntryError(
                    f"entry {index} removes entry {entry.ref}, which is not an earlier "
                    f"verification on petition {entry.petition!r}"
                )
            if entry.ref not in tally.live:
                raise EntryError(f"entry {index} removes entry {entry.ref} a second time")
            tally.live.discard(entry.ref)
            tally.live_paper.discard(entry.ref)
            if entry.event == SIGNATURE_WITHDRAWN:
                tally.withdrawn += 1
            else:
                tally.invalidated += 1
        elif entry.event in ANSWERS:
            if entry.size != index:
                raise EntryError(f"entry {index} says it is at log size {entry.size}")
            if entry.count != len(tally.live):
                raise EntryError(
                    f"entry {index} says petition {entry.petition!r} had {entry.count} "
                    f"verified signatures; the log before it counts {len(tally.live)}"
                )
    for tally in counts.values():
        tally.verified = len(tally.live)
        tally.paper = len(tally.live_paper)
    return counts
