"""`undersigned verify` compares a count that names its log size at that size, not live.

The fake site of test_verifier.py, answering like this version's API: each
count JSON names the checkpoint it agrees with (log_size, log_verified_count)
beside a live verified_count that may run ahead (issue 13, §4: the false
mismatch of racing the live count).
"""

# The fixtures come from test_verifier.py; pytest hands them to the tests by name.
# ruff: noqa: F811

from __future__ import annotations

import json
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.ledger.test_verifier import (  # noqa: F401
    PARK,
    SCHOOL,
    SIZE,
    Site,
    check,
    fails,
    no_pause,
    server,
    state,
    url,
)
from undersigned.tlog import entries as log_entries


@dataclass
class NamingSite(Site):
    """An API whose answers name the checkpoint size their count is taken at."""

    named_size: int | None = None  # the log_size answered; None: the checkpoint's
    live_extra: int = 0  # verified since, not yet in a checkpoint
    wrong: dict[str, int] | None = None  # log_verified_count overrides

    def counted_at(self, size: int) -> dict[str, int]:
        tallies = log_entries.count(enumerate(self.log[:size]))
        return {slug: t.verified for slug, t in tallies.items()}

    def answer(self, slug: str, counts: dict[str, int]) -> dict[str, object]:
        size = self.named_size if self.named_size is not None else self.tree_size
        logged = counts.get(slug, 0)
        if self.wrong and slug in self.wrong:
            logged = self.wrong[slug]
        return {
            "slug": slug,
            "verified_count": logged + self.live_extra,
            "log_size": size,
            "checkpoint_time": "2026-11-21T09:00:00Z",
            "log_verified_count": logged,
        }

    def respond(self, target: str) -> tuple[int, bytes]:
        path = target.partition("?")[0]
        if path in self.bodies or path in self.statuses:
            return super().respond(target)
        if path == "/api/petitions" or path.startswith("/api/petitions/"):
            self.requests.append(target)
            size = self.named_size if self.named_size is not None else self.tree_size
            counts = self.counted_at(min(size, len(self.log)))
            if path == "/api/petitions":
                listing = [self.answer(s, counts) for s in sorted(counts)]
                return 200, json.dumps(listing).encode()
            slug = urllib.parse.unquote(path.removeprefix("/api/petitions/"))
            return 200, json.dumps(self.answer(slug, counts)).encode()
        return super().respond(target)


@pytest.fixture
def site() -> NamingSite:
    return NamingSite()


def test_a_live_count_ahead_of_the_log_is_no_mismatch(
    site: NamingSite, url: str, state: Path
) -> None:
    # Signatures verified since the checkpoint: the live count is ahead, the
    # count at the named size is the log's. One pass, no retry.
    site.live_extra = 3
    report = check(url, state)
    assert report.attempts == 1
    assert site.requests.count("/log/checkpoint") == 1
    park = next(p for p in report.petitions if p.slug == PARK)
    assert (park.verified, park.api_verified, park.api_log_size) == (258, 258, SIZE)


def test_an_answer_naming_an_older_checkpoint_is_counted_there(
    site: NamingSite, url: str, state: Path
) -> None:
    # The API's copy was read before the last checkpoint (entry 271, a school
    # signature, came after it): compared at its own size, it agrees.
    site.named_size = SIZE - 1
    report = check(url, state)
    assert report.attempts == 1
    school = next(p for p in report.petitions if p.slug == SCHOOL)
    assert (school.verified, school.api_verified, school.api_log_size) == (1, 0, SIZE - 1)
    assert "at log size" in report.summary()


def test_a_wrong_count_at_a_named_size_fails_at_once(
    site: NamingSite, url: str, state: Path
) -> None:
    site.wrong = {PARK: 259}
    message = fails(url, state, 6)
    assert f"the API says 259 verified at log size {SIZE}" in message
    assert "give 258" in message
    # Both numbers are of one log size: no point reading again.
    assert site.requests.count("/log/checkpoint") == 1
    assert not state.exists()


def test_an_answer_naming_a_newer_checkpoint_is_read_again(
    site: NamingSite, url: str, state: Path
) -> None:
    # The first checkpoint fetched is one short; the API already names the next.
    site.sizes = [SIZE - 1]
    report = check(url, state)
    assert report.attempts == 2 and report.size == SIZE


def test_a_malformed_log_size_is_a_usage_error(site: NamingSite, url: str, state: Path) -> None:
    site.bodies["/api/petitions"] = json.dumps(
        [{"slug": PARK, "verified_count": 1, "log_size": "12", "log_verified_count": 1}]
    ).encode()
    assert "'log_size' and 'log_verified_count' must both be integers" in fails(url, state, 1)
