"""RAS and GRAS (METHODS.md §5, §7.1-6, §8.6)."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra.numpy import arrays

from xlmrio.core.ras import balance_known_cells, balance_table, compare
from xlmrio.errors import ConvergenceError, InfeasibleError, OptionError
from xlmrio.update import gras, gras_result, ras, ras_known_cells, ras_result

SQ17 = math.sqrt(17.0)
RAS_Z0 = np.array([[2.0, 1.0], [1.0, 2.0]])
RAS_EXPECTED = np.array([[(9 - SQ17) / 2, (SQ17 - 1) / 2], [(SQ17 - 3) / 2, (7 - SQ17) / 2]])
GRAS_Z0 = np.array([[7.0, 3, -2], [2, 9, 4], [-1, 5, 8]])
GRAS_U = np.array([10.0, 14, 15])
GRAS_V = np.array([9.0, 19, 11])
GRAS_EXPECTED = np.array(
    [
        [8.0458770178, 3.7457773621, -1.7916543799],
        [1.7878434502, 8.7395155097, 3.4726410402],
        [-0.8337204680, 6.5147071283, 9.3190133397],
    ]
)


# ------------------------------------------------------------------ §8.6 closed forms

def test_ras_closed_form_8_6():
    res = ras_result(RAS_Z0, [4, 2], [3, 3], tol=1e-13)
    np.testing.assert_allclose(res.Z, RAS_EXPECTED, rtol=0, atol=1e-10)
    np.testing.assert_allclose(RAS_EXPECTED, [[2.4384471872, 1.5615528128], [0.5615528128, 1.4384471872]], atol=1e-10)
    assert res.iterations == 13  # METHODS §8.6: 13 iterations to 1e-13
    assert res.eps < 1e-13
    # Z = diag(r) Z0 diag(s)
    np.testing.assert_allclose(res.r[:, None] * RAS_Z0 * res.s[None, :], res.Z, rtol=1e-14)


def test_gras_numbers_8_6():
    res = gras_result(GRAS_Z0, GRAS_U, GRAS_V)
    np.testing.assert_allclose(res.Z, GRAS_EXPECTED, rtol=0, atol=1e-9)
    assert np.array_equal(np.sign(res.Z), np.sign(GRAS_Z0))
    # closed form of §5.2: Z = r P s - r^-1 N s^-1
    P, N = np.maximum(GRAS_Z0, 0), np.maximum(-GRAS_Z0, 0)
    rebuilt = res.r[:, None] * P * res.s[None, :] - N / res.r[:, None] / res.s[None, :]
    np.testing.assert_allclose(rebuilt, res.Z, rtol=1e-12)


def test_gras_nonnegative_equals_ras_closed_form():
    np.testing.assert_allclose(gras(RAS_Z0, [4, 2], [3, 3], tol=1e-13), RAS_EXPECTED, atol=1e-10)


# ------------------------------------------------------------------ properties

def _xlogx_objective(Z, Z0):
    m = Z0 > 0
    return float(np.sum(Z[m] * np.log(Z[m] / Z0[m])))


def test_ras_minimises_information_loss():
    rng = np.random.default_rng(1)
    Z0 = rng.uniform(1, 5, (4, 5))
    M = rng.uniform(1, 5, (4, 5))
    Z = ras(Z0, M.sum(1), M.sum(0))
    f0 = _xlogx_objective(Z, Z0)
    # any margin-preserving 2x2 cycle perturbation increases the objective
    for (i, k, j, l) in [(0, 1, 0, 1), (1, 3, 2, 4), (0, 2, 1, 3)]:
        for d in (1e-3, -1e-3):
            P = Z.copy()
            P[i, j] += d
            P[k, l] += d
            P[i, l] -= d
            P[k, j] -= d
            assert _xlogx_objective(P, Z0) > f0


def test_gras_minimises_its_objective():
    Z = gras(GRAS_Z0, GRAS_U, GRAS_V)
    nz = GRAS_Z0 != 0

    def obj(Zt):
        t = Zt[nz] / GRAS_Z0[nz]
        return float(np.sum(np.abs(GRAS_Z0[nz]) * (t * np.log(t) - t)))

    f0 = obj(Z)
    for (i, k, j, l) in [(0, 1, 0, 1), (1, 2, 1, 2), (0, 2, 0, 2)]:
        for d in (1e-3, -1e-3):
            P = Z.copy()
            P[i, j] += d
            P[k, l] += d
            P[i, l] -= d
            P[k, j] -= d
            assert obj(P) > f0


def test_consistent_margins_return_prior_and_scaling_invariance():
    rng = np.random.default_rng(2)
    Z0 = rng.uniform(0, 10, (6, 4))
    Z0[Z0 < 2] = 0.0
    Z = ras(Z0, Z0.sum(1), Z0.sum(0))
    np.testing.assert_allclose(Z, Z0, rtol=1e-10)
    Zg = gras(Z0 - 3 * (Z0 > 7), (Z0 - 3 * (Z0 > 7)).sum(1), (Z0 - 3 * (Z0 > 7)).sum(0))
    np.testing.assert_allclose(Zg, Z0 - 3 * (Z0 > 7), rtol=1e-10, atol=1e-12)


def test_dataframe_in_dataframe_out():
    idx = pd.Index(["a", "b"], name="row")
    cols = pd.Index(["c1", "c2"], name="col")
    Z0 = pd.DataFrame(RAS_Z0, index=idx, columns=cols)
    # Series targets are aligned on labels, not positions
    u = pd.Series([2.0, 4.0], index=["b", "a"])
    v = pd.Series([3.0, 3.0], index=["c2", "c1"])
    Z = ras(Z0, u, v, tol=1e-13)
    assert isinstance(Z, pd.DataFrame)
    assert list(Z.index) == ["a", "b"] and list(Z.columns) == ["c1", "c2"]
    np.testing.assert_allclose(Z.to_numpy(), RAS_EXPECTED, atol=1e-10)
    res = gras_result(Z0, u, v, tol=1e-13)
    assert isinstance(res.r, pd.Series) and list(res.s.index) == ["c1", "c2"]


# ------------------------------------------------------------------ errors

def test_unequal_totals_raise_or_rescale():
    with pytest.raises(InfeasibleError):
        ras(RAS_Z0, [4, 2], [3, 4])
    Z = ras(RAS_Z0, [4, 2], [3.5, 3.5], rescale="columns", tol=1e-13)
    np.testing.assert_allclose(Z, RAS_EXPECTED, atol=1e-10)
    with pytest.raises(OptionError):
        ras(RAS_Z0, [4, 2], [3, 4], rescale="both")


def test_zero_row_with_positive_target_names_label():
    Z0 = pd.DataFrame([[1.0, 2.0], [0.0, 0.0]], index=["Farm", "Mine"], columns=["c1", "c2"])
    with pytest.raises(InfeasibleError, match="Mine") as ei:
        ras(Z0, [2.0, 1.0], [1.5, 1.5])
    assert any("Mine" in c for c in ei.value.conflicts)
    with pytest.raises(InfeasibleError, match="Mine"):
        gras(Z0, [2.0, 1.0], [1.5, 1.5])


def test_gras_sign_infeasible():
    with pytest.raises(InfeasibleError, match="only negative"):
        gras([[-1.0, -1.0], [1.0, 1.0]], [1.0, 1.0], [1.0, 1.0])


def test_negative_prior_rejected_by_ras():
    with pytest.raises(InfeasibleError, match="GRAS"):
        ras(GRAS_Z0, GRAS_U, GRAS_V)


def test_nonconvergence_raises_with_eps():
    with pytest.raises(ConvergenceError) as ei:
        ras([[1.0, 0.0], [0.0, 1.0]], [1.0, 2.0], [2.0, 1.0], maxiter=50)
    assert ei.value.eps is not None and ei.value.eps > 0.1
    assert ei.value.iterations == 50


def test_zero_target_gives_zero_row():
    Z = ras([[1.0, 2.0], [3.0, 4.0]], [0.0, 10.0], [3.0, 7.0])
    np.testing.assert_allclose(Z[0], 0.0)
    np.testing.assert_allclose(Z.sum(0), [3, 7], rtol=1e-10)


# ------------------------------------------------------------------ variants

def test_known_cells_variant():
    rng = np.random.default_rng(3)
    Z0 = rng.uniform(1, 5, (4, 4))
    M = rng.uniform(1, 5, (4, 4))
    known = np.full((4, 4), np.nan)
    known[0, 0] = M[0, 0]
    known[2, 3] = M[2, 3]
    res = ras_known_cells(Z0, M.sum(1), M.sum(0), known)
    Z = res.Z
    assert Z[0, 0] == M[0, 0] and Z[2, 3] == M[2, 3]
    np.testing.assert_allclose(Z.sum(1), M.sum(1), rtol=1e-9)
    np.testing.assert_allclose(Z.sum(0), M.sum(0), rtol=1e-9)
    # cross-product ratios among unknown cells kept (biproportional on the free part)
    ratio = lambda A: A[1, 1] * A[3, 2] / (A[1, 2] * A[3, 1])  # noqa: E731
    assert ratio(Z) == pytest.approx(ratio(Z0), rel=1e-9)


def test_whole_table_variant():
    Z0 = np.array([[20.0, 10], [10, 20]])
    F0 = np.array([[70.0, -5], [70, 5]])
    V0 = np.array([[65.0, 60], [5, 10]])
    x = np.array([110.0, 100])
    va, fd = np.array([150.0, 15]), np.array([160.0, 5])
    Z, F, V, res = balance_table(Z0, F0, V0, x, va, fd)
    np.testing.assert_allclose(Z.sum(1) + F.sum(1), x, rtol=1e-9)
    np.testing.assert_allclose(Z.sum(0) + V.sum(0), x, rtol=1e-9)
    np.testing.assert_allclose(V.sum(1), va, rtol=1e-9)
    np.testing.assert_allclose(F.sum(0), fd, rtol=1e-9)
    assert np.array_equal(np.sign(F), np.sign(F0))


def test_compare_metrics():
    ref = np.array([[1.0, 2.0], [0.0, 4.0]])
    est = np.array([[1.5, 2.0], [1.0, 3.0]])
    m = compare(est, ref)
    assert m["wape"] == pytest.approx(100 * 2.5 / 7)
    assert m["max_rel"] == pytest.approx(0.5)
    assert m["rmse"] == pytest.approx(math.sqrt((0.25 + 1 + 1) / 4))
    assert compare(ref, ref)["wape"] == 0.0


# ------------------------------------------------------------------ hypothesis

dims = st.tuples(st.integers(2, 7), st.integers(2, 7))


@st.composite
def feasible_problem(draw, signed=False):
    nr, nc = draw(dims)
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    Z0 = rng.uniform(0.1, 10.0, (nr, nc))
    pattern = rng.uniform(size=(nr, nc)) > 0.25
    pattern[np.arange(nr), np.arange(nr) % nc] = True
    pattern[np.arange(nc) % nr, np.arange(nc)] = True
    Z0 = Z0 * pattern
    if signed:
        Z0 = Z0 * np.where(rng.uniform(size=Z0.shape) < 0.2, -1.0, 1.0)
    # margins from a random matrix with the same sign/zero pattern => a solution exists
    M = np.abs(Z0) * rng.uniform(0.5, 2.0, Z0.shape) * np.sign(Z0)
    return Z0, M.sum(1), M.sum(0)


@settings(max_examples=40, deadline=None)
@given(feasible_problem())
def test_ras_properties_random(prob):
    Z0, u, v = prob
    res = ras_result(Z0, u, v)
    Z = res.Z
    np.testing.assert_allclose(Z.sum(1), u, rtol=1e-9)
    np.testing.assert_allclose(Z.sum(0), v, rtol=1e-9)
    assert np.array_equal(Z > 0, Z0 > 0)  # zero pattern kept
    np.testing.assert_allclose(ras(7.5 * Z0, u, v), Z, rtol=1e-7, atol=1e-12)  # scaling invariance
    # cross-product ratios on every 2x2 block of positive cells
    nz = np.argwhere(Z0 > 0)
    for (i, j) in nz[:6]:
        for (k, l) in nz[-6:]:
            if i != k and j != l and Z0[i, l] > 0 and Z0[k, j] > 0:
                lhs = Z[i, j] * Z[k, l] / (Z[i, l] * Z[k, j])
                rhs = Z0[i, j] * Z0[k, l] / (Z0[i, l] * Z0[k, j])
                assert lhs == pytest.approx(rhs, rel=1e-8)
    np.testing.assert_allclose(gras(Z0, u, v), Z, rtol=1e-7, atol=1e-12)  # GRAS(nonneg) = RAS


@settings(max_examples=40, deadline=None)
@given(feasible_problem(signed=True))
def test_gras_properties_random(prob):
    Z0, u, v = prob
    res = gras_result(Z0, u, v)
    Z = res.Z
    np.testing.assert_allclose(Z.sum(1), u, rtol=1e-8, atol=1e-9 * np.abs(u).max())
    np.testing.assert_allclose(Z.sum(0), v, rtol=1e-8, atol=1e-9 * np.abs(v).max())
    assert np.array_equal(np.sign(Z), np.sign(Z0))  # signs and zeros kept
    # form of §5.2 (GRAS is not scale invariant with mixed signs, so no scaling test here)
    P, N = np.maximum(Z0, 0), np.maximum(-Z0, 0)
    rebuilt = res.r[:, None] * P * res.s[None, :] - N / res.r[:, None] / res.s[None, :]
    np.testing.assert_allclose(rebuilt, Z, rtol=1e-10, atol=1e-12)


def test_whole_table_on_mrio_table():
    from xlmrio.core.table import MRIOTable
    from xlmrio.update import balance_table as balance_mrio

    prior = MRIOTable.from_arrays(np.array([[20.0, 10], [10, 20]]), np.array([[70.0, -5], [70, 5]]),
                                  regions=["R"], sectors=["a", "b"], fd_categories=["hh", "inv"],
                                  V=np.array([[65.0, 60], [5, 10]]), va_rows=["wages", "taxes"])
    t, res = balance_mrio(prior, [110.0, 100.0], [150.0, 15.0], [160.0, 5.0])
    np.testing.assert_allclose(t.x, [110, 100])
    np.testing.assert_allclose(t.Z.sum(1) + t.Y.sum(1), t.x, rtol=1e-9)
    np.testing.assert_allclose(t.Z.sum(0) + t.V.sum(0), t.x, rtol=1e-9)
    np.testing.assert_allclose(t.Y.sum(0), [160, 5], rtol=1e-9)
    assert t.validate().ok and res.method == "gras"


def test_gras_zero_targets_on_single_signed_lines_zero_them():
    """A zero target on a row/column whose prior entries all have one sign forces it to zero; with
    every target zero the only sign-preserving solution is the zero matrix (it used to divide 0/0)."""
    from xlmrio.update import gras_result

    res = gras_result([[1.0, -1.0], [1.0, 1.0]], [0.0, 0.0], [0.0, 0.0])
    np.testing.assert_array_equal(res.Z, np.zeros((2, 2)))
    # column 0 all positive with target 0 -> zero; the rest balances as usual
    Z0 = np.array([[2.0, 3.0, -1.0], [1.0, 2.0, 4.0]])
    u, v = np.array([1.0, 5.0]), np.array([0.0, 4.0, 2.0])
    res = gras_result(Z0, u, v)
    assert np.all(res.Z[:, 0] == 0)
    np.testing.assert_allclose(res.Z.sum(axis=1), u, rtol=1e-9)
    np.testing.assert_allclose(res.Z.sum(axis=0), v, rtol=1e-9, atol=1e-12)
    assert np.all(np.sign(res.Z[:, 1:]) == np.sign(Z0[:, 1:]))


def test_known_cells_rounding_and_excess_are_explained():
    from xlmrio.errors import InfeasibleError
    from xlmrio.update import ras_known_cells

    # a fully known row whose values add up to the target only up to rounding (0.2 + 0.1 != 0.3)
    res = ras_known_cells(np.array([[.2, .1], [.1, .2]]), [.3, .3], [.3, .3],
                          np.array([[.2, .1], [np.nan, np.nan]]))
    np.testing.assert_allclose(res.Z, [[.2, .1], [.1, .2]], rtol=1e-12)
    with pytest.raises(InfeasibleError, match="known cells of row 0 add up to 5, more than its target 4"):
        ras_known_cells(np.array([[2., 1], [1, 2]]), [4, 2], [3, 3], np.array([[5.0, np.nan], [np.nan, np.nan]]))
