"""The demo's witness: one `undersigned witness` on loopback, the demo's whole quorum.

`undersigned demo` prepares it (a key in DATA_DIR/demo-witness, the site's
log followed) and writes DATA_DIR/demo-witnesses, the LEDGER_WITNESSES line
that settings read outside production when LEDGER_WITNESSES is unset.
`undersigned serve --with-worker` then starts it beside the worker. In
production none of this happens: witnesses are other people's servers.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Final

from django.conf import settings

from undersigned.ledger.keys import signer
from undersigned.tlog import cosignature, witness

NAME: Final = "demo"
# Ed25519 (cosignature/v1), the key type the witness network asks witnesses for.
ALGORITHM: Final = cosignature.ED25519


def listen_address() -> str:
    return os.environ.get("UNDERSIGNED_DEMO_WITNESS_LISTEN", "127.0.0.1:7380")


def data_dir() -> Path:
    return Path(settings.DEMO_WITNESS_DIR)


def wanted() -> bool:
    """Whether this installation runs the demo's witness (never in production)."""
    return not settings.PRODUCTION and os.environ.get("LEDGER_WITNESSES") is None


def prepare() -> str | None:
    """Make the demo witness's key, follow the site's log, write DATA_DIR/demo-witnesses.

    Returns the witness's LEDGER_WITNESSES line, or None when the operator
    configured witnesses (or this is production).
    """
    if not wanted():
        return None
    data = data_dir()
    log_key = signer().verifier_key()
    followed = witness.load_logs(data).get(signer().name) if data.exists() else None
    if followed is not None and followed.vkey != log_key:
        # A new demo log (its key was made again): what the demo witness
        # cosigned was another log's, and only the demo's own witness is reset.
        shutil.rmtree(data)
    if (data / witness.KEY_FILE).exists():
        vkey = witness.load_signer(data).verifier_key()
    else:
        host = listen_address().rpartition(":")[0] or "127.0.0.1"
        vkey = witness.generate_key(data, f"{host}/undersigned-demo-witness", ALGORITHM)
    witness.add_log(data, witness.log_entry(log_key, contact="the demo's operator"))
    line = f"{NAME} {vkey} http://{listen_address()}/"
    witness.write_atomically(
        Path(settings.DEMO_WITNESSES_FILE),
        (
            "# Written by `undersigned demo`: the demo's witness, read when LEDGER_WITNESSES\n"
            "# is unset outside production. Delete it to run the demo without a witness.\n"
            f"{line}\n"
        ).encode(),
    )
    return line


def start() -> subprocess.Popen[bytes] | None:
    """Start the demo's witness if the demo prepared one; wait until it listens."""
    if not wanted() or not Path(settings.DEMO_WITNESSES_FILE).exists():
        return None
    if not (data_dir() / witness.KEY_FILE).exists():
        return None
    listen = listen_address()
    # Our own interpreter and fixed arguments.
    process = subprocess.Popen(  # noqa: S603  # nosec B603
        [
            sys.executable,
            "-m",
            "undersigned",
            "witness",
            "serve",
            "--data",
            str(data_dir()),
            "--listen",
            listen,
        ]
    )
    host, port = witness.parse_listen(listen)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return process
        except OSError:
            time.sleep(0.1)
    return process
