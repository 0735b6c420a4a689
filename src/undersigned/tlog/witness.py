"""A transparency log witness (https://c2sp.org/tlog-witness): ``undersigned witness``.

A witness cosigns a log's checkpoint only if it is consistent with the last
checkpoint of that log it cosigned, so two readers shown two different
histories cannot both hold checkpoints cosigned by the same honest witness.
This module is both sides of the protocol:

* the **client's** helpers, for a log that asks witnesses to cosign:
  :func:`witness_request_body`, :func:`parse_conflict_body` and
  :func:`parse_add_checkpoint_response`;
* the **witness** itself, :class:`Witness` (the checks and the durable state)
  and :func:`serve` (HTTP), run by ``undersigned witness serve``.

HTTP interface (the submission and the monitoring prefix are both the root):

``POST /add-checkpoint``
    Body: ``old <size>\\n``, up to 63 consistency-proof lines (base64 hashes),
    an empty line, then the signed checkpoint. Answers, as the spec says:

    ===  ==============================================================
    200  the cosignature line(s), ``— <witness name> base64(...)\\n``
    400  malformed body or checkpoint, or ``old`` above the checkpoint size
    403  no signature from the log's key, or one that fails to verify
    404  the checkpoint's origin is not a log this witness follows
    409  ``old`` is not the size this witness last cosigned, or it is and so is
         the checkpoint's but the root differs; the body is that size and a
         newline, ``Content-Type: text/x.tlog.size``
    422  the consistency proof does not verify (or a size-0 checkpoint
         without the empty tree's root, or a proof where none belongs)
    ===  ==============================================================

``GET /<hex SHA-256 of the origin>/checkpoint``
    The latest checkpoint this witness cosigned for that log, with the
    log's signature(s) it verified and its own cosignature; 404 if none.

State, in the data directory (``--data``)::

    witness.key                     the private key (mode 0600; never printed)
    logs.list                       the logs followed, in the witness network's
                                    ``logs/v0`` list format (vkey, origin, qpd, contact)
    state/<origin hash>.checkpoint  the last checkpoint cosigned for that log

Durability and forks: under a per-log lock (a thread lock and an ``flock``
on ``state/<origin hash>.lock``, so two processes on one directory are safe
too), the witness reads the stored checkpoint, verifies the request against
it, cosigns, **writes the new state to a temporary file, fsyncs it, renames
it over the old one and fsyncs the directory**, and only then answers with
the cosignature. A crash at any point before the rename leaves the old state
and no cosignature anyone saw; after it, the new state is on disk before
anyone sees the cosignature. So the witness never forgets a checkpoint it
cosigned, and never cosigns one inconsistent with it.

Pure: standard library and ``cryptography`` only.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import errno
import fcntl
import hashlib
import logging
import os
import re
import socket
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Final

from undersigned.tlog import cosignature, merkle, note

ADD_CHECKPOINT_PATH: Final = "/add-checkpoint"
SIZE_CONTENT_TYPE: Final = "text/x.tlog.size"
TEXT_CONTENT_TYPE: Final = "text/plain; charset=utf-8"
MAX_PROOF_LINES: Final = 63
# A checkpoint with 100 ML-DSA-44 signatures is ~330 kB; nothing honest is larger.
MAX_BODY_SIZE: Final = 1 << 20

KEY_FILE: Final = "witness.key"
LOGS_FILE: Final = "logs.list"
STATE_DIR: Final = "state"
LOG_LIST_HEADER: Final = "logs/v0"
DEFAULT_QPD: Final = 86400

_DECIMAL = re.compile(r"0|[1-9][0-9]*")
_ORIGIN_HASH = re.compile(r"[0-9a-f]{64}")

logger = logging.getLogger("undersigned.witness")


class RequestError(ValueError):
    """An add-checkpoint request or response body is malformed."""


class WitnessConfigError(ValueError):
    """The witness's data directory, key or log list is missing or malformed."""


# ---------------------------------------------------------------- protocol


def origin_hash(origin: str) -> str:
    """Return the lowercase hex SHA-256 of a log's origin, as monitoring paths use."""
    return hashlib.sha256(origin.encode("utf-8")).hexdigest()


def monitoring_path(origin: str) -> str:
    """Return the path of a log's latest cosigned checkpoint, below the monitoring prefix."""
    return f"/{origin_hash(origin)}/checkpoint"


