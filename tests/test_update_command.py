"""The 'Update table' command: Constraints sheet parsing (errors name the cell), ANAIS/RAS/GRAS through the
workbook equal the core API, the updated table sheet feeds other commands."""
from __future__ import annotations

import numpy as np
import pytest
import xlwings as xw
from numpy.testing import assert_allclose

import xlmrio
from xlmrio.errors import WorkbookError, XlmrioError
from xlmrio.excel import engine
from xlmrio.excel.constraints import read_constraints, template_rows
from xlmrio.excel.demo import write_inputs
from xlmrio.excel.layout import Grid
from xlmrio.excel.reader import read_table
from xlmrio.excel.registry import get
from xlmrio.excel.settings import resolve
from xlmrio.update import anais
from conftest import worked_example

engine.use()


def _rows(**sections):
    """Constraints rows: options dict + section rows."""
    rows = [["Options", None, None, None, None], ["Option", "Value", None, None, None]]
    for k, v in sections.pop("options", {}).items():
        rows.append([k, v, None, None, None])
    for head, cols, body in (("Known totals", ["Region", "Sector", "Total output"], sections.get("totals", [])),
                             ("Known cells", ["Block", "Row", "Column", "Value"], sections.get("cells", [])),
                             ("Aggregates", ["Name", "Type", "Value", "Member", "Weight"], sections.get("aggs", [])),
                             ("Coefficient bounds", ["Column", "Rows", "Lower", "Upper", "Name"],
                              sections.get("bounds", []))):
        rows += [[None] * 5, [head] + [None] * 4, cols + [None] * (5 - len(cols))]
        rows += [list(r) + [None] * (5 - len(r)) for r in body]
    return rows


def test_template_rows_parse_to_nothing():
    c = read_constraints(Grid("Constraints", template_rows()), worked_example())
    assert c.empty and c.options["method"] == "auto" and c.options["prior_scaling"] == "columns"
    assert not c.options["grouped_regions"]


def test_parse_every_section():
    t = worked_example()
    rows = _rows(options={"method": "anais", "objective": "relative"},
                 totals=[["R1", "M", 110.0], ["R2", "S", 60]],
                 cells=[["Z", "R1|M", "R2|S", 4.0], ["V", "Value added", "R1|S", 58.0]],
                 aggs=[["both M", "soft", 250.0, "x R1|M", 1], [None, None, None, "x R2|M", 1]],
                 bounds=[["R2|S", "R1|M; R2|M", 0.05, 0.3, None]])
    c = read_constraints(Grid("Constraints", rows), t)
    assert c.options["objective"] == "relative"
    assert c.totals == {("R1", "M"): 110.0, ("R2", "S"): 60.0}
    assert c.known_cells == {("Z", ("R1", "M"), ("R2", "S")): 4.0, ("V", "Value added", ("R1", "S")): 58.0}
    (agg,) = c.aggregates
    assert agg.soft and agg.value == 250 and [m for m, _ in agg.members] == [("x", ("R1", "M")), ("x", ("R2", "M"))]
    (b,) = c.coefficient_bounds
    assert b.column == ("R2", "S") and b.rows == [("R1", "M"), ("R2", "M")] and (b.lower, b.upper) == (0.05, 0.3)


@pytest.mark.parametrize("kw,match,cell", [
    (dict(totals=[["R1", "X", 1.0]]), "unknown region-sector 'R1|X'", "A6"),
    (dict(totals=[["R1", "M", "lots"]]), "total output must be a number", "C6"),
    (dict(totals=[["R1", "M", 1.0], ["R1", "M", 2.0]]), "given twice", "A7"),
    (dict(options={"method": "magic"}), "invalid value 'magic' for method", "B3"),
    (dict(options={"colour": "red"}), "unknown update option 'colour'", "A3"),
    (dict(aggs=[[None, None, None, "x R1|M", 1]]), "first aggregate row needs a name", "A12"),
    (dict(aggs=[["a", "medium", 1.0, "x R1|M", 1]]), "hard or soft", "B12"),
    (dict(aggs=[["a", "hard", 1.0, "W R1|M", 1]]), "member 'W R1|M'", "D12"),
    (dict(bounds=[["R1|M", "R2|S", 0.5, 0.1]]), "exceeds upper bound", "C15"),
    (dict(cells=[["Y", "R1|M", "R9|FD", 3.0]]), "unknown final-demand column", "A9"),
])
def test_parse_errors_name_the_cell(kw, match, cell):
    with pytest.raises(WorkbookError, match=match) as ei:
        read_constraints(Grid("Constraints", _rows(**kw)), worked_example())
    assert str(ei.value).startswith(f"'Constraints'!{cell}:"), str(ei.value)


