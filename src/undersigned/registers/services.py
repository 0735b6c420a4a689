"""Importing a register: all rows or none."""

from dataclasses import dataclass, field

from django.db import transaction

from undersigned.core.hashing import keyed_hash
from undersigned.core.progress import Report, silent
from undersigned.registers.csv_import import RowError, parse_register_csv
from undersigned.registers.matching import name_key, place_key
from undersigned.registers.models import Register, RegisterEntry


@dataclass
class ImportResult:
    register: Register | None = None
    imported: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def import_register(
    name: str,
    data: bytes,
    *,
    description: str = "",
    report: Report = silent,
) -> ImportResult:
    """Add the people in a CSV file to the register called `name` (created if new).

    Any bad row, or a person already on the register, aborts the whole import
    and every problem is reported with its line number.
    """
    name = " ".join(name.split())
    if not name or len(name) > 200:
        return ImportResult(errors=[RowError(0, "the register needs a name of 1–200 characters")])
    parsed = parse_register_csv(data)
    if parsed.errors:
        return ImportResult(errors=list(parsed.errors))
    entries = [
        RegisterEntry(
            full_name=row.full_name,
            role=row.role,
            municipality=row.municipality,
            region=row.region,
            official_email=row.email,
            official_email_hash=keyed_hash("email", row.email) if row.email else "",
            name_key=name_key(row.full_name)[:300],
            place_key=place_key(row.municipality)[:300],
        )
        for row in parsed.rows
    ]
    with transaction.atomic():
        register, _ = Register.objects.select_for_update().get_or_create(
            name=name, defaults={"description": description}
        )
        existing_people = set(register.entries.values_list("name_key", "place_key", "role"))
        existing_emails = set(
            register.entries.exclude(official_email_hash="").values_list(
                "official_email_hash", flat=True
            )
        )
        errors = []
        for row, entry in zip(parsed.rows, entries, strict=True):
            if (entry.name_key, entry.place_key, entry.role) in existing_people:
                errors.append(
                    RowError(
                        row.line,
                        f"line {row.line}: {row.full_name} ({row.municipality}) "
                        "is already on this register",
                    )
                )
            elif entry.official_email_hash and entry.official_email_hash in existing_emails:
                errors.append(
                    RowError(row.line, f"line {row.line}: this email is already on this register")
                )
        if errors:
            transaction.set_rollback(True)
            return ImportResult(errors=errors)
        for entry in entries:
            entry.register = register
        for start in range(0, len(entries), 1000):
            RegisterEntry.objects.bulk_create(entries[start : start + 1000])
            report("importing people", min(start + 1000, len(entries)), len(entries))
    return ImportResult(register=register, imported=len(entries))
