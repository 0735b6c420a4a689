#!/usr/bin/env python
"""The product's CSV export at 10^5 and 10^6 signatures, the code of two commits side by side.

For each size a fresh site (production settings, own database: a SQLite
file, or the PostgreSQL database `undersigned_bench5_export_<N>`, dropped
afterwards) is bulk-loaded with N signatures and their log entries
(bench/seed.py), then `GET /p/<slug>/signatories.csv` is streamed to nowhere
in a fresh process (bench/tasks.py export SLUG product), which reports rows/s
and its peak RSS. "before" runs the source tree of an earlier commit
(`git archive`, put first on PYTHONPATH), "after" that of a later one or
the working tree; runs alternate between them and between the sizes, so
that other load on the machine falls on both alike. Each cell is measured
--runs times: the table gives the best and the median, and the load average
seen at each run. Pinning both commits keeps other uncommitted work in the
tree out of the comparison.

    .venv/bin/python bench/export.py --before A --after B       # SQLite and PostgreSQL
    .venv/bin/python bench/export.py --before A --after A+C     # A, and A with C's change
    .venv/bin/python bench/export.py --db sqlite --sizes 1e5 --runs 1
    .venv/bin/python bench/export.py --keep                     # keep the sites, print them

Writes bench/results/export-<db>.md (and .json with every run).
Target (issue 5): ≥ 100,000 rows/s with peak RSS ≤ 100 MB at 10^6.
"""

# ruff: noqa: S603, S607 - our own commands on our own files, no outside input

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness
from harness import RESULTS, ROOT, Site, say
from scale import label, parse_size


