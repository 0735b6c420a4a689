"""A count a reader has seen never steps back, whichever process answers next.

Two `undersigned serve` instances (two servers behind a load balancer, two
gunicorn workers each: four processes with their own cached copies) share one
database, on SQLite and on PostgreSQL. Another process confirms signatures
while a reader alternates between the servers, reading the count JSON and
the petition page, each request on a new connection (so any worker may
answer), while four other readers keep every process busy. No signature is
withdrawn, so every count it sees, and the log size each names, must be at
least the one before (issue 13, section 4).

It fails on the code before petitions.standing (a count of 1 then 0 within
the first second), and with the mark check taken out of standing._usable
(the busy readers make two processes read the tallies at the same moment).
"""

import http.client
import re
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable

import pytest

from tests.conftest import free_port
from tests.scenarios.harness import Site, SmtpServer, get_json, wait_for

pytestmark = pytest.mark.slow

SLUG = "rising"
SIGNATURES = 120
PAGE_COUNT = re.compile(r'data-count="verified">([^<]+)</strong>')

CONFIRMER = textwrap.dedent(
    """
    import json, sys, time
    from undersigned.petitions.models import Petition
    from undersigned.signing import services as signing
    from undersigned.signing.services import SignRequest
    from undersigned.signing.tokens import new_token

    petition = Petition.objects.get(slug={slug!r})
    for n in range({n}):
        signature = signing.sign(
            petition,
            SignRequest(
                full_name=f"Signer {{n}}", email=f"signer{{n}}@example.org", show_name=True
            ),
        )
        raw, signature.confirm_token_hash = new_token()
        signature.save(update_fields=["confirm_token_hash"])
        signing.confirm(raw)
        time.sleep(0.04)
    print(json.dumps({n}))
    """
)


def page_count(body: str) -> int:
    match = PAGE_COUNT.search(body)
    assert match, body[:2000]
    return int(re.sub(r"\D", "", match.group(1)))


def read(port: int, what: str) -> tuple[int, int | None, int | None]:
    """(verified count, log size, count at that log size) as one answer shows them."""
    if what == "json":
        status, data = get_json(f"http://127.0.0.1:{port}/api/petitions/{SLUG}", token="")
        assert status == 200, data
        return data["verified_count"], data.get("log_size"), data.get("log_verified_count")
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", f"/p/{SLUG}/", headers={"Host": "127.0.0.1"})
        response = connection.getresponse()
        body = response.read().decode()
    finally:
        connection.close()
    assert response.status == 200, body[:2000]
    return page_count(body), None, None


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_counts_never_step_back_across_processes_and_servers(
    engine: str, make_site: Callable[..., Site], smtp_server: SmtpServer
) -> None:
    site = make_site(engine, "never-back", smtp_port=smtp_server.port)
    site.install(slug=SLUG)
    ports = [free_port(), free_port()]
    for port in ports:
        site.serve(port, workers=2)
    site.worker()
    confirmer = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "undersigned",
            "shell",
            "--no-imports",
            "-c",
            CONFIRMER.format(slug=SLUG, n=SIGNATURES),
        ],
        env=site.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # Other readers keep every process busy, so that copies are refreshed at
    # the same moments in different processes, as under a surge.
    stop = threading.Event()

    def background(offset: int) -> None:
        n = offset
        while not stop.is_set():
            try:
                read(ports[n % 2], "json")
            except (OSError, AssertionError):
                pass
            n += 1

    crowd = [threading.Thread(target=background, args=(i,), daemon=True) for i in range(4)]
    for thread in crowd:
        thread.start()
    seen: list[tuple[str, int, int, int | None, int | None]] = []
    best = {"count": 0, "log_size": 0, "log_count": 0}
    steps_back: list[str] = []
    turn = 0
    try:
        while confirmer.poll() is None or turn % 8:
            port = ports[turn % 2]
            what = "page" if turn % 4 == 3 else "json"
            turn += 1
            count, log_size, log_count = read(port, what)
            seen.append((what, port, count, log_size, log_count))
            for name, value in (("count", count), ("log_size", log_size), ("log_count", log_count)):
                if value is None:
                    continue
                if value < best[name]:
                    steps_back.append(
                        f"{name} {best[name]} then {value} ({what} from port {port}, read {turn})"
                    )
                best[name] = max(best[name], value)
        _, err = confirmer.communicate(timeout=60)
        assert confirmer.returncode == 0, err[-3000:]
    finally:
        stop.set()
        for thread in crowd:
            thread.join(15)
        if confirmer.poll() is None:
            confirmer.kill()
    assert turn > 100, f"only {turn} reads: the test did not race anything"
    # The reader saw the count move while it read: the copies were being replaced.
    assert len({count for _, _, count, _, _ in seen}) > 10, seen[-20:]
    assert not steps_back, "\n".join(steps_back[:20]) + "\n" + site.log_tail()

    # Once the worker has signed a checkpoint with every verification, the
    # count and the count at the log size the answer names are one number.
    def settled() -> bool:
        count, log_size, log_count = read(ports[0], "json")
        return count == log_count == SIGNATURES and (log_size or 0) > SIGNATURES

    wait_for(settled, 30, "the count JSON to name a checkpoint holding every signature", site)
    status, data = get_json(f"http://127.0.0.1:{ports[1]}/api/petitions/{SLUG}", token="")
    assert status == 200 and data["checkpoint_time"], data
