"""The independent verifier against a fake site served over real HTTP on 127.0.0.1."""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import sys
import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.ledger.doubles import MemoryHashStore
from undersigned.tlog import entries as log_entries
from undersigned.tlog.merkle import (
    ENTRIES_LEVEL,
    TILE_HEIGHT,
    TILE_WIDTH,
    Checkpoint,
    encode_entry_bundle,
    leaf_hash,
    parse_tile_path,
    prove_tree,
    tile_hashes,
)
from undersigned.tlog.note import Signer, Verifier, open_note, sign_note
from undersigned.tlog.verify import cli as v

ORIGIN = "petitions.example.org/log"
SIGNER = Signer(ORIGIN, bytes(range(32)))
VKEY = SIGNER.verifier_key()
SRC = Path(__file__).resolve().parents[2] / "src"

T0 = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
TEXT = "9f" * 32
PARK, LIBRARY, SCHOOL = "kolpino-riverside-park", "library-hours", "school-crossing"


# ---------------------------------------------------------------- building a log


def opened(slug: str) -> bytes:
    return log_entries.encode(
        event=log_entries.PETITION_OPENED,
        petition=slug,
        text_sha256=TEXT,
        time=T0,
        version=1,
        title="Keep it public",
    )


def verified(slug: str, n: int, *, shown: bool = True) -> bytes:
    signer = log_entries.signer_fields(f"Person {n:03d}", "", "Kolpino", "St Petersburg")
    if shown:
        return log_entries.encode(
            event=log_entries.SIGNATURE_VERIFIED,
            petition=slug,
            text_sha256=TEXT,
            time=T0,
            signer=signer,
        )
    return log_entries.encode(
        event=log_entries.SIGNATURE_VERIFIED,
        petition=slug,
        text_sha256=TEXT,
        time=T0,
        commitment_hex=log_entries.commitment(bytes([n % 256]) * 32, signer),
    )


def removed(slug: str, ref: int, event: str = log_entries.SIGNATURE_WITHDRAWN) -> bytes:
    return log_entries.encode(event=event, petition=slug, text_sha256=TEXT, time=T0, ref=ref)


def build_log() -> list[bytes]:
    """272 entries: two entry bundles, two level-0 tiles and a level-1 tile."""
    log = [opened(PARK), opened(LIBRARY)]
    log += [verified(PARK, i, shown=i % 2 == 0) for i in range(2, 262)]  # indexes 2..261
    log += [verified(LIBRARY, i) for i in range(262, 265)]  # 262..264
    log += [
        opened(SCHOOL),  # 265
        removed(PARK, 2),  # 266
        removed(PARK, 5, log_entries.SIGNATURE_INVALIDATED),  # 267
        removed(LIBRARY, 263),  # 268
        log_entries.encode(
            event=log_entries.PETITION_TEXT_VERSION,
            petition=PARK,
            text_sha256="ab" * 32,
            time=T0,
            version=2,
            title="Keep it public, please",
        ),  # 269
        log_entries.encode(
            event=log_entries.PETITION_CLOSED,
            petition=LIBRARY,
            text_sha256=TEXT,
            time=T0,
            reason="deadline",
        ),  # 270
        verified(SCHOOL, 271),  # 271
    ]
    assert len(log) == 272
    return log


# Worked out by hand from build_log, not by the code under test.
EXPECTED = {
    PARK: (258, 1, 1),  # 260 verified, one withdrawn, one invalidated
    LIBRARY: (2, 1, 0),
    SCHOOL: (1, 0, 0),
}
SIZE = 272


# ---------------------------------------------------------------- the fake site


