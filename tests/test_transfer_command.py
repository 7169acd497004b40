"""'Transfer & leakage' through the workbook: METHODS §8.7 numbers, coefficient and deflator sheets."""
from __future__ import annotations

import numpy as np
import pytest
import xlwings as xw
from numpy.testing import assert_allclose

from xlmrio.core.table import MRIOTable
from xlmrio.errors import WorkbookError
from xlmrio.excel import engine
from xlmrio.excel.layout import satellite_grid, table_grid
from xlmrio.excel.registry import get
from conftest import worked_example

engine.use()

Z1 = np.array([[8, 6, 10, 4], [7, 5, 3, 4], [12, 6, 24, 7], [3, 7, 5, 6]], float)
Y1 = np.array([[26, 14], [58, 6], [22, 56], [4, 42]], float)
E1 = np.array([18, 12, 30, 5], float)


def _t1(**kw) -> MRIOTable:
    return MRIOTable.from_arrays(Z1, Y1, regions=["R1", "R2"], sectors=["M", "S"], fd_categories=["FD"],
                                 exports=E1, satellites={"CO2": (np.array([43, 9.5, 157, 7.2]), "t")},
                                 monetary_unit="MU", **kw)


def _block(sheet, prefix, header_rows=1):
    vals = sheet.used_range.options(ndim=2).value
    for i, row in enumerate(vals):
        if isinstance(row[0], str) and row[0].startswith(prefix):
            body = []
            for r in vals[i + 1 + header_rows:]:
                if r[0] is None or all(v is None for v in r[1:]):
                    break
                body.append(r)
            return body
    raise AssertionError(prefix)


@pytest.fixture
def book():
    b = xw.Book()
    b.sheets[0].name = "T0"
    b.sheets[0]["A1"].value = table_grid(worked_example())
    s1 = b.sheets.add("T1", after=b.sheets["T0"])
    s1["A1"].value = table_grid(_t1())
    sat0 = b.sheets.add("T0 satellites", after=s1)
    sat0["A1"].value = satellite_grid(worked_example())
    sat1 = b.sheets.add("T1 satellites", after=sat0)
    sat1["A1"].value = satellite_grid(_t1())
    yield b
    b.close()


def test_worked_example_transfer_in_the_workbook(book):
    # constant coefficients S = e(t0) = [0.5, 0.1, 1.0, 0.1] as a coefficients sheet (sectors down, regions across)
    cs = book.sheets.add("S")
    cs["A1"].value = [["Sector", "R1", "R2"], ["M", 0.5, 1.0], ["S", 0.1, 0.1]]
    names = get("transfer").func(book, table="T1", table_t0="T0", coefficients_sheet="S",
                                 coefficients_unit="t per MU")
    assert names == ["Transfer & leakage"]
    t3 = _block(book.sheets["Transfer & leakage"], "Table 3.", header_rows=2)
    rows = {r[0]: r for r in t3}
    # NX (cons, exp, total) and NC (cons, exp, total) of R2 — METHODS §8.7
    assert_allclose(rows["R2"][1:7], [17.7557227056, 1.8358643946, 19.5915871003,
                                      15.2181088560, 1.7150165310, 16.9331253870], rtol=1e-9)
    lam = {r[0]: r for r in _block(book.sheets["Transfer & leakage"], "Table 8.")}
    assert lam["R1"][2] == pytest.approx(9.6657100916, rel=1e-9)


def test_pure_inflation_deflated_gives_zero_transfer(book):
    p = [1.2, 1.1, 1.3, 1.05]
    t0 = worked_example()
    infl = MRIOTable.from_arrays(np.diag(p) @ t0.Z, np.diag(p) @ t0.Y, regions=["R1", "R2"], sectors=["M", "S"],
                                 fd_categories=["FD"], exports=np.array(p) * t0.exports, x=np.array(p) * t0.x,
                                 satellites={"CO2": (t0.satellites["CO2"].values, "t")}, monetary_unit="MU")
    book.sheets["T1"].clear()
    book.sheets["T1"]["A1"].value = table_grid(infl)
    d = book.sheets.add("Prices")
    d["A1"].value = [["Region", "Sector", "t0", "t1"], ["R1", "M", 1, 1.2], ["R1", "S", 1, 1.1],
                     ["R2", "M", 1, 1.3], ["R2", "S", 1, 1.05]]
    get("transfer").func(book, table="T1", table_t0="T0", deflator_sheet="Prices")
    t3 = _block(book.sheets["Transfer & leakage"], "Table 3.", header_rows=2)
    for r in t3:
        assert_allclose(np.array(r[1:7], float), 0.0, atol=1e-9)


def test_bad_coefficient_and_deflator_sheets_name_cells(book):
    cs = book.sheets.add("S")
    cs["A1"].value = [["Sector", "R1", "R9"], ["M", 0.5, 1.0], ["S", 0.1, 0.1]]
    with pytest.raises(WorkbookError, match=r"^'S'!C1: unknown region 'R9'"):
        get("transfer").func(book, table="T1", table_t0="T0", coefficients_sheet="S")
    d = book.sheets.add("Prices")
    d["A1"].value = [["Region", "Sector", "t0", "t1"], ["*", "*", 1, -2]]
    with pytest.raises(WorkbookError, match=r"^'Prices'!D2: price indices must be positive"):
        get("transfer").func(book, table="T1", table_t0="T0", deflator_sheet="Prices")
    with pytest.raises(Exception, match="sheet 'Nope'"):
        get("transfer").func(book, table="T1", table_t0="T0", deflator_sheet="Nope")
