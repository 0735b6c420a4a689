"""Register CSV import: pure tests, no database or Django settings needed."""

# Cyrillic test data is intended, not a lookalike typo.

from __future__ import annotations

import codecs

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from undersigned.registers.csv_import import (
    ParsedRegister,
    RegisterRow,
    RowError,
    parse_register_csv,
)
from undersigned.registers.emails import is_valid_email, normalise_email

HEADER = "full_name,role,municipality,region,email"


def csv_bytes(*lines: str, newline: str = "\n", bom: bool = False) -> bytes:
    data = newline.join(lines).encode("utf-8") + newline.encode()
    return codecs.BOM_UTF8 + data if bom else data


def only_error(result: ParsedRegister) -> RowError:
    assert result.rows == []
    assert len(result.errors) == 1, result.errors
    return result.errors[0]


def reasons(result: ParsedRegister) -> list[tuple[int, str]]:
    return [(error.line, error.reason) for error in result.errors]


GOOD = (
    HEADER,
    "Ксения Линдстрем,deputy,Семёновский,Санкт-Петербург,K.Lindstrem@Example.ORG",
    "Ivan   Petrov , deputy ,  Semenovsky  ,Saint Petersburg,",
    '"Smith, John",chair,Vvedensky,Saint Petersburg,john@example.org',
)


# --- accepted files -------------------------------------------------------------------


@pytest.mark.parametrize("bom", [False, True])
def test_good_file_with_and_without_bom(bom: bool) -> None:
    result = parse_register_csv(csv_bytes(*GOOD, bom=bom))

    assert result.errors == []
    assert result.ok
    assert result.rows == [
        RegisterRow(
            2,
            "Ксения Линдстрем",
            "deputy",
            "Семёновский",
            "Санкт-Петербург",
            "k.lindstrem@example.org",
        ),
        RegisterRow(3, "Ivan Petrov", "deputy", "Semenovsky", "Saint Petersburg", ""),
        RegisterRow(4, "Smith, John", "chair", "Vvedensky", "Saint Petersburg", "john@example.org"),
    ]


def test_semicolon_delimiter_from_excel_in_russian_locale() -> None:
    data = csv_bytes(
        "FULL_NAME;Role;Municipality;Region",
        "Линдстрем, Ксения;депутат;МО Семёновский;Санкт-Петербург",
        newline="\r\n",
        bom=True,
    )

    result = parse_register_csv(data)

    assert result.errors == []
    assert result.rows == [
        RegisterRow(2, "Линдстрем, Ксения", "депутат", "МО Семёновский", "Санкт-Петербург", "")
    ]


def test_excel_sep_directive_names_the_delimiter() -> None:
    data = csv_bytes("sep=;", "full_name;role;municipality;region", "A B;deputy;X;Y")

    result = parse_register_csv(data)

    assert result.errors == []
    assert result.rows == [RegisterRow(3, "A B", "deputy", "X", "Y", "")]


def test_header_is_case_insensitive_padded_and_in_any_order() -> None:
    data = csv_bytes(
        " Region , EMAIL,Full Name,MUNICIPALITY ,role",
        "Saint Petersburg,a@example.org,Anna Lee,Semenovsky,deputy",
    )

    result = parse_register_csv(data)

    assert result.errors == []
    assert result.rows == [
        RegisterRow(2, "Anna Lee", "deputy", "Semenovsky", "Saint Petersburg", "a@example.org")
    ]


def test_email_column_is_optional() -> None:
    data = csv_bytes("full_name,role,municipality,region", "Anna Lee,deputy,Semenovsky,SPb")

    result = parse_register_csv(data)

    assert result.errors == []
    assert result.rows[0].email == ""


def test_values_are_nfc_normalised_and_whitespace_collapsed() -> None:
    decomposed = "Андрии\u0306"  # и + combining breve, as some macOS tools write й
    data = csv_bytes(HEADER, f"  {decomposed}\u00a0  Ли ,deputy,Semenovsky,SPb,")

    row = parse_register_csv(data).rows[0]

    assert row.full_name == "Андрий Ли"
    assert len(row.full_name) == len("Андрий Ли")


def test_blank_lines_are_skipped_and_line_numbers_stay_physical() -> None:
    data = csv_bytes(
        "",
        HEADER,
        "",
        "A One,deputy,X,Y,",
        "   ",
        ",,,,",
        "B Two,deputy,X,Y,",
        newline="\r\n",
    )

    result = parse_register_csv(data)

    assert result.errors == []
    assert [(row.line, row.full_name) for row in result.rows] == [(4, "A One"), (7, "B Two")]


