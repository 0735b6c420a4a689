#!/usr/bin/env python
"""The Django side of the benchmarks, run by bench/http_load.py and bench/scale.py.

Each command prints one JSON line last. Run with the site's environment
(DJANGO_SETTINGS_MODULE=benchsite.settings, PYTHONPATH=bench, ...).

    tasks.py setup                 organiser, open petition, bare-insert table
    tasks.py petitions N           N more open petitions with a few verified each (the listings)
    tasks.py seed SLUG START END [log]   bulk-load signatures START..END-1 with
                                   tallies (and their log entries)
    tasks.py tokens SLUG FILE      confirm tokens from the queued confirmation mails
    tasks.py mint SLUG N FILE      N unconfirmed signatures with known confirm tokens
    tasks.py export SLUG [product] stream a CSV export (bench-only, or the product's
                                   from the log); rows/s and peak RSS
    tasks.py timer SLUG            time views on commands from stdin (bench/scale.py)
    tasks.py statements SLUG       the SQL statements of one sign POST and one confirm POST
    tasks.py profile SLUG WHAT [N] pyinstrument profile: page, api, page-hit, api-hit, queue,
                                   export, product-export or sign
"""

from __future__ import annotations

import csv
import json
import os
import re
import resource
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchsite.settings")

import django

django.setup()

from benchsite.views import create_table  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Case, CharField, F, Func, Value, When  # noqa: E402
from django.db.models.functions import Cast  # noqa: E402
from django.http import StreamingHttpResponse  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from undersigned.core.fields import EncryptedTextField  # noqa: E402
from undersigned.outbox.models import OutgoingMail  # noqa: E402
from undersigned.petitions import services as petitions  # noqa: E402
from undersigned.petitions.models import Petition, TextVersion  # noqa: E402
from undersigned.signing.models import Signature  # noqa: E402
from undersigned.signing.tokens import new_token  # noqa: E402

SLUG = "surge"
CONFIRM_LINK = re.compile(r"/confirm/([A-Za-z0-9_-]+)/")


def reply(answer: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(answer) + "\n")
    sys.stdout.flush()


def setup() -> None:
    organiser, _ = User.objects.get_or_create(username="organiser")
    organiser.set_password("bench organiser password")
    organiser.save()
    petition = Petition.objects.create(
        slug=SLUG,
        organiser=organiser,
        organiser_name="Benchmark organisers",
        thresholds=[10_000, 100_000, 1_000_000],
    )
    TextVersion.objects.create(
        petition=petition,
        number=1,
        title="Stop the surge from breaking petitions",
        body="We, the undersigned, ask that petition sites stay up when a link is shared.\n" * 20,
    )
    petitions.publish(petition, organiser)
    create_table()
    reply({"slug": SLUG, "petition": petition.pk})


# Words the listing benchmark searches for: one petition in eight has each.
LISTING_WORDS = ["парки", "schools", "deputies", "река", "transport", "library", "больница", "air"]


def more_petitions(count: str) -> None:
    """Open petitions for the listings to show, sort and search (bench/http_load.py).

    Each has a verified count in its tally (a petition's counts are its tally
    rows; no signature is needed for a listing to read them) and words in two
    scripts, so the search has something to fold and find.
    """
    organiser = User.objects.get(username="organiser")
    for n in range(int(count)):
        petition = Petition.objects.create(
            slug=f"listed-{n}", organiser=organiser, organiser_name="Benchmark organisers"
        )
        word = LISTING_WORDS[n % len(LISTING_WORDS)]
        TextVersion.objects.create(
            petition=petition,
            number=1,
            title=f"Petition {n} about {word}",
            body=f"Депутатам: we ask about {word} in district {n}.\n" * 10,
        )
        petitions.publish(petition, organiser)
        petitions.add_to_tally(petition.pk, ("", ""), "verified", (n * 37) % 500 + 1)
    reply({"petitions": int(count), "words": LISTING_WORDS})


