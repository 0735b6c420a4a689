"""``undersigned verify``: check a site's public log without trusting the site.

The verifier needs only the log's verifier key, obtained from somewhere other
than the site itself. It then:

1. fetches ``log/checkpoint`` and checks its signature with the key, and that
   its origin is the key's name;
2. fetches every entry bundle and every hash tile the checkpoint commits to,
   checks each entry's leaf hash against the tiles (which are themselves
   checked against the signed root) and recomputes the root from the entries;
3. recomputes each petition's verified count from the entries;
4. unless told not to, compares those counts with ``verified_count`` in
   ``api/petitions/<slug>``, and checks that no petition listed at
   ``api/petitions`` shows verified signatures the log does not have (retrying
   a few times, since the live count can move while it runs);
5. compares the checkpoint with the one accepted on the previous run, kept in
   a state file: a smaller log is a rollback, and a larger one must come with a
   valid consistency proof. Only when every check passes is the new checkpoint
   written to the state file.

Exit codes (``main``; :class:`VerifyError` carries the same numbers):

====  ====================================================================
0     every check passed; the state file now records this checkpoint
1     usage error, or a network or HTTP error (nothing concluded about the log)
2     the checkpoint's signature or format is invalid, or its origin is not
      the key's name
3     rollback: the log is smaller than a checkpoint accepted before
4     fork: the log is not consistent with a checkpoint accepted before
5     the log's entries or tiles do not match the signed checkpoint, or an
      entry is malformed or breaks the counting rules
6     a petition's verified count in the API differs from the log's
====  ====================================================================

Pure: this module uses the standard library and the server-independent
modules :mod:`undersigned.tlog.merkle`, :mod:`~undersigned.tlog.note` and
:mod:`~undersigned.tlog.entries`, never Django or the server's code, so it
runs anywhere the package is installed, with no settings and no database.
The format it checks is specified in ``docs/log-format.md``.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import http.client
import json
import os
import re
import shutil
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, NoReturn, Protocol, TextIO

from undersigned.tlog import entries as log_entries
from undersigned.tlog.merkle import (
    HASH_SIZE,
    TILE_WIDTH,
    Checkpoint,
    ProofError,
    Tile,
    TileHashReader,
    check_tree,
    decode_entry_bundle,
    entry_bundle_path,
    leaf_hash,
    root_from_leaf_hashes,
    stored_hash_index,
)
from undersigned.tlog.note import NoteError, Verifier, open_note

OK: Final = 0
EXIT_USAGE: Final = 1
EXIT_SIGNATURE: Final = 2
EXIT_ROLLBACK: Final = 3
EXIT_FORK: Final = 4
EXIT_CONTENT: Final = 5
EXIT_COUNT: Final = 6

EXIT_CODES_HELP: Final = """\
exit codes:
  0  every check passed; the state file now records this checkpoint
  1  usage error, or a network or HTTP error (nothing concluded about the log)
  2  the checkpoint's signature or format is invalid, or its origin is not the key's name
  3  rollback: the log is smaller than a checkpoint accepted before
  4  fork: the log is not consistent with a checkpoint accepted before
  5  the log's entries or tiles do not match the signed checkpoint,
     or an entry is malformed or breaks the counting rules
  6  a petition's verified count in the API differs from the log's
"""

USER_AGENT: Final = "undersigned-verify/1 (log format 1; +https://c2sp.org/tlog-tiles)"
DEFAULT_TIMEOUT: Final = 30.0
# A full entry bundle is at most 256 * (2 + 65,535) bytes; nothing we fetch is larger.
MAX_RESPONSE_BYTES: Final = TILE_WIDTH * (2 + 0xFFFF) + 1024

API_RETRIES: Final = 3
# Read when main() runs, so tests can shorten it.
RETRY_PAUSE = 2.0

STATE_VERSION: Final = 1

_CONTENT_MISMATCH: Final = "log content does not match the signed checkpoint"


class VerifyError(Exception):
    """A check failed; ``code`` is the exit code and ``message`` says why, in one line."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class FetchError(Exception):
    """A request failed: no connection, a timeout, or an HTTP status other than 200.

    ``status`` is the HTTP status, or None when there was no HTTP response.
    """

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class Fetcher(Protocol):
    """Reads one resource of the site, by path relative to the site's base URL."""

    def get(self, path: str) -> bytes:
        """Return the body of a 200 response for ``path`` (e.g. ``log/checkpoint``).

        Raises :class:`FetchError` for anything else.
        """
        ...


