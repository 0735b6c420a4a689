"""Merkle trees, tiles and checkpoints for an append-only transparency log.

Hashing is RFC 9162 §2.1 (the same as RFC 6962), so any CT-style verifier can
check our proofs. Storage follows golang.org/x/mod/sumdb/tlog: every node hash
is written exactly once, at a position that depends only on its coordinates,
so appending a leaf only ever appends rows and never rewrites earlier ones.
Publication follows C2SP tlog-tiles (https://c2sp.org/tlog-tiles) and
tlog-checkpoint (https://c2sp.org/tlog-checkpoint).

Nothing here knows about Django or a database: stored hashes are reached
through the :class:`HashReader` protocol and tiles through :class:`TileReader`,
so the same code serves the writer, the web views and offline verifiers.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Final, Protocol

HASH_SIZE: Final = 32

# RFC 9162 defines MTH({}) as the hash of nothing; Go's tlog uses all zeros
# instead, but checkpoints of an empty log must carry the RFC value.
EMPTY_ROOT: Final = hashlib.sha256(b"").digest()

TILE_HEIGHT: Final = 8
TILE_WIDTH: Final = 1 << TILE_HEIGHT
MAX_TILE_LEVEL: Final = 63

# Entry bundles live beside the hash tiles; giving them a pseudo-level lets one
# path parser and one Tile type serve both, as Go's tlog does with "data".
ENTRIES_LEVEL: Final = -1

MAX_ENTRY_SIZE: Final = 0xFFFF

# Every other implementation (and the database column) stores sizes as int64;
# refusing larger numbers keeps a hostile path or checkpoint from making us
# do arbitrary-precision arithmetic on something no real log can reach.
MAX_TREE_SIZE: Final = (1 << 63) - 1

# A valid proof is at most one hash per tree level.
_MAX_PROOF_LENGTH: Final = 64


class ProofError(ValueError):
    """A proof, tile or root hash does not support what it is claimed to prove."""


# ---------------------------------------------------------------- hashing


def leaf_hash(data: bytes) -> bytes:
    """Return the RFC 9162 leaf hash SHA-256(0x00 || data)."""
    return hashlib.sha256(b"\x00" + bytes(data)).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return the RFC 9162 interior hash SHA-256(0x01 || left || right)."""
    if len(left) != HASH_SIZE or len(right) != HASH_SIZE:
        raise ValueError("node_hash needs two 32-byte hashes")
    return hashlib.sha256(b"\x01" + bytes(left) + bytes(right)).digest()


def _pow2_at_most(n: int) -> int:
    return 1 << (n.bit_length() - 1)


def _pow2_below(n: int) -> int:
    # RFC 9162's k: the largest power of two strictly smaller than n (n >= 2).
    return 1 << ((n - 1).bit_length() - 1)


def _trailing_zeros(n: int) -> int:
    return (n & -n).bit_length() - 1


def root_from_leaf_hashes(leaf_hashes: Iterable[bytes]) -> bytes:
    """Return MTH over the given leaf hashes: the one root-from-leaves function of the project.

    For verifiers holding the leaves (an entry bundle, a downloaded log or
    register); it streams them through a :class:`Frontier`, so memory stays
    at log2(n) hashes. The log itself uses :func:`tree_hash` over stored
    hashes so that it never has to reload every leaf.
    """
    frontier = Frontier()
    for h in leaf_hashes:
        frontier.append(h)
    return frontier.root()


def _fold(subtree_roots: Sequence[bytes]) -> bytes:
    # The roots of a range's maximal aligned subtrees, left to right (the
    # largest first), hash into the range's root from the right: that is the
    # right-leaning shape RFC 9162's MTH gives it. Every root computed in this
    # module, from leaves or from stored hashes, ends here.
    h = subtree_roots[-1]
    for left in reversed(subtree_roots[:-1]):
        h = node_hash(left, h)
    return h


# ---------------------------------------------------------------- stored hashes


class HashReader(Protocol):
    """Access to the hashes previously returned by :func:`stored_hashes_for_record`."""

    def read_hashes(self, indexes: Sequence[int]) -> list[bytes]:
        """Return the stored hashes at the given storage indexes, in order.

        Must return exactly one 32-byte hash per index or raise.
        """
        ...


