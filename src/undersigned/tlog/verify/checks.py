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
from dataclasses import dataclass
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
from undersigned.tlog.policy import Policy, PolicyError, QuorumResult
from undersigned.tlog.verify.errors import (
    EXIT_CONTENT,
    EXIT_COUNT,
    EXIT_FORK,
    EXIT_QUORUM,
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
from undersigned.tlog.verify.report import PetitionReport, Report, Witnesses
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


def check_quorum(signed: str, policy: Policy, verifier: Verifier) -> QuorumResult:
    """Check a checkpoint's cosignatures against the reader's policy.

    A cosignature from a witness of the policy that does not verify rejects
    the checkpoint (a signature failure); too few valid ones is for the caller
    to judge (``satisfied``). The log's key counts as a log of the policy even
    when the policy lists none.
    """
    known = {(log.verifier.name, log.verifier.key_id) for log in policy.logs}
    extra = [] if (verifier.name, verifier.key_id) in known else [verifier]
    try:
        return policy.check(signed, extra_logs=extra)
    except PolicyError as exc:
        raise VerifyError(EXIT_SIGNATURE, f"checkpoint rejected by the policy: {exc}") from None


def witnesses_of(result: QuorumResult) -> Witnesses:
    return Witnesses(result.signed, result.missing, result.quorum, result.satisfied)


def quorum_failure(result: QuorumResult, attempts: int) -> VerifyError:
    tries = f" (after {attempts} attempts)" if attempts > 1 else ""
    missing = ", ".join(result.missing) or "none"
    return VerifyError(
        EXIT_QUORUM,
        f"checkpoint {result.checkpoint.size} {result.describe()}{tries}; missing: "
        f"{missing}. A checkpoint without the quorum may be a split view: another "
        "history shown to you than to others",
    )


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


@dataclass(frozen=True)
class ApiCount:
    """A petition's count as the API gives it.

    ``log_size`` and ``log_verified`` (the answer's ``log_size`` and
    ``log_verified_count``): the checkpoint the count agrees with, and the
    count the log's entries below it give. Servers before them give only
    ``verified``, the live count, which can move while a run lasts.
    ``log_paper`` (``log_paper_count``): of ``log_verified``, the signatures
    entered from paper; None from servers that do not name it.
    """

    verified: int
    log_size: int | None = None
    log_verified: int | None = None
    log_paper: int | None = None


def _api_counts(
    fetcher: Fetcher, slugs: Sequence[str], progress: Progress = no_progress
) -> dict[str, ApiCount]:
    """The counts of each petition in the log, and of every public petition in the API."""
    result: dict[str, ApiCount] = {}
    listing = _json(fetcher, "api/petitions")
    if not isinstance(listing, list):
        raise VerifyError(EXIT_USAGE, "GET api/petitions: expected a JSON list")
    for item in listing:
        if isinstance(item, dict) and isinstance(item.get("slug"), str):
            result[item["slug"]] = _api_count(item, "api/petitions")
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
        result[slug] = _api_count(data, path)
        progress("comparing counts with the API", done, len(slugs))
    return result


def _integer(data: object, name: str) -> int | None:
    value = data.get(name) if isinstance(data, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _api_count(data: object, path: str) -> ApiCount:
    verified = _integer(data, "verified_count")
    if verified is None:
        raise VerifyError(EXIT_USAGE, f"GET {path}: no integer 'verified_count' in the response")
    size, logged = _integer(data, "log_size"), _integer(data, "log_verified_count")
    if isinstance(data, dict) and ("log_size" in data or "log_verified_count" in data):
        if size is None or logged is None or size < 0:
            raise VerifyError(
                EXIT_USAGE,
                f"GET {path}: 'log_size' and 'log_verified_count' must both be integers",
            )
        paper = _integer(data, "log_paper_count")
        if "log_paper_count" in data and (paper is None or paper < 0):
            raise VerifyError(
                EXIT_USAGE, f"GET {path}: 'log_paper_count' must be a non-negative integer"
            )
        return ApiCount(verified, size, logged, paper)
    return ApiCount(verified)


@dataclass(frozen=True)
class _Mismatch:
    slug: str
    logged: int
    shown: int
    size: int  # the log size both are counted at
    named: bool  # the API named that size: no later read can change either number
    figure: str = "verified"  # or "paper": of the verified, those on paper

    def details(self) -> dict[str, object]:
        """The figures compared, for ``--json``."""
        return {
            "petition": self.slug,
            "figure": self.figure,
            "log_size": self.size,
            "log": self.logged if self.logged >= 0 else None,
            "api": self.shown,
        }


def _count_mismatch(
    counts: dict[str, log_entries.PetitionCount],
    api: dict[str, ApiCount],
    found: Sequence[bytes],
) -> _Mismatch | None:
    """The first petition whose API count is not the log's, or None.

    A count that names its log size is compared with the log's entries below
    that size, recounted here; one that does not is compared with the whole
    checkpoint. A named size beyond this checkpoint is a mismatch to read
    again: the server signed a newer checkpoint meanwhile.
    """
    at_size: dict[int, dict[str, log_entries.PetitionCount]] = {len(found): counts}
    for slug in sorted(set(counts) | set(api)):
        answer = api.get(slug, ApiCount(0))
        if answer.log_size is None or answer.log_verified is None:
            logged = counts[slug].verified if slug in counts else 0
            if logged != answer.verified:
                return _Mismatch(slug, logged, answer.verified, len(found), named=False)
            continue
        if answer.log_size > len(found):
            return _Mismatch(slug, -1, answer.log_verified, answer.log_size, named=False)
        if answer.log_size not in at_size:
            at_size[answer.log_size] = _count(found[: answer.log_size])
        there = at_size[answer.log_size]
        logged = there[slug].verified if slug in there else 0
        if logged != answer.log_verified:
            return _Mismatch(slug, logged, answer.log_verified, answer.log_size, named=True)
        on_paper = there[slug].paper if slug in there else 0
        if answer.log_paper is not None and on_paper != answer.log_paper:
            return _Mismatch(
                slug, on_paper, answer.log_paper, answer.log_size, named=True, figure="paper"
            )
    return None


def _api_number(answer: ApiCount) -> int:
    """The API's number that was checked: the count at its log size, or the live count."""
    return answer.log_verified if answer.log_verified is not None else answer.verified


def verify(
    fetcher: Fetcher,
    verifier_key: str | Verifier,
    state_path: Path | str | None,
    check_api: bool = True,
    *,
    retries: int = API_RETRIES,
    retry_pause: float = 2.0,
    progress: Progress = no_progress,
    policy: Policy | None = None,
) -> Report:
    """Run every check (see the module docstring) and return what was verified.

    ``state_path`` None uses :func:`default_state_path`. The state file is
    written only when everything passed. ``progress`` is told (stage, done,
    total) as entries and tiles are fetched and hashed, e.g. a
    :class:`ProgressLine`. With a ``policy`` (c2sp.org/tlog-policy), the
    checkpoint must carry its witness quorum: a checkpoint is published
    before witnesses cosign it, so one short of the quorum is fetched again
    (``retries`` times, ``retry_pause`` apart) before it is refused.
    Raises :class:`VerifyError`.
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
    found: list[bytes] = []
    api: dict[str, ApiCount] = {}
    witnessed: QuorumResult | None = None
    quorum_attempt = 0
    while True:
        attempt += 1
        signed, checkpoint = _fetch_checkpoint(cached, verifier)
        if policy is not None:
            witnessed = check_quorum(signed, policy, verifier)
            if not witnessed.satisfied:
                quorum_attempt += 1
                if quorum_attempt > retries:
                    raise quorum_failure(witnessed, quorum_attempt)
                attempt -= 1  # waiting for cosignatures is not a count attempt
                time.sleep(retry_pause)
                continue
        if state is not None:
            _check_consistent(
                cached, state.size, state.root, checkpoint, f"you accepted before (state in {path})"
            )
        if previous is not None:
            _check_consistent(
                cached, previous.size, previous.root_hash, checkpoint, "seen earlier in this run"
            )
        if previous is None or checkpoint != previous:
            found = _check_content(cached, checkpoint, progress)
            counts = _count(found)
        previous = checkpoint
        if not check_api:
            break
        api = _api_counts(cached, sorted(counts), progress)
        mismatch = _count_mismatch(counts, api, found)
        if mismatch is None:
            break
        if mismatch.named and mismatch.figure == "paper":
            raise VerifyError(
                EXIT_COUNT,
                f"petition {mismatch.slug!r}: the API says {mismatch.shown} of its verified "
                f"signatures at log size {mismatch.size} are on paper, but the log's entries "
                f"below {mismatch.size} give {mismatch.logged} on paper",
                mismatch.details(),
            )
        if mismatch.named:
            # Both numbers are of one fixed log size: reading again cannot help.
            raise VerifyError(
                EXIT_COUNT,
                f"petition {mismatch.slug!r}: the API says {mismatch.shown} verified at log "
                f"size {mismatch.size}, but the log's entries below {mismatch.size} give "
                f"{mismatch.logged}",
                mismatch.details(),
            )
        if attempt > retries:
            if mismatch.logged < 0:
                raise VerifyError(
                    EXIT_COUNT,
                    f"petition {mismatch.slug!r}: the API names log size {mismatch.size}, "
                    f"beyond the checkpoint served (size {checkpoint.size}), "
                    f"after {attempt} attempts",
                    mismatch.details(),
                )
            raise VerifyError(
                EXIT_COUNT,
                f"petition {mismatch.slug!r}: {mismatch.logged} verified in the log "
                f"(size {checkpoint.size}) but {mismatch.shown} in the API "
                f"(after {attempt} attempts)",
                mismatch.details(),
            )
        time.sleep(retry_pause)

    petitions = [
        PetitionReport(
            slug,
            tally.verified,
            tally.withdrawn,
            tally.invalidated,
            _api_number(api.get(slug, ApiCount(0))) if check_api else None,
            api.get(slug, ApiCount(0)).log_size if check_api else None,
            paper=tally.paper,
            api_paper=api.get(slug, ApiCount(0)).log_paper if check_api else None,
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
        witnesses=witnesses_of(witnessed) if witnessed is not None else None,
    )
    write_state(path, report)
    return report

