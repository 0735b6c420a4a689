"""The seizure drill: what a copy of the server (database, data directory and
environment) reveals about the people who signed, opened with the server's own keys.

A real site runs in real processes: visitors sign in public and hidden, a
register letter gets claims that verify by themselves, claims a moderator
approves or rejects, a claim left waiting, a withdrawal, founders. Then the
test plays whoever took the machine: it copies the data directory, reads every
table of the database, takes the keys from the environment and the data
directory, opens every sealed column with them, and looks for the people.

It must find no hidden signer's name and no decided signer's address, and no
row that ties a hidden signer to their register entry. What is still readable
by design (a claim awaiting review, a signature not yet confirmed, the address
of a signer who asked to be told about the response) is counted here and
listed, with its window, in docs/security.md.

Signers tick "Tell me about this petition's response and outcome" as a browser
sends it: the box is ticked by default on the public petition (so three of its
four signers leave it on; one unticks it) and not on the register letter (one
claimant ticks it). A response is published and mailed to them before the seizure.
"""

import base64
import binascii
import hashlib
import json
import re
import shutil
import sqlite3
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tests.conftest import body_of, free_port
from tests.scenarios.harness import Site, SmtpServer, Visitor, wait_for
from undersigned.core import custody

pytestmark = pytest.mark.slow

WITHDRAW_LINK = re.compile(r"https?://[^/\s]+(/withdraw/[A-Za-z0-9_-]+/)")
CONFIRM_LINK = re.compile(r"https?://[^/\s]+(/confirm/[A-Za-z0-9_-]+/)")

REGISTER_CSV = """full_name,role,municipality,region,email
Kseniya Lindstrem,municipal deputy,Semyonovsky,St Petersburg,lindstrem@council.example.org
Anna Vetrova,municipal deputy,Kolpino,St Petersburg,
Gleb Zorin,municipal deputy,Samara,Samara Oblast,zorin@council.example.org
Vera Orlova,municipal deputy,Yakutsk,Sakha (Yakutia),
Pavel Sedov,municipal deputy,Ozerki,St Petersburg,
Irina Lebedeva,municipal deputy,Kupchino,St Petersburg,
"""

# Who signs, and how. "hidden" signers chose "count me without showing my name".
PUBLIC_SIGNERS = [
    ("Shown Sofia Petrova", "sofia.petrova@mail.example.org", "show"),
    ("Hidden Boris Kuznetsov", "boris.kuznetsov@mail.example.org", "hide"),
    ("Hidden Marina Sokolova", "marina.sokolova@mail.example.org", "hide"),
    ("Shown Oleg Withdrawn", "oleg.withdrawn@mail.example.org", "show"),
]
# Who leaves "tell me about the response and outcome" ticked (on by default on
# the public petition, off on the register letter). Oleg withdraws afterwards.
WANT_UPDATES = {
    "sofia.petrova@mail.example.org",
    "boris.kuznetsov@mail.example.org",
    "oleg.withdrawn@mail.example.org",
    "zorin@council.example.org",
    "ulyana@mail.example.org",  # never confirms: nothing is kept for updates
}
# (name, address, visibility, municipality, what happens)
LETTER_CLAIMS = [
    ("Kseniya Lindstrem", "lindstrem@council.example.org", "hide", "Semyonovsky", "official"),
    ("Gleb Zorin", "zorin@council.example.org", "show", "Samara", "official"),
    ("Anna Vetrova", "anna.vetrova.home@mail.example.org", "hide", "Kolpino", "approve"),
    ("Vera Orlova", "v.orlova@mail.example.org", "hide", "Yakutsk", "reject"),
    ("Pavel Sedov", "p.sedov@mail.example.org", "hide", "Ozerki", "pending"),
]
FOUNDER = ("Irina Lebedeva", "irina.lebedeva@mail.example.org")
UNCONFIRMED = ("Hidden Unconfirmed Ulyana", "ulyana@mail.example.org")


