"""`undersigned verify` checks the site's paper figure at the log size it names.

The fake site of test_verifier.py, answering like this version's API: each
count JSON names the checkpoint it agrees with (log_size), the verified count
there (log_verified_count) and, of those, how many were entered from paper
(log_paper_count), which the verifier recounts from the entries marked
"channel": "paper" (issue 14, §4).
"""

# The fixtures come from test_verifier.py; pytest hands them to the tests by name.
# ruff: noqa: F811

from __future__ import annotations

import json
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.ledger.test_verifier import (  # noqa: F401
    T0,
    TEXT,
    Site,
    check,
    fails,
    no_pause,
    opened,
    removed,
    run,
    server,
    state,
    url,
    verified,
)
from undersigned.tlog import entries as log_entries

LETTER, PARK = "deputies-letter", "kolpino-riverside-park"


def on_paper(slug: str, n: int) -> bytes:
    signer = log_entries.signer_fields(f"Deputy {n:03d}", "deputy", "Kolpino", "St Petersburg")
    return log_entries.encode(
        event=log_entries.SIGNATURE_VERIFIED,
        petition=slug,
        text_sha256=TEXT,
        time=T0,
        signer=signer,
        channel=log_entries.CHANNEL_PAPER,
    )


def paper_log() -> list[bytes]:
    """A letter signed online and on a sheet; one paper signature invalidated."""
    log = [opened(LETTER), opened(PARK)]  # 0, 1
    log += [verified(LETTER, i) for i in range(2, 5)]  # 2..4 online
    log += [on_paper(LETTER, i) for i in range(5, 10)]  # 5..9 on paper
    log += [verified(PARK, 10)]  # 10
    log += [removed(LETTER, 6, log_entries.SIGNATURE_INVALIDATED)]  # 11: paper, gone
    log += [on_paper(LETTER, 12)]  # 12
    return log


SIZE = 13
# Worked out by hand from paper_log, not by the code under test:
# (verified, of which on paper) at each size the tests name.
AT = {
    SIZE: {LETTER: (8, 5), PARK: (1, 0)},  # 3 online + 5 paper - 1 invalidated + 1
    SIZE - 1: {LETTER: (7, 4), PARK: (1, 0)},  # before the last sheet line
    SIZE - 2: {LETTER: (8, 5), PARK: (1, 0)},  # before the invalidation
}


@dataclass
class PaperSite(Site):
    """An API naming its log size, its count there and its paper figure there."""

    log: list[bytes] = field(default_factory=paper_log)
    named_size: int | None = None  # the log_size answered; None: the checkpoint's
    paper_claims: dict[str, int] = field(default_factory=dict)  # log_paper_count overrides
    names_paper: bool = True  # False: a server from before log_paper_count

    def answer(self, slug: str, size: int) -> dict[str, object]:
        tallies = log_entries.count(enumerate(self.log[:size]))
        tally = tallies.get(slug, log_entries.PetitionCount())
        body: dict[str, object] = {
            "slug": slug,
            "verified_count": tally.verified,
            "paper_count": tally.paper,
            "log_size": size,
            "checkpoint_time": "2026-11-21T09:00:00Z",
            "log_verified_count": tally.verified,
        }
        if self.names_paper:
            body["log_paper_count"] = self.paper_claims.get(slug, tally.paper)
        return body

    def respond(self, target: str) -> tuple[int, bytes]:
        path = target.partition("?")[0]
        if path in self.bodies or path in self.statuses:
            return super().respond(target)
        if path == "/api/petitions" or path.startswith("/api/petitions/"):
            self.requests.append(target)
            size = self.named_size if self.named_size is not None else self.tree_size
            if path == "/api/petitions":
                listing = [self.answer(s, size) for s in (LETTER, PARK)]
                return 200, json.dumps(listing).encode()
            slug = urllib.parse.unquote(path.removeprefix("/api/petitions/"))
            return 200, json.dumps(self.answer(slug, size)).encode()
        return super().respond(target)


@pytest.fixture
def site() -> PaperSite:
    return PaperSite()


