import json
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError

from undersigned.core.management.base import ExamplesCommand
from undersigned.ops.snapshot import BackupError, backup


class Command(ExamplesCommand):
    help = """Back up the database while the site runs: a consistent snapshot (SQLite's backup
API, or pg_dump on PostgreSQL) and a manifest with every table's row count, the
log's size and digest, and fingerprints of the keys a restore needs. The keys
themselves are never in a backup: keep them, separately, in your secret store.

examples:
  undersigned backup /var/backups/undersigned/$(date +%F-%H%M)
  undersigned restore /var/backups/undersigned/2026-11-21-0300   # into an empty database

The directory must not exist (or be empty); it appears only when complete."""

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("destination", help="directory to create for this backup")

    def handle(self, *args: Any, **options: Any) -> None:
        destination = Path(options["destination"])
        try:
            manifest = backup(destination)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        tables = manifest["tables"]
        log = manifest["log"]
        self.stdout.write(
            f"backed up {manifest['engine']} to {destination}: "
            f"{sum(tables.values())} rows in {len(tables)} tables, "
            f"log of {log['size']} entries (checkpoint {log['checkpoint_size']})"
        )
        if options["verbosity"] > 1:
            self.stdout.write(json.dumps(tables, indent=2, sort_keys=True))
