"""The result workbook as a reader gets it: print set-up, navigation, charts and the Contents sheet (#11).

One demo workbook is built for the module and rendered once through LibreOffice (as CI does); the
render test skips only when ``soffice`` is absent.
"""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest
import xlwings as xw

from xlmrio.excel import engine
from xlmrio.excel.demo import build_demo
from xlmrio.excel.registry import get
from xlmrio.excel.report import CONTENTS_MARK, MARK, column_format

PAGE_BOUND = 80
engine.use()


@pytest.fixture(scope="module")
def demo_path(tmp_path_factory) -> Path:
    return build_demo(tmp_path_factory.mktemp("print") / "demo.xlsx")


@pytest.fixture(scope="module")
def wb(demo_path):
    return openpyxl.load_workbook(demo_path)


def _marked_sheets(wb) -> dict[str, str]:
    """Sheet -> defined name of every sheet xlmrio marked as its own (results and Contents)."""
    out = {}
    for name, dn in wb.defined_names.items():
        if name.startswith(MARK):
            out[dn.attr_text.split("!")[0].strip("'").replace("''", "'")] = name
    return out


def _result_sheets(wb) -> list[str]:
    return [s for s, n in _marked_sheets(wb).items() if n != CONTENTS_MARK]


def _is_wide(ws) -> bool:
    """Sheets too wide for paper print only their title lines (the print area ends at row 3)."""
    return ws.print_area.endswith("$3")


