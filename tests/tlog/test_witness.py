"""The witness (c2sp.org/tlog-witness) over real HTTP on loopback."""

from __future__ import annotations

import base64
import http.client
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.tlog.helpers import Log
from tests.tlog.spec_verifier import SpecCosigner
from undersigned.tlog import cosignature, note, witness
from undersigned.tlog.merkle import EMPTY_ROOT, Checkpoint

WITNESS_NAME = "news.example/witness"


@dataclass
class Answer:
    status: int
    content_type: str
    body: bytes


def request(port: int, method: str, path: str, body: bytes | None = None) -> Answer:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        connection.request(method, path, body=body)
        response = connection.getresponse()
        return Answer(response.status, response.getheader("Content-Type") or "", response.read())
    finally:
        connection.close()


def add(port: int, old: int, proof: list[bytes], checkpoint: str) -> Answer:
    body = witness.witness_request_body(old, proof, checkpoint)
    return request(port, "POST", "/add-checkpoint", body)


@dataclass
class Running:
    data: Path
    port: int
    vkey: str
    log: Log

    def submit(self, old: int, log: Log | None = None, size: int | None = None) -> Answer:
        log = log or self.log
        size = log.store.size if size is None else size
        return add(self.port, old, log.consistency(old, size), log.signed(size))

    def latest(self, origin: str | None = None) -> Answer:
        return request(self.port, "GET", witness.monitoring_path(origin or self.log.origin))


def set_up(data: Path, log: Log, algorithm: str = cosignature.MLDSA44) -> str:
    vkey = witness.generate_key(data, WITNESS_NAME, algorithm)
    witness.add_log(data, witness.log_entry(log.vkey, contact="ops@petitions.example.org"))
    return vkey


@pytest.fixture(params=[cosignature.MLDSA44, cosignature.ED25519])
def running(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Running]:
    log = Log()
    vkey = set_up(tmp_path / "witness", log, request.param)
    server = witness.WitnessServer(("127.0.0.1", 0), witness.Witness(tmp_path / "witness"))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Running(tmp_path / "witness", server.socket.getsockname()[1], vkey, log)
    finally:
        server.shutdown()
        server.server_close()


def test_the_first_checkpoint_is_cosigned_and_served_to_monitors(running: Running) -> None:
    running.log.grow(5)
    answer = running.submit(0)
    assert answer.status == 200, answer.body
    # The body is the cosignature line(s); an independent checker accepts them.
    checkpoint = running.log.signed()
    assert SpecCosigner(running.vkey).cosignatures(checkpoint + answer.body.decode()) != []
    latest = running.latest()
    assert latest.status == 200
    text, sigs = note.open_note(
        latest.body,
        [running.log.signer.verifier(), cosignature.CosignatureVerifier.from_key(running.vkey)],
    )
    assert Checkpoint.parse(text).size == 5
    assert [s.name for s in sigs] == [running.log.origin, WITNESS_NAME]


def test_a_consistent_extension_is_cosigned(running: Running) -> None:
    running.log.grow(3)
    assert running.submit(0).status == 200
    running.log.grow(10)
    answer = running.submit(3)
    assert answer.status == 200, answer.body
    assert SpecCosigner(running.vkey).cosignatures(running.log.signed() + answer.body.decode())
    # Resubmitting the same checkpoint is fine too.
    assert running.submit(13).status == 200
    latest = running.latest().body.decode()
    assert latest.startswith(running.log.checkpoint_text())


def test_a_stale_old_size_gets_409_with_the_witness_size(running: Running) -> None:
    running.log.grow(4)
    assert running.submit(0).status == 200
    running.log.grow(2)
    answer = running.submit(0)
    assert (answer.status, answer.content_type, answer.body) == (409, "text/x.tlog.size", b"4\n")
    assert witness.parse_conflict_body(answer.body) == 4


