"""C2SP signed notes, checked against golang.org/x/mod/sumdb/note's own vectors."""

from __future__ import annotations

import base64

import pytest

from undersigned.tlog.merkle import Checkpoint, leaf_hash
from undersigned.tlog.note import (
    NoteError,
    Signature,
    Signer,
    Verifier,
    ed25519_key_id,
    generate_signer_key,
    is_valid_key_name,
    open_note,
    sign_note,
)

# From the package documentation and tests of golang.org/x/mod/sumdb/note.
PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
PETER_B64 = (
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM="
)
ENOCH_B64 = (
    "rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ="
)
PETER_SIG = f"\u2014 PeterNeumann {PETER_B64}\n"
ENOCH_SIG = f"\u2014 EnochRoot {ENOCH_B64}\n"
PETER = Signature("PeterNeumann", 0xC74F20A3, PETER_B64)
ENOCH = Signature("EnochRoot", 0xAF0CFE78, ENOCH_B64)


@pytest.fixture(scope="module")
def peter() -> Verifier:
    return Verifier.from_key(PETER_VKEY)


@pytest.fixture(scope="module")
def enoch() -> Verifier:
    return Verifier.from_key(ENOCH_VKEY)


def splice(line: str, at: int, insert: str) -> str:
    """Insert into a line at a UTF-8 byte offset, as Go's tests slice []byte."""
    raw = line.encode()
    return (raw[:at] + insert.encode() + raw[at:]).decode()


# ---------------------------------------------------------------- Go's vectors


def test_keys_derive_as_in_go() -> None:
    signer = Signer.from_key(PETER_SKEY)
    assert signer.name == "PeterNeumann"
    assert signer.key_id == 0xC74F20A3
    assert signer.verifier_key() == PETER_VKEY
    assert signer.signer_key() == PETER_SKEY
    verifier = Verifier.from_key(PETER_VKEY)
    assert verifier.key_id == ed25519_key_id("PeterNeumann", verifier.public_key) == 0xC74F20A3
    assert verifier.verifier_key() == PETER_VKEY
    assert "AYEKFALV" not in repr(signer)


def test_sign_matches_go() -> None:
    assert sign_note(TEXT, [Signer.from_key(PETER_SKEY)]) == TEXT + "\n" + PETER_SIG


def test_resigning_replaces_the_old_signature() -> None:
    signer = Signer.from_key(PETER_SKEY)
    stale = Signature("PeterNeumann", 0xC74F20A3, "x08go/Zl")
    assert sign_note(TEXT, [signer], existing=[stale]) == TEXT + "\n" + PETER_SIG


def test_open_matches_go(peter: Verifier, enoch: Verifier) -> None:
    msg = TEXT + "\n" + PETER_SIG + ENOCH_SIG
    assert open_note(msg, [peter]) == (TEXT, [PETER])
    assert open_note(msg.encode(), [peter]) == (TEXT, [PETER])
    assert open_note(msg, [peter, enoch]) == (TEXT, [PETER, ENOCH])
    assert open_note(msg, [enoch]) == (TEXT, [ENOCH])
    with pytest.raises(NoteError, match="no verifiable signatures"):
        open_note(msg, [])


def test_cosigning_keeps_existing_signatures(peter: Verifier, enoch: Verifier) -> None:
    # Go's documentation shows EnochRoot countersigning Peter's note; the
    # same bytes must come out when the second signature is carried over.
    msg = sign_note(TEXT, [Signer.from_key(PETER_SKEY)], existing=[ENOCH])
    assert msg == TEXT + "\n" + ENOCH_SIG + PETER_SIG
    assert open_note(msg, [peter, enoch]) == (TEXT, [ENOCH, PETER])


def test_duplicated_verifier_is_ambiguous(peter: Verifier, enoch: Verifier) -> None:
    with pytest.raises(NoteError, match="ambiguous key EnochRoot\\+af0cfe78"):
        open_note(TEXT + "\n" + ENOCH_SIG, [enoch, peter, enoch])
    # Unused, the duplicate does no harm.
    assert open_note(TEXT + "\n" + PETER_SIG, [enoch, peter, enoch]) == (TEXT, [PETER])


