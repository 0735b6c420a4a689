"""Read a sheet of paper signatures from CSV, as a petitions office types it.

The file is read as the register import reads one (registers/csv_import.py):
UTF-8 with or without a byte-order mark, or Windows-1251 when the moderator
says so (Excel in Russian saves "CSV" in it); `,` `;` or tab between fields,
chosen by the header's words, or named by a first line `sep=;`; every problem
reported with its physical line, and no line at all returned when any line
has one. What a line means (its register entry, whether it was entered
before) is checked by signing.paper.check, which the preview and the commit
both run.

Columns (the header names them, in any order, any case):

    sheet          the sheet's reference, unless the upload gives one for all
    full_name      as written on the sheet (required)
    show_name      yes/no (да/нет, 1/0, true/false); empty is no
    role, municipality, region
    register_entry the number of the register entry the line claims (letters only;
                   empty: found by full_name and municipality, and role if needed)
"""

from __future__ import annotations

import codecs
import csv
from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from undersigned.registers.csv_import import (
    _chain_first,
    _choose_delimiter,
    _column_name,
    _find_header,
    _forbidden_character,
    _Records,
    clean_value,
)
from undersigned.signing.paper import MAX_FIELD, LineProblem, PaperLine

COLUMNS: tuple[str, ...] = (
    "sheet",
    "full_name",
    "show_name",
    "role",
    "municipality",
    "region",
    "register_entry",
)
# Another name people give a column; the register's "full name" spellings are
# folded already (_column_name).
ALIASES = {"sheet_reference": "sheet", "name": "full_name", "entry": "register_entry"}
ENCODINGS = {"utf-8": "UTF-8", "windows-1251": "Windows-1251"}
YES = frozenset({"yes", "y", "true", "1", "да", "д", "x", "✓"})
NO = frozenset({"", "no", "n", "false", "0", "нет", "н"})
MAX_BYTES = 1_000_000
MAX_ROWS = 2000


