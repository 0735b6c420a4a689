"""Parse an organiser's register of eligible signatories from CSV.

The import is all-or-nothing: `parse_register_csv` never returns rows together
with errors, so a half-valid register can never be stored by accident.  Every
problem found is reported at once, so the organiser can fix the whole file in
one go instead of discovering errors one upload at a time.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from undersigned.registers.emails import is_valid_email, normalise_email
from undersigned.registers.matching import KEY_MAX_LENGTH, name_key, place_key

REQUIRED_COLUMNS: tuple[str, ...] = ("full_name", "role", "municipality", "region")
OPTIONAL_COLUMNS: tuple[str, ...] = ("email",)
KNOWN_COLUMNS: tuple[str, ...] = REQUIRED_COLUMNS + OPTIONAL_COLUMNS

# Spreadsheet programs pick the list separator from the OS locale (Excel in
# Russian locales writes ';'); Google Sheets' TSV export uses tabs.
_DELIMITERS: tuple[str, ...] = (",", ";", "\t")

# Excel honours (and sometimes writes) a first line "sep=;" naming the delimiter.
_SEP_DIRECTIVE = re.compile(r"^sep=([,;|])$", re.IGNORECASE)

# People sometimes write "Full name" or "full-name" in the header themselves.
_HEADER_SEPARATORS = re.compile(r"[\s\-]+")

# Invisible characters make two visually identical names compare unequal and
# bidi overrides can make a name display differently from what is stored, so
# none of them are allowed in a register (tab and newline included).
_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


@dataclass(frozen=True)
class RegisterRow:
    line: int
    full_name: str
    role: str
    municipality: str
    region: str
    email: str = ""


@dataclass(frozen=True)
class RowError:
    """One problem with the file.

    `line` is the 1-based physical line where the offending record starts, or
    0 when the problem concerns the file as a whole.
    """

    line: int
    reason: str

    def __str__(self) -> str:
        return self.reason


@dataclass(frozen=True)
class ParsedRegister:
    rows: list[RegisterRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def _whole_file_error(reason: str) -> ParsedRegister:
    return ParsedRegister(rows=[], errors=[RowError(0, reason)])


def _column_name(raw: str) -> str:
    return _HEADER_SEPARATORS.sub("_", raw.strip().strip("\ufeff").strip().casefold())


def _is_blank_line(line: str) -> bool:
    # Spreadsheets export empty rows as a bare run of separators.
    return not line.strip().strip("".join(_DELIMITERS)).strip()


def _choose_delimiter(header_line: str, known: tuple[str, ...] = KNOWN_COLUMNS) -> str:
    """Pick the delimiter under which the header names the most `known` columns.

    csv.Sniffer guesses from character frequencies and is easily fooled by
    commas inside quoted names, whereas the header's vocabulary is known.
    Ties go to ',' as the CSV default.
    """
    best, best_hits = _DELIMITERS[0], -1
    for delimiter in _DELIMITERS:
        try:
            names = next(csv.reader([header_line], delimiter=delimiter), [])
        except csv.Error:  # e.g. a "header" longer than csv's field limit
            continue
        hits = sum(1 for name in names if _column_name(name) in known)
        if hits > best_hits:
            best, best_hits = delimiter, hits
    return best


def clean_value(raw: str) -> str:
    """NFC-normalise, strip and collapse internal whitespace runs to one space."""
    return " ".join(unicodedata.normalize("NFC", raw).split())


def _forbidden_character(raw: str) -> str | None:
    for ch in raw:
        if unicodedata.category(ch) in _FORBIDDEN_CATEGORIES:
            return ch
    return None


def _quote_list(names: list[str]) -> str:
    return ", ".join(f"'{name}'" for name in names)


class _Header:
    def __init__(self, index: dict[str, int], width: int) -> None:
        self.index = index
        self.width = width


def _parse_header(record: list[str], line: int, errors: list[RowError]) -> _Header | None:
    """Map column names to positions, or return None if rows can't be read."""
    names = [_column_name(raw) for raw in record]
    # Trailing nameless columns are what spreadsheets emit for formatted but
    # empty columns; they carry nothing, so only interior gaps are errors.
    while names and not names[-1]:
        names.pop()

    fatal = False
    for position, name in enumerate(names, start=1):
        if not name:
            errors.append(
                RowError(
                    line,
                    _("line %(line)d: column %(position)d of the header has no name")
                    % {"line": line, "position": position},
                )
            )

    index: dict[str, int] = {}
    unknown: list[str] = []
    for position, name in enumerate(names):
        if not name:
            continue
        if name in index:
            errors.append(
                RowError(
                    line,
                    _("line %(line)d: column '%(name)s' appears more than once in the header")
                    % {"line": line, "name": name},
                )
            )
            fatal = True
        elif name in KNOWN_COLUMNS:
            index[name] = position
        elif name not in unknown:
            unknown.append(name)

    missing = [name for name in REQUIRED_COLUMNS if name not in index]
    if missing:
        # Reported as a single whole-file problem: without the column no row
        # can be checked, so per-row (or other header) errors would be noise.
        errors.clear()
        errors.append(
            RowError(
                0,
                ngettext(
                    "the header is missing the required column %(missing)s "
                    "(expected %(required)s, and optionally %(optional)s)",
                    "the header is missing the required columns %(missing)s "
                    "(expected %(required)s, and optionally %(optional)s)",
                    len(missing),
                )
                % {
                    "missing": _quote_list(missing),
                    "required": ", ".join(REQUIRED_COLUMNS),
                    "optional": ", ".join(OPTIONAL_COLUMNS),
                },
            )
        )
        return None
    if unknown:
        errors.append(
            RowError(
                line,
                ngettext(
                    "line %(line)d: unknown column %(unknown)s (allowed: %(allowed)s)",
                    "line %(line)d: unknown columns %(unknown)s (allowed: %(allowed)s)",
                    len(unknown),
                )
                % {
                    "line": line,
                    "unknown": _quote_list(unknown),
                    "allowed": ", ".join(KNOWN_COLUMNS),
                },
            )
        )
    if fatal:
        return None
    return _Header(index, len(names))