def stored_hash_index(level: int, n: int) -> int:
    """Map tree coordinates (level, n) to the hash's position in storage.

    The ordering is the one from Crosby and Wallach §3.3 used by Go's tlog:
    the hash is stored right after the leaf that completes its subtree, so
    storage only ever grows at the end.
    """
    if level < 0 or n < 0:
        raise ValueError("stored_hash_index needs a non-negative level and index")
    # The subtree (level, n) is completed by leaf m; each leaf i occupies
    # 1 + trailing_ones(i) slots, which sums to 2m - popcount(m) before leaf m,
    # and the completed subtrees follow that leaf one level at a time.
    m = ((n + 1) << level) - 1
    return 2 * m - m.bit_count() + level


def split_stored_hash_index(index: int) -> tuple[int, int]:
    """Invert :func:`stored_hash_index`, returning (level, n)."""
    if index < 0:
        raise ValueError("storage indexes are non-negative")
    # stored_hash_index(0, n) <= 2n, so the leaf that wrote this index is at
    # least index // 2 and only a logarithmic walk away from it.
    n = index // 2
    start = stored_hash_index(0, n)
    while True:
        following = start + 1 + _trailing_zeros(n + 1)
        if following > index:
            break
        n += 1
        start = following
    level = index - start
    return level, n >> level


def stored_hash_count(size: int) -> int:
    """Return how many hashes are stored for a tree of ``size`` leaves."""
    if size < 0:
        raise ValueError("tree sizes are non-negative")
    return 2 * size - size.bit_count()


def _read(reader: HashReader, indexes: Sequence[int]) -> list[bytes]:
    if not indexes:
        return []
    hashes = reader.read_hashes(indexes)
    if len(hashes) != len(indexes):
        raise ValueError(f"read_hashes returned {len(hashes)} hashes for {len(indexes)} indexes")
    for h in hashes:
        if len(h) != HASH_SIZE:
            raise ValueError("read_hashes returned a hash that is not 32 bytes")
    return [bytes(h) for h in hashes]


def stored_hashes_for_record(n: int, record_hash: bytes, reader: HashReader) -> list[bytes]:
    """Return the hashes to append to storage when adding leaf ``n``.

    ``record_hash`` is the leaf hash of record n. The result starts with it and
    continues with the hash of every subtree that leaf n completes, so it is
    written at :func:`stored_hash_index` (0, n) onwards. At most log2(n) earlier
    hashes are read; on average fewer than two hashes are appended per leaf.
    """
    if n < 0 or n >= MAX_TREE_SIZE:
        raise ValueError("record index out of range")
    if len(record_hash) != HASH_SIZE:
        raise ValueError("record hashes are 32 bytes")
    # Each trailing 1 bit of n closes a subtree whose left sibling is already
    # stored; read those siblings lowest-storage-index first.
    completed = _trailing_zeros(n + 1)
    indexes = [stored_hash_index(level, (n >> level) - 1) for level in reversed(range(completed))]
    siblings = _read(reader, indexes)
    h = bytes(record_hash)
    hashes = [h]
    for sibling in reversed(siblings):
        h = node_hash(sibling, h)
        hashes.append(h)
    return hashes


def stored_hashes(n: int, data: bytes, reader: HashReader) -> list[bytes]:
    """Like :func:`stored_hashes_for_record`, taking the record's data."""
    return stored_hashes_for_record(n, leaf_hash(data), reader)


class Frontier:
    """The right edge of a Merkle tree: enough to append leaves and give the tree's root.

    Holds one hash per maximal complete subtree (log2 n of them), so a log of
    ten million entries is hashed in constant memory. :meth:`append` returns
    the hashes tlog storage gets for that leaf (the leaf hash, then each
    subtree it completes), the same as :func:`stored_hashes_for_record`
    without reading them back.
    """

    def __init__(self) -> None:
        self.size = 0
        self.stack: list[bytes] = []

    def append(self, record_hash: bytes) -> list[bytes]:
        """Append a leaf by its hash; return the hashes stored for it, in storage order."""
        if len(record_hash) != HASH_SIZE:
            raise ValueError("leaf hashes must be 32 bytes")
        h = bytes(record_hash)
        stored = [h]
        n = self.size
        while n & 1:  # each trailing 1 bit closes a subtree with its left sibling
            h = node_hash(self.stack.pop(), h)
            stored.append(h)
            n >>= 1
        self.stack.append(h)
        self.size += 1
        return stored

    def root(self) -> bytes:
        """The root of the tree of the leaves appended so far."""
        return _fold(self.stack) if self.stack else EMPTY_ROOT


