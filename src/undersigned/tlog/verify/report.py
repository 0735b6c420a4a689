"""What a successful run checked, as the text summary and the JSON object it prints."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final


@dataclass(frozen=True)
class PetitionReport:
    slug: str
    verified: int
    withdrawn: int
    invalidated: int
    api_verified: int | None = None  # None when the API was not consulted
    # The log size the API's count named (its log_size), None when it named none.
    api_log_size: int | None = None
    # Of `verified`, the verifications marked "channel": "paper" (recounted from the log).
    paper: int = 0
    # The API's log_paper_count at api_log_size, checked against the log's own
    # recount there; None when the API was not consulted or named none.
    api_paper: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "verified": self.verified,
            "withdrawn": self.withdrawn,
            "invalidated": self.invalidated,
            "paper": self.paper,
            "api_verified": self.api_verified,
            "api_log_size": self.api_log_size,
            "api_paper": self.api_paper,
        }


@dataclass(frozen=True)
class Report:
    """What a successful run checked."""

    origin: str
    size: int
    root: bytes
    checkpoint: str  # the signed note, as served
    petitions: list[PetitionReport]
    previous_size: int | None  # the size accepted on the previous run, if any
    state_path: Path | None
    api_checked: bool
    attempts: int = 1
    checked_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    # With --policy: which witnesses cosigned the checkpoint; None without a policy.
    witnesses: Witnesses | None = None

    @property
    def root_b64(self) -> str:
        return base64.b64encode(self.root).decode("ascii")

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": True,
            "origin": self.origin,
            "size": self.size,
            "root": self.root_b64,
            "previous_size": self.previous_size,
            "state": str(self.state_path) if self.state_path is not None else None,
            "api_checked": self.api_checked,
            "attempts": self.attempts,
            "checked_at": format_time(self.checked_at),
            "petitions": {p.slug: p.as_dict() for p in self.petitions},
            "witnesses": self.witnesses.as_dict() if self.witnesses is not None else None,
            "split_view_excluded": self.witnesses is not None and self.witnesses.quorum != "none",
        }

    def summary(self) -> str:
        lines = [
            f"origin: {self.origin}",
            f"size:   {self.size} entries",
            f"root:   {self.root_b64}",
        ]
        if self.previous_size is None:
            lines.append("state:  first check of this log; it is remembered from now on")
        else:
            lines.append(
                f"state:  consistent with the checkpoint of size {self.previous_size} "
                "accepted before"
            )
        if not self.petitions:
            lines.append("no petitions in the log")
        else:
            lines.append("petitions:")
            width = max(len(p.slug) for p in self.petitions)
            for p in self.petitions:
                counted = f"{p.verified} verified (log)"
                if p.paper:
                    counted = f"{p.verified} verified (log, of which {p.paper} on paper)"
                api = "API"
                if p.api_paper:
                    api = f"API, of which {p.api_paper} on paper"
                if p.api_verified is not None and p.api_log_size not in (None, self.size):
                    counted += f"; {p.api_verified} ({api}) at log size {p.api_log_size}, as there"
                elif p.api_verified is not None:
                    counted += f" = {p.api_verified} ({api})"
                lines.append(f"  {p.slug:<{width}}  {counted}")
        lines.append(witness_line(self.witnesses))
        lines.append("all checks passed")
        return "\n".join(lines)


@dataclass(frozen=True)
class Witnesses:
    """What checking the checkpoint against a tlog-policy found (``--policy``)."""

    signed: tuple[str, ...]  # the policy's names of the witnesses whose cosignature verified
    missing: tuple[str, ...]
    quorum: str
    satisfied: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "signed": list(self.signed),
            "missing": list(self.missing),
            "quorum": self.quorum,
            "satisfied": self.satisfied,
        }


NO_POLICY: Final = (
    "witnesses: not checked (no --policy): a split view, another history of this log "
    "shown to other readers, is not excluded"
)


def witness_line(witnesses: Witnesses | None) -> str:
    """The summary's line about witnesses: who cosigned, or that nobody was asked to."""
    if witnesses is None:
        return NO_POLICY
    signed = ", ".join(witnesses.signed) or "no witness"
    if witnesses.quorum == "none":
        return (
            f"witnesses: cosigned by {signed}; the policy's quorum is 'none', so a split "
            "view is not excluded"
        )
    return f"witnesses: cosigned by {signed}; meets the policy's quorum {witnesses.quorum!r}"


def format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

