"""Witness cosigning, the log's side of c2sp.org/tlog-witness.

After the worker signs a checkpoint it is published at once (/log/checkpoint);
this module then asks each configured witness (settings.LEDGER_WITNESSES) to
cosign it, ``POST <url>/add-checkpoint`` with ``old <size the witness last
cosigned>``, the consistency proof from that size (computed from the stored
tree) and the checkpoint, and stores each cosignature that verifies against
the witness's key. /log/checkpoint serves the checkpoint with every one of
them appended, and /log/policy the quorum readers should require.

A witness that is down, slow or answering garbage costs nothing but its
cosignature:

* requests run outside any database transaction (:func:`cosign_round`
  refuses to run inside one) and never touch the tables that sequencing and
  signing lock; the worker runs rounds in a thread of its own
  (:class:`CosignLoop`), so signing never waits for a witness;
* all witnesses are asked at once, each with a deadline
  (LEDGER_WITNESS_TIMEOUT), so one that stalls delays no other;
* a 409 is answered at once by resending from the size the witness names
  (with the proof from that size); 400, 403, 404, 422, timeouts, broken
  connections and cosignatures that do not verify are counted per witness
  (WitnessStatus, shown in /readyz's detail), logged with the witness's name
  and the sizes only, and retried with exponential backoff.
"""

from __future__ import annotations

import http.client
import logging
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Final

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection
from django.db.models import F
from django.utils import timezone

from undersigned.ledger.keys import signer
from undersigned.ledger.models import Cosignature, SignedCheckpoint, WitnessStatus
from undersigned.ledger.services import DbHashReader, latest_checkpoint
from undersigned.ledger.witness_config import GROUP_NAME, WitnessConfig
from undersigned.tlog import cosignature, merkle, note, policy, witness

log = logging.getLogger("undersigned.witnessing")

MAX_RESPONSE_BYTES: Final = 1 << 20
BACKOFF_FIRST_SECONDS: Final = 1.0
BACKOFF_MAX_SECONDS: Final = 300.0
USER_AGENT: Final = "undersigned-log/1 (+https://c2sp.org/tlog-witness)"
# How many of the newest checkpoints a receipt looks through for one that meets the quorum.
RECENT_CHECKPOINTS: Final = 20

# Outcome kinds: each failure is counted in its WitnessStatus column.
COSIGNED: Final = "cosigned"
_COLUMNS: Final = {
    "bad_request": "bad_requests",  # 400
    "refused": "refused",  # 403
    "unknown_log": "unknown_log",  # 404
    "inconsistent": "inconsistent",  # 422, or a 409 that says the witness saw another tree
    "timeout": "timeouts",
    "unreachable": "unreachable",
    "bad_response": "bad_responses",
    "other": "other_errors",
}
_STATUS_KINDS: Final = {400: "bad_request", 403: "refused", 404: "unknown_log", 422: "inconsistent"}


def witnesses() -> tuple[WitnessConfig, ...]:
    return tuple(settings.LEDGER_WITNESSES)


def _key(verifier: note.NoteVerifier) -> tuple[str, int]:
    return verifier.name, verifier.key_id


# ------------------------------------------------------------------ the policy


@lru_cache(maxsize=8)
def _policy(
    log_vkey: str, log_url: str, configured: tuple[WitnessConfig, ...], quorum: int
) -> policy.Policy:
    logs = [policy.log_entry(log_vkey, log_url)]
    entries = [policy.witness_entry(w.name, w.vkey, w.url) for w in configured]
    if not configured or quorum == 0:
        return policy.Policy(logs, entries, [], policy.NONE)
    threshold: int | str = quorum
    if quorum == len(configured):
        threshold = "all"
    elif quorum == 1:
        threshold = "any"
    group = policy.PolicyGroup.of(GROUP_NAME, threshold, [w.name for w in configured])
    return policy.Policy(logs, entries, [group], GROUP_NAME)


def site_policy() -> policy.Policy:
    """The site's tlog-policy: its log key, each witness, the group of them and the quorum."""
    return _policy(
        signer().verifier_key(),
        settings.SITE_URL.rstrip("/") + "/log/",
        witnesses(),
        settings.LEDGER_WITNESS_QUORUM,
    )


