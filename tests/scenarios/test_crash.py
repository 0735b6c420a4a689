"""kill -9 of the server and the worker, again and again, under real signing load.

A load driver signs (unique addresses) and confirms (links read from a real
SMTP server) over HTTP against `undersigned serve` (gunicorn) and `undersigned
worker`, while the test SIGKILLs the server, the worker or both several times
and restarts them. Afterwards:

* every signature acknowledged to a browser (302 to "check your mail") is in
  the database exactly once, and every acknowledged confirmation counts;
* `undersigned reconcile` finds the tallies equal to the rows;
* every signature's confirmation mail went out at least once, and the
  duplicates are at most one per worker kill (the one message in flight);
* the public log recomputes to every checkpoint signed, through all the
  crashes (`undersigned check-log`), and counts what the rows count.
"""

import base64
import collections
import random
import time
from collections.abc import Callable

import pytest

from tests.conftest import free_port
from tests.ledger.doubles import MemoryHashStore
from tests.scenarios.harness import Load, Site, SmtpServer, get_json, kill, wait_for
from undersigned.tlog import entries as log_entries
from undersigned.tlog import merkle
from undersigned.tlog.note import Verifier, open_note

pytestmark = pytest.mark.slow

STATE = """
import base64, json
from undersigned.ledger.keys import signer
from undersigned.ledger.models import LogEntry, SignedCheckpoint
from undersigned.signing.models import Signature
print(json.dumps({
    "signatures": [[s.email_hash, s.state] for s in Signature.objects.all()],
    "entries": [
        base64.b64encode(bytes(d)).decode()
        for d in LogEntry.objects.filter(index__isnull=False)
        .order_by("index").values_list("data", flat=True)
    ],
    "unsequenced": LogEntry.objects.filter(index__isnull=True).count(),
    "checkpoints": [c.note for c in SignedCheckpoint.objects.order_by("size")],
    "key": signer().verifier_key(),
}))
"""

KILLS = ["server", "worker", "both", "server", "worker", "both"]


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_nothing_acknowledged_is_lost_when_processes_are_killed(
    engine: str, make_site: Callable[..., Site], smtp_server: SmtpServer
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    site = make_site(engine, "crash", smtp_port=smtp_server.port, site_url=base)
    # A mail leased by a killed worker is retried after this long (default 5 minutes).
    site.extra["OUTBOX_LEASE_SECONDS"] = "6"
    site.install()
    server = site.serve(port)
    worker = site.worker()
    load = Load(base, smtp_server, signers=4)
    rng = random.Random(6)
    worker_kills = 0
    acked_between: list[int] = []
    load.start()
    try:
        wait_for(lambda: len(load.signed) >= 10, 60, "the first signatures", site)
        for target in KILLS:
            time.sleep(rng.uniform(1.0, 2.5))
            before = len(load.signed)
            if target in ("server", "both"):
                kill(server)
            if target in ("worker", "both"):
                kill(worker)
                worker_kills += 1
            time.sleep(rng.uniform(0.2, 0.8))
            if target in ("server", "both"):
                server = site.serve(port)
            if target in ("worker", "both"):
                worker = site.worker()
            # Each restart serves again without anyone's help.
            wait_for(lambda b=before: len(load.signed) > b, 60, f"signing after {target}", site)
            acked_between.append(len(load.signed) - before)
        wait_for(lambda: len(load.confirmed) >= 10, 60, "confirmations", site)
    finally:
        load.stop()

    # The worker catches up: all mail sent, all log events sequenced and signed.
    def settled() -> bool:
        status, body = get_json(f"{base}/readyz")
        checks = body["checks"] if isinstance(body, dict) else {}
        return bool(
            status == 200
            and checks["mail"]["unsent"] == 0
            and checks["log"]["unsequenced"] == 0
            and checks["log"]["oldest_unsigned_age_seconds"] is None
        )

    wait_for(settled, 90, "the worker draining mail and the log", site)
    site.stop_all()
    state = site.python(STATE)

    # Every acknowledged signature is there exactly once; every acknowledged
    # confirmation counts.
    # Rows by keyed hash: a decided signature's address is sealed away.
    digest = site.email_digest
    rows = collections.Counter(h for h, _ in state["signatures"])
    assert len(load.signed) > 50, "too little load to mean anything"
    missing = [email for email in load.signed if rows[digest(email)] != 1]
    assert not missing, f"acknowledged but not stored exactly once: {missing[:5]}"
    states = dict(state["signatures"])
    unverified = [e for e in load.confirmed if states.get(digest(e)) != "verified"]
    assert not unverified, f"confirmation acknowledged but not counted: {unverified[:5]}"
    # Nothing that was never attempted appeared.
    attempted = {digest(email): email for email in load.attempted}
    assert set(rows) <= set(attempted)

    # Tallies equal the rows.
    assert "tallies match the rows" in site.manage("reconcile")

    # Every signature's confirmation was mailed; duplicates only from kills mid-send.
    mailed = collections.Counter(address for address, _ in smtp_server.confirm_paths())
    never = [attempted[h] for h in rows if mailed[attempted[h]] == 0]
    assert not never, f"confirmation never mailed to {len(never)}: {never[:5]}"
    duplicates = sum(n - 1 for n in mailed.values())
    assert duplicates <= worker_kills, (duplicates, worker_kills)

    # The log: every checkpoint signed through the crashes is a prefix of one
    # append-only tree recomputed from the entries, and it counts the rows.
    assert state["unsequenced"] == 0
    data = [base64.b64decode(e) for e in state["entries"]]
    store = MemoryHashStore()
    for item in data:
        store.append(item)
    verifier = Verifier.from_key(state["key"])
    assert state["checkpoints"], "no checkpoint was signed"
    sizes = []
    for note in state["checkpoints"]:
        text, _ = open_note(note, [verifier])
        checkpoint = merkle.Checkpoint.parse(text)
        assert store.root(checkpoint.size) == checkpoint.root_hash, checkpoint.size
        sizes.append(checkpoint.size)
    assert sizes[-1] == len(data), "the last checkpoint covers the whole log"
    counted = log_entries.count(enumerate(data))["crash"].verified
    assert counted == sum(1 for s in states.values() if s == "verified")
    assert "consistent with" in site.manage("check-log")
