import json
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError

from undersigned.core.management.base import ExamplesCommand
from undersigned.core.progress import progress
from undersigned.ops.snapshot import BackupError, backup


class Command(ExamplesCommand):
    help = """Back up the database while the site runs: a consistent snapshot (SQLite's backup
API, or pg_dump on PostgreSQL) and a manifest with every table's row count, the
log's size and digest, and fingerprints of the keys a restore needs. The keys
themselves are never in a backup: keep them, separately, in your secret store.

examples:
  undersigned backup /var/backups/undersigned/$(date +%F-%H%M)
  undersigned backup /var/backups/undersigned/nightly --json   # the manifest, for scripts
  undersigned restore /var/backups/undersigned/2026-11-21-0300   # into an empty database

The directory must not exist (or be empty); it appears only when complete.
On a terminal, progress and an ETA are shown on standard error.
Exit status: 0 backed up, 1 nothing written (the reason is printed)."""

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("destination", help="directory to create for this backup")
        parser.add_argument(
            "--json",
            action="store_true",
            help="print the manifest as one JSON object instead of text, and no progress bar",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        destination = Path(options["destination"])
        try:
            with progress(enabled=False if options["json"] else None) as report:
                manifest = backup(destination, report)
        except BackupError as exc:
            if options["json"]:
                self.stdout.write(json.dumps({"ok": False, "error": str(exc)}, ensure_ascii=False))
            raise CommandError(str(exc)) from None
        tables = manifest["tables"]
        log = manifest["log"]
        if options["json"]:
            # The manifest as written (counts, log summary, key fingerprints, never keys).
            summary = {"ok": True, "destination": str(destination), "rows": sum(tables.values())}
            self.stdout.write(json.dumps({**summary, **manifest}, ensure_ascii=False))
            return
        self.stdout.write(
            f"backed up {manifest['engine']} to {destination}: "
            f"{sum(tables.values())} rows in {len(tables)} tables, "
            f"log of {log['size']} entries (checkpoint {log['checkpoint_size']})"
        )
        if options["verbosity"] > 1:
            self.stdout.write(json.dumps(tables, indent=2, sort_keys=True))