@pytest.fixture(scope="module")
def demo_book():
    """The demo's inputs set up for ANAIS on the 2007 margins (the demo itself runs auto on grouped regions,
    tests/test_update_grouped.py)."""
    book = xw.Book()
    write_inputs(book)
    _set_option(book, "method", "anais")
    _set_option(book, "grouped_regions", None)
    yield book
    book.close()


def test_update_demo_equals_core_and_feeds_other_commands(demo_book):
    names = get("update").func(demo_book)
    assert names == ["Update", "MRIO 2002 updated", "MRIO 2002 updated satellites"]
    new = read_table(demo_book, resolve(demo_book, {"table": "MRIO 2002 updated"})).table
    t0, t1 = xlmrio.datasets.demo(2002), xlmrio.datasets.demo(2007)
    # the targets hold: x, V and final-demand row sums of 2007
    assert_allclose(new.x, t1.x, rtol=1e-6)
    assert_allclose(new.V, t1.V, rtol=1e-6, atol=1e-6)
    assert_allclose(new.y, t1.y, rtol=1e-6)
    assert not [f for f in new.validate(rtol=1e-6).warnings if "balance" in f.what]
    # same optimum as the core API given the same information
    from xlmrio.excel.constraints import margins_of

    totals, known, aggs = margins_of(t1, t0, "MRIO 2007")
    res = anais(t0, totals=totals, known_cells=known, aggregates=aggs, prior_scaling="columns")
    assert_allclose(new.Z, res.table.Z, rtol=1e-6, atol=1e-6 * res.sigma)
    acc = demo_book.sheets["Update"].used_range.options(ndim=2).value
    flat = [r[0] for r in acc]
    assert any(isinstance(v, str) and "Accuracy against 'MRIO 2007'" in v for v in flat)
    assert {"ANAIS", "RAS", "GRAS", "keep coefficients"} <= set(flat)
    # the updated table sheet is a table every command can read
    assert get("leontief").func(demo_book, table="MRIO 2002 updated") == ["Leontief", "Leontief A", "Leontief L"]
    # the note's claim holds: accounts reads the updated table with its carried satellites, which are the
    # 2002 intensities times the updated output (checked against the input sheets, not the command's code)
    assert get("accounts").func(demo_book, table="MRIO 2002 updated") == ["Accounts"]
    sat = new.satellites["CO2"]
    assert sat.unit == t0.satellites["CO2"].unit
    assert_allclose(sat.values, t0.satellites["CO2"].values / t0.x * new.x, rtol=1e-9)
    y0, hh0 = t0.Y.sum(axis=0), t0.satellites["CO2"].hh
    has = y0 != 0
    assert_allclose(sat.hh[has], hh0[has] / y0[has] * new.Y.sum(axis=0)[has], rtol=1e-9)
    assert not sat.hh[~has].any() and not hh0[~has].any()  # no emissions without final demand


def test_ras_method_hits_the_margins(demo_book):
    _set_option(demo_book, "method", "ras")
    try:
        get("update").func(demo_book)
        new = read_table(demo_book, resolve(demo_book, {"table": "MRIO 2002 updated"})).table
    finally:
        _set_option(demo_book, "method", "anais")
    t1 = xlmrio.datasets.demo(2007)
    assert_allclose(new.Z.sum(axis=1), t1.x - t1.y, rtol=1e-8)
    assert_allclose(new.Z.sum(axis=0), t1.x - t1.V.sum(axis=0), rtol=1e-8)
    Z0 = xlmrio.datasets.demo(2002).Z
    assert ((new.Z == 0) == (Z0 == 0)).all()  # RAS keeps the zero pattern


