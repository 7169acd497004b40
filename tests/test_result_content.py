"""What the result sheets say (#11): numbers stored as numbers, the Methods sheet present and every citation
resolving into it, axis titles and Contents fields on every result sheet, the display unit scaling exactly,
and the Update sheet's claims true (its updated table feeds accounts)."""
from __future__ import annotations

import fnmatch
import re
import tomllib
from pathlib import Path
from unittest import mock

import numpy as np
import openpyxl
import pytest
import xlwings as xw
from numpy.testing import assert_allclose

import xlmrio
from xlmrio.cli import main
from xlmrio.errors import WorkbookError
from xlmrio.excel import engine
from xlmrio.excel.commands import context
from xlmrio.excel.commands.methods import (
    METHODS_SHEET,
    has_section,
    methods_path,
    methods_sections,
)
from xlmrio.excel.demo import build_demo, write_inputs
from xlmrio.excel.registry import get
from xlmrio.excel.units import display_scale

engine.use()
ROOT = Path(__file__).resolve().parents[1]
INPUT_SHEETS = {"About", "Settings", "MRIO 2002", "MRIO 2002 satellites", "MRIO 2007", "MRIO 2007 satellites",
                "Constraints", "Concordance"}
_NUMBER = r"[-+]?\d[\d,]*(\.\d+)?([eE][-+]?\d+)?"


def numeric_text(v) -> bool:
    """True for text a reader (or Excel) would take for a number: '1.7726', '12%', '#1', '6.0 s',
    '1.7726 (177.3% of …)', '24072 / 17561'. Labels such as '01 Agriculture' are not numbers."""
    if not isinstance(v, str):
        return False
    s = v.strip()
    try:
        float(s.replace(",", "").rstrip("%").strip())
        return bool(s)
    except ValueError:
        pass
    return bool(re.fullmatch(r"#\d+", s) or re.fullmatch(_NUMBER + r"\s*(s|%|\(.*\)|/.*|([a-zA-Z]+ )+\(.*\))", s))


def test_numeric_text_predicate():
    for v in ("1.7726", " 12% ", "#1", "6.0 s", "1.7726 (177.3% of the prior value)", "24072 / 17561",
              "7.30965e+06 million USD (total absolute deviation)", "1,234.5", "20", "1e-06"):
        assert numeric_text(v), v
    for v in ("01 Agriculture", "MRIO 2007", "CHN|08 Non-metallic minerals", "as table", "§2.1", "", "yes",
              "1. A note", "ratio to the prior value"):
        assert not numeric_text(v), v


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    """The demo workbook, and every ResultSheet the commands built for it (captured before writing)."""
    specs = []
    original = context.write_results

    def capture(book, sheets, **kw):
        specs.extend(sheets)
        return original(book, sheets, **kw)

    out = tmp_path_factory.mktemp("content") / "demo.xlsx"
    with mock.patch.object(context, "write_results", capture):
        build_demo(out)
    return out, specs


@pytest.fixture(scope="module")
def wb(demo_run):
    return openpyxl.load_workbook(demo_run[0])


def test_no_cell_holds_a_number_as_text(wb):
    bad = [f"'{ws.title}'!{c.coordinate}: {c.value!r}" for ws in wb.worksheets for row in ws.iter_rows()
           for c in row if numeric_text(c.value)]
    assert not bad, bad[:10]


def test_ranks_are_integers(wb):
    # (the demo's Update runs KRAS on grouped regions, which has no rank table; ANAIS's ranks are integers in
    # tests/test_update_command.py's run)
    tr = [c.value for row in wb["Transfer & leakage"].iter_rows(min_col=2, max_col=2) for c in row]
    assert 1 in tr and 5 in tr and not any(isinstance(v, str) and v.startswith("#") for v in tr)


