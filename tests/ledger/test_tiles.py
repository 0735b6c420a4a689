"""C2SP tlog-tiles: tile paths, tile contents, tile-backed proofs and entry bundles."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.ledger.doubles import MemoryHashStore
from undersigned.tlog.merkle import (
    ENTRIES_LEVEL,
    HASH_SIZE,
    MAX_TILE_LEVEL,
    MAX_TREE_SIZE,
    TILE_WIDTH,
    ProofError,
    Tile,
    TileHashReader,
    check_entry_bundle,
    decode_entry_bundle,
    encode_entry_bundle,
    entry_bundle_path,
    hash_from_tile,
    leaf_hash,
    new_tiles,
    parse_tile_path,
    prove_record,
    prove_tree,
    root_from_leaf_hashes,
    stored_hash_index,
    tile_for_storage_index,
    tile_hashes,
    tile_path,
    tree_hash,
)

PROPERTIES = settings(max_examples=200, deadline=None, database=None)

# Enough leaves for a level-2 tile (65,536 leaves) and a partial tile at every level.
BIG_SIZE = 65536 + 300


def entry(i: int) -> bytes:
    return f"entry {i}".encode()


def contents(tile: Tile, store: MemoryHashStore) -> bytes:
    return tile_hashes(tile.level, tile.index, tile.width, store)


@pytest.fixture(scope="module")
def big() -> tuple[MemoryHashStore, list[bytes]]:
    leaves = [leaf_hash(entry(i)) for i in range(BIG_SIZE)]
    return MemoryHashStore.from_leaf_hashes(leaves), leaves


# ---------------------------------------------------------------- paths


@pytest.mark.parametrize(
    ("tile", "path"),
    [
        (Tile(0, 1234067, 256), "tile/0/x001/x234/067"),
        (Tile(0, 1234067, 8), "tile/0/x001/x234/067.p/8"),
        (Tile(0, 0, 256), "tile/0/000"),
        (Tile(0, 999, 256), "tile/0/999"),
        (Tile(0, 1000, 256), "tile/0/x001/000"),
        (Tile(1, 5, 17), "tile/1/005.p/17"),
        (Tile(2, 0, 1), "tile/2/000.p/1"),
        (Tile(63, 0, 255), "tile/63/000.p/255"),
        (Tile(ENTRIES_LEVEL, 1234067, 256), "tile/entries/x001/x234/067"),
        (Tile(ENTRIES_LEVEL, 0, 3), "tile/entries/000.p/3"),
        (Tile(0, MAX_TREE_SIZE, 256), "tile/0/x009/x223/x372/x036/x854/x775/807"),
    ],
)
def test_tile_paths(tile: Tile, path: str) -> None:
    assert tile_path(*tile) == path
    assert tile.path == path
    assert parse_tile_path(path) == tile
    if tile.level == ENTRIES_LEVEL:
        assert entry_bundle_path(tile.index, tile.width) == path


@pytest.mark.parametrize(
    "path",
    [
        "",
        "tile/0/",
        "tile/0/0",
        "tile/0/00",
        "tile/0/0000",
        "tile/0/1234067",
        "tile/0/x001/234/067",  # non-final element without x
        "tile/0/001/x234/067",
        "tile/0/x001/x234/x067",  # final element with x
        "tile/0/x000/067",  # leading zero element
        "tile/0/x000/x000/000",
        "tile/0/x1000/000",
        "tile/0/x01/000",
        "tile/00/000",
        "tile/01/000",
        "tile/64/000",
        "tile/100/000",
        "tile/-1/000",
        "tile/+1/000",
        "tile/data/000",
        "tile/entries/",
        "tile/0/000.p/0",
        "tile/0/000.p/256",  # a full tile is never written as partial
        "tile/entries/000.p/256",
        "tile/0/000.p/007",
        "tile/0/000.p/",
        "tile/0/000.p",
        "tile/0/000.p/1/",
        "tile/0/000/",
        "/tile/0/000",
        "tile//0/000",
        "Tile/0/000",
        "tile/0/000\n",
        "tile/0/ 000",
        "tile/\u0661/000",
        "tile/0/\u0660\u0660\u0660",
        "tile/8/0/000",  # Go's sumdb paths carry the height; tlog-tiles does not
        "tile/0/x009/x223/x372/x036/x854/x775/808",  # past int64
        "tile/0/x001/x001/x001/x001/x001/x001/x001/000",
    ],
)
def test_malformed_tile_paths_are_rejected(path: str) -> None:
    with pytest.raises(ValueError):
        parse_tile_path(path)


@pytest.mark.parametrize(
    ("level", "index", "width"),
    [(-2, 0, 1), (MAX_TILE_LEVEL + 1, 0, 1), (0, -1, 1), (0, 0, 0), (0, 0, 257)],
)
def test_tile_path_rejects_bad_coordinates(level: int, index: int, width: int) -> None:
    with pytest.raises(ValueError):
        tile_path(level, index, width)


@PROPERTIES
@given(
    st.integers(ENTRIES_LEVEL, MAX_TILE_LEVEL),
    st.integers(0, MAX_TREE_SIZE),
    st.integers(1, TILE_WIDTH),
)
def test_tile_paths_round_trip(level: int, index: int, width: int) -> None:
    tile = parse_tile_path(tile_path(level, index, width))
    assert tile == Tile(level, index, width)
    assert tuple(tile) == (level, index, width)


@PROPERTIES
@given(st.text(alphabet="tile/entries0123456789x.p", max_size=40))
def test_only_canonical_paths_parse(path: str) -> None:
    try:
        tile = parse_tile_path(path)
    except ValueError:
        return
    assert tile_path(*tile) == path


# ---------------------------------------------------------------- which tiles exist


def test_new_tiles_spec_example() -> None:
    # "a tree of size 70,000 will be represented by 273 full level 0 tiles, one
    # partial level 0 tile of width 112, one full level 1 tile, one partial
    # level 1 tile of width 17, and one partial level 2 tile of width 1."
    tiles = new_tiles(0, 70000)
    assert tiles == [
        *(Tile(0, i, 256) for i in range(273)),
        Tile(0, 273, 112),
        Tile(1, 0, 256),
        Tile(1, 1, 17),
        Tile(2, 0, 1),
    ]
    # "a tree of size 256 will be represented by a full level 0 tile and a
    # partial level 1 tile of width 1."
    assert new_tiles(0, 256) == [Tile(0, 0, 256), Tile(1, 0, 1)]
    assert new_tiles(0, 0) == []


def test_new_tiles_when_growing() -> None:
    assert new_tiles(256, 256) == []
    assert new_tiles(10, 20) == [Tile(0, 0, 20)]
    assert new_tiles(250, 260) == [Tile(0, 0, 256), Tile(0, 1, 4), Tile(1, 0, 1)]
    # Level 1 is unchanged from 300 to 400, so its partial tile is not re-sent.
    assert new_tiles(300, 400) == [Tile(0, 1, 144)]
    sizes = [0, 1, 5, 255, 256, 700, 700, 65536, 70000]
    published: set[Tile] = set()
    for old, new in pairwise(sizes):
        published.update(new_tiles(old, new))
    full = {t for t in new_tiles(0, 70000) if t.width == TILE_WIDTH}
    assert full <= published
    for size in sizes[1:]:
        assert {t for t in new_tiles(0, size) if t.width < TILE_WIDTH} <= published


@pytest.mark.parametrize(
    ("storage_index", "tile"),
    [
        (stored_hash_index(0, 0), Tile(0, 0, 1)),
        (stored_hash_index(0, 300), Tile(0, 1, 45)),
        (stored_hash_index(3, 0), Tile(0, 0, 8)),
        (stored_hash_index(7, 1), Tile(0, 0, 256)),
        (stored_hash_index(8, 0), Tile(1, 0, 1)),
        (stored_hash_index(9, 1), Tile(1, 0, 4)),
        (stored_hash_index(16, 0), Tile(2, 0, 1)),
    ],
)
def test_tile_for_storage_index(storage_index: int, tile: Tile) -> None:
    assert tile_for_storage_index(storage_index) == tile


# ---------------------------------------------------------------- tile contents


def test_tile_contents_follow_the_spec_formula(big: tuple[MemoryHashStore, list[bytes]]) -> None:
    store, leaves = big
    # Tile n at level l holds MTH(D[(n*256 + i) * 256**l : (n*256 + i + 1) * 256**l]).
    for tile in new_tiles(0, BIG_SIZE):
        data = contents(tile, store)
        assert len(data) == tile.width * HASH_SIZE
        if tile.level == 0:
            start = tile.index * 256
            assert data == b"".join(leaves[start : start + tile.width])
            continue
        span = 256**tile.level
        for i in range(tile.width):
            first = (tile.index * 256 + i) * span
            want = root_from_leaf_hashes(leaves[first : first + span])
            assert data[i * HASH_SIZE : (i + 1) * HASH_SIZE] == want, (tile, i)


def test_hash_from_tile(big: tuple[MemoryHashStore, list[bytes]]) -> None:
    store, _ = big
    full = Tile(0, 0, 256)
    data = contents(full, store)
    for level, n in [(0, 0), (0, 255), (3, 5), (7, 1), (8, 0)]:
        index = stored_hash_index(level, n)
        if level < 8:
            assert hash_from_tile(full, data, index) == store.read_hashes([index])[0]
        else:
            with pytest.raises(ValueError):
                hash_from_tile(full, data, index)  # lives in the level-1 tile
    narrow = Tile(0, 0, 8)
    narrow_data = contents(narrow, store)
    assert (
        hash_from_tile(narrow, narrow_data, stored_hash_index(3, 0))
        == store.read_hashes([stored_hash_index(3, 0)])[0]
    )
    with pytest.raises(ValueError):
        hash_from_tile(narrow, narrow_data, stored_hash_index(0, 8))  # beyond its width
    with pytest.raises(ValueError):
        hash_from_tile(narrow, narrow_data[:-1], stored_hash_index(0, 0))
    with pytest.raises(ValueError):
        hash_from_tile(Tile(ENTRIES_LEVEL, 0, 8), narrow_data, stored_hash_index(0, 0))
    with pytest.raises(ValueError):
        tile_hashes(ENTRIES_LEVEL, 0, 8, store)


class DictTiles:
    """Serves tiles from a dict, recording what was asked for."""

    def __init__(self, tiles: dict[Tile, bytes]) -> None:
        self.tiles = tiles
        self.requested: list[Tile] = []

    def read_tiles(self, tiles: Sequence[Tile]) -> list[bytes]:
        self.requested.extend(tiles)
        return [self.tiles[t] for t in tiles]


def published(store: MemoryHashStore, size: int) -> dict[Tile, bytes]:
    return {t: contents(t, store) for t in new_tiles(0, size)}


SIZES = [1, 2, 3, 255, 256, 257, 259, 511, 512, 513, 600, 65535, 65536, 65537, BIG_SIZE]


@pytest.mark.parametrize("size", SIZES)
def test_proofs_from_tiles_match_proofs_from_storage(
    big: tuple[MemoryHashStore, list[bytes]], size: int
) -> None:
    store, _ = big
    root = store.root(size)
    tiles = published(store, size)
    reader = TileHashReader(size, root, DictTiles(tiles))
    assert tree_hash(size, reader) == root
    # The level-0 tiles alone are every leaf hash, in order.
    level0 = b"".join(data for t, data in sorted(tiles.items()) if t.level == 0)
    assert (
        root_from_leaf_hashes([level0[i : i + HASH_SIZE] for i in range(0, len(level0), HASH_SIZE)])
        == root
    )
    for n in sorted({0, 1, size // 3, size // 2, size - 2, size - 1} & set(range(size))):
        assert prove_record(size, n, reader) == prove_record(size, n, store), n
    for old in sorted({1, size // 2, size - 1, size} & set(range(1, size + 1))):
        assert prove_tree(size, old, reader) == prove_tree(size, old, store), old


@pytest.mark.parametrize(("size", "n"), [(259, 5), (600, 10), (600, 550), (BIG_SIZE, 7)])
def test_every_tile_read_is_authenticated(
    big: tuple[MemoryHashStore, list[bytes]], size: int, n: int
) -> None:
    store, _ = big
    root = store.root(size)
    tiles = published(store, size)
    index = stored_hash_index(0, n)
    probe = DictTiles(tiles)
    assert TileHashReader(size, root, probe).read_hashes([index]) == store.read_hashes([index])
    assert probe.requested
    # Whichever tile the reader relied on, a served copy with one bit changed
    # must be caught.
    for tile in probe.requested:
        tampered = dict(tiles)
        data = bytearray(tiles[tile])
        data[-1] ^= 1
        tampered[tile] = bytes(data)
        with pytest.raises(ProofError):
            TileHashReader(size, root, DictTiles(tampered)).read_hashes([index])


def test_tile_reader_refuses_bad_input(big: tuple[MemoryHashStore, list[bytes]]) -> None:
    store, _ = big
    size = 600
    root = store.root(size)
    tiles = published(store, size)
    with pytest.raises(ProofError):
        TileHashReader(size, store.root(599), DictTiles(tiles)).read_hashes([0])
    short = dict(tiles)
    short[Tile(0, 2, 88)] = tiles[Tile(0, 2, 88)][:-HASH_SIZE]
    with pytest.raises(ProofError):
        TileHashReader(size, root, DictTiles(short)).read_hashes([0])
    reader = TileHashReader(size, root, DictTiles(tiles))
    with pytest.raises(ValueError):
        reader.read_hashes([stored_hash_index(0, size)])
    assert reader.read_hashes([]) == []


# ---------------------------------------------------------------- entry bundles


def test_entry_bundle_encoding() -> None:
    assert encode_entry_bundle([b"ab", b"", b"c"]) == b"\x00\x02ab\x00\x00\x00\x01c"
    assert decode_entry_bundle(b"\x00\x02ab\x00\x00\x00\x01c") == [b"ab", b"", b"c"]
    big_entry = bytes(range(256)) * 255 + bytes(255)
    assert len(big_entry) == 0xFFFF
    assert decode_entry_bundle(encode_entry_bundle([big_entry]), width=1) == [big_entry]


@PROPERTIES
@given(st.lists(st.binary(max_size=300), min_size=1, max_size=256))
def test_entry_bundles_round_trip(entries: list[bytes]) -> None:
    data = encode_entry_bundle(entries)
    assert decode_entry_bundle(data) == entries
    assert decode_entry_bundle(data, width=len(entries)) == entries


@PROPERTIES
@given(st.binary(max_size=64))
def test_decoding_is_canonical(data: bytes) -> None:
    try:
        entries = decode_entry_bundle(data)
    except ValueError:
        return
    assert encode_entry_bundle(entries) == data


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x00",
        b"\x00\x01",
        b"\x00\x05abc",
        b"\x00\x01a\x00",
        b"\x00\x01a\x00\x02b",
        b"\x00\x00" * 257,
    ],
)
def test_malformed_entry_bundles_are_rejected(data: bytes) -> None:
    with pytest.raises(ValueError):
        decode_entry_bundle(data)


def test_entry_bundle_limits() -> None:
    with pytest.raises(ValueError):
        encode_entry_bundle([])
    with pytest.raises(ValueError):
        encode_entry_bundle([b""] * 257)
    with pytest.raises(ValueError):
        encode_entry_bundle([bytes(0x10000)])
    with pytest.raises(ValueError):
        decode_entry_bundle(encode_entry_bundle([b"a", b"b"]), width=3)


def test_entry_bundles_match_level0_tiles(big: tuple[MemoryHashStore, list[bytes]]) -> None:
    store, _ = big
    for tile in [Tile(0, 0, 256), Tile(0, 3, 17)]:
        entries = [entry(tile.index * 256 + i) for i in range(tile.width)]
        bundle = decode_entry_bundle(encode_entry_bundle(entries), width=tile.width)
        tile_data = contents(tile, store)
        check_entry_bundle(bundle, tile_data)
        with pytest.raises(ProofError):
            check_entry_bundle([*bundle[:-1], b"forged"], tile_data)
        with pytest.raises(ProofError):
            check_entry_bundle(bundle[:-1], tile_data)
