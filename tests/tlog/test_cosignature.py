"""tlog-cosignature: published vectors, both key types, and an independent check."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric import mldsa

from tests.tlog import vectors
from tests.tlog.helpers import Log
from tests.tlog.spec_verifier import SpecCosigner
from undersigned.tlog import cosignature, note
from undersigned.tlog.cosignature import (
    ED25519,
    MLDSA44,
    CosignatureError,
    CosignatureSigner,
    CosignatureVerifier,
)

NOW = 1_760_000_000


def fixed_clock() -> float:
    return NOW


def test_torchwood_mldsa_vector_matches_our_signed_message() -> None:
    # filippo.io/torchwood signed this subtree; our message bytes must be the ones it signed.
    verifier = CosignatureVerifier.from_key(vectors.TORCHWOOD_MLDSA_VKEY)
    assert (verifier.name, verifier.key_id, verifier.algorithm) == (
        "witness.example/w1",
        0x7118E8F9,
        MLDSA44,
    )
    assert verifier.verifier_key() == vectors.TORCHWOOD_MLDSA_VKEY
    raw = base64.b64decode(vectors.TORCHWOOD_MLDSA_SIG)
    assert raw[:4] == (0x7118E8F9).to_bytes(4, "big")
    assert cosignature.signature_timestamp(raw[4:]) == 0
    message = cosignature.mldsa_message(
        "witness.example/w1",
        0,
        "example.com/log",
        8,
        13,
        base64.b64decode(vectors.TORCHWOOD_MLDSA_ROOT),
    )
    key = mldsa.MLDSA44PublicKey.from_public_bytes(verifier.public_key)
    key.verify(raw[12:], message)


def test_formats_ed25519_vectors() -> None:
    verifier = CosignatureVerifier.from_key(vectors.REMORA_VKEY)
    assert verifier.algorithm == ED25519
    assert verifier.key_id == 0xDA77ADE7
    assert verifier.verifier_key() == vectors.REMORA_VKEY
    line = note.Signature("anyone", 0x646846B9, vectors.FORMATS_COSIG_B64)
    assert cosignature.line_timestamp(line) == vectors.FORMATS_COSIG_TIME


def test_spec_example_signed_message() -> None:
    assert cosignature.ed25519_message(1679315147, vectors.SPEC_CHECKPOINT) == (
        vectors.SPEC_SIGNED_MESSAGE.encode()
    )


@pytest.mark.parametrize("algorithm", [ED25519, MLDSA44])
def test_cosignatures_verify_with_the_independent_spec_verifier(algorithm: str) -> None:
    log = Log()
    log.grow(3)
    signer = CosignatureSigner.from_key(
        CosignatureSigner.generate("news.example/witness", algorithm).signer_key(), fixed_clock
    )
    signed = log.signed()
    line = signer.cosign(signed[: signed.rfind("\n\n") + 1])
    cosigned = signed + line.line()

    assert SpecCosigner(signer.verifier_key()).cosignatures(cosigned) == [NOW]
    # And ours accepts it alongside the log's own signature.
    text, verified = note.open_note(cosigned, [log.signer.verifier(), signer.verifier()])
    assert [sig.name for sig in verified] == [log.origin, "news.example/witness"]
    assert text == log.checkpoint_text()


@pytest.mark.parametrize("algorithm", [ED25519, MLDSA44])
def test_a_tampered_cosignature_is_refused_by_both(algorithm: str) -> None:
    log = Log()
    log.grow(2)
    signer = CosignatureSigner("news.example/witness", algorithm, bytes(range(32)), fixed_clock)
    raw = bytearray(base64.b64decode(signer.cosign(log.checkpoint_text()).b64))
    raw[-1] ^= 1
    tampered = (
        log.signed() + f"\u2014 news.example/witness {base64.b64encode(bytes(raw)).decode()}\n"
    )
    with pytest.raises(note.InvalidSignatureError):
        note.open_note(tampered, [log.signer.verifier(), signer.verifier()])
    with pytest.raises(AssertionError, match="bad cosignature"):
        SpecCosigner(signer.verifier_key()).cosignatures(tampered)


def test_a_cosignature_does_not_carry_to_another_checkpoint() -> None:
    log = Log()
    log.grow(2)
    signer = CosignatureSigner("w.example/a", ED25519, bytes(32), fixed_clock)
    sig = signer.sign(log.checkpoint_text().encode())
    log.grow(1)
    assert not signer.verifier().verify(log.checkpoint_text().encode(), sig)


def test_ed25519_cosignatures_cover_extension_lines_mldsa_do_not() -> None:
    # As the spec says: Ed25519 signs the whole note text, ML-DSA-44 only origin, size, root.
    text = "example.com/log\n5\n" + base64.b64encode(bytes(32)).decode() + "\n"
    for algorithm, still_valid in ((ED25519, False), (MLDSA44, True)):
        signer = CosignatureSigner("w.example/a", algorithm, bytes(32), fixed_clock)
        sig = signer.sign((text + "ext one\n").encode())
        assert signer.verifier().verify((text + "ext one\n").encode(), sig)
        assert signer.verifier().verify((text + "ext two\n").encode(), sig) is still_valid


def test_key_ids_are_of_the_cosignature_types() -> None:
    seed = bytes(range(32))
    ed = CosignatureSigner("w.example/a", ED25519, seed)
    plain = note.Signer("w.example/a", seed)
    # Same Ed25519 key, different signature type byte, so a different id (0x04 not 0x01).
    assert ed.verifier().public_key == plain.verifier().public_key
    assert ed.key_id != plain.key_id
    assert ed.key_id == cosignature.key_id("w.example/a", 0x04, ed.verifier().public_key)
    assert cosignature.parse_vkey(ed.verifier_key()).alg == 0x04
    ml = CosignatureSigner("w.example/a", MLDSA44, seed)
    assert cosignature.parse_vkey(ml.verifier_key()).alg == 0x06


def test_a_plain_note_key_is_not_a_cosigner_key() -> None:
    with pytest.raises(CosignatureError, match="not a tlog-cosignature key"):
        CosignatureVerifier.from_key(note.Signer.generate("w.example/a").verifier_key())


def test_a_vkey_with_a_wrong_id_is_refused() -> None:
    name, _, key = vectors.REMORA_VKEY.split("+", 2)
    with pytest.raises(CosignatureError, match="id does not match"):
        CosignatureVerifier.from_key(f"{name}+00000000+{key}")


@pytest.mark.parametrize("algorithm", [ED25519, MLDSA44])
def test_private_key_strings_round_trip_and_never_show_in_repr(algorithm: str) -> None:
    signer = CosignatureSigner.generate("w.example/a", algorithm)
    again = CosignatureSigner.from_key(signer.signer_key())
    assert again.verifier_key() == signer.verifier_key()
    assert signer.signer_key().split("+", 4)[4] not in repr(signer)


def test_a_witness_never_signs_without_a_timestamp() -> None:
    signer = CosignatureSigner("w.example/a", ED25519, bytes(32), clock=lambda: 0)
    with pytest.raises(CosignatureError):
        signer.cosign("example.com/log\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n")


def test_only_checkpoints_are_cosigned() -> None:
    signer = CosignatureSigner("w.example/a", ED25519, bytes(32), fixed_clock)
    with pytest.raises(CosignatureError):
        signer.cosign("just a note\n")


def test_add_cosignatures_keeps_the_known_and_drops_the_unknown() -> None:
    log = Log()
    log.grow(4)
    ours = CosignatureSigner("w.example/ours", MLDSA44, bytes(32), fixed_clock)
    stranger = CosignatureSigner("w.example/other", ED25519, bytes(32), fixed_clock)
    text = log.checkpoint_text()
    body = ours.cosign(text).line() + stranger.cosign(text).line()
    cosigned, verified = cosignature.add_cosignatures(log.signed(), body, [ours.verifier()])
    assert [sig.name for sig in verified] == ["w.example/ours"]
    assert "w.example/other" not in cosigned
    assert SpecCosigner(ours.verifier_key()).cosignatures(cosigned) == [NOW]
    with pytest.raises(note.UnverifiedNoteError):
        cosignature.add_cosignatures(log.signed(), stranger.cosign(text).line(), [ours.verifier()])
