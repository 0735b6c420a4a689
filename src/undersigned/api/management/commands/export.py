import json
from argparse import ArgumentParser
from collections.abc import Iterable, Iterator
from typing import Any, TextIO

from django.core.management.base import CommandError, OutputWrapper

from undersigned.api.exports import Row, csv_chunks, json_rows, signatory_batches
from undersigned.core.management.base import ExamplesCommand
from undersigned.core.progress import progress
from undersigned.ledger.models import LogEntry
from undersigned.ledger.services import latest_checkpoint
from undersigned.petitions.models import Petition


class Command(ExamplesCommand):
    help = "Export a petition's public signatories, as the latest signed checkpoint proves them."
    epilog = """examples:
  undersigned export kolpino-riverside-park                 # CSV to standard output
  undersigned export kolpino-riverside-park -o signers.csv
  undersigned export kolpino-riverside-park --format json -o signers.json

Only signers who chose to be shown are listed, read from the public log up to the
latest checkpoint (its size is printed to standard error, or in the JSON).
A progress bar with an ETA is drawn on a terminal when writing to a file.
Exit status: 0 written, 1 unknown petition or unwritable file."""

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("slug", help="the petition's slug, as in /p/<slug>/")
        parser.add_argument("--format", choices=["csv", "json"], default="csv")
        parser.add_argument("-o", "--output", help="file to write (default: standard output)")

    def handle(self, *args: Any, **options: Any) -> None:
        petition = Petition.objects.public().filter(slug=options["slug"]).first()
        if petition is None:
            raise CommandError(f"no public petition with slug {options['slug']!r}", returncode=1)
        checkpoint = latest_checkpoint()
        size = checkpoint.size if checkpoint else 0
        total = LogEntry.objects.filter(
            petition=petition, event="signature.verified", index__lt=size
        ).count()
        try:
            out: TextIO | OutputWrapper = (
                open(options["output"], "w", newline="", encoding="utf-8")
                if options["output"]
                else self.stdout
            )
            self.stdout.ending = ""  # the rows carry their own line ends
        except OSError as exc:
            raise CommandError(
                f"cannot write {options['output']}: {exc.strerror}", returncode=1
            ) from None
        written = 0
        # A bar only when the data goes to a file: on a pipe, stdout stays clean.
        with progress(enabled=None if options["output"] else False) as report:

            def counted(batches: Iterable[list[Row]]) -> Iterator[list[Row]]:
                nonlocal written
                for rows in batches:
                    yield rows
                    written += len(rows)
                    report("exporting signatories", written, total)

            batches = counted(signatory_batches(petition, size))
            try:
                if options["format"] == "csv":
                    for chunk in csv_chunks(batches):
                        out.write(chunk)
                else:
                    head = {
                        "petition": petition.slug,
                        "log_size": size,
                        "checkpoint": checkpoint.note if checkpoint else None,
                    }
                    out.write(json.dumps(head, ensure_ascii=False)[:-1] + ', "signatories": [')
                    for chunk in json_rows(batches):
                        out.write(chunk)
                    out.write("\n]}\n")
            finally:
                if out is not self.stdout:
                    out.close()
        self.stderr.write(f"{written} signatories as of log size {size}")
