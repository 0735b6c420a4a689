#!/usr/bin/env python
"""How the read paths grow with a petition's size: run by hand, never by the test suite.

For each size N (10^3, 10^5, 10^6 by default; add 10^7 with --huge) a fresh
site (production settings, own database: a SQLite file, or the PostgreSQL
database `undersigned_bench5_scale_<N>`, dropped afterwards) is bulk-loaded
with N signatures on one open petition, with tallies equal to the rows
(bench/seed.py: PostgreSQL COPY, SQLite executemany, 200,000 rows per
transaction). Then, in interleaved passes over the sizes so that other load
on the machine falls on every size alike, it times in-process (Django's test
client, the whole middleware stack):

- the petition page, with the count cache emptied first (what the request
  that refreshes it pays) and straight after (what everyone else pays);
- the count JSON (GET /api/petitions/<slug>), the same two ways;
- the per-region tally (petitions.services.counts_by_region, uncached);
- the moderator queue page (/moderation/, logged in as the organiser);

and, in a separate process per size, the streaming CSV export of the
verified signatures (a bench-only function in bench/tasks.py: the product's
export is issue 7), with its rows/s and the process's peak RSS.

    .venv/bin/python bench/scale.py                     # SQLite and PostgreSQL
    .venv/bin/python bench/scale.py --db postgresql --huge
    .venv/bin/python bench/scale.py --sizes 1e3,1e4 --passes 3

Prints the medians and t(largest)/t(10^3); writes bench/results/scale-<db>.md.
Targets: ratio ≤ 1.3 for page, count JSON, per-region tally and queue;
export ≥ 100,000 rows/s with peak RSS ≤ 100 MB at 10^6.
"""

# ruff: noqa: S603 - our own commands and URLs on 127.0.0.1, no outside input

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness
from harness import PYTHON, RESULTS, Site, say

OPERATIONS = [
    "page",
    "page (cached counts)",
    "count JSON",
    "count JSON (cached)",
    "per-region tally",
    "moderator queue",
]
FLAT = ("page", "count JSON", "per-region tally", "moderator queue")


def parse_size(text: str) -> int:
    return int(float(text))


def label(n: int) -> str:
    exponent = len(str(n)) - 1
    return f"10^{exponent}" if n == 10**exponent else f"{n:,}"


