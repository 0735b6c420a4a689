"""Fictional signatures in bulk, for rehearsals and load tests (`undersigned bulk-load`).

What is written is what the product itself would hold had these people signed
and confirmed, so every check it makes still passes afterwards:

- each signature is verified (on a register-restricted letter: a claim waiting
  for review, since only a moderator binds a claim to a register entry), with a
  unique address under the app's own encryption and its keyed hash, so
  deduplication and "my data" work on it as on any other;
- names come from a small list of made-up English and Russian names; they are
  sealed once per distinct name and the ciphertexts reused (sealing is the
  costly part of a row, and equal names then have equal ciphertexts, which
  matters for nothing fictional), while every address is sealed on its own;
- each verified signature has its log entry, written as `record_verification`
  writes it (public fields, or a salted commitment when the name is hidden)
  and left pending, as after any surge: the worker sequences it, or the load
  does it itself through the ledger's own `sequence` and `publish_checkpoint`;
- the tallies are moved in the same transaction as the rows they count.

Rows go in with PostgreSQL's COPY or SQLite's executemany, a chunk per
transaction, with ids reserved up front so that a signature and its log entry
can name each other. Foreign keys stay checked (at commit: Django declares
them deferrable), so a bad row fails its chunk rather than corrupting anything.
"""

import io
import json
import secrets
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone

from undersigned.core import crypto
from undersigned.core.hashing import keyed_hasher
from undersigned.core.progress import Report, silent
from undersigned.ledger import services as ledger
from undersigned.ledger.models import LogEntry
from undersigned.petitions.models import Petition, Tally
from undersigned.petitions.services import add_to_tally
from undersigned.signing.models import Signature
from undersigned.tlog import entries

CHUNK = 20_000
# Reserved for documentation (RFC 2606): no mail to these addresses can ever leave.
EMAIL_DOMAIN = "rehearsal.example"
LETTER_ROLE = "municipal deputy"
# Nobody holds a token for a fictional signature, added it, or ended it; and no
# claim is bound to a register entry but by a moderator.
UNSET = (
    "register_entry",
    "register_entry_key",
    "added_by",
    "confirm_token_hash",
    "confirm_token_expires",
    "withdraw_token_hash",
    "ended_at",
)

GIVEN_EN = ["Alwen", "Brisk", "Corin", "Delphy", "Emmet", "Fenna", "Gaspard", "Hollis", "Ivo"]
FAMILY_EN = ["Ashcombe", "Brackwater", "Cindervale", "Dunmore", "Fairwick", "Thistlewood"]
GIVEN_RU_MEN = ["Велимир", "Гордей", "Добромир", "Елисей", "Любим", "Ратибор"]
GIVEN_RU_WOMEN = ["Веселина", "Добрава", "Злата", "Любава", "Милослава", "Ярослава"]
# (a man's form, a woman's form)
FAMILY_RU = [
    ("Берестов", "Берестова"),
    ("Заречный", "Заречная"),
    ("Клюквин", "Клюквина"),
    ("Ольховский", "Ольховская"),
    ("Тихоструев", "Тихоструева"),
]
PLACES = [
    ("Northmarch", "Oakhollow"),
    ("Northmarch", "Fernbridge"),
    ("Northmarch", "Millbrook Vale"),
    ("Westerly Downs", "Harrowgate Green"),
    ("Westerly Downs", "Copperfield"),
    ("Приозёрный край", "Берёзовый Лог"),
    ("Приозёрный край", "Ольховка"),
    ("Северное Заречье", "Тихий Бор"),
    ("Северное Заречье", "Камышино"),
]


def fictional_names() -> list[tuple[str, str]]:
    """(full name, language) of every made-up person the loader can name."""
    names = [(f"{given} {family}", "en") for given in GIVEN_EN for family in FAMILY_EN]
    names += [(f"{given} {man}", "ru") for given in GIVEN_RU_MEN for man, _ in FAMILY_RU]
    names += [(f"{given} {woman}", "ru") for given in GIVEN_RU_WOMEN for _, woman in FAMILY_RU]
    return names


class LoadRefused(Exception):
    """The petition cannot take fictional signatures; nothing was written."""


@dataclass
class LoadResult:
    petition: str
    added: int
    state: str
    log_entries: int
    sequenced: int
    checkpoint: int | None
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": True,
            "petition": self.petition,
            "added": self.added,
            "state": self.state,
            "log_entries": self.log_entries,
            "sequenced": self.sequenced,
            "checkpoint": self.checkpoint,
            "seconds": round(self.seconds, 3),
            "per_second": round(self.added / self.seconds) if self.seconds else None,
        }


def refusal(petition: Petition) -> str | None:
    """Why a petition cannot take fictional signatures, or None."""
    if petition.status != Petition.Status.OPEN:
        return (
            f"petition {petition.slug!r} is {petition.status}: it takes no signatures, so "
            "seeded ones would be signatures nobody could have given"
        )
    if not petition.is_open:
        return f"petition {petition.slug!r} is past its deadline and takes no signatures"
    return None