def _render(path: Path, out: Path) -> list[str]:
    """Text of each page of *path* rendered to PDF by LibreOffice."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None or shutil.which("pdftotext") is None:
        pytest.skip("LibreOffice (soffice) or pdftotext is not installed")
    subprocess.run([soffice, "--headless", "--convert-to", "pdf", "--outdir", str(out), str(path)],
                   check=True, capture_output=True, timeout=600)
    pdf = out / (path.stem + ".pdf")
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    n = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    pages = text.split("\f")[:n]
    assert len(pages) == n
    return pages


@pytest.fixture(scope="module")
def pdf_pages(demo_path, tmp_path_factory) -> list[str]:
    return _render(demo_path, tmp_path_factory.mktemp("pdf"))


def _norm(text: str) -> str:
    return " ".join(text.split())


def _pages_of(pages: list[str], sheet: str) -> list[str]:
    """Pages whose footer names *sheet* ('<file> · <sheet> · page x of y')."""
    return [p for p in pages if f"· {_norm(sheet)} · page" in _norm(p)]


def _tables(ws) -> list[tuple[int, str, list[str]]]:
    """(row, title, header words) of every 'Table …' block on a result sheet."""
    out = []
    for row in ws.iter_rows(min_col=1, max_col=ws.max_column):
        v = row[0].value
        if isinstance(v, str) and re.match(r"Table \d+[a-z]?\. ", v):
            head = [c.value for c in ws[row[0].row + 1] if c.value not in (None, "")]
            out.append((row[0].row, v, [str(h) for h in head]))
    return out


# ---------------------------------------------------------------------- rendered pages
def test_demo_prints_within_the_page_bound(pdf_pages):
    assert 0 < len(pdf_pages) <= PAGE_BOUND, f"{len(pdf_pages)} pages"


def test_bold_region_codes_in_headers_are_not_broken_across_lines(pdf_pages):
    """A column header such as KOR+TWN (capitals, bold) fits its column: LibreOffice does not break it
    into 'KOR+TW' and 'N' (which then overflows into the row above)."""
    text = "\n".join(pdf_pages)
    assert text.count("KOR+TWN") > 20
    assert text.count("KOR+T") == text.count("KOR+TWN"), re.findall(r"KOR\+T\S*\s+\S+", text)[:5]


def test_every_sheet_has_a_footer_on_every_page(pdf_pages, wb):
    for k, p in enumerate(pdf_pages, 1):
        assert re.search(rf"page {k} of {len(pdf_pages)}", _norm(p)), f"page {k} has no 'page x of y' footer"
    for name in wb.sheetnames:
        assert _pages_of(pdf_pages, name), f"no printed page names sheet {name!r} in its footer"


def _assert_tables_whole(pdf_pages, wb) -> int:
    checked = 0
    for name in _result_sheets(wb):
        ws = wb[name]
        if _is_wide(ws):
            continue
        pages = [_norm(p) for p in _pages_of(pdf_pages, name)]
        for row, title, head in _tables(ws):
            if len(head) < 2:
                continue
            first, last = head[0].split()[0], max(re.split(r"[\s\-|]+", head[-1]), key=len)
            lead = " ".join(title.split()[:3])
            on = [p for p in pages if lead in p]
            assert on, f"{name}: title {lead!r} not found on its pages"
            assert any(f" {first}" in p and last in p for p in on), \
                f"{name}: {title[:40]!r} — first column {first!r} and last {last!r} are not on the title's page"
            checked += 1
    return checked


def test_no_result_table_is_split_column_wise(pdf_pages, wb):
    assert _assert_tables_whole(pdf_pages, wb) >= 20


def test_the_filled_template_example_renders_with_its_results(tmp_path):
    from xlmrio.excel.report import templates_dir

    path = tmp_path / "example.xlsx"
    shutil.copy(templates_dir() / "xlmrio_input_example.xlsx", path)
    book = xw.Book(str(path))
    try:
        for cmd in ("validate", "leontief", "accounts", "flows", "efficiency"):
            get(cmd).func(book)
        book.save()
    finally:
        book.close()
    pages = _render(path, tmp_path)
    wb = openpyxl.load_workbook(path)
    # 5 commands, their charts, the Methods sheet (7 pages) and Contents: measured 34 pages
    assert len(pages) <= 36, len(pages)
    assert _assert_tables_whole(pages, wb) >= 8
    for name in wb.sheetnames:
        assert _pages_of(pages, name), name


def test_no_chart_is_cut_at_a_page_edge(pdf_pages, wb):
    for name in _result_sheets(wb):
        for ch in wb[name]._charts:
            title = _norm("".join(r.t for p in ch.title.tx.rich.p for r in (p.r or [])))
            ytitle = _norm("".join(r.t for p in ch.y_axis.title.tx.rich.p for r in (p.r or [])))
            pages = [_norm(p) for p in _pages_of(pdf_pages, name)]
            words = title.split()
            on = [p for p in pages if " ".join(words[:4]) in p]
            assert on, f"{name}: chart {title!r} is not printed"
            assert any(max(ytitle.split(), key=len) in p for p in on), \
                f"{name}: chart {title!r} and its value-axis title are on different pages"


# ---------------------------------------------------------------------- print set-up and navigation
def test_every_sheet_xlmrio_writes_has_print_setup_and_frozen_panes(wb):
    for name in wb.sheetnames:  # the demo's inputs are xlmrio's too
        ws = wb[name]
        ps = ws.page_setup
        assert ps.orientation == "landscape", name
        assert ws.sheet_properties.pageSetUpPr.fitToPage and ps.fitToWidth == 1 and ps.fitToHeight == 0, name
        assert ws.print_area, name
        assert ws.print_title_rows, name
        assert "&P" in ws.oddFooter.center.text and "&N" in ws.oddFooter.center.text, name
        assert ws.freeze_panes not in (None, "A1"), name
        assert ws.sheet_properties.tabColor is not None, name


def test_result_sheets_freeze_the_first_tables_header_and_labels(wb):
    ws = wb["Leontief"]
    row = _tables(ws)[0][0]
    col, frow = re.match(r"([A-Z]+)(\d+)", ws.freeze_panes).groups()
    assert int(frow) == row + 2  # title, one header row, then the data scroll
    assert col == "C"            # region and sector labels stay in view


def test_stacked_tables_do_not_widen_each_others_columns(wb):
    """Long headers wrap instead of widening their column (and every table stacked in it)."""
    assert wb["Update"].column_dimensions["B"].width < 30  # was 42 for the letter "Z"
    long_heads = 0
    for name in ("Transfer & leakage", "Accounts", "Flows", "Efficiency", "Update", "Leontief"):
        ws = wb[name]
        tables = _tables(ws)
        heads = {r + k for r, _, _ in tables for k in (1, 2)}
        body = {}  # widest text below the headers, by column (what may legitimately set its width)
        for row in ws.iter_rows(min_row=5, max_row=ws.print_area and int(ws.print_area.rsplit("$", 1)[1])):
            for c in row[1:]:
                if isinstance(c.value, str) and c.row not in heads:
                    body[c.column_letter] = max(body.get(c.column_letter, 0), len(c.value))
        for row, title, head in tables:
            for c in ws[row + 1]:
                if isinstance(c.value, str) and len(c.value) > 24:
                    long_heads += 1
                    width = ws.column_dimensions[c.column_letter].width
                    assert c.alignment.wrap_text, (name, c.coordinate)
                    assert width < len(c.value) or width <= body.get(c.column_letter, 0) + 2, \
                        (name, c.coordinate, c.value, width)
    assert long_heads >= 5


def test_labels_are_not_truncated(wb):
    """Every label (text in a table's label column) fits its column or wraps."""
    for name in _result_sheets(wb):
        ws = wb[name]
        if _is_wide(ws):
            continue
        for row, title, head in _tables(ws):
            r = row + 2
            while ws.cell(r, 1).value not in (None, ""):
                v = ws.cell(r, 1).value
                width = ws.column_dimensions["A"].width
                if isinstance(v, str) and ws.cell(r, 2).value is not None:
                    assert len(v) <= width or ws.cell(r, 1).alignment.wrap_text, (name, r, v, width)
                r += 1


def test_number_formats_follow_magnitude():
    assert column_format("emissions", [12345.0, 678.0]) == "#,##0"
    assert column_format("money", [0.5, 0.25]) == "#,##0.000"
    assert column_format("intensity", [2e-6, 3e-6]) == "0.00E+00"
    assert column_format("coefficient", [0.2, 0.01]) == "0.0000"
    assert column_format("share", [0.2]) == "0.0%"
    assert column_format("emissions", []) == "#,##0"


def test_emissions_columns_show_no_pointless_decimal(wb):
    ws = wb["Accounts"]
    row = _tables(ws)[0][0]
    fmt = ws.cell(row + 2, 2).number_format
    assert fmt == "#,##0", fmt


def test_no_cell_text_parses_as_a_number(wb):
    """Numbers are written as numbers (the writer's part; content extends this to the commands' text)."""
    bad = []
    for name in _marked_sheets(wb):
        for row in wb[name].iter_rows():
            for c in row:
                if isinstance(c.value, str):
                    s = c.value.strip().replace(",", "").rstrip("%")
                    try:
                        float(s)
                    except ValueError:
                        continue
                    if s.lower() not in ("nan", "inf", "infinity", "-inf"):
                        bad.append(f"{name}!{c.coordinate}={c.value!r}")
    assert not bad, bad[:10]


# ---------------------------------------------------------------------- charts
def _text(title) -> str:
    return "".join(r.t for p in title.tx.rich.p for r in (p.r or [])) if title is not None else ""


def test_every_chart_has_axis_titles_and_readable_ticks(wb):
    n = 0
    for name in _result_sheets(wb):
        for ch in wb[name]._charts:
            n += 1
            assert _text(ch.x_axis.title).strip() and _text(ch.y_axis.title).strip(), (name, _text(ch.title))
            assert ch.y_axis.numFmt is not None and not ch.y_axis.numFmt.sourceLinked
            assert ".0" not in ch.y_axis.numFmt.formatCode.replace("0.0%", "")
            if ch.tagname == "barChart":
                assert ch.x_axis.tickLblSkip == 1 and ch.x_axis.tickLblPos == "low"
    assert n >= 6


def test_scatter_points_are_labelled_and_distinct(wb):
    ch = wb["Efficiency"]._charts[0]
    assert ch.tagname == "scatterChart"
    fills = [s.marker.graphicalProperties.solidFill.srgbClr for s in ch.series]
    colors = [getattr(f, "val", f) for f in fills]
    assert len(colors) == len(set(colors)) == len(ch.series) >= 8
    assert all(s.dLbls is not None and s.dLbls.showSerName for s in ch.series)


# ---------------------------------------------------------------------- contents
def test_contents_is_first_and_links_every_result_sheet(wb):
    assert wb.sheetnames[0] == "Contents"
    ws = wb["Contents"]
    links = {c.hyperlink.location for row in ws.iter_rows() for c in row if c.hyperlink is not None}
    for name in _result_sheets(wb):
        assert f"'{name}'!A1" in links, name
        for row, title, _head in _tables(wb[name]):
            if not _is_wide(wb[name]):
                assert f"'{name}'!A{row}" in links, (name, title)
    text = " ".join(str(c.value) for row in ws.iter_rows() for c in row if isinstance(c.value, str))
    for term in ("PBA", "CBA", "NEI", "ρ*", "WAPE", "OHI", "OEM", "Australia", "Glossary"):
        assert term in text, term


def _small_book(tmp_path, extra_sheet: str | None = None):
    from conftest import worked_example
    from test_workbook_layer import _write_input

    path = _write_input(tmp_path / "small.xlsx", worked_example(), settings={"satellite": "CO2"})
    book = xw.Book(str(path))
    if extra_sheet:
        sh = book.sheets.add(extra_sheet, after=book.sheets[len(book.sheets) - 1])
        sh.range("A1").value = "my own notes"
    return book


def test_contents_is_kept_up_to_date_and_never_overwrites_a_users_sheet(tmp_path):
    book = _small_book(tmp_path, extra_sheet="Contents")
    try:
        def links():
            ws = book.sheets["Contents (2)"].api
            return [c.hyperlink.location for row in ws.iter_rows() for c in row if c.hyperlink is not None]

        get("accounts").func(book)
        first = links().count("'Accounts'!A1")  # the sheet's row and its key figures
        get("leontief").func(book)
        get("accounts").func(book)  # a rerun replaces, it does not duplicate
        names = [s.name for s in book.sheets]
        assert book.sheets["Contents"].range("A1").value == "my own notes"
        assert names[0] == "Contents (2)" and names.count("Accounts") == 1
        assert first >= 1 and links().count("'Accounts'!A1") == first and "'Leontief'!A1" in links()
        links = links()
        assert "'Contents'!A1" in links  # the user's sheet is listed as an input
    finally:
        book.close()


def test_a_failed_contents_write_leaves_the_book_as_it_was(tmp_path, monkeypatch):
    import xlmrio.excel.report as report

    book = _small_book(tmp_path)
    try:
        before = [s.name for s in book.sheets]

        def boom(*a, **k):
            raise RuntimeError("disk full")

        monkeypatch.setattr(report, "_write_contents", boom)
        with pytest.raises(RuntimeError):
            get("accounts").func(book)
        assert [s.name for s in book.sheets] == before
    finally:
        book.close()


def test_the_writer_renders_the_fields_the_commands_fill_in(tmp_path):
    """reading, key figures, kind, source, axis titles and stacked kinds of the agreed result model."""
    import pandas as pd

    from xlmrio.excel.report import Chart, ResultSheet, Table, write_results

    df = pd.DataFrame({"PBA": [1200.0, -35.5, 800.0], "CBA": [900.0, 400.0, 700.0]},
                      index=pd.Index(["CHN", "OEM", "RoW"], name="region"))
    rs = ResultSheet("Demo result", "accounts", "A title", "a method · source: sheet 'X'",
                     [Table("Table 1. Emissions (kt)", df, formats={"*": "emissions"},
                            reading="CHN emits most; OEM's PBA is negative.")],
                     charts=[Chart("Emissions (kt)", 0, ["PBA", "CBA"], kind="bar_stacked",
                                   x_title="region", y_title="emissions (kt CO2)")],
                     kind="diagnostics", key_figures=[("world PBA", 1964.5, "kt CO2")])
    book = xw.Book()
    try:
        assert write_results(book, [rs]) == ["Demo result"]
        path = tmp_path / "w.xlsx"
        book.save(str(path))
    finally:
        book.close()
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[0] == "Contents"
    ws = wb["Demo result"]
    texts = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert "CHN emits most; OEM's PBA is negative." in texts
    assert ws.sheet_properties.tabColor.rgb.endswith("C55A11")  # diagnostics
    ch = ws._charts[0]
    assert ch.grouping == "stacked" and ch.type == "bar"
    assert _text(ch.x_axis.title) == "region" and _text(ch.y_axis.title) == "emissions (kt CO2)"
    contents = wb["Contents"]
    rows = [[c.value for c in r] for r in contents.iter_rows(max_col=5)]
    kf = [r for r in rows if r[1] == "world PBA"]
    assert kf and kf[0][2] == 1964.5 and kf[0][3] == "kt CO2"
    assert any(r[0] == "Diagnostics" for r in rows)
    assert any(r[4] == "sheet 'X'" for r in rows)
    assert any(r[0] == "OEM" and "Brazil" in str(r[1]) for r in rows)