def fmt(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms" if seconds < 1 else f"{seconds:.2f} s"


class Timer:
    """A child process on one site that times the operations when asked."""

    def __init__(self, site: Site, slug: str) -> None:
        self.process = subprocess.Popen(
            [PYTHON, str(harness.BENCH / "tasks.py"), "timer", slug],
            env=site.env,
            cwd=harness.ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def run(self, k: int) -> dict[str, list[float]]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(f"pass {k}\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError("the timer process died")
        times: dict[str, list[float]] = json.loads(line)["times"]
        return times

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write("quit\n")
        self.process.stdin.close()
        self.process.wait(timeout=60)


INDEXED_QUEUE = "moderator queue, with the proposed index"
# The migration proposed in docs/performance.md, tried on the bench databases only.
QUEUE_INDEX = (
    "CREATE INDEX bench_signature_awaiting ON signing_signature (created, id) "
    "WHERE state IN ('confirmed', 'needs_review')"
)


def add_queue_index(site: Site) -> None:
    if site.db == "postgresql":
        harness.psql(QUEUE_INDEX, site.pg_name)
        harness.psql("ANALYZE signing_signature", site.pg_name)
    else:
        with sqlite3.connect(site.data_dir / "undersigned.sqlite3") as db:
            db.execute(QUEUE_INDEX)


def registry(db: str) -> Path:
    """Sites loaded by a run that did not finish, so --reuse can skip loading them again."""
    return Path(tempfile.gettempdir()) / f"bench5-scale-{db}.json"


def load_site(db: str, n: int, reuse: bool, with_log: bool) -> tuple[Site, dict[str, object]]:
    known = json.loads(registry(db).read_text()) if registry(db).exists() else {}
    entry = known.get(str(n))
    if reuse and entry and Path(entry["data_dir"]).exists():
        site = Site.reopen(db, f"scale_{n}", Path(entry["data_dir"]))
        say(f"{db} {label(n)}: reusing {site.data_dir} (loaded earlier)")
        return site, entry["info"]
    site = Site(db, f"scale_{n}")
    site.install()
    slug = site.task("setup")["slug"]
    began = time.perf_counter()
    seeded = site.task("seed", slug, "0", str(n), *(["log"] if with_log else []), timeout=6 * 3600)
    info: dict[str, object] = {
        "slug": slug,
        "load_seconds": time.perf_counter() - began,
        "copy_seconds": seeded["seconds"],
        "log_seconds": seeded["log_seconds"],
        "size": site.db_size(),
    }
    say(f"{db} {label(n)}: loaded in {info['load_seconds']:.0f} s ({info['size']})")
    known[str(n)] = {"data_dir": str(site.data_dir), "info": info}
    registry(db).write_text(json.dumps(known))
    return site, info


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--sizes", default="1e3,1e5,1e6")
    parser.add_argument("--huge", action="store_true", help="also 10^7 (takes a while)")
    parser.add_argument("--passes", type=int, default=5)
    parser.add_argument("--per-pass", type=int, default=4, help="timings per operation per pass")
    parser.add_argument("--no-export", action="store_true")
    parser.add_argument(
        "--with-log",
        action="store_true",
        help="also load the public log and time the product's export (which reads it)",
    )
    parser.add_argument(
        "--reuse", action="store_true", help="reuse sites a failed run kept instead of loading"
    )
    parser.add_argument(
        "--keep-on-failure",
        action="store_true",
        help="keep the loaded sites when the run fails, for --reuse",
    )
    parser.add_argument(
        "--try-queue-index",
        action="store_true",
        help="then add the partial index proposed for the review queue and time the queue again",
    )
    args = parser.parse_args()
    sizes = sorted(
        {parse_size(s) for s in args.sizes.split(",")} | ({10**7} if args.huge else set())
    )
    RESULTS.mkdir(exist_ok=True)
    for db in ["sqlite", "postgresql"] if args.db == "both" else [args.db]:
        text = run_db(db, sizes, args)
        print(text)
        (RESULTS / f"scale-{db}.md").write_text(text)


def run_db(db: str, sizes: list[int], args: argparse.Namespace) -> str:
    started = time.perf_counter()
    ok = False
    sites: dict[int, tuple[Site, dict[str, object]]] = {}
    timers: dict[int, Timer] = {}
    try:
        for n in sizes:
            sites[n] = load_site(db, n, args.reuse, args.with_log)
        for n in sizes:
            site, info = sites[n]
            timers[n] = Timer(site, str(info["slug"]))
        times: dict[int, dict[str, list[float]]] = {n: {op: [] for op in OPERATIONS} for n in sizes}
        for p in range(args.passes):
            say(f"{db}: pass {p + 1}/{args.passes}")
            for n in sizes:
                for op, values in timers[n].run(args.per_pass).items():
                    times[n][op].extend(values)
        if args.try_queue_index:
            for n in sizes:
                add_queue_index(sites[n][0])
            say(f"{db}: the queue again, with the proposed partial index")
            for _ in range(args.passes):
                for n in sizes:
                    values = timers[n].run(args.per_pass)["moderator queue"]
                    times[n].setdefault(INDEXED_QUEUE, []).extend(values)
        for timer in timers.values():
            timer.close()
        timers.clear()
        exports: dict[int, dict[str, float]] = {}
        product: dict[int, dict[str, float]] = {}
        if not args.no_export:
            for n in sizes:
                site, info = sites[n]
                say(f"{db} {label(n)}: export")
                try:
                    exports[n] = site.task("export", str(info["slug"]), timeout=3 * 3600)
                except RuntimeError as exc:  # e.g. the database restarted under it
                    say(f"{db} {label(n)}: export failed: {str(exc)[-300:]}")
                if args.with_log:
                    say(f"{db} {label(n)}: the product's export, from the log")
                    try:
                        product[n] = site.task(
                            "export", str(info["slug"]), "product", timeout=3 * 3600
                        )
                    except RuntimeError as exc:
                        say(f"{db} {label(n)}: product export failed: {str(exc)[-300:]}")
        (RESULTS / f"scale-{db}.json").write_text(
            json.dumps({"times": times, "exports": exports, "product_exports": product})
        )
        text = report(
            db, sizes, sites, times, exports, product, args, time.perf_counter() - started
        )
        ok = True
    finally:
        for timer in timers.values():
            timer.process.kill()
        if ok or not args.keep_on_failure:
            for site, _ in sites.values():
                site.close()
            registry(db).unlink(missing_ok=True)
        else:
            say(f"{db}: sites kept for --reuse ({registry(db)})")
    return text


def report(
    db: str,
    sizes: list[int],
    sites: dict[int, tuple[Site, dict[str, object]]],
    times: dict[int, dict[str, list[float]]],
    exports: dict[int, dict[str, float]],
    product: dict[int, dict[str, float]],
    args: argparse.Namespace,
    total: float,
) -> str:
    small, large = sizes[0], sizes[-1]
    header = ["operation", *(label(n) for n in sizes), f"t({label(large)})/t({label(small)})"]
    rows = []
    for op in [*OPERATIONS, *([INDEXED_QUEUE] if INDEXED_QUEUE in times[small] else [])]:
        medians = {n: statistics.median(times[n][op]) for n in sizes}
        r = medians[large] / medians[small]
        target = " (target ≤ 1.3)" if op in FLAT or op == INDEXED_QUEUE else ""
        rows.append([op, *(fmt(medians[n]) for n in sizes), f"{r:.2f}{target}"])
    for what, done in (
        ("CSV export (bench-only)", exports),
        ("CSV export (product, log)", product),
    ):
        if not done:
            continue

        def cell(n: int, key: str, form: str, done: dict[int, dict[str, float]] = done) -> str:
            return form.format(done[n][key]) if n in done else "failed"

        rows.append([f"{what}, rows/s", *(cell(n, "rows_per_s", "{:,.0f}") for n in sizes), ""])
        rows.append(
            [
                f"{what}, time",
                *(
                    cell(n, "seconds", "{:.2f} s")
                    + (" (stopped: too slow)" if done.get(n, {}).get("stopped_early") else "")
                    for n in sizes
                ),
                "",
            ]
        )
        rows.append(
            [
                f"{what}, peak RSS",
                *(cell(n, "peak_rss_mb", "{:.0f} MB") for n in sizes),
                "(before: " + cell(small, "rss_before_mb", "{:.0f} MB") + ")",
            ]
        )
    loads = [
        [
            label(n),
            f"{float(str(sites[n][1]['load_seconds'])):.0f} s",
            f"{n / float(str(sites[n][1]['copy_seconds'])):,.0f}",
            str(sites[n][1]["size"]),
        ]
        for n in sizes
    ]
    samples = args.passes * args.per_pass
    return (
        f"# Scale: {db}\n\n"
        f"{time.strftime('%Y-%m-%d %H:%M')} · {harness.machine()} · production settings · "
        f"median of {samples} timings per cell, in-process (Django test client), sizes "
        f"interleaved · whole run {total / 60:.0f} min\n\n"
        + harness.table(header, rows)
        + "\n\nLoading (bench/seed.py: setup, bulk load, tallies"
        + (", the log" if args.with_log else "")
        + (", VACUUM ANALYZE" if db == "postgresql" else "")
        + "):\n\n"
        + harness.table(["size", "load time", "rows/s", "database size"], loads)
        + "\n"
    )


if __name__ == "__main__":
    main()
