"""Tests of the bundled demo world MRIO and the raw WIOD loader (xlmrio.datasets).

Independent references: the accounting identities of METHODS.md §1.3, the raw WIOD 2013 tables and
the JRC workbook read directly here (own readers and hard-coded memberships), byte equality with a
fresh rebuild.
"""
from __future__ import annotations

import math
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from xlmrio.datasets import DEMO_YEARS, demo, demo_concordance, wiod
from xlmrio.errors import DataNotFoundError, OptionError

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
DATA = REPO / "xlmrio" / "datasets" / "data"
WIOD_DIR = SHARED / "wiod2013_bquast"
JRC_XLSX = SHARED / "jrc_wiod_co2_2000_2016" / "WIOD_EA_CO2_2000_2016_JRC.xlsx"

needs_shared = pytest.mark.skipif(
    not (WIOD_DIR.is_dir() and JRC_XLSX.is_file()),
    reason="../shared/data (WIOD 2013 tables and JRC CO2 accounts) is not present",
)

# Hard-coded here on purpose (not imported from the package): membership of the demo regions in
# terms of JRC sheets. CHE, HRV, NOR are inside WIOD 2013's RoW.
EU27_JRC = ["AUT", "BEL", "BGR", "CYP", "CZE", "DEU", "DNK", "ESP", "EST", "FIN", "FRA", "GBR", "GRC",
            "HUN", "IRL", "ITA", "LTU", "LUX", "LVA", "MLT", "NLD", "POL", "PRT", "ROU", "SVK", "SVN", "SWE"]
JRC_MEMBERS = {
    "CHN": ["CHN"], "JPN": ["JPN"], "KOR+TWN": ["KOR", "TWN"], "USA": ["USA"], "EU": EU27_JRC,
    "OHI": ["AUS", "CAN"], "OEM": ["BRA", "IDN", "IND", "MEX", "RUS", "TUR"],
    "RoW": ["RoW", "CHE", "HRV", "NOR"],
}
WIOD_MEMBERS = {k: ["ROM" if c == "ROU" else c for c in v if c not in ("CHE", "HRV", "NOR")]
                for k, v in JRC_MEMBERS.items()}


def rel_close(a, b, rtol=1e-9):
    a, b = np.asarray(a, float), np.asarray(b, float)
    scale = max(np.abs(b).max(), 1.0)
    return np.abs(a - b).max() <= rtol * scale


# ------------------------------------------------------------------------------ bundled demo
@pytest.mark.parametrize("year", DEMO_YEARS)
def test_demo_labels_units(year):
    t = demo(year)
    assert t.name == f"Demo world MRIO {year}"
    assert t.monetary_unit == "million USD"
    assert t.regions == ("CHN", "JPN", "KOR+TWN", "USA", "EU", "OHI", "OEM", "RoW")
    assert len(t.sectors) == 17 and t.sectors[0] == "01 Agriculture" and t.sectors[-1] == "17 Other services"
    assert t.fd_categories == ("Households", "NPISH", "Government", "GFCF", "Inventories")
    assert (t.m, t.n, t.N, t.K) == (8, 17, 136, 5)
    assert t.Z.shape == (136, 136) and t.Y.shape == (136, 40) and t.V.shape == (1, 136)
    assert t.va_rows == ("Value added",)
    assert t.exports is None
    sat = t.satellites["CO2"]
    assert sat.unit == "kt CO2"
    assert sat.values.shape == (136,) and sat.hh.shape == (40,)


@pytest.mark.parametrize("bad", [2000, 2003, 2011, "2007x", None])
def test_demo_other_years_rejected(bad):
    with pytest.raises(OptionError) as err:
        demo(bad)
    assert "2002" in str(err.value) and "2007" in str(err.value)


