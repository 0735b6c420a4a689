import os
import signal
import subprocess
import sys
from argparse import ArgumentParser
from types import FrameType
from typing import Any

from django.conf import settings

from undersigned.core.management.base import ExamplesCommand
from undersigned.ledger import demo_witness


class Command(ExamplesCommand):
    help = """Serve the site with gunicorn (the production server), optionally with the worker.

examples:
  undersigned serve                          # 127.0.0.1:8000
  undersigned serve --bind 0.0.0.0:8000 --workers 4
  undersigned serve --with-worker            # also run `undersigned worker` (single box, demo)

With --with-worker outside production, the demo's witness (prepared by
`undersigned demo`, see DATA_DIR/demo-witnesses) is started too."""

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--bind", default="127.0.0.1:8000", help="address:port to listen on")
        # One process per core, and threads so that a process keeps working while
        # a request waits on the database: 2×4 served reads and writes best of the
        # shapes measured on 2 cores (bench/http_load.py --servers; docs/performance.md).
        parser.add_argument(
            "--workers",
            type=int,
            default=int(os.environ.get("WEB_WORKERS", 2)),
            help="gunicorn worker processes (default 2, or WEB_WORKERS)",
        )
        parser.add_argument(
            "--threads",
            type=int,
            default=int(os.environ.get("WEB_THREADS", 4)),
            help="threads per worker (default 4, or WEB_THREADS)",
        )
        parser.add_argument(
            "--with-worker",
            action="store_true",
            help="start the background worker beside the web server",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        children: list[subprocess.Popen[bytes]] = []
        if options["with_worker"]:
            # The demo's witness first (made by `undersigned demo`; never in
            # production), so the worker's first checkpoint finds it listening.
            witness = demo_witness.start()
            if witness is not None:
                children.append(witness)
                self.stdout.write(f"demo witness on http://{demo_witness.listen_address()}/")
            children.append(subprocess.Popen([sys.executable, "-m", "undersigned", "worker"]))  # nosec B603
        # Our own interpreter and fixed arguments: nothing here comes from a request.
        server = subprocess.Popen(  # noqa: S603  # nosec B603
            [
                sys.executable,
                "-m",
                "gunicorn",
                "undersigned.wsgi:application",
                "--bind",
                options["bind"],
                "--workers",
                str(options["workers"]),
                "--threads",
                str(options["threads"]),
                "--graceful-timeout",
                "10",
                # Each response closes its connection, so every request is
                # accepted by whichever worker is free: kept-alive connections
                # stay with the worker that took them, and a few busy ones (a
                # proxy's pool, a load test) left one worker idle while the
                # other queued (docs/performance.md, I).
                "--keep-alive",
                "0",
                # No access log: confirmation and withdrawal URLs carry one-time tokens.
            ]
        )
        children.append(server)

        def stop(signum: int, frame: FrameType | None) -> None:
            for child in children:
                if child.poll() is None:
                    child.send_signal(signal.SIGTERM)

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        self.stdout.write(f"serving {settings.SITE_URL} (gunicorn on {options['bind']})")
        code = server.wait()
        stop(signal.SIGTERM, None)
        for child in children:
            child.wait(timeout=15)
        if code not in (0, -signal.SIGTERM, -signal.SIGINT):
            sys.exit(code)
