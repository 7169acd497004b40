"""The openpyxl engine: the real xlwings API and conversion layer on files, checked with plain openpyxl."""
from __future__ import annotations

import datetime as dt
import os
import re
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
import xlwings as xw

from xlmrio.errors import WorkbookError
from xlmrio.excel import engine


@pytest.fixture(autouse=True)
def openpyxl_engine():
    previous = xw.engines.active
    engine.use()
    yield
    for app in list(xw.apps):
        app.quit()
    xw.engines.active = previous


def _cached_formula_file(path: Path) -> Path:
    """A workbook whose formula cells carry cached results, as Excel would have saved it.

    openpyxl writes formulas with an empty ``<v/>``; the cached values are patched into the XML.
    """
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "In"
    ws["A1"] = 2
    ws["B1"] = "=A1*3"
    ws["C1"] = "=NA()"
    ws["D1"] = '="a"&"b"'
    ws["E1"] = "=1/0"
    ws["F1"] = "=A1>0"
    ws["A2"] = "#N/A"  # a literal error constant
    ws["B2"] = "text"
    raw = path.with_suffix(".raw.xlsx")
    wb.save(raw)
    with zipfile.ZipFile(raw) as z:
        files = {n: z.read(n) for n in z.namelist()}
    xml = files["xl/worksheets/sheet1.xml"].decode()
    cached = {"B1": ("", "6"), "C1": (' t="e"', "#N/A"), "D1": (' t="str"', "ab"),
              "E1": (' t="e"', "#DIV/0!"), "F1": (' t="b"', "1")}
    for ref, (attr, value) in cached.items():
        xml, n = re.subn(rf'<c r="{ref}"><f>(.*?)</f><v ?/></c>',
                         lambda m: f'<c r="{ref}"{attr}><f>{m.group(1)}</f><v>{value}</v></c>', xml)
        assert n == 1, ref
    files["xl/worksheets/sheet1.xml"] = xml.encode()
    with zipfile.ZipFile(path, "w") as z:
        for n, d in files.items():
            z.writestr(n, d)
    return path


# ----------------------------------------------------------------------------- books and apps
def test_use_activates_engine_and_new_book_has_one_sheet():
    assert engine.is_active() and xw.engines.active.name == "openpyxl"
    book = xw.Book()
    assert [s.name for s in book.sheets] == ["Sheet1"]
    assert book.name == book.fullname and book.name.startswith("Book")
    before = len(xw.books)
    second = xw.Book()
    assert second.name == f"Book{int(book.name[4:]) + 1}"  # Excel numbers new books in sequence
    assert book.app == xw.apps.active and len(xw.books) == before + 1


def test_open_existing_file_twice_gives_the_same_book(tmp_path, monkeypatch):
    path = tmp_path / "in.xlsx"
    wb = openpyxl.Workbook()
    wb.active["A1"] = 7
    wb.save(path)
    monkeypatch.chdir(tmp_path)
    book = xw.Book(path)
    assert book.fullname == str(path.resolve()) and book.name == "in.xlsx"
    assert xw.Book("in.xlsx") == book and len(xw.books) == 1
    assert book.sheets[0]["A1"].value == 7.0
    book.close()
    assert len(xw.books) == 0
    with pytest.raises(FileNotFoundError):
        xw.Book(tmp_path / "missing.xlsx")


def test_app_settings_are_stored():
    book = xw.Book()
    app = book.app
    app.status_bar = "Running RAS..."
    app.screen_updating = False
    app.calculation = "manual"
    app.display_alerts = False
    app.visible = False
    assert (app.status_bar, app.screen_updating, app.calculation, app.display_alerts, app.visible) == \
        ("Running RAS...", False, "manual", False, False)
    with app.properties(status_bar="inner"):
        assert app.status_bar == "inner"
    assert app.status_bar == "Running RAS..."
    with pytest.raises(ValueError):
        app.calculation = "sometimes"
    app.quit()
    assert len(xw.apps) == 0


