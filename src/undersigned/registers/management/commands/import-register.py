import json
import sys
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import CommandError

from undersigned.core.management.base import ExamplesCommand
from undersigned.core.progress import progress
from undersigned.registers.services import import_register
from undersigned.registers.terms import problems


class Command(ExamplesCommand):
    help = "Import a CSV register of people eligible to sign. Any bad row imports nothing."
    epilog = """examples:
  undersigned import-register deputies.csv --register "St Petersburg municipal deputies"
  undersigned import-register - --register Samara < samara.csv
  undersigned import-register deputies.csv --register Samara --json   # for scripts
  undersigned import-register deputies.csv --register Samara --translations samara-ru.json

The header must name full_name, role, municipality and region; email is optional.
--translations sets the register's name, regions, municipalities and roles as
pages in other languages show them (docs/operating.md, "Registers in other
languages"): {"ru": {"name": "…", "regions": {"Samara Oblast": "Самарская область"}}}.
Exit status: 0 imported, 1 the file has bad rows (each printed with its line)
or the translations cannot be used (nothing is imported then)."""

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("file", help="CSV file, or - for standard input")
        parser.add_argument("--register", required=True, help="register name (created if new)")
        parser.add_argument("--description", default="", help="description of a new register")
        parser.add_argument(
            "--translations",
            metavar="FILE",
            help="JSON file of the register's words in other languages (replaces the old ones)",
        )
        parser.add_argument(
            "--json",
            action="store_true",
            help="print one JSON object instead of text, and no progress bar",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = options["file"]
        try:
            data = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
        except OSError as exc:
            problem = f"cannot read {path}: {exc.strerror}"
            if options["json"]:
                # A script reading the JSON must learn of this failure the same way.
                self.stdout.write(
                    json.dumps(
                        {"ok": False, "register": None, "imported": 0, "error": problem},
                        ensure_ascii=False,
                    )
                )
                sys.exit(1)
            raise CommandError(problem) from None
        translations = None
        if options["translations"]:
            translations = self.read_translations(options["translations"], options["json"])
        with progress(enabled=None if not options["json"] else False) as report:
            result = import_register(
                options["register"], data, description=options["description"], report=report
            )
        if result.ok and result.register is not None and translations is not None:
            result.register.translations = translations
            result.register.save(update_fields=["translations"])
        if options["json"]:
            self.stdout.write(
                json.dumps(
                    {
                        "ok": result.ok,
                        "register": str(result.register) if result.register else None,
                        "imported": result.imported,
                        "errors": [{"line": e.line, "reason": str(e)} for e in result.errors],
                    },
                    ensure_ascii=False,
                )
            )
            if not result.ok:
                sys.exit(1)
            return
        if not result.ok:
            for error in result.errors:
                self.stderr.write(str(error))
            raise CommandError(
                f"nothing imported: {len(result.errors)} problem(s) in {path}", returncode=1
            )
        self.stdout.write(f"imported {result.imported} people into register “{result.register}”")

    def read_translations(self, path: str, as_json: bool) -> dict[str, Any]:
        """The translations file, checked before anything is imported."""
        try:
            translations = json.loads(Path(path).read_text(encoding="utf-8"))
        except OSError as exc:
            found = [f"cannot read {path}: {exc.strerror}"]
        except ValueError as exc:
            found = [f"{path} is not UTF-8 JSON: {exc}"]
        else:
            found = problems(translations, [code for code, _name in settings.LANGUAGES])
        if not found:
            return dict(translations)
        if as_json:
            self.stdout.write(
                json.dumps(
                    {"ok": False, "register": None, "imported": 0, "error": "; ".join(found)},
                    ensure_ascii=False,
                )
            )
            sys.exit(1)
        raise CommandError(f"nothing imported: {'; '.join(found)}", returncode=1)
