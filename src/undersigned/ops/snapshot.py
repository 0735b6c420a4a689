"""Backups: a consistent online snapshot of the database and a manifest describing it.

A backup is a directory:

    manifest.json       format, engine, time, every table's row count, the log's
                        size, last checkpoint and a digest of its entries, and
                        fingerprints of the keys it needs (never the keys)
    database.sqlite3    SQLite: a copy made with SQLite's online backup API
    database.pgdump     PostgreSQL: `pg_dump --format=custom`

The counts and the log summary are read from the snapshot itself (the copy on
SQLite; the very snapshot pg_dump uses on PostgreSQL), so under live load they
describe exactly what was saved, and a restore can prove it got all of it.
"""

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from django.conf import settings
from django.db import connection
from django.db.backends.postgresql.client import DatabaseClient

from undersigned.core.progress import Report, silent
from undersigned.ledger.keys import signer
from undersigned.ledger.models import LogEntry, LogState, SignedCheckpoint

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_FILE = "database.sqlite3"
PG_FILE = "database.pgdump"


class BackupError(Exception):
    """The backup or restore cannot go on; nothing half-done is left behind."""


class Cursor(Protocol):
    def execute(self, sql: str, /) -> Any: ...
    def fetchone(self) -> Any: ...
    def fetchall(self) -> Any: ...


# ------------------------------------------------------------------ keys


def fingerprint(secret: str) -> str:
    """A short, one-way name for a secret: equal keys have equal fingerprints."""
    return hashlib.sha256(b"undersigned key fingerprint\0" + secret.encode()).hexdigest()[:16]


def key_fingerprints() -> dict[str, Any]:
    data_keys = getattr(settings, "UNDERSIGNED_DATA_KEYS", "") or ""
    return {
        "secret_key": fingerprint(settings.SECRET_KEY),
        "hash_key": fingerprint(settings.HASH_KEY),
        "data_keys": [fingerprint(k.strip()) for k in data_keys.split(",") if k.strip()],
        # The verifier key is public: it is the log signing key's own fingerprint.
        "log_verifier_key": signer().verifier_key(),
    }


