from typing import Any

from undersigned.api.open_data import build_dump
from undersigned.core.management.base import ExamplesCommand


class Command(ExamplesCommand):
    help = """Write today's dump of every public petition with its counts now (/data/).

The worker writes one each day on its own; this writes (or rewrites) today's at
once, e.g. right after an import, or from cron where no worker runs. The dump
is stamped with the log's latest signed checkpoint, and dumps older than
OPEN_DATA_DUMP_DAYS are dropped.

examples:
  undersigned open-data-dump"""

    def handle(self, *args: Any, **options: Any) -> None:
        dump = build_dump()
        self.stdout.write(
            f"dump of {dump.day}: {dump.petitions} petitions, log size {dump.log_size}"
        )