class HttpFetcher:
    """A :class:`Fetcher` over HTTP(S) with urllib: a timeout, a size limit, our User-Agent."""

    def __init__(self, base_url: str, timeout: float = DEFAULT_TIMEOUT) -> None:
        parts = urllib.parse.urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"{base_url!r} is not an http:// or https:// URL")
        if parts.query or parts.fragment:
            raise ValueError(f"{base_url!r}: give the site's base URL, without ? or #")
        path = parts.path if parts.path.endswith("/") else parts.path + "/"
        self.base_url = urllib.parse.urlunsplit((parts.scheme, parts.netloc, path, "", ""))
        self.timeout = timeout

    def get(self, path: str) -> bytes:
        url = self.base_url + path
        request = urllib.request.Request(  # noqa: S310 (the scheme is checked in __init__)
            url, headers={"User-Agent": USER_AGENT, "Accept": "*/*"}
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310  # nosec B310
                body: bytes = response.read(MAX_RESPONSE_BYTES + 1)
                status: int = response.status
        except urllib.error.HTTPError as exc:
            detail = _error_detail(exc)
            message = f"GET {url}: HTTP {exc.code} {exc.reason}"
            raise FetchError(message + (f": {detail}" if detail else ""), exc.code) from None
        except urllib.error.URLError as exc:
            raise FetchError(f"GET {url}: {_reason(exc.reason)}") from None
        except (OSError, http.client.HTTPException, ValueError) as exc:
            raise FetchError(f"GET {url}: {_reason(exc)}") from None
        if status != 200:
            raise FetchError(f"GET {url}: HTTP {status}", status)
        if len(body) > MAX_RESPONSE_BYTES:
            raise FetchError(f"GET {url}: response larger than {MAX_RESPONSE_BYTES} bytes")
        return body


def _reason(reason: object) -> str:
    if isinstance(reason, TimeoutError):
        return "timed out"
    text = str(reason) or type(reason).__name__
    return text.replace("\n", " ")


def _error_detail(exc: urllib.error.HTTPError) -> str:
    # The log answers 400s with a one-line reason worth showing.
    try:
        body = exc.read(500) if exc.fp is not None else b""
    except (OSError, http.client.HTTPException):
        return ""
    text = body.decode("utf-8", "replace").strip()
    if text.lstrip().startswith("<"):
        return ""  # an HTML error page says nothing useful on one line
    line = text.splitlines()[0] if text else ""
    return line[:200]


# (stage, done, total), as undersigned.core.progress reports it on the Django side.
Progress = Callable[[str, int, int], None]


def _no_progress(stage: str, done: int, total: int) -> None:
    return None


class ProgressLine:
    """One line on a terminal, redrawn in place: stage, done/total, rate and ETA.

    Plain stdlib rather than rich (which the server's own commands use): the
    verifier promises to run on nothing but the standard library and the pure
    ledger modules, so an auditor can read or copy it whole, and one line is all
    a run that fetches and hashes the log needs. It draws only when the stream is
    a terminal; piped, or under --json, stderr stays as it was.
    """

    INTERVAL: Final = 0.1  # seconds between redraws: a fast log would flood the terminal

    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        enabled: bool | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.clock = clock
        self._stage = ""
        self._started = 0.0
        self._drawn_at = 0.0
        self._width = 0

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        now = self.clock()
        if stage != self._stage:
            self._stage, self._started, self._drawn_at = stage, now, 0.0
        elif done < total and now - self._drawn_at < self.INTERVAL:
            return
        self._drawn_at = now
        self._draw(self.line(stage, done, total, now - self._started))

    @staticmethod
    def line(stage: str, done: int, total: int, elapsed: float) -> str:
        text = f"verify: {stage} {done:,}/{total:,}"
        if total:
            text += f" ({100 * done // total}%)"
        if elapsed > 0 and done:
            rate = done / elapsed
            text += f", {rate:,.0f}/s"
            if done < total:
                text += f", ETA {_duration((total - done) / rate)}"
        return text

    def _draw(self, text: str) -> None:
        # A line wider than the terminal wraps, and \r would then redraw only its tail.
        width = max(20, shutil.get_terminal_size((80, 24)).columns - 1)
        text = text[:width]
        self.stream.write("\r" + text.ljust(self._width))
        self.stream.flush()
        self._width = len(text)

    def clear(self) -> None:
        """Erase the line, so that what is printed next starts on a clean one."""
        if self.enabled and self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()
            self._width = 0


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds + 0.5), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class _CachingFetcher:
    """Caches tiles and bundles for one run: a tile path's contents never change."""

    def __init__(self, fetcher: Fetcher) -> None:
        self._fetcher = fetcher
        self._cache: dict[str, bytes] = {}

    def get(self, path: str) -> bytes:
        if not path.startswith("log/tile/"):
            return self._fetcher.get(path)
        if path not in self._cache:
            self._cache[path] = self._fetcher.get(path)
        return self._cache[path]