def source_tree(spec: str, into: Path) -> Path:
    """The src/ directory of a commit, unpacked without touching the repository.

    "BASE+C1+C2" is BASE's tree with the changes of commits C1 and C2 applied:
    one change measured alone while others land on the branch meanwhile.
    """
    base, *picks = spec.split("+")
    into.mkdir()
    archive = into / "src.tar"
    with archive.open("wb") as out:
        subprocess.run(["git", "archive", base, "src"], cwd=ROOT, stdout=out, check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
    archive.unlink()
    for commit in picks:
        patch = subprocess.run(
            ["git", "diff", f"{commit}^", commit, "--", "src"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        ).stdout
        subprocess.run(["git", "apply", "-"], cwd=into, input=patch, check=True)
    return into / "src"


def load(db: str, n: int) -> tuple[Site, str, dict[str, Any]]:
    site = Site(db, f"export_{n}")
    site.install()
    slug = site.task("setup")["slug"]
    began = time.perf_counter()
    seeded = site.task("seed", slug, "0", str(n), "log", timeout=6 * 3600)
    info = {"load_seconds": time.perf_counter() - began, **seeded, "size": site.db_size()}
    say(f"{db} {label(n)}: loaded in {info['load_seconds']:.0f} s ({info['size']})")
    return site, slug, info


def export(site: Site, slug: str, src: Path | None) -> dict[str, Any]:
    env = dict(site.env)
    if src is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(harness.BENCH), str(src)])
    load_before = os.getloadavg()[0]
    result = subprocess.run(
        [harness.PYTHON, str(harness.BENCH / "tasks.py"), "export", slug, "product"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    if result.returncode != 0:
        raise RuntimeError(f"export failed:\n{result.stderr[-3000:]}")
    answer: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    answer["load"] = [load_before, os.getloadavg()[0]]
    return answer


def run_db(
    db: str, sizes: list[int], args: argparse.Namespace, before: Path | None, after: Path | None
) -> str:
    sites: dict[int, tuple[Site, str, dict[str, Any]]] = {}
    runs: dict[str, dict[int, list[dict[str, Any]]]] = {
        code: {n: [] for n in sizes} for code in (["before"] if before else []) + ["after"]
    }
    started = time.strftime("%Y-%m-%d %H:%M")
    try:
        for n in sizes:
            sites[n] = load(db, n)
        for r in range(args.runs):
            for n in sizes:
                site, slug, _ = sites[n]
                for code in runs:
                    answer = export(site, slug, before if code == "before" else after)
                    runs[code][n].append(answer)
                    say(
                        f"{db} {label(n)} {code} run {r + 1}: {answer['rows_per_s']:,.0f} rows/s, "
                        f"{answer['peak_rss_mb']:.0f} MB, load {answer['load'][0]:.1f}"
                    )
    finally:
        for site, _, _ in sites.values():
            if args.keep:
                say(f"kept {site.data_dir} (env.json inside)")
            else:
                site.close()
    if not args.no_write:
        (RESULTS / f"export-{db}.json").write_text(
            json.dumps(
                {
                    "before": args.before,
                    "after": args.after or "working tree",
                    "runs": {c: dict(v) for c, v in runs.items()},
                }
            )
        )
    return report(db, sizes, sites, runs, args, started)


def report(
    db: str,
    sizes: list[int],
    sites: dict[int, tuple[Site, str, dict[str, Any]]],
    runs: dict[str, dict[int, list[dict[str, Any]]]],
    args: argparse.Namespace,
    started: str,
) -> str:
    rows = []
    for n in sizes:
        for code, by_size in runs.items():
            done = by_size[n]
            rates = [d["rows_per_s"] for d in done]
            rss = [d["peak_rss_mb"] for d in done]
            loads = [x for d in done for x in d["load"]]
            rows.append(
                [
                    label(n),
                    f"before ({args.before})"
                    if code == "before"
                    else f"after ({args.after or 'working tree'})",
                    f"{done[0]['rows']:,}",
                    f"{max(rates):,.0f}",
                    f"{statistics.median(rates):,.0f}",
                    f"{statistics.median(d['seconds'] for d in done):.2f} s",
                    f"{statistics.median(d['rows_per_cpu_s'] for d in done):,.0f}"
                    if all("rows_per_cpu_s" in d for d in done)
                    else "",
                    f"{max(rss):.0f} MB",
                    f"{statistics.median(d['rss_before_mb'] for d in done):.0f} MB",
                    f"{min(loads):.1f}–{max(loads):.1f}",
                ]
            )
    version = (
        harness.psql("SHOW server_version")
        if db == "postgresql"
        else subprocess.run(
            [harness.PYTHON, "-c", "import sqlite3; print(sqlite3.sqlite_version)"],
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    loads = [
        [label(n), f"{info['load_seconds']:.0f} s", info["size"]]
        for n, (_, _, info) in sites.items()
    ]
    return (
        f"# The product's CSV export: {db}\n\n"
        f"{started} · {harness.machine()} · {db} {version} · production settings · "
        f"`GET /p/<slug>/signatories.csv` through Django's test client, streamed to nowhere, "
        f"one fresh process per run (bench/export.py) · {args.runs} runs per cell, before and "
        f"after alternating · load average (1 min) at the start and end of each run\n\n"
        + harness.table(
            [
                "signatures",
                "code",
                "rows",
                "rows/s, best",
                "rows/s, median",
                "time, median",
                "rows per CPU second, median",
                "peak RSS, max",
                "RSS before streaming",
                "load avg",
            ],
            rows,
        )
        + "\n\nRows per CPU second: rows over the exporting process's own CPU time "
        "(user + system; the database server's, on PostgreSQL, is not in it), which depends "
        "less than rows/s on how much of a core a run was given on a busy machine. "
        "RSS before streaming: the process's peak once the request has been made and "
        "before its body is read (Django and the app loaded), so the export's own "
        "memory is the difference."
        "\n\nTarget (issue 5): ≥ 100,000 rows/s with peak RSS ≤ 100 MB at 10^6. Rows are the "
        "shown signers of verified signatures (78%: 97% are verified, 80% of them shown).\n\n"
        "Loading (bench/seed.py: setup, signatures, tallies, the log):\n\n"
        + harness.table(["size", "load time", "database size"], loads)
        + "\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--sizes", default="1e5,1e6")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--before", help="a commit whose export to measure as well")
    parser.add_argument(
        "--after", help="the commit to measure, or BASE+COMMIT...  (default: the working tree)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the loaded sites")
    parser.add_argument("--no-write", action="store_true", help="only print the table")
    args = parser.parse_args()
    sizes = sorted({parse_size(s) for s in args.sizes.split(",")})
    with tempfile.TemporaryDirectory(prefix="bench5-export-src-") as tmp:
        before = source_tree(args.before, Path(tmp) / "before") if args.before else None
        after = source_tree(args.after, Path(tmp) / "after") if args.after else None
        for db in ["sqlite", "postgresql"] if args.db == "both" else [args.db]:
            text = run_db(db, sizes, args, before, after)
            print(text)
            if not args.no_write:
                (RESULTS / f"export-{db}.md").write_text(text)


if __name__ == "__main__":
    main()