@dataclass
class Site:
    log: list[bytes] = field(default_factory=build_log)
    size: int | None = None  # checkpoint size served; None: the whole log
    sizes: list[int] = field(default_factory=list)  # served first, one per checkpoint GET
    api_size: int | None = None  # how much of the log the API counts; None: as the checkpoint
    api_counts: dict[str, int] = field(default_factory=dict)  # overrides
    api_missing: set[str] = field(default_factory=set)
    api_extra: dict[str, int] = field(default_factory=dict)
    signer: Signer = SIGNER
    origin: str = ORIGIN
    checkpoint_text: str | None = None  # replaces the checkpoint body
    bodies: dict[str, bytes] = field(default_factory=dict)  # path -> tampered body
    statuses: dict[str, int] = field(default_factory=dict)  # path -> forced status
    requests: list[str] = field(default_factory=list)
    _store: MemoryHashStore | None = None
    _stored_for: list[bytes] | None = None
    _counted: dict[tuple[int, tuple[bytes, ...]], dict[str, int]] = field(default_factory=dict)

    @property
    def tree_size(self) -> int:
        return len(self.log) if self.size is None else self.size

    def store(self) -> MemoryHashStore:
        if self._store is None or self._stored_for != self.log:
            self._store = MemoryHashStore.from_leaf_hashes([leaf_hash(e) for e in self.log])
            self._stored_for = list(self.log)
        return self._store

    def checkpoint(self) -> bytes:
        size = self.sizes.pop(0) if self.sizes else self.tree_size
        text = (
            self.checkpoint_text or Checkpoint(self.origin, size, self.store().root(size)).to_text()
        )
        return sign_note(text, [self.signer]).encode()

    def tile(self, path: str) -> tuple[int, bytes]:
        try:
            level, index, width = parse_tile_path(path)
        except ValueError as exc:
            return 400, str(exc).encode()
        hash_level = max(level, 0)
        if (index << TILE_HEIGHT) + width > self.tree_size >> (hash_level * TILE_HEIGHT):
            return 400, b"beyond the latest checkpoint"
        if level == ENTRIES_LEVEL:
            start = index * TILE_WIDTH
            return 200, encode_entry_bundle(self.log[start : start + width])
        return 200, tile_hashes(level, index, width, self.store())

    def consistency(self, query: str) -> tuple[int, bytes]:
        params = urllib.parse.parse_qs(query)
        old, new = int(params["old"][0]), int(params["new"][0])
        proof = prove_tree(new, old, self.store())
        body = {"old": old, "new": new, "proof": [base64.b64encode(h).decode() for h in proof]}
        return 200, json.dumps(body).encode()

    def counts(self) -> dict[str, int]:
        size = self.api_size if self.api_size is not None else self.tree_size
        key = (size, tuple(self.log[:size]))
        if key not in self._counted:
            tallies = log_entries.count(enumerate(self.log[:size]))
            self._counted[key] = {slug: t.verified for slug, t in tallies.items()}
        counts = dict(self._counted[key])
        counts.update(self.api_counts)
        counts.update(self.api_extra)
        return {slug: n for slug, n in counts.items() if slug not in self.api_missing}

    def respond(self, target: str) -> tuple[int, bytes]:
        self.requests.append(target)
        path, _, query = target.partition("?")
        if path in self.statuses:
            return self.statuses[path], b"forced failure"
        if path in self.bodies:
            return 200, self.bodies[path]
        if path == "/log/checkpoint":
            return 200, self.checkpoint()
        if path.startswith("/log/tile/"):
            return self.tile(path.removeprefix("/log/"))
        if path == "/log/proof/consistency":
            return self.consistency(query)
        if path == "/api/petitions":
            listing = [{"slug": s, "verified_count": n} for s, n in sorted(self.counts().items())]
            return 200, json.dumps(listing).encode()
        if path.startswith("/api/petitions/"):
            slug = urllib.parse.unquote(path.removeprefix("/api/petitions/"))
            counts = self.counts()
            if slug not in counts:
                return 404, b'{"detail": "Not Found"}'
            return 200, json.dumps({"slug": slug, "verified_count": counts[slug]}).encode()
        return 404, b"not found"


@pytest.fixture
def site() -> Site:
    return Site()


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, dict[str, Site]]]:
    """One server for the module; each test's ``url`` fixture points it at that test's site."""
    current: dict[str, Site] = {}

    class Handler(BaseHTTPRequestHandler):
        disable_nagle_algorithm = True  # else every response waits ~40 ms for a delayed ACK

        def do_GET(self) -> None:
            status, body = current["site"].respond(self.path)
            self.send_response(status)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/", current
    httpd.shutdown()
    httpd.server_close()
    thread.join()


