from argparse import ArgumentParser
from typing import Any

from undersigned.core.management.base import ExamplesCommand
from undersigned.sharing.services import ABSORB_BATCH, absorb_log


class Command(ExamplesCommand):
    help = """Sum the whole public log into the charts' hourly counts now.

Pages do this themselves, a bounded batch at a time; run this after restoring
a database without the charts' table, or from cron on a site few people visit.
Safe to run at any time, beside the web and the worker.

examples:
  undersigned refresh-charts
  undersigned refresh-charts --quiet      # for cron"""

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--quiet", action="store_true", help="print nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        total = 0
        while (done := absorb_log(batches=1)) > 0:
            total += done
            if done < ABSORB_BATCH:
                break
        if not options["quiet"]:
            self.stdout.write(f"{total} log entries added to the charts")