class _Records:
    """csv.reader that also reports the physical line each record starts on."""

    def __init__(self, lines: Iterator[str], delimiter: str, first_line: int) -> None:
        self._reader = csv.reader(lines, delimiter=delimiter)
        self._offset = first_line - 1
        self._consumed = 0

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        while True:
            start = self._offset + self._consumed + 1
            try:
                record = next(self._reader)
            except StopIteration:
                return
            self._consumed = self._reader.line_num
            yield start, record

    @property
    def next_line(self) -> int:
        return self._offset + self._consumed + 1


def parse_register_csv(
    data: bytes,
    *,
    max_bytes: int = 5_000_000,
    max_rows: int = 100_000,
    max_field: int = 200,
) -> ParsedRegister:
    """Parse and validate a register upload.

    Check `errors` first: when it is non-empty `rows` is always empty.
    """
    if len(data) > max_bytes:
        return _whole_file_error(
            _("the file is too large (%(size)d bytes; the limit is %(limit)d bytes)")
            % {"size": len(data), "limit": max_bytes}
        )

    bom = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        text = data[bom:].decode("utf-8")
    except UnicodeDecodeError as exc:
        # 0-based offset into the uploaded file, as hex editors show it.
        return _whole_file_error(
            _("the file is not UTF-8 text (byte %(offset)d)") % {"offset": exc.start + bom}
        )

    lines, line_no, header_line, delimiter = _find_header(text)
    if header_line is None:
        return _whole_file_error(_("the file is empty"))
    if delimiter is None:
        delimiter = _choose_delimiter(header_line)

    errors: list[RowError] = []
    rows: list[RegisterRow] = []
    records = _Records(_chain_first(header_line, lines), delimiter, line_no)
    iterator = iter(records)
    data_rows = 0
    try:
        first = next(iterator, None)
        if first is None:
            return _whole_file_error(_("the file is empty"))
        header = _parse_header(first[1], first[0], errors)
        if header is None:
            return ParsedRegister(rows=[], errors=errors)

        checker = _RowChecker(header, max_field)
        for start, record in iterator:
            if all(not value.strip() for value in record):
                continue
            data_rows += 1
            if data_rows > max_rows:
                return _whole_file_error(
                    _("the file has more than %(max_rows)d data rows") % {"max_rows": max_rows}
                )
            row = checker.check(start, record, errors)
            if row is not None:
                rows.append(row)
    except csv.Error as exc:
        # Only pathological input gets here (e.g. a field beyond the csv
        # module's own size limit); nothing after it can be trusted.
        bad_line = records.next_line
        errors.append(
            RowError(
                bad_line,
                _("line %(line)d: the file could not be read as CSV (%(error)s)")
                % {"line": bad_line, "error": exc},
            )
        )
    else:
        if data_rows == 0:
            errors.append(RowError(0, _("the file has a header but no data rows")))

    if errors:
        return ParsedRegister(rows=[], errors=errors)
    return ParsedRegister(rows=rows, errors=[])


def _find_header(text: str) -> tuple[Iterator[str], int, str | None, str | None]:
    """(the lines after the header, its line number, the header line, the delimiter
    a `sep=` line named): blank lines and the directive before it skipped."""
    # newline="" keeps quoted line breaks intact for csv, and splits physical
    # lines on \n, \r\n and \r alike, matching what editors number as lines.
    lines = iter(io.StringIO(text, newline=""))
    line_no = 0
    delimiter: str | None = None
    for line in lines:
        line_no += 1
        if _is_blank_line(line):
            continue
        directive = _SEP_DIRECTIVE.match(line.strip())
        if directive and delimiter is None:
            delimiter = directive.group(1)
            continue
        return lines, line_no, line, delimiter
    return lines, line_no, None, delimiter