class _FetcherTileReader:
    """A merkle.TileReader that fetches ``log/<tile path>``."""

    def __init__(self, fetcher: Fetcher, progress: Progress = _no_progress) -> None:
        self._fetcher = fetcher
        self._progress = progress

    def read_tiles(self, tiles: Sequence[Tile]) -> list[bytes]:
        found = []
        for tile in tiles:
            found.append(_get(self._fetcher, "log/" + tile.path))
            self._progress("fetching hash tiles", len(found), len(tiles))
        return found


# ---------------------------------------------------------------- the report


@dataclass(frozen=True)
class PetitionReport:
    slug: str
    verified: int
    withdrawn: int
    invalidated: int
    api_verified: int | None = None  # None when the API was not consulted

    def as_dict(self) -> dict[str, Any]:
        return {
            "verified": self.verified,
            "withdrawn": self.withdrawn,
            "invalidated": self.invalidated,
            "api_verified": self.api_verified,
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
            "checked_at": _format_time(self.checked_at),
            "petitions": {p.slug: p.as_dict() for p in self.petitions},
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
                if p.api_verified is not None:
                    counted += f" = {p.api_verified} (API)"
                lines.append(f"  {p.slug:<{width}}  {counted}")
        lines.append("all checks passed")
        return "\n".join(lines)


def _format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------- state


@dataclass(frozen=True)
class _State:
    size: int
    root: bytes


def default_state_path(origin: str) -> Path:
    """``$XDG_STATE_HOME/undersigned/verify-<origin>.json``, else under ``~/.local/state``."""
    base_text = os.environ.get("XDG_STATE_HOME", "")
    # The XDG spec says to ignore a relative path.
    base = Path(base_text) if os.path.isabs(base_text) else Path.home() / ".local" / "state"
    return base / "undersigned" / f"verify-{sanitise_origin(origin)}.json"


def sanitise_origin(origin: str) -> str:
    """A file-name-safe spelling of an origin (the state file records the exact origin)."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", origin).strip("._-")
    return safe[:120] or "log"


def _load_state(path: Path, origin: str) -> _State | None:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise VerifyError(EXIT_USAGE, f"cannot read state file {path}: {_reason(exc)}") from None
    try:
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        stored_origin, size, root_b64 = data["origin"], data["size"], data["root"]
        if not isinstance(stored_origin, str) or not isinstance(root_b64, str):
            raise ValueError("origin and root must be strings")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise ValueError("size must be a non-negative integer")
        root = base64.b64decode(root_b64, validate=True)
        if len(root) != HASH_SIZE:
            raise ValueError("root must be the base64 of 32 bytes")
    except KeyError as exc:
        raise VerifyError(
            EXIT_USAGE, f"state file {path} is not a verifier state file: no {exc}"
        ) from None
    except (ValueError, binascii.Error) as exc:
        raise VerifyError(
            EXIT_USAGE, f"state file {path} is not a verifier state file: {_reason(exc)}"
        ) from None
    if stored_origin != origin:
        raise VerifyError(
            EXIT_USAGE,
            f"state file {path} is for the log {stored_origin!r}, not {origin!r}; "
            "use --state to choose another file",
        )
    return _State(size, root)


def _write_state(path: Path, report: Report) -> None:
    data = {
        "version": STATE_VERSION,
        "origin": report.origin,
        "size": report.size,
        "root": report.root_b64,
        "checkpoint": report.checkpoint,
        "time": _format_time(report.checked_at),
    }
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as tmp:
                tmp.write(text)
                tmp.flush()
                os.fsync(tmp.fileno())
            os.replace(tmp_name, path)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise VerifyError(
            EXIT_USAGE,
            f"every check passed, but the state file {path} could not be written: {_reason(exc)}",
        ) from None


# ---------------------------------------------------------------- the checks


def _get(fetcher: Fetcher, path: str) -> bytes:
    try:
        return fetcher.get(path)
    except FetchError as exc:
        raise VerifyError(EXIT_USAGE, str(exc)) from None


def _fetch_checkpoint(fetcher: Fetcher, verifier: Verifier) -> tuple[str, Checkpoint]:
    signed = _get(fetcher, "log/checkpoint")
    try:
        text, _ = open_note(signed, [verifier])
    except NoteError as exc:
        raise VerifyError(EXIT_SIGNATURE, f"checkpoint signature invalid: {exc}") from None
    try:
        checkpoint = Checkpoint.parse(text)
    except ValueError as exc:
        raise VerifyError(EXIT_SIGNATURE, f"checkpoint format invalid: {exc}") from None
    if checkpoint.origin != verifier.name:
        raise VerifyError(
            EXIT_SIGNATURE,
            f"checkpoint origin {checkpoint.origin!r} is not the key's name {verifier.name!r}",
        )
    # open_note checked the UTF-8, so this round trip is exact.
    return signed.decode("utf-8"), checkpoint


def _check_consistent(
    fetcher: Fetcher, old_size: int, old_root: bytes, new: Checkpoint, before: str
) -> None:
    """Check that ``new`` extends the tree (old_size, old_root) seen ``before``."""
    if new.size < old_size:
        raise VerifyError(
            EXIT_ROLLBACK,
            f"rollback: the log's checkpoint has size {new.size}, smaller than the "
            f"checkpoint of size {old_size} {before}",
        )
    if new.size == old_size:
        if new.root_hash != old_root:
            raise VerifyError(
                EXIT_FORK,
                f"fork: checkpoint {new.size} has a different root from the checkpoint "
                f"of the same size {before}",
            )
        return
    if old_size == 0:
        return  # every tree extends the empty one
    fork = f"fork: checkpoint {new.size} is not consistent with the checkpoint {old_size} {before}"
    body = _get(fetcher, f"log/proof/consistency?old={old_size}&new={new.size}")
    try:
        data = json.loads(body)
        if not isinstance(data, dict) or data.get("old") != old_size or data.get("new") != new.size:
            raise ValueError("the proof is not for the sizes asked")
        hashes = data.get("proof")
        if not isinstance(hashes, list) or not all(isinstance(h, str) for h in hashes):
            raise ValueError("'proof' is not a list of base64 strings")
        proof = [base64.b64decode(h, validate=True) for h in hashes]
    except (ValueError, binascii.Error) as exc:
        raise VerifyError(EXIT_FORK, f"{fork} (malformed proof: {_reason(exc)})") from None
    try:
        check_tree(proof, new.size, new.root_hash, old_size, old_root)
    except ProofError as exc:
        raise VerifyError(EXIT_FORK, f"{fork} ({exc})") from None


def _fetch_entries(
    fetcher: Fetcher, size: int, progress: Progress = _no_progress
) -> list[list[bytes]]:
    """Every entry bundle the tree of ``size`` leaves needs, decoded but not yet checked."""
    bundles: list[list[bytes]] = []
    for index in range((size + TILE_WIDTH - 1) // TILE_WIDTH):
        width = min(TILE_WIDTH, size - index * TILE_WIDTH)
        path = "log/" + entry_bundle_path(index, width)
        try:
            bundles.append(decode_entry_bundle(_get(fetcher, path)))
        except ValueError as exc:
            raise VerifyError(EXIT_CONTENT, f"{_CONTENT_MISMATCH}: {path}: {exc}") from None
        progress("fetching entries", index * TILE_WIDTH + width, size)
    return bundles


def _leaf_hashes(found: Sequence[bytes], progress: Progress) -> list[bytes]:
    hashes = []
    for data in found:
        hashes.append(leaf_hash(data))
        if len(hashes) % TILE_WIDTH == 0 or len(hashes) == len(found):
            progress("hashing entries", len(hashes), len(found))
    return hashes


def _check_content(
    fetcher: Fetcher, checkpoint: Checkpoint, progress: Progress = _no_progress
) -> list[bytes]:
    """Return the log's entries after checking them against the checkpoint; see module doc."""
    size, root = checkpoint.size, checkpoint.root_hash
    bundles = _fetch_entries(fetcher, size, progress)
    found = [data for bundle in bundles for data in bundle]
    leaf_hashes = _leaf_hashes(found, progress)

    # The tiles are checked against the signed root before any hash in them is
    # used, so they can say which entry is wrong when the entries' root is.
    reader = TileHashReader(size, root, _FetcherTileReader(fetcher, progress))
    try:
        tiled = reader.read_hashes([stored_hash_index(0, i) for i in range(size)])
    except ProofError as exc:
        entries_ok = len(found) == size and root_from_leaf_hashes(leaf_hashes) == root
        which = "the hash tiles do not, though the entries do" if entries_ok else "nor do the tiles"
        raise VerifyError(EXIT_CONTENT, f"{_CONTENT_MISMATCH} ({which}: {exc})") from None

    for index, bundle in enumerate(bundles):
        start = index * TILE_WIDTH
        width = min(TILE_WIDTH, size - start)
        path = "log/" + entry_bundle_path(index, width)
        for j, data in enumerate(bundle[:width]):
            if leaf_hash(data) != tiled[start + j]:
                raise VerifyError(
                    EXIT_CONTENT,
                    f"{_CONTENT_MISMATCH}: entry {start + j} (in {path}) is not the entry "
                    "the checkpoint commits to",
                )
        if len(bundle) != width:
            where = f"entry {start + len(bundle)} is missing" if len(bundle) < width else "extra"
            raise VerifyError(
                EXIT_CONTENT,
                f"{_CONTENT_MISMATCH}: {path} holds {len(bundle)} entries, not {width} ({where})",
            )

    if len(found) != size or root_from_leaf_hashes(leaf_hashes) != root:
        raise VerifyError(EXIT_CONTENT, f"{_CONTENT_MISMATCH}: the entries' root differs")
    return found


def _count(found: Sequence[bytes]) -> dict[str, log_entries.PetitionCount]:
    try:
        return log_entries.count(enumerate(found))
    # decode lets a few malformed inputs escape as a bare ValueError (NaN) or
    # RecursionError (deep nesting) instead of EntryError.
    except (ValueError, RecursionError) as exc:
        failure = exc
    # count() does not say which entry it refused; find it for the message.
    for index, data in enumerate(found):
        try:
            log_entries.decode(data)
        except (ValueError, RecursionError) as exc:
            raise VerifyError(EXIT_CONTENT, f"malformed entry {index}: {_reason(exc)}") from None
    raise VerifyError(EXIT_CONTENT, f"log breaks the counting rules: {_reason(failure)}")


def _json(fetcher: Fetcher, path: str) -> Any:
    body = _get(fetcher, path)
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        raise VerifyError(EXIT_USAGE, f"GET {path}: the response is not JSON") from None


def _api_counts(
    fetcher: Fetcher, slugs: Sequence[str], progress: Progress = _no_progress
) -> dict[str, int]:
    """``verified_count`` of each petition in the log, and of every public petition in the API."""
    result: dict[str, int] = {}
    listing = _json(fetcher, "api/petitions")
    if not isinstance(listing, list):
        raise VerifyError(EXIT_USAGE, "GET api/petitions: expected a JSON list")
    for item in listing:
        if isinstance(item, dict) and isinstance(item.get("slug"), str):
            result[item["slug"]] = _verified_count(item, "api/petitions")
        else:
            raise VerifyError(EXIT_USAGE, "GET api/petitions: an item has no slug")
    for done, slug in enumerate(slugs, 1):
        path = "api/petitions/" + urllib.parse.quote(slug, safe="")
        try:
            body = fetcher.get(path)
        except FetchError as exc:
            if exc.status == 404:
                raise VerifyError(
                    EXIT_COUNT, f"petition {slug!r} is in the log, but the API has no such petition"
                ) from None
            raise VerifyError(EXIT_USAGE, str(exc)) from None
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):
            raise VerifyError(EXIT_USAGE, f"GET {path}: the response is not JSON") from None
        result[slug] = _verified_count(data, path)
        progress("comparing counts with the API", done, len(slugs))
    return result


