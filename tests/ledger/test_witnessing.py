"""The site asks real witnesses (c2sp.org/tlog-witness over HTTP on loopback) to cosign.

A witness that cosigns adds its line to /log/checkpoint; one that stalls,
refuses, answers garbage or forgot what it cosigned costs nothing but its
cosignature: signing goes on, nothing raises, /readyz counts what happened.
"""

from __future__ import annotations

import base64
import os
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone

from tests.tlog.spec_verifier import SpecCosigner
from undersigned.ledger import cosigning, services
from undersigned.ledger.keys import signer
from undersigned.ledger.models import Cosignature, SignedCheckpoint, WitnessStatus
from undersigned.ledger.witness_config import parse_quorum, parse_witnesses
from undersigned.petitions.models import Petition
from undersigned.signing import services as signing
from undersigned.signing.tokens import new_token
from undersigned.tlog import cosignature, merkle, note, witness
from undersigned.tlog.policy import Policy

pytestmark = pytest.mark.django_db(transaction=True)

READYZ_TOKEN = "witness-test-token-" + "x" * 24


def add_verified(petition: Petition, n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        signature = signing.sign(
            petition,
            signing.SignRequest(
                full_name=f"Person {i}", email=f"w{i}@example.org", show_name=i % 2 == 0
            ),
        )
        raw, signature.confirm_token_hash = new_token()
        signature.save(update_fields=["confirm_token_hash"])
        signing.confirm(raw)


def grow(petition: Petition, n: int, start: int) -> SignedCheckpoint:
    add_verified(petition, n, start)
    services.integrate()
    latest = services.latest_checkpoint()
    assert latest is not None
    return latest


# ------------------------------------------------------------------ witnesses on loopback


@dataclass
class Running:
    name: str
    data: Path
    vkey: str
    server: ThreadingHTTPServer
    thread: threading.Thread

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/"

    def line(self) -> str:
        return f"{self.name} {self.vkey} {self.url}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def serve(server: ThreadingHTTPServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return thread


def start_witness(
    data: Path,
    name: str = "newsroom",
    algorithm: str = cosignature.MLDSA44,
    follow: str | None = "site",
) -> Running:
    """`undersigned witness` on loopback, following the site's log key (or ``follow``)."""
    if (data / witness.KEY_FILE).exists():
        vkey = witness.load_signer(data).verifier_key()
    else:
        vkey = witness.generate_key(data, f"{name}.example/witness", algorithm)
        if follow is not None:
            key = signer().verifier_key() if follow == "site" else follow
            witness.add_log(data, witness.log_entry(key))
    server = witness.make_server(data, "127.0.0.1:0")
    return Running(name, data, vkey, server, serve(server))


class Stalling:
    """Accepts connections and never answers."""

    def __init__(self) -> None:
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.held: list[socket.socket] = []
        self.running = True
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.socket.getsockname()[1]}/"

    def _accept(self) -> None:
        while self.running:
            try:
                conn, _ = self.socket.accept()
            except OSError:
                return
            self.held.append(conn)

    def stop(self) -> None:
        self.running = False
        self.socket.close()
        for conn in self.held:
            conn.close()


