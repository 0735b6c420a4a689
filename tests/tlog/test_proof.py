"""tlog-proof: the file format (transparency-dev's vectors) and offline verification."""

from __future__ import annotations

import base64
import hashlib

import pytest

from tests.tlog.helpers import Log
from undersigned.tlog import proof as tlog_proof
from undersigned.tlog.cosignature import ED25519, MLDSA44, CosignatureSigner
from undersigned.tlog.policy import Policy, PolicyError, QuorumError
from undersigned.tlog.proof import TlogProof, TlogProofError

H1 = hashlib.sha256(b"hash1").digest()
H2 = hashlib.sha256(b"hash2").digest()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.mark.parametrize(
    ("proof", "text"),
    [
        # transparency-dev/formats proof/tlog_proof_test.go TestMarshal.
        (
            TlogProof(5, (H1, H2), "test checkpoint\n"),
            f"c2sp.org/tlog-proof@v1\nindex 5\n{b64(H1)}\n{b64(H2)}\n\ntest checkpoint\n",
        ),
        (
            TlogProof(10, (H1,), "checkpoint data\n", b"extra information"),
            f"c2sp.org/tlog-proof@v1\nextra {b64(b'extra information')}\nindex 10\n{b64(H1)}\n"
            "\ncheckpoint data\n",
        ),
        (TlogProof(0, (), "checkpoint\n"), "c2sp.org/tlog-proof@v1\nindex 0\n\ncheckpoint\n"),
    ],
)
def test_format_vectors(proof: TlogProof, text: str) -> None:
    assert proof.to_text() == text
    assert TlogProof.parse(text) == proof
    assert TlogProof.parse(text.encode()) == proof


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("wrong-header\nindex 0\n\ncheckpoint\n", "first line"),
        ("c2sp.org/tlog-proof@v1\nextra !!notbase64!!\nindex 0\n\ncheckpoint\n", "base64"),
        ("c2sp.org/tlog-proof@v1\n\n\ncheckpoint\n", "index"),
        ("c2sp.org/tlog-proof@v1\nindex notanumber\n\ncheckpoint\n", "decimal"),
        ("c2sp.org/tlog-proof@v1\nindex -5\n\ncheckpoint\n", "decimal"),
        ("c2sp.org/tlog-proof@v1\nindex 05\n\ncheckpoint\n", "leading zeros"),
        ("c2sp.org/tlog-proof@v1\nindex 0\n!!notbase64!!\n\ncheckpoint\n", "base64"),
        (f"c2sp.org/tlog-proof@v1\nindex 0\n{b64(bytes(64))}\n\ncheckpoint\n", "32 bytes"),
        ("c2sp.org/tlog-proof@v1\nindex 0\n", "no empty line"),
        ("c2sp.org/tlog-proof@v1\nindex 0\n\ncheckpoint", "newline"),
    ],
)
def test_malformed_files_are_refused(text: str, message: str) -> None:
    with pytest.raises(TlogProofError, match=message):
        TlogProof.parse(text)


WITNESS_A = CosignatureSigner("a.example/w", MLDSA44, bytes([1]) * 32)
WITNESS_B = CosignatureSigner("b.example/w", ED25519, bytes([2]) * 32)


@pytest.fixture
def log() -> Log:
    log = Log()
    log.grow(11)
    return log


def policy_for(log: Log) -> Policy:
    return Policy.parse(
        f"log {log.vkey}\n"
        f"witness A {WITNESS_A.verifier_key()}\n"
        f"witness B {WITNESS_B.verifier_key()}\n"
        "group both all A B\n"
        "quorum both\n"
    )


def receipt(log: Log, index: int, *witnesses: CosignatureSigner) -> TlogProof:
    text = log.checkpoint_text()
    checkpoint = log.signed() + "".join(w.cosign(text).line() for w in witnesses)
    return tlog_proof.build(index, log.inclusion(index), checkpoint, extra=log.entries[index])


def test_a_proof_verifies_offline_with_only_the_file_and_the_policy(log: Log) -> None:
    data = receipt(log, 6, WITNESS_A, WITNESS_B).to_bytes()
    verified = tlog_proof.verify(data, policy_for(log), entry_from_extra=True)
    assert verified.index == 6
    assert verified.quorum.signed == ("A", "B")
    assert tlog_proof.verify(data, policy_for(log), entry=b"entry 6").index == 6


def test_a_proof_below_quorum_is_refused(log: Log) -> None:
    data = receipt(log, 6, WITNESS_A).to_text()
    with pytest.raises(QuorumError, match="does not meet"):
        tlog_proof.verify(data, policy_for(log), entry_from_extra=True)


def test_a_proof_of_another_entry_is_refused(log: Log) -> None:
    proof = receipt(log, 6, WITNESS_A, WITNESS_B)
    with pytest.raises(TlogProofError, match="inclusion proof"):
        tlog_proof.verify(proof, policy_for(log), entry=b"entry 7")
    moved = TlogProof(7, proof.inclusion_proof, proof.checkpoint, proof.extra)
    with pytest.raises(TlogProofError, match="inclusion proof"):
        tlog_proof.verify(moved, policy_for(log), entry_from_extra=True)


def test_a_proof_from_another_log_key_is_refused(log: Log) -> None:
    impostor = Log(log.origin)
    impostor.grow(11)
    with pytest.raises(PolicyError):
        tlog_proof.verify(
            receipt(impostor, 3, WITNESS_A, WITNESS_B), policy_for(log), entry_from_extra=True
        )


def test_a_tampered_cosignature_in_a_proof_is_refused(log: Log) -> None:
    text = receipt(log, 2, WITNESS_A, WITNESS_B).to_text()
    last = text.rstrip("\n").rsplit("\n", 1)[1]
    name, sig = last[2:].split(" ")
    raw = bytearray(base64.b64decode(sig))
    raw[-1] ^= 1
    tampered = text.replace(last, f"\u2014 {name} {b64(bytes(raw))}")
    with pytest.raises(PolicyError, match="invalid signature"):
        tlog_proof.verify(tampered, policy_for(log), entry_from_extra=True)


def test_verify_needs_exactly_one_leaf(log: Log) -> None:
    proof = receipt(log, 2, WITNESS_A, WITNESS_B)
    with pytest.raises(TypeError):
        tlog_proof.verify(proof, policy_for(log))
    with pytest.raises(TypeError):
        tlog_proof.verify(proof, policy_for(log), entry=b"x", entry_from_extra=True)
