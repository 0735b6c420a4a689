import json
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import CommandError

from undersigned.core.management.base import ExamplesCommand
from undersigned.core.progress import progress
from undersigned.ops.integrity import check_log


class Command(ExamplesCommand):
    help = """Recompute the public log from its entries and check it against everything stored:
signed checkpoints (with this server's key), stored tree hashes, and each
petition's verified signature rows. Run it after a restore or a crash;
`undersigned verify` checks a live site from outside the same way.

examples:
  undersigned check-log
  undersigned check-log --json      # one JSON object, for monitoring

On a terminal, progress and an ETA are shown on standard error.
Exit status: 0 consistent, 1 a problem found (each is printed)."""

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--json",
            action="store_true",
            help="print one JSON object instead of text, and no progress bar",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        with progress(enabled=False if options["json"] else None) as report:
            result = check_log(progress=report)
        if options["json"]:
            self.stdout.write(
                json.dumps(
                    {
                        "ok": not result.problems,
                        "size": result.size,
                        "unsequenced": result.unsequenced,
                        "checkpoints": result.checkpoints,
                        "last_checkpoint": result.last_checkpoint,
                        "root": result.root_hex,
                        "verified": result.verified,
                        "problems": result.problems,
                    },
                    ensure_ascii=False,
                )
            )
        else:
            for problem in result.problems:
                self.stdout.write(problem)
        if result.problems:
            raise CommandError(f"{len(result.problems)} log problem(s) found", returncode=1)
        if not options["json"]:
            self.stdout.write(
                f"log of {result.size} entries consistent with {result.checkpoints} signed "
                f"checkpoint(s) (last at {result.last_checkpoint}); "
                f"{result.unsequenced} entries waiting for the worker"
            )