def answering(answer: Callable[[bytes], tuple[int, bytes]]) -> ThreadingHTTPServer:
    """An HTTP server whose every POST gets ``answer(body)``."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            status, reply = answer(body)
            self.send_response(status)
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    serve(server)
    return server


def configure(settings: Any, lines: list[str], quorum: str = "") -> None:
    settings.LEDGER_WITNESSES = parse_witnesses("\n".join(lines))
    settings.LEDGER_WITNESS_QUORUM = parse_quorum(quorum, len(settings.LEDGER_WITNESSES))
    settings.LEDGER_WITNESS_TIMEOUT = 1.0


@pytest.fixture
def honest(tmp_path: Path, settings: Any) -> Iterator[Running]:
    running = start_witness(tmp_path / "newsroom")
    configure(settings, [running.line()])
    try:
        yield running
    finally:
        running.stop()


def status(name: str) -> WitnessStatus:
    return WitnessStatus.objects.get(name=name)


def served(client: Client) -> str:
    response = client.get("/log/checkpoint")
    assert response.status_code == 200
    return response.content.decode()


# ------------------------------------------------------------------ cosigned


@pytest.mark.parametrize("algorithm", [cosignature.MLDSA44, cosignature.ED25519])
def test_a_checkpoint_is_cosigned_by_a_real_witness(
    petition: Petition, tmp_path: Path, settings: Any, client: Client, algorithm: str
) -> None:
    running = start_witness(tmp_path / "w", algorithm=algorithm)
    configure(settings, [running.line()])
    try:
        first = grow(petition, 3, 0)
        assert cosigning.cosign_round() == {"newsroom": "cosigned"}
        body = served(client)
        assert body.startswith(first.note)
        # An implementation written from the spec alone accepts the cosignature.
        assert SpecCosigner(running.vkey).cosignatures(body)
        assert Policy.parse(client.get("/log/policy").content).verify(body).signed == ("newsroom",)

        # The next checkpoint goes with the consistency proof from the witness's size.
        second = grow(petition, 4, 3)
        assert second.size > first.size
        assert cosigning.cosign_round() == {"newsroom": "cosigned"}
        assert SpecCosigner(running.vkey).cosignatures(served(client))
        assert status("newsroom").size == second.size
        # Nothing more to ask until the log grows again.
        assert cosigning.cosign_round() == {}
        # The witness's own record, for monitors, is the same checkpoint.
        latest = running.server.witness.latest(witness.origin_hash(signer().name))
        assert latest.body.decode().startswith(second.note.split("\n\n")[0])
    finally:
        running.stop()


def test_the_policy_names_the_log_the_witnesses_and_the_quorum(
    tmp_path: Path, settings: Any, client: Client
) -> None:
    a = start_witness(tmp_path / "a", name="newsroom")
    b = start_witness(tmp_path / "b", name="library")
    try:
        configure(settings, [a.line(), b.line()], quorum="1")
        response = client.get("/log/policy")
        assert response.status_code == 200
        assert response["Content-Type"] == "text/plain; charset=utf-8"
        text = response.content.decode()
        policy = Policy.parse(text)
        assert [log.vkey for log in policy.logs] == [signer().verifier_key()]
        assert [(w.name, w.vkey, w.url) for w in policy.witnesses] == [
            ("newsroom", a.vkey, a.url),
            ("library", b.vkey, b.url),
        ]
        assert text.endswith("group witnesses any newsroom library\nquorum witnesses\n")
        configure(settings, [a.line(), b.line()])
        assert (
            client.get("/log/policy")
            .content.decode()
            .endswith("group witnesses all newsroom library\nquorum witnesses\n")
        )
    finally:
        a.stop()
        b.stop()


def test_without_witnesses_the_policy_says_quorum_none(client: Client) -> None:
    text = client.get("/log/policy").content.decode()
    assert text.startswith(f"log {signer().verifier_key()} http")
    assert text.endswith("/log/\nquorum none\n")
    assert Policy.parse(text).quorum == "none"
    assert cosigning.cosign_round() == {}


def test_the_running_worker_cosigns_in_its_own_thread(
    petition: Petition, honest: Running, client: Client
) -> None:
    loop = cosigning.CosignLoop(interval=0.1)
    loop.start()
    try:
        checkpoint = grow(petition, 2, 0)
        loop.wake.set()
        deadline = time.monotonic() + 10
        while not Cosignature.objects.filter(checkpoint=checkpoint).exists():
            assert time.monotonic() < deadline, "no cosignature within 10 s"
            time.sleep(0.05)
    finally:
        loop.stop()
        loop.join(5)
    assert SpecCosigner(honest.vkey).cosignatures(served(client))


def test_witnesses_are_never_asked_inside_a_transaction(
    petition: Petition, honest: Running
) -> None:
    grow(petition, 1, 0)
    with transaction.atomic(), pytest.raises(RuntimeError, match="outside any"):
        cosigning.cosign_round()
    assert not Cosignature.objects.exists()


# ------------------------------------------------------------------ witnesses that fail


def test_a_stalling_witness_costs_only_its_cosignature(
    petition: Petition, honest: Running, settings: Any, client: Client
) -> None:
    stall = Stalling()
    try:
        configure(settings, [honest.line(), f"stall {honest_like_key()} {stall.url}"], "any")
        checkpoint = grow(petition, 3, 0)
        started = time.monotonic()
        outcomes = cosigning.cosign_round()
        elapsed = time.monotonic() - started
        assert outcomes == {"newsroom": "cosigned", "stall": "timeout"}
        # Asked at once, each with a deadline: the honest one was not held up.
        assert elapsed < 2 * settings.LEDGER_WITNESS_TIMEOUT + 1.5
        assert status("stall").timeouts == 1
        assert status("stall").next_attempt is not None
        # Signing goes on, and the checkpoint has the honest witness's line.
        later = grow(petition, 2, 3)
        assert later.size > checkpoint.size
        assert (
            SpecCosigner(honest.vkey).cosignatures(client.get("/log/checkpoint").content.decode())
            == []
        )
        cosigning.cosign_round()
        assert SpecCosigner(honest.vkey).cosignatures(served(client))
    finally:
        stall.stop()


def honest_like_key() -> str:
    """A cosigner key nobody answers for."""
    return cosignature.CosignatureSigner.generate(
        "nobody.example/w", cosignature.ED25519
    ).verifier_key()


def test_refusals_are_counted_retried_with_backoff_and_shown_in_readyz(
    petition: Petition, honest: Running, settings: Any, tmp_path: Path, client: Client
) -> None:
    stranger = start_witness(tmp_path / "stranger", name="stranger", follow=None)
    # Follows a log of our origin, but with another key: our signature is refused.
    other_key = note.Signer.generate(signer().name).verifier_key()
    impostor = start_witness(tmp_path / "wrongkey", name="wrongkey", follow=other_key)
    try:
        configure(settings, [honest.line(), stranger.line(), impostor.line()], "1")
        grow(petition, 2, 0)
        now = timezone.now()
        assert cosigning.cosign_round(now) == {
            "newsroom": "cosigned",
            "stranger": "unknown_log",
            "wrongkey": "refused",
        }
        assert (status("stranger").unknown_log, status("wrongkey").refused) == (1, 1)
        # Backing off: not asked again at once, asked again once the delay is over.
        assert cosigning.cosign_round(now) == {}
        assert cosigning.cosign_round(now + timedelta(seconds=2)) == {
            "stranger": "unknown_log",
            "wrongkey": "refused",
        }
        assert status("stranger").consecutive_failures == 2
        second_retry = status("stranger").next_attempt
        assert second_retry is not None and second_retry >= now + timedelta(seconds=3.9)

        settings.READYZ_TOKEN = READYZ_TOKEN
        detail = client.get("/readyz", HTTP_AUTHORIZATION=f"Bearer {READYZ_TOKEN}").json()
        checked = detail["checks"]["witnesses"]
        assert checked["ok"] is True and checked["latest_quorum_met"] is True
        assert checked["witnesses"]["stranger"]["failures"]["404"] == 2
        assert checked["witnesses"]["wrongkey"]["failures"]["403"] == 2
        assert checked["witnesses"]["newsroom"]["cosigned_latest"] is True
        assert "HTTP 404" in checked["witnesses"]["stranger"]["last_error"]
        # Anyone else sees one word, no detail.
        assert client.get("/readyz").content in (b"ok\n", b"fail\n")
    finally:
        stranger.stop()
        impostor.stop()


@pytest.mark.parametrize("garbage", ["bad signature", "no line", "oversized", "server error"])
def test_a_witness_answering_garbage_costs_only_its_cosignature(
    petition: Petition, honest: Running, settings: Any, client: Client, garbage: str
) -> None:
    liar = cosignature.CosignatureSigner.generate("liar.example/w", cosignature.ED25519)

    def answer(body: bytes) -> tuple[int, bytes]:
        if garbage == "bad signature":
            # Its name and key id, a signature over nothing.
            raw = (
                liar.key_id.to_bytes(4, "big")
                + int(time.time()).to_bytes(8, "big")
                + os.urandom(64)
            )
            return 200, f"— {liar.name} {base64.b64encode(raw).decode()}\n".encode()
        if garbage == "no line":
            return 200, b"thanks!\n"
        if garbage == "oversized":
            return 200, b"\xe2\x80\x94 " * (cosigning.MAX_RESPONSE_BYTES // 3 + 10)
        return 500, b"internal error\n"

    server = answering(answer)
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        configure(settings, [honest.line(), f"liar {liar.verifier_key()} {url}"], "1")
        grow(petition, 2, 0)
        outcomes = cosigning.cosign_round()
        assert outcomes["newsroom"] == "cosigned"
        expected = "other" if garbage == "server error" else "bad_response"
        assert outcomes["liar"] == expected
        body = served(client)
        assert liar.name not in body
        assert SpecCosigner(honest.vkey).cosignatures(body)
        counted = status("liar")
        assert (counted.bad_responses, counted.other_errors) == (
            (0, 1) if garbage == "server error" else (1, 0)
        )
        grow(petition, 1, 2)  # signing goes on
    finally:
        server.shutdown()
        server.server_close()


def test_a_witness_restarted_with_an_older_state_is_brought_up_to_date(
    petition: Petition, tmp_path: Path, settings: Any, client: Client
) -> None:
    data = tmp_path / "forgetful"
    running = start_witness(data)
    configure(settings, [running.line()])
    grow(petition, 3, 0)
    assert cosigning.cosign_round() == {"newsroom": "cosigned"}
    old_state = tmp_path / "old-state"
    shutil.copytree(data / witness.STATE_DIR, old_state)
    grow(petition, 3, 3)
    assert cosigning.cosign_round() == {"newsroom": "cosigned"}
    running.stop()

    # Back from an old backup, on another port: it remembers the first checkpoint only.
    shutil.rmtree(data / witness.STATE_DIR)
    shutil.copytree(old_state, data / witness.STATE_DIR)
    running = start_witness(data)
    try:
        configure(settings, [running.line()])
        latest = grow(petition, 2, 6)
        # It answers 409 with the size it remembers; the site resends from there.
        assert cosigning.cosign_round() == {"newsroom": "cosigned"}
        assert status("newsroom").conflicts == 1
        assert status("newsroom").size == latest.size
        assert SpecCosigner(running.vkey).cosignatures(served(client))
    finally:
        running.stop()


def test_a_witness_that_cosigned_another_tree_refuses_ours(
    petition: Petition, honest: Running, settings: Any
) -> None:
    # Someone holding the log's key showed the witness another history first.
    forged = merkle.Checkpoint(signer().name, 2, bytes(range(32))).to_text()
    forged_note = note.sign_note(forged, [signer()])
    answer = honest.server.witness.add_checkpoint(witness.witness_request_body(0, [], forged_note))
    assert answer.status == 200
    grow(petition, 4, 0)
    # Asked from 0, it names size 2; the proof from our size 2 fails against its root.
    assert cosigning.cosign_round() == {"newsroom": "inconsistent"}
    assert status("newsroom").inconsistent == 1
    assert not Cosignature.objects.exists()
    grow(petition, 1, 4)  # signing goes on


def test_a_stored_cosignature_is_served_only_while_its_witness_is_configured(
    petition: Petition, honest: Running, settings: Any, client: Client
) -> None:
    grow(petition, 1, 0)
    cosigning.cosign_round()
    assert SpecCosigner(honest.vkey).cosignatures(served(client))
    configure(settings, [])
    assert served(client) == services.latest_checkpoint().note  # type: ignore[union-attr]


# ------------------------------------------------------------------ pages


def test_the_log_page_shows_the_witnesses_and_the_policy(
    petition: Petition, honest: Running, client: Client
) -> None:
    grow(petition, 2, 0)
    page = client.get("/log/").content.decode()
    assert "has no cosignature yet" in page
    cosigning.cosign_round()
    page = client.get("/log/").content.decode()
    assert 'href="/log/policy"' in page
    assert "is cosigned by: newsroom" in page
    assert honest.vkey in page
    assert '<th scope="col">Cosigned by</th>' in page
    ru = client.get("/log/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "подписали свидетели: newsroom" in ru


def test_without_witnesses_the_log_page_says_a_split_view_is_not_excluded(
    petition: Petition, client: Client
) -> None:
    grow(petition, 1, 0)
    page = client.get("/log/").content.decode()
    assert "No witness cosigns this log yet" in page
    assert "Cosigned by" not in page


def test_the_receipt_page_offers_the_tlog_proof_and_the_json_carries_the_cosignatures(
    petition: Petition, honest: Running, client: Client
) -> None:
    signature = signing.sign(
        petition,
        signing.SignRequest(full_name="Hidden Person", email="h@example.org", show_name=False),
    )
    raw, signature.confirm_token_hash = new_token()
    signature.save(update_fields=["confirm_token_hash"])
    key = signing.confirm(raw).receipt_key
    services.integrate()
    cosigning.cosign_round()
    page = client.get(f"/receipt/{key}/").content.decode()
    assert f'href="/receipt/{key}.tlog-proof"' in page
    assert "not what opens the commitment to your name: that is in the JSON receipt" in page
    receipt = client.get(f"/receipt/{key}.json").json()
    assert "opening" in receipt  # the JSON receipt opens the commitment
    assert SpecCosigner(honest.vkey).cosignatures(receipt["checkpoint"])
    assert (
        client.post(
            "/log/check-receipt/", {"receipt": client.get(f"/receipt/{key}.json").content.decode()}
        ).status_code
        == 200
    )
