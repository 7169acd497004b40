"""The engine's large-file paths (issue #12): values read without parsing sheets into openpyxl cells
(python-calamine, or the pure-Python fallback), and saves that copy untouched parts byte for byte.

References are independent of the code under test: a full ``openpyxl.load_workbook(data_only=True)``
for values, the zip members of the input for the round trip, LibreOffice for "opens without repair".
"""
from __future__ import annotations

import datetime as dt
import posixpath
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import openpyxl
import pytest
import xlwings as xw
from openpyxl.chart import BarChart, Reference
from openpyxl.comments import Comment

from xlmrio.errors import WorkbookError
from xlmrio.excel import engine
from xlmrio.excel.engine import _values
from xlmrio.excel.reader import read_table

TEMPLATES = Path(__file__).resolve().parents[1] / "workbook_templates"
EXAMPLE = TEMPLATES / "xlmrio_input_example.xlsx"
SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
RID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"


@pytest.fixture(autouse=True)
def _engine():
    engine.use()
    yield
    for app in list(xw.apps):
        for book in list(app.books):
            book.close()


@pytest.fixture(params=["calamine", "pure-python"])
def reader_kind(request, monkeypatch):
    if request.param == "calamine":
        if not _values.calamine_available():
            pytest.skip("python-calamine is not installed (pip install 'xlmrio[fast]')")
    else:
        monkeypatch.setenv(_values.ENV_USE_CALAMINE, "0")
    return request.param


# ----------------------------------------------------------------------------- helpers
def sheet_parts(data: bytes) -> dict[str, str]:
    """Sheet title -> worksheet part of a package (through workbook.xml and its relationships)."""
    z = zipfile.ZipFile(__import__("io").BytesIO(data))
    rels = {r.get("Id"): r.get("Target") for r in ET.fromstring(z.read("xl/_rels/workbook.xml.rels"))}
    out = {}
    for sh in ET.fromstring(z.read("xl/workbook.xml")).iter(f"{NS}sheet"):
        target = rels[sh.get(RID)]
        out[sh.get("name")] = target.lstrip("/") if target.startswith("/") else posixpath.normpath("xl/" + target)
    return out


def reference_values(path: Path, title: str) -> dict:
    """Non-empty values of a sheet as a full openpyxl load gives them, in the engine's conventions."""
    wb = openpyxl.load_workbook(path, data_only=True)
    out = {}
    for (r, c), cell in wb[title]._cells.items():
        v = cell.value
        if v is None or v == "":
            continue
        if cell.data_type == "e":
            v = engine.CellError(v)
        elif isinstance(v, bool):
            pass
        elif isinstance(v, int):
            v = float(v)
        elif isinstance(v, dt.datetime):
            pass
        elif isinstance(v, dt.date):
            v = dt.datetime(v.year, v.month, v.day)
        elif isinstance(v, dt.time):
            v = (v.hour * 3600 + v.minute * 60 + v.second + v.microsecond / 1e6) / 86400
        elif isinstance(v, dt.timedelta):
            v = v.total_seconds() / 86400
        out[(r, c)] = v
    return out


def engine_values(path: Path, title: str) -> dict:
    book = xw.Book(path)
    impl = book.sheets[title].impl
    assert impl.book._is_stub(impl._ws), "the sheet should be read without parsing it"
    vals = impl.book._sheet_values(impl._ws)
    out = {}
    for i, row in enumerate(vals.rows, 1):
        for j, v in enumerate(row, 1):
            if v is not None:
                out[(i, j)] = v
    book.close()
    return out


def assert_same_values(got: dict, want: dict) -> None:
    assert got.keys() == want.keys()
    for key, v in want.items():
        g = got[key]
        assert type(g) is type(v), (key, g, v)
        if isinstance(v, float):
            assert g == pytest.approx(v, rel=1e-15, abs=1e-15), key
        else:
            assert g == v, key


