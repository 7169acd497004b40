"""Parity with pymrio (test-only reference): A, L, multipliers, CBA and PBA to rtol 1e-9."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

import xlmrio
from xlmrio.core.table import MRIOTable
from conftest import random_mrio, shared_data

pymrio = pytest.importorskip("pymrio")


def _pymrio_from_arrays(t: MRIOTable):
    """Build the pymrio system independently of xlmrio's to_pymrio (exports as a producer-region category)."""
    idx = pd.MultiIndex.from_product([t.regions, t.sectors], names=["region", "sector"])
    Y = pd.DataFrame(t.Y, index=idx, columns=pd.MultiIndex.from_product([t.regions, t.fd_categories],
                                                                        names=["region", "category"]))
    io = pymrio.IOSystem(Z=pd.DataFrame(t.Z, index=idx, columns=idx), Y=Y)
    F = pd.DataFrame([t.satellite().values], index=pd.Index(["CO2"], name="stressor"), columns=idx)
    io.co2 = pymrio.Extension(name="co2", F=F, unit=pd.DataFrame({"unit": ["t"]}, index=F.index))
    io.calc_all()
    return io


@pytest.mark.parametrize("seed,m,n", [(1, 2, 3), (2, 4, 5), (3, 6, 8), (4, 3, 1)])
def test_random_parity(seed, m, n):
    t = random_mrio(np.random.default_rng(seed), m, n, K=3, exports=False)
    io = _pymrio_from_arrays(t)
    r = xlmrio.leontief(t)
    assert_allclose(r.A.to_numpy(), io.A.to_numpy(), rtol=1e-9, atol=1e-15)
    assert_allclose(r.L.to_numpy(), io.L.to_numpy(), rtol=1e-9, atol=1e-13)
    assert_allclose(r.emission_multipliers["CO2"], io.co2.M.to_numpy().ravel(), rtol=1e-9)
    assert_allclose(r.multipliers["total"], io.L.to_numpy().sum(axis=0), rtol=1e-9)
    a = xlmrio.accounts(t)
    assert_allclose(a.cba[list(t.regions)], io.co2.D_cba_reg.to_numpy().ravel(), rtol=1e-9)
    assert_allclose(a.pba, io.co2.D_pba_reg.to_numpy().ravel(), rtol=1e-9)
    # pymrio's D_cba (consumer region, product) is attribution (a)
    dcba = io.co2.D_cba.iloc[0].unstack("sector").loc[list(t.regions), list(t.sectors)].T
    assert_allclose(a.cba_product[list(t.regions)].to_numpy(), dcba.to_numpy(), rtol=1e-9, atol=1e-12)


def test_pymrio_test_mrio_parity():
    """pymrio's own artificial test MRIO (../shared/data/pymrio_test_mrio), x = Z1 + Y1 (METHODS §7.1-8)."""
    shared_data("pymrio_test_mrio")  # the reference files; pymrio ships the same copy
    io = pymrio.load_test()
    io.calc_all()
    t = MRIOTable.from_pymrio(io)
    assert t.m == 6 and t.n == 8
    # pymrio computes x = Z1 + Y1 for this unbalanced system
    assert_allclose(t.x, io.x.to_numpy().ravel(), rtol=1e-12)
    r = xlmrio.leontief(t)
    assert_allclose(r.A.to_numpy(), io.A.to_numpy(), rtol=1e-9, atol=1e-15)
    assert_allclose(r.L.to_numpy(), io.L.to_numpy(), rtol=1e-9, atol=1e-13)
    for sname, key in (("emission_type1 / air", ("emission_type1", "air")),
                       ("emission_type2 / water", ("emission_type2", "water"))):
        a = xlmrio.accounts(t, sname)
        assert_allclose(r.emission_multipliers[sname], io.emissions.M.loc[key].to_numpy(), rtol=1e-9)
        # pymrio adds F_Y (direct final-demand emissions) to the regional accounts, as xlmrio does with hh
        assert_allclose(a.cba[list(t.regions)].to_numpy(), io.emissions.D_cba_reg.loc[key].to_numpy(), rtol=1e-9)
        assert_allclose(a.pba.to_numpy(), io.emissions.D_pba_reg.loc[key].to_numpy(), rtol=1e-9)


def test_to_pymrio_round_trip(t0):
    io = t0.to_pymrio()
    back = MRIOTable.from_pymrio(io)
    # exports travel as a producer-region category: same rows, same x
    assert_allclose(back.x, t0.x)
    assert_allclose(back.Z, t0.Z)
    assert back.satellites["CO2"].unit == "t"
    assert_allclose(back.satellites["CO2"].values, t0.satellites["CO2"].values)
    io.calc_all()
    assert_allclose(io.L.to_numpy(), xlmrio.leontief(t0).L.to_numpy(), rtol=1e-9)
