"""The `undersigned` command: Django's management commands under the project's name."""

import os
import sys


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "verify":
        # The independent verifier needs no settings, database or Django at all.
        import undersigned.tlog.verify.cli

        sys.exit(undersigned.tlog.verify.cli.main(sys.argv[2:]))

    if len(sys.argv) > 1 and sys.argv[1] == "witness":
        # A witness runs on a newsroom's machine: its own key and state, no site.
        import undersigned.tlog.witness

        sys.exit(undersigned.tlog.witness.main(sys.argv[2:]))

    if len(sys.argv) > 1 and sys.argv[1] == "custody":
        # Runs on a moderator's own machine, where there is no site to configure.
        import undersigned.core.custody_cli

        sys.exit(undersigned.core.custody_cli.main(sys.argv[2:]))

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "undersigned.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["undersigned", *sys.argv[1:]])


if __name__ == "__main__":
    main()