def do_seed(slug: str, start: int, end: int, log: bool = False) -> None:
    # Imported here: the loader follows the current product code, and the other
    # commands also run against older source trees (bench/export.py --before).
    import seed

    petition = Petition.objects.get(slug=slug)
    seconds = seed.load(petition, start, end)
    log_seconds = seed.load_log(petition, start, end) if log else 0.0
    reply({"rows": end - start, "seconds": seconds, "log_seconds": log_seconds})


def tokens(slug: str, out: str) -> None:
    """Read the confirm links out of the confirmation mails the sign requests queued.

    The worker is not running during the benchmark, so every mail is still in
    the outbox, sealed like any other; this opens it as the worker would.
    """
    found = []
    for body in (
        OutgoingMail.objects.filter(kind="confirm", sent_at__isnull=True)
        .order_by("id")
        .values_list("body", flat=True)
        .iterator(chunk_size=2000)
    ):
        match = CONFIRM_LINK.search(body)
        if match:
            found.append(match.group(1))
    Path(out).write_text("".join(t + "\n" for t in found))
    reply({"tokens": len(found)})


def mint(slug: str, count: str, out: str) -> None:
    """Unconfirmed signatures with known confirm tokens, written straight to the database.

    For when the sign run queued fewer confirmation mails than the confirm run
    needs: the rows are what sign() writes (sealed name and address, hashed
    tokens, expiry), without the mail.
    """
    petition = Petition.objects.get(slug=slug)
    version = petition.shown_version()
    expires = timezone.now() + timedelta(hours=72)
    raws: list[str] = []
    batch: list[Signature] = []
    for i in range(int(count)):
        raw, digest = new_token()
        raws.append(raw)
        batch.append(
            Signature(
                petition=petition,
                text_version=version,
                full_name=f"Minted Signer {i}",
                email=f"minted{i}@example.org",
                email_hash=new_token()[1],  # unique, like a keyed hash of an address
                confirm_token_hash=digest,
                confirm_token_expires=expires,
                withdraw_token_hash=new_token()[1],
            )
        )
        if len(batch) == 5000:
            Signature.objects.bulk_create(batch)
            batch = []
    Signature.objects.bulk_create(batch)
    Path(out).write_text("".join(t + "\n" for t in raws))
    reply({"tokens": len(raws)})


# ------------------------------------------------------------------ export

EXPORT_FIELDS = ["name", "role", "municipality", "region", "verified_at", "text_version"]


class Echo:
    """A file-like object whose write returns the line, for csv.writer inside a generator."""

    def write(self, value: str) -> str:
        return value


def export_rows(petition: Petition) -> Iterator[str]:
    """Bench-only streaming CSV of verified signatures (the product's export is issue 7).

    Constant memory whatever the count: a server-side cursor (PostgreSQL) or
    chunked fetches (SQLite) in the index order of verified_at, tuples rather
    than model instances, and CSV text yielded a thousand rows at a time.
    Speed: names are sealed at rest, so each shown name costs a decryption;
    hidden names are never decrypted (the database hands back "" for them),
    and the timestamp comes as text rather than being parsed into a datetime
    only to be printed again.
    """
    writer = csv.writer(Echo())
    yield writer.writerow(EXPORT_FIELDS)
    sqlite = connection.vendor == "sqlite"
    shown_name = Case(
        When(show_name=True, then=F("full_name")),
        default=Value(""),
        output_field=EncryptedTextField(purpose="signature.full_name"),
    )
    # The timestamp as text from the database: parsing it into an aware datetime
    # only to print it again costs more per row than the decryption.
    verified_at: Func | Cast = (
        Cast("verified_at", CharField())
        if sqlite
        else Func(
            F("verified_at"),
            template="to_char(%(expressions)s AT TIME ZONE 'UTC', "
            '\'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"\')',
            output_field=CharField(),
        )
    )
    rows = (
        Signature.objects.filter(petition=petition, state=Signature.State.VERIFIED)
        .order_by("verified_at")
        .values_list(
            shown_name, "role", "municipality", "region", verified_at, "text_version__number"
        )
        .iterator(chunk_size=10000)
    )
    batch: list[str] = []
    for name, role, municipality, region, at, version in rows:
        # SQLite stores "YYYY-MM-DD HH:MM:SS.ffffff" in UTC; PostgreSQL's is ready.
        when = at.replace(" ", "T", 1) + "+00:00" if sqlite else at
        batch.append(writer.writerow((name, role, municipality, region, when, version)))
        if len(batch) >= 1000:
            yield "".join(batch)
            batch = []
    if batch:
        yield "".join(batch)