def _verified_count(data: object, path: str) -> int:
    value = data.get("verified_count") if isinstance(data, dict) else None
    if not isinstance(value, int) or isinstance(value, bool):
        raise VerifyError(EXIT_USAGE, f"GET {path}: no integer 'verified_count' in the response")
    return value


def _count_mismatch(
    counts: dict[str, log_entries.PetitionCount], api: dict[str, int]
) -> tuple[str, int, int] | None:
    for slug in sorted(set(counts) | set(api)):
        logged = counts[slug].verified if slug in counts else 0
        shown = api.get(slug, 0)
        if logged != shown:
            return slug, logged, shown
    return None


def verify(
    fetcher: Fetcher,
    verifier_key: str | Verifier,
    state_path: Path | str | None,
    check_api: bool = True,
    *,
    retries: int = API_RETRIES,
    retry_pause: float = 2.0,
    progress: Progress = _no_progress,
) -> Report:
    """Run every check (see the module docstring) and return what was verified.

    ``state_path`` None uses :func:`default_state_path`. The state file is
    written only when everything passed. ``progress`` is told (stage, done,
    total) as entries and tiles are fetched and hashed, e.g. a
    :class:`ProgressLine`. Raises :class:`VerifyError`.
    """
    if isinstance(verifier_key, Verifier):
        verifier = verifier_key
    else:
        try:
            verifier = Verifier.from_key(verifier_key.strip())
        except NoteError as exc:
            raise VerifyError(EXIT_USAGE, f"--key: {exc}") from None
    path = Path(state_path) if state_path is not None else default_state_path(verifier.name)
    state = _load_state(path, verifier.name)
    cached = _CachingFetcher(fetcher)

    attempt = 0
    previous: Checkpoint | None = None
    counts: dict[str, log_entries.PetitionCount] = {}
    api: dict[str, int] = {}
    while True:
        attempt += 1
        signed, checkpoint = _fetch_checkpoint(cached, verifier)
        if state is not None:
            _check_consistent(
                cached, state.size, state.root, checkpoint, f"you accepted before (state in {path})"
            )
        if previous is not None:
            _check_consistent(
                cached, previous.size, previous.root_hash, checkpoint, "seen earlier in this run"
            )
        if previous is None or checkpoint != previous:
            counts = _count(_check_content(cached, checkpoint, progress))
        previous = checkpoint
        if not check_api:
            break
        api = _api_counts(cached, sorted(counts), progress)
        mismatch = _count_mismatch(counts, api)
        if mismatch is None:
            break
        if attempt > retries:
            slug, logged, shown = mismatch
            raise VerifyError(
                EXIT_COUNT,
                f"petition {slug!r}: {logged} verified in the log (size {checkpoint.size}) "
                f"but {shown} in the API (after {attempt} attempts)",
            )
        time.sleep(retry_pause)

    petitions = [
        PetitionReport(
            slug,
            tally.verified,
            tally.withdrawn,
            tally.invalidated,
            api.get(slug) if check_api else None,
        )
        for slug, tally in sorted(counts.items())
    ]
    report = Report(
        origin=checkpoint.origin,
        size=checkpoint.size,
        root=checkpoint.root_hash,
        checkpoint=signed,
        petitions=petitions,
        previous_size=state.size if state is not None else None,
        state_path=path,
        api_checked=check_api,
        attempts=attempt,
    )
    _write_state(path, report)
    return report


