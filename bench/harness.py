"""What the benchmark scripts share: databases, the server, wrk, and tables.

This module never imports Django: the driver stays a separate process from
the server it measures. Work that needs the app runs in `bench/tasks.py`,
started as a subprocess with the same environment as the server.
"""

# ruff: noqa: S310, S603, S607 - our own commands and URLs on 127.0.0.1, no outside input

from __future__ import annotations

import base64
import contextlib
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
PYTHON = str(ROOT / ".venv" / "bin" / "python")
UNDERSIGNED = str(ROOT / ".venv" / "bin" / "undersigned")
PG_SERVER = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
# Our own databases only, never the test suite's `test`/`test_test`.
PG_PREFIX = "undersigned_bench5"


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ------------------------------------------------------------------ databases


def psql(sql: str, database: str = "postgres") -> str:
    result = subprocess.run(
        ["psql", f"{PG_SERVER}/{database}", "-v", "ON_ERROR_STOP=1", "-Atqc", sql],
        check=True,
        capture_output=True,
        text=True,
    )
    return result.stdout.strip()


def create_pg_database(name: str) -> str:
    assert name.startswith(PG_PREFIX), name
    psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    psql(f'CREATE DATABASE "{name}"')
    return f"{PG_SERVER}/{name}"


def drop_pg_database(name: str) -> None:
    assert name.startswith(PG_PREFIX), name
    psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class Site:
    """One installation: a data directory, a database, and production secrets."""

    db: str  # "sqlite" or "postgresql"
    name: str
    data_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="bench5-")))
    database_url: str = ""
    env: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.db == "postgresql":
            self.pg_name = f"{PG_PREFIX}_{self.name}"
            self.database_url = create_pg_database(self.pg_name)
        self.env = production_env(self.data_dir, self.database_url)
        # Kept beside the data, so a site can be reopened (its keys seal the data).
        (self.data_dir / "env.json").write_text(json.dumps(self.env))

    @classmethod
    def reopen(cls, db: str, name: str, data_dir: Path) -> Site:
        """A site left by an earlier run (e.g. a loaded 10^7), with its own keys."""
        site = cls.__new__(cls)
        site.db, site.name, site.data_dir = db, name, data_dir
        site.env = json.loads((data_dir / "env.json").read_text())
        site.database_url = site.env.get("DATABASE_URL", "")
        if db == "postgresql":
            site.pg_name = f"{PG_PREFIX}_{name}"
        return site

    def run(self, *args: str, timeout: float = 3600) -> str:
        """A command of the app in this site's environment; returns its stdout."""
        result = subprocess.run(
            list(args), env=self.env, capture_output=True, text=True, timeout=timeout, cwd=ROOT
        )
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed:\n{result.stderr[-3000:]}")
        return result.stdout

    def task(self, *args: str, timeout: float = 3600) -> Any:
        """Run bench/tasks.py here; its last stdout line is JSON."""
        out = self.run(PYTHON, str(BENCH / "tasks.py"), *args, timeout=timeout)
        return json.loads(out.strip().splitlines()[-1])

    def install(self) -> None:
        self.run(UNDERSIGNED, "migrate", "--verbosity", "0")
        # The database cache table of the "shared" cache (rate limits), if migrate did not.
        self.run(UNDERSIGNED, "createcachetable")
        self.run(UNDERSIGNED, "collectstatic", "--noinput", "--verbosity", "0")

    def db_size(self) -> str:
        if self.db == "postgresql":
            return psql(f"SELECT pg_size_pretty(pg_database_size('{self.pg_name}'))")
        total = sum(p.stat().st_size for p in self.data_dir.glob("undersigned.sqlite3*"))
        return f"{total / 2**20:.0f} MB"

    def close(self) -> None:
        if self.db == "postgresql":
            # The server may be restarting (other work on this machine): try a few times.
            for attempt in range(10):
                try:
                    drop_pg_database(self.pg_name)
                    break
                except subprocess.CalledProcessError:
                    if attempt == 9:
                        say(f"could not drop {self.pg_name}; drop it by hand")
                    time.sleep(3)
        shutil.rmtree(self.data_dir, ignore_errors=True)


