"""Issue 17, item 6: the cells of every CSV Rekam writes cannot be spreadsheet formulas."""

import csv
import io

from api import csv_cells


def test_text_that_a_spreadsheet_would_run_is_prefixed_numbers_are_not() -> None:
    out = io.StringIO()
    csv_cells.writer(out, lineterminator="\r\n").writerows([["=1+1", "+1", "-1", "@A1", "\tx", "\rx", "Serpong", -3, 2.5, ""]])
    assert next(csv.reader(io.StringIO(out.getvalue(), newline=""))) == ["'=1+1", "'+1", "'-1", "'@A1", "'\tx", "'\rx", "Serpong", "-3", "2.5", ""]