# ---------------------------------------------------------------- command line

_DESCRIPTION = """\
Check a site's public log of signatures without trusting the site: the
checkpoint's signature, every entry against the signed Merkle root, every
petition's verified count against the site's API, and that the log only ever
grew since the last time you checked it (the last accepted checkpoint is kept
in a state file).

Get the verifier key from somewhere other than the site you are checking
(it is also served at URL/log/key, but a site could lie about its own key).

On a terminal, one line on standard error shows the progress and an ETA while
the log is fetched and hashed; piped, or with --json, only the result is printed.
"""

_EPILOG = (
    """\
examples:
  undersigned verify https://petitions.example.org/ \\
      --key 'petitions.example.org/log+1a2b3c4d+AR...'
  undersigned verify https://petitions.example.org/ --key @log.vkey --json
  undersigned verify https://petitions.example.org/ --key @log.vkey \\
      --no-api --state ./petitions-state.json

"""
    + EXIT_CODES_HELP
)


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # argparse would exit 2, which here means a bad signature.
        raise _UsageError(message)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="undersigned verify",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("url", metavar="URL", help="the site's base URL, e.g. https://host/")
    parser.add_argument(
        "--key",
        required=True,
        metavar="VKEY",
        help="the log's verifier key (name+id+key), or @FILE to read it from FILE",
    )
    parser.add_argument(
        "--state",
        metavar="FILE",
        help="where to remember the accepted checkpoint (default: "
        "$XDG_STATE_HOME/undersigned/verify-<origin>.json, or ~/.local/state/...)",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help='print one JSON object on stdout (on failure: {"ok": false, "exit": N, "error": ...})',
    )
    parser.add_argument(
        "--no-api", action="store_true", help="do not compare the counts with the site's API"
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"timeout of each HTTP request (default {DEFAULT_TIMEOUT:g})",
    )
    return parser


