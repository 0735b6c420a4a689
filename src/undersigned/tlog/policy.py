"""Transparency log trust policies (https://c2sp.org/tlog-policy).

A policy file names the logs a reader accepts, the witnesses it knows, and
the quorum of witness cosignatures a checkpoint needs before the reader
trusts it::

    log example.org/petitions+1a2b3c4d+AU...   https://example.org/
    witness newsroom  news.example/witness+5e6f7a8b+Bh...
    witness library   library.example/w+9c0d1e2f+BB...
    group both all newsroom library
    quorum both

The syntax, exactly as the spec has it: one item per line, items separated
by runs of spaces and tabs only; blank lines and lines whose first
non-blank character is ``#`` are ignored; ``log <vkey> [<url>]``,
``witness <name> <vkey> [<url>]``, ``group <name> all|any|<k> <name>...``
and exactly one ``quorum <name>``, where a group or the quorum may only name
witnesses and groups defined on earlier lines and ``none`` (the empty
quorum) is predefined. Names are opaque: ``K`` and the Kelvin sign differ.
Two logs or two witnesses may not wrap the same public key, and a name may be
a group member only once in the whole file (so no witness counts twice).

A checkpoint satisfies the policy when it is signed by one of the logs
(whose key name must be the checkpoint's origin) and the quorum is met by
cosignatures that verify: :meth:`Policy.check` says which witnesses signed
and whether that is enough.

Pure: standard library and ``cryptography`` (through the key modules) only.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

from undersigned.tlog import cosignature, note
from undersigned.tlog.merkle import Checkpoint

NONE: Final = "none"

# Only tab and newline of the control characters; DEL is not allowed either.
_FORBIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f]")
_FIELD_SEPARATOR = re.compile("[ \t]+")
_DECIMAL = re.compile("[0-9]+")


class PolicyError(ValueError):
    """A policy file is malformed, or a checkpoint cannot be checked against it."""


@dataclass(frozen=True)
class PolicyLog:
    """A ``log`` line: the log's key (its name is the log's origin) and optional URL."""

    vkey: str
    verifier: note.NoteVerifier = field(compare=False)
    public_key: bytes = field(compare=False)
    url: str | None = None

    @property
    def origin(self) -> str:
        return self.verifier.name


@dataclass(frozen=True)
class PolicyWitness:
    """A ``witness`` line: the policy-local name, the cosigner key, optional URL."""

    name: str
    vkey: str
    verifier: cosignature.CosignatureVerifier = field(compare=False)
    url: str | None = None


@dataclass(frozen=True)
class PolicyGroup:
    """A ``group`` line: met when at least ``threshold`` of ``members`` are met."""

    name: str
    threshold: int
    members: tuple[str, ...]
    # "all", "any" or the decimal, so serialising gives back what was written.
    spelled: str

    @classmethod
    def of(cls, name: str, threshold: int | str, members: Sequence[str]) -> PolicyGroup:
        """Build a group from a threshold given as ``"all"``, ``"any"`` or a number."""
        members = tuple(members)
        if threshold == "all":
            return cls(name, len(members), members, "all")
        if threshold == "any":
            return cls(name, 1, members, "any")
        if isinstance(threshold, str):
            if not _DECIMAL.fullmatch(threshold):
                raise PolicyError(
                    f"group {name}: threshold {threshold!r} is not all, any or a number"
                )
            threshold = int(threshold)
        return cls(name, threshold, members, str(threshold))


@dataclass(frozen=True)
class QuorumResult:
    """What checking one checkpoint against a policy found."""

    checkpoint: Checkpoint
    # The note text (checkpoint body) that was signed.
    text: str
    log: PolicyLog | None
    # Policy names of the witnesses whose cosignature verified, in policy order.
    signed: tuple[str, ...]
    # Policy names of the witnesses that did not (validly) cosign.
    missing: tuple[str, ...]
    # Cosignature timestamps by witness name (POSIX seconds).
    timestamps: dict[str, int]
    satisfied: bool
    quorum: str

    def describe(self) -> str:
        """One line for a person: which witnesses signed, and whether the quorum holds."""
        signed = ", ".join(self.signed) or "no witness"
        verdict = "meets" if self.satisfied else "does not meet"
        return f"cosigned by {signed}; {verdict} the quorum {self.quorum!r}"


class QuorumError(PolicyError):
    """A checkpoint is validly signed by the log but lacks the policy's quorum."""

    def __init__(self, result: QuorumResult) -> None:
        super().__init__(f"checkpoint of size {result.checkpoint.size} {result.describe()}")
        self.result = result


def _decode(data: str | bytes) -> str:
    if isinstance(data, str):
        return data
    # Octets with the high bit set are opaque to the format: keep them as they
    # are (surrogateescape) so names and comments round-trip byte for byte.
    return data.decode("utf-8", errors="surrogateescape")


