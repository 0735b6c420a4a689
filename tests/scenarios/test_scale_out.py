"""Two app servers behind Debian's nginx, sharing PostgreSQL and Redis; one is killed.

Everything runs from the files in deploy/: nginx runs deploy/nginx/undersigned.conf
(placeholders filled in, TLS with a certificate made here), each app server
is started with the ExecStart line of deploy/systemd/undersigned-web@.service
and the variables of deploy/systemd/env.example, in production mode. nginx is
a child process of the test with its own prefix, never the system service.
"""

import datetime
import json
import os
import re
import secrets
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.conftest import free_port
from tests.scenarios.harness import (
    READYZ_TOKEN,
    UNAVAILABLE,
    Load,
    Site,
    SmtpServer,
    Visitor,
    kill,
    need,
    stop,
    wait_for,
    wait_until_up,
)

pytestmark = pytest.mark.slow

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
REDIS_URL = os.environ.get("UNDERSIGNED_TEST_REDIS", "redis://127.0.0.1:6379/0")


def redis_available() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping())
    except Exception:
        return False


def env_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


def unit_command(unit: Path, instance: str) -> list[str]:
    """The unit's ExecStart, with %i filled in and our interpreter for the installed script."""
    match = re.search(r"^ExecStart=(.+)$", unit.read_text(), re.MULTILINE)
    assert match, f"no ExecStart in {unit}"
    argv = shlex.split(match.group(1).replace("%i", instance))
    assert argv[0].endswith("/bin/undersigned"), argv
    return [sys.executable, "-m", "undersigned", *argv[1:]]


def self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