def test_update_summary_is_numeric_with_units_beside(wb):
    rows = {r[0]: r[1:3] for r in wb["Update"].iter_rows(values_only=True) if r[0]}
    res, unit = rows["largest relative residual of the hard items"]
    assert isinstance(res, float) and 0 <= res < 1e-6 and unit == "ratio"
    for key in ("iterations", "group sums", "known cells and totals", "cells given a new prior (zero or sign pattern could not meet an item)"):
        assert isinstance(rows[key][0], int) and rows[key][1], key
    sec, unit = rows["time"]
    assert isinstance(sec, float) and unit.startswith("s")


def test_methods_sheet_present_and_every_citation_resolves(wb):
    assert METHODS_SHEET in wb.sheetnames
    ws = wb[METHODS_SHEET]
    cells = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    rows = [r for _, sec in methods_sections() for r in sec]
    assert len(rows) > 40
    for ref, formula, meaning in rows:  # every row of the shipped text is on the sheet
        assert ref in cells and formula in cells and meaning in cells, ref
    assert cells.count("formula") == len(methods_sections())  # one header per section, no header as a row
    cites, stale = [], []
    for sheet in wb.worksheets:
        for row in sheet.iter_rows():
            for c in row:
                if isinstance(c.value, str):
                    if "METHODS" in c.value:
                        stale.append(f"'{sheet.title}'!{c.coordinate}")
                    cites += re.findall(r"sheet Methods, (§[\d.–]+)", c.value)
    assert not stale, stale  # no cell cites the project's METHODS.md, which users do not have
    assert len(cites) >= 8
    heads = {h.split()[0] for h, _ in methods_sections()}
    for cite in cites:
        for ref in re.split(r"[–]", cite.rstrip(".")):
            ref = ref if ref.startswith("§") else "§" + ref
            if "." not in ref:
                assert ref in heads, cite
            else:
                assert has_section(ref) or has_section(f"§{cite[1:].split('.')[0]}.{ref.split('.')[-1]}"), cite


def test_glossary_defines_the_abbreviations_the_sheets_use():
    from xlmrio.excel.commands.methods import glossary

    terms = " ".join(t for t, _ in glossary())
    for abbr in ("PBA", "CBA", "NEI", "ρ*", "WAPE", "NX", "NC", "Λ", "IE", "IVA", "EXP", "OTH", "ANAIS", "GRAS"):
        assert abbr in terms, abbr
    for _, meaning in glossary():  # each entry points to the section with its formula
        assert re.search(r"§\d", meaning), meaning


def test_methods_text_is_package_data():
    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    assert cfg["package-dir"]["xlmrio.templates"] == "workbook_templates"
    assert methods_path().parent.name in ("workbook_templates", "templates") and methods_path().exists()
    assert any(fnmatch.fnmatch(methods_path().name, g) for g in cfg["package-data"]["xlmrio.templates"])


def test_every_chart_names_both_axes(demo_run):
    charts = [(rs.name, ch) for rs in demo_run[1] for ch in rs.charts]
    assert len(charts) >= 8
    for name, ch in charts:
        assert ch.x_title and ch.y_title, (name, ch.title)
    units = {"Accounts": "Mt CO2", "Flows": "Mt CO2", "Transfer & leakage": "Mt CO2", "Update": "%"}
    for name, ch in charts:
        if name in units:
            assert units[name] in ch.y_title, (name, ch.y_title)


def test_no_clustered_chart_has_more_than_eight_series(demo_run):
    for rs in demo_run[1]:
        for ch in rs.charts:
            if ch.kind.endswith("clustered"):
                assert len(ch.columns) <= 8, (rs.name, ch.title)
            # series = the spec's columns; Excel (and the openpyxl engine) plot by columns only when there are
            # no more columns than rows (unless the spec sets plot_by), so the spec and the drawn chart agree
            if ch.kind != "xy_scatter" and ch.plot_by != "columns":
                frame = ch.data if ch.data is not None else rs.tables[ch.table].frame
                rows = len(ch.rows) if ch.rows is not None else min(len(frame), ch.max_rows)
                assert len(ch.columns) <= rows, (rs.name, ch.title)


