"""The one-pass reader and Validate's collect mode.

Workbooks are made as a user would make them (openpyxl: a typed "n.a.", a #N/A, a wrong Total
output, a negative flow, a date). Validate must exit 0 and list each problem at its cell; every
other command must refuse the same workbook with the cell-precise message it always gave.
"""
from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import numpy as np
import openpyxl
import pytest
import xlwings as xw
from numpy.testing import assert_allclose

from conftest import worked_example
from test_workbook_layer import MALFORMED, _mutate, _write_input
from xlmrio.cli import main
from xlmrio.errors import WorkbookError, XlmrioError
from xlmrio.excel import engine
from xlmrio.excel.layout import (Grid, Problems, build_table, describe_value, locate_table, numeric_block,
                                 read_satellite_grid, read_table_blocks, read_table_grid, satellite_grid, table_grid)
from xlmrio.excel.reader import read_table
from xlmrio.excel.registry import get
from xlmrio.excel.settings import resolve

engine.use()


@pytest.fixture
def clean_input(tmp_path):
    return _write_input(tmp_path / "input.xlsx", worked_example(), settings={"satellite": "CO2"})


def _findings(path: Path) -> list[dict]:
    """The rows of the Findings table of a written Validate sheet, read with plain openpyxl."""
    ws = openpyxl.load_workbook(path)["Validate"]
    rows = [[c for c in r] for r in ws.iter_rows()]
    start = next(i for i, r in enumerate(rows) if isinstance(r[0].value, str) and r[0].value.startswith("Table 2."))
    head = [c.value for c in rows[start + 1]]
    out = []
    for r in rows[start + 2:]:
        if r[0].value is None:
            break
        out.append({h: c for h, c in zip(head, r) if h})
    return out


def _user_made_bad_workbook(clean: Path, dest: Path) -> Path:
    """Four problems a user makes by hand, in four different rows of the worked example."""
    def edit(wb):
        ws = wb["MRIO"]
        ws["D5"] = "n.a."                            # text in Z, row R1|M
        ws["G6"] = "#N/A"                            # error value in final demand, row R1|S
        ws["C8"] = -4                                # negative flow in Z, row R2|S
        col = next(c.column_letter for c in ws[3] if c.value == "Total output")
        ws[f"{col}7"] = 999                          # wrong Total output, row R2|M
    return _mutate(shutil.copy(clean, dest) and dest, edit)


def test_validate_lists_each_problem_at_its_cell_and_exits_0(clean_input, tmp_path, capsys):
    bad = _user_made_bad_workbook(clean_input, tmp_path / "bad.xlsx")
    out = tmp_path / "checked.xlsx"
    assert main(["run", str(bad), "validate", "--out", str(out)]) == 0
    rows = _findings(out)
    cells: dict[str, list] = {}
    for r in rows:
        cells.setdefault(r["cell"].value, []).append(r)
    col = next(c.column_letter for c in openpyxl.load_workbook(bad)["MRIO"][3] if c.value == "Total output")
    expected = {"'MRIO'!D5": 'text "n.a." in the Z block', "'MRIO'!G6": "error value #N/A in the final-demand block",
                "'MRIO'!C8": "negative intermediate flow -4 in Z (row R2|S, column R1|M)",
                f"'MRIO'!{col}7": "Total output 999 of R2|M does not match the row sum"}
    for cell, text in expected.items():
        assert cell in cells, (cell, list(cells))
        row = next((r for r in cells[cell] if r["what is wrong"].value.startswith(text)), None)
        assert row is not None, (text, [r["what is wrong"].value for r in cells[cell]])
        assert row["severity"].value == "error"
        assert row["how to fix"].value                     # every error says how to fix it
    # the Total output finding has its difference as a number, with a number format
    tot = next(r for r in cells[f"'MRIO'!{col}7"] if "row sum" in r["what is wrong"].value)["value"]
    assert isinstance(tot.value, float) and tot.value == pytest.approx(999 - worked_example().x[2])
    assert tot.number_format != "General"
    assert cells["'MRIO'!C8"][0]["value"].value == -4
    # the same workbook: accounts refuses with the first problem's message, exit 2, one line
    capsys.readouterr()
    assert main(["run", str(bad), "accounts", "--out", str(tmp_path / "acc.xlsx")]) == 2
    err = capsys.readouterr().err
    assert "'MRIO'!D5: text \"n.a.\" in the Z block" in err and err.count("\n") == 1
    assert not (tmp_path / "acc.xlsx").exists()


