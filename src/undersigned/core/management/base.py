from argparse import RawDescriptionHelpFormatter
from typing import Any

from django.core.management.base import BaseCommand, CommandParser


class ExamplesCommand(BaseCommand):
    """A command whose help keeps its line breaks, so the examples read as examples.

    Django's default formatter reflows `help` into one paragraph, which ran
    every example into the next (tests/core/test_command_help.py guards this).
    The examples go in `help`, or in `epilog` to print them after the options.
    """

    epilog: str | None = None

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        if self.epilog is not None:
            kwargs.setdefault("epilog", self.epilog)
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.formatter_class = RawDescriptionHelpFormatter
        return parser
