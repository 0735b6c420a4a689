import json
from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management.base import CommandError

from undersigned.core.management.base import ExamplesCommand
from undersigned.core.progress import progress
from undersigned.ops.bulkload import CHUNK, LoadRefused, LoadResult, load
from undersigned.petitions.models import Petition


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError(text)
    return value


class Command(ExamplesCommand):
    help = """Add N fictional signatures to a petition, for rehearsals and load tests.

The people are made up (English and Russian names that belong to nobody, at
addresses under rehearsal.example, which can receive no mail), but everything
else is as if they had signed and confirmed: sealed contact details, unique
keyed hashes, tallies equal to the rows (`undersigned reconcile` finds nothing),
and a log entry for each verified signature. Without --with-log those entries
wait for `undersigned worker`, as after a real surge; with it the command
sequences them and signs a checkpoint itself, so `check-log` and `verify` pass
as soon as it returns.

On a public petition they are verified. On a register-restricted letter they
are claims waiting in the review queue, since only a moderator can bind a claim
to a person on the register. Only an open petition takes them: a draft, closed
or archived one takes no signatures, so seeded ones would be signatures nobody
could have given. A production site (UNDERSIGNED_PRODUCTION=1) is refused
unless --allow-production: this is for a staging copy.

examples:
  undersigned bulk-load kolpino-riverside-park --count 100000
  undersigned bulk-load kolpino-riverside-park --count 1000000 --with-log --json

On a terminal, progress and an ETA are shown on standard error.
Exit status: 0 loaded, 1 nothing loaded (the reason is printed)."""

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("slug", help="the petition's slug, as in /p/<slug>/")
        parser.add_argument(
            "--count", type=positive, required=True, help="how many signatures to add"
        )
        parser.add_argument(
            "--with-log",
            action="store_true",
            help="sequence the new log entries and sign a checkpoint now, not in the worker",
        )
        parser.add_argument(
            "--chunk",
            type=positive,
            default=CHUNK,
            help=f"signatures per transaction (default {CHUNK:,})",
        )
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="load even though UNDERSIGNED_PRODUCTION is set",
        )
        parser.add_argument(
            "--json",
            action="store_true",
            help="print one JSON object instead of text, and no progress bar",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = self.load(options)
        except CommandError as exc:
            if options["json"]:
                self.stdout.write(json.dumps({"ok": False, "error": str(exc)}, ensure_ascii=False))
            raise
        if options["json"]:
            self.stdout.write(json.dumps(result.as_dict(), ensure_ascii=False))
            return
        rate = f" ({result.added / result.seconds:,.0f}/s)" if result.seconds else ""
        text = (
            f"added {result.added:,} fictional signatures ({result.state}) to "
            f"{result.petition} in {result.seconds:.1f} s{rate}; "
        )
        if options["with_log"]:
            text += f"log sequenced and signed at size {result.checkpoint}"
        elif result.log_entries:
            text += f"{result.log_entries:,} log entries wait for `undersigned worker`"
        else:
            text += "they wait in the review queue"
        self.stdout.write(text)

    def load(self, options: dict[str, Any]) -> LoadResult:
        if getattr(settings, "PRODUCTION", False) and not options["allow_production"]:
            raise CommandError(
                "refusing to add fictional signatures on a production site "
                "(UNDERSIGNED_PRODUCTION=1); --allow-production overrides"
            )
        petition = Petition.objects.filter(slug=options["slug"]).first()
        if petition is None:
            raise CommandError(f"no petition with slug {options['slug']!r}")
        try:
            with progress(enabled=False if options["json"] else None) as report:
                return load(
                    petition,
                    options["count"],
                    with_log=options["with_log"],
                    chunk=options["chunk"],
                    progress=report,
                )
        except LoadRefused as exc:
            raise CommandError(str(exc)) from None
