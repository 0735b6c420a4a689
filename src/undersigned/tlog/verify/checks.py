"""The checks: signature, tree, entries, counts and consistency with the remembered state.

:func:`verify` runs them all in the order the package docstring gives.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
import urllib.parse
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

from undersigned.tlog import entries as log_entries
from undersigned.tlog.merkle import (
    TILE_WIDTH,
    Checkpoint,
    ProofError,
    TileHashReader,
    check_tree,
    decode_entry_bundle,
    entry_bundle_path,
    leaf_hash,
    root_from_leaf_hashes,
    stored_hash_index,
)
from undersigned.tlog.note import NoteError, Verifier, open_note
from undersigned.tlog.verify.errors import (
    EXIT_CONTENT,
    EXIT_COUNT,
    EXIT_FORK,
    EXIT_ROLLBACK,
    EXIT_SIGNATURE,
    EXIT_USAGE,
    VerifyError,
    reason,
)
from undersigned.tlog.verify.fetch import (
    CachingFetcher,
    Fetcher,
    FetchError,
    FetcherTileReader,
    Progress,
    get,
    no_progress,
)
from undersigned.tlog.verify.report import PetitionReport, Report
from undersigned.tlog.verify.state import default_state_path, load_state, write_state

# How many times the API counts are read again when they differ from the log's
# (the live count can move while a run lasts).
API_RETRIES: Final = 3

_CONTENT_MISMATCH: Final = "log content does not match the signed checkpoint"


def _fetch_checkpoint(fetcher: Fetcher, verifier: Verifier) -> tuple[str, Checkpoint]:
    signed = get(fetcher, "log/checkpoint")
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
    body = get(fetcher, f"log/proof/consistency?old={old_size}&new={new.size}")
    try:
        data = json.loads(body)
        if not isinstance(data, dict) or data.get("old") != old_size or data.get("new") != new.size:
            raise ValueError("the proof is not for the sizes asked")
        hashes = data.get("proof")
        if not isinstance(hashes, list) or not all(isinstance(h, str) for h in hashes):
            raise ValueError("'proof' is not a list of base64 strings")
        proof = [base64.b64decode(h, validate=True) for h in hashes]
    except (ValueError, binascii.Error) as exc:
        raise VerifyError(EXIT_FORK, f"{fork} (malformed proof: {reason(exc)})") from None
    try:
        check_tree(proof, new.size, new.root_hash, old_size, old_root)
    except ProofError as exc:
        raise VerifyError(EXIT_FORK, f"{fork} ({exc})") from None


def _fetch_entries(
    fetcher: Fetcher, size: int, progress: Progress = no_progress
) -> list[list[bytes]]:
    """Every entry bundle the tree of ``size`` leaves needs, decoded but not yet checked."""
    bundles: list[list[bytes]] = []
    for index in range((size + TILE_WIDTH - 1) // TILE_WIDTH):
        width = min(TILE_WIDTH, size - index * TILE_WIDTH)
        path = "log/" + entry_bundle_path(index, width)
        try:
            bundles.append(decode_entry_bundle(get(fetcher, path)))
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
    fetcher: Fetcher, checkpoint: Checkpoint, progress: Progress = no_progress
) -> list[bytes]:
    """Return the log's entries after checking them against the checkpoint; see module doc."""
    size, root = checkpoint.size, checkpoint.root_hash
    bundles = _fetch_entries(fetcher, size, progress)
    found = [data for bundle in bundles for data in bundle]
    leaf_hashes = _leaf_hashes(found, progress)

    # The tiles are checked against the signed root before any hash in them is
    # used, so they can say which entry is wrong when the entries' root is.
    reader = TileHashReader(size, root, FetcherTileReader(fetcher, progress))
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
            raise VerifyError(EXIT_CONTENT, f"malformed entry {index}: {reason(exc)}") from None
    raise VerifyError(EXIT_CONTENT, f"log breaks the counting rules: {reason(failure)}")


def _json(fetcher: Fetcher, path: str) -> Any:
    body = get(fetcher, path)
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        raise VerifyError(EXIT_USAGE, f"GET {path}: the response is not JSON") from None


def _api_counts(
    fetcher: Fetcher, slugs: Sequence[str], progress: Progress = no_progress
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
    progress: Progress = no_progress,
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
    state = load_state(path, verifier.name)
    cached = CachingFetcher(fetcher)

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
    write_state(path, report)
    return report

