#!/usr/bin/env python
"""How the public log's costs grow with its size: run by hand, never by the test suite.

For each log size N (10^3 and 10^6 by default) a fresh database is bulk-loaded
with N sequenced entries, their stored hashes and a signed checkpoint; then
this measures

1. appending: time per entry for ``services.sequence()`` to sequence a batch
   of 1,000 pending entries on top of the log;
2. signing: ``services.publish_checkpoint()`` right after that batch;
3. serving a full level-0 tile (and, for comparison, a full entry bundle)
   through Django's test Client, median of --requests requests at random
   tile indexes;
4. serving an inclusion proof for a random index at the checkpoint size,
   median of --requests requests.

The database is SQLite (a temporary file) unless DATABASE_URL names a
PostgreSQL server, in which case separate databases ``undersigned_bench_ledger_<N>``
(prefix set by --pg-database) are created there and dropped afterwards.
Each size is loaded by its own worker process into its own fresh database;
the parent then measures all sizes in interleaved passes, so that other load
on the machine falls on every size alike.

    .venv/bin/python bench/ledger.py                      # SQLite, 10^3 and 10^6
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test .venv/bin/python bench/ledger.py
    .venv/bin/python bench/ledger.py --sizes 1e3,1e4,1e5,1e6 --profile

Prints a table and writes it to bench/results/ledger-<sqlite|postgresql>.md.
The target is that no operation costs more than 1.3x at 10^6 than at 10^3.
"""

from __future__ import annotations

import argparse
import base64
import cProfile
import io
import json
import os
import platform
import pstats
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
TARGET_RATIO = 1.3
BATCH = 1000  # pending entries sequenced per round
LOAD_CHUNK = 50_000  # entries per load transaction
INSERT_BATCH = 5000  # bulk_create batch for pending entries

OPERATIONS = [
    ("append", "append: sequence() 1,000 entries, per entry"),
    ("checkpoint", "sign: publish_checkpoint() after the batch"),
    ("tile", "GET full level-0 tile (median)"),
    ("bundle", "GET full entry bundle (median)"),
    ("proof", "GET inclusion proof, random index (median)"),
]


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def parse_size(text: str) -> int:
    value = float(text) if "e" in text.lower() else int(text)
    if value != int(value) or value < 256:
        raise argparse.ArgumentTypeError(f"log sizes are whole numbers of at least 256: {text}")
    return int(value)


def power_label(n: int) -> str:
    exponent = len(str(n)) - 1
    return f"10^{exponent}" if n == 10**exponent else f"{n:,}"