# ---------------------------------------------------------------- roots and proofs


def _subtree_indexes(lo: int, hi: int, need: list[int]) -> None:
    # [lo, hi) splits into maximal aligned power-of-two subtrees, left to
    # right; that is exactly the right-leaning shape RFC 9162's MTH gives it,
    # and each such complete subtree has one stored hash.
    while lo < hi:
        k = _pow2_at_most(hi - lo)
        level = k.bit_length() - 1
        assert lo & (k - 1) == 0, "unaligned subtree"
        need.append(stored_hash_index(level, lo >> level))
        lo += k


def _subtree_hash(lo: int, hi: int, hashes: Iterator[bytes]) -> bytes:
    pieces: list[bytes] = []
    while lo < hi:
        pieces.append(next(hashes))
        lo += _pow2_at_most(hi - lo)
    return _fold(pieces)


def _finish(hashes: Iterator[bytes]) -> None:
    if next(hashes, None) is not None:
        raise AssertionError("read more hashes than the proof used")


def tree_hash(size: int, reader: HashReader) -> bytes:
    """Return the root hash of the first ``size`` leaves, reading at most log2(size)+1 hashes."""
    if not 0 <= size <= MAX_TREE_SIZE:
        raise ValueError("tree size out of range")
    if size == 0:
        return EMPTY_ROOT
    indexes: list[int] = []
    _subtree_indexes(0, size, indexes)
    hashes = iter(_read(reader, indexes))
    root = _subtree_hash(0, size, hashes)
    _finish(hashes)
    return root


def _leaf_proof_indexes(lo: int, hi: int, n: int, need: list[int]) -> None:
    if hi - lo == 1:
        return
    k = _pow2_below(hi - lo)
    if n < lo + k:
        _leaf_proof_indexes(lo, lo + k, n, need)
        _subtree_indexes(lo + k, hi, need)
    else:
        _subtree_indexes(lo, lo + k, need)
        _leaf_proof_indexes(lo + k, hi, n, need)


def _leaf_proof(lo: int, hi: int, n: int, hashes: Iterator[bytes]) -> list[bytes]:
    if hi - lo == 1:
        # The verifier already has the leaf hash.
        return []
    k = _pow2_below(hi - lo)
    if n < lo + k:
        proof = _leaf_proof(lo, lo + k, n, hashes)
        sibling = _subtree_hash(lo + k, hi, hashes)
    else:
        sibling = _subtree_hash(lo, lo + k, hashes)
        proof = _leaf_proof(lo + k, hi, n, hashes)
    proof.append(sibling)
    return proof


def prove_record(size: int, n: int, reader: HashReader) -> list[bytes]:
    """Return the RFC 9162 inclusion proof of leaf ``n`` in the tree of ``size`` leaves.

    Hashes are ordered from the leaf's sibling up to the root's child, as in
    RFC 9162 §2.1.3.1.
    """
    if not 0 <= n < size <= MAX_TREE_SIZE:
        raise ValueError(f"no leaf {n} in a tree of size {size}")
    indexes: list[int] = []
    _leaf_proof_indexes(0, size, n, indexes)
    hashes = iter(_read(reader, indexes))
    proof = _leaf_proof(0, size, n, hashes)
    _finish(hashes)
    return proof


def _check_proof_hashes(proof: Sequence[bytes], *hashes: bytes) -> None:
    if len(proof) > _MAX_PROOF_LENGTH:
        raise ProofError("proof is longer than any tree is tall")
    for h in (*proof, *hashes):
        if len(h) != HASH_SIZE:
            raise ProofError("proof hashes must be 32 bytes")


