#!/usr/bin/env python
"""The issue's reference figures, reproduced on this machine: run by hand.

Issue 5 quotes a bare Django view inserting one row at 1,800–2,500 req/s and
a trivial view at 7,500–17,500 req/s on "this 2-core machine". This serves
the barest Django there is (bench/bare/app.py: no middleware, no apps, no
CSRF) with gunicorn in a few shapes on PostgreSQL, drives it with wrk from
a second process exactly as http_load.py drives the product, and prints
req/s and p99, so the product's own reference views (the same two views
behind its whole middleware stack) can be read against what Django itself
does on the same machine at the same time.

    .venv/bin/python bench/bare_django.py
    .venv/bin/python bench/bare_django.py --shapes sync:2,gthread:2x4 --seconds 10

Writes bench/results/bare-django.md. Needs `apt-get install wrk`.
"""

# ruff: noqa: S603 - our own commands on 127.0.0.1, no outside input

from __future__ import annotations

import argparse
import os
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness
from harness import BENCH, PG_PREFIX, PG_SERVER, RESULTS, ROOT, say, wrk

DATABASE = f"{PG_PREFIX}_bare"


def serve(shape: str, port: int) -> subprocess.Popen[bytes]:
    kind, _, size = shape.partition(":")
    workers, _, threads = size.partition("x")
    command = [
        str(ROOT / ".venv" / "bin" / "gunicorn"),
        "app:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        workers,
        "--worker-class",
        kind,
        "--log-level",
        "warning",
    ]
    if threads:
        command += ["--threads", threads]
    env = {
        **os.environ,
        "PYTHONPATH": str(BENCH / "bare"),
        "BARE_DATABASE": DATABASE,
        "BARE_SECRET_KEY": secrets.token_urlsafe(48),
    }
    process = subprocess.Popen(command, env=env, start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/bench/trivial", timeout=2):
                return process
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"gunicorn {shape} did not start")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--shapes", default="sync:2,gthread:2x4,sync:4")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    harness.create_pg_database(DATABASE)
    harness.psql(
        "CREATE TABLE bench_insert "
        "(id BIGSERIAL PRIMARY KEY, created TIMESTAMPTZ NOT NULL, body TEXT NOT NULL)",
        DATABASE,
    )
    # insert.lua sends the product's CSRF cookie and field; the bare app ignores them.
    lua_env = {"BENCH_CSRF_COOKIE": "unused", "BENCH_CSRF_TOKEN": "unused", "BENCH_RUN": "b"}
    rows = []
    try:
        for shape in args.shapes.split(","):
            port = harness.free_port()
            process = serve(shape, port)
            base = f"http://127.0.0.1:{port}"
            try:
                wrk("warm", base + "/bench/trivial", "get.lua", seconds=1, connections=4)
                say(f"bare Django, gunicorn {shape}")
                trivial = wrk(
                    "trivial",
                    base + "/bench/trivial",
                    "get.lua",
                    seconds=args.seconds,
                    connections=args.connections,
                )
                insert = wrk(
                    "insert",
                    base + "/bench/insert",
                    "insert.lua",
                    seconds=args.seconds,
                    connections=args.connections,
                    lua_env=lua_env,
                )
            finally:
                process.terminate()
                process.wait(timeout=30)
            rows.append(
                [
                    f"gunicorn {shape}",
                    f"{trivial.rps:,.0f} ({trivial.p99_ms:.0f} ms)",
                    f"{insert.rps:,.0f} ({insert.p99_ms:.0f} ms)",
                    str(trivial.errors + insert.errors),
                ]
            )
    finally:
        harness.drop_pg_database(DATABASE)
    one, five, _ = os.getloadavg()
    text = (
        "# Bare Django on this machine (the issue's reference figures)\n\n"
        f"{time.strftime('%Y-%m-%d %H:%M')} · {harness.machine()} · PostgreSQL at {PG_SERVER} · "
        f"req/s (p99) with wrk {args.connections} connections, {args.seconds:g} s per run · "
        f"load average at the end {one:.1f}/{five:.1f}\n\n"
        "No middleware, no apps, no CSRF (bench/bare/app.py).\n\n"
        + harness.table(["server", "trivial view", "one-row insert", "errors"], rows)
        + "\n"
    )
    print(text)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "bare-django.md").write_text(text)


if __name__ == "__main__":
    main()