# ------------------------------------------------------------------ cosigned checkpoints


def cosignatures(checkpoint: SignedCheckpoint) -> list[Cosignature]:
    """The checkpoint's cosignatures from the witnesses configured now, in their order."""
    order = {_key(w.verifier): i for i, w in enumerate(witnesses())}
    rows = [row for row in checkpoint.cosignatures.all() if (row.key_name, row.key_id) in order]
    return sorted(rows, key=lambda row: order[(row.key_name, row.key_id)])


def cosigned_note(checkpoint: SignedCheckpoint, rows: list[Cosignature] | None = None) -> str:
    """The signed checkpoint with every cosignature received appended (tlog-cosignature)."""
    if rows is None:
        rows = cosignatures(checkpoint)
    return checkpoint.note + "".join(row.line for row in rows)


@dataclass(frozen=True)
class Witnessing:
    """Which witnesses cosigned one checkpoint, and whether that meets the site's quorum."""

    signed: tuple[str, ...]
    missing: tuple[str, ...]
    satisfied: bool
    quorum: int
    rows: tuple[Cosignature, ...] = field(default=(), repr=False)


def witnessing(checkpoint: SignedCheckpoint) -> Witnessing:
    rows = cosignatures(checkpoint)
    signed = {row.witness for row in rows}
    names = [w.name for w in witnesses()]
    satisfied = site_policy().is_met(site_policy().quorum, signed)
    return Witnessing(
        signed=tuple(n for n in names if n in signed),
        missing=tuple(n for n in names if n not in signed),
        satisfied=satisfied,
        quorum=settings.LEDGER_WITNESS_QUORUM,
        rows=tuple(rows),
    )


def checkpoint_for_proof(index: int) -> SignedCheckpoint | None:
    """The newest checkpoint holding entry ``index`` that meets the quorum, else the latest.

    A checkpoint is published before witnesses cosign it, so the newest one
    may lack cosignatures for a moment; a proof meant to be checked offline
    is better made against the one before it, which has them.
    """
    recent = list(
        SignedCheckpoint.objects.filter(size__gt=index)
        .order_by("-size")
        .prefetch_related("cosignatures")[:RECENT_CHECKPOINTS]
    )
    for checkpoint in recent:
        if witnessing(checkpoint).satisfied:
            return checkpoint
    return recent[0] if recent else None


# ------------------------------------------------------------------ asking witnesses


@dataclass
class _Attempt:
    """One add-checkpoint request and what came back (filled by a thread)."""

    witness: WitnessConfig
    old: int
    body: bytes
    status: int | None = None
    answer: bytes = b""
    error: str | None = None  # "timeout" or "unreachable" when no answer came
    abandoned: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)


def _post(attempt: _Attempt, timeout: float) -> None:
    parts = urllib.parse.urlsplit(attempt.witness.add_checkpoint_url)
    host = parts.hostname or ""
    connection_class = (
        http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    )
    status: int | None = None
    answer = b""
    error: str | None = None
    conn = connection_class(host, parts.port, timeout=timeout)
    try:
        conn.request(
            "POST",
            parts.path or "/add-checkpoint",
            body=attempt.body,
            headers={"Content-Type": "text/plain; charset=utf-8", "User-Agent": USER_AGENT},
        )
        response = conn.getresponse()
        status = response.status
        answer = response.read(MAX_RESPONSE_BYTES + 1)
    except TimeoutError:
        error = "timeout"
    except (OSError, http.client.HTTPException):
        error = "unreachable"
    finally:
        conn.close()
    with attempt.lock:
        if not attempt.abandoned:
            attempt.status, attempt.answer, attempt.error = status, answer, error


def _post_all(attempts: list[_Attempt], timeout: float) -> None:
    """Send every request at once; one that is not answered within the deadline is a timeout.

    The socket timeout bounds each read, not a witness that drips its answer a
    byte at a time; the deadline bounds the whole request.
    """
    threads = []
    for attempt in attempts:
        thread = threading.Thread(target=_post, args=(attempt, timeout), daemon=True)
        thread.start()
        threads.append(thread)
    deadline = time.monotonic() + 2 * timeout
    for thread, attempt in zip(threads, attempts, strict=True):
        thread.join(max(0.0, deadline - time.monotonic()))
        with attempt.lock:
            if attempt.status is None and attempt.error is None:
                attempt.abandoned = True
                attempt.error = "timeout"