def _run_record_proof(
    proof: Sequence[bytes], end: int, lo: int, hi: int, n: int, record_hash: bytes
) -> bytes:
    # proof[:end] is what is left for the subtree [lo, hi); its last element
    # is the sibling at this subtree's top.
    if hi - lo == 1:
        if end != 0:
            raise ProofError("inclusion proof is too long")
        return record_hash
    if end == 0:
        raise ProofError("inclusion proof is too short")
    k = _pow2_below(hi - lo)
    sibling = proof[end - 1]
    if n < lo + k:
        return node_hash(_run_record_proof(proof, end - 1, lo, lo + k, n, record_hash), sibling)
    return node_hash(sibling, _run_record_proof(proof, end - 1, lo + k, hi, n, record_hash))


def check_record(
    proof: Sequence[bytes], size: int, root: bytes, n: int, record_hash: bytes
) -> None:
    """Check that ``proof`` shows leaf ``n`` with ``record_hash`` in the tree ``(size, root)``.

    Raises :class:`ProofError` unless it does.
    """
    if not 0 <= n < size <= MAX_TREE_SIZE:
        raise ProofError(f"no leaf {n} in a tree of size {size}")
    _check_proof_hashes(proof, root, record_hash)
    computed = _run_record_proof(proof, len(proof), 0, size, n, bytes(record_hash))
    if computed != root:
        raise ProofError("inclusion proof does not lead to the tree root")


def _tree_proof_indexes(lo: int, hi: int, n: int, need: list[int]) -> None:
    if n == hi:
        if lo != 0:
            _subtree_indexes(lo, hi, need)
        return
    k = _pow2_below(hi - lo)
    if n <= lo + k:
        _tree_proof_indexes(lo, lo + k, n, need)
        _subtree_indexes(lo + k, hi, need)
    else:
        _subtree_indexes(lo, lo + k, need)
        _tree_proof_indexes(lo + k, hi, n, need)


def _tree_proof(lo: int, hi: int, n: int, hashes: Iterator[bytes]) -> list[bytes]:
    if n == hi:
        # When the old tree is this very subtree the verifier holds its root
        # already (RFC 9162's SUBPROOF(m, D[m], true) = {}).
        return [] if lo == 0 else [_subtree_hash(lo, hi, hashes)]
    k = _pow2_below(hi - lo)
    if n <= lo + k:
        proof = _tree_proof(lo, lo + k, n, hashes)
        sibling = _subtree_hash(lo + k, hi, hashes)
    else:
        sibling = _subtree_hash(lo, lo + k, hashes)
        proof = _tree_proof(lo + k, hi, n, hashes)
    proof.append(sibling)
    return proof


def prove_tree(size: int, old_size: int, reader: HashReader) -> list[bytes]:
    """Return the RFC 9162 consistency proof from ``old_size`` to ``size``.

    Both sizes must be at least 1; equal sizes give an empty proof.
    """
    if not 1 <= old_size <= size <= MAX_TREE_SIZE:
        raise ValueError(f"no consistency proof from size {old_size} to size {size}")
    indexes: list[int] = []
    _tree_proof_indexes(0, size, old_size, indexes)
    hashes = iter(_read(reader, indexes))
    proof = _tree_proof(0, size, old_size, hashes)
    _finish(hashes)
    return proof


def _run_tree_proof(
    proof: Sequence[bytes], end: int, lo: int, hi: int, n: int, old_root: bytes
) -> tuple[bytes, bytes]:
    # Returns this subtree's hash in the old tree and in the new tree.
    if n == hi:
        if lo == 0:
            if end != 0:
                raise ProofError("consistency proof is too long")
            return old_root, old_root
        if end != 1:
            raise ProofError("consistency proof has the wrong length")
        return proof[0], proof[0]
    if end == 0:
        raise ProofError("consistency proof is too short")
    k = _pow2_below(hi - lo)
    sibling = proof[end - 1]
    if n <= lo + k:
        old, new = _run_tree_proof(proof, end - 1, lo, lo + k, n, old_root)
        return old, node_hash(new, sibling)
    old, new = _run_tree_proof(proof, end - 1, lo + k, hi, n, old_root)
    return node_hash(sibling, old), node_hash(sibling, new)