def test_old_mac_line_endings() -> None:
    result = parse_register_csv(csv_bytes(HEADER, "A One,deputy,X,Y,", newline="\r"))

    assert result.errors == []
    assert result.rows[0].line == 2


def test_trailing_empty_columns_from_spreadsheets_are_tolerated() -> None:
    data = csv_bytes(HEADER + ",,", "A One,deputy,X,Y,,,", "B Two,deputy,X,Y,,,,")

    result = parse_register_csv(data)

    assert result.errors == []
    assert len(result.rows) == 2


# --- row errors -----------------------------------------------------------------------


def test_wrong_number_of_fields() -> None:
    data = csv_bytes(HEADER, "A One,deputy,X,Y,", "B Two,deputy,X", "C Three,deputy,X,Y,c@d.org,z")

    result = parse_register_csv(data)

    assert result.rows == []
    assert reasons(result) == [
        (3, "line 3: expected 5 fields, found 3"),
        (4, "line 4: expected 5 fields, found 6"),
    ]


@pytest.mark.parametrize("column", ["full_name", "role", "municipality", "region"])
def test_missing_required_value(column: str) -> None:
    values = {"full_name": "A One", "role": "deputy", "municipality": "X", "region": "Y"}
    values[column] = "   "
    header = ",".join(values)
    data = csv_bytes(header, "Z Zed,deputy,X,Y", ",".join(values.values()))

    error = only_error(parse_register_csv(data))

    assert error.line == 3
    assert error.reason == f"line 3: missing value for '{column}'"
    assert str(error) == error.reason


def test_oversize_field() -> None:
    data = csv_bytes(HEADER, "A One,deputy,X,Y,", "B" * 11 + ",deputy,X,Y,")

    error = only_error(parse_register_csv(data, max_field=10))

    assert error.line == 3
    assert "'full_name' is too long" in error.reason
    assert error.reason.startswith("line 3: ")


def test_field_at_the_limit_is_fine() -> None:
    data = csv_bytes(HEADER, "B" * 10 + ",deputy,X,Y,")

    assert parse_register_csv(data, max_field=10).ok


@pytest.mark.parametrize(
    "value",
    [
        "Anna\tLee",  # tab
        "Anna\x00Lee",
        "Anna\x07Lee",
        "Anna\u200bLee",  # zero-width space
        "Anna\u202eeeL",  # right-to-left override
        "Anna\u2028Lee",  # line separator
    ],
)
def test_control_characters_are_rejected(value: str) -> None:
    data = csv_bytes(HEADER, "A One,deputy,X,Y,", f'"{value}",deputy,X,Y,')

    error = only_error(parse_register_csv(data))

    assert error.line == 3
    assert "control character" in error.reason
    assert error.reason.startswith("line 3: value for 'full_name'")


def test_value_spanning_lines_reports_its_first_line_and_later_lines_stay_right() -> None:
    data = csv_bytes(
        HEADER,
        '"Anna',
        'Lee",deputy,X,Y,',
        "B Two,deputy,X,Y,bad-email",
    )

    result = parse_register_csv(data)

    assert [error.line for error in result.errors] == [2, 4]
    assert "spans several lines" in result.errors[0].reason


@pytest.mark.parametrize(
    "email",
    [
        "no-at-sign",
        "two@@example.org",
        "a@b@example.org",
        "nodot@localhost",
        "spa ce@example.org",
        "@example.org",
        "a@.example.org",
        "a@example..org",
        "a@example.org.",
        "Anna <a@example.org>",
        "a@example.org,b@example.org",
        "x" * 250 + "@example.org",
    ],
)
def test_invalid_email(email: str) -> None:
    data = csv_bytes(HEADER, f'A One,deputy,X,Y,"{email}"')

    error = only_error(parse_register_csv(data, max_field=400))

    assert error.line == 2
    assert error.reason.startswith("line 2: ")
    assert error.reason.endswith("is not a valid email address")


def test_duplicate_person() -> None:
    data = csv_bytes(
        HEADER,
        "Anna Lee,deputy,Semenovsky,SPb,",
        "Boris Kim,deputy,Semenovsky,SPb,",
        "anna  LEE,Deputy,SEMENOVSKY,SPb,",
    )

    error = only_error(parse_register_csv(data))

    assert error.line == 4
    assert error.reason.startswith("line 4: duplicate of line 2")