def test_a_fork_is_refused(running: Running) -> None:
    running.log.grow(6)
    assert running.submit(0).status == 200
    running.log.grow(4)
    fork = running.log.fork(keep=6)
    assert fork.root() != running.log.root()
    assert running.submit(6).status == 200
    # The same size with another root (409, as tlog-witness says: the body is the
    # size it holds), and a bigger fork "extending" the old state (422).
    same_size = running.submit(10, log=fork)
    assert same_size.status == 409 and same_size.body == b"10\n"
    fork.grow(5)
    assert running.submit(10, log=fork).status == 422
    # A proof from the real log does not make the fork's checkpoint consistent.
    running.log.grow(5)
    body = witness.witness_request_body(10, running.log.consistency(10), fork.signed())
    assert request(running.port, "POST", "/add-checkpoint", body).status == 422
    assert running.latest().body.decode().startswith(running.log.checkpoint_text(10))


def test_a_bad_log_signature_gets_403(running: Running) -> None:
    running.log.grow(3)
    impostor = note.Signer.generate(running.log.origin)
    assert running.submit(0, log=Log(running.log.origin, impostor)).status == 403
    signed = running.log.signed()
    line = signed.rstrip("\n").rsplit("\n", 1)[1]
    raw = bytearray(base64.b64decode(line.split(" ")[2]))
    raw[-1] ^= 1
    tampered = signed.replace(line, line.rsplit(" ", 1)[0] + " " + base64.b64encode(raw).decode())
    assert add(running.port, 0, [], tampered).status == 403
    assert running.latest().status == 404


def test_an_unknown_origin_gets_404(running: Running) -> None:
    other = Log("elsewhere.example/log")
    other.grow(2)
    assert running.submit(0, log=other).status == 404
    assert running.latest(other.origin).status == 404


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"old 01\n\nx\n",
        b"new 0\n\n",
        b"old 0\nnot base64!\n\nx\n\n",
        b"old 0\n" + base64.b64encode(bytes(31)) + b"\n\nx\n",
        b"old -1\n\nx\n",
        b"\xff\xfe",
    ],
)
def test_malformed_bodies_get_400(running: Running, body: bytes) -> None:
    assert request(running.port, "POST", "/add-checkpoint", body).status == 400


def test_other_400s(running: Running) -> None:
    running.log.grow(3)
    # The old size above the checkpoint's size.
    assert add(running.port, 4, [], running.log.signed()).status == 400
    # More than 63 proof lines.
    head = "old 1\n" + (base64.b64encode(bytes(32)).decode() + "\n") * 64
    body = (head + "\n" + running.log.signed()).encode()
    assert request(running.port, "POST", "/add-checkpoint", body).status == 400
    # A signed note that is not a checkpoint.
    not_checkpoint = note.sign_note(running.log.origin + "\nhello\n", [running.log.signer])
    assert add(running.port, 0, [], not_checkpoint).status == 400


def test_422s_of_the_spec(running: Running) -> None:
    # Size 0 must carry the empty tree's root.
    bad_empty = Checkpoint(running.log.origin, 0, bytes(32)).to_text()
    signed = note.sign_note(bad_empty, [running.log.signer])
    assert add(running.port, 0, [], signed).status == 422
    good_empty = Checkpoint(running.log.origin, 0, EMPTY_ROOT).to_text()
    assert add(running.port, 0, [], note.sign_note(good_empty, [running.log.signer])).status == 200
    # From size 0 no proof is allowed.
    running.log.grow(2)
    assert add(running.port, 0, [bytes(32)], running.log.signed()).status == 422