def test_accounts_chart_does_not_plot_negative_emissions(demo_run, wb):
    rs = next(r for r in demo_run[1] if r.name == "Accounts")
    stacked = [c for c in rs.charts if c.kind == "bar_stacked"]
    assert stacked and (stacked[0].data.to_numpy() >= 0).all()
    t6 = rs.tables[stacked[0].table].frame
    assert (t6.to_numpy() < 0).any()  # the table keeps the negative values, and a note explains them
    assert any(n.startswith("Negative values") and "inventory" in n for n in rs.notes)


def test_every_result_sheet_fills_the_contents_fields(demo_run):
    names = set()
    for rs in demo_run[1]:
        names.add(rs.name)
        assert rs.kind in ("result", "diagnostics", "table"), rs.name
        assert rs.source, rs.name
        if rs.name in ("Leontief", "Accounts", "Flows", "Efficiency", "Transfer & leakage", "Update"):
            assert rs.key_figures, rs.name
            for label, value, unit in rs.key_figures:
                assert isinstance(label, str) and label and isinstance(unit, str)
                assert not numeric_text(value), (rs.name, label, value)
    assert {"Validate", "Methods", "MRIO 2002 updated satellites"} <= names
    kinds = {rs.name: rs.kind for rs in demo_run[1]}
    assert kinds["Validate"] == "diagnostics" and kinds["MRIO 2007 agg"] == "table"


def test_key_figures_match_the_core(demo_run):
    rs = next(r for r in demo_run[1] if r.name == "Accounts")
    a = xlmrio.accounts(xlmrio.datasets.demo(2007), "CO2")
    kf = {label: value for label, value, _ in rs.key_figures}
    assert kf["Σ PBA = Σ CBA incl. pseudo-regions"] == pytest.approx(a.pba.sum() / 1000, rel=1e-12)  # Mt
    assert a.nei_total.idxmax() == "CHN"
    assert kf["largest net exporter of embodied emissions: CHN (NEI)"] == pytest.approx(a.nei_total.max() / 1000,
                                                                                         rel=1e-12)


def test_flows_net_column_says_its_sign(wb):
    heads = [r for r in wb["Flows"].iter_rows(values_only=True) if r[0] == "region"]
    assert any("net = outflow − inflow" in h for r in heads for h in r if isinstance(h, str))


def test_transfer_table5_names_coefficient_year_and_drops_repeated_columns(demo_run):
    rs = next(r for r in demo_run[1] if r.name == "Transfer & leakage")
    t5 = next(t for t in rs.tables if t.title.startswith("Table 5."))
    assert "MRIO 2007 carbon coefficients" in t5.title
    assert "MRIO 2002" in t5.reading and "not the emissions reported" in t5.reading
    # the demo tables have no exports: one column per year, no 'domestic' copy of 'total'
    assert t5.frame.shape[1] == 2
    cols = [t5.frame[c].to_numpy() for c in t5.frame.columns]
    assert not np.allclose(cols[0], cols[1])


def test_accuracy_table_reading_compares_with_the_split(demo_run):
    rs = next(r for r in demo_run[1] if r.name == "Update")
    acc = next(t for t in rs.tables if "Accuracy" in t.title)
    kras, split = acc.frame.loc["KRAS"], acc.frame.loc["proportional split"]
    for col, what in ((acc.frame.columns[0], "on Z"), (acc.frame.columns[1], "on L")):
        word = "level with" if abs(kras[col] - split[col]) < 0.05 else "below" if kras[col] < split[col] else "above"
        assert f"{word} the split {what}" in acc.reading, (word, acc.reading)
    assert "group's cells only" in acc.note and "sheet Methods, §5.12" in acc.note


def test_updated_table_feeds_accounts_from_the_cli(demo_run, tmp_path):
    out = tmp_path / "updated-accounts.xlsx"
    assert main(["run", str(demo_run[0]), "accounts", "--table", "MRIO 2002 updated", "--out", str(out)]) == 0
    assert "Accounts" in openpyxl.load_workbook(out, read_only=True).sheetnames