@pytest.fixture
def url(site: Site, server: tuple[str, dict[str, Site]]) -> str:
    base, current = server
    current["site"] = site
    return base


@pytest.fixture(autouse=True)
def no_pause(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(v, "RETRY_PAUSE", 0.0)


@pytest.fixture
def state(tmp_path: Path) -> Path:
    return tmp_path / "state.json"


def run(url: str, state: Path, *extra: str) -> int:
    return v.main([url, "--key", VKEY, "--state", str(state), *extra])


def check(url: str, state: Path, *, check_api: bool = True) -> v.Report:
    return v.verify(v.HttpFetcher(url), VKEY, state, check_api, retry_pause=0.0)


def fails(url: str, state: Path, code: int, *, check_api: bool = True) -> str:
    with pytest.raises(v.VerifyError) as info:
        v.verify(v.HttpFetcher(url), VKEY, state, check_api, retry_pause=0.0)
    assert info.value.code == code, info.value.message
    return info.value.message


# ---------------------------------------------------------------- success


def test_happy_path_counts_match_the_log_and_the_api(
    url: str, state: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(url, state) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert f"origin: {ORIGIN}" in out
    assert f"size:   {SIZE} entries" in out
    assert "258 verified (log) = 258 (API)" in out
    assert "2 verified (log) = 2 (API)" in out

    report = check(url, state)
    got = {p.slug: (p.verified, p.withdrawn, p.invalidated) for p in report.petitions}
    assert got == EXPECTED
    assert {p.slug: p.api_verified for p in report.petitions} == {
        slug: n for slug, (n, _, _) in EXPECTED.items()
    }
    assert report.size == SIZE
    assert report.previous_size == SIZE


def test_state_file_records_the_accepted_checkpoint(site: Site, url: str, state: Path) -> None:
    assert run(url, state) == 0
    saved = json.loads(state.read_text())
    assert saved["origin"] == ORIGIN
    assert saved["size"] == SIZE
    assert base64.b64decode(saved["root"]) == site.store().root(SIZE)
    text, _ = open_note(saved["checkpoint"], [Verifier.from_key(VKEY)])
    assert Checkpoint.parse(text).size == SIZE
    assert datetime.strptime(saved["time"], "%Y-%m-%dT%H:%M:%SZ")
    assert list(state.parent.iterdir()) == [state]  # no temporary file left behind


def test_json_output(url: str, state: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(url, state, "--json") == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is True
    assert report["origin"] == ORIGIN
    assert report["size"] == SIZE
    assert report["previous_size"] is None
    assert report["petitions"][PARK] == {
        "verified": 258,
        "withdrawn": 1,
        "invalidated": 1,
        "paper": 0,
        "api_verified": 258,
        "api_log_size": None,  # this fake API is an older server's: no log_size
        "api_paper": None,  # nor log_paper_count
    }


def test_key_from_file_and_default_state_path(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_file = tmp_path / "log.vkey"
    key_file.write_text(VKEY + "\n")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    assert v.main([url, "--key", f"@{key_file}"]) == 0
    expected = tmp_path / "xdg" / "undersigned" / "verify-petitions.example.org_log.json"
    assert expected.exists()
    assert v.default_state_path(ORIGIN) == expected


def test_default_state_path_falls_back_to_home(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", "relative/is/ignored")
    assert v.default_state_path("a b/c") == (
        Path.home() / ".local" / "state" / "undersigned" / "verify-a_b_c.json"
    )


def test_no_api_does_not_ask_the_api(site: Site, url: str, state: Path) -> None:
    report = check(url, state, check_api=False)
    assert all(p.api_verified is None for p in report.petitions)
    assert not [r for r in site.requests if r.startswith("/api/")]


def test_growing_log_is_checked_with_a_consistency_proof(site: Site, url: str, state: Path) -> None:
    site.size = 250
    assert check(url, state).size == 250
    site.size = None
    report = check(url, state)
    assert (report.previous_size, report.size) == (250, SIZE)
    assert "/log/proof/consistency?old=250&new=272" in site.requests


def test_empty_log(site: Site, url: str, state: Path) -> None:
    site.log = []
    report = check(url, state)
    assert (report.size, report.petitions) == (0, [])
    site.log = build_log()
    assert check(url, state).size == SIZE


def test_api_catching_up_is_retried(site: Site, url: str, state: Path) -> None:
    # The API already counts entry 271 (a school signature) when the first
    # checkpoint is fetched; the next checkpoint includes it.
    site.sizes = [SIZE - 1]
    site.api_size = SIZE
    report = check(url, state)
    assert report.attempts == 2
    assert report.size == SIZE
    assert {p.slug: p.verified for p in report.petitions}[SCHOOL] == 1


# ---------------------------------------------------------------- 2: signature


def test_checkpoint_signed_by_another_key(site: Site, url: str, state: Path) -> None:
    site.signer = Signer(ORIGIN, bytes(32))
    assert "signature" in fails(url, state, 2)
    assert not state.exists()


def test_checkpoint_with_another_origin(site: Site, url: str, state: Path) -> None:
    site.checkpoint_text = Checkpoint("elsewhere/log", 1, bytes(32)).to_text()
    assert "origin" in fails(url, state, 2)


def test_malformed_checkpoint(site: Site, url: str, state: Path) -> None:
    site.checkpoint_text = f"{ORIGIN}\n0012\nnot base64\n"
    assert "format" in fails(url, state, 2)


# ---------------------------------------------------------------- 3 and 4: rollback, fork


def test_rollback(site: Site, url: str, state: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(url, state) == 0
    saved = state.read_text()
    site.size = 250
    assert run(url, state) == 3
    err = capsys.readouterr().err
    assert err.startswith("verify: rollback")
    assert "250" in err and "272" in err
    assert state.read_text() == saved


def test_fork_at_an_old_index(site: Site, url: str, state: Path) -> None:
    site.size = 250
    check(url, state)
    saved = state.read_text()
    site.log[10] = verified(PARK, 999)
    site.size = None
    message = fails(url, state, 4)
    assert message.startswith(
        "fork: checkpoint 272 is not consistent with the checkpoint 250 you accepted before"
    )
    assert state.read_text() == saved


def test_fork_of_the_same_size(site: Site, url: str, state: Path) -> None:
    check(url, state)
    site.log[10] = verified(PARK, 999)
    assert fails(url, state, 4).startswith("fork: checkpoint 272 has a different root")


def test_state_of_another_log_is_not_overwritten(url: str, state: Path) -> None:
    state.write_text(json.dumps({"origin": "other", "size": 1, "root": "A" * 43 + "="}))
    assert "other" in fails(url, state, 1)


# ---------------------------------------------------------------- 5: content


def test_altered_entry(site: Site, url: str, state: Path) -> None:
    bundle = encode_entry_bundle(site.log[:256])
    assert bundle.count(b"Person 004") == 1  # entry 4
    site.bodies["/log/tile/entries/000"] = bundle.replace(b"Person 004", b"Persom 004")
    message = fails(url, state, 5)
    assert message.startswith("log content does not match the signed checkpoint")
    assert "entry 4 " in message
    assert not state.exists()


def test_removed_entry(site: Site, url: str, state: Path) -> None:
    site.bodies["/log/tile/entries/000"] = encode_entry_bundle(site.log[:7] + site.log[8:256])
    message = fails(url, state, 5)
    assert "entry 7 " in message


def test_removed_last_entry(site: Site, url: str, state: Path) -> None:
    site.bodies["/log/tile/entries/001.p/16"] = encode_entry_bundle(site.log[256:271])
    assert "entry 271 is missing" in fails(url, state, 5)


def test_garbled_bundle(site: Site, url: str, state: Path) -> None:
    site.bodies["/log/tile/entries/001.p/16"] = b"\x00"
    assert "tile/entries/001.p/16" in fails(url, state, 5)


def test_tiles_that_do_not_match_the_root(site: Site, url: str, state: Path) -> None:
    site.bodies["/log/tile/0/000"] = bytes(32 * 256)
    assert "the hash tiles do not, though the entries do" in fails(url, state, 5)


def test_log_rewritten_with_its_tiles_but_not_its_checkpoint(
    site: Site, url: str, state: Path
) -> None:
    honest = site.checkpoint()
    site.log[3] = verified(PARK, 999)
    site.bodies["/log/checkpoint"] = honest
    assert "nor do the tiles" in fails(url, state, 5)


def test_malformed_entry(site: Site, url: str, state: Path) -> None:
    site.log.append(b'{"v": 1}')  # honestly logged, but not a valid entry
    message = fails(url, state, 5)
    assert message.startswith(f"malformed entry {SIZE}:")
    assert "canonical" in message


def test_removal_of_something_not_counted(site: Site, url: str, state: Path) -> None:
    site.log.append(removed(PARK, 0))  # entry 0 opened the petition
    assert "counting rules" in fails(url, state, 5)


def test_entry_with_nan_is_malformed_not_a_crash(site: Site, url: str, state: Path) -> None:
    site.log.append(b'{"v":NaN}')
    assert fails(url, state, 5).startswith(f"malformed entry {SIZE}:")


# ---------------------------------------------------------------- 6: the API


def test_api_count_differs(
    site: Site, url: str, state: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site.api_counts[PARK] = 259
    assert run(url, state) == 6
    err = capsys.readouterr().err
    assert err.startswith("verify: ")
    assert PARK in err and "258 verified in the log" in err and "259 in the API" in err
    # One checkpoint fetch, then three retries.
    assert site.requests.count("/log/checkpoint") == 4
    assert not state.exists()


def test_api_count_differs_json(
    site: Site, url: str, state: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site.api_counts[LIBRARY] = 0
    assert run(url, state, "--json") == 6
    out, err = capsys.readouterr()
    assert json.loads(out) == {
        "ok": False,
        "exit": 6,
        "error": err.strip()[len("verify: ") :],
        # The figures compared; this older API names no log size, so the whole checkpoint's.
        "mismatch": {
            "petition": LIBRARY,
            "figure": "verified",
            "log_size": SIZE,
            "log": 2,
            "api": 0,
        },
    }


def test_petition_missing_from_the_api(site: Site, url: str, state: Path) -> None:
    site.api_missing.add(SCHOOL)
    assert SCHOOL in fails(url, state, 6)


def test_api_count_for_a_petition_the_log_does_not_know(site: Site, url: str, state: Path) -> None:
    site.api_extra["ghost"] = 5
    message = fails(url, state, 6)
    assert "'ghost': 0 verified in the log" in message


# ---------------------------------------------------------------- 1: usage and network


def test_http_500(site: Site, url: str, state: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site.statuses["/log/checkpoint"] = 500
    assert run(url, state) == 1
    err = capsys.readouterr().err
    assert err.startswith("verify: GET ") and "HTTP 500" in err
    assert err.count("\n") == 1


def test_http_error_on_a_tile(site: Site, url: str, state: Path) -> None:
    site.statuses["/log/tile/1/000.p/1"] = 503
    assert "HTTP 503" in fails(url, state, 1)
    assert not state.exists()


def test_connection_refused(state: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    assert run(f"http://127.0.0.1:{port}/", state) == 1
    err = capsys.readouterr().err
    assert err.startswith("verify: GET ") and err.count("\n") == 1
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["http://127.0.0.1:9/"],
        ["ftp://example.org/", "--key", VKEY],
        ["http://127.0.0.1:9/", "--key", "not-a-key"],
        ["http://127.0.0.1:9/", "--key", "@/nonexistent/key"],
        ["http://127.0.0.1:9/", "--key", VKEY, "--bogus"],
    ],
)
def test_usage_errors(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert v.main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("verify: ") and err.count("\n") == 1


def test_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        v.main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: undersigned verify")
    assert "exit codes:" in out and "6  a petition's verified count" in out


def _env_without_django() -> dict[str, str]:
    env = {k: val for k, val in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC), env.get("PYTHONPATH")]))
    return env


def test_command_runs_without_django() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "undersigned", "verify", "--help"],
        env=_env_without_django(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "exit codes:" in result.stdout
    assert "3  rollback" in result.stdout


def test_verifier_imports_nothing_of_django() -> None:
    code = (
        "import sys, undersigned.tlog.verify.cli;"
        "bad = [m for m in sys.modules if m == 'django' or m.startswith(('django.', 'ninja'))];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=_env_without_django(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
