"""The 'uncertainty' and 'series' workbook commands (#15) through the CLI on the demo's input sheets."""
from __future__ import annotations

import numpy as np
import openpyxl
import pytest
from numpy.testing import assert_allclose

import xlmrio.uncertainty as xu
from xlmrio.cli import main
from xlmrio.core.accounts import accounts
from xlmrio.datasets import demo
from xlmrio.excel.demo import build_demo


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    return build_demo(tmp_path_factory.mktemp("unc") / "inputs.xlsx", run=False)


def _rows(ws, prefix: str, header_rows: int = 1) -> list:
    rows = list(ws.iter_rows(values_only=True))
    for i, row in enumerate(rows):
        if isinstance(row[0], str) and row[0].startswith(prefix):
            body = []
            for r in rows[i + 1 + header_rows:]:
                if r[0] is None or all(v is None for v in r[1:]):  # a blank row or the table's reading line
                    break
                body.append(r)
            return body
    raise AssertionError(prefix)


def test_uncertainty_sheet_equals_the_core(inputs, tmp_path, capsys):
    out = tmp_path / "u.xlsx"
    assert main(["run", str(inputs), "uncertainty", "--mc-draws", "12", "--mc-seed", "4", "--mc-rsd", "0.05",
                 "--out", str(out)]) == 0
    lines = capsys.readouterr().out
    assert "12/12 draws" in lines and "s left" in lines          # CLI progress lines
    r = xu.monte_carlo(demo(2007), "CO2", draws=12, seed=4, rsd=0.05)
    wb = openpyxl.load_workbook(out, data_only=True)
    ws = wb["Uncertainty"]
    title = next(c.value for c in ws["A"] if isinstance(c.value, str) and c.value.startswith("Table 1."))
    assert title.endswith("(Mt CO2)")                             # the demo's Settings show emissions in Mt
    t1 = _rows(ws, "Table 1.", header_rows=2)
    regions = [row[0] for row in t1]
    assert regions == list(demo(2007).regions)
    got = np.array([row[1:19] for row in t1], float)            # PBA, CBA, NEI x (point, mean, sd, 2.5, 50, 97.5)
    s = r.summary / MT
    for j, meas in enumerate(("pba", "cba", "nei")):
        assert_allclose(got[:, 6 * j], r.point[meas] / MT, rtol=1e-12)
        for k, stat in enumerate(("mean", "sd", "p2.5", "p50", "p97.5")):
            assert_allclose(got[:, 6 * j + 1 + k], s[(meas, stat)], rtol=1e-12)
    t2 = _rows(ws, "Table 2.")
    assert [row[1] for row in t2] == list(r.p_orientation["orientation"])
    assert_allclose([row[2] for row in t2], r.p_net_exporter)
    assert_allclose([row[5] for row in t2], r.p_orientation["P(class holds)"])
    t3 = dict((row[0], row[1]) for row in _rows(ws, "Table 3."))
    assert_allclose(t3["median"], r.share_summary["p50"])
    assert len(ws._charts) == 1
    _check_error_bars(out, wb, r)


MT = 1000.0  # kt (the satellite's unit) per Mt (the demo's display unit)


def _values(wb, ref: str) -> list:
    """The cells of a chart reference such as 'Uncertainty'!$B$70:$B$77, row by row."""
    sheet, cells = ref.rsplit("!", 1)
    ws = wb[sheet.strip("'").replace("''", "'")]
    return [c.value for row in ws[cells.replace("$", "")] for c in row]


def _check_error_bars(path, wb, r) -> None:
    """The saved chart XML: PBA and CBA medians, each with custom error bars whose minus/plus references
    hold median - p2.5 and p97.5 - median of the core's summary, one value per region."""
    import re
    import zipfile

    with zipfile.ZipFile(path) as z:
        xml = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/charts/chart")]
    xml = [x for x in xml if "errBars" in x]
    assert len(xml) == 1
    x = re.sub(r"<(/?)c:", r"<\1", xml[0])                        # with or without the c: prefix
    series = re.findall(r"<ser>.*?</ser>", x, re.S)
    assert len(series) == 2
    n = len(r.point["pba"])
    for ser, meas in zip(series, ("pba", "cba")):
        assert re.search(r'<errBarType val="both"\s*/>', ser) and re.search(r'<errValType val="cust"\s*/>', ser)
        ref = dict(re.findall(r"<(val|plus|minus)>\s*<numRef>\s*<f>([^<]+)</f>", ser, re.S))
        assert set(ref) == {"val", "plus", "minus"}
        med, lo, hi = (np.array(_values(wb, ref[k].replace("&apos;", "'")), float) for k in ("val", "minus", "plus"))
        assert len(med) == len(lo) == len(hi) == n
        s = r.summary / MT
        assert_allclose(med, s[(meas, "p50")], rtol=1e-12)
        assert_allclose(lo, s[(meas, "p50")] - s[(meas, "p2.5")], rtol=1e-9, atol=1e-9)
        assert_allclose(hi, s[(meas, "p97.5")] - s[(meas, "p50")], rtol=1e-9, atol=1e-9)
        assert (lo >= 0).all() and (hi >= 0).all() and (lo + hi > 0).any()


def test_series_sheet_equals_two_accounts_calls(inputs, tmp_path):
    out = tmp_path / "s.xlsx"
    assert main(["run", str(inputs), "series", "--out", str(out)]) == 0
    ws = openpyxl.load_workbook(out, data_only=True)["Series"]
    t1 = _rows(ws, "Table 1.")
    for year in (2002, 2007):
        a = accounts(demo(year), "CO2")
        rows = {row[0]: row for row in t1 if row[1] == year}
        assert_allclose([rows[r][2] for r in a.pba.index], a.pba / MT, rtol=1e-12)  # shown in Mt
        assert_allclose([rows[r][3] for r in a.pba.index], a.cba[a.pba.index] / MT, rtol=1e-12)
    pba = _rows(ws, "Table 2.")
    assert [row[0] for row in pba] == [2002, 2007]                 # years are numbers
    charts = ws._charts
    assert len(charts) == 2 and all(type(c).__name__ == "LineChart" for c in charts)
    assert len(charts[0].series) == 8                             # one line per region, years along the axis


@pytest.mark.parametrize("flags, message", [
    (["--mc-rsd", "-0.1"], "mc_rsd"),
    (["--mc-draws", "1"], "at least 2"),
    (["--series-tables", "MRIO 2007"], "at least two tables"),
])
def test_bad_options_exit_2_with_one_line(inputs, tmp_path, capsys, flags, message):
    cmd = "series" if "--series-tables" in flags else "uncertainty"
    assert main(["run", str(inputs), cmd, *flags, "--out", str(tmp_path / "x.xlsx")]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
    assert not (tmp_path / "x.xlsx").exists()


def test_unreachable_scheduler_flag_exits_2_naming_it(inputs, tmp_path, capsys, monkeypatch):
    pytest.importorskip("distributed", reason="dask[distributed] is in the test extra")
    monkeypatch.setattr(xu, "SCHEDULER_TIMEOUT", 1.0)
    assert main(["run", str(inputs), "uncertainty", "--scheduler", "tcp://127.0.0.1:9", "--mc-draws", "4",
                 "--out", str(tmp_path / "x.xlsx")]) == 2
    err = capsys.readouterr().err
    assert "tcp://127.0.0.1:9" in err and "within 1 s" in err
