import json
from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management.base import CommandError

from undersigned.audit import services as audit
from undersigned.core import custody
from undersigned.core.management.base import ExamplesCommand
from undersigned.petitions.models import Petition


class Command(ExamplesCommand):
    help = """Show or set the public half of a petition's custody key (age1…), to which the
site seals what it no longer needs to read. Make the key pair on a moderator's own machine
with `undersigned custody keygen`; the private half never comes to the server. Values sealed
before a change stay sealed to the key they were sealed to.

examples:
  undersigned custody-key municipal-deputies-letter
  undersigned custody-key letter age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p
  undersigned custody-key municipal-deputies-letter --site      # use the site's key again"""

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("recipient", nargs="?", help="the public key, age1…")
        parser.add_argument(
            "--site", action="store_true", help="drop the petition's own key: use the site's"
        )
        parser.add_argument("--json", action="store_true", help="print the result as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        petition = Petition.objects.filter(slug=options["slug"]).first()
        if petition is None:
            raise CommandError(f"no petition {options['slug']!r}")
        if options["recipient"] and options["site"]:
            raise CommandError("give a key or --site, not both")
        if options["recipient"] or options["site"]:
            try:
                recipient = (
                    "" if options["site"] else custody.check_recipient(options["recipient"])
                )
            except custody.CustodyError as exc:
                raise CommandError(str(exc)) from None
            if recipient != petition.custody_recipient:
                Petition.objects.filter(pk=petition.pk).update(custody_recipient=recipient)
                audit.record(
                    "petition.custody_key_set",
                    actor=None,
                    petition=petition,
                    recipient=recipient or "(the site's)",
                )
                petition.custody_recipient = recipient
        key = petition.custody_key()
        source = "its own" if petition.custody_recipient else "the site's"
        if options["json"]:
            self.stdout.write(
                json.dumps({"ok": True, "petition": petition.slug, "recipient": key,
                            "own": bool(petition.custody_recipient)})
            )
        elif key:
            self.stdout.write(f"{petition.slug}: sealed to {source} custody key {key}")
        else:
            self.stdout.write(
                f"{petition.slug}: no custody key (neither its own nor "
                "UNDERSIGNED_CUSTODY_RECIPIENT): what the server no longer needs is destroyed"
            )
        if not settings.CUSTODY_RECIPIENT and not key:
            self.stderr.write("Set one: undersigned custody keygen on a moderator's machine.")