def corpus_workbook(path: Path) -> Path:
    """Values of every kind the readers must agree on, plus malformed table content."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Mixed"
    ws["C3"] = 1.5
    ws["D3"] = 7
    ws["E3"] = "n.a."
    ws["F3"] = True
    ws["G3"] = "#N/A"  # a literal error constant
    ws["H3"] = dt.datetime(2021, 3, 4, 5, 6, 7)
    ws["I3"] = dt.date(2020, 1, 2)
    ws["J3"] = dt.time(6, 30)
    ws["K3"] = dt.timedelta(hours=30)
    ws["L3"] = "=C3*2"          # no cached result (openpyxl writes none)
    ws["C5"] = "#DIV/0!"
    ws["D5"] = "#REF!"
    ws["E5"] = "  padded  "
    ws["F5"] = "ünïcödé & <xml>"
    ws["G5"] = -0.0
    ws["H5"] = 1e-300
    ws["I5"] = 123456789012345678
    ws.merge_cells("C7:E8")
    ws["C7"] = "merged"
    ws["Z40"] = "far away"
    ws2 = wb.create_sheet("Empty")
    ws2["B2"].font = openpyxl.styles.Font(bold=True)  # styled, no value
    wb.save(path)
    return path


# ----------------------------------------------------------------------------- values
@pytest.mark.parametrize("name", sorted(p.name for p in TEMPLATES.glob("*.xlsx")))
def test_templates_read_as_a_full_openpyxl_load(name, reader_kind):
    path = TEMPLATES / name
    for title in openpyxl.load_workbook(path, read_only=True).sheetnames:
        assert_same_values(engine_values(path, title), reference_values(path, title))


def test_corpus_values_errors_and_dates_agree(tmp_path, reader_kind):
    path = corpus_workbook(tmp_path / "corpus.xlsx")
    for title in ("Mixed", "Empty"):
        assert_same_values(engine_values(path, title), reference_values(path, title))
    book = xw.Book(path)
    sh = book.sheets["Mixed"]
    assert sh.used_range.address == "$C$3:$Z$40"
    assert sh["C7"].merge_cells and sh["D8"].merge_area.address == "$C$7:$E$8"
    assert sh["G3"].value is None and sh["G3"].options(err_to_str=True).value == "#N/A"
    assert sh["H3"].value == dt.datetime(2021, 3, 4, 5, 6, 7)
    assert sh["C3"].end("right").address == "$K$3"  # L3 holds a formula without a cached result
    assert book.sheets["Empty"].used_range.address == "$A$1"
    assert sh.impl.book._is_stub(sh.impl._ws)  # none of this parsed the sheet


def test_cached_formula_results_agree(tmp_path, reader_kind):
    from test_engine import _cached_formula_file

    path = _cached_formula_file(tmp_path / "cached.xlsx")
    got, want = engine_values(path, "In"), reference_values(path, "In")
    assert_same_values(got, want)
    assert got[(1, 2)] == 6.0 and got[(1, 3)] == "#N/A" and isinstance(got[(1, 3)], engine.CellError)


@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice is not installed (.ci/run installs libreoffice-calc)")
def test_libreoffice_saved_corpus_agrees(tmp_path, reader_kind):
    """A file written by another application: shared strings, computed formula results, its own styles."""
    path = _libreoffice_copy(corpus_workbook(tmp_path / "corpus.xlsx"), tmp_path / "lo")
    for title in ("Mixed", "Empty"):
        assert_same_values(engine_values(path, title), reference_values(path, title))


BAD_CELLS = [("D8", "n.a."), ("E9", "#N/A"), ("C7", dt.datetime(2020, 1, 1)), ("F10", None), ("D7", True),
             ("A9", None), ("B8", None), ("J8", 81.0), ("G7", "#DIV/0!")]


@pytest.mark.parametrize("ref,value", BAD_CELLS)
def test_malformed_tables_give_the_same_message_on_every_path(tmp_path, ref, value, monkeypatch):
    """The cell-precise message is the same whether the sheet is read with calamine, with the pure-Python
    reader or from openpyxl cells (the sheet parsed first, as before)."""
    wb = openpyxl.load_workbook(EXAMPLE)
    wb["MRIO"][ref] = value
    path = tmp_path / "bad.xlsx"
    wb.save(path)
    messages = []
    for kind in ("calamine", "pure-python", "parsed"):
        if kind == "calamine" and not _values.calamine_available():
            continue
        monkeypatch.setenv(_values.ENV_USE_CALAMINE, "0" if kind == "pure-python" else "1")
        book = xw.Book(path)
        if kind == "parsed":
            book.sheets["MRIO"].api  # parses the sheet: the openpyxl-cell path
        with pytest.raises(WorkbookError) as err:
            read_table(book, {"table": "MRIO"})
        messages.append(str(err.value))
        book.close()
    assert len(set(messages)) == 1, messages
    assert "MRIO" in messages[0]


# ----------------------------------------------------------------------------- round trip
def rich_input(path: Path) -> Path:
    """The example workbook plus a comment, a chart, print titles and a hidden sheet on untouched sheets."""
    wb = openpyxl.load_workbook(EXAMPLE)
    ins = wb["Instructions"]
    ins["A1"].comment = Comment("a note", "tester")
    data = wb["MRIO"]
    chart = BarChart()
    chart.add_data(Reference(data, min_col=3, min_row=5, max_row=8), titles_from_data=False)
    data.add_chart(chart, "P2")
    data.print_title_rows = "1:4"
    hidden = wb.create_sheet("Notes")
    hidden["A1"] = "hidden notes"
    hidden.sheet_state = "hidden"
    wb.save(path)
    return path


def _libreoffice_copy(src: Path, outdir: Path) -> Path:
    outdir.mkdir()
    profile = (outdir / "profile").as_uri()
    subprocess.run([SOFFICE, f"-env:UserInstallation={profile}", "--headless", "--convert-to", "xlsx",
                    "--outdir", str(outdir), str(src)], check=True, capture_output=True, timeout=180)
    return outdir / src.name


def _run_accounts(src: Path, out: Path) -> None:
    from xlmrio.excel.registry import get

    book = xw.Book(src)
    get("accounts").func(book, table="MRIO")
    book.save(out)
    book.close()


def _check_round_trip(src: Path, out: Path) -> None:
    a, b = src.read_bytes(), out.read_bytes()
    za, zb = zipfile.ZipFile(src), zipfile.ZipFile(out)
    assert zb.testzip() is None
    pa, pb = sheet_parts(a), sheet_parts(b)
    # tab order of the input kept; results added (Accounts, Methods, and Contents as the first tab)
    assert [t for t in pb if t in pa] == list(pa) and {"Accounts", "Contents"} <= set(pb)
    for title, part in pa.items():
        ia, ib = za.getinfo(part), zb.getinfo(pb[title])
        selected = re.compile(rb'\s+tabSelected="(?:1|true)"')
        if selected.search(za.read(part)):  # the selected sheet of the input: no longer selected
            assert selected.sub(b"", za.read(part), count=1) == zb.read(pb[title]), title
            continue
        assert za.read(part) == zb.read(pb[title]), title
        assert (ia.CRC, ia.compress_size) == (ib.CRC, ib.compress_size), f"{title}: not copied as stored"
    # everything an untouched sheet points to is in the output, byte for byte
    in_parts = {n: za.read(n) for n in za.namelist() if not n.endswith(".rels")}
    out_contents = {zb.read(n) for n in zb.namelist()}
    # written by openpyxl: the package's index, the workbook part, document properties (custom ones only when
    # there are any), styles (the same records, new ones appended)
    skip = {"[Content_Types].xml", "xl/workbook.xml", "docProps/app.xml", "docProps/core.xml", "docProps/custom.xml",
            "xl/styles.xml"}
    for name, data in in_parts.items():
        if name not in skip and name not in pa.values():
            assert data in out_contents, f"{name} is not in the output unchanged"
    # openpyxl reads every sheet's values as in the input
    wa, wb_ = openpyxl.load_workbook(src, data_only=True), openpyxl.load_workbook(out, data_only=True)
    for title in pa:
        assert [[c for c in r] for r in wa[title].iter_rows(values_only=True)] == \
               [[c for c in r] for r in wb_[title].iter_rows(values_only=True)], title
    return wb_


def test_save_copies_untouched_parts_byte_for_byte(tmp_path):
    src = rich_input(tmp_path / "in.xlsx")
    before = src.read_bytes()
    out = tmp_path / "out.xlsx"
    _run_accounts(src, out)
    assert src.read_bytes() == before  # the input is never modified
    wb = _check_round_trip(src, out)
    assert wb["Instructions"]["A1"].comment.text == "a note"
    assert len(openpyxl.load_workbook(out)["MRIO"]._charts) == 1
    assert wb["MRIO"].print_title_rows == "$1:$4"
    assert wb["Notes"].sheet_state == "hidden"
    assert wb["MRIO"]["A1"].font.b  # cell styles of copied sheets index the same style records
    # a second run on the output keeps working (outputs can be chained)
    _run_accounts(out, tmp_path / "out2.xlsx")
    assert openpyxl.load_workbook(tmp_path / "out2.xlsx").sheetnames == wb.sheetnames


@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice is not installed (.ci/run installs libreoffice-calc)")
def test_libreoffice_file_round_trip_and_reopen(tmp_path):
    """Shared strings, printer settings and styles of another application survive; LibreOffice reads the result."""
    src = _libreoffice_copy(rich_input(tmp_path / "in.xlsx"), tmp_path / "lo")
    assert "xl/sharedStrings.xml" in zipfile.ZipFile(src).namelist()
    out = tmp_path / "out.xlsx"
    _run_accounts(src, out)
    _check_round_trip(src, out)
    zo = zipfile.ZipFile(out)
    assert zo.read([n for n in zo.namelist() if n.endswith("sharedStrings.xml")][0]) == \
        zipfile.ZipFile(src).read("xl/sharedStrings.xml")
    pdf = tmp_path / "pdf"
    res = subprocess.run([SOFFICE, f"-env:UserInstallation={(tmp_path / 'p2').as_uri()}", "--headless",
                          "--convert-to", "pdf", "--outdir", str(pdf), str(out)], capture_output=True, timeout=180)
    assert res.returncode == 0 and (pdf / "out.pdf").stat().st_size > 1000
    text = subprocess.run(["pdftotext", str(pdf / "out.pdf"), "-"], capture_output=True, text=True).stdout
    assert "Region" in text and "Accounts" in text or "PBA" in text


def test_touched_sheet_is_parsed_and_written_by_openpyxl(tmp_path):
    src = rich_input(tmp_path / "in.xlsx")
    book = xw.Book(src)
    book.sheets["Instructions"]["B20"].value = "edited"
    assert not book.sheets["Instructions"].impl.book._is_stub(book.sheets["Instructions"].impl._ws)
    assert book.sheets["MRIO"].impl.book._is_stub(book.sheets["MRIO"].impl._ws)
    book.save(tmp_path / "out.xlsx")
    book.close()
    wb = openpyxl.load_workbook(tmp_path / "out.xlsx")
    assert wb["Instructions"]["B20"].value == "edited"
    assert wb["Instructions"]["A1"].comment.text == "a note"
    za, zb = zipfile.ZipFile(src), zipfile.ZipFile(tmp_path / "out.xlsx")
    pa, pb = sheet_parts(src.read_bytes()), sheet_parts((tmp_path / "out.xlsx").read_bytes())
    assert za.read(pa["MRIO"]) == zb.read(pb["MRIO"])
    assert za.read(pa["Instructions"]) != zb.read(pb["Instructions"])


def test_only_one_tab_selected_after_activating_a_new_sheet(tmp_path):
    src = rich_input(tmp_path / "in.xlsx")
    book = xw.Book(src)
    book.sheets[0].activate()
    book.sheets.add("New", after=book.sheets[-1]).activate()
    book.save(tmp_path / "out.xlsx")
    book.close()
    wb = openpyxl.load_workbook(tmp_path / "out.xlsx")
    assert [ws.title for ws in wb.worksheets if ws.sheet_view.tabSelected] == ["New"]
    assert wb.active.title == "New"


# ----------------------------------------------------------------------------- files written by Excel
def _ceads_files() -> list[Path]:
    import os

    from conftest import SHARED_DATA

    root = Path(os.environ.get("XLMRIO_SHARED_DATA") or SHARED_DATA) / "ceads_provincial_co2_1997_2019"
    if not root.is_dir():
        pytest.skip(f"raw data not available: {root} (../shared/data is absent on this machine)")
    return sorted(root.glob("*.xlsx"))[:2]


def test_excel_written_files_read_alike(reader_kind):
    """Workbooks saved by Excel (shared strings, Excel's styles and number formats) on both readers."""
    for path in _ceads_files():
        for title in openpyxl.load_workbook(path, read_only=True).sheetnames[:4]:
            assert_same_values(engine_values(path, title), reference_values(path, title))


def test_excel_written_file_round_trip(tmp_path):
    src = _ceads_files()[0]
    book = xw.Book(src)
    new = book.sheets.add("xlmrio result", after=book.sheets[-1])
    new["A1"].value = [["total", 1.5]]
    book.save(tmp_path / "out.xlsx")
    book.close()
    za, zb = zipfile.ZipFile(src), zipfile.ZipFile(tmp_path / "out.xlsx")
    pa, pb = sheet_parts(src.read_bytes()), sheet_parts((tmp_path / "out.xlsx").read_bytes())
    selected = re.compile(rb'\s+tabSelected="(?:1|true)"')
    for title, part in pa.items():
        assert selected.sub(b"", za.read(part), count=1) == zb.read(pb[title]), title
    wa, wb = openpyxl.load_workbook(src, data_only=True), openpyxl.load_workbook(tmp_path / "out.xlsx", data_only=True)
    for title in list(pa)[:4]:
        assert list(wa[title].iter_rows(values_only=True)) == list(wb[title].iter_rows(values_only=True))
    assert wb["xlmrio result"]["B1"].value == 1.5