def _chain_first(first: str, rest: Iterator[str]) -> Iterator[str]:
    yield first
    yield from rest


class _RowChecker:
    """Validates data records; remembers earlier rows to spot duplicates."""

    def __init__(self, header: _Header, max_field: int) -> None:
        self._header = header
        self._max_field = max_field
        self._people: dict[tuple[str, str, str], int] = {}
        self._emails: dict[str, int] = {}

    def check(self, line: int, record: list[str], errors: list[RowError]) -> RegisterRow | None:
        header = self._header
        # Trailing empty cells beyond the header lose no data; a missing cell
        # might mean values have shifted into the wrong columns, so that's fatal.
        if len(record) > header.width and not any(v.strip() for v in record[header.width :]):
            record = record[: header.width]
        if len(record) != header.width:
            errors.append(
                RowError(
                    line,
                    _("line %(line)d: expected %(expected)d fields, found %(found)d")
                    % {"line": line, "expected": header.width, "found": len(record)},
                )
            )
            return None

        before = len(errors)
        values: dict[str, str] = {}
        for column in KNOWN_COLUMNS:
            position = header.index.get(column)
            if position is None:
                values[column] = ""
                continue
            value = self._check_value(line, column, record[position], errors)
            if value is None:
                continue
            if not value and column in REQUIRED_COLUMNS:
                errors.append(
                    RowError(
                        line,
                        _("line %(line)d: missing value for '%(column)s'")
                        % {"line": line, "column": column},
                    )
                )
                continue
            values[column] = value

        email = values.get("email")
        if email:
            email = normalise_email(email)
            if is_valid_email(email):
                values["email"] = email
            else:
                errors.append(
                    RowError(
                        line,
                        _("line %(line)d: '%(email)s' is not a valid email address")
                        % {"line": line, "email": email},
                    )
                )
                values.pop("email")

        if all(column in values for column in ("full_name", "municipality", "role")):
            self._check_person(line, values, errors)
        if email and "email" in values:
            first = self._emails.setdefault(email, line)
            if first != line:
                errors.append(
                    RowError(
                        line,
                        _("line %(line)d: email already used on line %(first)d")
                        % {"line": line, "first": first},
                    )
                )

        if len(errors) != before:
            return None
        return RegisterRow(
            line=line,
            full_name=values["full_name"],
            role=values["role"],
            municipality=values["municipality"],
            region=values["region"],
            email=values.get("email", ""),
        )

    def _check_person(self, line: int, values: dict[str, str], errors: list[RowError]) -> None:
        # Compared by the same folded keys the database's uniqueness constraint
        # uses, so "Ксения Линдстрем" and "Ksenia Lindstrem" in one municipality
        # are caught here rather than failing the insert.
        keys = {
            "full_name": name_key(values["full_name"]),
            "municipality": place_key(values["municipality"]),
        }
        for column, key in keys.items():
            if not key:
                # Nothing to match a claim against (e.g. the cell is "-").
                errors.append(
                    RowError(
                        line,
                        _("line %(line)d: value for '%(column)s' has no letters or digits")
                        % {"line": line, "column": column},
                    )
                )
                return
            if len(key) > KEY_MAX_LENGTH:
                errors.append(
                    RowError(
                        line,
                        _("line %(line)d: value for '%(column)s' is too long once transliterated")
                        % {"line": line, "column": column},
                    )
                )
                return
        person = (keys["full_name"], keys["municipality"], values["role"].casefold())
        first = self._people.setdefault(person, line)
        if first != line:
            errors.append(
                RowError(
                    line,
                    _(
                        "line %(line)d: duplicate of line %(first)d "
                        "(same full_name, municipality and role, ignoring spelling variants)"
                    )
                    % {"line": line, "first": first},
                )
            )

    def _check_value(self, line: int, column: str, raw: str, errors: list[RowError]) -> str | None:
        if "\n" in raw or "\r" in raw:
            errors.append(
                RowError(
                    line,
                    _(
                        "line %(line)d: value for '%(column)s' spans several lines "
                        "(is a quote left unclosed?)"
                    )
                    % {"line": line, "column": column},
                )
            )
            return None
        bad = _forbidden_character(raw)
        if bad is not None:
            errors.append(
                RowError(
                    line,
                    _(
                        "line %(line)d: value for '%(column)s' contains an invisible "
                        "control character (U+%(code)04X)"
                    )
                    % {"line": line, "column": column, "code": ord(bad)},
                )
            )
            return None
        value = clean_value(raw)
        if len(value) > self._max_field:
            errors.append(
                RowError(
                    line,
                    _(
                        "line %(line)d: value for '%(column)s' is too long "
                        "(%(length)d characters; at most %(limit)d)"
                    )
                    % {
                        "line": line,
                        "column": column,
                        "length": len(value),
                        "limit": self._max_field,
                    },
                )
            )
            return None
        return value
