from argparse import ArgumentParser
from typing import Any

from django.apps import apps
from django.core.management.base import CommandError
from django.db import connection, transaction

from undersigned.core import crypto
from undersigned.core.fields import EncryptedTextField
from undersigned.core.management.base import ExamplesCommand

BATCH = 500


def encrypted_columns() -> list[tuple[str, str, str, str]]:
    """(table, pk column, column, purpose) of every sealed field."""
    found = []
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if isinstance(field, EncryptedTextField):
                found.append(
                    (model._meta.db_table, model._meta.pk.column, field.column, field.purpose)
                )
    return found


class Command(ExamplesCommand):
    help = """Re-encrypt every sealed contact detail under the first key of
UNDERSIGNED_DATA_KEYS, while the site keeps running.

To rotate: put a new key first in UNDERSIGNED_DATA_KEYS and keep the old one
after it; restart the web servers and the worker; run this command; when it
reports nothing left under old keys, remove the old key and restart again.

examples:
  undersigned rotate-keys
  undersigned rotate-keys --check     # only count values not under the current key

Exit status: 0 everything is under the current key (or was re-sealed),
1 --check found values under old keys."""

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--check", action="store_true", help="count, change nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        current = crypto.current_key()
        stale_total = 0
        for table, pk, column, purpose in encrypted_columns():
            stale = self.rotate(table, pk, column, purpose, current, options["check"])
            stale_total += stale
            verb = "under old keys" if options["check"] else "re-sealed"
            self.stdout.write(f"{table}.{column}: {stale} {verb}")
        if options["check"] and stale_total:
            raise CommandError(
                f"{stale_total} value(s) are not under the current key", returncode=1
            )
        self.stdout.write(f"all sealed values are under key {current.fingerprint}")

    def rotate(
        self,
        table: str,
        pk: str,
        column: str,
        purpose: str,
        current: crypto.DataKey,
        check_only: bool,
    ) -> int:
        # Table and column names come from the model registry, quoted; values are parameters.
        qn = connection.ops.quote_name
        count, last = 0, None
        while True:
            with connection.cursor() as cursor:
                where = f"WHERE {qn(pk)} > %s " if last is not None else ""
                cursor.execute(
                    f"SELECT {qn(pk)}, {qn(column)} FROM {qn(table)} {where}"  # noqa: S608  # nosec B608
                    f"ORDER BY {qn(pk)} LIMIT {BATCH}",
                    [last] if last is not None else [],
                )
                rows = cursor.fetchall()
            if not rows:
                return count
            last = rows[-1][0]
            stale = [
                (key, value)
                for key, value in rows
                if value and crypto.key_id_of(value) != current.key_id
            ]
            count += len(stale)
            if check_only or not stale:
                continue
            with transaction.atomic(), connection.cursor() as cursor:
                for key, value in stale:
                    sealed = crypto.encrypt(crypto.decrypt(value, purpose), purpose)
                    # Compare-and-set: a row changed meanwhile was sealed by its writer.
                    cursor.execute(
                        f"UPDATE {qn(table)} SET {qn(column)} = %s "  # noqa: S608  # nosec B608
                        f"WHERE {qn(pk)} = %s AND {qn(column)} = %s",
                        [sealed, key, value],
                    )