def witness_request_body(old_size: int, proof: Sequence[bytes], checkpoint_note: str) -> bytes:
    """Return an add-checkpoint request body: ``old N``, the proof, a blank line, the checkpoint.

    ``proof`` is the RFC 6962 consistency proof from ``old_size`` to the
    checkpoint's size (empty when ``old_size`` is 0 or the sizes are equal).
    """
    if isinstance(old_size, bool) or not 0 <= old_size <= merkle.MAX_TREE_SIZE:
        raise ValueError("old size out of range")
    if len(proof) > MAX_PROOF_LINES:
        raise ValueError("a consistency proof has at most 63 hashes")
    if any(len(h) != merkle.HASH_SIZE for h in proof):
        raise ValueError("consistency proof hashes are 32 bytes")
    if not checkpoint_note.endswith("\n"):
        raise ValueError("a signed checkpoint ends in a newline")
    lines = [f"old {old_size}", *(base64.b64encode(h).decode("ascii") for h in proof)]
    return ("".join(line + "\n" for line in lines) + "\n" + checkpoint_note).encode("utf-8")


@dataclass(frozen=True)
class AddCheckpointRequest:
    """A parsed add-checkpoint request body."""

    old_size: int
    proof: tuple[bytes, ...]
    # The signed checkpoint as sent: note text, blank line, signature lines.
    checkpoint_note: str

    @property
    def origin(self) -> str:
        return self.checkpoint_note.split("\n", 1)[0]


def parse_request_body(body: bytes) -> AddCheckpointRequest:
    """Parse an add-checkpoint body; raises :class:`RequestError` (answered with 400)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RequestError("the body is not UTF-8") from exc
    head, sep, checkpoint_note = text.partition("\n\n")
    if not sep:
        raise RequestError("no empty line before the checkpoint")
    lines = head.split("\n")
    old_text = lines[0].removeprefix("old ")
    if not lines[0].startswith("old ") or not _DECIMAL.fullmatch(old_text):
        raise RequestError("the first line must be 'old <size>' in decimal without leading zeros")
    old_size = int(old_text)
    if old_size > merkle.MAX_TREE_SIZE:
        raise RequestError("old size out of range")
    if len(lines) - 1 > MAX_PROOF_LINES:
        raise RequestError("more than 63 consistency proof lines")
    proof: list[bytes] = []
    for line in lines[1:]:
        raw = merkle.b64decode_canonical(line)
        if raw is None or len(raw) != merkle.HASH_SIZE:
            raise RequestError("a consistency proof line is not the base64 of a 32-byte hash")
        proof.append(raw)
    if not checkpoint_note or not checkpoint_note.split("\n", 1)[0]:
        raise RequestError("the checkpoint has no origin line")
    return AddCheckpointRequest(old_size, tuple(proof), checkpoint_note)


def parse_conflict_body(body: bytes) -> int:
    """Return the witness's size from a 409 body (``<size>\\n``); raises :class:`RequestError`."""
    text = body.decode("ascii", errors="replace")
    if not text.endswith("\n") or not _DECIMAL.fullmatch(text[:-1]):
        raise RequestError("a 409 body is the witness's tree size and a newline")
    size = int(text[:-1])
    if size > merkle.MAX_TREE_SIZE:
        raise RequestError("tree size out of range")
    return size


def parse_add_checkpoint_response(
    checkpoint_note: str,
    body: bytes,
    witnesses: Sequence[cosignature.CosignatureVerifier],
) -> tuple[str, list[note.Signature]]:
    """Check a 200 response's cosignature lines and add them to the checkpoint.

    Lines from keys other than ``witnesses`` are ignored, as the spec says; a
    line from one of them that fails to verify, or a body with none of them,
    raises :class:`~undersigned.tlog.note.NoteError`. Returns the checkpoint
    with the new cosignatures appended, and the verified lines.
    """
    return cosignature.add_cosignatures(checkpoint_note, body, witnesses)


# ---------------------------------------------------------------- log list


@dataclass(frozen=True)
class LogEntry:
    """A log this witness follows: its origin and the key its checkpoints are signed with."""

    origin: str
    vkey: str
    verifier: note.NoteVerifier
    qpd: int = DEFAULT_QPD
    contact: str = "unknown"

    def to_lines(self) -> list[str]:
        lines = [f"vkey {self.vkey}"]
        if self.origin != self.verifier.name:
            lines.append(f"origin {self.origin}")
        return [*lines, f"qpd {self.qpd}", f"contact {self.contact}"]


