#!/usr/bin/env python
"""HTTP load on the production server: run by hand, never by the test suite.

For each database (SQLite file, PostgreSQL database `undersigned_bench5_http`,
created and dropped here) this installs a fresh site in production mode
(UNDERSIGNED_PRODUCTION=1, secrets generated for the run, HTTPS redirect off
because the load speaks plain HTTP to 127.0.0.1 as a TLS proxy would), seeds
one open petition with --seed verified signatures, starts `undersigned serve`
(gunicorn) on 127.0.0.1, and drives it with Debian's `wrk` from a separate
process, each run bounded by --seconds:

- GET  /bench/trivial            reference: the full middleware stack, no database
- POST /bench/insert             reference: one row inserted and committed, CSRF-checked
- GET  /p/<slug>/                the petition page
- GET  /api/petitions/<slug>     the count JSON
- GET  /                         the home page: the open petitions with the most signatures
- GET  /petitions/               the listing: open, by signatures, page 1
- GET  /petitions/?state=…       the listing with a state filter: all states, newest, page 2
- GET  /petitions/?q=…           a search, in another script than the texts' words, and
                                 the same search with a state filter and the other order
- GET  /api/petitions?page=1     the API's listing, and a search in it with a state filter,
                                 each request from its own address (the listings are
                                 limited per address, RATE_LIMIT_API)
- POST /p/<slug>/sign/           the sign form: real CSRF cookie and token, unique emails
- POST /confirm/<token>/         confirming, with the tokens read from the confirmation
                                 mails the sign run queued (the worker is not running,
                                 so they are still in the outbox)
- a mixed run: signing and confirming together while a prober confirms its own
  signatures and polls the count JSON until the count includes them (freshness)

Every figure is also printed as a ratio to the trivial view (reads) and to the
bare insert (writes). The two reference views live in bench/benchsite, a
URLconf that adds them to the product's URLs; the product's urls.py is untouched.

    .venv/bin/python bench/http_load.py                 # both databases
    .venv/bin/python bench/http_load.py --db postgresql --seconds 10
    .venv/bin/python bench/http_load.py --servers 2x1,2x4,4x1,4x2   # choose workers×threads
    .venv/bin/python bench/http_load.py --profile sign  # py-spy top of a worker under load
    .venv/bin/python bench/http_load.py --reads-only --seconds 3   # the reads and listings only

Writes bench/results/http-<sqlite|postgresql>.md (and http-servers-<db>.md for --servers).
Needs `apt-get install wrk`; --profile needs `pip install py-spy`.
"""

# ruff: noqa: S310, S603 - our own commands and URLs on 127.0.0.1, no outside input

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness
from harness import RESULTS, Load, Server, Site, say, wrk


def csrf_env(server: Server, slug: str, run: str) -> dict[str, str]:
    cookie, token = harness.csrf_pair(server.base, f"/p/{slug}/")
    return {"BENCH_CSRF_COOKIE": cookie, "BENCH_CSRF_TOKEN": token, "BENCH_RUN": run}


class Truth:
    """The verified count straight from the tallies, bypassing the app (for freshness)."""

    def __init__(self, site: Site, petition: int) -> None:
        self.petition = petition
        if site.db == "postgresql":
            import psycopg

            self.pg = psycopg.connect(site.database_url, autocommit=True)
            self.sql = (
                "SELECT COALESCE(SUM(verified), 0) FROM petitions_tally WHERE petition_id = %s"
            )
        else:
            self.lite = sqlite3.connect(site.data_dir / "undersigned.sqlite3", timeout=20)
            self.sql = (
                "SELECT COALESCE(SUM(verified), 0) FROM petitions_tally WHERE petition_id = ?"
            )

    def verified(self) -> int:
        if hasattr(self, "pg"):
            row = self.pg.execute(self.sql, [self.petition]).fetchone()
        else:
            row = self.lite.execute(self.sql, [self.petition]).fetchone()
        assert row is not None
        return int(row[0])


def post_form(url: str, fields: dict[str, str], cookie: str) -> int:
    data = urllib.parse.urlencode(fields).encode()
    request = urllib.request.Request(
        url, data=data, headers={"Cookie": f"csrftoken={cookie}"}, method="POST"
    )

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object, **kwargs: object) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def api_verified(base: str, slug: str) -> int:
    with urllib.request.urlopen(f"{base}/api/petitions/{slug}", timeout=30) as response:
        return int(json.loads(response.read())["verified_count"])


