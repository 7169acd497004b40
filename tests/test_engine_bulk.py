"""Large value blocks (``engine._bulk``): written straight into the sheet XML on save, and the same
workbook as openpyxl's own cell-by-cell path would have written, checked with plain openpyxl."""
from __future__ import annotations

import math

import openpyxl
import pytest
import xlwings as xw

from xlmrio.excel import engine
from xlmrio.excel.engine import _bulk, _range


@pytest.fixture(autouse=True)
def openpyxl_engine():
    previous = xw.engines.active
    engine.use()
    yield
    xw.engines.active = previous


def _grid(nrows: int, ncols: int) -> list[list]:
    """A table in the input layout with every kind of plain value: labels, floats, ints, booleans,
    text that needs escaping or keeps its spaces, and empty cells."""
    head = [["Region", "Sector"] + [f"R{j % 3}" for j in range(ncols - 2)],
            ["", ""] + [f"s{j} & <x>" for j in range(ncols - 2)]]
    body = []
    for i in range(nrows - 2):
        row = [f"R{i % 3}", f" c{i} "]
        for j in range(ncols - 2):
            k = (i * 7 + j) % 11
            row.append(None if k == 0 else True if k == 1 else 3 if k == 2 else "" if k == 3
                       else (i + 1) * 1.1 / (j + 3))
        body.append(row)
    return head + body


def _fill(book, grid) -> None:
    sh = book.sheets[0]
    sh.name = "T"
    sh.range("A1").value = "Title"
    sh.range((3, 1)).value = grid
    n, m = len(grid), len(grid[0])
    sh.range((3, 1), (4, m)).font.bold = True
    sh.range((5, 3), (n + 2, m)).number_format = "#,##0.000"
    sh.range((5, 1), (n + 2, 2)).color = (230, 230, 230)
    sh.range((6, 1)).row_height = 30
    sh.range((3, 1)).column_width = 20
    sh.range((n + 4, 1)).value = "note below"
    sh.range((5, m + 2)).value = "beside"


def _cells(path) -> dict:
    ws = openpyxl.load_workbook(path)["T"]
    out = {}
    for row in ws.iter_rows():
        for c in row:
            if c.value is not None or c.has_style:
                out[(c.row, c.column)] = (c.value, c.font.b, c.number_format, c.fill.fgColor.rgb)
    return out, {r: d.height for r, d in ws.row_dimensions.items() if d.height}, ws.column_dimensions["A"].width


def test_a_large_block_saves_exactly_as_openpyxl_cells_would(tmp_path, monkeypatch):
    grid = _grid(60, 40)  # 2400 cells
    monkeypatch.setattr(_range, "BULK_MIN_CELLS", 1000)
    fast = xw.Book()
    _fill(fast, grid)
    assert len(fast.impl._bulks) == 1  # the block was kept out of openpyxl's cells
    fast.save(tmp_path / "fast.xlsx")
    monkeypatch.setattr(_range, "BULK_MIN_CELLS", 10 ** 9)
    slow = xw.Book()
    _fill(slow, grid)
    assert not slow.impl._bulks
    slow.save(tmp_path / "slow.xlsx")
    got, heights, width = _cells(tmp_path / "fast.xlsx")
    want, heights0, width0 = _cells(tmp_path / "slow.xlsx")
    assert got == want
    assert heights == heights0 == {6: 30}
    assert width == width0 == 20
    assert got[(5, 2)][0] == " c0 " and got[(4, 3)][0] == "s0 & <x>"
    ref = openpyxl.load_workbook(tmp_path / "fast.xlsx")["T"].dimensions
    assert ref == openpyxl.load_workbook(tmp_path / "slow.xlsx")["T"].dimensions


def test_values_read_back_in_session_and_after_reopening(tmp_path, monkeypatch):
    monkeypatch.setattr(_range, "BULK_MIN_CELLS", 1000)
    grid = _grid(50, 30)
    book = xw.Book()
    _fill(book, grid)
    sh = book.sheets["T"]
    assert sh.range((10, 5)).value == grid[7][4]
    sh.range((10, 5)).formula = "=1+1"  # a formula turns the block into cells first
    assert not book.impl._bulks and sh.range((10, 6)).value == grid[7][5]
    grid[7][4] = "=1+1"
    book.save(tmp_path / "a.xlsx")
    book.close()
    again = xw.Book(tmp_path / "a.xlsx")
    vals = again.sheets["T"].range((3, 1), (52, 30)).options(empty=None).raw_value
    expect = [[None if v == "" else float(v) if type(v) is int else v for v in row] for row in grid]
    expect[7][4] = None  # a formula written by openpyxl has no cached result
    assert vals == expect