def test_duplicate_person_across_scripts_and_generic_words() -> None:
    # The database's unique key is built from the folded keys, so spelling
    # variants of one person must be caught before the insert.
    data = csv_bytes(
        HEADER,
        "Ксения Линдстрем,deputy,Семёновский,SPb,",
        "Kseniya Lindstrem,deputy,MO Semyonovsky,SPb,",
    )

    error = only_error(parse_register_csv(data))

    assert error.reason.startswith("line 3: duplicate of line 2")


def test_same_name_in_other_municipality_or_role_is_not_a_duplicate() -> None:
    data = csv_bytes(
        HEADER,
        "Anna Lee,deputy,Semenovsky,SPb,",
        "Anna Lee,deputy,Vvedensky,SPb,",
        "Anna Lee,head,Semenovsky,SPb,",
    )

    assert len(parse_register_csv(data).rows) == 3


def test_duplicate_email() -> None:
    data = csv_bytes(
        HEADER,
        "Anna Lee,deputy,X,Y,anna@example.org",
        "Boris Kim,deputy,X,Y,",
        "Vera Ode,deputy,X,Y,",
        "Gleb Orr,deputy,X,Y, ANNA@Example.org ",
    )

    error = only_error(parse_register_csv(data))

    assert (error.line, error.reason) == (5, "line 5: email already used on line 2")


def test_name_without_letters_is_rejected() -> None:
    error = only_error(parse_register_csv(csv_bytes(HEADER, "--,deputy,X,Y,")))

    assert error.reason == "line 2: value for 'full_name' has no letters or digits"


def test_every_bad_row_is_reported_and_nothing_is_imported() -> None:
    data = csv_bytes(
        HEADER,
        "Anna Lee,deputy,X,Y,anna@example.org",  # 2 fine
        "Boris Kim,,X,Y,",  # 3 missing role
        "Vera Ode,deputy,X,Y,not-an-email",  # 4 bad email
        "",  # 5 blank
        "Gleb Orr,deputy,X",  # 6 short
        "Anna Lee,deputy,X,Y,",  # 7 duplicate of 2
        "Dina Fox,deputy,X,Y,ANNA@example.org",  # 8 email of 2
        ",,X,,",  # 9 two missing values
        "Egor Ivy,deputy,X,Y,egor@example.org",  # 10 fine
    )

    result = parse_register_csv(data)

    assert result.rows == []
    assert reasons(result) == [
        (3, "line 3: missing value for 'role'"),
        (4, "line 4: 'not-an-email' is not a valid email address"),
        (6, "line 6: expected 5 fields, found 3"),
        (
            7,
            "line 7: duplicate of line 2 (same full_name, municipality and role, "
            "ignoring spelling variants)",
        ),
        (8, "line 8: email already used on line 2"),
        (9, "line 9: missing value for 'full_name'"),
        (9, "line 9: missing value for 'role'"),
        (9, "line 9: missing value for 'region'"),
    ]


# --- header errors --------------------------------------------------------------------


def test_unknown_columns_are_named() -> None:
    data = csv_bytes(HEADER + ",phone,Notes", "A One,deputy,X,Y,,123,hi")

    error = only_error(parse_register_csv(data))

    assert error.line == 1
    assert error.reason.startswith("line 1: unknown columns 'phone', 'notes'")


def test_missing_required_column_is_one_whole_file_error() -> None:
    data = csv_bytes("full_name,role,municipality,email", "A One,deputy,X,", "B,,,")

    error = only_error(parse_register_csv(data))

    assert error.line == 0
    assert error.reason.startswith("the header is missing the required column 'region'")


def test_file_without_header_is_reported_as_missing_columns() -> None:
    error = only_error(parse_register_csv(csv_bytes("Anna Lee,deputy,X,Y")))

    assert error.line == 0
    assert "missing the required columns" in error.reason


def test_repeated_column() -> None:
    data = csv_bytes("full_name,role,municipality,region,role", "A One,deputy,X,Y,deputy")

    error = only_error(parse_register_csv(data))

    assert error.reason == "line 1: column 'role' appears more than once in the header"


def test_nameless_column_in_the_middle() -> None:
    data = csv_bytes("full_name,,role,municipality,region", "A One,,deputy,X,Y")

    error = only_error(parse_register_csv(data))

    assert error.reason == "line 1: column 2 of the header has no name"


# --- whole-file errors ----------------------------------------------------------------


def test_cp1251_file_is_rejected_with_byte_offset() -> None:
    data = "full_name,role,municipality,region\nКсения,депутат,X,Y\n".encode("cp1251")
    first_non_ascii = next(i for i, byte in enumerate(data) if byte >= 0x80)

    error = only_error(parse_register_csv(data))

    assert error.line == 0
    assert error.reason == f"the file is not UTF-8 text (byte {first_non_ascii})"


