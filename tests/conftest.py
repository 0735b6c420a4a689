"""Fixtures shared by the suite: a real SMTP server on loopback, users, petitions."""

import re
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from django.contrib.auth.models import User
from django.test import Client

from undersigned.core import custody
from undersigned.ops.management.commands.worker import run_once
from undersigned.petitions import services as petitions
from undersigned.petitions.models import Petition, TextVersion
from undersigned.registers.models import Register
from undersigned.registers.services import import_register

LINK = re.compile(r"https?://\S+/(confirm|withdraw)/([A-Za-z0-9_-]+)/")


@dataclass
class Inbox:
    """What a real SMTP server on loopback received."""

    messages: list[Message] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            message = message_from_bytes(envelope.original_content or envelope.content)
            message["X-Envelope-To"] = ",".join(envelope.rcpt_tos)
            self.messages.append(message)
        return "250 OK"

    def to(self, address: str) -> list[Message]:
        with self.lock:
            return [m for m in self.messages if address in m["X-Envelope-To"]]

    def last_to(self, address: str) -> Message:
        found = self.to(address)
        assert found, f"no mail to {address}; got {[m['X-Envelope-To'] for m in self.messages]}"
        return found[-1]


def body_of(message: Message) -> str:
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode(message.get_content_charset() or "utf-8")


def link_in(message: Message, kind: str) -> str:
    """The path of the confirm/withdraw link in a mail, e.g. /confirm/abc/."""
    for match in LINK.finditer(body_of(message)):
        if match.group(1) == kind:
            return f"/{kind}/{match.group(2)}/"
    raise AssertionError(f"no {kind} link in mail: {body_of(message)!r}")


@pytest.fixture(autouse=True)
def empty_cache(request: pytest.FixtureRequest) -> Iterator[None]:
    """Rate-limit counters live in the caches; each test starts with none."""
    from django.core.cache import caches

    # Without a database the shared cache (a table there) cannot be touched.
    uses_db = request.node.get_closest_marker("django_db") is not None or any(
        name in request.fixturenames for name in ("db", "transactional_db", "live_server")
    )
    names = ("default", "shared") if uses_db else ("default",)
    for name in names:
        caches[name].clear()
    yield
    caches["default"].clear()
    # The shared cache is a table, rolled back with the test's transaction; a
    # test may also leave the connection patched to fail until its teardown.


@pytest.fixture(autouse=True)
def uncached_counts(settings: Any) -> Iterator[None]:
    """Public pages read counts up to COUNT_CACHE_SECONDS old (petitions.services.FreshCache).

    Tests that look at a page right after a change want the change; the cache
    itself is tested in tests/petitions/test_count_cache.py with it turned on.
    """
    from undersigned.petitions.services import forget_cached_counts

    settings.COUNT_CACHE_SECONDS = 0
    forget_cached_counts()
    yield
    forget_cached_counts()


@pytest.fixture(autouse=True)
def default_language() -> Iterator[None]:
    """Each test starts in the default language (English).

    LocaleMiddleware activates a request's language in the thread and leaves it
    there; after a test that asked for a Russian page, code called directly (a
    service, the CSV import) would otherwise answer the next test in Russian.
    """
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def fast_passwords(settings: Any) -> None:
    """A deliberately slow hasher costs ~1 s per user; the tests do not test it."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def ledger_state(settings: Any, tmp_path: Any) -> Any:
    """Each test's log starts empty, so the last-signed checkpoint is remembered per test."""
    settings.LEDGER_STATE_FILE = tmp_path / "ledger-state.json"
    return settings.LEDGER_STATE_FILE


@pytest.fixture(autouse=True)
def no_witnesses(settings: Any, tmp_path: Any) -> None:
    """No witness is asked to cosign unless a test configures one (tests/ledger/test_witnessing.py).

    A developer's `make demo` leaves its witness in var/demo-witnesses, which
    settings read outside production; the tests' checkpoints are not for it,
    and a test that runs `undersigned demo` makes its witness in its own directory.
    """
    settings.LEDGER_WITNESSES = ()
    settings.LEDGER_WITNESS_QUORUM = 0
    settings.DEMO_WITNESSES_FILE = tmp_path / "demo-witnesses"
    settings.DEMO_WITNESS_DIR = tmp_path / "demo-witness"


