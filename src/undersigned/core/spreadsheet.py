"""Text as a CSV cell that no spreadsheet runs as a formula (OWASP, "CSV injection").

Standard library only: the site's exports use it, and so does `undersigned
custody open` on a moderator's own machine. docs/log-format.md ("Exports")
states the rule, so that an auditor can compare a CSV with the log.
"""

import re

# A spreadsheet runs a cell that starts with = + - @, a tab or a carriage
# return as a formula: such a cell gets a quote in front, which spreadsheets
# take for "text".
FORMULA_START = frozenset("=+-@\t\r")
# Excel in countries with a decimal comma (Russia among them) splits a CSV's
# lines at ";", and a tab-separated import at tabs: there a formula can start
# inside a cell, after one of them (and any spaces or double quotes), so it
# gets the quote there too.
_FORMULA_INSIDE = re.compile(r"([;\t][ \"]*)(?=[=+\-@\t\r])")


def spreadsheet_cell(text: str) -> str:
    """`text` as a CSV cell no spreadsheet runs as a formula."""
    if ";" in text or "\t" in text:
        text = _FORMULA_INSIDE.sub(r"\1'", text)
    if text[:1] in FORMULA_START:
        text = "'" + text
    return text