def test_byte_offset_counts_the_bom() -> None:
    data = codecs.BOM_UTF8 + b"full_name\xff"

    assert only_error(parse_register_csv(data)).reason == "the file is not UTF-8 text (byte 12)"


def test_utf16_is_rejected() -> None:
    data = "full_name,role,municipality,region\n".encode("utf-16")

    assert only_error(parse_register_csv(data)).reason.startswith("the file is not UTF-8 text")


def test_oversize_file() -> None:
    data = csv_bytes(*GOOD)

    error = only_error(parse_register_csv(data, max_bytes=len(data) - 1))
    assert error.line == 0
    assert "too large" in error.reason

    assert parse_register_csv(data, max_bytes=len(data)).ok


def test_too_many_rows() -> None:
    data = csv_bytes(HEADER, "A,d,X,Y,", "B,d,X,Y,", "", "C,d,X,Y,")

    assert parse_register_csv(data, max_rows=3).ok
    error = only_error(parse_register_csv(data, max_rows=2))
    assert error == RowError(0, "the file has more than 2 data rows")


@pytest.mark.parametrize("data", [b"", b"\n\n", b"  \r\n", codecs.BOM_UTF8, b";;;\n"])
def test_empty_file(data: bytes) -> None:
    assert only_error(parse_register_csv(data)) == RowError(0, "the file is empty")


def test_header_only() -> None:
    error = only_error(parse_register_csv(csv_bytes(HEADER, "", ",,,,")))

    assert error == RowError(0, "the file has a header but no data rows")


def test_field_beyond_csv_module_limit_does_not_raise() -> None:
    data = csv_bytes(HEADER, "A One,deputy,X,Y,", '"' + "x" * 200_000 + '",deputy,X,Y,')

    result = parse_register_csv(data)

    assert result.rows == []
    assert result.errors[0].line == 3


# --- emails ---------------------------------------------------------------------------


def test_normalise_email_only_trims_and_lowercases() -> None:
    assert (
        normalise_email("  John.Smith+Petitions@GMail.COM \n") == "john.smith+petitions@gmail.com"
    )
    assert normalise_email("E\u0301VA@example.org") == "\u00e9va@example.org"
    assert is_valid_email("john.smith+petitions@gmail.com")


# --- properties -----------------------------------------------------------------------


def check_invariants(result: ParsedRegister) -> None:
    # All-or-nothing: a caller must never be handed a partial register.
    assert bool(result.rows) != bool(result.errors)
    for error in result.errors:
        assert error.line >= 0
        assert error.reason
        assert error.line == 0 or error.reason.startswith(f"line {error.line}: ")
    for row in result.rows:
        assert row.line >= 2
        assert all([row.full_name, row.role, row.municipality, row.region])
        assert row.email == normalise_email(row.email)


@settings(max_examples=300)
@given(st.binary(max_size=400))
def test_arbitrary_bytes_never_raise(data: bytes) -> None:
    check_invariants(parse_register_csv(data, max_bytes=300, max_rows=5, max_field=20))


csv_text = st.text(
    alphabet=st.sampled_from([*'ab Яё,;"\n\r\t\x00@.-é', "\u200b", "\ufeff"]),
    max_size=200,
)


@settings(max_examples=300)
@given(st.sampled_from(["", HEADER + "\n", "full_name;role;municipality;region\r\n"]), csv_text)
def test_arbitrary_text_after_a_header_never_raises(header: str, body: str) -> None:
    check_invariants(parse_register_csv((header + body).encode("utf-8"), max_field=20))


names = st.text(alphabet=st.sampled_from(list("abcxyz АБЯЁ-'")), min_size=1, max_size=15)


@given(st.lists(st.tuples(names, names), min_size=1, max_size=8))
def test_well_formed_rows_round_trip_or_fail_as_duplicates(people: list[tuple[str, str]]) -> None:
    lines = [HEADER] + [f'"{name}",deputy,"{place}",Region,' for name, place in people]

    result = parse_register_csv(csv_bytes(*lines))

    check_invariants(result)
    if result.ok:
        assert [(row.full_name, row.municipality) for row in result.rows] == [
            (" ".join(name.split()), " ".join(place.split())) for name, place in people
        ]
    else:
        allowed = ("duplicate of line", "missing value for", "has no letters or digits")
        assert all(any(text in error.reason for text in allowed) for error in result.errors)
