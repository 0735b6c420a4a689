"""tlog-policy: the file format as the spec writes it, and quorum checks on checkpoints."""

from __future__ import annotations

import base64

import pytest

from tests.tlog.helpers import Log
from undersigned.tlog import note
from undersigned.tlog.cosignature import ED25519, MLDSA44, CosignatureSigner
from undersigned.tlog.policy import Policy, PolicyError, QuorumError

WITNESSES = {
    name: CosignatureSigner(
        f"{name.lower()}.example/w", ED25519 if i % 2 else MLDSA44, bytes([i]) * 32, lambda: 1e9
    )
    for i, name in enumerate(["X1", "X2", "X3", "Y1", "Y2", "Y3"], start=1)
}


def vkey(name: str) -> str:
    return WITNESSES[name].verifier_key()


def spec_example(log: Log) -> str:
    """The example policy of c2sp.org/tlog-policy, with real keys."""
    return f"""log {log.vkey}

witness X1 {vkey("X1")}
witness X2 {vkey("X2")}
witness X3 {vkey("X3")}
group X-witnesses 2 X1 X2 X3

witness Y1 {vkey("Y1")}
witness Y2 {vkey("Y2")}
witness Y3 {vkey("Y3")}
group Y-witnesses any Y1 Y2 Y3

group X-and-Y all X-witnesses Y-witnesses
quorum X-and-Y
"""


def cosigned(log: Log, *names: str) -> str:
    signed = log.signed()
    text = log.checkpoint_text()
    return signed + "".join(WITNESSES[name].cosign(text).line() for name in names)


@pytest.fixture
def log() -> Log:
    log = Log()
    log.grow(7)
    return log


def test_the_spec_example_parses(log: Log) -> None:
    policy = Policy.parse(spec_example(log))
    assert [w.name for w in policy.witnesses] == ["X1", "X2", "X3", "Y1", "Y2", "Y3"]
    assert [(g.name, g.threshold) for g in policy.groups] == [
        ("X-witnesses", 2),
        ("Y-witnesses", 1),
        ("X-and-Y", 2),
    ]
    assert policy.quorum == "X-and-Y"
    assert policy.logs[0].origin == log.origin


@pytest.mark.parametrize(
    ("names", "satisfied"),
    [
        (("X1", "X2", "Y3"), True),
        (("X1", "X3", "Y1", "Y2"), True),
        (("X1", "Y1", "Y2", "Y3"), False),  # one X is not two
        (("X1", "X2", "X3"), False),  # no Y
        ((), False),
    ],
)
def test_the_spec_example_quorum(log: Log, names: tuple[str, ...], satisfied: bool) -> None:
    policy = Policy.parse(spec_example(log))
    result = policy.check(cosigned(log, *names))
    assert result.satisfied is satisfied
    assert set(result.signed) == set(names)
    assert set(result.missing) == set(WITNESSES) - set(names)
    assert result.checkpoint.size == 7
    assert all(t == 1_000_000_000 for t in result.timestamps.values())
    if not satisfied:
        with pytest.raises(QuorumError) as raised:
            policy.verify(cosigned(log, *names))
        assert raised.value.result.signed == result.signed


def test_serialising_gives_back_the_policy(log: Log) -> None:
    policy = Policy.parse(spec_example(log) + f"log {Log('b.example/log').vkey} https://b.example/\n")
    again = Policy.parse(policy.to_text())
    assert again == policy
    assert again.to_text() == policy.to_text()
    assert again.logs[1].url == "https://b.example/"


def test_tabs_comments_and_blank_lines(log: Log) -> None:
    text = (
        "# a comment\n"
        "   # an indented comment\n"
        f"\tlog\t{log.vkey}  \n"
        " \t \n"
        f"witness  X1\t {vkey('X1')}   https://x1.example/witness\n"
        "quorum X1"  # no final newline
    )
    policy = Policy.parse(text)
    assert policy.witnesses[0].url == "https://x1.example/witness"
    assert policy.check(cosigned(log, "X1")).satisfied


