"""The log as served over HTTP, checked with the pure ledger module only."""

import base64
import json
from typing import Any

import pytest
from django.test import Client

from tests.conftest import link_in
from undersigned.ledger.models import LogEntry
from undersigned.ops.management.commands.worker import run_once
from undersigned.petitions import services as petitions
from undersigned.petitions.models import Petition
from undersigned.tlog import entries, merkle
from undersigned.tlog.note import Verifier, open_note

pytestmark = pytest.mark.django_db


def sign_and_confirm(
    client: Client, petition: Petition, deliver: Any, email: str, visibility: str = "show"
) -> Any:
    client.post(
        f"/p/{petition.slug}/sign/",
        {"full_name": f"Signer {email.split('@')[0]}", "email": email, "visibility": visibility},
    )
    message = deliver().last_to(email)
    client.post(link_in(message, "confirm"))
    return message


def checkpoint(client: Client) -> merkle.Checkpoint:
    verifier = Verifier.from_key(client.get("/log/key").content.decode().strip())
    text, _ = open_note(client.get("/log/checkpoint").content.decode(), [verifier])
    return merkle.Checkpoint.parse(text)


def all_entries(client: Client, size: int) -> list[bytes]:
    found: list[bytes] = []
    for n in range(0, size, 256):
        width = min(256, size - n)
        path = "/log/" + merkle.entry_bundle_path(n // 256, width)
        found += merkle.decode_entry_bundle(client.get(path).content)
    return found


def test_events_are_logged_and_the_served_tree_matches_the_checkpoint(
    client: Client, petition: Petition, deliver: Any, organiser: Any
) -> None:
    for i in range(5):
        sign_and_confirm(
            client, petition, deliver, f"s{i}@example.org", "hide" if i % 2 else "show"
        )
    withdraw = link_in(deliver().last_to("s0@example.org"), "withdraw")
    client.post(withdraw)
    petitions.close(petition, organiser)
    run_once()
    cp = checkpoint(client)
    # opened, 5 verified, 1 withdrawn, closed
    assert cp.size == 8
    data = all_entries(client, cp.size)
    assert merkle.root_from_leaf_hashes([merkle.leaf_hash(d) for d in data]) == cp.root_hash
    events = [entries.decode(d).event for d in data]
    assert events[0] == "petition.opened" and events[-1] == "petition.closed"
    assert events.count("signature.verified") == 5
    assert entries.count(enumerate(data))[petition.slug].verified == 4
    assert petitions.counts(petition)[0] == 4
    # Hidden signers appear only as commitments; shown ones by name.
    text = b"\n".join(data).decode()
    assert "Signer s0" in text and "Signer s2" in text
    assert "Signer s1" not in text and "Signer s3" not in text
    # No email address, shown or hidden, ever enters the public log.
    assert "@" not in text


def test_tiles_and_proofs(client: Client, petition: Petition, deliver: Any) -> None:
    for i in range(3):
        sign_and_confirm(client, petition, deliver, f"s{i}@example.org")
    run_once()
    cp = checkpoint(client)
    tile = client.get("/log/" + merkle.tile_path(0, 0, cp.size))
    assert tile.status_code == 200
    assert tile["Cache-Control"] == "public, max-age=3600"
    hashes = [tile.content[i : i + 32] for i in range(0, len(tile.content), 32)]
    assert merkle.root_from_leaf_hashes(hashes) == cp.root_hash
    proof = client.get(f"/log/proof/inclusion?index=2&size={cp.size}").json()
    assert set(proof) == {"index", "size", "leaf_hash", "proof"}
    merkle.check_record(
        [base64.b64decode(h) for h in proof["proof"]],
        cp.size,
        cp.root_hash,
        2,
        base64.b64decode(proof["leaf_hash"]),
    )
    consistency = client.get(f"/log/proof/consistency?old=2&new={cp.size}").json()
    assert consistency["old"] == 2 and consistency["new"] == cp.size
    old_root = merkle.root_from_leaf_hashes(hashes[:2])
    merkle.check_tree(
        [base64.b64decode(h) for h in consistency["proof"]], cp.size, cp.root_hash, 2, old_root
    )
    assert client.get("/log/checkpoint")["Content-Type"].startswith("text/plain")


@pytest.mark.parametrize(
    "query",
    [
        "index=-1&size=2",
        "index=5&size=2",
        "index=a&size=2",
        "index=0&size=999",
        "",
        "index=99999999999999999999999",
    ],
)
def test_bad_inclusion_parameters_are_400(client: Client, petition: Petition, query: str) -> None:
    run_once()
    response = client.get(f"/log/proof/inclusion?{query}")
    assert response.status_code == 400
    assert response.json()["error"]


@pytest.mark.parametrize(
    "query", ["old=0&new=1", "old=2&new=1", "old=1&new=99", "old=x&new=1", "new=1"]
)
def test_bad_consistency_parameters_are_400(client: Client, petition: Petition, query: str) -> None:
    run_once()
    response = client.get(f"/log/proof/consistency?{query}")
    assert response.status_code == 400
    assert response.json()["error"]


@pytest.mark.parametrize(
    "path",
    [
        "tile/0/001",
        "tile/0/x1/000",
        "tile/0/000.p/0",
        "tile/0/000.p/256",
        "tile/99/000",
        "tile/entries/abc",
    ],
)
def test_bad_or_missing_tiles(client: Client, petition: Petition, path: str) -> None:
    run_once()
    assert client.get(f"/log/{path}").status_code in (400, 404)


def test_tiles_beyond_the_checkpoint_are_not_served(client: Client, petition: Petition) -> None:
    run_once()
    assert client.get("/log/tile/0/000.p/1").status_code == 200
    assert client.get("/log/tile/0/000.p/2").status_code == 404
    assert client.get("/log/tile/0/000").status_code == 404
    assert client.get("/log/tile/entries/000.p/2").status_code == 404


def test_key_has_the_go_note_form(client: Client, db: None) -> None:
    key = client.get("/log/key").content.decode().strip()
    name, key_id, data = key.split("+", 2)  # base64 may itself hold a "+"
    assert len(key_id) == 8 and base64.b64decode(data)[0] == 1
    assert Verifier.from_key(key).name == name


def test_no_checkpoint_yet_is_a_clear_404(client: Client, db: None) -> None:
    assert client.get("/log/checkpoint").status_code == 404


def test_entries_get_indexes_in_commit_order_and_never_change(
    client: Client, petition: Petition, deliver: Any
) -> None:
    sign_and_confirm(client, petition, deliver, "a@example.org")
    run_once()
    first = {e.index: bytes(e.data) for e in LogEntry.objects.all()}
    sign_and_confirm(client, petition, deliver, "b@example.org")
    run_once()
    again = {e.index: bytes(e.data) for e in LogEntry.objects.all()}
    assert all(again[i] == data for i, data in first.items())
    assert sorted(again) == list(range(len(again)))
    assert json.loads(again[max(again)])["signer"]["name"] == "Signer b"