class Policy:
    """A parsed tlog-policy file."""

    def __init__(
        self,
        logs: Sequence[PolicyLog],
        witnesses: Sequence[PolicyWitness],
        groups: Sequence[PolicyGroup],
        quorum: str,
    ) -> None:
        # Building from parts runs the same rules as parsing does.
        self._logs: tuple[PolicyLog, ...] = ()
        self._witnesses: dict[str, PolicyWitness] = {}
        self._groups: dict[str, PolicyGroup] = {}
        self._members: set[str] = set()
        for log in logs:
            self._add_log(log)
        for witness in witnesses:
            self._add_witness(witness)
        for group in groups:
            self._add_group(group)
        self._set_quorum(quorum)

    # ------------------------------------------------------------ building

    def _add_log(self, log: PolicyLog) -> None:
        if any(known.public_key == log.public_key for known in self._logs):
            raise PolicyError(f"duplicate log key {log.vkey}")
        self._logs = (*self._logs, log)

    def _check_new_name(self, name: str) -> None:
        if name == NONE:
            raise PolicyError("'none' is predefined and cannot be redefined")
        if name in self._witnesses or name in self._groups:
            raise PolicyError(f"duplicate name {name!r}")

    def _add_witness(self, witness: PolicyWitness) -> None:
        self._check_new_name(witness.name)
        key = witness.verifier.public_key
        if any(known.verifier.public_key == key for known in self._witnesses.values()):
            raise PolicyError(f"duplicate witness key {witness.vkey}")
        self._witnesses[witness.name] = witness

    def _add_group(self, group: PolicyGroup) -> None:
        self._check_new_name(group.name)
        if not group.members:
            raise PolicyError(f"group {group.name!r} has no members")
        if not 1 <= group.threshold <= len(group.members):
            raise PolicyError(
                f"group {group.name!r}: threshold {group.threshold} is not between 1 "
                f"and its {len(group.members)} members"
            )
        for member in group.members:
            if member == NONE:
                raise PolicyError(f"group {group.name!r}: 'none' cannot be a group member")
            if member not in self._witnesses and member not in self._groups:
                raise PolicyError(f"group {group.name!r}: {member!r} is not defined above it")
            if member in self._members:
                raise PolicyError(f"{member!r} is listed as a group member more than once")
            self._members.add(member)
        self._groups[group.name] = group

    def _set_quorum(self, quorum: str) -> None:
        if quorum != NONE and quorum not in self._witnesses and quorum not in self._groups:
            raise PolicyError(f"quorum {quorum!r} is not a witness or group defined above it")
        self._quorum = quorum

    # ------------------------------------------------------------ reading

    @classmethod
    def parse(cls, data: str | bytes) -> Policy:
        """Parse a policy file; raises :class:`PolicyError` naming the line at fault."""
        text = _decode(data)
        policy = cls.__new__(cls)
        policy._logs = ()
        policy._witnesses = {}
        policy._groups = {}
        policy._members = set()
        quorum: str | None = None
        for number, line in enumerate(text.split("\n"), start=1):
            try:
                if _FORBIDDEN.search(line):
                    raise PolicyError("control characters other than tab are not allowed")
                stripped = line.strip(" \t")
                if not stripped or stripped.startswith("#"):
                    continue
                keyword, *args = _FIELD_SEPARATOR.split(stripped)
                if keyword == "log":
                    if not 1 <= len(args) <= 2:
                        raise PolicyError("expected: log <vkey> [<url>]")
                    policy._add_log(_log(args[0], args[1] if len(args) > 1 else None))
                elif keyword == "witness":
                    if not 2 <= len(args) <= 3:
                        raise PolicyError("expected: witness <name> <vkey> [<url>]")
                    url = args[2] if len(args) > 2 else None
                    policy._add_witness(_witness(args[0], args[1], url))
                elif keyword == "group":
                    if len(args) < 3:
                        raise PolicyError("expected: group <name> all|any|<k> <name>...")
                    policy._add_group(PolicyGroup.of(args[0], args[1], args[2:]))
                elif keyword == "quorum":
                    if len(args) != 1:
                        raise PolicyError("expected: quorum <name>")
                    if quorum is not None:
                        raise PolicyError("a policy has exactly one quorum line")
                    policy._set_quorum(args[0])
                    quorum = args[0]
                else:
                    raise PolicyError(f"unknown keyword {keyword!r}")
            except PolicyError as exc:
                raise PolicyError(f"line {number}: {exc}") from None
        if quorum is None:
            raise PolicyError("the policy has no quorum line")
        return policy

    @property
    def logs(self) -> tuple[PolicyLog, ...]:
        return self._logs

    @property
    def witnesses(self) -> tuple[PolicyWitness, ...]:
        return tuple(self._witnesses.values())

    @property
    def groups(self) -> tuple[PolicyGroup, ...]:
        return tuple(self._groups.values())

    @property
    def quorum(self) -> str:
        return self._quorum

    def to_text(self) -> str:
        """Return the policy in tlog-policy syntax; :meth:`parse` gives it back."""
        lines = [" ".join(filter(None, ("log", log.vkey, log.url))) for log in self._logs]
        lines += [
            " ".join(filter(None, ("witness", w.name, w.vkey, w.url)))
            for w in self._witnesses.values()
        ]
        lines += [
            " ".join(("group", g.name, g.spelled, *g.members)) for g in self._groups.values()
        ]
        lines.append(f"quorum {self._quorum}")
        return "".join(line + "\n" for line in lines)

    def to_bytes(self) -> bytes:
        return self.to_text().encode("utf-8", errors="surrogateescape")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Policy) and self.to_text() == other.to_text()

    def __hash__(self) -> int:
        return hash(self.to_text())

    # ------------------------------------------------------------ checking

    def is_met(self, name: str, signed: set[str]) -> bool:
        """Whether witness or group ``name`` has witnessed, given the witnesses that signed."""
        if name == NONE:
            return True
        if name in self._witnesses:
            return name in signed
        group = self._groups[name]
        met = sum(1 for member in group.members if self.is_met(member, signed))
        return met >= group.threshold

    def check(
        self, signed_note: str | bytes, extra_logs: Sequence[note.NoteVerifier] = ()
    ) -> QuorumResult:
        """Check a cosigned checkpoint: the log's signature, then the witnesses' cosignatures.

        Raises :class:`PolicyError` if the note is malformed, not signed by a
        policy log (or one of ``extra_logs``, for a policy without log lines)
        whose name is the origin, or carries a signature from a known key that
        does not verify (a tampered cosignature rejects the whole note, as
        signed-note advises). Otherwise returns a :class:`QuorumResult`,
        whose ``satisfied`` says whether the quorum holds.
        """
        logs: list[note.NoteVerifier] = [log.verifier for log in self._logs]
        logs += list(extra_logs)
        witnesses = [w.verifier for w in self._witnesses.values()]
        try:
            text, verified = note.open_note(signed_note, [*logs, *witnesses])
            checkpoint = Checkpoint.parse(text)
        except (note.NoteError, ValueError) as exc:
            raise PolicyError(str(exc)) from exc
        by_key = {(sig.name, sig.key_id): sig for sig in verified}
        signing_logs = [v for v in logs if (v.name, v.key_id) in by_key]
        if not signing_logs:
            raise PolicyError("the checkpoint is not signed by any log of the policy")
        # tlog-policy: a log's key name is its origin, so a log key can only
        # vouch for checkpoints of its own origin.
        if not any(v.name == checkpoint.origin for v in signing_logs):
            raise PolicyError(
                f"the checkpoint's origin {checkpoint.origin!r} is not the name "
                "of the log key that signed it"
            )
        log_line = next(
            (
                log
                for log in self._logs
                if log.origin == checkpoint.origin
                and (log.verifier.name, log.verifier.key_id) in by_key
            ),
            None,
        )
        signed: list[str] = []
        missing: list[str] = []
        timestamps: dict[str, int] = {}
        for witness in self._witnesses.values():
            sig = by_key.get((witness.verifier.name, witness.verifier.key_id))
            if sig is None:
                missing.append(witness.name)
                continue
            signed.append(witness.name)
            timestamps[witness.name] = cosignature.line_timestamp(sig)
        return QuorumResult(
            checkpoint=checkpoint,
            text=text,
            log=log_line,
            signed=tuple(signed),
            missing=tuple(missing),
            timestamps=timestamps,
            satisfied=self.is_met(self._quorum, set(signed)),
            quorum=self._quorum,
        )

    def verify(
        self, signed_note: str | bytes, extra_logs: Sequence[note.NoteVerifier] = ()
    ) -> QuorumResult:
        """As :meth:`check`, but raise :class:`QuorumError` unless the quorum holds."""
        result = self.check(signed_note, extra_logs)
        if not result.satisfied:
            raise QuorumError(result)
        return result


def _log(vkey: str, url: str | None) -> PolicyLog:
    try:
        verifier = cosignature.log_verifier_from_key(vkey)
        public_key = cosignature.parse_vkey(vkey).public_key
    except cosignature.CosignatureError as exc:
        raise PolicyError(f"log key: {exc}") from exc
    return PolicyLog(vkey, verifier, public_key, url)


def _witness(name: str, vkey: str, url: str | None) -> PolicyWitness:
    try:
        verifier = cosignature.CosignatureVerifier.from_key(vkey)
    except cosignature.CosignatureError as exc:
        raise PolicyError(f"witness {name!r}: {exc}") from exc
    return PolicyWitness(name, vkey, verifier, url)


def log_entry(vkey: str, url: str | None = None) -> PolicyLog:
    """Return a ``log`` line's item for building a :class:`Policy` in code."""
    return _log(vkey, url)


def witness_entry(name: str, vkey: str, url: str | None = None) -> PolicyWitness:
    """Return a ``witness`` line's item for building a :class:`Policy` in code."""
    return _witness(name, vkey, url)