def freshness_probe(
    server: Server,
    site: Site,
    slug: str,
    petition: int,
    tokens: list[str],
    csrf: dict[str, str],
    stop: threading.Event,
    delays: list[tuple[float, float]],
) -> None:
    """Confirm one signature at a time; time until the count JSON includes it.

    Right after the confirm returns, the true count (which includes it) is
    read from the tallies; the delay runs until a count JSON answer shows at
    least that. Two delays per probe: to when that answer arrived (what a
    visitor sees, including the request's own time under load), and to when
    the request that got it was sent (closer to the cache's own staleness).
    Others' confirmations in between only make both more conservative.
    """
    truth = Truth(site, petition)
    for token in tokens:
        if stop.is_set():
            break
        status = post_form(
            f"{server.base}/confirm/{token}/",
            {"csrfmiddlewaretoken": csrf["BENCH_CSRF_TOKEN"]},
            csrf["BENCH_CSRF_COOKIE"],
        )
        returned = time.monotonic()
        if status != 200:
            continue
        must_show = truth.verified()
        while True:
            sent = time.monotonic()
            if api_verified(server.base, slug) >= must_show:
                delays.append((time.monotonic() - returned, max(0.0, sent - returned)))
                break
            if sent - returned > 30:
                delays.append((float("inf"), float("inf")))
                break
            time.sleep(0.005)
        time.sleep(random.uniform(0.02, 0.1))


PROBERS = 4
LISTED_PETITIONS = 60
# The listings measured beside the petition page (issue 14 §6): path and wrk script.
# With and without a search and a state filter: /petitions/ alone is the open
# petitions by signatures, page 1; the API's default state is all.
LISTINGS = [
    ("home page", "/", "get.lua"),
    ("listing", "/petitions/", "get.lua"),
    ("listing, state filter", "/petitions/?state=all&sort=newest&page=2", "get.lua"),
    # Latin for the Cyrillic "река" in the titles of one petition in eight (bench/tasks.py).
    ("search", "/petitions/?q=reka", "get.lua"),
    ("search, state filter", "/petitions/?q=reka&state=all&sort=newest", "get.lua"),
    ("API listing", "/api/petitions?page=1&sort=signatures", "get_clients.lua"),
    ("API search, state filter", "/api/petitions?q=reka&state=open&page=1", "get_clients.lua"),
]


def ratio(value: float, reference: float) -> str:
    return f"{value / reference:.0%}" if reference else "–"


def load_average() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.1f}/{five:.1f}"


def open_site(db: str, args: argparse.Namespace) -> tuple[Site, str, int]:
    site = Site(db, "http")
    if args.no_cache:
        site.env["BENCH_COUNT_CACHE_SECONDS"] = "0"
    say(f"{db}: installing")
    site.install()
    setup = site.task("setup")
    # Other open petitions beside the seeded one, so that the listings have pages to
    # sort and words to find (bench/tasks.py petitions).
    site.task("petitions", str(LISTED_PETITIONS))
    if args.seed:
        say(f"{db}: seeding {args.seed:,} signatures")
        site.task("seed", setup["slug"], "0", str(args.seed))
    return site, setup["slug"], setup["petition"]


def measure_site(db: str, args: argparse.Namespace) -> str:
    site, slug, petition = open_site(db, args)
    try:
        server = Server(site, workers=args.workers, threads=args.threads, server=args.server)
        with server:
            say(f"{db}: serving with {server.label} on {server.base}")
            return run_suite(site, server, slug, petition, args)
    finally:
        if args.keep:
            say(f"kept {site.data_dir} (env.json holds its keys)")
        else:
            site.close()


class Runner:
    """Bounded wrk runs against one server, remembered by name."""

    def __init__(self, server: Server, connections: int) -> None:
        self.server = server
        self.connections = connections
        self.loads: dict[str, Load] = {}

    def __call__(
        self,
        name: str,
        path: str,
        script: str,
        seconds: float,
        lua_env: dict[str, str] | None = None,
    ) -> Load:
        say(f"  {name} …")
        load = wrk(
            name,
            self.server.base + path,
            script,
            seconds=seconds,
            connections=self.connections,
            lua_env=lua_env,
        )
        say(
            f"  {name}: {load.rps:,.0f}/s p50 {load.p50_ms:.1f} ms "
            f"p99 {load.p99_ms:.1f} ms errors {load.errors} {load.error_detail}"
        )
        self.loads[name] = load
        return load