def _link(smtp: SmtpServer, address: str, pattern: re.Pattern[str]) -> str:
    with smtp.inbox.lock:
        messages = [m for m in smtp.inbox.messages if address in m["X-Envelope-To"]]
    for message in reversed(messages):
        found = pattern.search(body_of(message))
        if found:
            return found.group(1)
    raise AssertionError(f"no such link mailed to {address}")


def _setup(site: Site) -> dict[str, int]:
    return dict(
        site.python(
            f"""
import json
from django.contrib.auth.models import User
from undersigned.petitions import services
from undersigned.petitions.models import Petition, TextVersion
from undersigned.registers.services import import_register
from undersigned.signing import services as signing
from undersigned.signing.services import SignRequest
organiser = User.objects.create_user("organiser", "organiser@example.org", "correct horse battery")
moderator = User.objects.create_user("moderator", "moderator@example.org", "correct horse battery")
petition = Petition.objects.create(slug="clean-air", organiser=organiser, organiser_name="Friends")
TextVersion.objects.create(petition=petition, number=1, title="Clean air", body="We ask.")
services.publish(petition, organiser)
register = import_register("Deputies", {REGISTER_CSV!r}.encode()).register
letter = Petition.objects.create(
    slug="deputies", organiser=organiser, organiser_name="Deputies", register=register,
    audience=Petition.Audience.REGISTER, kind=Petition.Kind.LETTER,
)
letter.moderators.add(moderator)
TextVersion.objects.create(petition=letter, number=1, title="Letter", body="We, deputies, ask.")
signing.sign(letter, SignRequest(full_name={FOUNDER[0]!r}, email={FOUNDER[1]!r},
    show_name=False, role="municipal deputy", municipality="Kupchino"), added_by=organiser)
services.publish(letter, organiser)
print(json.dumps({{"petition": petition.pk, "letter": letter.pk}}))
"""
        )
    )


def _sign(visitor: Visitor, slug: str, form: dict[str, str]) -> None:
    response = visitor.submit(f"/p/{slug}/", f"/p/{slug}/sign/", form)
    assert response.status == 302, (response.status, response.body[-2000:])


def _confirm(visitor: Visitor, smtp: SmtpServer, address: str) -> None:
    path = _link(smtp, address, CONFIRM_LINK)
    response = visitor.submit(path, path, {})
    assert response.status == 200, (response.status, response.body[-1500:])


