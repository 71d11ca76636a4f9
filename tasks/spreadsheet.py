"""CSV that a spreadsheet opens as text: the one writer of the dashboard's and the report's CSV.

Department names, contacts and the reassign form's fields are typed by people outside the
office; a cell starting `=HYPERLINK(…)` or `@SUM(…)` would be run by Excel or WPS when the
coordinator opens the file. As OWASP recommends (CSV injection), such a cell is written with a
leading apostrophe: the spreadsheet shows the text, with the apostrophe, and runs nothing.
Numbers the product computes (days overdue, counts) are not text and are written as they are.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import IO, Any

# What makes a spreadsheet read a cell as a formula (or, for tab and CR, shift it into one).
FORMULA_LEAD = ("=", "+", "-", "@", "\t", "\r")


def as_text(value: Any) -> Any:
    """`value`, or for text that a spreadsheet would run, the text behind an apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_LEAD):
        return "'" + value
    return value


class SafeWriter:
    """`csv.writer` whose text cells never start a formula."""

    def __init__(self, handle: IO[str]) -> None:
        self._writer = csv.writer(handle)

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([as_text(value) for value in row])