def test_an_honest_paper_figure_is_checked_and_reported(
    site: PaperSite, url: str, state: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = check(url, state)
    letter = next(p for p in report.petitions if p.slug == LETTER)
    assert (letter.verified, letter.paper) == AT[SIZE][LETTER]
    assert (letter.api_verified, letter.api_paper, letter.api_log_size) == (8, 5, SIZE)
    assert "8 verified (log, of which 5 on paper) = 8 (API, of which 5 on paper)" in (
        report.summary()
    )

    state.unlink()
    assert run(url, state, "--json") == 0
    petitions = json.loads(capsys.readouterr().out)["petitions"]
    assert (petitions[LETTER]["paper"], petitions[LETTER]["api_paper"]) == (5, 5)
    assert (petitions[PARK]["paper"], petitions[PARK]["api_paper"]) == (0, 0)


def test_a_site_lying_about_its_paper_figure_is_caught(
    site: PaperSite, url: str, state: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The verified count is right; the site claims more of it came on paper
    # (a council session's sheet, say) than the log marks so.
    site.paper_claims = {LETTER: 7}
    message = fails(url, state, 6)
    assert f"petition {LETTER!r}" in message
    assert f"the API says 7 of its verified signatures at log size {SIZE} are on paper" in message
    assert f"the log's entries below {SIZE} give 5 on paper" in message
    # Both figures are of one log size: no point reading again; nothing accepted.
    assert site.requests.count("/log/checkpoint") == 1
    assert not state.exists()

    assert run(url, state, "--json") == 6
    out, err = capsys.readouterr()
    failure = json.loads(out)
    assert (failure["ok"], failure["exit"]) == (False, 6)
    assert "on paper" in failure["error"] and "on paper" in err
    assert failure["mismatch"] == {
        "petition": LETTER,
        "figure": "paper",
        "log_size": SIZE,
        "log": 5,
        "api": 7,
    }


def test_a_site_hiding_its_paper_signatures_is_caught(
    site: PaperSite, url: str, state: Path
) -> None:
    # Saying none came on paper, so that the letter looks signed online only.
    site.paper_claims = {LETTER: 0}
    assert "give 5 on paper" in fails(url, state, 6)


def test_a_paper_figure_at_an_older_checkpoint_is_counted_there(
    site: PaperSite, url: str, state: Path
) -> None:
    # Read before the last sheet line was in a checkpoint: 4 on paper there, not 5.
    site.named_size = SIZE - 1
    report = check(url, state)
    letter = next(p for p in report.petitions if p.slug == LETTER)
    assert (letter.api_verified, letter.api_paper) == AT[SIZE - 1][LETTER]
    assert (letter.verified, letter.paper) == AT[SIZE][LETTER]


def test_a_paper_figure_ahead_of_its_named_size_is_caught(
    site: PaperSite, url: str, state: Path
) -> None:
    # At SIZE - 2 the invalidation of a paper signature (entry 11) is not yet
    # in the log: the figure there is 5, however true 4 is a moment later.
    site.named_size = SIZE - 2
    site.paper_claims = {LETTER: AT[SIZE - 1][LETTER][1]}
    assert AT[SIZE - 2][LETTER][1] == 5
    assert f"below {SIZE - 2} give 5 on paper" in fails(url, state, 6)


def test_an_older_server_without_the_paper_figure_is_still_checked(
    site: PaperSite, url: str, state: Path
) -> None:
    site.names_paper = False
    report = check(url, state)
    letter = next(p for p in report.petitions if p.slug == LETTER)
    assert (letter.paper, letter.api_paper) == (5, None)
    assert "8 verified (log, of which 5 on paper) = 8 (API)" in report.summary()


@pytest.mark.parametrize("claim", ["5", -1, 2.5, None, True])
def test_a_malformed_paper_figure_is_a_usage_error(
    site: PaperSite, url: str, state: Path, claim: object
) -> None:
    listing = [site.answer(s, SIZE) for s in (LETTER, PARK)]
    listing[0]["log_paper_count"] = claim
    site.bodies["/api/petitions"] = json.dumps(listing).encode()
    assert "'log_paper_count' must be a non-negative integer" in fails(url, state, 1)