def test_cell_operations_on_a_block_see_its_cells(tmp_path, monkeypatch):
    monkeypatch.setattr(_range, "BULK_MIN_CELLS", 1000)
    grid = [[float(i * 100 + j) for j in range(40)] for i in range(40)]
    book = xw.Book()
    sh = book.sheets[0]
    sh.name = "T"
    sh.range("B2").value = grid
    assert len(book.impl._bulks) == 1
    sh.range("C3").value = grid  # a second write over the first block turns it into cells first
    assert book.impl._bulks == {}
    assert sh.used_range.address == "$B$2:$AP$42"
    sh.range("A50").value = grid
    assert sh.used_range.address == "$A$2:$AP$89"
    assert len(book.impl._bulks) == 1  # used_range counts the block without turning it into cells
    sh.range("D4").formula = "=B2*2"
    sh.range("B2:C2").merge()
    assert sh.range("C3").end("down").row == 42 and sh.range("B3").end("down").row == 41
    book.save(tmp_path / "b.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "b.xlsx")["T"]
    assert ws["D4"].value == "=B2*2"
    assert ws["C3"].value == 0.0 and ws["AP42"].value == 3939.0 and ws["B41"].value == 3900.0
    assert "B2:C2" in {str(r) for r in ws.merged_cells.ranges}


def test_restyling_part_of_a_block_and_beyond_it(tmp_path, monkeypatch):
    monkeypatch.setattr(_range, "BULK_MIN_CELLS", 1000)
    book = xw.Book()
    sh = book.sheets[0]
    sh.name = "T"
    sh.range("A1").value = [[1.5] * 50 for _ in range(50)]
    sh.range("A1:BZ1").font.bold = True          # reaches beyond the block
    sh.range("A1:A60").font.italic = True        # overlaps the bold row
    sh.range("B2:C3").number_format = "0.0%"
    assert sh.range("A1").font.bold and sh.range("A1").font.italic  # read back: turns the block into cells
    sh.range("A70").value = [[2.5] * 50 for _ in range(50)]
    sh.range("A70:B71").font.bold = True
    book.save(tmp_path / "c.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "c.xlsx")["T"]
    assert ws["A1"].font.b and ws["A1"].font.i and ws["BZ1"].font.b and ws["A60"].font.i
    assert ws["B1"].font.b and not ws["B1"].font.i and not ws["B2"].font.b
    assert ws["B2"].number_format == "0.0%" and ws["D4"].number_format == "General"
    assert ws["A70"].font.b and ws["B71"].font.b and not ws["C71"].font.b and ws["C71"].value == 2.5


def test_values_openpyxl_handles_its_own_way_stay_with_openpyxl(monkeypatch):
    monkeypatch.setattr(_range, "BULK_MIN_CELLS", 10)
    assert not _bulk.plain_block([[1.0, math.nan]])
    assert not _bulk.plain_block([["=A1"]])
    assert not _bulk.plain_block([[None, ""]])
    assert _bulk.plain_block([[None, "x", 1, True, 2.5]])
    book = xw.Book()
    sh = book.sheets[0]
    sh.range("A1").value = [[1.0, "=A1*2", 2.0, 3.0]] * 5
    assert not book.impl._bulks and sh.range("B2").formula == "=A1*2"
    sh.range("A10").value = [[1.0, math.nan, 2.0, 3.0]] * 5  # xlwings writes NaN as an empty cell
    assert len(book.impl._bulks) == 1 and sh.range("B10").value is None


def test_reading_a_block_in_session_keeps_it_a_block(monkeypatch):
    monkeypatch.setattr(_range, "BULK_MIN_CELLS", 1000)
    grid = _grid(50, 30)
    book = xw.Book()
    sh = book.sheets[0]
    sh.range("B3").value = grid
    sh.range("A4").value = "left"
    expect = [[None if v == "" else float(v) if type(v) is int else v for v in row] for row in grid]
    assert sh.range((3, 2), (52, 31)).options(empty=None).raw_value == expect  # inside the block
    around = sh.range((2, 1), (53, 32)).options(empty=None).raw_value          # the block and its edges
    assert around[0] == [None] * 32 and around[-1] == [None] * 32
    assert around[2][0] == "left" and [row[1:31] for row in around[1:51]] == expect
    assert len(book.impl._bulks) == 1