def fmt_time(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


# ====================================================================== child


def worker(n: int, seed: int) -> None:
    """Load a log of n entries into DATABASE_URL, then answer the parent's commands.

    Commands arrive one JSON object a line on stdin; each answer is one JSON
    line on stdout. Keeping the loaded worker alive lets the parent interleave
    passes over every size, so that other load on the machine hits all sizes alike.
    """
    os.environ["DJANGO_SETTINGS_MODULE"] = "undersigned.settings"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    random.seed(seed)
    rng = random.Random(seed + n)
    call_command("migrate", verbosity=0)
    petition, version = make_petition()
    started = time.perf_counter()
    root_ok = load(n, petition, version)
    load_seconds = time.perf_counter() - started
    say(f"loaded {n:,} entries in {load_seconds:.1f} s")
    if connection.vendor == "postgresql":
        # What autovacuum would have done by the time anyone reads a log this size.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    reads = Reads(rng)
    write_round(n, petition, version)  # warm-up, not counted
    reads.run(20)
    reply(
        {
            "n": n,
            "vendor": connection.vendor,
            "db_version": db_version(),
            "load_seconds": load_seconds,
            "root_ok": root_ok,
        }
    )
    for line in sys.stdin:
        command = json.loads(line)
        if command["do"] == "pass":
            answer: dict[str, Any] = {}
            if command["write"]:
                answer.update(write_round(n, petition, version))
            answer.update(reads.run(command["requests"]))
            answer["size"] = reads.size
            reply(answer)
        elif command["do"] == "profile":
            profile(n, petition, version, command.get("dir"))
            reply({})
        else:
            break


def reply(answer: dict[str, Any]) -> None:
    print(json.dumps(answer), flush=True)


def db_version() -> str:
    from django.db import connection

    if connection.vendor == "sqlite":
        import sqlite3

        return f"SQLite {sqlite3.sqlite_version}"
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return f"PostgreSQL {cursor.fetchone()[0]}"


def make_petition() -> tuple[Any, Any]:
    from django.contrib.auth.models import User
    from django.utils import timezone

    from undersigned.petitions.models import Petition, TextVersion

    organiser = User.objects.create_user("bench", "bench@example.org", "correct horse battery")
    petition = Petition.objects.create(
        slug="bench-clean-air",
        organiser=organiser,
        organiser_name="Bench Friends",
        status=Petition.Status.OPEN,
        opened_at=timezone.now(),
    )
    version = TextVersion.objects.create(
        petition=petition,
        number=1,
        title="Clean air for the benchmark",
        body="We ask for clean air.",
        published_at=timezone.now(),
    )
    return petition, version


def signer_payload(petition: Any, version: Any, i: int, at: datetime) -> dict[str, Any]:
    """The payload record_verification writes for a signer who shows their name."""
    from undersigned.tlog import entries

    return {
        "event": entries.SIGNATURE_VERIFIED,
        "petition": petition.slug,
        "text_sha256": version.sha256,
        "time": at.isoformat(),
        "signer": entries.signer_fields(f"Signer {i:07d}", "resident", "Kolpino", "St Petersburg"),
    }


def load(n: int, petition: Any, version: Any) -> bool:
    """Write n sequenced entries and their stored hashes, then sign a checkpoint.

    Returns whether the signed root equals the root computed in memory.
    """
    from django.db import connection, transaction
    from django.utils import timezone

    from undersigned.ledger import services
    from undersigned.ledger.models import LogEntry, LogState
    from undersigned.tlog import entries, merkle

    frontier = merkle.Frontier()
    base = datetime(2025, 1, 1, tzinfo=UTC)
    now = timezone.now()
    written = 0
    postgres = connection.vendor == "postgresql"
    for start in range(0, n, LOAD_CHUNK):
        rows = []
        stored: list[bytes] = []
        for i in range(start, min(n, start + LOAD_CHUNK)):
            at = base + timedelta(seconds=i)
            payload = signer_payload(petition, version, i, at)
            data = entries.encode(**{**payload, "time": at})
            stored.extend(frontier.append(merkle.leaf_hash(data)))
            rows.append((i, payload, data, secrets.token_hex(32)))
        if start == 0:
            # The worker must encode the stored payload to the very bytes loaded here.
            probe = LogEntry(payload=rows[0][1])
            assert services.encode_entry(probe, None) == rows[0][2], "payload/encoding mismatch"
        hashes = tuple(stored)
        with transaction.atomic():
            if postgres:
                copy_rows(petition.pk, now, rows, written, hashes)
            else:
                insert_rows(petition.pk, now, rows, written, hashes)
        written += len(hashes)
        say(f"  {min(n, start + LOAD_CHUNK):,} / {n:,} entries")
    assert written == merkle.stored_hash_count(n)
    # The raw inserts must read back through the ORM as the rows the app writes.
    first = LogEntry.objects.get(index=0)
    assert first.payload == signer_payload(petition, version, 0, base), first.payload
    assert bytes(first.data) == entries.encode(**{**first.payload, "time": base})
    assert first.created == now and first.petition_id == petition.pk
    LogState.objects.update_or_create(pk=1, defaults={"size": n})
    checkpoint = services.publish_checkpoint()
    assert checkpoint is not None and checkpoint.size == n
    return bytes(checkpoint.root) == frontier.root()


def insert_rows(
    petition_id: int, now: datetime, rows: list[Any], first_hash: int, hashes: tuple[bytes, ...]
) -> None:
    """SQLite: executemany with values prepared by the model fields (bulk_create was ~5x slower)."""
    from django.db import connection

    from undersigned.ledger.models import LogEntry, LogHash
    from undersigned.tlog import entries

    payload_field = LogEntry._meta.get_field("payload")
    created = LogEntry._meta.get_field("created").get_db_prep_value(now, connection)
    with connection.cursor() as cursor:
        cursor.executemany(
            f'INSERT INTO {LogEntry._meta.db_table} ("index", petition_id, event, payload, '  # noqa: S608
            "data, receipt_key_hash, created) VALUES (%s, %s, %s, %s, %s, %s, %s)",
            [
                (
                    i,
                    petition_id,
                    entries.SIGNATURE_VERIFIED,
                    payload_field.get_db_prep_value(payload, connection),
                    data,
                    receipt,
                    created,
                )
                for i, payload, data, receipt in rows
            ],
        )
        cursor.executemany(
            f'INSERT INTO {LogHash._meta.db_table} ("index", hash) VALUES (%s, %s)',  # noqa: S608
            [(first_hash + k, h) for k, h in enumerate(hashes)],
        )


def copy_rows(
    petition_id: int, now: datetime, rows: list[Any], first_hash: int, hashes: tuple[bytes, ...]
) -> None:
    from django.db import connection

    from undersigned.ledger.models import LogEntry, LogHash
    from undersigned.tlog import entries

    with connection.cursor() as cursor:
        raw = cursor.cursor  # the psycopg cursor under Django's wrapper
        with raw.copy(
            f'COPY {LogEntry._meta.db_table} ("index", petition_id, event, payload, data, '
            "receipt_key_hash, created) FROM STDIN"
        ) as copy:
            for i, payload, data, receipt in rows:
                copy.write_row(
                    (
                        i,
                        petition_id,
                        entries.SIGNATURE_VERIFIED,
                        json.dumps(payload),
                        data,
                        receipt,
                        now,
                    )
                )
        with raw.copy(f'COPY {LogHash._meta.db_table} ("index", hash) FROM STDIN') as copy:
            for k, h in enumerate(hashes):
                copy.write_row((first_hash + k, h))


def add_pending(petition: Any, version: Any, count: int) -> None:
    """Insert pending entries as record_verification would, outside any timing."""
    from django.utils import timezone

    from undersigned.ledger.models import LogEntry
    from undersigned.tlog import entries

    now = timezone.now()
    LogEntry.objects.bulk_create(
        [
            LogEntry(
                petition=petition,
                event=entries.SIGNATURE_VERIFIED,
                payload=signer_payload(petition, version, random.randrange(10**7), now),
                receipt_key_hash=secrets.token_hex(32),
            )
            for _ in range(count)
        ],
        batch_size=INSERT_BATCH,
    )


def write_round(n: int, petition: Any, version: Any) -> dict[str, list[float]]:
    """One batch on top of exactly n entries: insert BATCH pending entries (untimed),
    time sequence() and then publish_checkpoint(), and put the log back to n (untimed)."""
    from undersigned.ledger import services

    add_pending(petition, version, BATCH)
    t0 = time.perf_counter()
    done = services.sequence()
    t1 = time.perf_counter()
    checkpoint = services.publish_checkpoint()
    t2 = time.perf_counter()
    assert done == BATCH, f"sequenced {done}, not {BATCH}"
    assert checkpoint is not None and checkpoint.size == n + BATCH
    rollback(n)
    return {"append": [(t1 - t0) / BATCH], "checkpoint": [t2 - t1]}


def rollback(n: int) -> None:
    """Cut the log back to its first n entries and the checkpoint signed at n.

    The checkpoint state file is rewritten to match, as a restore that also
    restored that file would; on PostgreSQL the dead rows are vacuumed away
    so that later rounds do not wade through them.
    """
    from django.conf import settings
    from django.db import connection, transaction

    from undersigned.ledger import services
    from undersigned.ledger.models import LogEntry, LogHash, LogState, SignedCheckpoint
    from undersigned.tlog import merkle

    with transaction.atomic():
        LogEntry.objects.filter(index__gte=n).delete()
        LogHash.objects.filter(index__gte=merkle.stored_hash_count(n)).delete()
        SignedCheckpoint.objects.filter(size__gt=n).delete()
        LogState.objects.filter(pk=1).update(size=n)
    base = SignedCheckpoint.objects.get(size=n)
    services._write_state_file(settings.LEDGER_STATE_FILE, n, bytes(base.root), base.note)
    if connection.vendor == "postgresql":
        tables = ", ".join(
            m._meta.db_table for m in (LogEntry, LogHash, LogState, SignedCheckpoint)
        )
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM {tables}")


class Reads:
    """Requests for random full tiles, entry bundles and inclusion proofs at the latest size."""

    def __init__(self, rng: random.Random) -> None:
        from django.test import Client

        # ALLOWED_HOSTS has no "testserver" outside the test runner.
        self.client = Client(HTTP_HOST="localhost")
        self.rng = rng
        self.size = 0

    def run(self, k: int) -> dict[str, list[float]]:
        from undersigned.ledger import services
        from undersigned.tlog import merkle

        latest = services.latest_checkpoint()
        assert latest is not None
        size, root = latest.size, bytes(latest.root)
        self.size = size
        rng, full = self.rng, size // merkle.TILE_WIDTH

        def tile_ok(response: Any) -> None:
            assert response.status_code == 200, response.status_code
            assert len(response.content) == merkle.TILE_WIDTH * merkle.HASH_SIZE

        def bundle_ok(response: Any) -> None:
            assert response.status_code == 200, response.status_code
            assert len(merkle.decode_entry_bundle(response.content)) == merkle.TILE_WIDTH

        def proof_ok(response: Any) -> None:
            assert response.status_code == 200, response.status_code
            body = response.json()
            proof = [base64.b64decode(h) for h in body["proof"]]
            leaf = base64.b64decode(body["leaf_hash"])
            merkle.check_record(proof, size, root, body["index"], leaf)

        kinds: dict[str, tuple[Callable[[], str], Callable[[Any], None]]] = {
            "tile": (lambda: "/log/" + merkle.tile_path(0, rng.randrange(full), 256), tile_ok),
            "bundle": (
                lambda: "/log/" + merkle.entry_bundle_path(rng.randrange(full), 256),
                bundle_ok,
            ),
            "proof": (
                lambda: f"/log/proof/inclusion?index={rng.randrange(size)}&size={size}",
                proof_ok,
            ),
        }
        result: dict[str, list[float]] = {}
        for name, (make_path, check) in kinds.items():
            times, cpu = [], []
            for _ in range(k):
                path = make_path()
                c0, t0 = time.process_time(), time.perf_counter()
                response = self.client.get(path)
                t1, c1 = time.perf_counter(), time.process_time()
                times.append(t1 - t0)
                cpu.append(c1 - c0)  # this process only: all of it on SQLite, not on PostgreSQL
                check(response)
            result[name] = times
            result[name + "_cpu"] = cpu
        return result


def profile(n: int, petition: Any, version: Any, dump: str | None) -> None:
    """cProfile one more batch, its checkpoint and 200 requests of each kind, to stderr.

    With ``dump``, each profile is also saved there as <n>-<what>.pstats.
    """
    from django.test import Client

    from undersigned.ledger import services
    from undersigned.tlog import merkle

    def show(title: str, fn: Callable[[], object]) -> None:
        profiler = cProfile.Profile()
        profiler.enable()
        fn()
        profiler.disable()
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("cumulative").print_stats(25)
        print(f"\n======== profile at {n:,}: {title}\n{out.getvalue()}", file=sys.stderr)
        if dump:
            stats.dump_stats(Path(dump) / f"{n}-{title.split()[-1].strip('()')}.pstats")

    add_pending(petition, version, BATCH)
    show("sequence()", services.sequence)
    show("publish_checkpoint()", services.publish_checkpoint)
    rollback(n)
    client = Client(HTTP_HOST="localhost")
    rng = random.Random(1)
    tiles = ["/log/" + merkle.tile_path(0, rng.randrange(n // 256), 256) for _ in range(200)]
    proofs = [f"/log/proof/inclusion?index={rng.randrange(n)}&size={n}" for _ in range(200)]
    show("200 requests for tiles", lambda: [client.get(p) for p in tiles])
    show("200 requests for proofs", lambda: [client.get(p) for p in proofs])


# ===================================================================== parent


def machine_facts() -> dict[str, str]:
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        memory = Path("/proc/meminfo").read_text().splitlines()[0].split()[1]
        memory = f"{int(memory) / 2**20:.1f} GiB"
    except (OSError, IndexError, ValueError):
        memory = "?"
    return {
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "memory": memory,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load average at start (1, 5, 15 min)": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


class Database:
    """A fresh database per log size: a temporary SQLite file or a PostgreSQL database."""

    def __init__(self, admin_url: str | None, name: str) -> None:
        self.admin_url = admin_url
        self.name = name
        self.created: list[str] = []

    @property
    def kind(self) -> str:
        return "postgresql" if self.admin_url else "sqlite"

    def create(self, n: int, workdir: Path) -> str:
        if not self.admin_url:
            return f"sqlite:///{workdir / 'bench.sqlite3'}"
        name = f"{self.name}_{n}"
        self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self._admin(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        parts = urlsplit(self.admin_url)
        return urlunsplit(parts._replace(path="/" + name))

    def drop_all(self) -> None:
        """Drop what this run created, waiting out a server restart for up to a minute."""
        for attempt in range(13):
            try:
                while self.created:
                    self._admin(f'DROP DATABASE IF EXISTS "{self.created[-1]}" WITH (FORCE)')
                    self.created.pop()
                return
            except Exception as exc:  # the server may be restarting
                if attempt == 12:
                    say(f"could not drop {', '.join(self.created)}: {exc}; drop them by hand")
                    raise
                time.sleep(5)

    def _admin(self, sql: str) -> None:
        import psycopg

        assert self.admin_url is not None
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(sql.encode())


class Worker:
    """A child process holding one loaded log, answering one JSON line per command."""

    def __init__(self, n: int, db: Database, workdir: Path, args: argparse.Namespace) -> None:
        env = dict(os.environ)
        for name in (
            "LEDGER_SIGNER_KEY",
            "LEDGER_SIGNER_KEY_FILE",
            "LEDGER_STATE_FILE",
            "UNDERSIGNED_PRODUCTION",
            "SECRET_KEY",
            "UNDERSIGNED_HASH_KEY",
        ):
            env.pop(name, None)
        env.update(
            DATABASE_URL=db.create(n, workdir),
            UNDERSIGNED_DATA_DIR=str(workdir),
            DEBUG="0",
            LOG_LEVEL="WARNING",
        )
        command = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--worker",
            str(n),
            "--seed",
            str(args.seed),
        ]
        self.n = n
        self.process = subprocess.Popen(  # noqa: S603
            command,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def ask(self, command: dict[str, Any] | None = None) -> dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        if command is not None:
            self.process.stdin.write(json.dumps(command) + "\n")
            self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise SystemExit(f"the worker for {self.n:,} entries died (exit {self.process.wait()})")
        return dict(json.loads(line))

    def close(self) -> None:
        if self.process.poll() is None:
            assert self.process.stdin is not None
            try:
                self.process.stdin.write(json.dumps({"do": "quit"}) + "\n")
                self.process.stdin.close()
            except BrokenPipeError:
                pass
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def run(sizes: list[int], db: Database, args: argparse.Namespace) -> list[dict[str, Any]]:
    """Load every size, then interleave passes over them; returns one summary per size."""
    workers: list[Worker] = []
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="undersigned-bench-") as tmp:
        try:
            for n in sizes:  # one at a time, so that loads do not compete
                say(f"{db.kind}: loading a log of {n:,} entries")
                workdir = Path(tmp) / str(n)
                workdir.mkdir()
                workers.append(Worker(n, db, workdir, args))
                results.append(workers[-1].ask())
            raw: list[dict[str, list[float]]] = [{} for _ in sizes]
            loads: list[float] = []
            per_pass = -(-args.requests // args.passes)
            for k in range(args.passes):
                # Alternate the order too, so neither size always runs first.
                order = range(len(sizes)) if k % 2 == 0 else reversed(range(len(sizes)))
                for i in order:
                    answer = workers[i].ask(
                        {"do": "pass", "write": k < args.rounds, "requests": per_pass}
                    )
                    assert answer.pop("size") == sizes[i], "reads must see exactly N entries"
                    for key, values in answer.items():
                        raw[i].setdefault(key, []).extend(values)
                loads.append(os.getloadavg()[0])
                say(f"pass {k + 1}/{args.passes} done (load average {loads[-1]:.2f})")
            if args.profile:
                for worker in workers:
                    print(f"\n################ profiles at {worker.n:,} entries", file=sys.stderr)
                    worker.ask({"do": "profile", "dir": args.profile_dir})
        finally:
            for worker in workers:
                worker.close()
            db.drop_all()
    results[0]["load_during"] = (
        f"{min(loads):.2f} to {max(loads):.2f} (1-minute average, sampled after each pass)"
    )
    for result, timings in zip(results, raw, strict=True):
        result["raw"] = timings
        for key, values in timings.items():
            result[key] = statistics.median(values)
            result[key + "_count"] = len(values)
            result[key + "_min"] = min(values)
            result[key + "_p90"] = (
                statistics.quantiles(values, n=10, method="inclusive")[-1]
                if len(values) > 1
                else values[0]
            )
    return results


def table(results: list[dict[str, Any]]) -> list[list[str]]:
    small, large = results[0], results[-1]
    ratio_name = f"t({power_label(large['n'])})/t({power_label(small['n'])})"
    header = [
        "operation",
        *(f"t({power_label(r['n'])})" for r in results),
        f"ratio {ratio_name}",
        "ratio of minima",
    ]
    rows = [header]
    for key, label in OPERATIONS:
        ratio = large[key] / small[key]
        verdict = "ok" if ratio <= TARGET_RATIO else f"> {TARGET_RATIO}"
        rows.append(
            [
                label,
                *(fmt_time(r[key]) for r in results),
                f"{ratio:.2f} ({verdict})",
                f"{large[key + '_min'] / small[key + '_min']:.2f}",
            ]
        )
    return rows


def plain(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for k, row in enumerate(rows):
        lines.append(
            "  ".join(
                cell.ljust(w) if i == 0 else cell.rjust(w)
                for i, (cell, w) in enumerate(zip(row, widths, strict=True))
            )
        )
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown(rows: list[list[str]]) -> str:
    out = [
        "| " + " | ".join(rows[0]) + " |",
        "|" + "|".join(["---"] + ["---:"] * (len(rows[0]) - 1)) + "|",
    ]
    out += ["| " + " | ".join(row) + " |" for row in rows[1:]]
    return "\n".join(out)


def report(
    db: Database,
    results: list[dict[str, Any]],
    facts: dict[str, str],
    args: argparse.Namespace,
    rows: list[list[str]],
) -> str:
    date = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    sizes = ",".join(str(r["n"]) for r in results)
    lines = [
        f"# Ledger benchmark: {db.kind}",
        "",
        f"Run {date} with `bench/ledger.py --sizes {sizes} --rounds {args.rounds} "
        f"--requests {args.requests} --passes {args.passes}`.",
        "",
        f"- database: {results[0]['db_version']}"
        + (
            " (temporary file; WAL, synchronous=FULL as in settings)"
            if db.kind == "sqlite"
            else f" (databases `{db.name}_<N>`, VACUUM ANALYZE after loading)"
        ),
        *(f"- {name}: {value}" for name, value in facts.items()),
        "",
        markdown(rows),
        "",
        f"Target: every ratio ≤ {TARGET_RATIO}. The ratio compares medians; the ratio of "
        "minima is the same comparison with other load on the machine mostly taken out.",
        "",
        f"- append: median over {args.rounds} batches (after one warm-up batch) of the time "
        f"`services.sequence()` takes for {BATCH:,} pending entries, divided by {BATCH:,}. "
        "After each batch the log is cut back to N entries and its checkpoint at N "
        "(untimed; on PostgreSQL followed by VACUUM), so every batch lands on exactly N.",
        "- sign: `services.publish_checkpoint()` right after each batch (median), including "
        "both consistency checks and the fsync'd state file.",
        f"- requests: `django.test.Client` through the whole middleware stack, "
        f"{results[0].get('tile_count', 0)} timed requests per kind and size (after 20 "
        "warm-up requests), at random full tiles / random leaf indexes of the latest "
        "checkpoint.",
        f"- sizes are measured interleaved in {args.passes} passes, alternating order, so "
        "that load from other processes on the machine falls on every size alike.",
        "",
        "Spread (min / p90) and bulk-load time:",
        "",
        "| log size | bulk load | loaded root matches | "
        + " | ".join(key for key, _ in OPERATIONS)
        + " |",
        "|---:|---:|---|" + "---:|" * len(OPERATIONS),
        *(
            f"| {r['n']:,} | {r['load_seconds']:.1f} s | {r['root_ok']} | "
            + " | ".join(
                f"{fmt_time(r[key + '_min'])} / {fmt_time(r[key + '_p90'])}"
                for key, _ in OPERATIONS
            )
            + " |"
            for r in results
        ),
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes", default="1e3,1e6", help="comma-separated log sizes (default 1e3,1e6)"
    )
    parser.add_argument(
        "--rounds", type=int, default=20, help="timed batches of appends (and checkpoints) per size"
    )
    parser.add_argument(
        "--requests", type=int, default=200, help="timed requests per kind and size"
    )
    parser.add_argument(
        "--passes",
        type=int,
        default=20,
        help="interleaved passes over the sizes (at least --rounds)",
    )
    parser.add_argument("--seed", type=int, default=20250101)
    parser.add_argument(
        "--pg-database",
        default="undersigned_bench_ledger",
        help="prefix of the databases created (and dropped) on the DATABASE_URL server",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also print cProfile summaries of each operation to stderr",
    )
    parser.add_argument(
        "--profile-dir",
        help="with --profile, also save each profile there as <N>-<operation>.pstats",
    )
    parser.add_argument("--no-write", action="store_true", help="print only; write no results")
    parser.add_argument("--raw", type=Path, help="also write every timing, as JSON, to this file")
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker is not None:
        worker(args.worker, args.seed)
        return

    sizes = sorted(parse_size(s) for s in args.sizes.split(","))
    args.passes = max(args.passes, args.rounds)
    if args.profile_dir:
        args.profile = True
        args.profile_dir = str(Path(args.profile_dir).resolve())
        Path(args.profile_dir).mkdir(parents=True, exist_ok=True)
    url = os.environ.get("DATABASE_URL", "")
    if url and not url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("DATABASE_URL must be a PostgreSQL URL (or unset for SQLite)")
    db = Database(url or None, args.pg_database)
    facts = machine_facts()
    results = run(sizes, db, args)
    facts["load average while measuring"] = results[0]["load_during"]
    rows = table(results)
    print()
    print(f"{results[0]['db_version']}, {facts['nproc']} CPUs, Python {facts['python']}")
    print(plain(rows))
    for r in results:
        print(
            f"bulk load of {r['n']:,}: {r['load_seconds']:.1f} s; "
            f"loaded root matches: {r['root_ok']}"
        )
    if args.raw:
        args.raw.write_text(json.dumps(results, indent=1))
    if not args.no_write:
        RESULTS.mkdir(parents=True, exist_ok=True)
        path = RESULTS / f"ledger-{db.kind}.md"
        path.write_text(report(db, results, facts, args, rows))
        print(f"written to {path.relative_to(HERE.parent)}")


if __name__ == "__main__":
    main()