@pytest.mark.parametrize("year", DEMO_YEARS)
def test_demo_balances_to_float_precision(year):
    t = demo(year)
    x = t.x
    assert rel_close(t.Z.sum(axis=1) + t.Y.sum(axis=1), x, 1e-12)        # row identity
    assert rel_close(t.Z.sum(axis=0) + t.V.sum(axis=0), x, 1e-12)        # column identity
    assert math.isclose(t.Y.sum(), t.V.sum(), rel_tol=1e-12)             # GDP identity
    assert t.validate(rtol=1e-9).ok


@pytest.mark.parametrize("year", DEMO_YEARS)
def test_demo_signs_and_whole_numbers(year):
    t = demo(year)
    assert (t.Z >= 0).all()
    assert (t.x > 0).all()                       # no zero-output cell, so no orphan emissions
    assert (t.V > 0).all()                       # no negative value added after aggregation
    assert np.array_equal(t.Z, np.round(t.Z)) and np.array_equal(t.Y, np.round(t.Y))
    sat = t.satellites["CO2"]
    assert (sat.values >= 0).all() and (sat.hh >= 0).all()
    hh = sat.hh.reshape(8, 5)
    assert (hh[:, 0] > 0).all() and (hh[:, 1:] == 0).all()   # direct emissions only in Households
    # inventory changes are the only final demand allowed to be negative
    Y = t.Y.reshape(136, 8, 5)
    assert (Y[:, :, :4] >= 0).all()


@pytest.mark.parametrize("year", DEMO_YEARS)
def test_demo_leontief_inverse_exists(year):
    t = demo(year)
    A = t.Z / t.x[None, :]
    assert A.sum(axis=0).max() < 1
    L = np.linalg.solve(np.eye(t.N) - A, np.eye(t.N))
    assert (L >= 0).all()
    assert (np.diag(L) >= 1).all()
    assert rel_close(L @ t.Y.sum(axis=1), t.x, 1e-9)     # L y = x


def test_demo_plausible_magnitudes():
    # World gross output and CO2 grow 2002 -> 2007; China's CO2 grows fastest (known stylised facts).
    t02, t07 = demo(2002), demo(2007)
    assert t07.x.sum() > 1.5 * t02.x.sum()
    def region_co2(t, r):
        i = t.regions.index(r)
        s = t.satellites["CO2"]
        return s.values[i * 17:(i + 1) * 17].sum() + s.hh[i * 5:(i + 1) * 5].sum()
    growth = {r: region_co2(t07, r) / region_co2(t02, r) for r in t02.regions}
    assert max(growth, key=growth.get) == "CHN"
    # electricity is the most CO2-intensive sector in China and the USA (kt per million USD)
    for t in (t02, t07):
        e = t.satellites["CO2"].values / t.x
        for r in ("CHN", "USA"):
            i = t.regions.index(r)
            assert int(np.argmax(e[i * 17:(i + 1) * 17])) == t.sectors.index("14 Utilities")


def test_demo_is_cached_and_read_only():
    t = demo(2007)
    assert demo(2007) is t
    with pytest.raises(ValueError):
        t.Z[0, 0] = 1.0


def test_concordances_shipped():
    sec = demo_concordance("sectors")
    assert list(sec["sector"]) == list(demo(2002).sectors)
    # every WIOD 2013 industry and every JRC industry appears exactly once
    wiod35 = " ".join(sec["wiod2013_industries"]).split()
    assert sorted(wiod35) == sorted(f"c{i}" for i in range(1, 36))
    assert len(" ".join(sec["jrc56_industries"]).split()) == 56
    reg = demo_concordance("regions")
    members = {r: m.split() for r, m in zip(reg["region"], reg["jrc_members"])}
    assert {k: sorted(v) for k, v in members.items()} == {k: sorted(v) for k, v in JRC_MEMBERS.items()}
    countries = demo_concordance("countries")
    assert len(countries) == 41 + 44
    with pytest.raises(OptionError):
        demo_concordance("nope")
    text = (DATA / "PROVENANCE.md").read_text(encoding="utf-8")
    for needle in ("Timmer", "Corsatea", "10.2760/024036", "kt CO2", "million USD"):
        assert needle in text