# One custody key for the whole run: the site's, as an operator would set it.
# The private half is the moderators'; tests that play a moderator open with it.
CUSTODY_IDENTITY, CUSTODY_RECIPIENT = custody.new_identity()


@pytest.fixture(autouse=True)
def site_custody_key(settings: Any) -> str:
    """The site's custody key is set (the recipient); returns the private half."""
    settings.CUSTODY_RECIPIENT = CUSTODY_RECIPIENT
    return CUSTODY_IDENTITY


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp(settings: Any) -> Iterator[Inbox]:
    """A real SMTP server on 127.0.0.1; the mail settings point at it."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_TIMEOUT = 5
    try:
        yield inbox
    finally:
        controller.stop()


@pytest.fixture
def deliver(smtp: Inbox) -> Any:
    """Run the worker once, as the background process would, so queued mail goes out."""

    def run() -> Inbox:
        run_once()
        return smtp

    return run


def confirm_now(signature: Any) -> Any:
    """What the signer's click on the mailed link does, without the mail."""
    from undersigned.signing import services as signing
    from undersigned.signing.tokens import new_token

    raw, signature.confirm_token_hash = new_token()
    signature.save(update_fields=["confirm_token_hash"])
    return signing.confirm(raw)


def second_factor_login(client: Client, user: User) -> Client:
    """Log a user in with a confirmed TOTP device, as the 2FA pages would."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="test", confirmed=True)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def trust_to_publish(user: User) -> User:
    """Let a user publish without moderation (PUBLISHING=reviewed, the default)."""
    from django.contrib.auth.models import Permission

    user.user_permissions.add(
        Permission.objects.get(content_type__app_label="petitions", codename="publish_directly")
    )
    return User.objects.get(pk=user.pk)  # a fresh object: permissions are cached per instance


@pytest.fixture
def organiser(db: None) -> User:
    """An organiser whose address is confirmed (tests/accounts covers the unconfirmed), and
    whom the site trusts to publish without moderation (tests of submissions make their own)."""
    from undersigned.accounts.services import mark_confirmed

    user = User.objects.create_user("org", "org@example.org", "correct horse battery")
    mark_confirmed(user)
    return trust_to_publish(user)


@pytest.fixture
def organiser_client(organiser: User) -> Client:
    """Logged in past the second factor, as every organiser page requires."""
    return second_factor_login(Client(), organiser)


def make_petition(
    organiser: User,
    *,
    slug: str = "clean-air",
    title: str = "Clean air for Kolpino",
    body: str = "We ask for clean air.",
    register: Register | None = None,
    publish: bool = True,
    **fields: Any,
) -> Petition:
    petition = Petition.objects.create(
        slug=slug,
        organiser=organiser,
        organiser_name="Friends of Kolpino",
        audience=Petition.Audience.REGISTER if register else Petition.Audience.ANYONE,
        kind=Petition.Kind.LETTER if register else Petition.Kind.PETITION,
        register=register,
        **fields,
    )
    TextVersion.objects.create(petition=petition, number=1, title=title, body=body)
    if publish:
        petitions.publish(petition, organiser)
        petition.refresh_from_db()
    return petition


@pytest.fixture
def petition(organiser: User) -> Petition:
    return make_petition(organiser)


REGISTER_CSV = """full_name,role,municipality,region,email
Kseniya Lindstrem,municipal deputy,Semyonovsky,St Petersburg,lindstrem@council.example.org
Dmitry Palyuga,municipal deputy,Smolninskoye,St Petersburg,
Anna Belova,municipal deputy,Kolpino,St Petersburg,belova@council.example.org
Gleb Zorin,municipal deputy,Samara,Samara Oblast,
Vera Orlova,municipal deputy,Yakutsk,Sakha (Yakutia),
"""


@pytest.fixture
def register(db: None) -> Register:
    result = import_register("Deputies", REGISTER_CSV.encode())
    assert result.ok, result.errors
    assert result.register is not None
    return result.register


@pytest.fixture
def letter(organiser: User, register: Register) -> Petition:
    return make_petition(
        organiser, slug="deputies-letter", title="Letter of deputies", register=register
    )


def seed_standards() -> None:
    """The published standards the migration seeds a new site with, again: a test on a
    transactional database (browser, scenario) starts from tables the previous one
    flushed, migration data included. Does nothing when they are there."""
    import importlib

    from django.apps import apps

    importlib.import_module("undersigned.petitions.migrations.0010_seed_standards").seed(
        apps, None
    )