def test_validate_summary_numbers_are_numbers_with_formats(clean_input, tmp_path):
    bad = _user_made_bad_workbook(clean_input, tmp_path / "bad.xlsx")
    out = tmp_path / "checked.xlsx"
    assert main(["run", str(bad), "validate", "--out", str(out)]) == 0
    ws = openpyxl.load_workbook(out)["Validate"]
    seen_formats = set()
    for row in ws.iter_rows():
        for c in row:
            if isinstance(c.value, str):
                try:
                    float(c.value.replace(",", ""))
                except ValueError:
                    continue
                pytest.fail(f"number stored as text at {c.coordinate}: {c.value!r}")
            if isinstance(c.value, (int, float)) and not isinstance(c.value, bool) and c.column > 1:
                seen_formats.add(c.number_format)
                assert c.number_format != "General", f"{c.coordinate} = {c.value} has no number format"
    # counts, money totals (decimals follow the magnitude: '#,##0' or '#,##0.0') and residuals
    assert {"0", "0.00E+00"} <= seen_formats and any(f.startswith("#,##0") for f in seen_formats)
    values = {r[0].value: r[1].value for r in ws.iter_rows() if r[0].value in ("errors", "warnings", "verdict")}
    listed = [r for r in _findings(out) if r["severity"].value == "error"]
    assert values["errors"] == len(listed) >= 4 and values["verdict"] == "problems found"


@pytest.mark.parametrize("case", sorted(c for c in MALFORMED if not c.startswith(("settings", "empty_table"))))
def test_validate_reports_what_accounts_refuses(case, clean_input, tmp_path):
    """Every malformed workbook of the corpus: accounts refuses with a message at a cell; Validate
    either lists a finding at that very cell with the same text (exit 0), or — for a table it cannot
    read at all — refuses with the identical message."""
    mutate, text, _ = MALFORMED[case]
    bad = _mutate(shutil.copy(clean_input, tmp_path / f"{case}.xlsx") and tmp_path / f"{case}.xlsx", mutate)
    book = xw.Book(str(bad))
    try:
        with pytest.raises(XlmrioError) as refused:
            get("accounts").func(book)
    finally:
        book.close()
    msg = str(refused.value)
    out = tmp_path / f"{case}-validate.xlsx"
    code = main(["run", str(bad), "validate", "--out", str(out)])
    structural = {"duplicated_row_label", "missing_region_label", "missing_sector_label", "z_header_mismatch",
                  "merged_header", "unknown_fd_region", "missing_fd_category", "duplicated_exports",
                  "bad_row_below_table"}
    if case in structural:
        assert code == 2 and not out.exists()
        book = xw.Book(str(bad))
        try:
            with pytest.raises(XlmrioError) as also:
                get("validate").func(book)
        finally:
            book.close()
        assert str(also.value) == msg
        return
    assert code == 0, msg
    cell = msg.split(": ", 1)[0]
    found = [r for r in _findings(out) if r["cell"].value == cell]
    assert found, (cell, [r["cell"].value for r in _findings(out)])
    assert any(text in r["what is wrong"].value for r in found)


def test_date_in_z_is_named_as_a_date(clean_input, tmp_path, capsys):
    bad = _mutate(shutil.copy(clean_input, tmp_path / "date.xlsx") and tmp_path / "date.xlsx",
                  lambda wb: wb["MRIO"].__setitem__("E7", dt.datetime(2024, 12, 1)))
    assert main(["run", str(bad), "accounts", "--out", str(tmp_path / "o.xlsx")]) == 2
    err = capsys.readouterr().err
    assert "'MRIO'!E7: a date (2024-12-01) in the Z block; a number is needed" in err
    assert "datetime" not in err