def test_too_many_signatures(peter: Verifier) -> None:
    for verifiers in ([peter], []):
        with pytest.raises(NoteError, match="malformed note"):
            open_note(TEXT + "\n" + PETER_SIG * 101, verifiers)


def test_invalid_signature_from_known_key(peter: Verifier) -> None:
    msg = TEXT + "\n" + splice(PETER_SIG, 60, "ABCD")
    with pytest.raises(NoteError, match="invalid signature for key PeterNeumann\\+c74f20a3"):
        open_note(msg, [peter])


def test_duplicates_and_unknown_bad_signatures(peter: Verifier) -> None:
    msg = (
        TEXT + "\n" + PETER_SIG + PETER_SIG + ENOCH_SIG + ENOCH_SIG + splice(ENOCH_SIG, 60, "ABCD")
    )
    assert open_note(msg, [peter]) == (TEXT, [PETER])


@pytest.mark.parametrize(
    "msg",
    [
        TEXT,
        TEXT + "\n",
        TEXT + "\n" + PETER_SIG[:-1],
        "\x01" + TEXT + "\n" + PETER_SIG,
        "\ud800" + TEXT + "\n" + PETER_SIG,
        TEXT + "\n" + f"\u2014 Bad Name {PETER_B64}",
        TEXT + "\n" + f"\u2014 Bad Name {PETER_B64}\n",
        TEXT + "\n" + PETER_SIG + "Unexpected line.\n",
        TEXT + "\n" + PETER_SIG.replace("\u2014", "-"),
        TEXT + "\n" + PETER_SIG.replace("\u2014 ", "\u2014"),
        TEXT + "\n" + f"\u2014 PeterNeumann{PETER_B64}\n",
        TEXT + "\n" + f"\u2014 PeterNeumann {PETER_B64[:-1]}\n",
        TEXT + "\n" + f"\u2014 PeterNeumann  {PETER_B64}\n",
        TEXT + "\n" + "\u2014 PeterNeumann AAAA\n",
        TEXT + "\n" + "\u2014 PeterNeumann \n",
        TEXT + "\n" + PETER_SIG + "\n",
        TEXT + "\r\n" + PETER_SIG,
        TEXT.replace("\n", "\r\n", 1) + "\n" + PETER_SIG,
    ],
)
def test_malformed_notes_are_rejected(peter: Verifier, msg: str) -> None:
    with pytest.raises(NoteError, match="malformed note"):
        open_note(msg, [peter])


def test_invalid_utf8_bytes_are_rejected(peter: Verifier) -> None:
    with pytest.raises(NoteError, match="malformed note"):
        open_note(b"\xff" + (TEXT + "\n" + PETER_SIG).encode(), [peter])


def mangle(key: str) -> list[str]:
    """Every proper substring and every single-character increment of a key, as Go tests."""
    out = [key[i:j] for i in range(len(key) + 1) for j in range(i + 1, len(key) + 1)]
    out.remove(key)
    out += [key[:i] + chr(ord(key[i]) + 1) + key[i + 1 :] for i in range(len(key))]
    return out