def test_save_without_path_goes_to_cwd_and_becomes_the_fullname(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    book = xw.Book()
    book.sheets[0]["A1"].value = "x"
    book.save()
    assert (tmp_path / "Book1.xlsx").exists() and book.fullname == str(tmp_path / "Book1.xlsx")


# ----------------------------------------------------------------------------- values
def test_scalars_round_trip_through_a_saved_file(tmp_path):
    book = xw.Book()
    sh = book.sheets[0]
    values = {"A1": 3, "A2": 2.5, "A3": "text", "A4": True, "A5": dt.datetime(2021, 3, 4, 5, 6, 7),
              "A6": dt.date(2020, 1, 2), "A7": None, "A8": -1e-300}
    for ref, v in values.items():
        sh[ref].value = v
    book.save(tmp_path / "s.xlsx")
    book.close()
    sh = xw.Book(tmp_path / "s.xlsx").sheets[0]
    got = {ref: sh[ref].value for ref in values}
    assert got["A1"] == 3.0 and type(got["A1"]) is float  # Excel has no integers
    assert got["A2"] == 2.5 and got["A3"] == "text" and got["A4"] is True
    assert got["A5"] == dt.datetime(2021, 3, 4, 5, 6, 7)
    assert got["A6"] == dt.datetime(2020, 1, 2) and sh["A6"].options(dates=dt.date).value == dt.date(2020, 1, 2)
    assert got["A7"] is None and got["A8"] == -1e-300
    raw = openpyxl.load_workbook(tmp_path / "s.xlsx").active
    assert raw["A1"].value == 3 and raw["A3"].value == "text" and raw["A7"].value is None


def test_lists_2d_numpy_and_empty_cells():
    sh = xw.Book().sheets[0]
    sh["A1"].value = [[1, 2, 3], [4, None, "x"]]
    assert sh["A1:C2"].value == [[1.0, 2.0, 3.0], [4.0, None, "x"]]
    assert sh["A1:C1"].value == [1.0, 2.0, 3.0] and sh["A1:A2"].value == [1.0, 4.0]
    assert sh["A1:C2"].options(ndim=2, empty="-").value[1][1] == "-"
    sh["E1"].value = [10, 20, 30]  # a 1-D list is a row
    assert sh["E1:G1"].value == [10.0, 20.0, 30.0]
    sh["E3"].options(transpose=True).value = [1, 2]
    assert sh["E3:E4"].value == [1.0, 2.0]
    arr = np.arange(12.0).reshape(3, 4) / 7
    sh["A10"].value = arr
    back = sh["A10"].options(np.array, ndim=2, expand="table").value
    np.testing.assert_array_equal(back, arr)
    sh["A10"].value = None  # None empties the cell; NaN too
    sh["B10"].value = np.nan
    assert sh["A10:B10"].value == [None, None]
    arr2 = sh["A10:B11"].options(np.array).value
    assert np.isnan(arr2[0]).all() and not np.isnan(arr2[1]).any()
    sh["A20:B21"].value = 5  # a scalar fills the whole range, as in Excel
    assert sh["A20:B21"].value == [[5.0, 5.0], [5.0, 5.0]]


def test_dataframe_with_multiindex_on_both_axes_round_trips(tmp_path):
    rows = pd.MultiIndex.from_tuples([("R1", "agri"), ("R1", "manu"), ("R2", "agri")], names=["region", "sector"])
    cols = pd.MultiIndex.from_tuples([("R1", "HH"), ("R1", "GOV"), ("R2", "HH")])
    df = pd.DataFrame(np.arange(9.0).reshape(3, 3) * 1.5, index=rows, columns=cols)
    book = xw.Book()
    book.sheets[0]["B2"].value = df
    book.save(tmp_path / "df.xlsx")
    book.close()
    sh = xw.Book(tmp_path / "df.xlsx").sheets[0]
    # header rows: R1 R1 R2 / region sector HH GOV HH; 3 data rows; 2 index columns
    assert sh.used_range.address == "$B$2:$F$6"
    back = sh["B2:F6"].options(pd.DataFrame, index=2, header=2).value
    pd.testing.assert_frame_equal(back, df, check_column_type=False, check_names=False)
    assert list(back.index.names) == ["region", "sector"]


def test_error_cells_read_as_none_or_as_error_text(tmp_path):
    book = xw.Book(_cached_formula_file(tmp_path / "c.xlsx"))
    sh = book.sheets["In"]
    assert sh["C1"].value is None and sh["A2"].value is None  # like Excel on Windows
    assert sh["C1"].options(err_to_str=True).value == "#N/A"
    assert sh["A1:E1"].options(err_to_str=True).value[2:] == ["#N/A", "ab", "#DIV/0!"]
    raw = sh["A2:B2"].raw_value
    assert isinstance(raw[0][0], engine.CellError) and raw[0][0] == "#N/A"
    assert raw[0][1] == "text" and not isinstance(raw[0][1], engine.CellError)
    arr = sh["A1:B1"].options(np.array).value
    np.testing.assert_array_equal(arr, [2.0, 6.0])
    sh["C3"].value = "#DIV/0!"  # typing an error literal makes an error cell, as in Excel
    assert sh["C3"].value is None and sh["C3"].options(err_to_str=True).value == "#DIV/0!"


# ----------------------------------------------------------------------------- formulas
def test_cached_formula_values_are_read_and_formulas_kept(tmp_path):
    book = xw.Book(_cached_formula_file(tmp_path / "c.xlsx"))
    sh = book.sheets["In"]
    assert sh["A1:F1"].value == [2.0, 6.0, None, "ab", None, True]
    assert sh["B1"].formula == "=A1*3" and sh["A1"].formula == "2"
    assert sh["A1:B1"].formula == (("2", "=A1*3"),)
    sh.name = "Input"  # cached results are still found after a rename
    assert sh["B1"].value == 6.0 and book.sheets["Input"]["D1"].value == "ab"
    sh["B1"].value = 10  # a value over a formula replaces it
    assert sh["B1"].value == 10.0 and sh["B1"].formula == "10"
    sh["D1"].formula = "=A1+1"  # a new formula has no cached value
    assert sh["D1"].value is None and sh["D1"].formula == "=A1+1"
    book.save(tmp_path / "out.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "out.xlsx")["Input"]
    assert [c.value for c in ws[1]] == [2, 10, "=NA()", "=A1+1", "=1/0", "=A1>0"]


def test_formula_written_by_openpyxl_has_no_cached_value_but_is_detectable(tmp_path):
    book = xw.Book()
    sh = book.sheets[0]
    sh["A1"].value = [[1], [2], [3]]
    sh["B1"].value = "=SUM(A1:A3)"
    sh["A5:C5"].formula = "=A1*2"  # relative references shift like Excel's fill
    assert sh["A5:C5"].formula == (("=A1*2", "=B1*2", "=C1*2"),)
    book.save(tmp_path / "f.xlsx")
    book.close()
    sh = xw.Book(tmp_path / "f.xlsx").sheets[0]
    assert sh["B1"].value is None and sh["B1"].formula == "=SUM(A1:A3)"
    assert sh["A1"].value == 1.0  # plain values are unaffected


# ----------------------------------------------------------------------------- formats
def test_formats_are_persisted_in_the_saved_file(tmp_path):
    book = xw.Book()
    sh = book.sheets[0]
    sh["A1:C3"].value = 1.23456
    sh["A1:C1"].font.bold = True
    sh["A2"].font.italic = True
    sh["B2"].font.size = 14
    sh["B2"].font.color = (255, 0, 0)
    sh["B2"].font.name = "Arial"
    sh["B1:C3"].number_format = "0.00"
    sh["A3"].number_format = "#,##0.000"
    sh["A1"].color = (0, 128, 255)
    sh["C3"].color = "#ffee00"
    sh["B:B"].column_width = 25
    sh["A3"].row_height = 30
    assert sh["A1:C1"].font.bold is True and sh["A1:C2"].font.bold is None
    assert sh["B1:C3"].number_format == "0.00" and sh["A1:B1"].number_format is None
    assert sh["A1"].color == (0, 128, 255) and sh["C3"].color == (255, 238, 0) and sh["B2"].color is None
    assert sh["B2"].font.color == (255, 0, 0) and sh["B2"].font.size == 14 and sh["B2"].font.name == "Arial"
    # widths are in the file's units (openpyxl's); Excel displays the default 9.140625 as 8.43
    assert sh["B1"].column_width == 25 and sh["A1"].column_width == 9.140625
    book.save(tmp_path / "fmt.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "fmt.xlsx").active
    assert ws["A1"].font.b and ws["C1"].font.b and not ws["A2"].font.b and ws["A2"].font.i
    assert ws["B2"].font.sz == 14 and ws["B2"].font.color.rgb == "FFFF0000" and ws["B2"].font.name == "Arial"
    assert ws["B3"].number_format == "0.00" and ws["A3"].number_format == "#,##0.000"
    assert ws["A2"].number_format == "General"
    assert ws["A1"].fill.fill_type == "solid" and ws["A1"].fill.fgColor.rgb == "FF0080FF"
    assert ws["C3"].fill.fgColor.rgb == "FFFFEE00"
    assert ws.column_dimensions["B"].width == 25 and ws.row_dimensions[3].height == 30
    assert ws["A1"].value == 1.23456


def test_whole_column_formats_apply_to_new_cells(tmp_path):
    book = xw.Book()
    sh = book.sheets[0]
    sh["B5"].value = 0.25
    sh["B:B"].number_format = "0.0%"
    sh["B20"].value = 0.5  # written after formatting the column
    assert sh["B:B"].number_format == "0.0%" and sh["B20"].number_format == "0.0%"
    assert sh["C20"].number_format == "General"
    book.save(tmp_path / "col.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "col.xlsx").active
    assert ws["B5"].number_format == ws["B20"].number_format == ws.column_dimensions["B"].number_format == "0.0%"


def test_autofit_widens_columns_from_text_length():
    sh = xw.Book().sheets[0]
    sh["A1"].value = [["short", "a considerably longer label"], ["x", "y"]]
    sh.autofit("c")
    assert sh["B1"].column_width > sh["A1"].column_width > 5
    assert sh["B1"].column_width >= len("a considerably longer label")


def test_merge_notes_hyperlinks_and_clear():
    sh = xw.Book().sheets[0]
    sh["A1"].value = "Title"
    sh["A1:C1"].merge()
    assert sh["A1:C1"].merge_cells is True and sh["A1:D1"].merge_cells is None and sh["A2"].merge_cells is False
    assert sh["B1"].merge_area.address == "$A$1:$C$1"
    with pytest.raises(WorkbookError):
        sh["B1"].value = "inside a merge"
    sh["A1:C1"].unmerge()
    assert sh["A1"].merge_cells is False
    sh["A2"].add_note("units: t CO2")
    assert sh["A2"].note.text == "units: t CO2"
    sh["A3"].add_hyperlink("https://example.org", "site")
    assert sh["A3"].value == "site" and sh["A3"].hyperlink == "https://example.org"
    sh["B5"].value = 1
    sh["B5"].font.bold = True
    sh["B5"].clear_contents()
    assert sh["B5"].value is None and sh["B5"].font.bold is True
    sh["B5"].clear()
    assert sh["B5"].font.bold is False
    sh.clear()
    assert sh.used_range.address == "$A$1" and sh["A1"].value is None


# ----------------------------------------------------------------------------- ranges
def test_range_navigation_and_geometry():
    sh = xw.Book().sheets[0]
    sh["B2"].value = [["", "x", "y"], ["r1", 1, 2], ["r2", 3, 4], ["r3", 5, 6]]
    sh["B9"].value = "far below"
    rng = sh["B2"].expand()
    assert rng.address == "$B$2:$D$5" and rng.shape == (4, 3)
    assert rng.rows.count == 4 and rng.columns.count == 3
    assert rng.row == 2 and rng.column == 2 and rng.last_cell.address == "$D$5"
    assert sh["B3"].end("down").address == "$B$5"
    assert sh["B5"].end("down").address == "$B$9"  # jump to the next filled cell
    assert sh["B9"].end("down").address == "$B$1048576"
    assert sh["C3"].end("right").address == "$D$3" and sh["D3"].end("left").address == "$B$3"
    assert sh["C5"].end("up").address == "$C$2"
    assert sh["C3"].options(expand="table").value == [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]
    assert sh["C3"].resize(2, 2).address == "$C$3:$D$4" and sh["C3"].offset(1, 1).address == "$D$4"
    assert sh.range((3, 3), (5, 4)).address == "$C$3:$D$5" and sh.range((3, 3)).address == "$C$3"
    assert sh.range("C3", "D5").address == "$C$3:$D$5"
    assert sh.cells[2, 2].address == "$C$3" and sh["B2:D5"][1:, 1:].address == "$C$3:$D$5"
    assert sh["A:B"].address == "$A:$B" and sh["2:3"].address == "$2:$3"
    assert sh["C3"].get_address(False, False) == "C3"
    assert sh["C3"].get_address(include_sheetname=True) == "Sheet1!$C$3"
    assert sh.used_range.address == "$B$2:$D$9"
    assert [c.address for c in sh["B3:C3"]] == ["$B$3", "$C$3"]
    assert sh["C3"].current_region.address == "$B$2:$D$5"
    assert sh["A1"].width == pytest.approx(48.0) and sh["A1"].height == pytest.approx(15.0)
    assert sh["C1"].left == pytest.approx(96.0) and sh["A4"].top == pytest.approx(45.0)


# ----------------------------------------------------------------------------- sheets
def test_sheets_add_delete_rename_and_order(tmp_path):
    book = xw.Book()
    s1 = book.sheets[0]
    s2 = book.sheets.add("Results")  # Excel inserts before the active sheet and activates
    assert [s.name for s in book.sheets] == ["Results", "Sheet1"] and book.sheets.active.name == "Results"
    s3 = book.sheets.add("Last", after=s1)
    s4 = book.sheets.add(before=s2)
    assert [s.name for s in book.sheets] == [s4.name, "Results", "Sheet1", "Last"]
    assert s3.index == 4 and book.sheets["results"].name == "Results"  # names are case-insensitive
    with pytest.raises(ValueError):
        book.sheets.add("RESULTS")
    with pytest.raises(ValueError):
        s2.name = "bad/name"
    s2.name = "Out put"
    assert "Out put" in book.sheets and "Results" not in book.sheets
    s3.name = "LAST"
    s3.name = "Last"  # a case-only rename keeps the name (openpyxl alone would make it "Last1")
    assert s3.name == "Last"
    s1.copy(after=s3, name="Copy")
    assert [s.name for s in book.sheets][-2:] == ["Last", "Copy"]
    book.sheets["Copy"].move(before=s4)
    assert book.sheets[0].name == "Copy"
    book.sheets["Copy"].delete()
    s4.delete()
    s1.activate()
    assert book.sheets.active.name == "Sheet1"
    assert [s.name for s in book.sheets] == ["Out put", "Sheet1", "Last"]
    book.sheets["Out put"]["A1"].value = "kept"
    book.save(tmp_path / "sheets.xlsx")
    wb = openpyxl.load_workbook(tmp_path / "sheets.xlsx")
    assert wb.sheetnames == ["Out put", "Sheet1", "Last"] and wb.active.title == "Sheet1"
    assert wb["Out put"]["A1"].value == "kept"
    with pytest.raises(WorkbookError):
        for s in list(book.sheets):
            s.delete()


# ----------------------------------------------------------------------------- names
def test_names_survive_save_and_follow_renames(tmp_path):
    book = xw.Book()
    sh = book.sheets[0]
    sh["A1"].value = [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
    book.names.add("block", "=Sheet1!$A$1:$C$3")
    book.names.add("Sheet1!local", "=Sheet1!$B$2")
    sh["E1"].name = "corner"
    assert book.names["block"].refers_to_range.value == [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]
    assert [n.name for n in book.names] == ["block", "corner", "Sheet1!local"]  # Excel's order
    assert [n.name for n in sh.names] == ["Sheet1!local"]
    assert sh["local"].value == 5.0 and sh["block"].shape == (3, 3)
    assert sh["E1"].name.name == "corner" and "block" in book.names
    sh.name = "IO table"
    assert book.names["block"].refers_to == "='IO table'!$A$1:$C$3"
    book.save(tmp_path / "names.xlsx")
    wb = openpyxl.load_workbook(tmp_path / "names.xlsx")
    assert wb.defined_names["block"].attr_text == "'IO table'!$A$1:$C$3"
    assert wb["IO table"].defined_names["local"].attr_text == "'IO table'!$B$2"
    book.close()
    book = xw.Book(tmp_path / "names.xlsx")
    assert book.names["block"].refers_to_range.address == "$A$1:$C$3"
    assert book.names["block"].refers_to_range.sheet.name == "IO table"
    assert book.names.count == 3
    book.names["corner"].delete()
    assert "corner" not in book.names


# ----------------------------------------------------------------------------- charts
def test_charts_are_saved_with_series_from_the_block(tmp_path):
    book = xw.Book()
    sh = book.sheets[0]
    sh["A1"].value = [["", "CO2", "NOx"], ["R1", 10, 1], ["R2", 20, 2], ["R3", 30, 3]]
    chart = sh.charts.add(200, 30, 360, 220)
    chart.chart_type = "column_clustered"
    chart.set_source_data(sh["A1"].expand())
    chart.title = "Emissions by region"
    chart.name = "emis"
    scatter = sh.charts.add(left=10, top=300, chart_type="xy_scatter", source=sh["B1:C4"])
    bar = sh.charts.add(left=10, top=600)
    bar.chart_type = "bar_clustered"
    bar.set_source_data(sh["A1:C4"])
    line = sh.charts.add(left=400, top=600, chart_type="line", source=sh["A1:C4"])
    assert [c.name for c in sh.charts] == ["emis", "Chart 2", "Chart 3", "Chart 4"]
    assert sh.charts["emis"].title == "Emissions by region" and chart.chart_type == "column_clustered"
    assert scatter.chart_type == "xy_scatter" and line.chart_type == "line" and chart.plot_by == "columns"
    sh.name = "Data 1"  # references follow the rename at save time
    book.save(tmp_path / "charts.xlsx")
    with zipfile.ZipFile(tmp_path / "charts.xlsx") as z:
        names = z.namelist()
        xml = z.read("xl/charts/chart1.xml").decode()
    assert sum(n.startswith("xl/charts/chart") for n in names) == 4
    assert "Emissions by region" in xml and "'Data 1'!$A$2:$A$4" in xml and "'Data 1'!$B$1" in xml
    ws = openpyxl.load_workbook(tmp_path / "charts.xlsx")["Data 1"]
    kinds = [(type(c).__name__, getattr(c, "type", None)) for c in ws._charts]
    assert kinds == [("BarChart", "col"), ("ScatterChart", None), ("BarChart", "bar"), ("LineChart", None)]
    col = ws._charts[0]
    assert [s.val.numRef.f for s in col.series] == ["'Data 1'!$B$2:$B$4", "'Data 1'!$C$2:$C$4"]
    assert [s.tx.strRef.f for s in col.series] == ["'Data 1'!$B$1", "'Data 1'!$C$1"]
    sc = ws._charts[1].series[0]
    assert sc.xVal.numRef.f == "'Data 1'!$B$2:$B$4" and sc.yVal.numRef.f == "'Data 1'!$C$2:$C$4"
    # the chart's top-left corner sits in the cell containing (200 pt, 30 pt): column E (192-240), row 3
    anchor = col.anchor._from
    assert (anchor.col, anchor.row) == (4, 2)
    book.close()
    reopened = xw.Book(tmp_path / "charts.xlsx").sheets[0]
    assert len(reopened.charts) == 4 and reopened.charts[0].title == "Emissions by region"
    assert reopened.charts[0].chart_type == "column_clustered"


# ----------------------------------------------------------------------------- validation
def test_list_validation_helper(tmp_path):
    book = xw.Book()
    sh = book.sheets[0]
    assert engine.add_list_validation(sh, "B2:B4", ["RAS", "GRAS", "ANAIS"]) is True
    sh["E1"].value = [["x"], ["y"]]
    engine.add_list_validation(sh, "C2", sh["E1:E2"])
    assert sh["B3"].data_validation.type == "list" and sh["B3"].data_validation.source == "RAS,GRAS,ANAIS"
    assert sh["C2"].data_validation.source == "=$E$1:$E$2" and sh["D2"].data_validation.type == "none"
    engine.add_list_validation(sh, "B3", ["a", "b"])  # replaces the rule on B3 only
    book.save(tmp_path / "dv.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "dv.xlsx").active
    rules = {str(dv.sqref): dv.formula1 for dv in ws.data_validations.dataValidation}
    assert rules == {"B2 B4": '"RAS,GRAS,ANAIS"', "C2": "$E$1:$E$2", "B3": '"a,b"'}
    assert all(dv.type == "list" and not dv.showDropDown for dv in ws.data_validations.dataValidation)


# ----------------------------------------------------------------------------- saving
def test_save_is_atomic_a_failing_save_leaves_the_old_file(tmp_path):
    path = tmp_path / "keep.xlsx"
    book = xw.Book()
    book.sheets[0]["A1"].value = "original"
    book.save(path)
    before = path.read_bytes()
    book.sheets[0]["A1"].value = "changed"
    # an unserialisable cell (openpyxl refuses timezone-aware datetimes) makes the save fail mid-way
    book.sheets[0].api["B1"].value = dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc)
    with pytest.raises(TypeError):
        book.save(path)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["keep.xlsx"]  # no temporary file left behind
    book.sheets[0].api["B1"].value = None
    book.save(path)
    assert openpyxl.load_workbook(path).active["A1"].value == "changed"
    assert sorted(os.listdir(tmp_path)) == ["keep.xlsx"]


def test_floats_round_trip_exactly(tmp_path):
    data = np.random.default_rng(1).random((40, 30)) * 10.0 ** np.arange(-15, 15)
    book = xw.Book()
    book.sheets[0]["A1"].value = data
    book.save(tmp_path / "exact.xlsx")
    book.close()
    back = xw.Book(tmp_path / "exact.xlsx").sheets[0].used_range.options(np.array).value
    np.testing.assert_array_equal(back, data)


def test_macro_workbook_keeps_its_vba_project_and_xlsx_copy_drops_it(tmp_path):
    plain = tmp_path / "plain.xlsx"
    openpyxl.Workbook().save(plain)
    with zipfile.ZipFile(plain) as z:
        files = {n: z.read(n) for n in z.namelist()}
    files["[Content_Types].xml"] = files["[Content_Types].xml"].replace(
        b"spreadsheetml.sheet.main+xml", b"MACRO").replace(
        b"application/vnd.openxmlformats-officedocument.MACRO", b"application/vnd.ms-excel.sheet.macroEnabled.main+xml")
    files["xl/_rels/workbook.xml.rels"] = files["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>", b'<Relationship Id="rIdVBA" Type="http://schemas.microsoft.com/office/2006/'
        b'relationships/vbaProject" Target="vbaProject.bin"/></Relationships>')
    files["xl/vbaProject.bin"] = b"not really VBA"
    macro = tmp_path / "tool.xlsm"
    with zipfile.ZipFile(macro, "w") as z:
        for n, d in files.items():
            z.writestr(n, d)
    book = xw.Book(macro)
    book.sheets[0]["A1"].value = "results"
    book.save()
    book.save(tmp_path / "copy.xlsx")
    with zipfile.ZipFile(macro) as z:
        assert z.read("xl/vbaProject.bin") == b"not really VBA"
    with zipfile.ZipFile(tmp_path / "copy.xlsx") as z:
        assert "xl/vbaProject.bin" not in z.namelist()
    assert openpyxl.load_workbook(tmp_path / "copy.xlsx").active["A1"].value == "results"


@pytest.mark.slow
def test_large_block_round_trip():
    n = 1500
    data = np.random.default_rng(2).random((n, n))
    sh = xw.Book().sheets[0]
    sh["A1"].value = data
    np.testing.assert_array_equal(sh["A1"].resize(n, n).options(np.array).value, data)


def test_saving_keeps_cached_formula_results(tmp_path):
    """A formula cell read from a file keeps its cached result in the file the engine saves, so the
    output can be read again without a recalculation (e.g. a second `xlmrio run` on it)."""
    import re
    import zipfile

    import openpyxl

    src = tmp_path / "in.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Data & more"
    ws["A1"], ws["A2"], ws["A3"] = 2.5, "=A1*2", '=IF(A1>0,"yes","no")'
    ws["A4"] = "=1/0"
    wb.save(src)
    # give the file the cached results Excel would have written (openpyxl writes <v />)
    with zipfile.ZipFile(src) as z:
        items = {i.filename: z.read(i.filename) for i in z.infolist()}
    xml = items["xl/worksheets/sheet1.xml"].decode()
    xml = re.sub(r'(<c r="A2"[^>]*>)(<f>.*?</f>)<v\s*/>', r"\1\2<v>5</v>", xml)
    xml = re.sub(r'<c r="A3"([^>]*)>(<f>.*?</f>)<v\s*/>', r'<c r="A3"\1 t="str">\2<v>yes</v>', xml)
    xml = re.sub(r'<c r="A4"([^>]*)>(<f>.*?</f>)<v\s*/>', r'<c r="A4"\1 t="e">\2<v>#DIV/0!</v>', xml)
    items["xl/worksheets/sheet1.xml"] = xml.encode()
    with zipfile.ZipFile(src, "w") as z:
        for name, data in items.items():
            z.writestr(name, data)

    book = xw.Book(str(src))
    try:
        assert book.sheets[0]["A2"].value == 5.0
        book.sheets.add("new")["A1"].value = "=A1+1"        # written now: no cached result
        book.sheets["Data & more"]["B1"].value = "=A1*3"
        out = tmp_path / "out.xlsx"
        book.save(str(out))
    finally:
        book.close()
    vals = openpyxl.load_workbook(out, data_only=True)
    forms = openpyxl.load_workbook(out)
    assert vals["Data & more"]["A2"].value == 5 and forms["Data & more"]["A2"].value == "=A1*2"
    assert vals["Data & more"]["A3"].value == "yes"
    assert vals["Data & more"]["A4"].value == "#DIV/0!"
    assert vals["Data & more"]["B1"].value is None and forms["Data & more"]["B1"].value == "=A1*3"
    assert vals["new"]["A1"].value is None
    again = xw.Book(str(out))
    try:
        assert again.sheets["Data & more"]["A2"].value == 5.0
    finally:
        again.close()