def _request_body(checkpoint: SignedCheckpoint, old: int, reader: DbHashReader) -> bytes:
    proof = merkle.prove_tree(checkpoint.size, old, reader) if 0 < old < checkpoint.size else []
    return witness.witness_request_body(old, proof, checkpoint.note)


def _said(answer: bytes) -> str:
    """The first line of a witness's answer, printable ASCII only, short: for the operator."""
    first = answer.split(b"\n", 1)[0][:100].decode("ascii", errors="replace")
    return "".join(c if c.isprintable() else "?" for c in first)


@dataclass(frozen=True)
class Outcome:
    kind: str  # COSIGNED, or a key of _COLUMNS
    message: str = ""
    witness_size: int | None = None  # a size the witness told us (409)


def _backoff(failures: int) -> float:
    return float(min(BACKOFF_MAX_SECONDS, BACKOFF_FIRST_SECONDS * 2 ** max(failures - 1, 0)))


def _status_rows(configured: tuple[WitnessConfig, ...]) -> dict[str, WitnessStatus]:
    names = [w.name for w in configured]
    rows = {row.name: row for row in WitnessStatus.objects.filter(name__in=names)}
    missing = [WitnessStatus(name=n) for n in names if n not in rows]
    if missing:
        WitnessStatus.objects.bulk_create(missing, ignore_conflicts=True)
        rows = {row.name: row for row in WitnessStatus.objects.filter(name__in=names)}
    return rows


def _record_success(
    w: WitnessConfig, checkpoint: SignedCheckpoint, line: note.Signature, now: datetime
) -> None:
    Cosignature.objects.bulk_create(
        [
            Cosignature(
                checkpoint=checkpoint,
                witness=w.name,
                key_name=line.name,
                key_id=line.key_id,
                line=line.line(),
                timestamp=cosignature.line_timestamp(line),
            )
        ],
        ignore_conflicts=True,
    )
    WitnessStatus.objects.filter(name=w.name).update(
        size=checkpoint.size,
        cosigned=F("cosigned") + 1,
        consecutive_failures=0,
        next_attempt=None,
        last_success=now,
    )
    log.info("witness %s cosigned checkpoint %d", w.name, checkpoint.size)


def _record_failure(
    w: WitnessConfig,
    status: WitnessStatus,
    checkpoint: SignedCheckpoint,
    outcome: Outcome,
    now: datetime,
) -> None:
    failures = status.consecutive_failures + 1
    retry = now + timedelta(seconds=_backoff(failures))
    WitnessStatus.objects.filter(name=w.name).update(
        **{_COLUMNS[outcome.kind]: F(_COLUMNS[outcome.kind]) + 1},
        consecutive_failures=F("consecutive_failures") + 1,
        next_attempt=retry,
        last_error=outcome.message[:200],
        last_error_at=now,
    )
    # The witness's name, the sizes and our own words: never a signer's data
    # (a checkpoint holds none), never the witness's whole answer.
    level = logging.ERROR if outcome.kind == "inconsistent" else logging.WARNING
    log.log(
        level,
        "witness %s did not cosign checkpoint %d: %s (failure %d in a row; next try in %.0f s)",
        w.name,
        checkpoint.size,
        outcome.message,
        failures,
        _backoff(failures),
    )


def _judge(
    attempt: _Attempt, checkpoint: SignedCheckpoint
) -> tuple[Outcome, note.Signature | None]:
    if attempt.error == "timeout":
        return Outcome("timeout", "no answer in time"), None
    if attempt.error is not None or attempt.status is None:
        return Outcome("unreachable", "no connection, or it broke"), None
    if len(attempt.answer) > MAX_RESPONSE_BYTES:
        return Outcome("bad_response", f"HTTP {attempt.status} with an oversized body"), None
    if attempt.status == 200:
        try:
            _, lines = witness.parse_add_checkpoint_response(
                checkpoint.note, attempt.answer, [attempt.witness.verifier]
            )
        except note.NoteError as exc:
            return Outcome("bad_response", f"HTTP 200 without a valid cosignature: {exc}"), None
        if not lines:
            return Outcome("bad_response", "HTTP 200 without a cosignature from its key"), None
        return Outcome(COSIGNED), lines[0]
    if attempt.status == 409:
        try:
            size = witness.parse_conflict_body(attempt.answer)
        except witness.RequestError as exc:
            return Outcome("bad_response", f"HTTP 409 with a malformed size: {exc}"), None
        return Outcome("conflict", f"HTTP 409: the witness is at size {size}", size), None
    kind = _STATUS_KINDS.get(attempt.status, "other")
    said = _said(attempt.answer)
    return Outcome(kind, f"HTTP {attempt.status}" + (f": {said}" if said else "")), None


