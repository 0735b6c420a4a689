import json
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import CommandError

from undersigned.core.management.base import ExamplesCommand
from undersigned.core.progress import Report, progress
from undersigned.ledger.services import LedgerError, _read_state_file
from undersigned.ops.integrity import check_log
from undersigned.ops.snapshot import (
    BackupError,
    compare_keys,
    describe_current,
    read_manifest,
    restore_database,
)
from undersigned.petitions.management.commands.reconcile import drift
from undersigned.petitions.models import Petition


class Command(ExamplesCommand):
    help = """Restore a backup made by `undersigned backup` into a new, empty database, then
prove it: every table's row count and the log's digest must equal the backup's
manifest, the log must recompute to its signed checkpoints (`check-log`), and
the tallies must equal the signature rows (`reconcile`).

The keys configured now must be the backup's: a different UNDERSIGNED_HASH_KEY,
missing UNDERSIGNED_DATA_KEYS or another log signing key are refused (they
would break deduplication, hide contact details, or fork the log).

Create the new database first and point DATABASE_URL at it, e.g.
`createdb undersigned_restored` and DATABASE_URL=postgres://.../undersigned_restored.

examples:
  undersigned restore /backups/2026-11-21                # into the empty DATABASE_URL
  undersigned restore /backups/2026-11-21 --check-only   # re-check a restored database
  undersigned restore /backups/2026-11-21 --check-only --json

On a terminal, progress and an ETA are shown on standard error.
Exit status: 0 restored and proven identical, 1 anything else."""

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("source", help="a directory made by `undersigned backup`")
        parser.add_argument(
            "--check-only",
            action="store_true",
            help="do not restore; compare the current database with the backup",
        )
        parser.add_argument(
            "--force-keys",
            action="store_true",
            help="restore even though the configured keys differ from the backup's",
        )
        parser.add_argument(
            "--json",
            action="store_true",
            help="print one JSON object instead of text, and no progress bar",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        self.warnings: list[str] = []
        self.result: dict[str, Any] = {"source": options["source"], "restored": False}
        try:
            with progress(enabled=False if options["json"] else None) as report:
                self.restore(options, report)
        except CommandError as exc:
            if options["json"]:
                result = {"ok": False, "error": str(exc), "warnings": self.warnings}
                self.stdout.write(json.dumps({**result, **self.result}, ensure_ascii=False))
            raise

    def warn(self, warning: str) -> None:
        self.warnings.append(warning)
        self.stderr.write(f"warning: {warning}")

    def restore(self, options: dict[str, Any], report: Report) -> None:
        source = Path(options["source"])
        try:
            manifest = read_manifest(source, report)
            refusals, warnings = compare_keys(manifest["keys"])
            for warning in warnings:
                self.warn(warning)
            if refusals and not options["force_keys"]:
                raise CommandError(
                    "refusing to restore: " + "; ".join(refusals) + " (--force-keys overrides)"
                )
            if not options["check_only"]:
                restore_database(source, manifest, report)
                self.result["restored"] = True
        except BackupError as exc:
            raise CommandError(str(exc)) from None

        problems = self.compare(manifest, report)
        log = manifest["log"]
        self.result.update(
            engine=manifest["engine"],
            rows=sum(manifest["tables"].values()),
            tables=len(manifest["tables"]),
            log=log,
            problems=problems,
        )
        if not options["json"]:
            for problem in problems:
                self.stdout.write(problem)
        if problems:
            raise CommandError(f"the restored database differs from the backup: {len(problems)}")
        if options["json"]:
            self.warn_about_state_file(log["checkpoint_size"])
            result = {"ok": True, **self.result, "warnings": self.warnings}
            self.stdout.write(json.dumps(result, ensure_ascii=False))
            return
        self.stdout.write(
            f"restored {sum(manifest['tables'].values())} rows in {len(manifest['tables'])} "
            f"tables from {source}; counts, log ({log['size']} entries, checkpoint "
            f"{log['checkpoint_size']}) and tallies proven identical"
        )
        self.warn_about_state_file(log["checkpoint_size"])

    def compare(self, manifest: dict[str, Any], report: Report) -> list[str]:
        now = describe_current(report)
        problems = []
        for table in sorted(set(manifest["tables"]) | set(now["tables"])):
            saved, restored = manifest["tables"].get(table), now["tables"].get(table)
            if saved != restored:
                problems.append(f"table {table}: backup has {saved} rows, database {restored}")
        for key, saved in manifest["log"].items():
            if now["log"][key] != saved:
                problems.append(f"log {key}: backup {saved!r}, database {now['log'][key]!r}")
        problems.extend(f"log: {p}" for p in check_log(progress=report).problems)
        petitions = list(Petition.objects.order_by("slug"))
        for done, petition in enumerate(petitions, 1):
            problems.extend(f"tally: {p}" for p in drift(petition))
            report("checking the tallies", done, len(petitions))
        return problems

    def warn_about_state_file(self, restored_size: int) -> None:
        try:
            remembered = _read_state_file(settings.LEDGER_STATE_FILE)
        except LedgerError as exc:
            self.warn(str(exc))
            return
        if remembered is not None and int(remembered["size"]) > restored_size:
            self.warn(
                f"this server already signed a checkpoint of {remembered['size']} "
                f"entries ({settings.LEDGER_STATE_FILE}), after this backup's {restored_size}. "
                "The worker will refuse to sign a log that contradicts it: see "
                "docs/deploying.md, 'Backups and restores'."
            )