# ------------------------------------------------------------------------------ against raw data
def _read_jrc(year: int) -> dict[str, dict[str, float]]:
    import openpyxl

    wb = openpyxl.load_workbook(JRC_XLSX, read_only=True, data_only=True)
    out = {}
    for sheet in [s for members in JRC_MEMBERS.values() for s in members]:
        rows = list(wb[sheet].iter_rows(values_only=True))
        header = next(r for r in rows if r[0] is None and "2000" in [str(v) for v in r])
        j = [str(v) for v in header].index(str(year))
        out[sheet] = {r[0]: float(r[j] or 0.0) for r in rows if isinstance(r[0], str) and r[0] != "Code"}
    wb.close()
    return out


@needs_shared
@pytest.mark.shared_data
@pytest.mark.parametrize("year", DEMO_YEARS)
def test_demo_co2_matches_jrc_totals(year):
    jrc = _read_jrc(year)
    t = demo(year)
    sat = t.satellites["CO2"]
    for i, r in enumerate(t.regions):
        ind = sum(v for s in JRC_MEMBERS[r] for code, v in jrc[s].items() if code != "FC_HH")
        hh = sum(jrc[s]["FC_HH"] for s in JRC_MEMBERS[r])
        assert math.isclose(sat.values[i * 17:(i + 1) * 17].sum(), ind, rel_tol=1e-9), r
        assert math.isclose(sat.hh[i * 5], hh, rel_tol=1e-9), r
        # sector bridge spot checks: utilities = D35 + E36, construction = F
        util = sum(jrc[s]["D35"] + jrc[s]["E36"] for s in JRC_MEMBERS[r])
        assert math.isclose(sat.values[i * 17 + t.sectors.index("14 Utilities")], util, rel_tol=1e-9), r
        cons = sum(jrc[s]["F"] for s in JRC_MEMBERS[r])
        assert math.isclose(sat.values[i * 17 + t.sectors.index("15 Construction")], cons, rel_tol=1e-9), r


def _read_wiot(year: int):
    import rdata

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        obj = rdata.read_rda(str(WIOD_DIR / f"wiot_{year}.RData"))[f"wiot_{year}"]
    countries = [str(c) for c in obj["countries"]]
    return countries, np.asarray(obj["inter"].values, float), np.asarray(obj["final"].values, float), \
        np.asarray(obj["output"], float)


@needs_shared
@pytest.mark.shared_data
@pytest.mark.parametrize("year", DEMO_YEARS)
def test_demo_money_matches_raw_wiod(year):
    countries, Z, F, output = _read_wiot(year)
    t = demo(year)
    assert t.Z.sum() == Z.sum() and t.Y.sum() == F.sum()
    x_raw = Z.sum(1) + F.sum(1)
    assert rel_close(x_raw, output, 1e-3)          # the release's own output column, up to rounding
    for i, r in enumerate(t.regions):
        rows = np.concatenate([np.arange(35) + 35 * countries.index(c) for c in WIOD_MEMBERS[r]])
        assert t.x[i * 17:(i + 1) * 17].sum() == x_raw[rows].sum(), r
        # utilities (c17) and trade & transport (c19-c21, c23-c26) output by region
        c17 = [k for k in rows if k % 35 == 16]
        tt = [k for k in rows if k % 35 + 1 in (19, 20, 21, 23, 24, 25, 26)]
        assert t.x[i * 17 + 13] == x_raw[c17].sum(), r
        assert t.x[i * 17 + 15] == x_raw[tt].sum(), r
    # households' final demand of the USA for Chinese goods
    chn = np.arange(35) + 35 * countries.index("CHN")
    usa_hh = 5 * countries.index("USA")
    j = t.regions.index("USA") * 5
    assert t.Y[0:17, j].sum() == F[chn, usa_hh].sum()


