from typing import Any

from django.core.management.base import CommandError

from undersigned.core.management.base import ExamplesCommand
from undersigned.ops.integrity import check_log


class Command(ExamplesCommand):
    help = """Recompute the public log from its entries and check it against everything stored:
signed checkpoints (with this server's key), stored tree hashes, and each
petition's verified signature rows. Run it after a restore or a crash;
`undersigned verify` checks a live site from outside the same way.

examples:
  undersigned check-log

Exit status: 0 consistent, 1 a problem found (each is printed)."""

    def handle(self, *args: Any, **options: Any) -> None:
        report = check_log()
        for problem in report.problems:
            self.stdout.write(problem)
        if report.problems:
            raise CommandError(f"{len(report.problems)} log problem(s) found", returncode=1)
        self.stdout.write(
            f"log of {report.size} entries consistent with {report.checkpoints} signed "
            f"checkpoint(s) (last at {report.last_checkpoint}); "
            f"{report.unsequenced} entries waiting for the worker"
        )