def log_entry(
    vkey: str, origin: str | None = None, qpd: int = DEFAULT_QPD, contact: str = "unknown"
) -> LogEntry:
    """Return a log entry for a log key (0x01 Ed25519 or 0x06 ML-DSA-44); raises ValueError."""
    try:
        verifier = cosignature.log_verifier_from_key(vkey)
    except cosignature.CosignatureError as exc:
        raise WitnessConfigError(f"log key: {exc}") from exc
    origin = verifier.name if origin is None else origin
    if not origin or "\n" in origin or origin != origin.strip(" \t"):
        raise WitnessConfigError("an origin is one non-empty line without surrounding blanks")
    if not 1 <= qpd < 1 << 31:
        raise WitnessConfigError("qpd must be between 1 and 2^31 - 1")
    contact = contact.strip(" \t")
    if not contact or "\n" in contact:
        raise WitnessConfigError("a contact is one non-empty line")
    return LogEntry(origin, vkey, verifier, qpd, contact)


def parse_log_list(text: str) -> dict[str, LogEntry]:
    """Parse a ``logs/v0`` log list into entries by origin.

    Lines are stripped of spaces and tabs; blank lines and ``#`` comments are
    ignored; each log is ``vkey``, optional ``origin``, ``qpd``, ``contact``.
    Like the witness network's own tools, a missing ``qpd`` or ``contact`` is
    tolerated and unknown keys are skipped. Raises :class:`WitnessConfigError`.
    """
    entries: dict[str, LogEntry] = {}
    fields: dict[str, str] = {}
    seen_header = False

    def finish() -> None:
        if not fields:
            return
        qpd_text = fields.get("qpd", str(DEFAULT_QPD))
        if not _DECIMAL.fullmatch(qpd_text):
            raise WitnessConfigError(f"qpd {qpd_text!r} is not a decimal")
        entry = log_entry(
            fields["vkey"], fields.get("origin"), int(qpd_text), fields.get("contact", "unknown")
        )
        if entry.origin in entries:
            raise WitnessConfigError(f"two logs with the origin {entry.origin!r}")
        entries[entry.origin] = entry
        fields.clear()

    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.strip(" \t")
        if not line or line.startswith("#"):
            continue
        try:
            if not seen_header:
                if line != LOG_LIST_HEADER:
                    raise WitnessConfigError(f"the list must start with {LOG_LIST_HEADER!r}")
                seen_header = True
                continue
            key, _, value = line.partition(" ")
            value = value.strip(" \t")
            if key == "vkey":
                finish()
                if not value:
                    raise WitnessConfigError("empty vkey")
                fields["vkey"] = value
            elif not fields:
                raise WitnessConfigError(f"expected a vkey line, got {key!r}")
            elif key in ("origin", "qpd", "contact"):
                fields[key] = value
        except WitnessConfigError as exc:
            raise WitnessConfigError(f"{LOGS_FILE} line {number}: {exc}") from None
    try:
        finish()
    except WitnessConfigError as exc:
        raise WitnessConfigError(f"{LOGS_FILE}: {exc}") from None
    if not seen_header and text.strip(" \t\n"):
        raise WitnessConfigError(f"{LOGS_FILE}: no {LOG_LIST_HEADER!r} header")
    return entries


def format_log_list(entries: Sequence[LogEntry]) -> str:
    """Return a ``logs/v0`` list of the entries, as :func:`parse_log_list` reads it."""
    lines = [LOG_LIST_HEADER]
    for entry in entries:
        lines += ["", *entry.to_lines()]
    return "".join(line + "\n" for line in lines)