def _realistic_run(site: Site, smtp: SmtpServer, base: str) -> None:
    ids = _setup(site)
    visitor = Visitor(base)

    def mailed(address: str) -> bool:
        with smtp.inbox.lock:
            return any(address in m["X-Envelope-To"] for m in smtp.inbox.messages)

    def ticked(address: str) -> dict[str, str]:
        # A ticked box is sent as "on"; an unticked one is not sent at all.
        return {"updates": "on"} if address in WANT_UPDATES else {}

    for name, address, visibility in PUBLIC_SIGNERS:
        form = {"full_name": name, "email": address, "visibility": visibility}
        _sign(visitor, "clean-air", {**form, **ticked(address)})
    _sign(visitor, "clean-air", {"full_name": UNCONFIRMED[0], "email": UNCONFIRMED[1],
                                 "visibility": "hide", **ticked(UNCONFIRMED[1])})
    for name, address, visibility, municipality, _ in LETTER_CLAIMS:
        _sign(visitor, "deputies", {
            "full_name": name, "email": address, "visibility": visibility,
            "role": "municipal deputy", "municipality": municipality,
            "evidence_url": f"https://council.example.org/{municipality.lower()}",
            **ticked(address),
        })
    everyone = [a for _, a, _ in PUBLIC_SIGNERS] + [c[1] for c in LETTER_CLAIMS] + [FOUNDER[1]]
    wait_for(lambda: all(mailed(a) for a in everyone), 60, "confirmation mail", site)
    for address in everyone:
        _confirm(visitor, smtp, address)
    withdrawn = PUBLIC_SIGNERS[3][1]
    path = _link(smtp, withdrawn, WITHDRAW_LINK)
    assert visitor.submit(path, path, {}).status == 200

    decisions = {c[1]: c[4] for c in LETTER_CLAIMS if c[4] in ("approve", "reject")}
    decisions[FOUNDER[1]] = "approve"
    site.python(
        f"""
import json
from django.contrib.auth.models import User
from undersigned.registers.models import RegisterEntry
from undersigned.signing import services as signing
from undersigned.signing.models import Signature
moderator = User.objects.get(username="moderator")
names = {{"anna.vetrova.home@mail.example.org": "Anna Vetrova",
          {FOUNDER[1]!r}: {FOUNDER[0]!r}}}
for address, decision in {decisions!r}.items():
    signature = Signature.objects.with_email(address).get()
    if decision == "approve":
        entry = RegisterEntry.objects.get(full_name=names[address])
        signing.approve(signature.pk, moderator, entry=entry, reason="Matches the register entry",
                        note="Checked by phone with " + names[address])
    else:
        signing.reject(signature.pk, moderator, reason="Not found on the register",
                       note="No " + address + " on the council site")
print(json.dumps(Signature.objects.filter(petition_id={ids["letter"]}, state="verified").count()))
"""
    )
    # The addressees answer; the signers who asked are mailed it.
    site.python(
        """
import json
from django.utils import timezone
from undersigned.petitions.models import Petition
from undersigned.updates.services import publish_response
for slug in ("clean-air", "deputies"):
    publish_response(Petition.objects.get(slug=slug), None, answered_by="The council",
                     responded_on=timezone.localdate(), text="We have read it.")
print(json.dumps(True))
"""
    )

    def settled() -> bool:
        state = site.python(
            """
import json
from undersigned.ledger.models import LogEntry
from undersigned.outbox.models import OutgoingMail
from undersigned.updates.models import UpdateRun
print(json.dumps([OutgoingMail.objects.filter(sent_at__isnull=True).count(),
                  LogEntry.objects.filter(index__isnull=True).count(),
                  UpdateRun.objects.filter(filled_at__isnull=True).count()]))
"""
        )
        return state == [0, 0, 0]

    wait_for(settled, 60, "mail sent and the log sequenced", site)


# ------------------------------------------------------------------ the seizer


def _tables_sqlite(path: Path) -> Iterator[tuple[str, list[str], list[tuple[Any, ...]]]]:
    with sqlite3.connect(path) as db:
        names = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for name in names:
            cursor = db.execute(f'SELECT * FROM "{name}"')  # noqa: S608 - table names from the file
            yield name, [d[0] for d in cursor.description], cursor.fetchall()


def _tables_postgres(url: str) -> Iterator[tuple[str, list[str], list[tuple[Any, ...]]]]:
    import psycopg

    with psycopg.connect(url) as db:
        names = [r[0] for r in db.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        ).fetchall()]
        for name in names:
            cursor = db.execute(f'SELECT * FROM "{name}"')  # noqa: S608
            yield name, [d.name for d in cursor.description or []], cursor.fetchall()


def _server_keys(env: dict[str, str], data_dir: Path) -> list[bytes]:
    """Every AES key the seized machine holds: the environment's, and any in its files."""
    texts = env.get("UNDERSIGNED_DATA_KEYS", "").split(",")
    texts += [p.read_text() for p in data_dir.rglob("data_key*") if p.is_file()]
    keys = []
    for text in texts:
        try:
            raw = base64.b64decode(text.strip(), validate=True)
        except (binascii.Error, ValueError):
            continue
        if len(raw) == 32:
            keys.append(raw)
    return keys


PURPOSES = [
    "signature.full_name", "signature.email", "signature.evidence_url",
    "outbox.to", "outbox.subject", "outbox.body", "outbox.headers", "register.official_email",
    "subscription.email", "petition.addressee_email",
]