def test_concurrent_requests_cosign_once(running: Running) -> None:
    running.log.grow(2)
    assert running.submit(0).status == 200
    running.log.grow(6)
    results: list[int] = []
    lock = threading.Lock()

    def go() -> None:
        status = running.submit(2).status
        with lock:
            results.append(status)

    threads = [threading.Thread(target=go) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [200] + [409] * 7


def test_wrong_methods_and_paths(running: Running) -> None:
    assert request(running.port, "GET", "/add-checkpoint").status == 405
    assert request(running.port, "POST", "/elsewhere", b"").status == 404
    assert request(running.port, "GET", "/not-a-hash/checkpoint").status == 404


def test_the_client_helpers_collect_the_cosignature(running: Running) -> None:
    running.log.grow(9)
    checkpoint = running.log.signed()
    answer = running.submit(0)
    verifier = cosignature.CosignatureVerifier.from_key(running.vkey)
    cosigned, lines = witness.parse_add_checkpoint_response(checkpoint, answer.body, [verifier])
    assert [line.name for line in lines] == [WITNESS_NAME]
    assert cosigned.startswith(checkpoint)
    assert SpecCosigner(running.vkey).cosignatures(cosigned)


# ---------------------------------------------------------------- data directory


def test_keygen_keeps_the_key_in_the_data_directory(tmp_path: Path) -> None:
    data = tmp_path / "w"
    result = subprocess.run(
        [sys.executable, "-m", "undersigned", "witness", "keygen", "--data", str(data),
         "--name", WITNESS_NAME],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    vkey = result.stdout.strip()
    assert cosignature.CosignatureVerifier.from_key(vkey).name == WITNESS_NAME
    assert "PRIVATE" not in result.stdout + result.stderr
    key_file = data / witness.KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert witness.load_signer(data).verifier_key() == vkey
    again = subprocess.run(
        [sys.executable, "-m", "undersigned", "witness", "keygen", "--data", str(data),
         "--name", WITNESS_NAME],
        capture_output=True, text=True,
    )  # fmt: skip
    assert again.returncode == 1 and "already exists" in again.stderr
    assert witness.load_signer(data).verifier_key() == vkey


def test_add_log_writes_a_logs_v0_list(tmp_path: Path) -> None:
    log = Log()
    data = tmp_path / "w"
    subprocess.run(
        [sys.executable, "-m", "undersigned", "witness", "add-log", "--data", str(data),
         "--key", log.vkey, "--contact", "ops@petitions.example.org"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    text = (data / witness.LOGS_FILE).read_text()
    assert text == (
        f"logs/v0\n\nvkey {log.vkey}\nqpd 86400\ncontact ops@petitions.example.org\n"
    )
    assert list(witness.parse_log_list(text)) == [log.origin]
    # An entry whose origin differs from the key name says so; unknown keys are skipped.
    other = Log("b.example/log")
    listed = witness.parse_log_list(
        f"# comment\nlogs/v0\n  vkey {other.vkey}\n origin b.example/other\n\tqpd 24\n"
        "contact someone\nfuture thing\n"
    )
    assert list(listed) == ["b.example/other"]
    assert listed["b.example/other"].to_lines()[1] == "origin b.example/other"


def test_a_corrupt_state_file_is_never_taken_for_a_new_log(running: Running) -> None:
    running.log.grow(3)
    assert running.submit(0).status == 200
    name = f"{witness.origin_hash(running.log.origin)}.checkpoint"
    state = running.data / witness.STATE_DIR / name
    state.write_text("garbage")
    assert running.submit(0).status == 500
    assert running.latest().status == 500


# ---------------------------------------------------------------- restarts and crashes


SERVE_WITH_CRASH = """
import os, sys, threading
from pathlib import Path
from undersigned.tlog import witness

data, point = Path(sys.argv[1]), sys.argv[2]
armed = data / "crash-armed"
this_request = threading.local()

def hook(reached):
    # Armed per request, when it is verified: the request answered before the
    # test armed the crash may still be passing its own last hook.
    if reached == witness.HOOK_VERIFIED:
        this_request.armed = armed.exists()
    if reached == point and getattr(this_request, "armed", False):
        os._exit(70)

server = witness.make_server(data, "127.0.0.1:0", hook=hook)
print(server.socket.getsockname()[1], flush=True)
server.serve_forever()
"""


@dataclass
class Process:
    process: subprocess.Popen[str]
    port: int


def start(data: Path, crash_point: str = "none") -> Process:
    process = subprocess.Popen(
        [sys.executable, "-c", SERVE_WITH_CRASH, str(data), crash_point],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    port = int(process.stdout.readline())
    return Process(process, port)


def stop(proc: Process) -> None:
    if proc.process.poll() is None:
        proc.process.terminate()
    proc.process.wait(timeout=20)
    if proc.process.stdout is not None:
        proc.process.stdout.close()


def test_the_state_survives_a_restart(tmp_path: Path) -> None:
    log = Log()
    data = tmp_path / "w"
    set_up(data, log)
    log.grow(5)
    first = start(data)
    try:
        assert add(first.port, 0, [], log.signed()).status == 200
    finally:
        stop(first)
    second = start(data)
    try:
        answer = add(second.port, 0, [], log.signed())
        assert (answer.status, answer.body) == (409, b"5\n")
        # Its memory of the root, too: size 5 with another root is a 409 (tlog-witness).
        fork = log.fork(keep=2)
        assert add(second.port, 5, [], fork.signed()).status == 409
    finally:
        stop(second)


@pytest.mark.parametrize(
    "point",
    [witness.HOOK_VERIFIED, witness.HOOK_TEMP_WRITTEN, witness.HOOK_STORED, witness.HOOK_ANSWERED],
)
def test_a_crash_between_verifying_and_answering_never_lets_a_fork_through(
    tmp_path: Path, point: str
) -> None:
    """Kill the witness mid-request, restart it, and offer it a fork of what it was shown.

    Whatever the crash point, a cosignature exists only for what is on disk: so
    the client never ends up holding cosignatures of two inconsistent trees.
    """
    log = Log()
    data = tmp_path / "w"
    vkey = set_up(data, log)
    spec = SpecCosigner(vkey)
    log.grow(4)
    held: dict[str, str] = {}  # checkpoint text -> cosigned note the client holds

    proc = start(data, point)
    try:
        answer = add(proc.port, 0, [], log.signed())
        assert answer.status == 200
        held[log.checkpoint_text()] = log.signed() + answer.body.decode()
        log.grow(4)
        (data / "crash-armed").touch()
        if point == witness.HOOK_ANSWERED:
            # Killed just after answering: the client has this cosignature.
            answer = add(proc.port, 4, log.consistency(4), log.signed())
            assert answer.status == 200
            held[log.checkpoint_text()] = log.signed() + answer.body.decode()
        else:
            with pytest.raises((ConnectionError, http.client.HTTPException)):
                add(proc.port, 4, log.consistency(4), log.signed())
        assert proc.process.wait(timeout=20) == 70
    finally:
        stop(proc)
    (data / "crash-armed").unlink()
    assert not list((data / witness.STATE_DIR).glob(".*.tmp")) or point == witness.HOOK_TEMP_WRITTEN

    fork = log.fork(keep=4)  # size 8, consistent with 4, not with the real 8
    proc = start(data)
    try:
        for old in (4, 8):
            answer = add(proc.port, old, fork.consistency(old), fork.signed())
            if answer.status == 200:
                held[fork.checkpoint_text()] = fork.signed() + answer.body.decode()
        # The real log's size-8 checkpoint again, as a log retrying would send it.
        for old in (4, 8):
            answer = add(proc.port, old, log.consistency(old), log.signed())
            if answer.status == 200:
                held[log.checkpoint_text()] = log.signed() + answer.body.decode()
    finally:
        stop(proc)
    assert not list((data / witness.STATE_DIR).glob(".*.tmp"))
    for cosigned in held.values():
        assert spec.cosignatures(cosigned)
    # Of the two size-8 trees, at most one was ever cosigned.
    assert not (fork.checkpoint_text() in held and log.checkpoint_text() in held)
    if point in (witness.HOOK_STORED, witness.HOOK_ANSWERED):
        # Stored before the crash: the fork is refused and the real one accepted.
        assert log.checkpoint_text() in held and fork.checkpoint_text() not in held
