"""Real processes for scenario tests: `undersigned serve` and `worker`, a real SMTP
server, throwaway PostgreSQL databases, and a small HTTP client that signs like
a browser (cookies, CSRF token from the form, Referer).

Every site lives in its own temporary directory and, on PostgreSQL, in its own
database named undersigned_<purpose>_<random>, created and dropped by the
test: the shared test databases are never touched.
"""

import base64
import hashlib
import hmac
import http.client
import json
import os
import re
import secrets
import signal
import ssl
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from tests.conftest import Inbox, body_of, free_port

PG_ADMIN_URL = os.environ.get(
    "UNDERSIGNED_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres"
)
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
CONFIRM_LINK = re.compile(r"https?://[^/\s]+(/confirm/[A-Za-z0-9_-]+/)")


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def need(condition: bool, message: str) -> None:
    """Skip on a developer's machine without the service; fail in CI, where it must exist."""
    if not condition:
        if in_ci():
            pytest.fail(message)
        pytest.skip(message)


# ------------------------------------------------------------------ PostgreSQL


def postgres_available() -> bool:
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3):
            return True
    except Exception:
        return False


@contextmanager
def postgres_database(purpose: str) -> Iterator[str]:
    """A new empty database for one test; yields its URL and drops it afterwards."""
    import psycopg

    need(postgres_available(), f"PostgreSQL is not reachable at {PG_ADMIN_URL}")
    name = f"undersigned_{purpose}_{secrets.token_hex(4)}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        drop_postgres_database(name)


def drop_postgres_database(name: str) -> None:
    import psycopg

    for _ in range(30):  # the cluster may just be coming back up
        try:
            with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            return
        except Exception:
            time.sleep(1)


# ------------------------------------------------------------------ SMTP


class SmtpServer:
    """aiosmtpd on a fixed loopback port that can be stopped and started again."""

    def __init__(self) -> None:
        self.inbox = Inbox()
        self.port = free_port()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def confirm_paths(self) -> list[tuple[str, str]]:
        """(address, confirm path) of every confirmation mail received, in order."""
        found = []
        with self.inbox.lock:
            messages = list(self.inbox.messages)
        for message in messages:
            match = CONFIRM_LINK.search(body_of(message))
            if match:
                found.append((message["X-Envelope-To"], match.group(1)))
        return found


# ------------------------------------------------------------------ the site


# Every site these tests start gives its /readyz detail to holders of this token.
READYZ_TOKEN = secrets.token_urlsafe(32)


def new_data_key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


