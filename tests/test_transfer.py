"""Industrial transfer, carbon transfer and leakage (METHODS §6, §7.1-5, §7.2 Table 2, §8.7)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xlmrio.core.table import MRIOTable
from xlmrio.core.transfer import VARIANTS, industrial_transfer, industrial_transfer_chain, price_index
from xlmrio.errors import LabelError, OptionError, ShapeError, TableError

RTOL = 1e-9

# ---------------------------------------------------------------------------------------------- §8.7 fixture
Z0 = np.array([[10, 8, 12, 4], [6, 4, 2, 3], [8, 4, 20, 6], [2, 6, 4, 5]], float)
Y0 = np.array([[30, 16], [50, 5], [14, 48], [3, 36]], float)
E0 = np.array([20, 10, 20, 4], float)
G0 = np.array([50, 8, 120, 6], float)
Z1 = np.array([[8, 6, 10, 4], [7, 5, 3, 4], [12, 6, 24, 7], [3, 7, 5, 6]], float)
Y1 = np.array([[26, 14], [58, 6], [22, 56], [4, 42]], float)
E1 = np.array([18, 12, 30, 5], float)
S_87 = [0.5, 0.1, 1.0, 0.1]
LABELS = dict(regions=["R1", "R2"], sectors=["M", "S"], fd_categories=["FD"], monetary_unit="MU")


def _t0(**kw):
    return MRIOTable.from_arrays(Z0, Y0, exports=E0, satellites={"CO2": (G0, "t")}, name="t0", **LABELS, **kw)


def _t1(**kw):
    return MRIOTable.from_arrays(Z1, Y1, exports=E1, name="t1", **LABELS, **kw)


@pytest.fixture(scope="module")
def worked():
    return industrial_transfer(_t0(), _t1(), coefficients=S_87)


def test_worked_example_t1_table():
    t1 = _t1()
    np.testing.assert_allclose(t1.x, [86, 95, 157, 72], rtol=RTOL)
    np.testing.assert_allclose(t1.V[0], [56, 71, 115, 51], rtol=RTOL)


def test_worked_example_delta_x(worked):
    np.testing.assert_allclose(worked.delta_x["consumption"].to_numpy(), [
        [-6.4392771150, -4.6753849348], [9.5590142279, 2.4172051215],
        [12.8582029017, 10.7076249605], [2.6393399906, 7.2904451577]], rtol=RTOL, atol=1e-10)
    np.testing.assert_allclose(worked.delta_x["export"].to_numpy(), [
        [-2.7120999094, -0.1732380408], [2.5367897827, 0.4869908679],
        [1.6245943058, 11.8095778319], [0.5250229159, 1.5451919358]], rtol=RTOL, atol=1e-10)
    assert list(worked.delta_x["consumption"].columns) == ["R1", "R2"]


def test_worked_example_pairwise_and_net(worked):
    expected_N = {"consumption": [17.5335878365, 0.2221348691], "export": [1.7978323466, 0.0380320480],
                  "total": [19.3314201831, 0.2601669171]}
    expected_NX = {"consumption": 17.7557227056, "export": 1.8358643946, "total": 19.5915871003}
    for v in VARIANTS:
        pn = worked.pairwise_net_by_sector[v]
        np.testing.assert_allclose([pn.loc[("R2", "M"), "R1"], pn.loc[("R2", "S"), "R1"]], expected_N[v], rtol=RTOL)
        np.testing.assert_allclose([pn.loc[("R1", "M"), "R2"], pn.loc[("R1", "S"), "R2"]],
                                   -np.array(expected_N[v]), rtol=RTOL)
        np.testing.assert_allclose(worked.net_output.loc["R2", v], expected_NX[v], rtol=RTOL)
        np.testing.assert_allclose(worked.net_output.loc["R1", v], -expected_NX[v], rtol=RTOL)
        np.testing.assert_allclose(worked.pairwise_net[v].loc["R2", "R1"], expected_NX[v], rtol=RTOL)
    # total variant computed from L(Y_reg + E_blk) equals cons + exp
    np.testing.assert_allclose(worked.net_output["total"],
                               worked.net_output["consumption"] + worked.net_output["export"], rtol=RTOL)


def test_worked_example_carbon(worked):
    ct = worked.carbon_transfer
    np.testing.assert_allclose(ct["consumption"].loc["R2", "R1"], 13.1221369008, rtol=RTOL)
    np.testing.assert_allclose(ct["consumption"].loc["R1", "R2"], -2.0959719552, rtol=RTOL)
    np.testing.assert_allclose(ct["export"].loc["R2", "R1"], 1.6770965974, rtol=RTOL)
    np.testing.assert_allclose(ct["export"].loc["R1", "R2"], -0.0379199336, rtol=RTOL)
    expected_NC = {"consumption": 15.2181088560, "export": 1.7150165310, "total": 16.9331253870}
    expected_L = {"consumption": 8.7667939182, "export": 0.8989161733, "total": 9.6657100916}
    expected_IE = {"consumption": (17.5558013234, -8.7890074052), "export": (1.8016355514, -0.9027193781)}
    expected_IVA = {"consumption": (13.0004194253, -11.5832365729), "export": (1.3438229333, -1.1991054797)}
    for v in VARIANTS:
        np.testing.assert_allclose(worked.net_carbon.loc["R2", v], expected_NC[v], rtol=RTOL)
        np.testing.assert_allclose(worked.net_carbon.loc["R1", v], -expected_NC[v], rtol=RTOL)
        lam = worked.leakage_by_variant[v]
        np.testing.assert_allclose([lam.loc["R1", "R2"], lam.loc["R2", "R1"]], expected_L[v], rtol=RTOL)
        # all from M: the S sector has S^R1 = S^R2 = 0.1
        ls = worked.leakage_by_sector[v]
        np.testing.assert_allclose(ls.loc[("R1", "M"), "R2"], expected_L[v], rtol=RTOL)
        assert abs(ls.loc[("R1", "S"), "R2"]) <= 1e-15
        if v in expected_IE:
            np.testing.assert_allclose(worked.impact_emissions.loc[["R2", "R1"], v], expected_IE[v], rtol=RTOL)
            np.testing.assert_allclose(worked.impact_va.loc[["R2", "R1"], v], expected_IVA[v], rtol=RTOL)
        np.testing.assert_allclose(worked.impact_emissions[v].sum(), expected_L[v], rtol=RTOL)
    np.testing.assert_allclose(worked.leakage.loc["R1", "R2"], 9.6657100916, rtol=RTOL)
    np.testing.assert_allclose(worked.leakage_sum("R1", ["R2"]), 9.6657100916, rtol=RTOL)
    np.testing.assert_allclose(worked.leakage_sum("R2", "R1", variant="export"), 0.8989161733, rtol=RTOL)
    np.testing.assert_allclose(worked.va_coefficients,
                               [0.6511627907, 0.7473684211, 0.7324840764, 0.7083333333], rtol=1e-9)


def test_worked_example_coefficients_year_t0_equals_explicit(worked):
    """S = g ⊘ x of t0 is e = [0.5, 0.1, 1.0, 0.1] (§8.2); carbon unit then comes from the satellite."""
    r = industrial_transfer(_t0(), _t1(), coefficients_year="t0")
    np.testing.assert_allclose(r.carbon_coefficients, S_87, rtol=RTOL)
    np.testing.assert_allclose(r.net_carbon.to_numpy(), worked.net_carbon.to_numpy(), rtol=RTOL)
    assert r.carbon_unit == "t" and r.coefficients_unit == "t per MU" and r.monetary_unit == "MU"
    with pytest.raises(OptionError, match="no satellite"):
        industrial_transfer(_t0(), _t1(), coefficients_year="t1")  # t1 has no emissions


def test_worked_example_tables_3_to_5(worked):
    # Table 5: total = S ∘ x (balanced tables), = domestic + export
    e5 = worked.emissions_by_driver
    S = np.array(S_87)
    np.testing.assert_allclose(e5[("t0", "total")], (S * _t0().x).reshape(2, 2).sum(axis=1), rtol=RTOL)
    np.testing.assert_allclose(e5[("t1", "total")], [0.5 * 86 + 0.1 * 95, 1.0 * 157 + 0.1 * 72], rtol=RTOL)
    np.testing.assert_allclose(e5[("t0", "domestic")] + e5[("t0", "export")], e5[("t0", "total")], rtol=RTOL)
    # Table 4: R2 receives everything
    assert worked.transfer_in_share.loc["R2"].to_numpy() == pytest.approx(np.ones(6))
    np.testing.assert_allclose(worked.transfer_in.loc["R2", ("industry", "total")], 19.5915871003, rtol=RTOL)
    t3 = worked.table3()
    np.testing.assert_allclose(t3.loc["R2", ("NC", "total")], 16.9331253870, rtol=RTOL)
    top = worked.top_sectors(k=5)
    r2_in = top[(top.region == "R2") & (top.direction == "in")]
    assert list(r2_in.sector) == ["M", "S"]
    np.testing.assert_allclose(r2_in.value, [19.3314201831, 0.2601669171], rtol=RTOL)
    r1_out = top[(top.region == "R1") & (top.direction == "out")]
    np.testing.assert_allclose(r1_out.value, [19.3314201831, 0.2601669171], rtol=RTOL)  # magnitudes


def test_level_variant_and_bloc(worked):
    # level VA with year-specific v: Σ_i [v(t1) X(t1) − v(t0) X(t0)] for block (J, K), by hand
    t0, t1 = _t0(), _t1()
    v0 = t0.V[0] / t0.x
    v1 = t1.V[0] / t1.x
    X0 = np.linalg.solve(np.eye(4) - t0.Z / t0.x, t0.Y_reg)
    X1 = np.linalg.solve(np.eye(4) - t1.Z / t1.x, t1.Y_reg)
    d = v1[:, None] * X1 - v0[:, None] * X0
    np.testing.assert_allclose(worked.level_va["consumption"].loc["R2", "R1"], d[2:, 0].sum(), rtol=RTOL)
    np.testing.assert_allclose(worked.level_impacts.loc["R1", ("VA", "consumption")], d[:2, 1].sum(), rtol=RTOL)
    assert worked.level_emissions is None  # t1 has no satellite
    assert any("level emissions" in n for n in worked.notes)
    b = worked.bloc_summary(["R1", "R2"])
    np.testing.assert_allclose(b.loc[("IE", "internal"), "total"], 9.6657100916, rtol=RTOL)
    np.testing.assert_allclose(b.loc[("leakage", "internal"), "total"], 9.6657100916, rtol=RTOL)
    assert b.loc[("net_output", "internal")].abs().max() <= 1e-12
    b1 = worked.bloc_summary(["R2"])
    np.testing.assert_allclose(b1.loc[("IE", "external"), "consumption"], 17.5558013234, rtol=RTOL)
    np.testing.assert_allclose(b1.loc[("net_output", "total"), "total"], 19.5915871003, rtol=RTOL)


# ---------------------------------------------------------------------------------------------- deflation
P = np.array([1.2, 1.1, 1.3, 1.05])


def test_pure_inflation_deflated_delta_is_zero():
    t0 = _t0()
    infl = MRIOTable.from_arrays(P[:, None] * Z0, P[:, None] * Y0, exports=P * E0, **LABELS)
    nominal = industrial_transfer(t0, infl, coefficients=S_87)
    np.testing.assert_allclose(nominal.delta_x["consumption"]["R1"],
                               [8.6290402224, 5.6316838497, 7.6472401241, 0.4874378322], rtol=RTOL)
    assert np.abs(nominal.delta_x["total"].to_numpy()).max() > 1.0
    for defl in (P, {"t1": P}, {"t0": 1.0, "t1": pd.Series(P, index=t0.index)}):
        r = industrial_transfer(t0, infl, coefficients=S_87, deflator=defl)
        for v in VARIANTS:
            assert np.abs(r.delta_x[v].to_numpy()).max() <= 1e-12
            assert np.abs(r.net_output[v]).max() <= 1e-12
            assert np.abs(r.leakage_by_variant[v].to_numpy()).max() <= 1e-12
        assert "deflated" in r.price_basis
    # the same inflation on a common base: deflate t0 by p0 and t1 by p0*p -> still zero
    p0 = np.array([0.9, 1.0, 0.8, 1.1])
    t0b = MRIOTable.from_arrays(p0[:, None] * Z0, p0[:, None] * Y0, exports=p0 * E0, **LABELS)
    t1b = MRIOTable.from_arrays((p0 * P)[:, None] * Z0, (p0 * P)[:, None] * Y0, exports=p0 * P * E0, **LABELS)
    r = industrial_transfer(t0b, t1b, coefficients=S_87, deflator={"t0": p0, "t1": p0 * P})
    assert np.abs(r.delta_x["total"].to_numpy()).max() <= 1e-12


def test_price_index_forms():
    t = _t0()
    np.testing.assert_array_equal(price_index(None, t), np.ones(4))
    np.testing.assert_array_equal(price_index(2.0, t), np.full(4, 2.0))
    np.testing.assert_array_equal(price_index([1.5, 2.0], t), [1.5, 2.0, 1.5, 2.0])  # per sector
    np.testing.assert_array_equal(price_index(pd.Series({"S": 2.0, "M": 1.5}), t), [1.5, 2.0, 1.5, 2.0])
    with pytest.raises(ShapeError):
        price_index([1, 2, 3], t)
    with pytest.raises(OptionError, match="R1|S"):
        price_index([1.0, -1.0], t)
    with pytest.raises(LabelError, match="S"):
        price_index(pd.Series({"M": 1.0}), t)
    with pytest.raises(OptionError):
        industrial_transfer(_t0(), _t1(), coefficients=S_87, deflator={"t2": 1.0})


# ---------------------------------------------------------------------------------------------- errors and options
def test_label_mismatch_names_the_labels():
    t1 = MRIOTable.from_arrays(Z1, Y1, exports=E1, regions=["R1", "R2"], sectors=["M", "Serv"],
                               fd_categories=["FD"], monetary_unit="MU")
    with pytest.raises(LabelError) as exc:
        industrial_transfer(_t0(), t1, coefficients=S_87)
    msg = str(exc.value)
    assert "sector" in msg and "'S'" in msg and "'Serv'" in msg
    t1 = MRIOTable.from_arrays(Z1, Y1, exports=E1, regions=["R2", "R1"], sectors=["M", "S"],
                               fd_categories=["FD"], monetary_unit="MU")
    with pytest.raises(LabelError, match="region.*different order"):
        industrial_transfer(_t0(), t1, coefficients=S_87)
    t1 = MRIOTable.from_arrays(Z1, Y1, exports=E1, regions=["R1", "R2"], sectors=["M", "S"],
                               fd_categories=["HH"], monetary_unit="MU")
    with pytest.raises(LabelError, match="final-demand category.*'FD'.*'HH'"):
        industrial_transfer(_t0(), t1, coefficients=S_87)
    t1 = MRIOTable.from_arrays(Z1, Y1, exports=E1, regions=["R1", "R2"], sectors=["M", "S"],
                               fd_categories=["FD"], monetary_unit="kMU")
    with pytest.raises(TableError, match="monetary units"):
        industrial_transfer(_t0(), t1, coefficients=S_87)


def test_options_are_checked():
    with pytest.raises(OptionError):
        industrial_transfer(_t0(), _t1(), coefficients_year="2007")
    with pytest.raises(OptionError):
        industrial_transfer(_t0(), _t1(), coefficients=S_87, positive_part_level="sector")
    with pytest.raises(ShapeError):
        industrial_transfer(_t0(), _t1(), coefficients=[1.0, 2.0])
    with pytest.raises(OptionError, match="unknown satellite"):
        industrial_transfer(_t0(), _t1(), satellite="NOx", coefficients_year="t0")
    r = industrial_transfer(_t0(), _t1(), coefficients=S_87)
    with pytest.raises(OptionError, match="unknown region"):
        r.leakage_sum("R3", ["R1"])
    with pytest.raises(OptionError, match="variant"):
        r.leakage_sum("R1", ["R2"], variant="net")


def test_no_exports_and_no_carbon():
    t0 = MRIOTable.from_arrays(Z0, Y0 + np.column_stack([E0, 0 * E0]), **LABELS)
    t1 = MRIOTable.from_arrays(Z1, Y1 + np.column_stack([E1, 0 * E1]), **LABELS)
    r = industrial_transfer(t0, t1)
    assert np.abs(r.delta_x["export"].to_numpy()).max() == 0.0
    assert any("no exports" in n for n in r.notes)
    assert not r.has_carbon and r.net_carbon is None and r.leakage is None
    assert any("no carbon coefficients" in n for n in r.notes)
    np.testing.assert_allclose(r.net_output["total"], r.net_output["consumption"], rtol=RTOL)
    with pytest.raises(OptionError, match="coefficients"):
        r.leakage_sum("R1", ["R2"])


def test_chain_telescopes():
    mid = MRIOTable.from_arrays((Z0 + Z1) / 2, (Y0 + Y1) / 2 + 1.0, exports=(E0 + E1) / 2, **LABELS)
    res = industrial_transfer_chain([_t0(), mid, _t1()], coefficients=S_87, years=["2002", "2005", "2007"])
    assert len(res) == 2 and res[0].years == ("2002", "2005") and res[1].years == ("2005", "2007")
    direct = industrial_transfer(_t0(), _t1(), coefficients=S_87)
    for v in VARIANTS:
        np.testing.assert_allclose(res[0].delta_x[v] + res[1].delta_x[v], direct.delta_x[v], rtol=RTOL, atol=1e-12)
        np.testing.assert_allclose(res[0].net_carbon[v] + res[1].net_carbon[v], direct.net_carbon[v],
                                   rtol=RTOL, atol=1e-12)
    same = industrial_transfer(chain=[_t0(), mid, _t1()], coefficients=S_87)
    assert isinstance(same, list) and len(same) == 2
    # chain deflators on a common base
    infl = MRIOTable.from_arrays(P[:, None] * Z0, P[:, None] * Y0, exports=P * E0, **LABELS)
    d = industrial_transfer_chain([_t0(), infl, _t0()], coefficients=S_87, deflator={1: P})
    assert all(np.abs(r.delta_x["total"].to_numpy()).max() <= 1e-12 for r in d)
    with pytest.raises(OptionError):
        industrial_transfer_chain([_t0()])


# ---------------------------------------------------------------------------------------------- [XWL14] Table 2 fixture
XWL_REGIONS = ["NE", "JJ", "NC", "EC", "SC", "CE", "NW", "SW"]
XWL_TABLE2 = """
01 0.079 0.120 0.053 0.072 0.056 0.056 0.075 0.071
02 0.189 0.037 0.268 0.290 0.038 0.306 0.124 0.553
03 0.056 0.037 0.022 0.011 0.021 0.028 0.056 0.021
04 0.038 0.059 0.033 0.016 0.030 0.023 0.031 0.036
05 0.042 0.032 0.015 0.008 0.007 0.015 0.026 0.017
06 0.187 0.061 0.083 0.051 0.070 0.110 0.170 0.123
07 0.367 0.161 0.315 0.168 0.185 0.623 0.654 0.491
08 0.379 0.417 0.144 0.161 0.287 0.288 0.493 0.987
09 0.692 0.380 0.240 0.163 0.117 0.350 0.431 0.272
10 0.047 0.020 0.025 0.008 0.010 0.026 0.028 0.015
11 0.015 0.013 0.015 0.003 0.004 0.041 0.013 0.016
12 0.007 0.002 0.013 0.001 0.001 0.006 0.018 0.002
13 0.054 0.031 0.019 0.003 0.026 0.013 0.749 0.022
14 3.056 1.252 3.318 1.833 1.079 2.889 4.215 1.940
15 0.028 0.023 0.077 0.024 0.013 0.030 0.035 0.025
16 0.249 0.147 0.168 0.145 0.172 0.196 0.321 0.258
17 0.035 0.023 0.020 0.008 0.008 0.008 0.035 0.023
"""


def _xwl_table2() -> pd.DataFrame:
    rows = [line.split() for line in XWL_TABLE2.strip().splitlines()]
    return pd.DataFrame([[float(v) for v in r[1:]] for r in rows], index=pd.Index([r[0] for r in rows], name="sector"),
                        columns=pd.Index(XWL_REGIONS, name="region"))


def test_xwl14_table2_leakage_constructed_case():
    """A = 0 so L = I and ΔX_c = ΔY_reg: the demand changes below fix N_i^{J←K}, hence Λ by hand."""
    S2 = _xwl_table2()
    sectors = list(S2.index)
    m, n = 8, 17
    N = m * n
    r, s = XWL_REGIONS.index, sectors.index
    Y0 = np.full((N, m), 1000.0)
    Y1 = Y0.copy()
    dY = [("EC", "09", "CE", 100.0),   # EC's demand for CE's metal: N_09^{CE←EC} = 100
          ("EC", "14", "NW", 50.0),    # EC's demand for NW's electricity: N_14^{NW←EC} = 50
          ("NE", "07", "EC", 40.0),    # NE's demand for EC's chemicals
          ("EC", "07", "NE", 10.0),    # EC's demand for NE's chemicals -> N_07^{EC←NE} = 40 − 10 = 30
          ("NE", "01", "EC", -5.0),    # N_01^{EC←NE} = −5
          ("CE", "08", "SW", 20.0),    # N_08^{SW←CE} = 20 (no EC)
          ("EC", "14", "EC", 500.0)]   # domestic: no transfer, no leakage
    for demander, sec, producer, val in dY:
        Y1[r(producer) * n + s(sec), r(demander)] += val
    ex0 = np.full(N, 10.0)
    ex1 = ex0.copy()
    ex1[r("CE") * n + s("08")] += 30.0  # export growth: with A = 0 it stays in CE (no pair transfer)
    kw = dict(regions=XWL_REGIONS, sectors=sectors, fd_categories=["FD"], monetary_unit="1e8 CNY")
    t0 = MRIOTable.from_arrays(np.zeros((N, N)), Y0, exports=ex0, name="2002", **kw)
    t1 = MRIOTable.from_arrays(np.zeros((N, N)), Y1, exports=ex1, name="2007", **kw)
    S_series = S2.T.stack()  # (region, sector)
    res = industrial_transfer(t0, t1, coefficients=(S_series, "t CO2 per 1e4 CNY"), carbon_unit="1e4 t CO2",
                              bloc=["EC", "CE"])
    assert res.years == ("2002", "2007")
    assert res.coefficients_unit == "t CO2 per 1e4 CNY" and res.carbon_unit == "1e4 t CO2"
    assert res.monetary_unit == "1e8 CNY"
    pd.testing.assert_frame_equal(res.coefficients_by_sector(), S2, check_names=False)
    top = res.top_coefficients(3)
    assert set(top.index[top["NW"]]) == {"14", "13", "07"}
    assert set(top.index[top["SW"]]) == {"14", "08", "02"}
    assert int(top.to_numpy().sum()) == 3 * m

    lam_ce = 100 * (0.350 - 0.163)
    lam_nw = 50 * (4.215 - 1.833)
    lam_ne = 30 * (0.168 - 0.367) + (-5) * (0.072 - 0.079)
    lam_sw = 20 * (0.987 - 0.288)
    L = res.leakage
    np.testing.assert_allclose(L.loc["CE", "EC"], lam_ce, rtol=RTOL)
    np.testing.assert_allclose(L.loc["EC", "NW"], lam_nw, rtol=RTOL)
    np.testing.assert_allclose(L.loc["NE", "EC"], lam_ne, rtol=RTOL)
    np.testing.assert_allclose(L.loc["SW", "CE"], lam_sw, rtol=RTOL)
    np.testing.assert_allclose(L.to_numpy(), L.to_numpy().T, rtol=0, atol=1e-12)
    np.testing.assert_allclose(res.leakage_by_sector["total"].loc[("NW", "14"), "EC"], lam_nw, rtol=RTOL)
    np.testing.assert_allclose(res.leakage_sum("EC", ["CE", "NW", "NE"]), lam_ce + lam_nw + lam_ne, rtol=RTOL)
    np.testing.assert_allclose(res.leakage_sum("EC", ["CE", "NW", "NE"]), 131.865, rtol=RTOL)
    np.testing.assert_allclose(res.leakage_sum("CE", ["NW", "NE", "SW"]), lam_sw, rtol=RTOL)
    # everything above is consumption-driven; exports only grew inside CE
    assert np.abs(res.leakage_by_variant["export"].to_numpy()).max() <= 1e-12
    np.testing.assert_allclose(res.leakage_by_variant["consumption"].to_numpy(), L.to_numpy(), rtol=RTOL, atol=1e-12)
    np.testing.assert_allclose(res.impact_emissions["total"].sum(), lam_ce + lam_nw + lam_ne + lam_sw, rtol=RTOL)
    # net transfers and carbon by hand
    np.testing.assert_allclose(res.net_output.loc["EC", "total"], -100 - 50 + 30 - 5, rtol=RTOL)
    np.testing.assert_allclose(res.pairwise_net["total"].loc["EC", "NE"], 25.0, rtol=RTOL)
    nc_ec = -0.350 * 100 - 4.215 * 50 + (0.168 * 40 - 0.367 * 10) + (0.072 * -5)
    np.testing.assert_allclose(res.net_carbon.loc["EC", "total"], nc_ec, rtol=RTOL)
    np.testing.assert_allclose(res.net_output_by_sector.loc[("EC", "14"), "total"], -50.0, rtol=RTOL)
    # Table 4 shares, both positive-part levels
    ind = res.transfer_in_share[("industry", "total")]
    np.testing.assert_allclose(ind[["CE", "NW", "EC", "SW", "NE"]], np.array([100, 50, 25, 20, 0]) / 195, rtol=RTOL)
    ps = industrial_transfer(t0, t1, coefficients=S_series, positive_part_level="pair_sector")
    ind = ps.transfer_in[("industry", "total")]
    np.testing.assert_allclose(ind[["CE", "NW", "EC", "SW", "NE"]], [100, 50, 30, 20, 5], rtol=RTOL)
    assert ps.coefficients_unit == "" and ps.carbon_unit == ""  # no unit given: none invented
    # bloc EC + CE: internal IE = internal leakage = Λ^{CE,EC}
    b = res.bloc_effects
    np.testing.assert_allclose(b.loc[("IE", "internal"), "total"], lam_ce, rtol=RTOL)
    np.testing.assert_allclose(b.loc[("leakage", "internal"), "total"], lam_ce, rtol=RTOL)
    np.testing.assert_allclose(b.loc[("IE", "total"), "total"],
                               res.impact_emissions.loc[["EC", "CE"], "total"].sum(), rtol=RTOL)


# ---------------------------------------------------------------------------------------------- properties (§7.1-5)
def _random_table(rng, m, n, K, with_other, regions, sectors, cats, scale=1.0):
    N = m * n
    A = rng.uniform(0, 1, (N, N)) * (rng.uniform(size=(N, N)) < 0.7)
    colsum = A.sum(axis=0)
    A = A * np.where(colsum > 0, rng.uniform(0.05, 0.8, N) / np.where(colsum > 0, colsum, 1), 0)
    Y = rng.uniform(0.1, 10, (N, m * K)) * scale
    ex = rng.uniform(0.0, 5, N) * scale
    oth = rng.uniform(-0.5, 1.0, N) * scale if with_other else None
    y = Y.sum(axis=1) + ex + (oth if with_other else 0)
    x = np.linalg.solve(np.eye(N) - A, y)
    g = rng.uniform(0, 10, N)
    return MRIOTable.from_arrays(A * x[None, :], Y, exports=ex, other=oth, regions=regions, sectors=sectors,
                                 fd_categories=cats, satellites={"CO2": (g, "kt")}, monetary_unit="M$")


@st.composite
def two_years(draw):
    m = draw(st.integers(2, 5))
    n = draw(st.integers(1, 6))
    K = draw(st.integers(1, 2))
    with_other = draw(st.booleans())
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    labs = dict(regions=[f"r{i}" for i in range(m)], sectors=[f"s{i}" for i in range(n)],
                cats=[f"c{i}" for i in range(K)])
    t0 = _random_table(rng, m, n, K, with_other, **labs)
    t1 = _random_table(rng, m, n, K, with_other, **labs, scale=1.5)
    return t0, t1, rng


def _reference(t0, t1, S):
    """Independent reference by explicit inverses and loops over regions, sectors and partners."""
    m, n = t0.m, t0.n
    out = {}
    for y, t in (("t0", t0), ("t1", t1)):
        L = np.linalg.inv(np.eye(t.N) - t.Z / t.x[None, :])
        Eb = np.zeros((t.N, m))
        for k in range(t.N):
            Eb[k, k // n] = t.exports[k]
        out[y] = {"consumption": L @ t.Y_reg, "export": L @ Eb}
    dX = {v: out["t1"][v] - out["t0"][v] for v in ("consumption", "export")}
    NX = {v: np.zeros(m) for v in dX}
    NC = {v: np.zeros(m) for v in dX}
    LAM = {v: np.zeros((m, m)) for v in dX}
    for v, D in dX.items():
        for J in range(m):
            for K in range(m):
                if J == K:
                    continue
                for i in range(n):
                    Nij = D[J * n + i, K] - D[K * n + i, J]
                    NX[v][J] += Nij
                    NC[v][J] += S[J * n + i] * D[J * n + i, K] - S[K * n + i] * D[K * n + i, J]
                    LAM[v][J, K] += Nij * (S[J * n + i] - S[K * n + i])
    return dX, NX, NC, LAM


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(two_years())
def test_transfer_identities(data):
    t0, t1, rng = data
    m, n = t0.m, t0.n
    res = industrial_transfer(t0, t1, bloc=[t0.regions[0], t0.regions[-1]])
    S = res.carbon_coefficients.to_numpy()
    np.testing.assert_allclose(S, t1.satellites["CO2"].values / t1.x, rtol=RTOL)
    scale = max(t0.x.max(), t1.x.max())
    atol = 1e-9 * scale
    catol = 1e-9 * scale * max(1.0, S.max())
    dX, NX, NC, LAM = _reference(t0, t1, S)
    for v in ("consumption", "export"):
        np.testing.assert_allclose(res.delta_x[v].to_numpy(), dX[v], rtol=RTOL, atol=atol)
        np.testing.assert_allclose(res.net_output[v], NX[v], rtol=RTOL, atol=atol)
        np.testing.assert_allclose(res.net_carbon[v], NC[v], rtol=RTOL, atol=catol)
        np.testing.assert_allclose(res.leakage_by_variant[v].to_numpy(), LAM[v], rtol=RTOL, atol=catol)
    # total = cons + exp (+ L O_blk when an "other" column exists)
    oth = np.zeros((t0.N, m))
    if t0.other is not None:
        for y, t, sign in (("t0", t0, -1), ("t1", t1, 1)):
            Ob = np.zeros((t.N, m))
            Ob[np.arange(t.N), np.arange(t.N) // n] = t.other
            oth += sign * np.linalg.solve(np.eye(t.N) - t.Z / t.x[None, :], Ob)
    np.testing.assert_allclose(res.delta_x["total"].to_numpy(), dX["consumption"] + dX["export"] + oth,
                               rtol=RTOL, atol=atol)
    for v in VARIANTS:
        assert abs(res.net_output[v].sum()) <= atol * m
        assert abs(res.net_carbon[v].sum()) <= catol * m
        Lv = res.leakage_by_variant[v].to_numpy()
        np.testing.assert_allclose(Lv, Lv.T, rtol=0, atol=catol)
        np.testing.assert_allclose(res.impact_emissions[v].sum(), np.triu(Lv, 1).sum(), rtol=1e-8, atol=catol * m)
        pn = res.pairwise_net[v].to_numpy()
        np.testing.assert_allclose(pn, -pn.T, rtol=0, atol=atol)
        np.testing.assert_allclose(res.net_output_by_sector[v].groupby(level="region", sort=False).sum(),
                                   res.net_output[v], rtol=RTOL, atol=atol)
        shares = res.transfer_in_share.xs(v, axis=1, level="variant").sum(axis=0)
        assert all(abs(s - 1) <= 1e-12 or s == 0 for s in shares)
        # bloc: internal IE = Σ of Λ over pairs inside the bloc; internal + external = Σ_{J∈B} IE^J
        b = res.bloc_effects
        np.testing.assert_allclose(b.loc[("IE", "internal"), v], Lv[0, m - 1], rtol=1e-8, atol=catol)
        np.testing.assert_allclose(b.loc[("IE", "total"), v],
                                   res.impact_emissions[v].iloc[[0, m - 1]].sum(), rtol=1e-8, atol=catol)
    np.testing.assert_allclose(res.net_output["total"].to_numpy(),
                               (res.net_output["consumption"] + res.net_output["export"]).to_numpy()
                               + (oth.reshape(m, n, m).sum(axis=1) - oth.reshape(m, n, m).sum(axis=1).T).sum(axis=1),
                               rtol=RTOL, atol=atol)
    # Table 5: drivers add up to S ∘ x for balanced tables
    for y, t in (("t0", t0), ("t1", t1)):
        np.testing.assert_allclose(res.emissions_by_driver[(y, "total")], (S * t.x).reshape(m, n).sum(axis=1),
                                   rtol=1e-8, atol=catol)
    # equal coefficients across regions => no leakage
    s_same = np.tile(rng.uniform(0.1, 2.0, n), m)
    r_same = industrial_transfer(t0, t1, coefficients=s_same)
    for v in VARIANTS:
        assert np.abs(r_same.leakage_by_variant[v].to_numpy()).max() <= catol
    # identical tables => every change is zero
    r_id = industrial_transfer(t0, t0)
    for v in VARIANTS:
        assert np.abs(r_id.delta_x[v].to_numpy()).max() <= 1e-12 * scale
        assert np.abs(r_id.net_carbon[v]).max() <= 1e-12 * scale
        assert np.abs(r_id.level_va[v].to_numpy()).max() <= 1e-12 * scale


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(two_years())
def test_deflation_invariances(data):
    t0, t1, rng = data
    m, n = t0.m, t0.n
    scale = max(t0.x.max(), t1.x.max())
    nominal = industrial_transfer(t0, t1, coefficients_year="t1")
    S = nominal.carbon_coefficients.to_numpy()
    catol = 1e-9 * scale * max(1.0, S.max())
    # one per-sector price index for both years: carbon measures unchanged, output measures / p_i
    ps = rng.uniform(0.5, 2.0, n)
    common = industrial_transfer(t0, t1, coefficients_year="t1", deflator={"t0": ps, "t1": ps})
    p_full = np.tile(ps, m)
    for v in VARIANTS:
        np.testing.assert_allclose(common.net_carbon[v], nominal.net_carbon[v], rtol=1e-8, atol=catol)
        np.testing.assert_allclose(common.leakage_by_variant[v].to_numpy(),
                                   nominal.leakage_by_variant[v].to_numpy(), rtol=1e-8, atol=catol)
        np.testing.assert_allclose(common.impact_emissions[v], nominal.impact_emissions[v], rtol=1e-8, atol=catol)
        np.testing.assert_allclose(common.net_output_by_sector[v], nominal.net_output_by_sector[v] / p_full,
                                   rtol=1e-8, atol=1e-9 * scale)
    # scalar deflator c for both years: outputs and IVA scale by 1/c
    c = float(rng.uniform(0.5, 2.0))
    sc = industrial_transfer(t0, t1, deflator={"t0": c, "t1": c})
    np.testing.assert_allclose(sc.net_output.to_numpy(), nominal.net_output.to_numpy() / c, rtol=1e-8,
                               atol=1e-9 * scale)
    np.testing.assert_allclose(sc.impact_va.to_numpy(), nominal.impact_va.to_numpy() / c, rtol=1e-8,
                               atol=1e-9 * scale)
    # arbitrary region-sector deflators: the t1 emissions by driver (own-year S) and the level
    # emissions variant (e(t) of each year) are invariant
    p0 = rng.uniform(0.5, 2.0, m * n)
    p1 = rng.uniform(0.5, 2.0, m * n)
    d = industrial_transfer(t0, t1, coefficients_year="t1", deflator={"t0": p0, "t1": p1})
    np.testing.assert_allclose(d.emissions_by_driver.xs("t1", axis=1, level="year").to_numpy(),
                               nominal.emissions_by_driver.xs("t1", axis=1, level="year").to_numpy(),
                               rtol=1e-8, atol=catol)
    for v in VARIANTS:
        np.testing.assert_allclose(d.level_emissions[v].to_numpy(), nominal.level_emissions[v].to_numpy(),
                                   rtol=1e-8, atol=catol)


@pytest.mark.parametrize("variant", VARIANTS)
def test_impacts_by_sector_group_add_up(variant):
    """IE and IVA split by a sector concordance (METHODS §6.2): each group is Σ_{i in group} S_i^J Σ_K N_i^{J←K}
    computed directly from the pairwise net transfer, and the groups sum to impact_emissions / impact_va."""
    rng = np.random.default_rng(7)
    labs = dict(regions=["a", "b", "c"], sectors=["s0", "s1", "s2", "s3"], cats=["hh"])
    t0 = _random_table(rng, 3, 4, 1, False, **labs)
    t1 = _random_table(rng, 3, 4, 1, False, **labs, scale=1.5)
    res = industrial_transfer(t0, t1)
    groups = {"s0": "services", "s1": "manufacturing", "s2": "services", "s3": "manufacturing"}
    g = res.impacts_by_group(groups, variant)
    assert list(g.columns) == [("IE", "services"), ("IE", "manufacturing"), ("IVA", "services"), ("IVA", "manufacturing")]
    np.testing.assert_allclose(g["IE"].sum(axis=1), res.impact_emissions[variant], rtol=1e-10, atol=1e-9)
    np.testing.assert_allclose(g["IVA"].sum(axis=1), res.impact_va[variant], rtol=1e-10, atol=1e-9)
    Nsec = res.pairwise_net_by_sector[variant]
    S = res.carbon_coefficients
    for r in labs["regions"]:
        direct = sum(S[(r, sec)] * Nsec.loc[(r, sec)].sum() for sec in ("s0", "s2"))
        assert g.loc[r, ("IE", "services")] == pytest.approx(direct, rel=1e-10, abs=1e-9)
    with pytest.raises(LabelError, match="s3"):
        res.impacts_by_group({"s0": "x", "s1": "x", "s2": "x"}, variant)