def check_tree(
    proof: Sequence[bytes], size: int, root: bytes, old_size: int, old_root: bytes
) -> None:
    """Check that ``proof`` shows tree ``(old_size, old_root)`` is a prefix of ``(size, root)``.

    Raises :class:`ProofError` unless it does.
    """
    if not 1 <= old_size <= size <= MAX_TREE_SIZE:
        raise ProofError(f"no consistency proof from size {old_size} to size {size}")
    _check_proof_hashes(proof, root, old_root)
    old, new = _run_tree_proof(proof, len(proof), 0, size, old_size, bytes(old_root))
    if old != old_root or new != root:
        raise ProofError("consistency proof does not lead to both roots")


# ---------------------------------------------------------------- tiles


@dataclass(frozen=True, order=True, slots=True)
class Tile:
    """A C2SP tlog-tiles tile: ``width`` hashes of tree level ``8 * level``.

    Level :data:`ENTRIES_LEVEL` names the entry bundle with the same index
    and width as the level-0 tile. Unpacks as ``level, index, width``.
    """

    level: int
    index: int
    width: int

    def __iter__(self) -> Iterator[int]:
        # Not a NamedTuple only because a field called "index" would shadow
        # tuple.index; unpacking still reads like the (level, index, width) triple.
        return iter((self.level, self.index, self.width))

    @property
    def path(self) -> str:
        return tile_path(self.level, self.index, self.width)


def _check_tile(level: int, index: int, width: int) -> None:
    if not ENTRIES_LEVEL <= level <= MAX_TILE_LEVEL:
        raise ValueError(f"tile level {level} out of range")
    if not 0 <= index <= MAX_TREE_SIZE:
        raise ValueError(f"tile index {index} out of range")
    if not 1 <= width <= TILE_WIDTH:
        raise ValueError(f"tile width {width} out of range")


def _check_hash_tile(tile: Tile) -> None:
    _check_tile(*tile)
    if tile.level == ENTRIES_LEVEL:
        raise ValueError("an entry bundle holds entries, not hashes")


def tile_path(level: int, index: int, width: int) -> str:
    """Return the tlog-tiles path, e.g. ``tile/0/x001/x234/067.p/5``.

    A width of 256 is a full tile and has no ``.p/<W>`` suffix.
    """
    _check_tile(level, index, width)
    # Three digits per path element keeps any directory to ~3000 children
    # when tiles are served straight from a filesystem.
    elements = [f"{index % 1000:03d}"]
    index //= 1000
    while index > 0:
        elements.append(f"x{index % 1000:03d}")
        index //= 1000
    name = "/".join(reversed(elements))
    level_name = "entries" if level == ENTRIES_LEVEL else str(level)
    suffix = "" if width == TILE_WIDTH else f".p/{width}"
    return f"tile/{level_name}/{name}{suffix}"


def entry_bundle_path(index: int, width: int) -> str:
    """Return the tlog-tiles path of an entry bundle, e.g. ``tile/entries/000.p/3``."""
    return tile_path(ENTRIES_LEVEL, index, width)


# int64 needs at most seven three-digit groups.
_TILE_PATH = re.compile(
    r"tile/(entries|0|[1-9][0-9]?)/((?:x[0-9]{3}/){0,6})([0-9]{3})(?:\.p/([0-9]{1,3}))?"
)


def parse_tile_path(path: str) -> Tile:
    """Parse a tlog-tiles path (hash tile or entry bundle) into (level, index, width).

    Only the canonical spelling is accepted, so every tile has one path and a
    cache keyed by path cannot hold two copies that disagree.
    """
    match = _TILE_PATH.fullmatch(path)
    if match is None:
        raise ValueError(f"malformed tile path {path!r}")
    level_name, groups, last, width_text = match.groups()
    level = ENTRIES_LEVEL if level_name == "entries" else int(level_name)
    index = int(groups.replace("x", "").replace("/", "") + last)
    if width_text is None:
        width = TILE_WIDTH
    else:
        width = int(width_text)
        if not 1 <= width < TILE_WIDTH:
            raise ValueError(f"malformed tile path {path!r}: partial width must be 1-255")
    if level > MAX_TILE_LEVEL or index > MAX_TREE_SIZE:
        raise ValueError(f"malformed tile path {path!r}: out of range")
    # Leading "x000" groups and zero-padded widths would parse to the same
    # tile; the round trip rejects every such alias at once.
    if tile_path(level, index, width) != path:
        raise ValueError(f"malformed tile path {path!r}: not in canonical form")
    return Tile(level, index, width)