@dataclass
class Site:
    """One installation: its environment, and the processes started for it."""

    root: Path
    database_url: str = ""  # empty: SQLite in the data dir
    smtp_port: int = 0
    site_url: str = "http://127.0.0.1:8000"
    extra: dict[str, str] = field(default_factory=dict)
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(48))
    hash_key: str = field(default_factory=lambda: secrets.token_urlsafe(48))
    data_keys: str = field(default_factory=new_data_key)
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "UNDERSIGNED_"))}
        env.update(
            DJANGO_SETTINGS_MODULE="undersigned.settings",
            UNDERSIGNED_DATA_DIR=str(self.data_dir),
            DATABASE_URL=self.database_url,
            SECRET_KEY=self.secret_key,
            UNDERSIGNED_HASH_KEY=self.hash_key,
            UNDERSIGNED_DATA_KEYS=self.data_keys,
            SITE_URL=self.site_url,
            ALLOWED_HOSTS="127.0.0.1,localhost",
            EMAIL_HOST="127.0.0.1" if self.smtp_port else "",
            EMAIL_PORT=str(self.smtp_port or 25),
            EMAIL_TIMEOUT="5",
            LEDGER_STATE_FILE=str(self.root / "ledger-state.json"),
            REDIS_URL="",  # a developer's own Redis is not this site's
            LOG_LEVEL="WARNING",
            # The load comes from one address and one mail domain: no abuse limits here.
            RATE_LIMIT_CLIENT="0/60",
            RATE_LIMIT_DOMAIN="0/60",
            RATE_LIMIT_PETITION="0/60",
            # These tests are the site's monitoring: get_json reads /readyz's detail.
            READYZ_TOKEN=READYZ_TOKEN,
            PYTHONUNBUFFERED="1",
        )
        env.update(self.extra)
        return env

    def email_digest(self, address: str) -> str:
        """The keyed hash this site stores for an address (core.hashing, "email" purpose).

        Scenario tests name signatures by it: once decided, a signature's
        address is sealed away from the site (signing/custody.py).
        """
        from undersigned.registers.emails import normalise_email

        key = hmac.new(self.hash_key.encode(), b"email", hashlib.sha256).digest()
        return hmac.new(key, normalise_email(address).encode(), hashlib.sha256).hexdigest()

    def run(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        """`undersigned ARGS...` in this site's environment."""
        return subprocess.run(
            [sys.executable, "-m", "undersigned", *args],
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def manage(self, *args: str, timeout: float = 180) -> str:
        """Like run, but the command must succeed; returns its standard output."""
        done = self.run(*args, timeout=timeout)
        if done.returncode != 0:
            raise AssertionError(
                f"undersigned {' '.join(args[:2])} exited {done.returncode}:\n"
                f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
            )
        return done.stdout

    def python(self, code: str) -> Any:
        """Run code inside the site's Django; it prints one JSON value, returned here."""
        out = self.manage("shell", "--no-imports", "-c", code)
        return json.loads(out.strip().splitlines()[-1])

    def install(self, slug: str = "crash") -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.manage("migrate", "--verbosity", "0")
        self.manage("createcachetable")  # for a database cache, when there is no Redis
        self.python(
            f"""
import json
from django.contrib.auth.models import User
from undersigned.petitions import services
from undersigned.petitions.models import Petition, TextVersion
user = User.objects.create_user("organiser", "organiser@example.org", "correct horse battery")
petition = Petition.objects.create(slug={slug!r}, organiser=user, organiser_name="Organisers")
TextVersion.objects.create(petition=petition, number=1, title="Scenario", body="We ask.")
services.publish(petition, user)
print(json.dumps(petition.pk))
"""
        )

    def _spawn(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        log = open(self.root / f"{name}.log", "ab")
        process = subprocess.Popen(
            [sys.executable, "-m", "undersigned", *args],
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            # Its own process group: SIGKILL reaches gunicorn's master and workers at once.
            start_new_session=True,
        )
        log.close()
        self.processes.append(process)
        return process

    def serve(self, port: int, workers: int = 2, wait: bool = True) -> subprocess.Popen[bytes]:
        process = self._spawn(
            f"serve-{port}", "serve", "--bind", f"127.0.0.1:{port}", "--workers", str(workers)
        )
        if wait:
            wait_until_up(port, process)
        return process

    def worker(self) -> subprocess.Popen[bytes]:
        return self._spawn("worker", "worker", "--interval", "0.2")

    def stop_all(self) -> None:
        for process in self.processes:
            stop(process)
        self.processes.clear()

    def log_tail(self) -> str:
        parts = []
        for path in sorted(self.root.glob("*.log")):
            parts.append(f"--- {path.name}\n{path.read_text(errors='replace')[-2000:]}")
        return "\n".join(parts)


def wait_for(condition: Any, timeout: float, what: str, site: "Site | None" = None) -> None:
    """Poll until condition() is true; fail naming what did not happen (with the logs)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(
                f"{what}: not within {timeout} s\n{site.log_tail() if site else ''}"
            )
        time.sleep(0.2)


def kill(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL the process and everything it started."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait(timeout=30)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        kill(process)
    except ProcessLookupError:
        pass


def wait_until_up(port: int, process: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise AssertionError(f"the server on port {port} exited with {process.returncode}")
        try:
            if get_json(f"http://127.0.0.1:{port}/healthz")[0] == 200:
                return
        except UNAVAILABLE:
            pass
        time.sleep(0.1)
    raise AssertionError(f"nothing answered on port {port} within 60 s")


# ------------------------------------------------------------------ HTTP


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: str


class Visitor:
    """One browser: keeps its cookies, takes the CSRF token from each form, sends a Referer."""

    def __init__(self, base: str, timeout: float = 15) -> None:
        self.base = base.rstrip("/")
        parts = urllib.parse.urlsplit(self.base)
        self.https = parts.scheme == "https"
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or (443 if self.https else 80)
        self.timeout = timeout
        self.cookies: dict[str, str] = {}

    def request(
        self,
        method: str,
        path: str,
        form: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        if self.https:
            connection: http.client.HTTPConnection = http.client.HTTPSConnection(
                self.host,
                self.port,
                timeout=self.timeout,
                context=ssl._create_unverified_context(),  # noqa: S323 - a test certificate
            )
        else:
            connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        headers = {"Referer": self.base + path, **(headers or {})}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            connection.request(method, path, body=body, headers=headers)
            raw = connection.getresponse()
            content = raw.read().decode("utf-8", errors="replace")
            for cookie in raw.headers.get_all("Set-Cookie") or []:
                name, _, rest = cookie.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
            return Response(raw.status, {k.lower(): v for k, v in raw.getheaders()}, content)
        finally:
            connection.close()

    def submit(self, page: str, action: str, form: dict[str, str]) -> Response:
        """GET the page holding the form, then POST the form with its CSRF token."""
        shown = self.request("GET", page)
        match = CSRF_INPUT.search(shown.body)
        if shown.status != 200 or match is None:
            return shown
        return self.request("POST", action, {**form, "csrfmiddlewaretoken": match.group(1)})

    def sign(self, slug: str, name: str, email: str) -> bool:
        """True when the site acknowledged the signature (redirect to 'check your mail')."""
        response = self.submit(
            f"/p/{slug}/",
            f"/p/{slug}/sign/",
            {"full_name": name, "email": email, "visibility": "show"},
        )
        return response.status == 302 and response.headers.get("location", "").endswith(
            f"/p/{slug}/signed/"
        )

    def confirm(self, path: str) -> bool | None:
        """True: acknowledged; False: refused (e.g. the link was used); None: site unavailable."""
        response = self.submit(path, path, {})
        if response.status == 200 and "Your signature is verified" in response.body:
            return True
        return None if response.status >= 500 else False


def get_json(url: str, timeout: float = 5, token: str = READYZ_TOKEN) -> tuple[int, Any]:
    """GET as monitoring does: with the token that shows /readyz's detail (empty: as anyone)."""
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=timeout)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        connection.request(
            "GET", parts.path + (f"?{parts.query}" if parts.query else ""), headers=headers
        )
        raw = connection.getresponse()
        body = raw.read()
        try:
            return raw.status, json.loads(body)
        except ValueError:
            return raw.status, body.decode(errors="replace")
    finally:
        connection.close()


# ------------------------------------------------------------------ load

# What a client sees of a server that is down, restarting or killed mid-answer.
UNAVAILABLE = (OSError, http.client.HTTPException)


@dataclass
class Load:
    """Signing and confirming threads against one address; records what was acknowledged."""

    base: str
    smtp: SmtpServer
    slug: str = "crash"
    signers: int = 4
    signed: list[str] = field(default_factory=list)  # acknowledged
    attempted: list[str] = field(default_factory=list)
    confirmed: list[str] = field(default_factory=list)  # acknowledged
    errors: int = 0
    stopping: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    threads: list[threading.Thread] = field(default_factory=list)

    crashes: list[str] = field(default_factory=list)

    def start(self) -> None:
        for n in range(self.signers):
            self.threads.append(threading.Thread(target=self._guard, args=(self._sign, n)))
        self.threads.append(threading.Thread(target=self._guard, args=(self._confirm,)))
        for thread in self.threads:
            thread.daemon = True
            thread.start()

    def stop(self) -> None:
        """Stop the load; a driver thread that died of a bug fails the test here."""
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=60)
        assert not self.crashes, self.crashes

    def _guard(self, target: Any, *args: Any) -> None:
        try:
            target(*args)
        except BaseException as exc:
            self.crashes.append(repr(exc))
            raise

    def _sign(self, n: int) -> None:
        i = 0
        while not self.stopping.is_set():
            email = f"t{n}-{i}@example.org"
            i += 1
            with self.lock:
                self.attempted.append(email)
            try:
                ok = Visitor(self.base).sign(self.slug, f"Signer {n}-{i}", email)
            except UNAVAILABLE:
                ok = False
            with self.lock:
                if ok:
                    self.signed.append(email)
                else:
                    self.errors += 1
            if not ok:
                time.sleep(0.1)  # the server is down or restarting

    def _confirm(self) -> None:
        """Confirm every other signer, as mail arrives; retry a link while the site is down."""
        done: set[str] = set()
        while not self.stopping.is_set():
            for address, path in self.smtp.confirm_paths():
                if path in done or self.stopping.is_set():
                    continue
                if int(address.split("-")[1].split("@")[0]) % 2:
                    done.add(path)
                    continue
                try:
                    ok = Visitor(self.base).confirm(path)
                except UNAVAILABLE:
                    ok = None
                if ok is not None:
                    # A refusal is final too: the confirmation may have committed
                    # just before a kill took its answer (not acknowledged, so not counted).
                    done.add(path)
                if ok:
                    with self.lock:
                        self.confirmed.append(address)
            time.sleep(0.2)
