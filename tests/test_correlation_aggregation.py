"""Sun et al. (2022) Table 1 correlations (METHODS §7.2), aggregation (§1.5), non-competitive tables (§1.4)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

import xlmrio
from xlmrio import errors
from xlmrio.core.table import MRIOTable
from conftest import random_mrio

# [SWZ22] Table 1 (13 BTH cities, 2017): dens, land avg, land ind, GDP pc, tertiary share, CBA NOx
SWZ22 = pd.DataFrame(
    [[1261, 9080, 1569, 87475, 76.50, 458595.05], [845, 5205, 780, 93173, 47.00, 398765.46],
     [718, 1857, 671, 43330, 73.56, 214572.21], [569, 1465, 519, 76438, 35.64, 176327.90],
     [387, 1697, 364, 37708, 60.71, 41233.93], [769, 1111, 605, 32567, 45.38, 129934.69],
     [580, 1020, 555, 21312, 39.57, 68466.11], [513, 1360, 537, 23970, 32.53, 121274.24],
     [119, 1014, 401, 28075, 45.63, 64157.45], [89, 776, 360, 33708, 39.43, 33289.17],
     [517, 900, 370, 38825, 47.51, 78533.40], [691, 1750, 387, 40419, 55.27, 46822.83],
     [498, 912, 385, 23034, 32.29, 34228.94]],
    index=["BJ", "TJ", "SJZ", "TS", "QHD", "HD", "XT", "BD", "ZJK", "CD", "CZ", "LF", "HS"],
    columns=["density", "land_avg", "land_ind", "gdp_pc", "tertiary", "cba"],
)


def test_swz22_table1_correlations():
    tab = xlmrio.correlation_table(SWZ22.drop(columns="cba"), SWZ22["cba"])
    assert_allclose(tab.loc[["density", "land_avg", "land_ind", "gdp_pc"], "r"], [0.797, 0.906, 0.889, 0.867],
                    atol=5e-4)
    # the corrected tertiary-share value: r = 0.5028, p = 0.080 — not significant (the paper printed 0.506 **)
    assert tab.loc["tertiary", "r"] == pytest.approx(0.5028, abs=5e-4)
    assert tab.loc["tertiary", "p"] == pytest.approx(0.080, abs=5e-3)
    assert tab.loc["tertiary", "flag"] == ""
    assert (tab["n"] == 13).all()
    assert tab.loc["land_avg", "flag"] == "**"
    # BJ + TJ share of the 13 cities' CBA: 45.94 %
    assert (SWZ22.loc[["BJ", "TJ"], "cba"].sum() / SWZ22["cba"].sum()) == pytest.approx(0.4594, abs=5e-5)


def test_aggregate_table_matches_gamma_formulas():
    t = random_mrio(np.random.default_rng(7), 4, 5, K=2, other=True, hh=True)
    smap = {"S0": "A", "S1": "A", "S2": "B", "S3": "C", "S4": "B"}
    rmap = {"R0": "North", "R1": "South", "R2": "North", "R3": "South"}
    ta = xlmrio.aggregate(t, sector_map=smap, region_map=rmap)
    assert ta.regions == ("North", "South") and ta.sectors == ("A", "B", "C")
    C = np.array([[1, 1, 0, 0, 0], [0, 0, 1, 0, 1], [0, 0, 0, 1, 0]], float)
    R = np.array([[1, 0, 1, 0], [0, 1, 0, 1]], float)
    G = np.kron(R, C)
    assert_allclose(ta.Z, G @ t.Z @ G.T)
    assert_allclose(ta.x, G @ t.x)
    assert_allclose(ta.V, t.V @ G.T)
    assert_allclose(ta.Y, G @ t.Y @ np.kron(R, np.eye(t.K)).T)
    assert_allclose(ta.satellites["CO2"].values, G @ t.satellites["CO2"].values)
    assert ta.validate(rtol=1e-9).ok and not ta.validate(rtol=1e-9).warnings
    # results aggregate like tables: F_agg = Γ F Γᵀ, grand total kept
    F = xlmrio.embodied_flows(t)
    Fa = xlmrio.aggregate_result(F, sector_map=smap, region_map=rmap)
    assert_allclose(Fa.to_numpy(), G @ F.to_numpy() @ G.T, rtol=1e-12)
    # accounts are invariant to sector aggregation only for PBA (CBA changes: aggregation bias)
    assert_allclose(xlmrio.accounts(ta).pba.sum(), xlmrio.accounts(t).pba.sum(), rtol=1e-12)


def test_aggregate_errors():
    t = random_mrio(np.random.default_rng(1), 2, 3)
    with pytest.raises(errors.LabelError, match="does not map.*S2"):
        xlmrio.aggregate(t, sector_map={"S0": "A", "S1": "A"})
    with pytest.raises(errors.OptionError):
        xlmrio.aggregate(t)


def test_concordance_from_01_frame():
    C = pd.DataFrame([[1, 1, 0], [0, 0, 1]], index=["A", "B"], columns=["S0", "S1", "S2"])
    mat, new = xlmrio.concordance_matrix(["S0", "S1", "S2"], C)
    assert new == ["A", "B"] and mat.tolist() == [[1, 1, 0], [0, 0, 1]]
    C.iloc[0, 2] = 1
    with pytest.raises(errors.LabelError, match="exactly one group"):
        xlmrio.concordance_matrix(["S0", "S1", "S2"], C)


def test_noncompetitive_conversion():
    rng = np.random.default_rng(3)
    n = 4
    Z = rng.uniform(1, 10, (n, n))
    Y = rng.uniform(5, 20, (n, 2))
    E = rng.uniform(0, 5, n)
    imports = rng.uniform(0, 8, n)
    x = Z.sum(1) + Y.sum(1) + E - imports  # competitive row identity
    t = MRIOTable.from_arrays(Z, Y, regions=["CN"], sectors=[f"S{i}" for i in range(n)],
                              fd_categories=["HH", "GFCF"], x=x, exports=E, V=(x - Z.sum(0))[None, :])
    dom, warns = xlmrio.noncompetitive(t, imports)
    assert not warns
    delta = (x - E) / (x + imports - E)
    assert_allclose(dom.Z, delta[:, None] * Z)
    assert_allclose(dom.Z.sum(1) + dom.Y.sum(1) + E, x, rtol=1e-12)  # exact after conversion
    assert dom.va_rows[-1] == "Imported inputs"
    assert_allclose(dom.V[-1], ((1 - delta)[:, None] * Z).sum(0))
    assert dom.validate(rtol=1e-9).ok and not [f for f in dom.validate(rtol=1e-9).warnings if "balance" in f.what]
