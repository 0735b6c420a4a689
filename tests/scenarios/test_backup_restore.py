"""`undersigned backup` under live load, `restore` into an empty instance, proven identical."""

import json
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import free_port
from tests.scenarios.harness import Load, Site, SmtpServer, get_json, wait_for

pytestmark = pytest.mark.slow

SNAPSHOT = """
import base64, json
from undersigned.ledger.models import LogEntry, SignedCheckpoint
from undersigned.signing.models import Signature
print(json.dumps({
    # By keyed hash: a decided signature's address is sealed away (signing/custody.py).
    "signatures": sorted([s.email_hash, s.state] for s in Signature.objects.all()),
    "entries": [
        [i, base64.b64encode(bytes(d)).decode()]
        for i, d in LogEntry.objects.filter(index__isnull=False)
        .order_by("index").values_list("index", "data")
    ],
    "checkpoints": list(SignedCheckpoint.objects.order_by("size").values_list("size", "note")),
}))
"""


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_an_online_backup_restores_into_an_empty_instance_identically(
    engine: str, make_site: Callable[..., Site], smtp_server: SmtpServer, tmp_path: Path
) -> None:
    port = free_port()
    live = make_site(
        engine, "live", smtp_port=smtp_server.port, site_url=f"http://127.0.0.1:{port}"
    )
    live.install()
    live.serve(port)
    live.worker()
    base = f"http://127.0.0.1:{port}"
    load = Load(base, smtp_server, signers=3)
    load.start()
    try:
        # Back up while people sign and confirm and the worker logs and mails.
        wait_for(lambda: len(load.confirmed) >= 5, 60, "five confirmations", live)

        def signed_checkpoint() -> int:
            return int(get_json(f"{base}/readyz")[1]["checks"]["log"]["last_checkpoint_size"])

        wait_for(lambda: signed_checkpoint() > 3, 60, "the worker signing the log", live)
        destination = tmp_path / "backup"
        started = time.monotonic()
        out = live.manage("backup", str(destination))
        print(f"backup took {time.monotonic() - started:.1f}s, {len(load.signed)} signed")
        assert f"backed up {engine} to {destination}" in out
        signed_before = len(load.signed)
        # Writes go on after the snapshot.
        wait_for(lambda: len(load.signed) >= signed_before + 5, 60, "more signatures", live)
    finally:
        load.stop()
    live.stop_all()

    manifest = json.loads((destination / "manifest.json").read_text())
    assert manifest["engine"] == engine
    assert manifest["tables"]["signing_signature"] > 0
    assert manifest["log"]["size"] > 1
    # Fingerprints of the keys, never the keys.
    secrets = [live.secret_key, live.hash_key, live.data_keys]
    secrets.append((live.data_dir / "ledger.key").read_text().strip())
    for path in destination.iterdir():
        content = path.read_bytes()
        for secret in secrets:
            assert secret.encode() not in content, path.name
    assert oct((destination / manifest["file"]).stat().st_mode & 0o777) == "0o600"

    # A new, empty instance with the same keys.
    restored = make_site(
        engine,
        "restored",
        secret_key=live.secret_key,
        hash_key=live.hash_key,
        data_keys=live.data_keys,
    )
    restored.extra["LEDGER_SIGNER_KEY_FILE"] = str(live.data_dir / "ledger.key")
    restored.data_dir.mkdir(parents=True)
    out = restored.manage("restore", str(destination))
    assert "proven identical" in out

    # Proven again by the ordinary tools, and against the live site itself.
    assert "tallies match the rows" in restored.manage("reconcile")
    assert "consistent with" in restored.manage("check-log")
    was = live.python(SNAPSHOT)
    now = restored.python(SNAPSHOT)
    total = manifest["tables"]["signing_signature"]
    assert len(now["signatures"]) == total
    assert len(was["signatures"]) > total  # the live site went on signing after the backup
    # Every restored signer is a live one (states moved on after the snapshot).
    assert {digest for digest, _ in now["signatures"]} <= {d for d, _ in was["signatures"]}
    size = manifest["log"]["size"]
    assert len(now["entries"]) == size
    assert now["entries"] == was["entries"][:size]  # the log is a prefix, byte for byte
    # The restored checkpoints are the live ones up to the snapshot; one signed
    # for the same size just after the snapshot is rightly not in the backup.
    assert now["checkpoints"]
    assert now["checkpoints"] == was["checkpoints"][: len(now["checkpoints"])]
    assert now["checkpoints"][-1][0] <= size

    # The restored site serves the counts of the snapshot.
    verified = sum(1 for _, state in now["signatures"] if state == "verified")
    assert verified > 0
    port = free_port()
    restored.site_url = f"http://127.0.0.1:{port}"
    restored.serve(port)
    status, body = get_json(f"http://127.0.0.1:{port}/api/petitions/crash")
    assert status == 200 and body["verified_count"] == verified

    # Restoring again over data, or under other keys, or from a damaged backup: refused.
    again = restored.run("restore", str(destination))
    assert again.returncode == 1
    assert "restore only into a new, empty database" in again.stderr
    other = make_site(engine, "other-keys", data_keys=live.data_keys)
    other.extra["LEDGER_SIGNER_KEY_FILE"] = str(live.data_dir / "ledger.key")
    other.data_dir.mkdir(parents=True)
    refused = other.run("restore", str(destination))
    assert refused.returncode == 1
    assert "UNDERSIGNED_HASH_KEY differs" in refused.stderr
    with open(destination / manifest["file"], "r+b") as f:
        f.seek(200)
        f.write(b"\xff" * 16)
    damaged = other.run("restore", str(destination), "--force-keys")
    assert damaged.returncode == 1
    assert "does not match its checksum" in damaged.stderr
    if engine == "sqlite":
        # The refused restores wrote nothing.
        db = other.data_dir / "undersigned.sqlite3"
        if db.exists():
            with sqlite3.connect(db) as conn:
                assert conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0] == 0