def test_describe_value_never_leaks_a_repr():
    assert describe_value(dt.datetime(2024, 12, 1)) == "a date (2024-12-01)"
    assert describe_value(dt.date(2024, 12, 1)) == "a date (2024-12-01)"
    assert describe_value(dt.datetime(2024, 12, 1, 13, 45)) == "a date and time (2024-12-01 13:45)"
    assert describe_value(dt.time(13, 45)) == "a time (13:45:00)"
    assert describe_value(dt.timedelta(hours=2)) == "a duration (2:00:00)"
    assert "(" not in describe_value(True) and "TRUE" in describe_value(True)
    for v in (object(), b"x", complex(1, 2)):
        assert "<" not in describe_value(v) and "object at" not in describe_value(v)


def test_clean_table_collect_mode_equals_strict_mode(clean_input):
    book = xw.Book(str(clean_input))
    try:
        strict = read_table(book, resolve(book, {}))
        collected = read_table(book, resolve(book, {}), collect=True)
    finally:
        book.close()
    assert collected.findings == [] and strict.findings == []
    ref = worked_example()
    for t in (strict.table, collected.table):
        for block in ("Z", "Y", "V", "x", "exports"):
            assert_allclose(getattr(t, block), getattr(ref, block), rtol=0, atol=0)
        assert_allclose(t.satellites["CO2"].values, ref.satellites["CO2"].values, rtol=0, atol=0)
        assert t.monetary_unit == ref.monetary_unit and t.name == "MRIO"
    lay = strict.layout
    assert lay.addr(*lay.header) == "A3" and lay.addr(lay.first_row, lay.z_col) == "C5"
    assert lay.x_col is not None and lay.sheet == "MRIO"


def _grid_of(t, row0: int = 1, col0: int = 1) -> Grid:
    return Grid("T", [list(r) for r in table_grid(t)], row0, col0)


def test_steps_by_name_give_the_table_of_from_arrays():
    """locate_table -> read_table_blocks -> read_satellite_grid (against the blocks) -> build_table equals
    the table built directly from the arrays, at any position on the sheet."""
    t = worked_example()
    grid = _grid_of(t, row0=4, col0=3)
    lay = locate_table(grid)
    assert lay.regions == list(t.regions) and lay.sectors == list(t.sectors) and lay.va_labels == list(t.va_rows)
    assert lay.addr(lay.first_row, lay.z_col) == "E6"
    blocks = read_table_blocks(grid)
    sats = read_satellite_grid(Grid("S", satellite_grid(t)), blocks)
    built = build_table(grid, blocks, satellites=sats, monetary_unit="MU", name="T")
    assert_allclose(built.Z, t.Z, rtol=0, atol=0)
    assert_allclose(built.x, t.x, rtol=0, atol=0)
    assert_allclose(built.satellites["CO2"].values, t.satellites["CO2"].values, rtol=0, atol=0)
    # without a Total output column, the blocks' x is what the table derives
    no_x = [r[:-1] for r in table_grid(t)]
    b2 = read_table_blocks(Grid("T", no_x))
    assert b2.x_given is None
    assert_allclose(b2.x, build_table(Grid("T", no_x), b2).x, rtol=0, atol=0)


def test_problems_limit_per_kind_and_count():
    t = worked_example()
    g = table_grid(t)
    for j in (2, 3, 4):
        g[2][j] = "n.a."                              # three text cells in Z's first row
    grid = Grid("T", g)
    problems = Problems(collect=True, per_kind=2)
    blocks = read_table_blocks(grid, problems=problems)
    f = problems.findings
    texts = [x for x in f if x.what.startswith('text "n.a."')]
    assert [x.cell for x in texts] == ["C3", "D3"]
    more = [x for x in f if x.cell == "" and x.what.startswith("1 more: text in the Z block")]
    assert len(more) == 1 and more[0].count == 1
    assert problems.count("error") >= 3
    assert blocks.Z[0, :3].tolist() == [0.0, 0.0, 0.0]              # read as 0
    # the balance finding of that row says why it is off
    tot = [x for x in f if x.what.startswith("Total output") and "row sum" in x.what]
    assert tot and all("read as 0" in x.what for x in tot)
    with pytest.raises(WorkbookError, match=r"'T'!C3: text \"n.a.\" in the Z block"):
        read_table_grid(grid)                       # strict: the first one, as always