# ---------------------------------------------------------------- files


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomically(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Replace ``path`` with ``data`` so a crash leaves either the old or the new file, whole."""
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise
    _fsync_dir(path.parent)


def _prepare_data_dir(data: Path) -> None:
    data.mkdir(mode=0o700, parents=True, exist_ok=True)
    (data / STATE_DIR).mkdir(mode=0o700, exist_ok=True)


def generate_key(data: Path, name: str, algorithm: str = cosignature.MLDSA44) -> str:
    """Create the witness's key inside ``data`` and return its verifier key.

    The private key is written only to ``data/witness.key`` (mode 0600,
    created exclusively: an existing key is never overwritten).
    """
    signer = cosignature.CosignatureSigner.generate(name, algorithm)
    _prepare_data_dir(data)
    path = data / KEY_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise WitnessConfigError(f"{path} already exists; a witness keeps its key") from None
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(signer.signer_key() + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    _fsync_dir(data)
    return signer.verifier_key()


def load_signer(data: Path) -> cosignature.CosignatureSigner:
    path = data / KEY_FILE
    try:
        text = path.read_text(encoding="ascii")
    except FileNotFoundError:
        raise WitnessConfigError(
            f"no key in {data}: run 'undersigned witness keygen --data {data}' first"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise WitnessConfigError(f"cannot read {path}: {exc}") from exc
    try:
        return cosignature.CosignatureSigner.from_key(text)
    except cosignature.CosignatureError as exc:
        # Never the key's text in the message.
        raise WitnessConfigError(f"{path} does not hold a witness key: {exc}") from None


def load_logs(data: Path) -> dict[str, LogEntry]:
    try:
        text = (data / LOGS_FILE).read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise WitnessConfigError(f"cannot read {data / LOGS_FILE}: {exc}") from exc
    return parse_log_list(text)


def add_log(data: Path, entry: LogEntry) -> None:
    """Add (or, for a known origin, replace the key of) a log in ``data/logs.list``."""
    _prepare_data_dir(data)
    with _file_lock(data / f".{LOGS_FILE}.lock"):
        logs = load_logs(data)
        logs[entry.origin] = entry
        write_atomically(data / LOGS_FILE, format_log_list(list(logs.values())).encode("utf-8"))


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


# ---------------------------------------------------------------- witness


@dataclass(frozen=True)
class Response:
    """An HTTP answer: status, content type and body."""

    status: int
    body: bytes
    content_type: str = TEXT_CONTENT_TYPE

    @classmethod
    def text(cls, status: int, message: str) -> Response:
        return cls(status, (message + "\n").encode("utf-8"))


@dataclass(frozen=True)
class LogState:
    """What the witness last cosigned for one log (size 0 and no note: never)."""

    size: int
    root_hash: bytes
    checkpoint_note: str | None


# Points in add-checkpoint where a test may stop the process (see Witness.hook).
HOOK_VERIFIED: Final = "verified"
HOOK_TEMP_WRITTEN: Final = "temp-written"
HOOK_STORED: Final = "stored"
HOOK_ANSWERED: Final = "answered"


class Witness:
    """The witness's checks and state for every log it follows; HTTP-free."""

    def __init__(
        self,
        data: Path,
        signer: cosignature.CosignatureSigner | None = None,
        hook: Callable[[str], None] | None = None,
    ) -> None:
        self.data = Path(data)
        _prepare_data_dir(self.data)
        self.signer = signer if signer is not None else load_signer(self.data)
        # Called with HOOK_* names as a request passes those points; tests use
        # it to crash the process between verifying and storing.
        self.hook = hook or (lambda point: None)
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        self._logs: dict[str, LogEntry] = {}
        self._logs_stamp: tuple[int, int] | None = None
        self._logs_guard = threading.Lock()
        self.logs()
        self._remove_stale_temporaries()

    def _remove_stale_temporaries(self) -> None:
        # Left by a crash between writing and renaming: never the state itself.
        for path in (self.data / STATE_DIR).glob(".*.tmp"):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    def logs(self) -> dict[str, LogEntry]:
        """The followed logs by origin, re-read when ``logs.list`` changes."""
        path = self.data / LOGS_FILE
        with self._logs_guard:
            try:
                info = path.stat()
                stamp: tuple[int, int] | None = (info.st_mtime_ns, info.st_size)
            except FileNotFoundError:
                stamp = None
            if stamp != self._logs_stamp or stamp is None:
                self._logs = load_logs(self.data)
                self._logs_stamp = stamp
            return dict(self._logs)

    def _state_path(self, origin: str) -> Path:
        return self.data / STATE_DIR / f"{origin_hash(origin)}.checkpoint"

    @contextlib.contextmanager
    def _log_lock(self, origin: str) -> Iterator[None]:
        with self._locks_guard:
            lock = self._locks.setdefault(origin, threading.Lock())
        with lock, _file_lock(self.data / STATE_DIR / f"{origin_hash(origin)}.lock"):
            yield

    def state(self, origin: str) -> LogState:
        """Read what was last cosigned for ``origin``.

        A state file that cannot be read is an error, never "nothing cosigned":
        treating it as empty would let the witness cosign a fork.
        """
        path = self._state_path(origin)
        try:
            stored = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return LogState(0, merkle.EMPTY_ROOT, None)
        split = stored.rfind("\n\n")
        try:
            checkpoint = merkle.Checkpoint.parse(stored[: split + 1])
        except ValueError as exc:
            raise WitnessConfigError(f"{path} is corrupt: {exc}") from exc
        if split < 0 or checkpoint.origin != origin:
            raise WitnessConfigError(f"{path} is not a checkpoint of {origin!r}")
        return LogState(checkpoint.size, checkpoint.root_hash, stored)

    def latest(self, hashed_origin: str) -> Response:
        """Answer a monitor's ``GET /<origin hash>/checkpoint``."""
        if not _ORIGIN_HASH.fullmatch(hashed_origin):
            return Response.text(404, "not found")
        for origin in self.logs():
            if origin_hash(origin) == hashed_origin:
                stored = self.state(origin).checkpoint_note
                if stored is not None:
                    return Response(200, stored.encode("utf-8"))
        return Response.text(404, "this witness has not cosigned a checkpoint of that log")

    def add_checkpoint(self, body: bytes) -> Response:
        """Answer ``POST /add-checkpoint``: the checks and status codes of tlog-witness."""
        try:
            request = parse_request_body(body)
        except RequestError as exc:
            return Response.text(400, str(exc))
        log = self.logs().get(request.origin)
        if log is None:
            return Response.text(404, "unknown log origin")
        try:
            text, verified = note.open_note(request.checkpoint_note, [log.verifier])
        except (note.UnverifiedNoteError, note.InvalidSignatureError) as exc:
            return Response.text(403, str(exc))
        except note.NoteError as exc:
            return Response.text(400, str(exc))
        try:
            checkpoint = merkle.Checkpoint.parse(text)
        except ValueError as exc:
            return Response.text(400, f"not a checkpoint: {exc}")
        if request.old_size > checkpoint.size:
            return Response.text(400, "old size is larger than the checkpoint's size")

        with self._log_lock(log.origin):
            state = self.state(log.origin)
            # tlog-witness: 409 also when the sizes match but the roots do not.
            same_size_fork = (
                0 < request.old_size == checkpoint.size and checkpoint.root_hash != state.root_hash
            )
            if request.old_size != state.size or same_size_fork:
                if same_size_fork:
                    logger.warning("refused %s: size %d with another root", log.origin, state.size)
                return Response(409, f"{state.size}\n".encode("ascii"), SIZE_CONTENT_TYPE)
            refusal = _consistency_refusal(request, checkpoint, state)
            if refusal is not None:
                logger.warning(
                    "refused %s: size %d from %d: %s",
                    log.origin,
                    checkpoint.size,
                    request.old_size,
                    refusal,
                )
                return Response.text(422, refusal)
            self.hook(HOOK_VERIFIED)
            line = self.signer.cosign(text)
            stored = text + "\n" + cosignature.signature_lines([*verified, line])
            self._store(log.origin, stored)
            self.hook(HOOK_STORED)
        logger.info("cosigned %s at size %d", log.origin, checkpoint.size)
        return Response(200, line.line().encode("utf-8"))

    def _store(self, origin: str, stored: str) -> None:
        path = self._state_path(origin)
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(stored.encode("utf-8"))
                handle.flush()
                os.fsync(handle.fileno())
            self.hook(HOOK_TEMP_WRITTEN)
            os.replace(temp, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)
            raise
        _fsync_dir(path.parent)


def _consistency_refusal(
    request: AddCheckpointRequest, checkpoint: merkle.Checkpoint, state: LogState
) -> str | None:
    """Why the checkpoint does not extend the stored state (answered with 422), or None."""
    if checkpoint.size == 0 and checkpoint.root_hash != merkle.EMPTY_ROOT:
        return "a checkpoint of size 0 must have the empty tree's root"
    if request.old_size == 0:
        if request.proof:
            return "no consistency proof is needed (or allowed) from size 0"
        return None
    if request.old_size == checkpoint.size:
        if request.proof:
            return "no consistency proof is needed (or allowed) between equal sizes"
        return None  # a different root was answered with 409 before this
    try:
        merkle.check_tree(
            request.proof, checkpoint.size, checkpoint.root_hash, state.size, state.root_hash
        )
    except merkle.ProofError as exc:
        return f"consistency proof does not verify: {exc}"
    return None


# ---------------------------------------------------------------- HTTP


class _Handler(BaseHTTPRequestHandler):
    # Keep-alive, as the spec asks clients and witnesses to use.
    protocol_version = "HTTP/1.1"
    server_version = "undersigned-witness"
    # A client that stops sending mid-request holds a thread only this long.
    timeout = 30
    witness: Witness

    def version_string(self) -> str:
        # No Python version in the Server header.
        return self.server_version

    def _send(self, response: Response, head_only: bool = False) -> None:
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        self.send_header("Cache-Control", "no-store")
        if response.status == 405:
            self.send_header("Allow", "POST" if self.path == ADD_CHECKPOINT_PATH else "GET, HEAD")
        self.end_headers()
        if not head_only:
            self.wfile.write(response.body)

    def _read_body(self) -> bytes | None:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        length_text = self.headers.get("Content-Length")
        if length_text is None or not length_text.isdigit():
            self._send(Response.text(411, "a Content-Length is required"))
            self.close_connection = True
            return None
        length = int(length_text)
        if length > MAX_BODY_SIZE:
            self._send(Response.text(400, "the body is too large"))
            self.close_connection = True
            return None
        return self.rfile.read(length)

    def _read_chunked(self) -> bytes | None:
        body = bytearray()
        while True:
            size_line = self.rfile.readline(64).split(b";", 1)[0].strip()
            try:
                size = int(size_line, 16)
            except ValueError:
                size = -1
            if size < 0 or len(body) + size > MAX_BODY_SIZE:
                self._send(Response.text(400, "bad or too large chunked body"))
                self.close_connection = True
                return None
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass
                return bytes(body)
            body += self.rfile.read(size)
            self.rfile.readline(8)

    def do_POST(self) -> None:
        if self.path != ADD_CHECKPOINT_PATH:
            self._send(Response.text(404, "not found"))
            return
        body = self._read_body()
        if body is None:
            return
        try:
            response = self.witness.add_checkpoint(body)
        except WitnessConfigError as exc:
            logger.error("%s", exc)
            response = Response.text(500, "the witness's state is unreadable")
        self._send(response)
        self.wfile.flush()
        self.witness.hook(HOOK_ANSWERED)

    def _get(self, head_only: bool) -> None:
        if self.path == ADD_CHECKPOINT_PATH:
            self._send(Response.text(405, "add-checkpoint takes POST"), head_only)
            return
        parts = self.path.split("/")
        if len(parts) == 3 and parts[0] == "" and parts[2] == "checkpoint":
            try:
                response = self.witness.latest(parts[1])
            except WitnessConfigError as exc:
                logger.error("%s", exc)
                response = Response.text(500, "the witness's state is unreadable")
        else:
            response = Response.text(404, "not found")
        self._send(response, head_only)

    def do_GET(self) -> None:
        self._get(head_only=False)

    def do_HEAD(self) -> None:
        self._get(head_only=True)

    def log_message(self, format: str, *args: object) -> None:
        # The request line and status, never the client's address.
        logger.debug("%s", format % args)


class WitnessServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], witness: Witness) -> None:
        handler = type("Handler", (_Handler,), {"witness": witness})
        super().__init__(address, handler)
        self.witness = witness