def test_mangled_verifier_keys_are_rejected() -> None:
    for bad in mangle(PETER_VKEY):
        with pytest.raises(NoteError):
            Verifier.from_key(bad)
    # Wrong key length and unknown algorithm, each with the id adjusted to match.
    for bad in [
        "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==",
        "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    ]:
        with pytest.raises(NoteError):
            Verifier.from_key(bad)


def test_mangled_signer_keys_are_rejected() -> None:
    for bad in mangle(PETER_SKEY):
        with pytest.raises(NoteError):
            Signer.from_key(bad)


# ---------------------------------------------------------------- our own keys


def test_generated_keys_round_trip() -> None:
    skey = generate_signer_key("petitions.example/log")
    assert skey.startswith("PRIVATE+KEY+petitions.example/log+")
    signer = Signer.from_key(skey)
    assert signer.signer_key() == skey
    verifier = Verifier.from_key(signer.verifier_key())
    assert verifier.name == "petitions.example/log"
    assert verifier.key_id == signer.key_id
    assert verifier.public_key == signer.verifier().public_key
    msg = b"hi"
    sig = signer.sign(msg)
    assert verifier.verify(msg, sig)
    assert not verifier.verify(b"ho", sig)
    assert not verifier.verify(msg, bytes([sig[0] ^ 1]) + sig[1:])
    assert not verifier.verify(msg, sig[:-1])


def test_signed_checkpoint_round_trip() -> None:
    log = Signer.generate("petitions.example/log")
    witness = Signer.generate("witness.example/w1")
    stranger = Signer.generate("petitions.example/log")  # same name, other key
    checkpoint = Checkpoint("petitions.example/log", 3, leaf_hash(b"x"))
    msg = sign_note(checkpoint.to_text(), [log, witness, stranger])
    text, sigs = open_note(msg, [log.verifier()])
    assert Checkpoint.parse(text) == checkpoint
    assert [(s.name, s.key_id) for s in sigs] == [(log.name, log.key_id)]
    _, sigs = open_note(msg, [log.verifier(), witness.verifier()])
    assert [s.name for s in sigs] == ["petitions.example/log", "witness.example/w1"]
    # A witness cosigning later keeps the log's signature.
    cosigned = sign_note(text, [witness], existing=sigs[:1])
    assert open_note(cosigned, [log.verifier(), witness.verifier()])[1] == sigs


def test_unknown_signatures_alone_do_not_open(peter: Verifier) -> None:
    other = Signer.generate("PeterNeumann")
    with pytest.raises(NoteError, match="no verifiable signatures"):
        open_note(sign_note(TEXT, [other]), [peter])


def test_a_bad_signature_from_a_known_key_rejects_the_note() -> None:
    signer = Signer.generate("log")
    forged = Signer.generate("log")
    # Same name and id as the real key, other key material: as if an attacker
    # ground out a colliding id. Their signature must not pass as the log's.
    msg = sign_note(TEXT, [forged])
    body, line = msg.rsplit("\u2014 ", 1)
    name, b64 = line.split(" ")
    raw = signer.key_id.to_bytes(4, "big") + base64.b64decode(b64)[4:]
    tampered = body + f"\u2014 {name} {base64.b64encode(raw).decode()}\n"
    with pytest.raises(NoteError, match=f"invalid signature for key log\\+{signer.key_id:08x}"):
        open_note(tampered, [signer.verifier()])
    # And a valid signature over different text is just as bad.
    other = sign_note("other text\n", [signer])
    swapped = TEXT + "\n" + other.split("\n\n", 1)[1]
    with pytest.raises(NoteError, match="invalid signature"):
        open_note(swapped, [signer.verifier()])


def test_texts_with_blank_lines_and_dashes_open() -> None:
    signer = Signer.generate("log")
    for text in ["\n", "a\n\nb\n", "a\n\n\n", f"a\n\n\u2014 log {'A' * 8}\n", "ünïcödé ✓\n"]:
        assert open_note(sign_note(text, [signer]), [signer.verifier()])[0] == text


@pytest.mark.parametrize("text", ["", "no newline", "tab\there\n", "cr\r\n", "\ud800\n"])
def test_sign_rejects_unsignable_text(text: str) -> None:
    with pytest.raises(NoteError):
        sign_note(text, [Signer.generate("log")])


def test_sign_needs_a_signature() -> None:
    with pytest.raises(NoteError):
        sign_note(TEXT, [])
    with pytest.raises(NoteError):
        sign_note(TEXT, [], existing=[Signature("PeterNeumann", 0xC74F20A4, PETER_B64)])
    with pytest.raises(NoteError):
        sign_note(TEXT, [], existing=[Signature("a+b", 0xC74F20A3, PETER_B64)])


@pytest.mark.parametrize(
    "name", ["", "a b", "a+b", "a\u00a0b", "a\u2003b", "a\nb", "a\x01b", "\ud800"]
)
def test_invalid_key_names(name: str) -> None:
    assert not is_valid_key_name(name)
    with pytest.raises(NoteError):
        Signer.generate(name)
    with pytest.raises(NoteError):
        generate_signer_key(name)


def test_valid_key_names() -> None:
    for name in ["a", "example.com/log", "ünï", "\u2014"]:
        assert is_valid_key_name(name)
