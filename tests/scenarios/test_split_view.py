"""A split view, and the witness that exposes it.

An operator holding the log's key runs two sites with two different
histories of the same log (same key, same origin, two databases) and puts a
server in front that shows one history to one reader and the other to the
next. Both sites ask the same honest witness (`undersigned witness serve`, a
real process) to cosign. The witness cosigns at most one history; the reader
shown the other is refused by `undersigned verify --policy`, while without a
policy every check of that reader passes, which is exactly the hole the
witness closes.
"""

from __future__ import annotations

import http.client
import socket
import subprocess
import sys
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import free_port
from tests.scenarios.harness import Site, get_json, need, postgres_available, wait_for
from undersigned.tlog import cosignature, note, witness

pytestmark = pytest.mark.slow

ORIGIN = "petitions.example.org/log"
EXIT_QUORUM = 7


def undersigned(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "undersigned", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


class SplitView:
    """Forwards each GET to whichever site ``view`` names: the operator picks per reader."""

    def __init__(self) -> None:
        self.backends: dict[str, str] = {}
        self.view = ""
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                target = urllib.parse.urlsplit(outer.backends[outer.view])
                upstream = http.client.HTTPConnection(
                    target.hostname or "", target.port, timeout=20
                )
                try:
                    upstream.request("GET", self.path)
                    answer = upstream.getresponse()
                    body = answer.read()
                    self.send_response(answer.status)
                    self.send_header("Content-Type", answer.getheader("Content-Type") or "")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                finally:
                    upstream.close()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def proxy() -> Iterator[SplitView]:
    server = SplitView()
    yield server
    server.stop()


@pytest.fixture
def honest_witness(tmp_path: Path) -> Iterator[tuple[str, str, str]]:
    """A witness process following the log's key; yields (log skey, witness vkey, its URL)."""
    skey = note.generate_signer_key(ORIGIN)
    vkey_log = note.Signer.from_key(skey).verifier_key()
    data = tmp_path / "witness"
    made = undersigned("witness", "keygen", "--data", str(data), "--name", "news.example/witness")
    assert made.returncode == 0, made.stderr
    vkey = made.stdout.strip()
    followed = undersigned("witness", "add-log", "--data", str(data), "--key", vkey_log)
    assert followed.returncode == 0, followed.stderr
    port = free_port()
    log = open(tmp_path / "witness.log", "ab")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "undersigned",
            "witness",
            "serve",
            "--data",
            str(data),
            "--listen",
            f"127.0.0.1:{port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    log.close()
    try:
        wait_for(lambda: _listening(port), 30, "the witness listening")
        yield skey, vkey, f"http://127.0.0.1:{port}/"
    finally:
        process.terminate()
        process.wait(timeout=20)


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def sign_many(site: Site, prefix: str, n: int) -> None:
    site.python(
        f"""
import json
from undersigned.petitions.models import Petition
from undersigned.signing import services
from undersigned.signing.tokens import new_token
petition = Petition.objects.get(slug="crash")
for i in range({n}):
    signature = services.sign(
        petition,
        services.SignRequest(
            full_name="{prefix} " + str(i), email="{prefix}" + str(i) + "@example.org"
        ),
    )
    raw, signature.confirm_token_hash = new_token()
    signature.save(update_fields=["confirm_token_hash"])
    services.confirm(raw)
print(json.dumps({n}))
"""
    )


def checkpoint_of(url: str) -> str:
    status, body = get_json(url + "log/checkpoint", token="")
    return body if status == 200 and isinstance(body, str) else ""


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_a_split_view_gets_one_history_cosigned_and_the_other_refused(
    make_site: Any,
    honest_witness: tuple[str, str, str],
    proxy: SplitView,
    tmp_path: Path,
    engine: str,
) -> None:
    if engine == "postgresql":
        need(postgres_available(), "PostgreSQL is not running")
    skey, witness_vkey, witness_url = honest_witness
    shared = {
        "LEDGER_SIGNER_KEY": skey,
        "LEDGER_WITNESSES": f"newsroom {witness_vkey} {witness_url}",
        "LEDGER_WITNESS_TIMEOUT": "3",
    }
    ports = {"a": free_port(), "b": free_port()}
    # Both histories are published under one address, the operator's front server.
    sites = {
        name: make_site(
            engine, f"history-{name}", site_url=proxy.url.rstrip("/"), extra=dict(shared)
        )
        for name in ports
    }
    urls = {name: f"http://127.0.0.1:{port}/" for name, port in ports.items()}
    proxy.backends = urls
    for name, site in sites.items():
        site.install()
        site.serve(ports[name], workers=1)
    # History a first: it has the witness's cosignature before b asks.
    sign_many(sites["a"], "Alice", 3)
    sites["a"].worker()
    witness_key = cosignature.CosignatureVerifier.from_key(witness_vkey)
    wait_for(
        lambda: f"— {witness_key.name} " in checkpoint_of(urls["a"]),
        30,
        "history a cosigned",
        sites["a"],
    )
    sign_many(sites["b"], "Boris", 5)
    sites["b"].worker()
    # b signs its checkpoint and asks; the witness refuses it (422 after b learns its size).
    wait_for(lambda: _refused(urls["b"]), 60, "the witness refusing history b", sites["b"])
    # Both keep growing; the witness keeps extending a only.
    before = _size(checkpoint_of(urls["a"]))
    sign_many(sites["a"], "Anna", 2)
    sign_many(sites["b"], "Bella", 2)
    wait_for(
        lambda: (
            _size(checkpoint_of(urls["a"])) > before
            and f"— {witness_key.name} " in checkpoint_of(urls["a"])
        ),
        30,
        "history a's new checkpoint cosigned",
        sites["a"],
    )
    assert f"— {witness_key.name} " not in checkpoint_of(urls["b"])

    # The witness's own record for monitors is history a.
    status, cosigned = get_json(witness_url + witness.monitoring_path(ORIGIN).lstrip("/"), token="")
    assert status == 200 and isinstance(cosigned, str)
    assert cosigned.split("\n\n")[0] == checkpoint_of(urls["a"]).split("\n\n")[0]

    policy = tmp_path / "reader.policy"
    status, text = get_json(urls["a"] + "log/policy", token="")
    assert status == 200 and isinstance(text, str)
    # Both histories serve the same policy: same key, same witness.
    assert get_json(urls["b"] + "log/policy", token="")[1] == text
    policy.write_text(text)

    proxy.view = "a"
    first = undersigned(
        "verify", proxy.url, "--policy", str(policy), "--state", str(tmp_path / "r1.json")
    )
    assert first.returncode == 0, first.stdout + first.stderr
    assert "cosigned by newsroom; meets the policy's quorum" in first.stdout

    proxy.view = "b"
    # Without a policy, the second reader's checks all pass: the split view is invisible...
    blind = undersigned(
        "verify",
        proxy.url,
        "--key",
        note.Signer.from_key(skey).verifier_key(),
        "--state",
        str(tmp_path / "r2-blind.json"),
    )
    assert blind.returncode == 0, blind.stdout + blind.stderr
    assert "split view" in blind.stdout and "not excluded" in blind.stdout
    # ...with the policy, that reader is refused.
    second = undersigned(
        "verify", proxy.url, "--policy", str(policy), "--state", str(tmp_path / "r2.json")
    )
    assert second.returncode == EXIT_QUORUM, second.stdout + second.stderr
    assert "cosigned by no witness; does not meet the quorum" in second.stderr
    assert "missing: newsroom" in second.stderr


def _size(checkpoint: str) -> int:
    lines = checkpoint.split("\n")
    return int(lines[1]) if len(lines) > 1 and lines[1].isdigit() else 0


def _refused(url: str) -> bool:
    detail = get_json(url + "readyz")[1]
    if not isinstance(detail, dict):
        return False
    newsroom = detail["checks"]["witnesses"].get("witnesses", {}).get("newsroom", {})
    return bool(newsroom.get("failures", {}).get("422"))
