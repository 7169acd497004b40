"""The demo workbook (README's main job): every command on real data through the openpyxl engine, the
numbers written equal the core API's, and LibreOffice opens and renders it."""
from __future__ import annotations

import shutil
import subprocess

import numpy as np
import openpyxl
import pandas as pd
import pytest
from numpy.testing import assert_allclose

import xlmrio
from xlmrio.cli import main
from xlmrio.datasets import demo
from xlmrio.excel.registry import commands

EXPECTED_SHEETS = ["Contents", "About", "Settings", "MRIO 2002", "MRIO 2002 satellites", "MRIO 2007",
                   "MRIO 2007 satellites", "Constraints", "Concordance", "Validate", "Methods", "Leontief", "Leontief A",
                   "Leontief L", "Accounts", "Flows", "Efficiency",
                   "MRIO 2007 agg", "MRIO 2007 agg satellites", "Transfer & leakage", "Update", "MRIO 2002 updated",
                   "MRIO 2002 updated satellites", "Uncertainty", "Series", "xlmrio help"]


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "xlmrio-demo.xlsx"
    assert main(["demo", "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def wb(demo_file):
    return openpyxl.load_workbook(demo_file, data_only=True)


def _block(ws, prefix: str, header_rows: int = 1) -> pd.DataFrame:
    rows = list(ws.iter_rows(values_only=True))
    for i, row in enumerate(rows):
        if isinstance(row[0], str) and row[0].startswith(prefix):
            head = rows[i + header_rows]
            body = []
            for r in rows[i + 1 + header_rows:]:
                if r[0] is None or all(v is None for v in r[1:]):
                    break
                body.append(r)
            ncol = max(j for j, h in enumerate(head) if h not in (None, "")) + 1
            df = pd.DataFrame([r[:ncol] for r in body], columns=[h or f"c{j}" for j, h in enumerate(head[:ncol])])
            return df.set_index(df.columns[0])
    raise AssertionError(f"{prefix!r} not found on {ws.title}")


def test_every_registered_command_has_a_sheet(wb):
    for name in EXPECTED_SHEETS:
        assert name in wb.sheetnames, name
    registered = {c.name for c in commands()}
    assert {"validate", "leontief", "accounts", "flows", "efficiency", "aggregate", "transfer", "update"} <= registered
    assert wb.sheetnames == EXPECTED_SHEETS


def test_input_sheets_read_back_equal_the_bundled_tables(demo_file):
    import xlwings as xw

    from xlmrio.excel import engine
    from xlmrio.excel.reader import read_table
    from xlmrio.excel.settings import resolve

    engine.use()
    book = xw.Book(str(demo_file))
    try:
        for year in (2002, 2007):
            src = read_table(book, resolve(book, {"table": f"MRIO {year}"}))
            t = demo(year)
            assert_allclose(src.table.Z, t.Z, rtol=0, atol=0)
            assert_allclose(src.table.Y, t.Y, rtol=0, atol=0)
            assert_allclose(src.table.x, t.x, rtol=1e-15)
            assert_allclose(src.table.satellites["CO2"].values, t.satellites["CO2"].values, rtol=1e-15)
            assert_allclose(src.table.satellites["CO2"].hh, t.satellites["CO2"].hh, rtol=1e-15)
            assert src.table.monetary_unit == "million USD"
    finally:
        book.close()


def test_accounts_sheet_equals_core(wb):
    t = demo(2007)
    a = xlmrio.accounts(t, "CO2")
    df = _block(wb["Accounts"], "Table 1.")
    # the demo shows emissions in Mt (option display_unit_emissions); the satellite is in kt
    assert_allclose(df.loc[list(t.regions), "PBA"].astype(float), a.pba / 1000, rtol=1e-12)
    assert_allclose(df.loc[list(t.regions), "CBA"].astype(float), a.cba[list(t.regions)] / 1000, rtol=1e-12)
    # world table: Σ PBA = Σ CBA over real regions
    assert df.loc["Total (real regions)", "PBA"] == pytest.approx(df.loc["Total (real regions)", "CBA"], rel=1e-12)
    groups = _block(wb["Accounts"], "Table 6.")
    assert groups.shape == (8, 9)  # 8 consumers x the nine sector groups
    assert_allclose(groups.sum(axis=1).astype(float), a.driver.sum(axis=0)[list(t.regions)] / 1000, rtol=1e-9)


def test_flows_and_efficiency_sheets_equal_core(wb):
    t = demo(2007)
    F = xlmrio.embodied_flows(t, "CO2")
    Freg = _block(wb["Flows"], "Table 1.")
    assert_allclose(Freg.loc[list(t.regions), list(t.regions)].astype(float), xlmrio.aggregate_flows(F) / 1000,
                    rtol=1e-12)
    top = _block(wb["Flows"], "Table 3.")
    ref = xlmrio.top_flows(F, top_k=20)
    assert_allclose(top["flow (Mt CO2)"].astype(float), ref["value"] / 1000, rtol=1e-12)
    eff = xlmrio.efficiency(t, "CO2")
    shares = _block(wb["Efficiency"], "Table 2.")
    assert_allclose(shares["share"].astype(float), eff.shares, rtol=1e-12)


def test_transfer_sheet_equals_core(wb):
    from xlmrio.core.transfer import industrial_transfer

    r = industrial_transfer(demo(2002), demo(2007), "CO2")
    tab = _block(wb["Transfer & leakage"], "Table 3.", header_rows=2)
    regions = list(demo(2007).regions)
    assert_allclose(tab.loc[regions].iloc[:, 0].astype(float), r.net_output["consumption"], rtol=1e-12)
    assert_allclose(tab.loc[regions].iloc[:, 1].astype(float), r.net_carbon["consumption"] / 1000, rtol=1e-12)
    assert abs(float(tab.loc["Total"].iloc[0])) < 1e-6 * float(np.abs(r.net_output["consumption"]).sum())
    # Table 9b: own-coefficient impacts by the 9 sector groups of the demo's Concordance sheet
    from xlmrio.excel.demo import nine_groups

    g = r.impacts_by_group({a: b for a, b in nine_groups()[1:]}, "consumption")
    tab = _block(wb["Transfer & leakage"], "Table 9b.")      # rows (measure, group), columns regions
    n_ie = g["IE"].shape[1]
    assert_allclose(tab[regions].iloc[:n_ie].astype(float).to_numpy(), g["IE"].T.to_numpy() / 1000, rtol=1e-12)
    assert_allclose(tab[regions].iloc[n_ie:].astype(float).to_numpy(), g["IVA"].T.to_numpy(), rtol=1e-12)


def test_aggregated_table_sheet_feeds_other_commands(demo_file, tmp_path):
    out = tmp_path / "agg-accounts.xlsx"
    assert main(["run", str(demo_file), "accounts", "--table", "MRIO 2007 agg", "--sector-concordance", "",
                 "--out", str(out)]) == 0
    wb2 = openpyxl.load_workbook(out, data_only=True)
    df = _block(wb2["Accounts"], "Table 1.")
    # PBA is invariant to sector aggregation
    assert_allclose(df.loc[list(demo(2007).regions), "PBA"].astype(float),
                    xlmrio.accounts(demo(2007)).pba / 1000, rtol=1e-9)  # the demo's Settings show Mt


def _summary(ws) -> dict:
    rows = {}
    for r in ws.iter_rows(values_only=True):      # Table 1 (solution summary) first; keep a key's first row
        if isinstance(r[0], str):
            rows.setdefault(r[0], r[1:3])
    return rows


def test_update_sheet_runs_auto_on_the_grouped_regions(wb):
    """The seeds' case (METHODS §4.6): CHN, JPN and KOR+TWN known only as a group; auto picks KRAS and says
    why, with the benchmark's figures."""
    from xlmrio.excel.constraints import grouped_of
    from xlmrio.excel.demo import DEMO_GROUP
    from xlmrio.update import choose_method

    rows = _summary(wb["Update"])
    assert wb["Update"]["A1"].value.startswith("Updated table (KRAS): sheet 'MRIO 2002' to 'MRIO 2007' with "
                                                "CHN, JPN, KOR+TWN known only as a group")
    assert rows["method"][0] == "KRAS (picked by auto)"
    _t, known, aggs = grouped_of(demo(2007), demo(2002), "MRIO 2007", list(DEMO_GROUP))
    method, reason = choose_method(known_cells=known, aggregates=aggs)
    assert method == "kras"
    assert rows["why this method"] == ("flow information", "see below")
    why = next(k for k in rows if k.startswith("Why KRAS: "))
    assert reason.rstrip(".") in why and "docs/update-accuracy.md" in why
    assert rows["regions known only as a group"][0] == "CHN, JPN, KOR+TWN"
    assert rows["group sums"][0] == len(aggs)
    assert rows["updated table balances"][0] == "yes"


def _written_update(demo_file):
    import xlwings as xw

    from xlmrio.excel import engine
    from xlmrio.excel.reader import read_table
    from xlmrio.excel.settings import resolve

    engine.use()
    book = xw.Book(str(demo_file))
    try:
        return read_table(book, resolve(book, {"table": "MRIO 2002 updated"})).table
    finally:
        book.close()


def _wape(est, true):
    return 100 * np.abs(est - true).sum() / np.abs(true).sum()


def test_update_accuracy_on_the_group_recomputed(wb, demo_file):
    """Table 2's figures recomputed with numpy from the written updated table and the true 2007 table, and the
    proportional split's from a split written with loops (tests/test_update_grouped.py)."""
    from test_update_grouped import split_by_loops
    from xlmrio.excel.demo import DEMO_GROUP

    acc = _block(wb["Update"], "Table 2. Accuracy on the cells of CHN, JPN, KOR+TWN against 'MRIO 2007'")
    assert list(acc.index) == ["KRAS", "proportional split"]
    t0, t1, new = demo(2002), demo(2007), _written_update(demo_file)
    member = np.array([r in DEMO_GROUP for r in t0.regions for _ in t0.sectors])
    on = member[:, None] | member[None, :]

    def L(Z, x):
        return np.linalg.inv(np.eye(len(x)) - Z / x[None, :])

    Lt = L(t1.Z, t1.x)
    for name, (Z, x) in (("KRAS", (new.Z, new.x)), ("proportional split", split_by_loops(t0, t1, DEMO_GROUP))):
        got = acc.loc[name].astype(float)
        assert got["WAPE of Z (%)"] == pytest.approx(_wape(Z[on], t1.Z[on]), rel=1e-9)
        assert got["WAPE of L (%)"] == pytest.approx(_wape(L(Z, x)[on], Lt[on]),
                                                                                     rel=1e-9)
        nz = on & (t1.Z != 0)
        assert got["largest relative deviation of Z (ratio)"] == pytest.approx(
            (np.abs(Z[nz] - t1.Z[nz]) / np.abs(t1.Z[nz])).max(), rel=1e-9)
    # the updated table meets every given number: cells and totals off the group as in 2007, group sums kept
    assert_allclose(new.Z[~on], t1.Z[~on], rtol=1e-6, atol=1e-6)
    assert_allclose(new.x[~member], t1.x[~member], rtol=1e-6)
    n = t0.n
    g = np.isin(t0.regions, DEMO_GROUP)
    zn, zt = new.Z.reshape(t0.m, n, t0.m, n), t1.Z.reshape(t0.m, n, t0.m, n)
    assert_allclose(zn[g][:, :, g].sum(axis=(0, 2)), zt[g][:, :, g].sum(axis=(0, 2)), rtol=1e-6)   # inside G
    assert_allclose(zn[g][:, :, ~g].sum(axis=0), zt[g][:, :, ~g].sum(axis=0), rtol=1e-6, atol=1e-6)  # G sells
    assert_allclose(new.x.reshape(t0.m, n)[g].sum(0), t1.x.reshape(t0.m, n)[g].sum(0), rtol=1e-6)
    # and it is not the truth: the group's split was estimated
    assert _wape(new.Z[on], t1.Z[on]) > 1


@pytest.mark.slow
def test_libreoffice_opens_and_renders_pdf(demo_file, tmp_path):
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.skip("LibreOffice is not installed (.ci/run installs libreoffice-calc)")
    res = subprocess.run([soffice, "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(demo_file)],
                         capture_output=True, text=True, timeout=600)
    pdf = tmp_path / "xlmrio-demo.pdf"
    assert res.returncode == 0 and pdf.exists(), res.stderr
    assert pdf.stat().st_size > 50_000
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
        assert "Production- and consumption-based CO2 emissions by region" in text
        assert "Industrial transfer, carbon transfer and carbon leakage" in text
