import sys
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError

from undersigned.core.management.base import ExamplesCommand
from undersigned.ledger.keys import default_name, write_key_file
from undersigned.tlog.note import Signer, generate_signer_key, is_valid_key_name


class Command(ExamplesCommand):
    help = """Make the Ed25519 key that signs the public log's checkpoints.

The private key goes to --out (created with mode 0600, never overwritten); the
verifier key, which you publish, is printed. Point LEDGER_SIGNER_KEY_FILE at the
file, or put its content in LEDGER_SIGNER_KEY. The key's name is the log's origin.

examples:
  undersigned keygen --name petitions.example.org/undersigned --out /etc/undersigned/log.key
  undersigned keygen --out -      # print the private key instead (for a secret store)"""

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--name",
            default=None,
            help="key name and log origin (default: SITE_URL's host + /undersigned)",
        )
        parser.add_argument("--out", required=True, help="file for the private key, or -")

    def handle(self, *args: Any, **options: Any) -> None:
        name = options["name"] or default_name()
        if not is_valid_key_name(name):
            raise CommandError(f"{name!r} is not a valid key name (no spaces, no '+')")
        skey = generate_signer_key(name)
        if options["out"] == "-":
            sys.stdout.write(skey + "\n")
        else:
            path = Path(options["out"])
            try:
                write_key_file(path, skey)
            except FileExistsError:
                raise CommandError(f"{path} exists; refusing to overwrite a key") from None
            except OSError as exc:
                raise CommandError(f"cannot write {path}: {exc.strerror}") from None
            self.stderr.write(f"private key written to {path}")
        self.stdout.write("verifier key: " + Signer.from_key(skey).verifier_key())
