"""`undersigned verify` shows progress and an ETA on a terminal, and nothing else anywhere else."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.ledger.test_verifier import SIZE, VKEY, Site
from undersigned.tlog.verify import cli as v


class Terminal(io.StringIO):
    """What the verifier takes for an interactive stderr."""

    def isatty(self) -> bool:
        return True


class SiteFetcher:
    """The fake site of test_verifier, without the HTTP in between."""

    def __init__(self, site: Site) -> None:
        self.site = site

    def get(self, path: str) -> bytes:
        status, body = self.site.respond("/" + path)
        if status != 200:
            raise v.FetchError(f"GET {path}: HTTP {status}", status)
        return body


def ticking() -> Iterator[float]:
    t = 0.0
    while True:
        yield t
        t += 1.0


@pytest.fixture
def state(tmp_path: Path) -> Path:
    return tmp_path / "state.json"


@pytest.fixture
def site(monkeypatch: pytest.MonkeyPatch) -> Site:
    site = Site()
    monkeypatch.setattr(v, "HttpFetcher", lambda url, timeout: SiteFetcher(site))
    monkeypatch.setattr(v, "RETRY_PAUSE", 0.0)
    return site


def test_the_line_says_how_far_how_fast_and_how_long() -> None:
    line = v.ProgressLine.line("fetching entries", 100, 400, 2.0)
    assert line == "verify: fetching entries 100/400 (25%), 50/s, ETA 0:06"
    assert v.ProgressLine.line("hashing entries", 1_000_000, 1_000_000, 4.0) == (
        "verify: hashing entries 1,000,000/1,000,000 (100%), 250,000/s"
    )
    assert v.ProgressLine.line("fetching entries", 1, 7200, 1.0).endswith("ETA 1:59:59")
    assert v.ProgressLine.line("fetching entries", 0, 10, 0.0) == (
        "verify: fetching entries 0/10 (0%)"
    )


def test_progress_is_drawn_on_a_terminal_and_erased_at_the_end(site: Site, state: Path) -> None:
    terminal = Terminal()
    clock = ticking()
    line = v.ProgressLine(terminal, clock=lambda: next(clock))
    v.verify(SiteFetcher(site), VKEY, state, progress=line)
    line.clear()
    drawn = terminal.getvalue()
    frames = [frame.rstrip() for frame in drawn.split("\r") if frame.strip()]
    # The fake clock ticks a second per report, so each stage's second report
    # comes one second after its first.
    assert frames == [
        "verify: fetching entries 256/272 (94%)",
        f"verify: fetching entries {SIZE}/{SIZE} (100%), 272/s",
        "verify: hashing entries 256/272 (94%)",
        f"verify: hashing entries {SIZE}/{SIZE} (100%), 272/s",
        "verify: fetching hash tiles 1/3 (33%)",
        "verify: fetching hash tiles 2/3 (66%), 2/s, ETA 0:01",
        "verify: fetching hash tiles 3/3 (100%), 2/s",
        "verify: comparing counts with the API 1/3 (33%)",
        "verify: comparing counts with the API 2/3 (66%), 2/s, ETA 0:01",
        "verify: comparing counts with the API 3/3 (100%), 2/s",
    ]
    assert "\n" not in drawn  # one line, redrawn in place
    assert drawn.endswith("\r") and not drawn.split("\r")[-2].strip()  # erased


def test_redraws_are_spaced_out() -> None:
    terminal = Terminal()
    line = v.ProgressLine(terminal, clock=lambda: 5.0)  # time stands still
    for done in range(1, 101):
        line("fetching entries", done, 100)
    frames = [f for f in terminal.getvalue().split("\r") if f]
    assert [f.split()[3] for f in frames] == ["1/100", "100/100"]  # first and last only


def test_nothing_is_drawn_when_stderr_is_not_a_terminal(site: Site, state: Path) -> None:
    piped = io.StringIO()
    line = v.ProgressLine(piped)
    assert not line.enabled
    v.verify(SiteFetcher(site), VKEY, state, progress=line)
    line.clear()
    assert piped.getvalue() == ""


def test_command_on_a_terminal(
    site: Site, state: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    assert v.main(["https://petitions.example.org/", "--key", VKEY, "--state", str(state)]) == 0
    assert "verify: fetching entries" in terminal.getvalue()
    assert terminal.getvalue().endswith("\r")  # erased before the result is printed
    assert capsys.readouterr().out.endswith("all checks passed\n")


def test_json_on_a_terminal_prints_the_json_and_nothing_else(
    site: Site, state: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    argv = ["https://petitions.example.org/", "--key", VKEY, "--state", str(state), "--json"]
    assert v.main(argv) == 0
    assert terminal.getvalue() == ""
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and json.loads(out)["size"] == SIZE


def test_a_failure_is_reported_on_a_clean_line(
    site: Site, state: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site.bodies["/log/tile/0/000"] = b"\x00" * 3  # a hash tile of the wrong size
    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    code = v.main(["https://petitions.example.org/", "--key", VKEY, "--state", str(state)])
    assert code == v.EXIT_CONTENT
    drawn, _, message = terminal.getvalue().rpartition("\r")
    assert drawn and message.startswith("verify: log content does not match")
    assert not drawn.rpartition("\r")[2].strip()  # the progress line was erased first