def test_numeric_block_fast_rows_still_check_every_cell():
    """Rows of plain numbers are copied at once; a bool, numpy number, text or None in a row is not."""
    rows = [[1.0, 2, np.float64(3.0)], [4.0, True, 6.0], [7.0, "8", 9.0]]
    grid = Grid("G", rows)
    assert numeric_block(grid, 0, 0, 1, 3, "the block").tolist() == [[1.0, 2.0, 3.0]]
    with pytest.raises(WorkbookError, match="'G'!B2: logical value True"):
        numeric_block(grid, 0, 0, 3, 3, "the block")
    with pytest.raises(WorkbookError, match="'G'!B3: number stored as text"):
        numeric_block(grid, 2, 0, 1, 3, "the block")
    with pytest.raises(WorkbookError, match="'G'!D1: empty cell"):
        numeric_block(grid, 0, 0, 1, 4, "the block")        # a short row is an empty cell
    with pytest.raises(WorkbookError, match="'G'!C1: non-finite number"):
        numeric_block(Grid("G", [[1.0, 2.0, float("inf")]]), 0, 0, 1, 3, "the block")


def test_unreadable_satellites_sheet_is_one_finding(clean_input, tmp_path):
    bad = _mutate(shutil.copy(clean_input, tmp_path / "sat.xlsx") and tmp_path / "sat.xlsx",
                  lambda wb: wb["MRIO satellites"].__setitem__("D2", "Q"))
    book = xw.Book(str(bad))
    try:
        src = read_table(book, resolve(book, {}), collect=True)
    finally:
        book.close()
    assert not src.table.satellites
    assert [(f.cell, f.severity) for f in src.findings] == [("D1", "error")]
    assert "satellite column header" in src.findings[0].what and "without its satellites" in src.findings[0].fix


def test_date_in_a_settings_cell_is_named_as_a_date(clean_input, tmp_path, capsys):
    def edit(wb):
        ws = wb["Settings"]
        row = next(r[0].row for r in ws.iter_rows() if r[0].value == "top_k")
        ws.cell(row, 2, dt.datetime(2024, 12, 1))
    bad = _mutate(shutil.copy(clean_input, tmp_path / "sdate.xlsx") and tmp_path / "sdate.xlsx", edit)
    assert main(["run", str(bad), "flows", "--out", str(tmp_path / "o.xlsx")]) == 2
    err = capsys.readouterr().err
    assert "invalid value a date (2024-12-01)" in err and "datetime" not in err


def test_value_text_keeps_text_and_numbers_as_before():
    from xlmrio.excel.layout import value_text

    assert value_text("sideways") == "'sideways'" and value_text(-1) == "-1" and value_text(2.5) == "2.5"
    assert value_text(np.float64(2.5)) == "2.5" and value_text(dt.date(2024, 12, 1)) == "a date (2024-12-01)"


def test_wiod_layout_collects_too(tmp_path, capsys):
    """A WIOD-layout sheet with a typed 'n.a.' and a negative flow: Validate lists both at their cells
    (exit 0), accounts refuses with the first."""
    from test_layouts_foreign import wiod_grid
    from xlmrio.excel.layouts_foreign import read_any_grid

    grid, _ = wiod_grid()
    i0 = next(i for i, r in enumerate(grid.values) if r[3] in ("c1", "r1") and isinstance(r[4], float))
    grid.values[i0][5] = "n.a."
    grid.values[i0 + 1][4] = -2.0
    problems = Problems(collect=True)
    read_any_grid(grid, problems=problems)
    cells = [f.cell for f in problems.findings]
    assert cells[:2] == [grid.addr(i0, 5), grid.addr(i0 + 1, 4)]
    assert 'text "n.a."' in problems.findings[0].what and "negative intermediate flow -2" in problems.findings[1].what
    path = tmp_path / "wiod.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "WIOT"
    for row in grid.values:
        wb.active.append(row)
    wb.save(path)
    out = tmp_path / "checked.xlsx"
    assert main(["run", str(path), "validate", "--out", str(out)]) == 0
    listed = {r["cell"].value for r in _findings(out)}
    assert {f"'WIOT'!{grid.addr(i0, 5)}", f"'WIOT'!{grid.addr(i0 + 1, 4)}"} <= listed
    capsys.readouterr()
    assert main(["run", str(path), "accounts", "--out", str(tmp_path / "a.xlsx")]) == 2
    assert f"'WIOT'!{grid.addr(i0, 5)}: text \"n.a.\"" in capsys.readouterr().err


