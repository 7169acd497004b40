"""METHODS.md §8.1–8.4: every listed number of the worked example, rtol 1e-9."""
from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from numpy.testing import assert_allclose

import xlmrio
from conftest import X0

RT = 1e-9


def test_balance_8_1(t0):
    rep = t0.validate()
    assert rep.ok and not rep.warnings
    assert t0.y.sum() == pytest.approx(256) and t0.V.sum() == pytest.approx(256)


def test_coefficients_inverse_multipliers_8_2(t0):
    r = xlmrio.leontief(t0)
    A = np.array([[0.10, 0.10, 0.10, 1 / 15], [0.06, 0.05, 1 / 60, 0.05],
                  [0.08, 0.05, 1 / 6, 0.10], [0.02, 0.075, 1 / 30, 1 / 12]])
    assert_allclose(r.A.to_numpy(), A, rtol=RT)
    L = np.array([[1.1352059795, 0.1353635525, 0.1431544185, 0.1055607470],
                  [0.0756174865, 1.0676514906, 0.0331210560, 0.0673481955],
                  [0.1177452224, 0.0882759977, 1.2217614029, 0.1466614055],
                  [0.0352366602, 0.0935167267, 0.0502609611, 1.1040556834]])
    assert_allclose(r.L.to_numpy(), L, rtol=1e-9, atol=5e-11)
    # exact rationals from the spec
    assert r.L.iloc[0, 0] == pytest.approx(float(Fraction(2586350, 2278309)), rel=1e-13)
    assert r.L.iloc[2, 2] == pytest.approx(float(Fraction(253050, 207119)), rel=1e-13)
    assert_allclose(r.multipliers["total"], [1.3638053486, 1.3848077675, 1.4482978384, 1.4236260314], rtol=RT)
    assert_allclose(r.multipliers["own_region"], [1.2108234660, 1.2030150432, 1.2720223640, 1.2507170889],
                    rtol=RT)
    assert_allclose(r.intensities["CO2"], [0.5, 0.1, 1.0, 0.1], rtol=RT)
    mu = [Fraction(1586691, 2278309), Fraction(619870, 2278309), Fraction(269602, 207119),
          Fraction(721272, 2278309)]
    assert_allclose(r.emission_multipliers["CO2"], [float(f) for f in mu], rtol=1e-12)
    assert_allclose(r.va_coefficients, [0.74, 0.725, 0.6833333333333333, 0.70], rtol=RT)
    assert r.checks["max_abs_vL_minus_1"] < 1e-12
    assert r.checks["max_abs_IA_L_minus_I"] < 1e-12
    assert r.checks["min_diag_L"] >= 1 and r.checks["min_L"] >= 0
    assert r.units["CO2"] == "t per MU"


def test_accounts_8_3(t0):
    a = xlmrio.accounts(t0, "CO2")
    Mx = np.array([[21.5726005559, 14.7558562074, 13.6715432367],
                   [5.6316838497, 1.0562482964, 1.3120678538],
                   [25.4908004138, 66.2496614814, 28.2595381048],
                   [0.9748756644, 4.3189900931, 0.7061342425]])
    assert_allclose(a.Mx.to_numpy(), Mx, rtol=RT)
    assert list(a.Mx.columns) == ["R1", "R2", "EXP"]
    T = np.array([[27.2042844057, 15.8121045038, 14.9836110905],
                  [26.4656760782, 70.5686515745, 28.9656723473]])
    assert_allclose(a.driver.to_numpy(), T, rtol=RT)
    assert_allclose(a.pba, [58, 126], rtol=RT)
    assert_allclose(a.cba[["R1", "R2"]], [53.6699604839, 86.3807560783], rtol=RT)
    assert a.cba["EXP"] == pytest.approx(43.9492834378, rel=RT)
    assert a.closure["sum_pba"] == pytest.approx(184) and a.closure["sum_cba"] == pytest.approx(184)
    assert a.basis == "total"
    assert_allclose(a.nei, [4.3300395161, 39.6192439217], rtol=RT)
    assert a.nei.sum() == pytest.approx(a.cba["EXP"], rel=RT)
    assert_allclose(a.nei_domestic, [-10.6535715744, 10.6535715744], rtol=RT)
    assert list(a.summary()["orientation"]) == ["production", "production"]
    dom = xlmrio.accounts(t0, basis="domestic")
    assert dom.basis == "domestic"
    assert list(dom.summary()["orientation"]) == ["consumption", "production"]
    assert_allclose(a.cba_product.to_numpy(), [[39.1164841995, 73.6234250929, 39.9622088136],
                                               [14.5534762844, 12.7573309854, 3.9870746242]], rtol=RT)
    assert_allclose(a.cba_final_producer, [45.9646193734, 17.6848487189, 106.7374987326, 13.6130331750],
                    rtol=RT)
    assert a.cba_final_producer.sum() == pytest.approx(184, rel=RT)


