"""The export's CSV writer against csv.writer, for any text (no database)."""

import csv
import io

from hypothesis import given
from hypothesis import strategies as st

from undersigned.api.exports import COLUMNS, Row, csv_chunks

# Plain text, and text drawn mostly from the characters csv.writer treats apart.
field = st.text() | st.text(alphabet=st.sampled_from(",\"\r\n \t\x00'ab;Я"), max_size=8)
row = st.tuples(st.integers(min_value=0), field, field, field, field, field, field)


def written_by_csv(rows: list[Row]) -> str:
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    writer.writerows(rows)
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
    ]
    assert "".join(csv_chunks([rows[:2], [], rows[2:]])) == written_by_csv(rows)