def tile_hashes(level: int, index: int, width: int, reader: HashReader) -> bytes:
    """Return the contents of hash tile (level, index, width) read from stored hashes."""
    tile = Tile(level, index, width)
    _check_hash_tile(tile)
    start = index << TILE_HEIGHT
    indexes = [stored_hash_index(level * TILE_HEIGHT, start + i) for i in range(width)]
    return b"".join(_read(reader, indexes))


def _tile_for_storage_index(storage_index: int) -> tuple[Tile, int, int]:
    level, n = split_stored_hash_index(storage_index)
    tile_level = level // TILE_HEIGHT
    # A node between tile levels is not in any tile itself; it is the root of
    # 2**inner consecutive hashes of the tile below it.
    inner = level - tile_level * TILE_HEIGHT
    tile_index = (n << inner) >> TILE_HEIGHT
    n -= (tile_index << TILE_HEIGHT) >> inner
    start, end = n << inner, (n + 1) << inner
    return Tile(tile_level, tile_index, end), start * HASH_SIZE, end * HASH_SIZE


def tile_for_storage_index(storage_index: int) -> Tile:
    """Return the narrowest tile from which the stored hash at ``storage_index`` can be computed."""
    return _tile_for_storage_index(storage_index)[0]


def _tile_subtree_hash(data: bytes) -> bytes:
    # ``data`` is a complete subtree's worth of consecutive hashes of one level.
    return root_from_leaf_hashes(data[i : i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE))


def hash_from_tile(tile: Tile, data: bytes, storage_index: int) -> bytes:
    """Return the stored hash at ``storage_index`` computed from the tile's contents.

    ``tile`` must be :func:`tile_for_storage_index` of that index or a wider
    version of it, and ``data`` exactly that tile's contents.
    """
    _check_hash_tile(tile)
    if len(data) != tile.width * HASH_SIZE:
        raise ValueError(f"{tile.path} holds {tile.width * HASH_SIZE} bytes, not {len(data)}")
    needed, start, end = _tile_for_storage_index(storage_index)
    if needed.level != tile.level or needed.index != tile.index or needed.width > tile.width:
        raise ValueError(f"storage index {storage_index} is in {needed.path}, not {tile.path}")
    return _tile_subtree_hash(bytes(data[start:end]))


def new_tiles(old_size: int, new_size: int) -> list[Tile]:
    """Return the hash tiles to publish when the log grows from ``old_size`` to ``new_size``.

    That is every tile completed in between plus, at each level that changed,
    the partial tile for ``new_size``. Unlike Go's NewTiles this skips the
    partial widths in between: tlog-tiles only requires partial tiles for sizes
    that were checkpointed. Entry bundles share the level-0 indexes and widths.
    """
    if not 0 <= old_size <= new_size <= MAX_TREE_SIZE:
        raise ValueError("tree sizes must satisfy 0 <= old_size <= new_size")
    tiles: list[Tile] = []
    level = 0
    while new_size >> (level * TILE_HEIGHT):
        old_count = old_size >> (level * TILE_HEIGHT)
        new_count = new_size >> (level * TILE_HEIGHT)
        for index in range(old_count >> TILE_HEIGHT, new_count >> TILE_HEIGHT):
            tiles.append(Tile(level, index, TILE_WIDTH))
        partial = new_count & (TILE_WIDTH - 1)
        if partial and new_count != old_count:
            tiles.append(Tile(level, new_count >> TILE_HEIGHT, partial))
        level += 1
    return tiles


class TileReader(Protocol):
    """Fetches published tiles, e.g. over HTTP or from a local cache."""

    def read_tiles(self, tiles: Sequence[Tile]) -> list[bytes]:
        """Return the contents of each tile, in order. Contents are untrusted."""
        ...