@pytest.mark.slow
@needs_shared
@pytest.mark.shared_data
def test_rebuild_equals_shipped(tmp_path):
    out = tmp_path / "data"
    res = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "build_demo_dataset.py"), "--data-dir", str(SHARED),
         "--out-dir", str(out), "-q"],
        capture_output=True, text=True, timeout=300,
    )
    assert res.returncode == 0, res.stderr
    built = sorted(p.name for p in out.iterdir())
    shipped = sorted(p.name for p in DATA.iterdir() if p.name != "PROVENANCE.md" and not p.name.startswith("."))
    assert built == shipped
    for name in built:
        assert (out / name).read_bytes() == (DATA / name).read_bytes(), name
    assert sum((DATA / n).stat().st_size for n in shipped) < 400_000


# ------------------------------------------------------------------------------ full WIOD table
@pytest.mark.slow
@needs_shared
@pytest.mark.shared_data
def test_wiod_2007_full_table():
    t = wiod(2007, data_dir=SHARED, co2=True)
    assert (t.N, t.m, t.n, t.K) == (1435, 41, 35, 5)
    assert t.Z.shape == (1435, 1435) and t.Y.shape == (1435, 205)
    assert t.regions[-1] == "RoW" and t.sectors[0] == "c1" and t.monetary_unit == "million USD"
    countries, Z, F, _ = _read_wiot(2007)
    assert np.array_equal(t.Z, Z) and np.array_equal(t.x, Z.sum(1) + F.sum(1))
    assert rel_close(t.Z.sum(0) + t.V[0], t.x, 1e-12)
    sat = t.satellites["CO2"]
    assert sat.unit == "kt CO2"
    assert not ((t.x == 0) & (sat.values != 0)).any()          # no orphan emissions
    jrc = _read_jrc(2007)
    world_ind = sum(v for d in jrc.values() for c, v in d.items() if c != "FC_HH")
    assert math.isclose(sat.values.sum(), world_ind, rel_tol=1e-9)
    assert math.isclose(sat.hh.sum(), sum(d["FC_HH"] for d in jrc.values()), rel_tol=1e-9)
    # aggregating the full table's CO2 to the demo classification reproduces the demo satellite
    d = demo(2007)
    sec = demo_concordance("wiod35")
    sec_of = dict(zip(sec["wiod2013_code"], sec["demo_sector"]))
    agg = np.zeros(d.N)
    for k in range(t.N):
        c, s = t.regions[k // 35], t.sectors[k % 35]
        r = next(r for r, members in WIOD_MEMBERS.items() if c in members)
        agg[d.regions.index(r) * 17 + d.sectors.index(sec_of[s])] += sat.values[k]
    assert rel_close(agg, d.satellites["CO2"].values, 1e-9)


def test_wiod_missing_data_is_a_clear_error(tmp_path, monkeypatch):
    with pytest.raises(DataNotFoundError, match="not found"):
        wiod(2007, data_dir=tmp_path / "nowhere")
    with pytest.raises(DataNotFoundError, match="wiot_2007"):
        wiod(2007, data_dir=tmp_path)
    monkeypatch.setenv("XLMRIO_SHARED_DATA", str(tmp_path / "nowhere"))
    with pytest.raises(DataNotFoundError, match="XLMRIO_SHARED_DATA"):
        wiod(2007)


def test_wiod_year_checks(tmp_path):
    with pytest.raises(OptionError, match="1995-2011"):
        wiod(2014, data_dir=tmp_path)
    with pytest.raises(OptionError, match="2000-2016"):
        wiod(1998, data_dir=tmp_path, co2=True)


@pytest.mark.slow
def test_wiod_late_years_have_no_negative_output():
    """2009-2011 rows with a large inventory draw-down (e.g. LUX c5) are raised to zero output."""
    if not (SHARED / "wiod2013_bquast" / "wiot_2010.RData").exists():
        pytest.skip("raw WIOD files not available (../shared/data is absent on this machine)")
    t = wiod(2010)
    assert t.x.min() >= 0
    k = t.labels().index("LUX|c5")
    assert t.x[k] == 0