@dataclass
class ParsedSheet:
    lines: list[PaperLine] = field(default_factory=list)
    problems: list[LineProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _refused(reason: str) -> ParsedSheet:
    return ParsedSheet(problems=[LineProblem(0, reason)])


def _decode(data: bytes, encoding: str) -> str | LineProblem:
    if encoding == "windows-1251":
        return data.decode("cp1251", errors="replace")
    bom = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        return data[bom:].decode("utf-8")
    except UnicodeDecodeError as exc:
        return LineProblem(
            0,
            _(
                "The file is not UTF-8 text (byte %(offset)d). If Excel saved it, "
                "choose Windows-1251 and preview again, or save it as “CSV UTF-8”."
            )
            % {"offset": exc.start + bom},
        )


def parse_sheet_csv(data: bytes, *, encoding: str = "utf-8", sheet: str = "") -> ParsedSheet:
    """The lines of an upload, or every problem found in it (never both).

    `sheet`: the reference of every line that has no `sheet` column or cell.
    """
    if len(data) > MAX_BYTES:
        return _refused(
            _("The file is too large (%(size)d bytes; the limit is %(limit)d bytes).")
            % {"size": len(data), "limit": MAX_BYTES}
        )
    text = _decode(data, encoding)
    if isinstance(text, LineProblem):
        return ParsedSheet(problems=[text])
    lines, line_no, header_line, delimiter = _find_header(text)
    if header_line is None:
        return _refused(_("The file is empty."))
    known = (*COLUMNS, *ALIASES)
    records = _Records(
        _chain_first(header_line, lines),
        delimiter or _choose_delimiter(header_line, known),
        line_no,
    )
    result = ParsedSheet()
    try:
        iterator = iter(records)
        first = next(iterator, None)
        if first is None:
            return _refused(_("The file is empty."))
        index = _header(first[1], result.problems)
        if index is None:
            return ParsedSheet(problems=result.problems)
        width = len(first[1])
        while width and not first[1][width - 1].strip():
            width -= 1  # spreadsheets add nameless empty columns
        if "sheet" not in index and not sheet.strip():
            return _refused(
                _("The file has no “sheet” column: give the sheet's reference for all its lines.")
            )
        rows = 0
        for start, record in iterator:
            if all(not value.strip() for value in record):
                continue
            rows += 1
            if rows > MAX_ROWS:
                return _refused(
                    _("The file has more than %(max)d lines of signatures.") % {"max": MAX_ROWS}
                )
            line = _line(start, record, index, width, sheet, result.problems)
            if line is not None:
                result.lines.append(line)
    except csv.Error as exc:
        result.problems.append(
            LineProblem(
                records.next_line,
                _("the file could not be read as CSV (%(error)s)") % {"error": exc},
            )
        )
    else:
        if rows == 0 and not result.problems:
            result.problems.append(LineProblem(0, _("The file has a header but no signatures.")))
    if result.problems:
        return ParsedSheet(problems=result.problems)
    return result


def _header(record: list[str], problems: list[LineProblem]) -> dict[str, int] | None:
    index: dict[str, int] = {}
    unknown: list[str] = []
    for position, raw in enumerate(record):
        name = _column_name(raw)
        name = ALIASES.get(name, name)
        if not name:
            continue
        if name in index:
            problems.append(
                LineProblem(0, _("Column “%(name)s” appears twice in the header.") % {"name": name})
            )
        elif name in COLUMNS:
            index[name] = position
        else:
            unknown.append(name)
    if unknown:
        problems.append(
            LineProblem(
                0,
                ngettext(
                    "Unknown column %(unknown)s (the columns are %(allowed)s).",
                    "Unknown columns %(unknown)s (the columns are %(allowed)s).",
                    len(unknown),
                )
                % {"unknown": ", ".join(f"“{u}”" for u in unknown), "allowed": ", ".join(COLUMNS)},
            )
        )
    if "full_name" not in index:
        problems.append(LineProblem(0, _("The header has no “full_name” column.")))
    return None if problems else index


def _line(
    start: int,
    record: list[str],
    index: dict[str, int],
    width: int,
    sheet: str,
    problems: list[LineProblem],
) -> PaperLine | None:
    before = len(problems)
    values: dict[str, str] = {}
    if len(record) > width and not any(v.strip() for v in record[width:]):
        record = record[:width]
    if len(record) != width:
        problems.append(
            LineProblem(
                start,
                _("expected %(expected)d fields, found %(found)d")
                % {"expected": width, "found": len(record)},
            )
        )
        return None
    for column, position in index.items():
        raw = record[position]
        if "\n" in raw or "\r" in raw:
            problems.append(
                LineProblem(
                    start,
                    _("“%(column)s” spans several lines (is a quote left unclosed?)")
                    % {"column": column},
                )
            )
            continue
        bad = _forbidden_character(raw)
        if bad is not None:
            problems.append(
                LineProblem(
                    start,
                    _("“%(column)s” contains an invisible control character (U+%(code)04X)")
                    % {"column": column, "code": ord(bad)},
                )
            )
            continue
        value = clean_value(raw)
        if len(value) > MAX_FIELD:
            problems.append(
                LineProblem(
                    start,
                    _("“%(column)s” is longer than %(limit)d characters")
                    % {"column": column, "limit": MAX_FIELD},
                )
            )
            continue
        values[column] = value
    shown = values.get("show_name", "").casefold()
    if shown not in YES and shown not in NO:
        problems.append(
            LineProblem(
                start,
                _("“show_name” is “%(value)s”; write yes or no") % {"value": values["show_name"]},
            )
        )
    entry: int | None = None
    if values.get("register_entry"):
        number = values["register_entry"].lstrip("#№ ")
        if number.isascii() and number.isdigit() and 0 < int(number) < 2**31:
            entry = int(number)
        else:
            problems.append(
                LineProblem(
                    start,
                    _("“register_entry” is “%(value)s”, not an entry's number")
                    % {"value": values["register_entry"]},
                )
            )
    if len(problems) != before:
        return None
    return PaperLine(
        sheet_reference=values.get("sheet") or clean_value(sheet),
        full_name=values.get("full_name", ""),
        show_name=shown in YES,
        role=values.get("role", ""),
        municipality=values.get("municipality", ""),
        region=values.get("region", ""),
        entry_id=entry,
        line=start,
    )
