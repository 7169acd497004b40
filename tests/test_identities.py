"""METHODS.md §7.1 (1–4) as property tests on random balanced MRIOs (2–6 regions, 1–8 sectors)."""
from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

import xlmrio
from conftest import random_mrio

tables = st.builds(
    lambda seed, m, n, K, other, hh: random_mrio(np.random.default_rng(seed), m, n, K, other=other, hh=hh),
    st.integers(0, 2**32 - 1), st.integers(2, 6), st.integers(1, 8), st.integers(1, 3), st.booleans(),
    st.booleans(),
)
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(tables)
def test_identity_1_balance_and_inverse(t):
    rep = t.validate(rtol=1e-9)
    assert rep.ok and not rep.warnings, str(rep)
    assert abs(t.y.sum() - t.V.sum()) <= 1e-9 * t.x.sum()
    r = xlmrio.leontief(t)
    L = r.L.to_numpy()
    assert_allclose(L @ t.y, t.x, rtol=1e-9, atol=1e-9 * t.x.max())
    assert np.abs((np.eye(t.N) - r.A.to_numpy()) @ L - np.eye(t.N)).max() < 1e-9
    assert_allclose(r.va_coefficients.to_numpy() @ L, np.ones(t.N), rtol=1e-9)
    assert (L >= -1e-12).all() and (np.diag(L) >= 1 - 1e-12).all()
    m = r.multipliers
    assert_allclose(m["total"], L.sum(axis=0), rtol=1e-9)
    assert_allclose(m["own_region"] + m["spillover"], m["total"], rtol=1e-12)


@SETTINGS
@given(tables)
def test_identity_2_accounts(t):
    a = xlmrio.accounts(t)
    g = t.satellite().values
    hh = a.hh.to_numpy()
    assert_allclose(a.pba.sum(), a.cba.sum(), rtol=1e-9)  # closure incl. EXP/OTH
    assert_allclose(a.driver.sum(axis=1) + hh, a.pba, rtol=1e-9, atol=1e-12)
    assert_allclose(a.cba_final_producer.sum(), g.sum(), rtol=1e-9)
    assert abs(a.nei_domestic.sum()) <= 1e-9 * max(g.sum(), 1)
    pseudo = sum(a.cba.get(k, 0.0) for k in ("EXP", "OTH"))
    assert_allclose(a.nei_total.sum(), pseudo, rtol=1e-9, atol=1e-9 * max(g.sum(), 1))
    # attribution (a) sums to CBA (without direct final-demand emissions)
    assert_allclose(a.cba_product.sum(axis=0).to_numpy(), a.driver.sum(axis=0).to_numpy(), rtol=1e-9, atol=1e-12)
    # the per-destination split: e L Y* against the explicit inverse
    L = xlmrio.leontief(t).L.to_numpy()
    assert_allclose(a.Mx.to_numpy(), a.e.to_numpy()[:, None] * (L @ t.Y_star), rtol=1e-9, atol=1e-12)


@SETTINGS
@given(tables, st.integers(0, 2**32 - 1))
def test_identity_3_flows(t, seed):
    F = xlmrio.embodied_flows(t).to_numpy()
    r = xlmrio.leontief(t)
    L = r.L.to_numpy()
    e = r.intensities["CO2"].to_numpy()
    mu = r.emission_multipliers["CO2"].to_numpy()
    assert_allclose(F, np.diag(e) @ L @ t.Z, rtol=1e-9, atol=1e-12 * max(1, np.abs(F).max()))
    assert (F >= -1e-12 * max(1, np.abs(F).max())).all()
    assert_allclose(F.sum(axis=1), e * (L @ t.x - t.x), rtol=1e-9, atol=1e-10)
    assert_allclose(F.sum(axis=0), (mu - e) * t.x, rtol=1e-9, atol=1e-10)
    # any aggregator keeps the grand total
    rng = np.random.default_rng(seed)
    groups = rng.integers(0, max(1, t.N // 2), t.N)
    Gam = np.zeros((groups.max() + 1, t.N))
    Gam[groups, np.arange(t.N)] = 1
    assert_allclose((Gam @ F @ Gam.T).sum(), F.sum(), rtol=1e-9)


@SETTINGS
@given(tables)
def test_identity_4_class_shares(t):
    r = xlmrio.efficiency(t)
    if r.flows["class"].ne("unclassified").any() and r.flows["value"].sum() > 0:
        assert abs(r.shares.sum() - 1.0) < 1e-12
    assert set(r.flows["class"]) <= {"inefficient", "efficient", "neutral", "unclassified"}