def export_response(petition: Petition) -> StreamingHttpResponse:
    response = StreamingHttpResponse(export_rows(petition), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="{petition.slug}.csv"'
    return response


def export(slug: str, which: str = "bench") -> None:
    """Stream an export to nowhere: the bench-only one, or the product's (from the log)."""
    petition = Petition.objects.get(slug=slug)
    if which == "product":
        response = Client(HTTP_HOST="127.0.0.1").get(f"/p/{slug}/signatories.csv")
        assert response.status_code == 200 and isinstance(response, StreamingHttpResponse)
    else:
        response = export_response(petition)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    cpu_began = time.process_time()
    began = time.perf_counter()
    lines = size = 0
    # Bounded: an export that slows down with size must not hold the run for hours.
    limit = float(os.environ.get("BENCH_EXPORT_SECONDS", 600))
    stopped = False
    for chunk in response.streaming_content:
        assert isinstance(chunk, bytes)
        lines += chunk.count(b"\n")
        size += len(chunk)
        if time.perf_counter() - began > limit:
            stopped = True
            break
    seconds = time.perf_counter() - began
    # This process's own CPU time: on a busy machine, a figure that depends
    # less on how much of a core the run was given.
    cpu_seconds = time.process_time() - cpu_began
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    reply(
        {
            "rows": lines - 1,
            "bytes": size,
            "seconds": seconds,
            "rows_per_s": (lines - 1) / seconds,
            "cpu_seconds": cpu_seconds,
            "rows_per_cpu_s": (lines - 1) / cpu_seconds,
            "rss_before_mb": before / 1024,
            "peak_rss_mb": peak / 1024,
            "stopped_early": stopped,
        }
    )


# ------------------------------------------------------------------ timing views


def forget_cached_counts() -> None:
    # Before the count cache existed there is nothing to forget.
    forget: Callable[[], None] | None = getattr(petitions, "forget_cached_counts", None)
    if forget is not None:
        forget()


def moderator_client() -> Client:
    """The organiser, logged in with a confirmed second factor when moderation requires one."""
    client = Client(HTTP_HOST="127.0.0.1")
    organiser = User.objects.get(username="organiser")
    client.force_login(organiser)
    try:
        from django_otp import DEVICE_ID_SESSION_KEY
        from django_otp.plugins.otp_totp.models import TOTPDevice
    except ImportError:  # before moderators needed a second factor
        return client
    device, _ = TOTPDevice.objects.get_or_create(user=organiser, name="bench", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def timer(slug: str) -> None:
    """Answer "pass K" with K timings of each operation, until "quit".

    "miss" times start from an empty count cache (what a request costs when
    it refreshes the counts), "hit" times follow straight after.
    """
    petition = Petition.objects.get(slug=slug)
    client = Client(HTTP_HOST="127.0.0.1")
    moderator = moderator_client()
    page, api = f"/p/{slug}/", f"/api/petitions/{slug}"

    def get(c: Client, url: str) -> Callable[[], None]:
        def run() -> None:
            response = c.get(url)
            assert response.status_code == 200, (url, response.status_code)
            if isinstance(response, StreamingHttpResponse):
                for _ in response.streaming_content:
                    pass

        return run

    def miss(run: Callable[[], None]) -> Callable[[], None]:
        def wrapped() -> None:
            forget_cached_counts()
            run()

        return wrapped

    operations: dict[str, tuple[Callable[[], None], Callable[[], None] | None]] = {
        "page": (get(client, page), forget_cached_counts),
        "page (cached counts)": (get(client, page), None),
        "count JSON": (get(client, api), forget_cached_counts),
        "count JSON (cached)": (get(client, api), None),
        "per-region tally": (lambda: petitions.counts_by_region(petition) and None, None),
        "moderator queue": (get(moderator, "/moderation/"), None),
    }
    for run, _ in operations.values():
        run()  # warm up: templates, connections, caches of the database
    for line in sys.stdin:
        command = line.split()
        if not command or command[0] == "quit":
            break
        k = int(command[1])
        times: dict[str, list[float]] = {name: [] for name in operations}
        for _ in range(k):
            for name, (run, prepare) in operations.items():
                if prepare is not None:
                    prepare()
                began = time.perf_counter()
                run()
                times[name].append(time.perf_counter() - began)
        reply({"times": times})


def profile(slug: str, what: str, repeat: str = "20") -> None:
    """pyinstrument's text profile of one operation, repeated (pip install pyinstrument)."""
    from pyinstrument import Profiler

    petition = Petition.objects.get(slug=slug)
    client = moderator_client()
    emails = (f"profiled{i}@m{i % 1000}.example.org" for i in range(10**9))
    addresses = (f"10.99.{i // 256 % 256}.{i % 256}" for i in range(10**9))
    runs: dict[str, Callable[[], object]] = {
        "page": lambda: client.get(f"/p/{slug}/"),
        "api": lambda: client.get(f"/api/petitions/{slug}"),
        "queue": lambda: client.get("/moderation/"),
        "export": lambda: sum(1 for _ in export_rows(petition)),
        "product-export": lambda: sum(
            1 for _ in Client(HTTP_HOST="127.0.0.1").get(f"/p/{slug}/signatories.csv")
        ),
        "sign": lambda: client.post(
            f"/p/{slug}/sign/",
            {"full_name": "Profiled Signer", "email": next(emails), "visibility": "show"},
            HTTP_X_FORWARDED_FOR=next(addresses),
        ),
    }
    runs["page-hit"] = runs["page"]
    runs["api-hit"] = runs["api"]
    run = runs[what]
    run()
    profiler = Profiler(interval=0.0005)
    profiler.start()
    for _ in range(int(repeat)):
        if not what.endswith("-hit"):
            forget_cached_counts()
        run()
    profiler.stop()
    sys.stderr.write(profiler.output_text(unicode=True, color=False, show_all=False))
    reply({"profiled": what})


def statements(slug: str) -> None:
    """The SQL statements of one sign POST and one confirm POST (the profiles' round trips)."""
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1")
    client.get(f"/p/{slug}/")
    counts: dict[str, list[str]] = {}
    with CaptureQueriesContext(connection) as queries:
        response = client.post(
            f"/p/{slug}/sign/",
            {"full_name": "Counted Signer", "email": "counted@example.org", "visibility": "show"},
            HTTP_X_FORWARDED_FOR="10.88.0.1",
        )
    assert response.status_code == 302, response.status_code
    counts["sign POST"] = [q["sql"][:60] for q in queries.captured_queries]
    body = (
        OutgoingMail.objects.filter(kind="confirm").order_by("-id").values_list("body", flat=True)
    )
    match = CONFIRM_LINK.search(body[0])
    assert match is not None
    with CaptureQueriesContext(connection) as queries:
        response = client.post(f"/confirm/{match.group(1)}/")
    assert response.status_code == 200, response.status_code
    counts["confirm POST"] = [q["sql"][:60] for q in queries.captured_queries]
    for name, sql in counts.items():
        sys.stderr.write(f"{name}: {len(sql)} statements\n" + "".join(f"  {q}\n" for q in sql))
    reply({name: len(sql) for name, sql in counts.items()})


def vendor() -> None:
    reply({"vendor": connection.vendor})


COMMANDS: dict[str, Callable[..., None]] = {
    "petitions": more_petitions,
    "setup": setup,
    "seed": lambda slug, a, b, *log: do_seed(slug, int(a), int(b), log == ("log",)),
    "tokens": tokens,
    "mint": mint,
    "export": export,
    "timer": timer,
    "vendor": vendor,
    "profile": profile,
    "statements": statements,
}


def main(argv: Iterable[str]) -> None:
    name, *args = list(argv)
    COMMANDS[name](*args)


if __name__ == "__main__":
    main(sys.argv[1:])