def cosign_round(now: datetime | None = None) -> dict[str, str]:
    """Ask every witness that has not cosigned the latest checkpoint, and is not backing off.

    Returns each asked witness's outcome (``cosigned`` or a failure kind).
    Runs outside any transaction: a witness's answer may take seconds.
    """
    if connection.in_atomic_block:
        raise RuntimeError("witnesses are asked outside any database transaction")
    configured = witnesses()
    if not configured:
        return {}
    latest = latest_checkpoint()
    if latest is None:
        return {}
    now = now or timezone.now()
    statuses = _status_rows(configured)
    have = set(latest.cosignatures.values_list("key_name", "key_id"))
    reader = DbHashReader()
    attempts = []
    for w in configured:
        status = statuses[w.name]
        if _key(w.verifier) in have:
            continue
        if status.next_attempt is not None and status.next_attempt > now:
            continue
        # A witness that says it is past our latest checkpoint is asked from 0
        # again, to learn where it is now (its answer is a 409 with its size).
        old = status.size if status.size <= latest.size else 0
        attempts.append(_Attempt(w, old, _request_body(latest, old, reader)))
    timeout = float(settings.LEDGER_WITNESS_TIMEOUT)
    outcomes: dict[str, str] = {}
    for round_ in range(2):
        if not attempts:
            break
        _post_all(attempts, timeout)
        resend = []
        for attempt in attempts:
            w = attempt.witness
            outcome, line = _judge(attempt, latest)
            if outcome.kind == COSIGNED and line is not None:
                _record_success(w, latest, line, now)
                outcomes[w.name] = COSIGNED
                continue
            if outcome.kind == "conflict" and outcome.witness_size is not None:
                size = outcome.witness_size
                WitnessStatus.objects.filter(name=w.name).update(
                    size=size, conflicts=F("conflicts") + 1
                )
                if size > latest.size:
                    outcome = Outcome(
                        "inconsistent",
                        f"the witness has cosigned size {size} of this log, beyond its "
                        f"latest checkpoint ({latest.size}): it was shown another tree",
                        size,
                    )
                elif size == attempt.old:
                    # tlog-witness: a 409 at the size we sent means another root there.
                    outcome = Outcome(
                        "inconsistent",
                        f"HTTP 409 at the size sent ({size}): the witness holds another tree",
                        size,
                    )
                elif round_ > 0:
                    # Moved again meanwhile (another worker of this site): next round.
                    outcomes[w.name] = "conflict"
                    continue
                else:
                    resend.append(_Attempt(w, size, _request_body(latest, size, reader)))
                    continue
            _record_failure(w, statuses[w.name], latest, outcome, now)
            outcomes[w.name] = outcome.kind
        attempts = resend
    return outcomes


class CosignLoop(threading.Thread):
    """The worker's witness thread: a round whenever woken, or every ``interval`` seconds.

    The worker's own loop only sets :attr:`wake` after a checkpoint; it never
    waits for a witness.
    """

    def __init__(self, interval: float = 1.0) -> None:
        super().__init__(name="cosign", daemon=True)
        self.interval = interval
        self.wake = threading.Event()
        self.stopping = threading.Event()

    def run(self) -> None:
        try:
            while not self.stopping.is_set():
                self.wake.wait(self.interval)
                self.wake.clear()
                if self.stopping.is_set():
                    break
                close_old_connections()
                try:
                    cosign_round()
                except DatabaseError as exc:
                    log.warning("witness round failed: %s", type(exc).__name__)
                except Exception:
                    log.exception("witness round failed")
        finally:
            connection.close()

    def stop(self) -> None:
        self.stopping.set()
        self.wake.set()