def _read_key(value: str) -> str:
    if not value.startswith("@"):
        return value
    try:
        return Path(value[1:]).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise VerifyError(EXIT_USAGE, f"--key: cannot read {value[1:]}: {_reason(exc)}") from None


def _fail(code: int, message: str, as_json: bool) -> int:
    print(f"verify: {message}", file=sys.stderr)
    if as_json:
        print(json.dumps({"ok": False, "exit": code, "error": message}, ensure_ascii=False))
    return code


def main(argv: list[str]) -> int:
    """Run ``undersigned verify`` with ``argv`` (without the program name); return the exit code."""
    as_json = "--json" in argv
    try:
        args = _parser().parse_args(argv)
        as_json = bool(args.json)
        if args.timeout <= 0:
            raise _UsageError("--timeout must be positive")
        try:
            fetcher = HttpFetcher(args.url, timeout=args.timeout)
        except ValueError as exc:
            raise _UsageError(str(exc)) from None
        line = ProgressLine(enabled=False if as_json else None)
        try:
            report = verify(
                fetcher,
                _read_key(args.key),
                Path(args.state).expanduser() if args.state else None,
                check_api=not args.no_api,
                retry_pause=RETRY_PAUSE,
                progress=line,
            )
        finally:
            line.clear()  # before any message, which then starts on a clean line
    except _UsageError as exc:
        return _fail(EXIT_USAGE, f"{exc} (see --help)", as_json)
    except VerifyError as exc:
        return _fail(exc.code, exc.message, as_json)
    except KeyboardInterrupt:
        print("verify: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # never a traceback: say what broke, in one line
        return _fail(EXIT_USAGE, f"internal error: {type(exc).__name__}: {exc}", as_json)
    if as_json:
        print(json.dumps(report.as_dict(), ensure_ascii=False))
    else:
        print(report.summary())
    return OK


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