class Nginx:
    def __init__(self, root: Path, site_conf: str) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        (root / "undersigned.conf").write_text(site_conf)
        # Only what a system nginx.conf gives the site file: the `http` block.
        temp = "\n".join(
            f"{kind}_temp_path {root / kind};"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        (root / "nginx.conf").write_text(
            f"""
daemon off;
user root;
worker_processes 1;
pid {root / "nginx.pid"};
error_log {root / "error.log"} warn;
events {{ worker_connections 256; }}
http {{
    include /etc/nginx/mime.types;
    {temp}
    include {root / "undersigned.conf"};
}}
"""
        )
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        config = str(self.root / "nginx.conf")
        test = subprocess.run(
            [NGINX, "-t", "-c", config, "-p", str(self.root)], capture_output=True, text=True
        )
        assert test.returncode == 0, test.stderr
        log = open(self.root / "stderr.log", "ab")
        self.process = subprocess.Popen(
            [NGINX, "-c", config, "-p", str(self.root)],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)


@pytest.fixture
def nginx_needed() -> None:
    need(os.path.exists(NGINX), "nginx is not installed (apt-get install nginx-light)")
    need(redis_available(), f"Redis is not reachable at {REDIS_URL}")


@pytest.fixture
def proxy(tmp_path: Path) -> Iterator[list[Nginx]]:
    started: list[Nginx] = []
    yield started
    for nginx in started:
        nginx.stop()


def test_two_app_servers_behind_nginx_lose_nothing_when_one_is_killed(
    nginx_needed: None,
    make_site: Callable[..., Site],
    smtp_server: SmtpServer,
    proxy: list[Nginx],
    tmp_path: Path,
) -> None:
    port_a, port_b, https_port, http_port = (free_port() for _ in range(4))
    public = f"https://127.0.0.1:{https_port}"
    site = make_site("postgresql", "scale", smtp_port=smtp_server.port, site_url=public)

    # Production settings from the example environment file, with our values.
    production = env_file(DEPLOY / "systemd" / "env.example")
    production.update(
        SITE_URL=public,
        ALLOWED_HOSTS="127.0.0.1",
        UNDERSIGNED_DATA_DIR=str(site.data_dir),
        SECRET_KEY=site.secret_key,
        UNDERSIGNED_HASH_KEY=site.hash_key,
        UNDERSIGNED_DATA_KEYS=site.data_keys,
        READYZ_TOKEN=READYZ_TOKEN,
        LEDGER_SIGNER_KEY_FILE=str(site.root / "log.key"),
        LEDGER_STATE_FILE=str(site.root / "ledger-state.json"),
        DATABASE_URL=site.database_url + "?connect_timeout=5",
        REDIS_URL=REDIS_URL,
        CACHE_KEY_PREFIX=f"scale-test-{secrets.token_hex(4)}",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(smtp_server.port),
        EMAIL_USE_TLS="0",
        EMAIL_HOST_USER="",
        EMAIL_HOST_PASSWORD="",
        OUTBOX_LEASE_SECONDS="6",
    )
    site.extra.update(production)
    site.data_dir.mkdir(parents=True)
    site.manage("keygen", "--out", str(site.root / "log.key"))
    site.install()
    site.manage("collectstatic", "--noinput", "--verbosity", "0")

    unit = DEPLOY / "systemd" / "undersigned-web@.service"

    def app_server(port: int) -> subprocess.Popen[bytes]:
        command = unit_command(unit, str(port))
        # The unit binds every interface; the test keeps to loopback.
        command[command.index("--bind") + 1] = f"127.0.0.1:{port}"
        log = open(site.root / f"app-{port}.log", "ab")
        process = subprocess.Popen(
            command, env=site.env(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        site.processes.append(process)
        wait_until_up(port, process)
        return process

    app_a, _app_b = app_server(port_a), app_server(port_b)
    site.worker()

    cert, key = self_signed(site.root)
    access_log = site.root / "access.log"
    servers = "\n    ".join(
        f"server 127.0.0.1:{port} max_fails=1 fail_timeout=5s;" for port in (port_a, port_b)
    )
    conf = (DEPLOY / "nginx" / "undersigned.conf").read_text()
    for placeholder, value in {
        "@APP_SERVERS@": servers,
        "@HTTP_LISTEN@": f"127.0.0.1:{http_port}",
        "@HTTPS_LISTEN@": f"127.0.0.1:{https_port}",
        "@SERVER_NAME@": "127.0.0.1",
        "@TLS_CERT@": str(cert),
        "@TLS_KEY@": str(key),
        "@STATIC_ROOT@": str(site.data_dir / "static"),
        "@ACCESS_LOG@": str(access_log),
    }.items():
        assert placeholder in conf, placeholder
        # In the directives only: the header comment names every placeholder.
        conf = "\n".join(
            line if line.lstrip().startswith("#") else line.replace(placeholder, value)
            for line in conf.splitlines()
        )
    assert "@" not in re.sub(r"#.*", "", conf), "a placeholder was left unfilled"
    nginx = Nginx(site.root / "nginx", conf)
    proxy.append(nginx)
    nginx.start()
    wait_for(lambda: _answers(public), 30, "nginx answering", site)

    # Plain HTTP is sent to HTTPS; static files come from nginx itself.
    plain = Visitor(f"http://127.0.0.1:{http_port}").request("GET", "/p/crash/")
    assert plain.status == 301 and plain.headers["location"].startswith("https://")
    page = Visitor(public).request("GET", "/p/crash/")
    assert page.status == 200
    stylesheet = re.search(r'href="(/static/[^"]+\.css)"', page.body)
    assert stylesheet, "the page links a stylesheet"
    css = Visitor(public).request("GET", stylesheet.group(1))
    assert css.status == 200 and "immutable" in css.headers["cache-control"]

    load = Load(public, smtp_server, signers=4)
    load.start()
    try:
        wait_for(lambda: len(load.signed) >= 40, 60, "signing through nginx", site)
        kill(app_a)  # one app server dies mid-load
        killed_at = len(load.signed)
        wait_for(lambda: len(load.signed) >= killed_at + 40, 60, "signing on the survivor", site)
        wait_for(lambda: len(load.confirmed) >= 10, 60, "confirmations", site)
        app_a = app_server(port_a)  # systemd's Restart=always
        seen = len(access_log.read_text().splitlines())
        # nginx tries it again after fail_timeout, and it takes signatures again.
        wait_for(
            lambda: port_a in signed_by(access_log.read_text().splitlines()[seen:]),
            60,
            "the restarted server signing again",
            site,
        )
    finally:
        load.stop()

    # Both app servers took signatures.
    assert signed_by(access_log.read_text().splitlines()) == {port_a, port_b}
    assert "/p/" not in access_log.read_text(), "the access log names no URL"

    # Nothing acknowledged was lost.
    wait_for(lambda: _settled(site, port_b), 60, "the worker draining", site)
    states = site.python(
        "import json; from undersigned.signing.models import Signature; "
        "print(json.dumps({s.email_hash: s.state for s in Signature.objects.all()}))"
    )
    assert all(site.email_digest(email) in states for email in load.signed)
    assert all(states[site.email_digest(email)] == "verified" for email in load.confirmed)
    verified = sum(1 for state in states.values() if state == "verified")
    assert "tallies match the rows" in site.manage("reconcile")

    # Both servers, asked directly, serve the same counts as the rows.
    for port in (port_a, port_b):
        direct = Visitor(f"http://127.0.0.1:{port}")
        # As nginx would send it: the request came in over HTTPS.
        response = direct.request(
            "GET", "/api/petitions/crash", headers={"X-Forwarded-Proto": "https"}
        )
        assert response.status == 200, response.body[:300]
        assert json.loads(response.body)["verified_count"] == verified


def signed_by(lines: list[str]) -> set[int]:
    """Ports of the app servers that answered a POST with 302 (nginx's private log format)."""
    found = set()
    for line in lines:
        # After a failed first try, $upstream_addr lists every server tried: the last answered.
        match = re.search(r" POST 302 upstream=(?:\S+, )*127\.0\.0\.1:(\d+) ", line)
        if match:
            found.add(int(match.group(1)))
    return found


def _answers(base: str) -> bool:
    try:
        return Visitor(base).request("GET", "/healthz").status == 200
    except UNAVAILABLE:
        return False


def _settled(site: Site, port: int) -> bool:
    response = Visitor(f"http://127.0.0.1:{port}").request("GET", "/readyz")
    return response.status == 200