def production_env(data_dir: Path, database_url: str) -> dict[str, str]:
    """The production configuration (UNDERSIGNED_PRODUCTION=1) with fresh secrets.

    Only the HTTPS redirect is off, because the load generator speaks plain
    HTTP to 127.0.0.1 the way a TLS-terminating proxy in front would.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    env.update(
        PYTHONPATH=str(BENCH),
        DJANGO_SETTINGS_MODULE="benchsite.settings",
        UNDERSIGNED_PRODUCTION="1",
        UNDERSIGNED_DATA_DIR=str(data_dir),
        SECRET_KEY=secrets.token_urlsafe(48),
        UNDERSIGNED_HASH_KEY=secrets.token_urlsafe(48),
        UNDERSIGNED_DATA_KEYS=base64.b64encode(secrets.token_bytes(32)).decode(),
        SECURE_SSL_REDIRECT="0",
        SITE_URL="http://127.0.0.1:8000",
        ALLOWED_HOSTS="127.0.0.1,localhost,testserver",
        LOG_LEVEL="WARNING",
        # One TLS proxy in front, as in production: the client address is the
        # last X-Forwarded-For hop, so the load can speak for many clients.
        TRUSTED_PROXY_COUNT="1",
    )
    if database_url:
        env["DATABASE_URL"] = database_url
    key_file = data_dir / "ledger.key"
    if not key_file.exists():
        subprocess.run(
            [UNDERSIGNED, "keygen", "--name", "bench.invalid/undersigned", "--out", str(key_file)],
            env={**env, "LEDGER_SIGNER_KEY": "unused"},
            check=True,
            capture_output=True,
        )
    env["LEDGER_SIGNER_KEY_FILE"] = str(key_file)
    return env


# ------------------------------------------------------------------ the server


@dataclass
class Server:
    site: Site
    workers: int = 2
    threads: int = 4
    server: str = "gunicorn"
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def label(self) -> str:
        return f"{self.server} {self.workers}w×{self.threads}t"

    def start(self) -> None:
        env = {**self.site.env, "SITE_URL": self.base}
        if self.server == "gunicorn":
            command = [
                UNDERSIGNED,
                "serve",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(self.workers),
                "--threads",
                str(self.threads),
            ]
        else:  # granian, for comparison only
            command = [
                str(ROOT / ".venv" / "bin" / "granian"),
                "--interface",
                "wsgi",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--workers",
                str(self.workers),
                "--blocking-threads",
                str(self.threads),
                "--no-access-log",
                "undersigned.wsgi:application",
            ]
        log = open(self.site.data_dir / "server.log", "ab")
        # A session of its own, so the whole tree (serve → gunicorn → workers)
        # can be stopped by this one id.
        self.process = subprocess.Popen(
            command, env=env, cwd=ROOT, stdout=log, stderr=log, start_new_session=True
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.base + "/bench/trivial", timeout=2) as r:
                    if r.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"server did not start; see {self.site.data_dir / 'server.log'}")

    def pids(self) -> list[int]:
        """The server's processes (the master and its workers), for py-spy."""
        assert self.process is not None
        out = subprocess.run(
            ["pgrep", "-g", str(self.process.pid)], capture_output=True, text=True
        ).stdout
        return [int(p) for p in out.split()]

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def __enter__(self) -> Server:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def csrf_pair(base: str, path: str) -> tuple[str, str]:
    """A real CSRF cookie and form token, as a browser gets them from the page."""
    with urllib.request.urlopen(base + path, timeout=10) as response:
        html = response.read().decode()
        cookie = SimpleCookie()
        for header in response.headers.get_all("Set-Cookie") or []:
            cookie.load(header)
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    if match is None or "csrftoken" not in cookie:
        raise RuntimeError(f"no CSRF token on {path}")
    return cookie["csrftoken"].value, match.group(1)


# ------------------------------------------------------------------ wrk


@dataclass
class Load:
    name: str
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int
    error_detail: str
    seconds: float


def wrk(
    name: str,
    url: str,
    script: str,
    *,
    seconds: float,
    connections: int = 32,
    threads: int = 2,
    lua_env: dict[str, str] | None = None,
) -> Load:
    """One bounded wrk run; the Lua script prints a JSON summary from done()."""
    source = (BENCH / "lua" / "common.lua").read_text() + (BENCH / "lua" / script).read_text()
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(source)
    try:
        result = subprocess.run(
            [
                "wrk",
                f"-t{threads}",
                f"-c{connections}",
                f"-d{max(1, round(seconds))}s",
                "--timeout",
                "10s",
                "-s",
                f.name,
                url,
            ],
            env={**os.environ, **(lua_env or {}), "BENCH_THREADS": str(threads)},
            capture_output=True,
            text=True,
            timeout=seconds + 60,
        )
    finally:
        os.unlink(f.name)
    lines = [ln for ln in result.stdout.splitlines() if ln.startswith("{")]
    if result.returncode != 0 or not lines:
        raise RuntimeError(f"wrk failed: {result.stdout}\n{result.stderr}")
    s = json.loads(lines[-1])
    errors = s["connect"] + s["read"] + s["write"] + s["status"] + s["timeout"]
    detail = ", ".join(
        [f"{k} {s[k]}" for k in ("connect", "read", "write", "timeout") if s[k]]
        + [f"HTTP {code}: {n}" for code, n in sorted(s["statuses"].items()) if int(code) >= 400]
    )
    return Load(
        name=name,
        rps=s["requests"] / (s["duration_us"] / 1e6),
        p50_ms=s["p50_us"] / 1000,
        p99_ms=s["p99_us"] / 1000,
        requests=s["requests"],
        errors=errors,
        error_detail=detail,
        seconds=s["duration_us"] / 1e6,
    )


# ------------------------------------------------------------------ reporting


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}"


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)