def compare_keys(saved: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(refusals, warnings) for restoring a backup under the keys configured now."""
    now = key_fingerprints()
    refusals, warnings = [], []
    if saved.get("hash_key") != now["hash_key"]:
        refusals.append(
            "UNDERSIGNED_HASH_KEY differs from the backup's: the same person could sign twice"
        )
    missing = [fp for fp in saved.get("data_keys", []) if fp not in now["data_keys"]]
    if missing:
        refusals.append(
            f"UNDERSIGNED_DATA_KEYS lacks {len(missing)} key(s) the backup's contact details "
            f"were sealed with (fingerprints {', '.join(missing)})"
        )
    if saved.get("log_verifier_key") != now["log_verifier_key"]:
        refusals.append(
            "the log signing key differs from the backup's "
            f"({saved.get('log_verifier_key')}): the log would continue under another key"
        )
    if saved.get("secret_key") != now["secret_key"]:
        warnings.append("SECRET_KEY differs from the backup's: everyone will have to log in again")
    return refusals, warnings


# ------------------------------------------------------------------ what a snapshot holds


def _tables(cursor: Cursor, vendor: str) -> list[str]:
    if vendor == "sqlite":
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    else:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
    return sorted(row[0] for row in cursor.fetchall())


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


ENTRIES_SQL = "SELECT {index}, data FROM {table} WHERE {index} IS NOT NULL ORDER BY {index}"


def entries_sql() -> str:
    return ENTRIES_SQL.format(index=_quote("index"), table=_quote(LogEntry._meta.db_table))


def describe(
    cursor: Cursor,
    vendor: str,
    entry_rows: Callable[[], Iterable[tuple[int, bytes]]],
    progress: Report = silent,
) -> dict[str, Any]:
    """Row counts of every table and a summary of the log, all from one snapshot.

    `entry_rows` streams the sequenced entries in order (a server-side cursor
    on PostgreSQL), so a log of millions is digested without holding it.
    """
    counts = {}
    tables = _tables(cursor, vendor)
    # Table names come from the database's own catalog, quoted: no input reaches the SQL.
    for done, table in enumerate(tables, 1):
        cursor.execute(f"SELECT COUNT(*) FROM {_quote(table)}")  # noqa: S608  # nosec B608
        counts[table] = int(cursor.fetchone()[0])
        progress("counting rows", done, len(tables))
    log: dict[str, Any] = {"size": 0, "checkpoint_size": 0, "checkpoint_root": "", "digest": ""}
    if LogState._meta.db_table in counts:
        state = _quote(LogState._meta.db_table)
        cursor.execute(f"SELECT size FROM {state} WHERE id = 1")  # noqa: S608  # nosec B608
        row = cursor.fetchone()
        log["size"] = int(row[0]) if row else 0
        checkpoints = _quote(SignedCheckpoint._meta.db_table)
        sql = f"SELECT size, root FROM {checkpoints} ORDER BY size DESC LIMIT 1"  # noqa: S608  # nosec B608
        cursor.execute(sql)
        row = cursor.fetchone()
        if row:
            log["checkpoint_size"], log["checkpoint_root"] = int(row[0]), bytes(row[1]).hex()
        log["digest"] = log_digest(entry_rows(), progress, log["size"])
    return {"tables": counts, "log": log}


def log_digest(rows: Iterable[tuple[int, bytes]], progress: Report = silent, total: int = 0) -> str:
    """SHA-256 over every sequenced entry and its index: equal digests, identical logs."""
    digest = hashlib.sha256()
    done = 0
    for index, data in rows:
        raw = bytes(data)
        digest.update(f"{index}:{len(raw)}:".encode() + raw)
        done += 1
        if done % 5000 == 0:
            progress("digesting the log", done, max(total, done))
    progress("digesting the log", done, max(total, done))
    return digest.hexdigest()


def describe_current(progress: Report = silent) -> dict[str, Any]:
    def entry_rows() -> Iterator[tuple[int, bytes]]:
        rows = LogEntry.objects.filter(index__isnull=False).order_by("index")
        for index, data in rows.values_list("index", "data").iterator(chunk_size=5000):
            yield int(index or 0), bytes(data or b"")  # both set once sequenced

    with connection.cursor() as cursor:
        return describe(cursor, connection.vendor, entry_rows, progress)


# ------------------------------------------------------------------ backup


def _sha256_file(path: Path, progress: Report = silent, stage: str = "checksum") -> str:
    digest = hashlib.sha256()
    # Reported in MiB: a bar of bytes would count in the billions.
    total = -(-path.stat().st_size // (1 << 20))
    done = 0
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
            done += 1
            progress(f"{stage} (MiB)", done, total)
    return digest.hexdigest()


def _pg_env() -> dict[str, str]:
    """Connection settings for pg_dump/pg_restore, passed in the environment, never argv."""
    db = connection.settings_dict
    _, env = DatabaseClient.settings_to_cmd_args_env(db, [])
    full = {**os.environ, **(env or {})}
    for key, value in (
        ("PGHOST", db.get("HOST")),
        ("PGPORT", db.get("PORT")),
        ("PGUSER", db.get("USER")),
        ("PGDATABASE", db.get("NAME")),
    ):
        if value:
            full[key] = str(value)
    return full


def _run(command: list[str], env: dict[str, str]) -> None:
    # Fixed programs and arguments; connection details travel in the environment.
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603  # nosec B603
    if done.returncode != 0:
        raise BackupError(f"{command[0]} failed (exit {done.returncode}): {done.stderr.strip()}")


def _backup_sqlite(target: Path, progress: Report = silent) -> dict[str, Any]:
    source = sqlite3.connect(str(connection.settings_dict["NAME"]), timeout=20)
    copy = sqlite3.connect(str(target))
    try:
        # One step: a single read transaction over the whole copy, so the copy
        # is one consistent moment while writers carry on (WAL mode). Its
        # progress is therefore all or nothing.
        progress("copying the database", 0, 1)
        source.backup(copy)
        progress("copying the database", 1, 1)
        check = copy.execute("PRAGMA integrity_check").fetchone()[0]
        if check != "ok":
            raise BackupError(f"the copy fails SQLite's integrity check: {check}")
        return describe(
            copy.cursor(),
            "sqlite",
            lambda: copy.execute(entries_sql()),  # rows as they come
            progress,
        )
    finally:
        copy.close()
        source.close()


def _backup_postgres(target: Path, progress: Report = silent) -> dict[str, Any]:
    import psycopg

    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    with psycopg.connect(**params, autocommit=True) as conn:
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        row = conn.execute("SELECT pg_export_snapshot()").fetchone()
        assert row is not None
        # pg_dump joins this transaction's snapshot: the dump and the counts
        # below see exactly the same rows, whatever commits meanwhile. It says
        # nothing of its progress, so neither can we.
        progress("pg_dump", 0, 1)
        _run(
            [
                "pg_dump",
                "--format=custom",
                "--no-owner",
                "--no-privileges",
                f"--snapshot={row[0]}",
                f"--file={target}",
            ],
            _pg_env(),
        )
        progress("pg_dump", 1, 1)

        def entry_rows() -> Iterator[tuple[int, bytes]]:
            with conn.cursor(name="undersigned_backup_entries") as entries:
                entries.itersize = 5000
                entries.execute(entries_sql())  # nosec B608
                yield from entries

        with conn.cursor() as cursor:
            described = describe(cursor, "postgresql", entry_rows, progress)
        conn.execute("COMMIT")
    return described


def backup(destination: Path, progress: Report = silent) -> dict[str, Any]:
    """Write a backup directory; it appears complete or not at all."""
    if destination.exists() and any(destination.iterdir()):
        raise BackupError(f"{destination} exists and is not empty")
    partial = destination.with_name(destination.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    try:
        vendor = connection.vendor
        if vendor == "sqlite":
            filename = SQLITE_FILE
            described = _backup_sqlite(partial / filename, progress)
        elif vendor == "postgresql":
            filename = PG_FILE
            described = _backup_postgres(partial / filename, progress)
        else:
            raise BackupError(f"no backup for the {vendor} engine")
        manifest = {
            "format": FORMAT,
            "engine": vendor,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "file": filename,
            "sha256": _sha256_file(partial / filename, progress, "checksumming the copy"),
            "keys": key_fingerprints(),
            **described,
        }
        (partial / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        for path in partial.iterdir():
            path.chmod(0o600)  # signers' contact details, even if sealed
        if destination.exists():
            destination.rmdir()
        partial.rename(destination)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return manifest


# ------------------------------------------------------------------ restore


def read_manifest(source: Path, progress: Report = silent) -> dict[str, Any]:
    try:
        manifest: dict[str, Any] = json.loads((source / MANIFEST).read_text())
    except FileNotFoundError:
        raise BackupError(f"{source} has no {MANIFEST}: not a backup made by `backup`") from None
    except ValueError as exc:
        raise BackupError(f"{source / MANIFEST} is not valid JSON: {exc}") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"backup format {manifest.get('format')!r} is not {FORMAT}")
    data = source / manifest["file"]
    if not data.exists():
        raise BackupError(f"{data} is missing")
    if _sha256_file(data, progress, "checking the backup's checksum") != manifest["sha256"]:
        raise BackupError(f"{data} does not match its checksum: the backup is damaged")
    return manifest


def database_is_empty() -> bool:
    with connection.cursor() as cursor:
        return not _tables(cursor, connection.vendor)


def restore_database(source: Path, manifest: dict[str, Any], progress: Report = silent) -> None:
    vendor = connection.vendor
    if manifest["engine"] != vendor:
        raise BackupError(
            f"this is a {manifest['engine']} backup and DATABASE_URL names a {vendor} database"
        )
    if not database_is_empty():
        raise BackupError(
            "the database already has tables; restore only into a new, empty database"
        )
    data = source / manifest["file"]
    if vendor == "sqlite":
        target = str(connection.settings_dict["NAME"])
        connection.close()
        backup_file = sqlite3.connect(f"file:{data}?mode=ro", uri=True)
        live = sqlite3.connect(target, timeout=20)
        try:
            # In steps, unlike the backup: nothing else reads or writes either file now.
            backup_file.backup(
                live,
                pages=4096,
                progress=lambda status, remaining, total: progress(
                    "restoring the database (pages)", total - remaining, total
                ),
            )
        finally:
            live.close()
            backup_file.close()
    else:
        connection.close()
        progress("pg_restore", 0, 1)
        _run(
            [
                "pg_restore",
                "--no-owner",
                "--no-privileges",
                "--exit-on-error",
                "--single-transaction",
                f"--dbname={connection.settings_dict['NAME']}",
                str(data),
            ],
            _pg_env(),
        )
        progress("pg_restore", 1, 1)