def test_quorum_none_needs_no_witness(log: Log) -> None:
    policy = Policy.parse(f"log {log.vkey}\nquorum none\n")
    assert policy.verify(log.signed()).signed == ()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", "no quorum"),
        ("quorum X1\n", "not a witness or group defined above"),
        ("quorum none\nquorum none\n", "exactly one quorum"),
        ("group G any X1\nwitness X1 {X1}\nquorum G\n", "not defined above"),
        ("witness X1 {X1}\nwitness X1 {X2}\nquorum X1\n", "duplicate name"),
        ("witness X1 {X1}\nwitness X2 {X1}\nquorum X1\n", "duplicate witness key"),
        ("witness none {X1}\nquorum none\n", "predefined"),
        ("witness X1 {X1}\ngroup G 2 X1\nquorum G\n", "threshold 2"),
        ("witness X1 {X1}\ngroup G 0 X1\nquorum G\n", "threshold 0"),
        ("witness X1 {X1}\ngroup G +1 X1\nquorum G\n", "not all, any or a number"),
        ("witness X1 {X1}\ngroup G any none\nquorum G\n", "cannot be a group member"),
        ("witness X1 {X1}\ngroup G all X1 X1\nquorum G\n", "more than once"),
        (
            "witness X1 {X1}\nwitness X2 {X2}\ngroup A any X1\ngroup B any X1 X2\nquorum B\n",
            "more than once",
        ),
        ("witness X1 {X1} url extra\nquorum X1\n", "expected: witness"),
        ("log\nquorum none\n", "expected: log"),
        ("witnesses X1 {X1}\nquorum X1\n", "unknown keyword"),
        ("witness X1 {X1}\r\nquorum X1\n", "control characters"),
        ("witness X1 {LOG}\nquorum X1\n", "not a tlog-cosignature key"),
        ("log {X1}\nquorum none\n", "cannot sign checkpoints"),
        ("log {LOG}\nlog {LOG}\nquorum none\n", "duplicate log key"),
        ("witness X1 {X1}\n# quorum X1\n", "no quorum"),
        ("witness X1\u00a0{X1}\nquorum X1\n", "expected: witness"),  # only space and tab separate
    ],
)
def test_malformed_policies_are_refused(log: Log, body: str, message: str) -> None:
    text = body.format(X1=vkey("X1"), X2=vkey("X2"), LOG=log.vkey)
    with pytest.raises(PolicyError, match=message):
        Policy.parse(text)


def test_the_same_key_under_two_names_is_a_duplicate_log(log: Log) -> None:
    # "Two vkeys are duplicate if they wrap the same underlying public key."
    seed = bytes(7) * 4 + bytes(4)
    a = note.Signer("a.example/log", seed).verifier_key()
    b = note.Signer("b.example/log", seed).verifier_key()
    with pytest.raises(PolicyError, match="duplicate log key"):
        Policy.parse(f"log {a}\nlog {b}\nquorum none\n")


def test_names_are_opaque_octets(log: Log) -> None:
    # 'K' and the Kelvin sign are different names; non-UTF-8 octets are kept as they are.
    text = (
        f"witness K {vkey('X1')}\nwitness \u212a {vkey('X2')}\ngroup both all K \u212a\n"
        "quorum both\n"
    ).encode() + b"# \xff not UTF-8\n"
    policy = Policy.parse(text)
    assert [w.name for w in policy.witnesses] == ["K", "\u212a"]
    assert Policy.parse(policy.to_bytes()) == policy


def test_the_log_must_sign_and_its_key_name_is_the_origin(log: Log) -> None:
    policy = Policy.parse(f"log {log.vkey}\nwitness X1 {vkey('X1')}\nquorum X1\n")
    stranger = Log(log.origin)  # same origin, another key
    stranger.grow(7)
    with pytest.raises(PolicyError, match="no verifiable signatures"):
        policy.check(stranger.signed())
    # A log key named otherwise cannot vouch for this origin.
    other = Log("other.example/log")
    other.grow(7)
    renamed_text = other.checkpoint_text().replace(other.origin, "x.example/log")
    renamed = note.sign_note(renamed_text, [other.signer])
    with pytest.raises(PolicyError, match="origin"):
        Policy.parse(f"log {other.vkey}\nquorum none\n").check(renamed)


def test_a_tampered_cosignature_rejects_the_checkpoint(log: Log) -> None:
    policy = Policy.parse(spec_example(log))
    good = cosigned(log, "X1", "X2", "Y1")
    line = good.rstrip("\n").rsplit("\n", 1)[1]
    name, b64 = line[2:].split(" ")
    raw = bytearray(base64.b64decode(b64))
    raw[20] ^= 0x40
    tampered = good.replace(line, f"\u2014 {name} {base64.b64encode(bytes(raw)).decode()}")
    with pytest.raises(PolicyError, match="invalid signature"):
        policy.check(tampered)


def test_a_policy_without_logs_takes_the_log_from_the_caller(log: Log) -> None:
    policy = Policy.parse(f"witness X1 {vkey('X1')}\nquorum X1\n")
    with pytest.raises(PolicyError, match="not signed by any log"):
        policy.check(cosigned(log, "X1"))
    assert policy.verify(cosigned(log, "X1"), extra_logs=[log.signer.verifier()]).log is None
