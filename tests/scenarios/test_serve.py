"""`undersigned serve` (gunicorn) closes every connection after its response.

A kept-alive connection stays with the worker that accepted it, so a few busy
ones (a proxy's pool, a load test) could leave one worker idle while the
other queued their requests (docs/performance.md, I). With each connection
closed, every request is accepted by whichever worker is free.
"""

import http.client
from pathlib import Path

import pytest

from tests.conftest import free_port
from tests.scenarios.harness import Site

pytestmark = pytest.mark.slow


def test_every_response_closes_its_connection(tmp_path: Path) -> None:
    site = Site(root=tmp_path)
    site.install(slug="served")
    port = free_port()
    site.serve(port)
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        for path in ("/p/served/", "/api/petitions/served"):
            # HTTP/1.1 asks to keep the connection; the server says it closes it.
            connection.request("GET", path, headers={"Host": "127.0.0.1"})
            response = connection.getresponse()
            assert response.status == 200, site.log_tail()
            assert response.getheader("Connection", "").lower() == "close"
            response.read()
            assert response.will_close
            # http.client opens a new connection for the next request, as a browser would.
        connection.close()
    finally:
        site.stop_all()