# ---------------------------------------------------------------------- display units
def test_display_scale_is_exact_and_names_the_unit():
    s = display_scale("kt CO2", "Mt", "emissions")
    x = np.array([7531437.351277536, -66.96523834716879, 1.0])
    assert s.unit == "Mt CO2" and np.array_equal(s(x), x / 1000)
    assert display_scale("kt CO2", "t", "emissions")(2.5) == 2500.0
    assert display_scale("million USD", "billion", "money").unit == "billion USD"
    assert display_scale("1e4 CNY", "billion", "money")(1e5) == pytest.approx(1.0, rel=1e-15)
    assert display_scale("kt CO2", "as table", "emissions").identity
    with pytest.raises(ValueError, match="must start with t, kt, Mt or Gt"):
        display_scale("tonnes", "Mt", "emissions")


@pytest.fixture(scope="module")
def inputs_book():
    book = xw.Book()
    write_inputs(book)
    yield book
    book.close()


def _table(book, sheet: str, prefix: str) -> tuple[str, list[list]]:
    rows = book.sheets[sheet].used_range.options(ndim=2).value
    for i, r in enumerate(rows):
        if isinstance(r[0], str) and r[0].startswith(prefix):
            body = []
            for rr in rows[i + 2:]:
                if rr[0] is None or all(v is None for v in rr[1:]):  # a blank row or the table's reading line
                    break
                body.append(rr)
            return r[0], body
    raise AssertionError(prefix)


def test_display_unit_scales_accounts_and_flows_exactly(inputs_book):
    get("accounts").func(inputs_book, display_unit_emissions="as table")  # the demo Settings say Mt
    get("flows").func(inputs_book, display_unit_emissions="as table")
    kt = {s: _table(inputs_book, s, "Table 1.") for s in ("Accounts", "Flows")}
    get("accounts").func(inputs_book, display_unit_emissions="Mt")
    get("flows").func(inputs_book, display_unit_emissions="Mt")
    for sheet in ("Accounts", "Flows"):
        title_kt, body_kt = kt[sheet]
        title_mt, body_mt = _table(inputs_book, sheet, "Table 1.")
        assert "(kt CO2)" in title_kt and "(Mt CO2)" in title_mt
        a = np.array([[v for v in r[1:4]] for r in body_kt], dtype=float)
        b = np.array([[v for v in r[1:4]] for r in body_mt], dtype=float)
        assert np.array_equal(b, a / 1000), sheet  # Mt = kt / 1000, exactly
    acc = xlmrio.accounts(xlmrio.datasets.demo(2007), "CO2")
    _, body = _table(inputs_book, "Accounts", "Table 1.")
    assert_allclose([r[1] for r in body[:8]], acc.pba.to_numpy() / 1000, rtol=1e-15)


def test_display_unit_money_scales_transfer(inputs_book):
    get("transfer").func(inputs_book)
    _, musd = _table(inputs_book, "Transfer & leakage", "Table 6.")
    get("transfer").func(inputs_book, display_unit_money="billion")
    title, busd = _table(inputs_book, "Transfer & leakage", "Table 6.")
    assert "(billion USD)" in title
    a = np.array([r[1:9] for r in musd], dtype=float)
    b = np.array([r[1:9] for r in busd], dtype=float)
    assert np.array_equal(b, a / 1000)


def test_display_unit_that_does_not_fit_is_an_error_at_its_cell(tmp_path):
    book = xw.Book()
    try:
        write_inputs(book)
        sat = book.sheets["MRIO 2007 satellites"]
        rows = sat.used_range.options(ndim=2).value
        r, c = next((i, j) for i, row in enumerate(rows) for j, v in enumerate(row) if v == "kt CO2")
        sat.range((sat.used_range.row + r, sat.used_range.column + c)).value = "tonnes CO2"
        settings = book.sheets["Settings"]
        names = [row[0] for row in settings.used_range.options(ndim=2).value]
        k = names.index("display_unit_emissions") + 1
        settings.range(f"B{k}").value = "Mt"
        with pytest.raises(WorkbookError) as exc:
            get("accounts").func(book)
        assert f"'Settings'!B{k}" in str(exc.value) and "tonnes CO2" in str(exc.value)
    finally:
        book.close()