def warm(server: Server, slug: str, csrf: dict[str, str]) -> None:
    """Every path once before measuring (imports, templates, connections, caches)."""
    for path in ("/bench/trivial", f"/p/{slug}/", f"/api/petitions/{slug}"):
        wrk("warm", server.base + path, "get.lua", seconds=1, connections=4)
    for _, path, script in LISTINGS:
        wrk("warm", server.base + path, script, seconds=1, connections=4)
    wrk("warm", server.base + "/bench/insert", "insert.lua", seconds=1, connections=4, lua_env=csrf)


def run_suite(
    site: Site, server: Server, slug: str, petition: int, args: argparse.Namespace
) -> str:
    seconds = args.seconds
    csrf = csrf_env(server, slug, "w")
    warm(server, slug, {**csrf, "BENCH_RUN": "warm"})
    started_load = load_average()
    run = Runner(server, args.connections)
    run("trivial view", "/bench/trivial", "get.lua", seconds)
    run("bare insert", "/bench/insert", "insert.lua", seconds, {**csrf, "BENCH_RUN": "a"})
    run("petition page", f"/p/{slug}/", "get.lua", seconds)
    run("count JSON", f"/api/petitions/{slug}", "get.lua", seconds)
    for name, path, script in LISTINGS:
        run(name, path, script, seconds)
    notes = [
        f"listings: {LISTED_PETITIONS + 1} open petitions; "
        + "; ".join(f"{name} `{path}`" for name, path, _ in LISTINGS)
    ]
    if args.reads_only:
        notes.append(
            f"load average (1/5 min) at the start {started_load}, at the end {load_average()}"
        )
        return report(site, server, run.loads, [], args, notes)
    # Signing runs twice as long, so that most confirm links come from its mails.
    sign_env = {**csrf, "BENCH_RUN": "a"}
    if args.profile == "sign":
        profile(
            server, lambda: run("sign POST", f"/p/{slug}/sign/", "sign.lua", 2 * seconds, sign_env)
        )
    else:
        run("sign POST", f"/p/{slug}/sign/", "sign.lua", 2 * seconds, sign_env)
    # The sign POST's own work by hand, without form, ORM or limits (benchsite/views.py).
    run(
        "sign floor (bench)",
        f"/bench/sign-floor/{slug}",
        "sign.lua",
        seconds,
        {**csrf, "BENCH_RUN": "f"},
    )

    with tempfile.TemporaryDirectory() as tmp:
        tokens, origin = confirm_tokens(site, slug, Path(tmp), seconds)
        say(f"  confirm links: {origin}")
        # The prober keeps some for itself; the confirm run and the mixed run share the rest.
        probe_tokens, rest = tokens[:400], tokens[400:]
        half = len(rest) // 2
        confirm_file, mixed_file = Path(tmp) / "confirm", Path(tmp) / "mixed"
        confirm_file.write_text("".join(t + "\n" for t in rest[:half]))
        mixed_file.write_text("".join(t + "\n" for t in rest[half:]))
        confirm_env = {**csrf, "BENCH_TOKENS": str(confirm_file)}
        if args.profile == "confirm":
            profile(
                server,
                lambda: run("confirm POST", "/confirm/x/", "confirm.lua", seconds, confirm_env),
            )
        else:
            run("confirm POST", "/confirm/x/", "confirm.lua", seconds, confirm_env)

        # Sign and confirm at once, half the connections each, while the prober
        # confirms its own signatures and polls the count JSON.
        say("  sign + confirm with the freshness prober …")
        stop = threading.Event()
        delays: list[tuple[float, float]] = []
        probers = [
            threading.Thread(
                target=freshness_probe,
                args=(server, site, slug, petition, probe_tokens[k::PROBERS], csrf, stop, delays),
            )
            for k in range(PROBERS)
        ]
        results: dict[str, Load] = {}

        def mixed(name: str, path: str, script: str, env: dict[str, str]) -> None:
            results[name] = wrk(
                name,
                server.base + path,
                script,
                seconds=seconds,
                connections=max(1, args.connections // 2),
                threads=1,
                lua_env=env,
            )

        both = [
            threading.Thread(
                target=mixed,
                args=("mixed: sign", f"/p/{slug}/sign/", "sign.lua", {**csrf, "BENCH_RUN": "m"}),
            ),
            threading.Thread(
                target=mixed,
                args=(
                    "mixed: confirm",
                    "/confirm/x/",
                    "confirm.lua",
                    {**csrf, "BENCH_TOKENS": str(mixed_file)},
                ),
            ),
        ]
        for t in [*both, *probers]:
            t.start()
        for t in both:
            t.join()
        stop.set()
        for t in probers:
            t.join()
        run.loads.update(results)
    notes += [
        f"confirm links: {origin}",
        f"load average (1/5 min) at the start {started_load}, at the end {load_average()}",
    ]
    return report(site, server, run.loads, delays, args, notes)


# Upper bound of the confirm rate, so that no run runs out of links.
CONFIRM_CEILING = 2500


def confirm_tokens(site: Site, slug: str, tmp: Path, seconds: float) -> tuple[list[str], str]:
    """Confirm links from the queued confirmation mails, topped up with minted ones if short."""
    from_mail = tmp / "from-mail"
    site.task("tokens", slug, str(from_mail))
    tokens = from_mail.read_text().split()
    need = 400 + int(seconds * CONFIRM_CEILING * 2)
    origin = f"{len(tokens):,} read from the confirmation mails the sign runs queued"
    if len(tokens) < need:
        minted = tmp / "minted"
        site.task("mint", slug, str(need - len(tokens)), str(minted))
        extra = minted.read_text().split()
        # The mail links come first, so the confirm run uses them before minted ones.
        tokens += extra
        origin += f", {len(extra):,} minted in the database (the rows sign() writes, no mail)"
    return tokens, origin


def profile(server: Server, load: Callable[[], object]) -> None:
    """py-spy samples of one worker while the load runs: the hottest functions, to stderr."""
    worker = server.pids()[-1]
    out = Path(tempfile.gettempdir()) / f"bench5-py-spy-{worker}.txt"
    spy = subprocess.Popen(
        [
            str(harness.ROOT / ".venv/bin/py-spy"),
            "record",
            "--pid",
            str(worker),
            "--format",
            "raw",
            "--duration",
            "8",
            "--output",
            str(out),
            "--nonblocking",
            # Waiting (for the database, a lock, a commit) is what a request spends
            # its time on too; without this py-spy drops those samples.
            "--idle",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    load()
    spy.wait(timeout=60)
    say(f"py-spy samples (collapsed stacks) in {out}")
    print(hottest(out), file=sys.stderr)


def hottest(collapsed: Path, top: int = 25) -> str:
    """Self and total share of samples per function, from py-spy's collapsed stacks."""
    own: dict[str, int] = {}
    total: dict[str, int] = {}
    samples = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        n = int(count)
        samples += n
        frames = [f.split(" (")[0] + " (" + f.split(" (")[-1] for f in stack.split(";")]
        own[frames[-1]] = own.get(frames[-1], 0) + n
        for frame in set(frames):
            total[frame] = total.get(frame, 0) + n
    lines = [f"{samples} samples; top functions by total (own) share:"]
    for frame, n in sorted(total.items(), key=lambda kv: -kv[1])[:top]:
        lines.append(f"  {n / samples:6.1%} ({own.get(frame, 0) / samples:5.1%})  {frame}")
    return "\n".join(lines)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def report(
    site: Site,
    server: Server,
    loads: dict[str, Load],
    delays: list[tuple[float, float]],
    args: argparse.Namespace,
    notes: list[str],
) -> str:
    trivial = loads["trivial view"].rps
    insert = loads["bare insert"].rps
    page = loads["petition page"].rps
    rows = []
    for name, load in loads.items():
        errors = f"{load.errors}" + (f" ({load.error_detail})" if load.errors else "")
        rows.append(
            [
                name,
                f"{load.rps:,.0f}",
                f"{load.p50_ms:.1f}",
                f"{load.p99_ms:.1f}",
                errors,
                ratio(load.rps, trivial),
                ratio(load.rps, insert),
                ratio(load.rps, page),
            ]
        )
    if delays:
        seen = [d for d, _ in delays if d != float("inf")]
        asked = [a for d, a in delays if d != float("inf")]
        lost = len(delays) - len(seen)
        notes.insert(
            0,
            f"freshness during the mixed run ({len(delays)} probes): from a confirm returning "
            f"to a count JSON answer including it, p50 {statistics.median(seen) * 1000:.0f} ms, "
            f"p99 {pct(seen, 0.99) * 1000:.0f} ms, max {max(seen) * 1000:.0f} ms; to the sending "
            f"of the request that got it, p50 {statistics.median(asked) * 1000:.0f} ms, "
            f"p99 {pct(asked, 0.99) * 1000:.0f} ms"
            + (f"; {lost} not seen within 30 s" if lost else ""),
        )
    vendor = site.task("vendor")["vendor"]
    header = [
        "endpoint",
        "req/s",
        "p50 ms",
        "p99 ms",
        "errors",
        "÷ trivial",
        "÷ bare insert",
        "÷ petition page",
    ]
    return (
        f"# HTTP load: {vendor}\n\n"
        f"{time.strftime('%Y-%m-%d %H:%M')} · {harness.machine()} · `undersigned serve` "
        f"({server.label}), UNDERSIGNED_PRODUCTION=1 · wrk {args.connections} connections, "
        f"{args.seconds:g} s per run"
        + ("" if args.reads_only else f" (sign {2 * args.seconds:g} s)")
        + ", load generator on the same "
        f"machine · petition seeded with {args.seed:,} signatures"
        + (" · **count cache off**" if args.no_cache else "")
        + "\n\n"
        + harness.table(header, rows)
        + "\n\n"
        + "".join(f"- {note}\n" for note in notes)
    )


def compare_servers(db: str, args: argparse.Namespace) -> str:
    """The same reads and the sign POST on each workers×threads configuration."""
    site, slug, _ = open_site(db, args)
    rows = []
    try:
        for n, config in enumerate(args.servers.split(",")):
            kind, _, shape = config.rpartition(":")
            workers, threads = (int(x) for x in shape.split("x"))
            server = Server(site, workers=workers, threads=threads, server=kind or "gunicorn")
            # Part of the run's addresses: a shape listed twice still signs anew.
            tag = f"{config.replace(':', '')}n{n}"
            with server:
                csrf = csrf_env(server, slug, tag)
                warm(server, slug, {**csrf, "BENCH_RUN": f"warm{tag}"})
                run = Runner(server, args.connections)
                say(f"{db}: {server.label}")
                trivial = run("trivial view", "/bench/trivial", "get.lua", args.seconds)
                insert = run(
                    "bare insert",
                    "/bench/insert",
                    "insert.lua",
                    args.seconds,
                    {**csrf, "BENCH_RUN": f"i{tag}"},
                )
                page = run("petition page", f"/p/{slug}/", "get.lua", args.seconds)
                count = run("count JSON", f"/api/petitions/{slug}", "get.lua", args.seconds)
                sign = run(
                    "sign POST",
                    f"/p/{slug}/sign/",
                    "sign.lua",
                    args.seconds,
                    {**csrf, "BENCH_RUN": f"s{tag}"},
                )
                rows.append(
                    [
                        server.label,
                        *(
                            f"{x.rps:,.0f} ({x.p99_ms:.0f} ms)"
                            for x in (trivial, insert, page, count, sign)
                        ),
                        f"{sum(x.errors for x in (trivial, insert, page, count, sign))}",
                        load_average(),
                    ]
                )
    finally:
        site.close()
    header = [
        "server",
        "trivial",
        "bare insert",
        "page",
        "count JSON",
        "sign POST",
        "errors",
        "load avg",
    ]
    return (
        f"# Server configurations: {db}\n\n"
        f"{time.strftime('%Y-%m-%d %H:%M')} · {harness.machine()} · req/s (p99) with wrk "
        f"{args.connections} connections, {args.seconds:g} s per run\n\n"
        + harness.table(header, rows)
        + "\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--server", choices=["gunicorn", "granian"], default="gunicorn")
    parser.add_argument("--seed", type=int, default=10_000, help="signatures before the runs")
    parser.add_argument(
        "--servers", default="", help="compare configurations, e.g. 2x1,2x4,4x2,granian:2x4"
    )
    parser.add_argument("--profile", choices=["sign", "confirm"], default=None)
    parser.add_argument("--keep", action="store_true", help="keep the site (data dir, database)")
    parser.add_argument(
        "--reads-only",
        action="store_true",
        help="only the reads: references, page, count JSON, listings (writes http-<db>-reads.md)",
    )
    parser.add_argument(
        "--no-cache", action="store_true", help="the count cache off (writes http-<db>-nocache.md)"
    )
    args = parser.parse_args()
    RESULTS.mkdir(exist_ok=True)
    for db in ["sqlite", "postgresql"] if args.db == "both" else [args.db]:
        if args.servers:
            text = compare_servers(db, args)
            name = f"http-servers-{db}.md"
        else:
            text = measure_site(db, args)
            name = f"http-{db}{'-nocache' if args.no_cache else ''}"
            name += "-reads.md" if args.reads_only else ".md"
        print(text)
        (RESULTS / name).write_text(text)


if __name__ == "__main__":
    main()