def parse_listen(listen: str) -> tuple[str, int]:
    """Parse ``HOST:PORT`` (``[::1]:PORT`` for IPv6)."""
    host, sep, port = listen.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"--listen {listen!r} is not HOST:PORT")
    return host.strip("[]") or "127.0.0.1", int(port)


def make_server(
    data: Path, listen: str, hook: Callable[[str], None] | None = None
) -> WitnessServer:
    """Return a witness HTTP server for ``data`` bound to ``listen`` (not yet serving)."""
    witness = Witness(data, hook=hook)
    address = parse_listen(listen)
    server_class: type[WitnessServer] = WitnessServer
    if ":" in address[0]:
        server_class = type("WitnessServer6", (WitnessServer,), {"address_family": socket.AF_INET6})
    return server_class(address, witness)


# ---------------------------------------------------------------- command line

_EPILOG = """\
A witness cosigns a log's checkpoint only if it extends the last checkpoint of
that log it cosigned (c2sp.org/tlog-witness). Its key is created by 'keygen'
inside --data and never leaves it; give the printed verifier key to the
log's operator and to readers (their tlog-policy 'witness' line).

The data directory holds witness.key (the private key, mode 0600), logs.list
(the logs followed) and state/ (the last cosigned checkpoint of each log).
'serve' answers POST /add-checkpoint and, for monitors,
GET /<hex SHA-256 of the origin>/checkpoint.

examples:
  undersigned witness keygen --data /var/lib/witness --name news.example/witness
  undersigned witness add-log --data /var/lib/witness \\
      --key 'petitions.example.org/log+1a2b3c4d+AR...'
  undersigned witness serve --data /var/lib/witness --listen 127.0.0.1:7380

"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="undersigned witness",
        description="Run a transparency log witness (c2sp.org/tlog-witness).",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    keygen = commands.add_parser(
        "keygen",
        help="create the witness's key in the data directory and print its verifier key",
        epilog="examples:\n  undersigned witness keygen --data /var/lib/witness "
        "--name news.example/witness\n\n",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    keygen.add_argument("--data", type=Path, required=True, help="the witness's data directory")
    keygen.add_argument(
        "--name",
        required=True,
        help="the witness's key name, a schema-less URL such as news.example/witness",
    )
    keygen.add_argument(
        "--algorithm",
        choices=[cosignature.MLDSA44, cosignature.ED25519],
        default=cosignature.MLDSA44,
        help="cosignature type: ML-DSA-44 (the default, as tlog-witness recommends) "
        "or Ed25519 (cosignature/v1)",
    )

    add = commands.add_parser(
        "add-log",
        help="follow a log: its verifier key (and origin, if not the key's name)",
        epilog="examples:\n  undersigned witness add-log --data /var/lib/witness "
        "--key 'petitions.example.org/log+1a2b3c4d+AR...'\n\n",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add.add_argument("--data", type=Path, required=True, help="the witness's data directory")
    add.add_argument("--key", required=True, help="the log's verifier key (or @FILE holding it)")
    add.add_argument("--origin", help="the log's origin line, if it is not the key's name")
    add.add_argument("--qpd", type=int, default=DEFAULT_QPD, help="expected requests per day")
    add.add_argument("--contact", default="unknown", help="how to reach the log's operator")

    serve_cmd = commands.add_parser(
        "serve",
        help="answer add-checkpoint requests over HTTP",
        epilog="examples:\n  undersigned witness serve --data /var/lib/witness "
        "--listen 127.0.0.1:7380\n\n",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    serve_cmd.add_argument("--data", type=Path, required=True, help="the witness's data directory")
    serve_cmd.add_argument(
        "--listen", default="127.0.0.1:7380", help="HOST:PORT to listen on (default %(default)s)"
    )
    return parser


def _read_key_argument(value: str) -> str:
    if value.startswith("@"):
        return Path(value[1:]).read_text(encoding="utf-8").strip()
    return value.strip()


def main(argv: Sequence[str] | None = None) -> int:
    """``undersigned witness``: returns the exit status (0 ok, 1 error, 2 usage)."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        if args.command == "keygen":
            print(generate_key(args.data, args.name, args.algorithm))
            return 0
        if args.command == "add-log":
            entry = log_entry(_read_key_argument(args.key), args.origin, args.qpd, args.contact)
            add_log(args.data, entry)
            print(f"following {entry.origin}")
            return 0
        server = make_server(args.data, args.listen)
    except (WitnessConfigError, ValueError, OSError) as exc:
        if isinstance(exc, OSError) and exc.errno == errno.EADDRINUSE:
            print(f"undersigned witness: {args.listen} is in use", file=sys.stderr)
        else:
            print(f"undersigned witness: {exc}", file=sys.stderr)
        return 1
    host, port = server.socket.getsockname()[:2]
    print(
        f"witness {server.witness.signer.verifier_key()}\n"
        f"following {len(server.witness.logs())} log(s); listening on http://{host}:{port}/",
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