class TileHashReader:
    """A :class:`HashReader` over published tiles that trusts only a checkpoint.

    Every tile is checked against the tree root, directly or through its chain
    of parent tiles, before any hash from it is returned; proofs built from
    this reader therefore need no further trust in whoever served the tiles.
    Raises :class:`ProofError` when the tiles disagree with the root.
    """

    def __init__(self, size: int, root: bytes, tiles: TileReader) -> None:
        if not 0 <= size <= MAX_TREE_SIZE or len(root) != HASH_SIZE:
            raise ValueError("TileHashReader needs a tree size and a 32-byte root")
        self._size = size
        self._root = bytes(root)
        self._tiles = tiles

    def _parent(self, tile: Tile, k: int) -> Tile | None:
        # The k-th ancestor of a tile, as wide as this tree makes it.
        level = tile.level + k
        index = tile.index >> (k * TILE_HEIGHT)
        available = self._size >> (level * TILE_HEIGHT)
        start = index << TILE_HEIGHT
        if start >= available:
            return None
        return Tile(level, index, min(TILE_WIDTH, available - start))

    def _must_parent(self, tile: Tile, k: int) -> Tile:
        parent = self._parent(tile, k)
        if parent is None:
            raise AssertionError(f"no ancestor {k} of {tile} in a tree of size {self._size}")
        return parent

    def read_hashes(self, indexes: Sequence[int]) -> list[bytes]:
        if not indexes:
            return []
        limit = stored_hash_index(0, self._size)
        for x in indexes:
            if not 0 <= x < limit:
                raise ValueError(f"storage index {x} is not in a tree of size {self._size}")

        order: dict[Tile, int] = {}
        tiles: list[Tile] = []

        def add(tile: Tile) -> int:
            if tile not in order:
                order[tile] = len(tiles)
                tiles.append(tile)
            return order[tile]

        # The tiles holding the root's subtrees are authenticated by
        # recomputing the root itself.
        root_indexes: list[int] = []
        _subtree_indexes(0, self._size, root_indexes)
        root_slots = [add(self._must_parent(tile_for_storage_index(x), 0)) for x in root_indexes]
        root_tiles = len(tiles)

        # Any other tile is full and is authenticated by its hash in the tile
        # above; climb to the first tile already planned, then plan the chain
        # back down so parents always precede children.
        slots: list[int] = []
        for x in indexes:
            base = tile_for_storage_index(x)
            k = 0
            while self._must_parent(base, k) not in order:
                k += 1
            for j in range(k - 1, -1, -1):
                child = self._must_parent(base, j)
                if child.width != TILE_WIDTH:
                    raise AssertionError(f"{child} has a parent tile but is not full")
                add(child)
            slots.append(order[self._must_parent(base, 0)])

        data = self._tiles.read_tiles(tiles)
        if len(data) != len(tiles):
            raise ProofError(f"read_tiles returned {len(data)} tiles for {len(tiles)}")
        for tile, contents in zip(tiles, data, strict=True):
            if len(contents) != tile.width * HASH_SIZE:
                raise ProofError(f"{tile.path} has {len(contents)} bytes")

        root = hash_from_tile(tiles[root_slots[-1]], data[root_slots[-1]], root_indexes[-1])
        for slot, x in zip(reversed(root_slots[:-1]), reversed(root_indexes[:-1]), strict=True):
            root = node_hash(hash_from_tile(tiles[slot], data[slot], x), root)
        if root != self._root:
            raise ProofError("tiles do not match the tree root")

        # Start right after the root's tiles, not after len(root_indexes):
        # several root subtrees often share one tile, and counting subtrees
        # would leave some child tiles unchecked.
        for i in range(root_tiles, len(tiles)):
            tile = tiles[i]
            parent = self._must_parent(tile, 1)
            j = order[parent]
            expected = hash_from_tile(
                parent, data[j], stored_hash_index(parent.level * TILE_HEIGHT, tile.index)
            )
            if _tile_subtree_hash(bytes(data[i])) != expected:
                raise ProofError(f"{tile.path} does not match its parent tile")

        return [
            hash_from_tile(tiles[slot], data[slot], x)
            for slot, x in zip(slots, indexes, strict=True)
        ]


# ---------------------------------------------------------------- entry bundles


def encode_entry_bundle(entries: Sequence[bytes]) -> bytes:
    """Encode 1-256 entries as a tlog-tiles entry bundle (uint16 length + bytes each)."""
    if not 1 <= len(entries) <= TILE_WIDTH:
        raise ValueError("an entry bundle holds 1 to 256 entries")
    out = bytearray()
    for entry in entries:
        if len(entry) > MAX_ENTRY_SIZE:
            raise ValueError(f"entry of {len(entry)} bytes does not fit a uint16 length")
        out += len(entry).to_bytes(2, "big")
        out += entry
    return bytes(out)