def test_infeasible_update_is_explained(tmp_path):
    book = xw.Book()
    try:
        t = worked_example()
        from xlmrio.excel.layout import satellite_grid, table_grid

        book.sheets[0].name = "MRIO"
        book.sheets[0]["A1"].value = table_grid(t)
        c = book.sheets.add("Constraints")
        # row R1|M cannot exceed Z row + Y row: all R1|M cells known and the total contradicts them
        c["A1"].value = _rows(totals=[["R1", "M", 500.0]],
                              cells=[["Z", "R1|M", f"{r}|{s}", 1.0] for r in ("R1", "R2") for s in ("M", "S")]
                              + [["Y", "R1|M", f"{r}|FD", 1.0] for r in ("R1", "R2")] + [["exports", "R1|M", None, 1.0]])
        with pytest.raises(XlmrioError, match="R1\\|M"):
            get("update").func(book, table="MRIO")
        assert sorted(s.name for s in book.sheets) == ["Constraints", "MRIO"]
    finally:
        book.close()


@pytest.mark.parametrize("method", ["ras", "gras"])
def test_biproportional_refuses_constraints_it_cannot_use(tmp_path, method):
    """RAS/GRAS use only the target table's margins: a known cell or an aggregate on the Constraints sheet
    must not be silently ignored."""
    book = xw.Book()
    try:
        t = worked_example()
        from xlmrio.excel.layout import table_grid

        book.sheets[0].name = "MRIO"
        book.sheets[0]["A1"].value = table_grid(t)
        book.sheets.add("Target")["A1"].value = table_grid(t)
        c = book.sheets.add("Constraints")
        c["A1"].value = _rows(options={"method": method, "targets_from": "Target"},
                              cells=[["Z", "R1|M", "R2|S", 9.0]])
        with pytest.raises(WorkbookError, match="Known cells"):
            get("update").func(book, table="MRIO")
        assert sorted(s.name for s in book.sheets) == ["Constraints", "MRIO", "Target"]
    finally:
        book.close()


def _set_option(book, key, value):
    sh = book.sheets["Constraints"]
    col = sh.range("A1:A40").value
    sh.range((col.index(key) + 1, 2)).value = value
    return f"'Constraints'!B{col.index(key) + 1}"


def test_reference_region_bounds_from_the_constraints_sheet():
    """Coefficient intervals from reference regions (METHODS §4.2) set on the Constraints sheet give the
    same optimum as the core API; an unknown region is reported at its option cell."""
    from xlmrio.excel.constraints import margins_of
    from xlmrio.update import ReferenceRegions

    book = xw.Book()
    try:
        write_inputs(book)
        _set_option(book, "method", "anais")                 # this test is about ANAIS's coefficient bounds
        _set_option(book, "grouped_regions", None)
        _set_option(book, "compare_with", None)
        _set_option(book, "reference_table", "MRIO 2007")
        _set_option(book, "reference_regions", "JPN, USA, EU, OHI")
        _set_option(book, "reference_apply_to", "CHN")
        _set_option(book, "reference_widen", 0.5)
        get("update").func(book)
        new = read_table(book, resolve(book, {"table": "MRIO 2002 updated"})).table
        t0, t1 = xlmrio.datasets.demo(2002), xlmrio.datasets.demo(2007)
        totals, known, aggs = margins_of(t1, t0, "MRIO 2007")
        ref = ReferenceRegions(table=t1, regions=["JPN", "USA", "EU", "OHI"], apply_to=["CHN"], widen=0.5)
        res = anais(t0, totals=totals, known_cells=known, aggregates=aggs, prior_scaling="columns",
                    reference_regions=ref)
        assert len(res.binding) > 0                  # the intervals bind: they shape this solution
        assert_allclose(new.Z, res.table.Z, rtol=1e-6, atol=1e-6 * res.sigma)
        where = _set_option(book, "reference_regions", "JPN, Atlantis")
        with pytest.raises(WorkbookError) as ei:
            get("update").func(book)
        assert str(ei.value).startswith(f"{where}: reference_regions: unknown region(s) 'Atlantis'")
    finally:
        book.close()