def test_flows_8_4(t0):
    F = xlmrio.embodied_flows(t0, "CO2")
    Fx = np.array([[6.7602989761, 5.4145421012, 8.5892651085, 3.1668224108],
                   [0.7561748648, 0.5412119252, 0.3974526721, 0.4040891732],
                   [11.7745222443, 7.0620798145, 26.6113683438, 8.7996843273],
                   [0.3523666017, 0.7481338133, 0.6031315331, 0.6243341004]])
    assert_allclose(F.to_numpy(), Fx, rtol=RT)
    assert_allclose(F.sum(axis=1), [23.9309285966, 2.0989286352, 54.2476547299, 2.3279660485], rtol=RT)
    assert_allclose(F.sum(axis=0), [19.6433626870, 13.7659676541, 36.2012176575, 12.9949300117], rtol=RT)
    assert F.to_numpy().sum() == pytest.approx(82.6054780102, rel=RT)
    # F = ê L Z computed the slow way agrees
    L = xlmrio.leontief(t0).L.to_numpy()
    e = np.array([0.5, 0.1, 1.0, 0.1])
    assert_allclose(F.to_numpy(), np.diag(e) @ L @ t0.Z, rtol=1e-12)
    Freg = xlmrio.aggregate_flows(F, "region")
    assert_allclose(Freg.to_numpy(), [[13.4722278672, 12.5576293646], [19.9371024738, 36.6385183046]], rtol=RT)
    Fsec = xlmrio.aggregate_flows(F, "sector")
    assert_allclose(Fsec.to_numpy(), [[53.7354546727, 24.4431286538], [2.1091256717, 2.3177690120]], rtol=RT)
    assert xlmrio.net_inflow_from_flows(Freg)["R1"] == pytest.approx(-7.3794731092, rel=RT)


def test_embodied_intensity_kind(t0):
    F = xlmrio.embodied_flows(t0, kind="embodied")
    FE = xlmrio.embodied_flows(t0, kind="embodied_intensity")
    assert_allclose(FE.sum(axis=0), F.sum(axis=0), rtol=1e-12)
    mu = xlmrio.accounts(t0).mu.to_numpy()
    assert_allclose(FE.sum(axis=1), mu * (X0 - t0.y), rtol=1e-12)


def test_top_flows_8_4(t0):
    F = xlmrio.embodied_flows(t0)
    allf = xlmrio.top_flows(F, top_k=None)
    assert allf.attrs["total"] == pytest.approx(32.4947318384, rel=RT)
    first = allf.head(4)
    assert list(zip(first.source_region, first.source_sector, first.target_region, first.target_sector)) == [
        ("R2", "M", "R1", "M"), ("R1", "M", "R2", "M"), ("R2", "M", "R1", "S"), ("R1", "M", "R2", "S")]
    assert_allclose(first.value, [11.7745222443, 8.5892651085, 7.0620798145, 3.1668224108], rtol=RT)
    assert_allclose(first.cum_share, [0.3624, 0.6267, 0.8440, 0.9415], atol=5e-5)
    assert len(xlmrio.top_flows(F, cum_share=0.8)) == 3
    assert len(xlmrio.top_flows(F, top_k=3)) == 3
    thr = xlmrio.top_flows(F, threshold=5.0)
    assert list(thr.value.round(6)) == [11.774522, 8.589265, 7.06208]
    focus = xlmrio.top_flows(F, target_sectors=["S"], top_k=None)
    assert set(focus.target_sector) == {"S"}
    intra = xlmrio.top_flows(F, exclude_intra_region=False, top_k=None)
    assert len(intra) == 12  # 16 cells minus 4 diagonal


def test_intensity_and_classification_8_4(t0):
    r = xlmrio.efficiency(t0, "CO2")
    assert_allclose(r.regions["intensity"], [29 / 90, 0.7], rtol=RT)
    assert r.focus_intensity == pytest.approx(23 / 45, rel=RT)
    assert_allclose(r.regions["gap"], [-0.3695652174, 0.3695652174], rtol=1e-9)
    fl = r.flows.set_index(["producer", "consumer"])
    assert fl.loc[("R2", "R1"), "class"] == "inefficient"
    assert fl.loc[("R2", "R1"), "value"] == pytest.approx(26.4656760782, rel=RT)
    assert fl.loc[("R1", "R2"), "class"] == "efficient"
    assert r.share_ineff == pytest.approx(0.6259949248, rel=RT)
    assert r.shares.sum() == pytest.approx(1.0)
    s = xlmrio.efficiency(t0, sector="M")
    fl = s.flows.set_index(["producer", "consumer"])
    assert fl.loc[("R2", "R1"), "value"] == pytest.approx(25.4908004138, rel=RT)
    assert fl.loc[("R1", "R2"), "value"] == pytest.approx(14.7558562074, rel=RT)
    assert s.share_ineff == pytest.approx(0.6333644221, rel=RT)


def test_eco_compensation(t0):
    r = xlmrio.efficiency(t0)
    comp = xlmrio.eco_compensation(r, price=50.0)
    # R1 consumes from the less efficient R2: R1 pays R2
    assert comp.loc["R1", "R2"] == pytest.approx(50 * 26.4656760782, rel=RT)
    assert comp.loc["R2", "R1"] == 0
    assert comp.loc["Total", "Total"] == pytest.approx(50 * 26.4656760782, rel=RT)