def decode_entry_bundle(data: bytes, width: int | None = None) -> list[bytes]:
    """Decode an entry bundle; if ``width`` is given the bundle must hold exactly that many."""
    entries: list[bytes] = []
    pos = 0
    while pos < len(data):
        if len(entries) == TILE_WIDTH:
            raise ValueError("entry bundle holds more than 256 entries")
        if len(data) - pos < 2:
            raise ValueError("entry bundle ends inside a length prefix")
        length = int.from_bytes(data[pos : pos + 2], "big")
        pos += 2
        if len(data) - pos < length:
            raise ValueError("entry bundle ends inside an entry")
        entries.append(bytes(data[pos : pos + length]))
        pos += length
    if not entries:
        raise ValueError("entry bundle is empty")
    if width is not None and len(entries) != width:
        raise ValueError(f"entry bundle holds {len(entries)} entries, expected {width}")
    return entries


def check_entry_bundle(entries: Sequence[bytes], tile_data: bytes) -> None:
    """Check that ``entries`` hash to the leaf hashes in the matching level-0 tile."""
    if len(tile_data) != len(entries) * HASH_SIZE:
        raise ProofError("entry bundle and tile have different widths")
    for i, entry in enumerate(entries):
        if leaf_hash(entry) != tile_data[i * HASH_SIZE : (i + 1) * HASH_SIZE]:
            raise ProofError(f"entry {i} of the bundle does not match its tile")


# ---------------------------------------------------------------- checkpoints


def b64decode_canonical(text: str) -> bytes | None:
    """Standard base64 in the one spelling we would write, or None.

    Python's decoder tolerates non-zero padding bits, which would give one
    root, key or signature several spellings: note.py and cosignature.py use
    this too.
    """
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error):
        return None
    if base64.b64encode(raw).decode("ascii") != text:
        return None
    return raw


# The signed-note rule: nothing below U+0020 except the newlines between lines.
_CONTROL = re.compile(r"[\x00-\x1f]")
_DECIMAL = re.compile(r"0|[1-9][0-9]*")


@dataclass(frozen=True)
class Checkpoint:
    """The body of a C2SP tlog-checkpoint: origin, tree size, root hash, extension lines."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # Validating here means to_text() can never emit a body parse() rejects.
        if not self.origin or _CONTROL.search(self.origin):
            raise ValueError("checkpoint origin must be non-empty and have no control characters")
        if isinstance(self.size, bool) or not 0 <= self.size <= MAX_TREE_SIZE:
            raise ValueError("checkpoint size out of range")
        if len(self.root_hash) != HASH_SIZE:
            raise ValueError("checkpoint root hash must be 32 bytes")
        for line in self.extensions:
            if not line or _CONTROL.search(line):
                raise ValueError("checkpoint extension lines must be non-empty single lines")

    def to_text(self) -> str:
        """Return the note text: origin, size and base64 root, one per line, then extensions."""
        lines = [
            self.origin,
            str(self.size),
            base64.b64encode(self.root_hash).decode("ascii"),
            *self.extensions,
        ]
        return "".join(line + "\n" for line in lines)

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        """Parse a checkpoint body strictly; raises ValueError saying what is wrong."""
        if not text.endswith("\n"):
            raise ValueError("checkpoint must end with a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise ValueError("checkpoint needs origin, size and root hash lines")
        origin, size_text, root_text, *extensions = lines
        if not origin:
            raise ValueError("checkpoint origin line is empty")
        if _DECIMAL.fullmatch(size_text) is None:
            raise ValueError(
                f"checkpoint size {size_text!r} is not a decimal without leading zeros"
            )
        size = int(size_text)
        if size > MAX_TREE_SIZE:
            raise ValueError("checkpoint size out of range")
        root = b64decode_canonical(root_text)
        if root is None or len(root) != HASH_SIZE:
            raise ValueError("checkpoint root hash is not the base64 of 32 bytes")
        for line in extensions:
            if not line:
                raise ValueError("checkpoint extension lines must be non-empty")
        if _CONTROL.search(text.replace("\n", "")):
            raise ValueError("checkpoint contains control characters")
        return cls(origin, size, root, tuple(extensions))