def test_collecting_a_sheet_of_empty_cells_stops_asking_excel_about_each():
    """Each formula/merge look-up may be a call into Excel: collecting stops after its budget, while the
    default mode still checks every empty cell it meets (here: the first)."""
    class CountingProbe:
        calls = 0

        def formula(self, i, j):
            CountingProbe.calls += 1
            return None

        def is_merged(self, i, j):
            CountingProbe.calls += 1
            return False

    grid = Grid("E", [[None] * 40 for _ in range(40)], probe=CountingProbe())
    problems = Problems(collect=True, probes=100)
    assert numeric_block(grid, 0, 0, 40, 40, "the block", problems=problems).sum() == 0
    assert CountingProbe.calls == 200 and problems.count("error") == 1600
    assert len(problems.findings) == problems.per_kind + 1           # 25 listed, one line for the other 1575
    assert problems.findings[-1].count == 1575
    with pytest.raises(WorkbookError, match="'E'!A1: empty cell"):
        numeric_block(grid, 0, 0, 40, 40, "the block")


def test_negative_total_output_is_reported_at_its_cell(tmp_path):
    """A negative Total output that balances (negative final demand, negative value added): the table's
    own check named only the sheet; now every command names the cell, and Validate lists it."""
    from xlmrio.core.table import MRIOTable

    t = worked_example()
    Y = t.Y.copy()
    Y[3, 0] -= t.Z[3].sum() + t.Y[3].sum() + t.exports[3] + 5          # row R2|S sums to -5
    neg = MRIOTable.from_arrays(t.Z, Y, regions=t.regions, sectors=t.sectors, fd_categories=t.fd_categories,
                                exports=t.exports, satellites=dict(t.satellites), monetary_unit="MU", check=False)
    assert neg.x[3] == pytest.approx(-5)
    bad = _write_input(tmp_path / "negx.xlsx", neg, settings={"satellite": "CO2"})
    col = next(c.column_letter for c in openpyxl.load_workbook(bad)["MRIO"][3] if c.value == "Total output")
    book = xw.Book(str(bad))
    try:
        with pytest.raises(XlmrioError) as ei:
            get("accounts").func(book)
        src = read_table(book, resolve(book, {}), collect=True)
    finally:
        book.close()
    assert str(ei.value).startswith(f"'MRIO'!{col}8: negative total output -5 of R2|S")
    assert any(f.cell == f"{col}8" and f.what.startswith("negative total output -5") for f in src.findings)


def test_table_file_problems_are_listed_at_the_files_cells(tmp_path, capsys):
    """A table in a CSV file named in the Settings: Validate lists a typed 'n.a.' at the file's cell."""
    import csv

    t = worked_example()
    grid = table_grid(t)
    grid[3][4] = "n.a."                                   # row 4, column E of the file
    path = tmp_path / "big.csv"
    with open(path, "w", newline="") as fh:
        csv.writer(fh).writerows([["" if v is None else v for v in r] for r in grid])
    book = _write_input(tmp_path / "book.xlsx", t, sheet="big", settings={"table_file": path.name})
    out = tmp_path / "checked.xlsx"
    assert main(["run", str(book), "validate", "--out", str(out)]) == 0
    assert "'big.csv'!E4" in {r["cell"].value for r in _findings(out)}
    capsys.readouterr()
    assert main(["run", str(book), "accounts", "--out", str(tmp_path / "a.xlsx")]) == 2
    assert "'big.csv'!E4: text \"n.a.\" in the Z block" in capsys.readouterr().err