# ------------------------------------------------------------------ rows


class _Rows:
    """Builds the rows of one run: row i of the run is the i-th person added."""

    def __init__(self, petition: Petition, now: datetime) -> None:
        self.petition = petition
        self.letter = petition.needs_register
        self.state = Signature.State.NEEDS_REVIEW if self.letter else Signature.State.VERIFIED
        self.version = petition.shown_version()
        self.now = now
        self.names = fictional_names()
        field = Signature._meta.get_field
        name_field = field("full_name")
        assert isinstance(name_field, models.TextField)
        self.sealed_names = [name_field.get_db_prep_save(n, connection) for n, _ in self.names]
        self.email_purpose = getattr(field("email"), "purpose", "")
        self.email_hash = keyed_hasher("email")
        # Unique per run, so that loading twice into one petition adds new people.
        self.tag = secrets.token_hex(4)

    def place(self, i: int) -> tuple[str, str]:
        # A third give no place on a public petition; a letter's signers all hold a seat.
        if not self.letter and i % 3 == 0:
            return "", ""
        return PLACES[(i // 3) % len(PLACES)]

    def signature(self, i: int, pk: int, entry_pk: int | None) -> tuple[dict[str, Any], Any]:
        """Signature i's column values, and its log entry's payload (None if it is not logged)."""
        name, language = self.names[i % len(self.names)]
        # Already in normal form (lower case, no spaces), as signing would store it.
        email = f"{self.tag}.{i}@{EMAIL_DOMAIN}"
        region, municipality = self.place(i)
        role = LETTER_ROLE if self.letter else ""
        show_name = i % 5 != 0
        verified = self.state == Signature.State.VERIFIED
        payload: dict[str, Any] | None = None
        if verified:
            # The salt is dropped: signing seals it away at the decision, and no
            # receipt key exists for a made-up person to seal the opening to.
            payload, _ = ledger.verification_payload(
                self.petition,
                self.version,
                self.now,
                name=name,
                role=role,
                place=(region, municipality),
                show_name=show_name,
            )
        row = {
            "id": pk,
            "petition": self.petition.pk,
            "text_version": self.version.pk,
            "state": self.state,
            # A verified row looks as signing leaves it once decided (signing/custody.py):
            # no address, and a name only if shown. A made-up person has nothing to
            # seal to the custody key, so no box is written.
            "full_name": (
                self.sealed_names[i % len(self.names)] if show_name or not verified else ""
            ),
            "email": "" if verified else crypto.encrypt(email, self.email_purpose),
            "email_hash": self.email_hash(email),
            "show_name": show_name,
            "role": role,
            "municipality": municipality,
            "region": region,
            "evidence_url": "",
            "language": language,
            # Made-up people sign online: the paper figure counts only sheets
            # a moderator entered (signing/paper.py), and stays as it was.
            "channel": Signature.Channel.ONLINE,
            "sheet_reference": "",
            # Nobody is mailed about a made-up person's petition (signing.Subscription).
            "wants_updates": False,
            "sent_to_official_contact": False,
            "is_founder": False,
            "state_reason": "",
            "verified_entry": entry_pk,
            # Sealed away at the decision, as signing does (signing/custody.py).
            "log_salt": None,
            "created": self.now,
            "confirmed_at": self.now,
            "verified_at": self.now if verified else None,
            "custody_sealed": "",
            "sealed_at": self.now if verified else None,
            **dict.fromkeys(UNSET),
        }
        return row, payload


def _columns(model: type[models.Model], known: Iterable[str]) -> list[models.Field[Any, Any]]:
    fields = list(model._meta.concrete_fields)
    unknown = {f.name for f in fields} - set(known)
    if unknown:
        # A field added since: say so rather than guess a value the product would not write.
        raise RuntimeError(
            f"ops/bulkload.py does not fill {model.__name__}.{', '.join(sorted(unknown))}"
        )
    return fields


def _converter(field: models.Field[Any, Any]) -> Callable[[Any], Any]:
    """Python value to database value for one column; the rest are already in database form."""
    if not isinstance(field, models.DateTimeField):
        return lambda value: value
    # Every row of a run has the same few times: convert each once, not per row.
    seen: dict[Any, Any] = {}

    def convert(value: Any) -> Any:
        if value is None:
            return None
        if value not in seen:
            seen[value] = field.get_db_prep_save(value, connection)
        return seen[value]

    return convert


def copy_text(value: Any) -> str:
    """A value in PostgreSQL's COPY text format (also used by bench/seed.py)."""
    if value is None:
        return "\\N"
    if isinstance(value, bytes | memoryview):
        return "\\\\x" + bytes(value).hex()
    if value is True:
        return "t"
    if value is False:
        return "f"
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def _insert(model: type[models.Model], rows: Sequence[dict[str, Any]]) -> None:
    fields = _columns(model, rows[0])
    table = connection.ops.quote_name(model._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    converters = [(f.name, _converter(f)) for f in fields]
    values = ([convert(row[name]) for name, convert in converters] for row in rows)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            buffer = io.StringIO()
            for line in values:
                buffer.write("\t".join(map(copy_text, line)) + "\n")
            # Our own table and column names, quoted; the data travels in COPY's stream.
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                copy.write(buffer.getvalue())
        else:
            marks = ", ".join("?" for _ in fields)
            sql = f"INSERT INTO {table} ({columns}) VALUES ({marks})"  # noqa: S608  # nosec B608
            cursor.connection.executemany(sql, values)


def _reserve_ids(model: type[models.Model], n: int) -> list[int]:
    """n primary keys nobody else will take, so rows can name each other before they exist."""
    table = model._meta.db_table
    pk = model._meta.pk
    assert pk is not None
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [table, pk.column, n],
            )
            return [int(row[0]) for row in cursor.fetchall()]
        # SQLite: this transaction took the write lock at BEGIN (transaction_mode
        # IMMEDIATE), so nobody else can insert between this read and our rows.
        # AUTOINCREMENT never reuses an id, hence sqlite_sequence as well as MAX.
        quoted = connection.ops.quote_name(table)
        cursor.execute(
            f"SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = %s), 0), "  # noqa: S608  # nosec B608
            f"COALESCE((SELECT MAX({connection.ops.quote_name(pk.column)}) FROM {quoted}), 0))",
            [table],
        )
        start = int(cursor.fetchone()[0]) + 1
        return list(range(start, start + n))


def _load_chunk(rows: _Rows, start: int, end: int) -> int:
    """Signatures start..end-1 of the run, their log entries and tallies; returns entries added."""
    n = end - start
    with transaction.atomic():
        signature_ids = _reserve_ids(Signature, n)
        verified = rows.state == Signature.State.VERIFIED
        entry_ids = _reserve_ids(LogEntry, n) if verified else [None] * n
        signatures, logged = [], []
        # Per place and visibility: hidden signers are counted apart (Tally.verified_hidden).
        places: Counter[tuple[tuple[str, str], bool]] = Counter()
        for k, i in enumerate(range(start, end)):
            row, payload = rows.signature(i, signature_ids[k], entry_ids[k])
            signatures.append(row)
            places[((row["region"], row["municipality"]), not row["show_name"])] += 1
            if payload is not None:
                logged.append(
                    {
                        "id": entry_ids[k],
                        "index": None,
                        "petition": rows.petition.pk,
                        "signature": signature_ids[k],
                        "event": entries.SIGNATURE_VERIFIED,
                        # As the JSONField would store it.
                        "payload": json.dumps(payload),
                        "ref_entry": None,
                        "data": None,
                        # Nobody holds a receipt for a fictional signature.
                        "receipt_key_hash": None,
                        # ...so nobody could open a commitment sealed to one.
                        "opening_sealed": None,
                        "created": rows.now,
                    }
                )
        _insert(Signature, signatures)
        if logged:
            _insert(LogEntry, logged)
        column = "verified" if verified else "awaiting"
        for (place, hidden), n in sorted(places.items()):
            add_to_tally(rows.petition.pk, place, column, n, hidden=hidden)
    return len(logged)


def load(
    petition: Petition,
    count: int,
    *,
    with_log: bool = False,
    chunk: int = CHUNK,
    progress: Report = silent,
) -> LoadResult:
    """Add `count` fictional signatures to an open petition; see the module docstring."""
    why = refusal(petition)
    if why:
        raise LoadRefused(why)
    if count < 1:
        raise LoadRefused("the count must be at least 1")
    began = time.perf_counter()
    rows = _Rows(petition, timezone.now())
    logged = 0
    for start in range(0, count, chunk):
        end = min(count, start + chunk)
        logged += _load_chunk(rows, start, end)
        progress("adding signatures", end, count)
    if connection.vendor == "postgresql":
        # Fresh statistics, as autovacuum would make them later: the planner's
        # choices for the petition page depend on them.
        with connection.cursor() as cursor:
            for model in (Signature, LogEntry, Tally):
                cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
    sequenced = 0
    checkpoint = None
    if with_log:
        # The worker's own path, in its own batches: the tree and its stored
        # hashes are computed exactly as for any real signature.
        pending = LogEntry.objects.filter(index__isnull=True).count()
        while (done := ledger.sequence()) > 0:
            sequenced += done
            progress("sequencing the log", sequenced, max(pending, sequenced))
        ledger.publish_checkpoint()
        latest = ledger.latest_checkpoint()
        checkpoint = latest.size if latest else None
    return LoadResult(
        petition=petition.slug,
        added=count,
        state=rows.state,
        log_entries=logged,
        sequenced=sequenced,
        checkpoint=checkpoint,
        seconds=time.perf_counter() - began,
    )
