"""Merkle hashing, stored hashes, proofs and checkpoints.

The module is checked against a second implementation written in this file
straight from the definitions in RFC 9162 §2.1 (MTH, PATH, PROOF/SUBPROOF and
the §2.1.3.2 / §2.1.4.2 verification algorithms), and against the published
RFC 6962 test vectors used by every CT implementation.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from functools import cache
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.ledger.doubles import MemoryHashStore
from undersigned.tlog.merkle import (
    EMPTY_ROOT,
    HASH_SIZE,
    Checkpoint,
    Frontier,
    ProofError,
    check_record,
    check_tree,
    leaf_hash,
    node_hash,
    prove_record,
    prove_tree,
    root_from_leaf_hashes,
    split_stored_hash_index,
    stored_hash_count,
    stored_hash_index,
    stored_hashes,
    stored_hashes_for_record,
    tree_hash,
)

EXHAUSTIVE_MAX = 128
PROPERTY_MAX = 600

LEAF_DATA = [f"leaf {i}".encode() for i in range(PROPERTY_MAX)]

# Hypothesis' example database would be written into the working tree.
PROPERTIES = settings(max_examples=150, deadline=None, database=None)


# ---------------------------------------------------------------- RFC 9162 §2.1, independently


def _sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _rfc_k(n: int) -> int:
    # "the largest power of two smaller than n (i.e., k < n <= 2k)"
    k = 1
    while k * 2 < n:
        k *= 2
    return k


# Ranges over one fixed list stand in for the RFC's D[lo:hi]; caching MTH on
# them keeps the exhaustive comparisons below quick without changing the maths.
@cache
def rfc_mth(lo: int, hi: int) -> bytes:
    n = hi - lo
    if n == 0:
        return _sha256(b"")
    if n == 1:
        return _sha256(b"\x00" + LEAF_DATA[lo])
    k = _rfc_k(n)
    return _sha256(b"\x01" + rfc_mth(lo, lo + k) + rfc_mth(lo + k, hi))


def rfc_path(m: int, lo: int, hi: int) -> list[bytes]:
    """PATH(m, D[lo:hi]) with m relative to lo."""
    n = hi - lo
    if n == 1:
        return []
    k = _rfc_k(n)
    if m < k:
        return [*rfc_path(m, lo, lo + k), rfc_mth(lo + k, hi)]
    return [*rfc_path(m - k, lo + k, hi), rfc_mth(lo, lo + k)]


def rfc_subproof(m: int, lo: int, hi: int, b: bool) -> list[bytes]:
    """SUBPROOF(m, D[lo:hi], b)."""
    n = hi - lo
    if m == n:
        return [] if b else [rfc_mth(lo, hi)]
    k = _rfc_k(n)
    if m <= k:
        return [*rfc_subproof(m, lo, lo + k, b), rfc_mth(lo + k, hi)]
    return [*rfc_subproof(m - k, lo + k, hi, False), rfc_mth(lo, lo + k)]


def rfc_proof(m: int, n: int) -> list[bytes]:
    """PROOF(m, D[n])."""
    return rfc_subproof(m, 0, n, True)


def rfc_verify_inclusion(
    leaf_index: int, tree_size: int, hash_: bytes, path: list[bytes], root: bytes
) -> bool:
    """RFC 9162 §2.1.3.2."""
    if leaf_index >= tree_size:
        return False
    fn, sn, r = leaf_index, tree_size - 1, hash_
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = _sha256(b"\x01" + p + r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = _sha256(b"\x01" + r + p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def rfc_verify_consistency(
    first: int, second: int, first_hash: bytes, second_hash: bytes, path: list[bytes]
) -> bool:
    """RFC 9162 §2.1.4.2, for 0 < first < second."""
    if not path:
        return False
    if first & (first - 1) == 0:
        path = [first_hash, *path]
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = _sha256(b"\x01" + c + fr)
            sr = _sha256(b"\x01" + c + sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = _sha256(b"\x01" + sr + c)
        fn >>= 1
        sn >>= 1
    return fr == first_hash and sr == second_hash and sn == 0


STORE = MemoryHashStore()
for _data in LEAF_DATA:
    STORE.append(_data)
LEAF_HASHES = [leaf_hash(d) for d in LEAF_DATA]


def flip(h: bytes, position: int) -> bytes:
    byte, bit = divmod(position % (len(h) * 8), 8)
    return h[:byte] + bytes([h[byte] ^ (1 << bit)]) + h[byte + 1 :]


# ---------------------------------------------------------------- published vectors

CT_INPUTS = [
    bytes.fromhex(h)
    for h in [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
]
CT_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
CT_INCLUSION = [
    (0, 8, [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ]),
    (5, 7, [
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ]),
    (0, 1, []),
]  # fmt: skip
CT_CONSISTENCY = [
    (1, 1, []),
    (1, 8, [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ]),
    (6, 8, [
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ]),
    (2, 5, [
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    ]),
]  # fmt: skip


@pytest.fixture(scope="module")
def ct_store() -> MemoryHashStore:
    store = MemoryHashStore()
    for data in CT_INPUTS:
        store.append(data)
    return store


def test_hash_prefixes() -> None:
    assert leaf_hash(b"") == _sha256(b"\x00")
    a, b = leaf_hash(b"a"), leaf_hash(b"b")
    assert node_hash(a, b) == _sha256(b"\x01" + a + b)
    assert HASH_SIZE == 32
    assert EMPTY_ROOT == _sha256(b"")
    with pytest.raises(ValueError):
        node_hash(a, b[:31])


def test_ct_roots(ct_store: MemoryHashStore) -> None:
    leaves = [leaf_hash(d) for d in CT_INPUTS]
    for size, want in enumerate(CT_ROOTS):
        assert tree_hash(size, ct_store).hex() == want
        assert root_from_leaf_hashes(leaves[:size]).hex() == want


@pytest.mark.parametrize(("n", "size", "want"), CT_INCLUSION)
def test_ct_inclusion_vectors(
    ct_store: MemoryHashStore, n: int, size: int, want: list[str]
) -> None:
    proof = prove_record(size, n, ct_store)
    assert [h.hex() for h in proof] == want
    check_record(proof, size, bytes.fromhex(CT_ROOTS[size]), n, leaf_hash(CT_INPUTS[n]))


@pytest.mark.parametrize(("old", "size", "want"), CT_CONSISTENCY)
def test_ct_consistency_vectors(
    ct_store: MemoryHashStore, old: int, size: int, want: list[str]
) -> None:
    proof = prove_tree(size, old, ct_store)
    assert [h.hex() for h in proof] == want
    check_tree(proof, size, bytes.fromhex(CT_ROOTS[size]), old, bytes.fromhex(CT_ROOTS[old]))


# ---------------------------------------------------------------- exhaustive against the RFC


def test_roots_match_rfc_for_every_size() -> None:
    for size in range(EXHAUSTIVE_MAX + 1):
        want = rfc_mth(0, size)
        assert tree_hash(size, STORE) == want, size
        assert root_from_leaf_hashes(LEAF_HASHES[:size]) == want, size


def test_inclusion_proofs_match_rfc_for_every_leaf() -> None:
    for size in range(1, EXHAUSTIVE_MAX + 1):
        root = rfc_mth(0, size)
        for n in range(size):
            proof = prove_record(size, n, STORE)
            assert proof == rfc_path(n, 0, size), (n, size)
            check_record(proof, size, root, n, LEAF_HASHES[n])
            assert rfc_verify_inclusion(n, size, LEAF_HASHES[n], proof, root)


def test_consistency_proofs_match_rfc_for_every_pair() -> None:
    for size in range(1, EXHAUSTIVE_MAX + 1):
        root = rfc_mth(0, size)
        for old in range(1, size + 1):
            old_root = rfc_mth(0, old)
            proof = prove_tree(size, old, STORE)
            assert proof == rfc_proof(old, size), (old, size)
            check_tree(proof, size, root, old, old_root)
            if old < size:
                assert rfc_verify_consistency(old, size, old_root, root, proof)
            else:
                assert proof == []


# ---------------------------------------------------------------- stored hashes


def test_stored_hash_index_round_trips() -> None:
    for index in range(5000):
        level, n = split_stored_hash_index(index)
        assert stored_hash_index(level, n) == index


def test_stored_hashes_are_subtree_roots() -> None:
    hashes = STORE.hashes
    for level in range(8):
        width = 1 << level
        for n in range(EXHAUSTIVE_MAX // width):
            index = stored_hash_index(level, n)
            assert hashes[index] == rfc_mth(n * width, (n + 1) * width), (level, n)


def test_appending_only_appends() -> None:
    store = MemoryHashStore()
    for n, data in enumerate(LEAF_DATA[:300]):
        before = store.hashes
        assert len(before) == stored_hash_count(n) == stored_hash_index(0, n)
        assert store.append(data) == n
        after = store.hashes
        assert after[: len(before)] == before
        # Each leaf adds its own hash plus one per subtree it completes.
        assert len(after) - len(before) == 1 + ((n + 1) & -(n + 1)).bit_length() - 1
    assert store.size == 300
    assert store.root() == rfc_mth(0, 300)


def test_the_frontier_gives_the_trees_roots_and_stored_hashes() -> None:
    # ops.integrity streams a whole database through it and bench/ledger.py
    # builds the stored hashes it loads with it: both must agree with storage.
    frontier = Frontier()
    assert frontier.root() == EMPTY_ROOT
    stored: list[bytes] = []
    for n in range(EXHAUSTIVE_MAX):
        stored.extend(frontier.append(LEAF_HASHES[n]))
        assert frontier.root() == rfc_mth(0, n + 1), n
    assert frontier.size == EXHAUSTIVE_MAX
    assert tuple(stored) == STORE.hashes[: stored_hash_count(EXHAUSTIVE_MAX)]
    with pytest.raises(ValueError):
        frontier.append(b"short")


def test_stored_hashes_from_data_and_from_hash_agree() -> None:
    n = 7  # completes subtrees of 2, 4 and 8 leaves
    from_data = stored_hashes(n, LEAF_DATA[n], STORE)
    assert from_data == stored_hashes_for_record(n, LEAF_HASHES[n], STORE)
    assert from_data == [LEAF_HASHES[7], rfc_mth(6, 8), rfc_mth(4, 8), rfc_mth(0, 8)]


class ShortReader:
    def read_hashes(self, indexes: Sequence[int]) -> list[bytes]:
        return []


class BadHashReader:
    def read_hashes(self, indexes: Sequence[int]) -> list[bytes]:
        return [b"short"] * len(indexes)


@pytest.mark.parametrize("reader", [ShortReader(), BadHashReader()])
def test_misbehaving_readers_are_refused(reader: ShortReader | BadHashReader) -> None:
    with pytest.raises(ValueError):
        tree_hash(3, reader)
    with pytest.raises(ValueError):
        prove_record(8, 3, reader)
    with pytest.raises(ValueError):
        stored_hashes_for_record(7, LEAF_HASHES[7], reader)


def test_memory_store_refuses_unstored_indexes() -> None:
    with pytest.raises(ValueError):
        STORE.read_hashes([-1])
    with pytest.raises(ValueError):
        STORE.read_hashes([len(STORE.hashes)])


def test_invalid_arguments() -> None:
    for size, n in [(0, 0), (5, 5), (5, -1)]:
        with pytest.raises(ValueError):
            prove_record(size, n, STORE)
        with pytest.raises(ProofError):
            check_record([], size, EMPTY_ROOT, n, LEAF_HASHES[0])
    for size, old in [(5, 0), (5, 6), (0, 0)]:
        with pytest.raises(ValueError):
            prove_tree(size, old, STORE)
        with pytest.raises(ProofError):
            check_tree([], size, EMPTY_ROOT, old, EMPTY_ROOT)
    with pytest.raises(ValueError):
        tree_hash(-1, STORE)
    with pytest.raises(ValueError):
        stored_hash_index(-1, 0)
    with pytest.raises(ValueError):
        split_stored_hash_index(-1)
    with pytest.raises(ValueError):
        root_from_leaf_hashes([b"short"])
    # A proof of the wrong shape or with hashes of the wrong size is a failed
    # proof, not a crash.
    proof = prove_record(8, 3, STORE)
    with pytest.raises(ProofError):
        check_record([*proof[:-1], proof[-1][:31]], 8, rfc_mth(0, 8), 3, LEAF_HASHES[3])
    with pytest.raises(ProofError):
        check_record(proof * 30, 8, rfc_mth(0, 8), 3, LEAF_HASHES[3])


# ---------------------------------------------------------------- properties


@st.composite
def leaf_in_tree(draw: st.DrawFn) -> tuple[int, int]:
    size = draw(st.integers(1, PROPERTY_MAX))
    return size, draw(st.integers(0, size - 1))


@st.composite
def tree_pair(draw: st.DrawFn) -> tuple[int, int]:
    size = draw(st.integers(1, PROPERTY_MAX))
    return size, draw(st.integers(1, size))


@PROPERTIES
@given(leaf_in_tree(), st.integers(0, 1 << 16))
def test_inclusion_proofs_check_and_any_bit_flip_fails(
    tree: tuple[int, int], position: int
) -> None:
    size, n = tree
    root = STORE.root(size)
    proof = prove_record(size, n, STORE)
    check_record(proof, size, root, n, LEAF_HASHES[n])
    assert rfc_verify_inclusion(n, size, LEAF_HASHES[n], proof, root)

    with pytest.raises(ProofError):
        check_record(proof, size, root, n, flip(LEAF_HASHES[n], position))
    with pytest.raises(ProofError):
        check_record(proof, size, flip(root, position), n, LEAF_HASHES[n])
    if proof:
        i = position % len(proof)
        bad = [*proof[:i], flip(proof[i], position // len(proof)), *proof[i + 1 :]]
        with pytest.raises(ProofError):
            check_record(bad, size, root, n, LEAF_HASHES[n])
        with pytest.raises(ProofError):
            check_record(proof[:-1], size, root, n, LEAF_HASHES[n])
    with pytest.raises(ProofError):
        check_record([*proof, root], size, root, n, LEAF_HASHES[n])


@PROPERTIES
@given(leaf_in_tree(), st.integers(0, PROPERTY_MAX - 1), st.integers(1, PROPERTY_MAX))
def test_inclusion_proofs_fail_for_another_index_or_size(
    tree: tuple[int, int], other_n: int, other_size: int
) -> None:
    size, n = tree
    root = STORE.root(size)
    proof = prove_record(size, n, STORE)
    if other_n != n and other_n < size:
        with pytest.raises(ProofError):
            check_record(proof, size, root, other_n, LEAF_HASHES[n])
        with pytest.raises(ProofError):
            check_record(proof, size, root, other_n, LEAF_HASHES[other_n])
    if other_size != size and n < other_size:
        # Against the other size's true root, the proof only passes if it
        # happens to be that tree's genuine proof too.
        if proof != prove_record(other_size, n, STORE):
            with pytest.raises(ProofError):
                check_record(proof, other_size, STORE.root(other_size), n, LEAF_HASHES[n])


@PROPERTIES
@given(tree_pair(), st.integers(0, 1 << 16))
def test_consistency_proofs_check_and_any_bit_flip_fails(
    sizes: tuple[int, int], position: int
) -> None:
    size, old = sizes
    root, old_root = STORE.root(size), STORE.root(old)
    proof = prove_tree(size, old, STORE)
    check_tree(proof, size, root, old, old_root)
    if old < size:
        assert rfc_verify_consistency(old, size, old_root, root, proof)

    with pytest.raises(ProofError):
        check_tree(proof, size, flip(root, position), old, old_root)
    with pytest.raises(ProofError):
        check_tree(proof, size, root, old, flip(old_root, position))
    if proof:
        i = position % len(proof)
        bad = [*proof[:i], flip(proof[i], position // len(proof)), *proof[i + 1 :]]
        with pytest.raises(ProofError):
            check_tree(bad, size, root, old, old_root)
        with pytest.raises(ProofError):
            check_tree(proof[:-1], size, root, old, old_root)
    with pytest.raises(ProofError):
        check_tree([*proof, root], size, root, old, old_root)


@PROPERTIES
@given(tree_pair(), st.integers(1, PROPERTY_MAX), st.integers(1, PROPERTY_MAX))
def test_consistency_proofs_fail_for_other_sizes(
    sizes: tuple[int, int], other_old: int, other_size: int
) -> None:
    size, old = sizes
    proof = prove_tree(size, old, STORE)
    for claimed_size, claimed_old in [(size, other_old), (other_size, old)]:
        if (claimed_size, claimed_old) == (size, old) or claimed_old > claimed_size:
            continue
        if proof == prove_tree(claimed_size, claimed_old, STORE):
            continue
        with pytest.raises(ProofError):
            check_tree(
                proof,
                claimed_size,
                STORE.root(claimed_size),
                claimed_old,
                STORE.root(claimed_old),
            )


# ---------------------------------------------------------------- checkpoints


def test_checkpoint_round_trip() -> None:
    cp = Checkpoint("petitions.example/log", 12345, rfc_mth(0, 100), ("ext one", "ext two"))
    text = cp.to_text()
    root_b64 = base64.b64encode(rfc_mth(0, 100)).decode()
    assert text == f"petitions.example/log\n12345\n{root_b64}\next one\next two\n"
    assert Checkpoint.parse(text) == cp
    empty = Checkpoint("o", 0, EMPTY_ROOT)
    assert Checkpoint.parse(empty.to_text()) == empty


def test_checkpoint_spec_example() -> None:
    text = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    cp = Checkpoint.parse(text)
    assert cp.origin == "example.com/behind-the-sofa"
    assert cp.size == 20852163
    assert base64.b64encode(cp.root_hash).decode() == "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I="
    assert cp.extensions == ()
    assert cp.to_text() == text


ROOT_B64 = base64.b64encode(bytes(range(32))).decode()


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        (f"o\n1\n{ROOT_B64}", "newline"),
        ("o\n1\n", "origin, size and root"),
        (f"\n1\n{ROOT_B64}\n", "origin"),
        (f"o\n01\n{ROOT_B64}\n", "leading zeros"),
        (f"o\n-1\n{ROOT_B64}\n", "decimal"),
        (f"o\n+1\n{ROOT_B64}\n", "decimal"),
        (f"o\n1 \n{ROOT_B64}\n", "decimal"),
        (f"o\n\u0661\n{ROOT_B64}\n", "decimal"),
        (f"o\n{1 << 63}\n{ROOT_B64}\n", "range"),
        ("o\n1\nAAAA\n", "32 bytes"),
        (f"o\n1\n{ROOT_B64[:-1]}\n", "32 bytes"),
        (f"o\n1\n{ROOT_B64[:-2]}9=\n", "32 bytes"),  # non-zero padding bits
        (f"o\n1\n {ROOT_B64}\n", "32 bytes"),
        (f"o\n1\n{ROOT_B64}\n\n", "extension"),
        (f"o\n1\n{ROOT_B64}\na\n\nb\n", "extension"),
        (f"o\tx\n1\n{ROOT_B64}\n", "control"),
        (f"o\r\n1\n{ROOT_B64}\n", "control"),
    ],
)
def test_checkpoint_parse_rejects(text: str, complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint):
        Checkpoint.parse(text)


def test_checkpoint_refuses_to_build_unparseable_text() -> None:
    root = bytes(32)
    bad: list[dict[str, Any]] = [
        {"origin": ""},
        {"origin": "a\nb"},
        {"size": -1},
        {"size": True},
        {"root_hash": bytes(31)},
        {"extensions": ("",)},
        {"extensions": ("a\nb",)},
    ]
    for kwargs in bad:
        fields: dict[str, Any] = {"origin": "o", "size": 1, "root_hash": root, "extensions": ()}
        fields.update(kwargs)
        with pytest.raises(ValueError):
            Checkpoint(**fields)