def _open_with(keys: list[bytes], value: str) -> str | None:
    """What the server's own keys make of a stored value (the scheme of core/crypto.py)."""
    if not value.startswith("v1:"):
        return None
    try:
        blob = base64.b64decode(value[3:])
    except (binascii.Error, ValueError):
        return None
    key_id, nonce, sealed = blob[:4], blob[4:16], blob[16:]
    for key in keys:
        if hashlib.sha256(key).digest()[:4] != key_id:
            continue
        for purpose in PURPOSES:
            try:
                return AESGCM(key).decrypt(nonce, sealed, purpose.encode()).decode()
            except InvalidTag:
                continue
    return None


def _decoded(value: str) -> str:
    """What base64 inside a value (a session, a cached pickle) says, for the search."""
    found = []
    for part in re.findall(r"[A-Za-z0-9+/_=-]{16,}", value):
        try:
            raw = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
        except (binascii.Error, ValueError):
            continue
        try:
            raw = zlib.decompress(raw)
        except zlib.error:
            pass
        found.append(raw.decode("utf-8", errors="replace").lower())
    return " ".join(found)


def _everything_readable(
    tables: list[tuple[str, list[str], list[tuple[Any, ...]]]], keys: list[bytes]
) -> dict[str, list[tuple[dict[str, Any], str]]]:
    """Per table: each row (column -> value as the seizer reads it) and its text, lower-cased."""
    readable: dict[str, list[tuple[dict[str, Any], str]]] = {}
    for name, columns, rows in tables:
        for row in rows:
            opened: dict[str, Any] = {}
            for column, value in zip(columns, row, strict=True):
                if isinstance(value, memoryview):
                    value = bytes(value)
                if isinstance(value, bytes):
                    value = value.decode("utf-8", errors="replace")
                if isinstance(value, str):
                    value = _open_with(keys, value) or value
                opened[column] = value
            text = json.dumps(opened, default=str, ensure_ascii=False).lower()
            text += " " + " ".join(_decoded(v) for v in opened.values() if isinstance(v, str))
            readable.setdefault(name, []).append((opened, text))
    return readable


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_a_seized_server_reveals_no_hidden_signer_and_no_decided_address(
    engine: str, make_site: Any, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    identity, recipient = custody.new_identity()  # the moderators', never given to the site
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    site = make_site(
        engine, "seizure", smtp_port=smtp_server.port, site_url=base,
        extra={"UNDERSIGNED_CUSTODY_RECIPIENT": recipient},
    )
    site.data_dir.mkdir(parents=True, exist_ok=True)
    site.manage("migrate", "--verbosity", "0")
    site.serve(port)
    site.worker()
    _realistic_run(site, smtp_server, base)
    site.stop_all()
    with smtp_server.inbox.lock:
        told = sorted(
            m["X-Envelope-To"] for m in smtp_server.inbox.messages if m["List-Unsubscribe"]
        )
    assert told == sorted(
        ["sofia.petrova@mail.example.org", "boris.kuznetsov@mail.example.org",
         "zorin@council.example.org"]
    ), "the response reached the signers who asked, once each"

    # The seizure: the data directory, the database and the environment.
    seized = tmp_path / "seized"
    shutil.copytree(site.data_dir, seized)
    env = site.env()
    if engine == "sqlite":
        [database] = [p for p in seized.rglob("*.sqlite3")]
        tables = list(_tables_sqlite(database))
    else:
        tables = list(_tables_postgres(site.database_url))
    keys = _server_keys(env, seized)
    assert keys, "the seizer has the server's sealing key"
    readable = _everything_readable(tables, keys)
    files = "\n".join(
        p.read_bytes().decode("utf-8", errors="replace").lower()
        for p in seized.rglob("*") if p.is_file() and not p.name.endswith(".sqlite3")
    ) + json.dumps(env).lower()

    def rows_with(needle: str, *, outside: tuple[str, ...] = ()) -> list[str]:
        needle = needle.lower()
        return [
            table for table, rows in readable.items() if table not in outside
            for _, text in rows if needle in text
        ]

    hidden_names = [n for n, _, v in PUBLIC_SIGNERS if v == "hide"] + [
        n for n, _, v, _, fate in LETTER_CLAIMS if v == "hide" and fate != "pending"
    ] + [FOUNDER[0]]
    decided_addresses = [a for _, a, _ in PUBLIC_SIGNERS] + [
        c[1] for c in LETTER_CLAIMS if c[4] != "pending"
    ] + [FOUNDER[1]]
    # Verified, asked for updates and still there (Oleg withdrew, Ulyana never confirmed).
    subscribed = {"sofia.petrova@mail.example.org", "boris.kuznetsov@mail.example.org",
                  "zorin@council.example.org"}
    # The register lists everyone eligible, signer or not: a name there says nothing.
    register = ("registers_registerentry",)
    kept_for_updates = ("signing_subscription",)
    for name in hidden_names:
        assert not rows_with(name, outside=register), f"{name} readable in {rows_with(name)}"
        assert name.lower() not in files
    for address in decided_addresses:
        # An opted-in signer's address is readable by design, and only where it is
        # kept for the updates (not in the outbox once the update is sent).
        found = rows_with(address, outside=register + kept_for_updates)
        assert not found, f"{address} readable in {found}"
        assert address.lower() not in files
    in_subscriptions = {
        str(row["email"]) for row, _ in readable["signing_subscription"]
    }
    assert in_subscriptions == subscribed
    if engine == "sqlite":
        # A forensic copy reads the file, not the tables: free pages and the
        # write-ahead log may hold old versions of rows (secure_delete, docs/security.md).
        residue = b"".join(p.read_bytes() for p in seized.rglob("*.sqlite3*"))
        on_register = {str(row["official_email"]) for row, _ in readable[register[0]]}
        old_values = {
            _open_with(keys, token.decode()) or ""
            for token in re.findall(rb"v1:[A-Za-z0-9+/=]{20,}", residue)
        } - on_register
        for address in set(decided_addresses) - subscribed:
            assert not [v for v in old_values if address in v.lower()], f"{address} in free space"
    # The moderator's notes named people: sealed with them.
    assert not rows_with("checked by phone") and not rows_with("on the council site")

    # No row ties a hidden signer of the letter to their register entry.
    entries = {row["full_name"]: row["id"] for row, _ in readable["registers_registerentry"]}
    hidden_entries = {entries[n] for n in hidden_names if n in entries}
    signatures = [row for row, _ in readable["signing_signature"]]
    assert not [s for s in signatures if s["register_entry_id"] in hidden_entries]
    events = [row for row, _ in readable["moderation_auditevent"]]
    for event in events:
        details = event["details"] if isinstance(event["details"], dict) else json.loads(
            event["details"] or "{}"
        )
        assert details.get("register_entry") not in hidden_entries

    # What is still exposed, by design and for a while (docs/security.md):
    pending_claim, unconfirmed = LETTER_CLAIMS[4], UNCONFIRMED
    exposed = {
        "claim awaiting review": bool(rows_with(pending_claim[1])),
        "signature not yet confirmed": bool(rows_with(unconfirmed[1])),
        # Verified signers who asked to be told of the response and outcome, one of
        # them hidden: their address, and that it signed this petition, until they
        # unsubscribe, withdraw, erase their data or the retention purge.
        "opted-in signers' addresses": len(in_subscriptions),
    }
    assert exposed == {
        "claim awaiting review": True,
        "signature not yet confirmed": True,
        "opted-in signers' addresses": 3,
    }
    readable_addresses = {
        s["email"] for s in signatures if s["email"] and "@" in str(s["email"])
    }
    assert readable_addresses == {pending_claim[1], unconfirmed[1]}

    # And what was sealed is whole: the moderators' key opens every identity.
    boxes = [
        custody.open_sealed(identity, base64.b64decode(line))
        for s in signatures for line in (s["custody_sealed"] or "").splitlines()
    ]
    opened_names = {b.get("full_name") for b in boxes}
    opened_addresses = {b.get("email") for b in boxes}
    assert set(hidden_names) <= opened_names
    assert set(decided_addresses) <= opened_addresses
    assert any("checked by phone" in (b.get("moderator_note") or "").lower() for b in boxes)
