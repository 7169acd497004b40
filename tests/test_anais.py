"""ANAIS two-stage LP (METHODS.md §4, §7.1-7, §8.5)."""
from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from xlmrio.core.anais import build_problem
from xlmrio.core.table import MRIOTable
from xlmrio.errors import InfeasibleError, OptionError
from xlmrio.update import Aggregate, CoefficientBound, ReferenceRegions, anais

SOLVERS = ["pulp", "highs"]


def table_8_5():
    return MRIOTable.from_arrays(
        np.array([[20.0, 10.0], [10.0, 20.0]]),
        np.array([[70.0], [70.0]]),
        regions=["R"], sectors=["s1", "s2"], fd_categories=["fd"],
        V=np.array([[70.0, 70.0]]), va_rows=["VA"], monetary_unit="MU",
    )


TARGET_8_5 = {("R", "s1"): 110.0, ("R", "s2"): 100.0}
CASES_8_5 = {
    # case: (kwargs, rho*, objective, x*, y*, z*)
    "default": ({}, 1 / 10, 19.0, [[22, 11], [11, 19]], [77, 70], [77, 70]),
    "objective_relative": (dict(objective="relative"), 1 / 10, 37 / 70, [[22, 11], [11, 20]], [77, 69], [77, 69]),
    "rmax_absolute": (dict(rmax_mode="absolute"), 10 / 3, 20.0, [[70 / 3, 40 / 3], [40 / 3, 50 / 3]],
                      [220 / 3, 70], [220 / 3, 70]),
    "coherence": (dict(coefficient_bounds=[CoefficientBound(column=("R", "s1"), rows=("R", "s2"), upper=0.095)]),
                  191 / 1800, 3299 / 180, [[1991 / 90, 209 / 20], [209 / 20, 391 / 20]], [13937 / 180, 70],
                  [13937 / 180, 70]),
}


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("case", list(CASES_8_5))
def test_worked_example_8_5(case, solver):
    kwargs, rho, obj, Zs, ys, vs = CASES_8_5[case]
    res = anais(table_8_5(), totals=TARGET_8_5, solver=solver, **kwargs)
    assert res.solver == solver and res.status == "optimal"
    assert res.rho == pytest.approx(rho, abs=1e-6)
    assert res.objective == pytest.approx(obj, abs=1e-4)
    np.testing.assert_allclose(res.table.Z, Zs, atol=1e-4)
    np.testing.assert_allclose(res.table.Y[:, 0], ys, atol=1e-4)
    np.testing.assert_allclose(res.table.V[0], vs, atol=1e-4)
    np.testing.assert_allclose(res.table.x, [110, 100], atol=1e-9)
    if case == "coherence":
        assert len(res.binding) == 1 and res.binding.iloc[0]["side"] == "upper"
        assert res.binding.iloc[0]["coefficient"] == pytest.approx(0.095, abs=1e-6)
    else:
        assert res.binding.empty
    assert len(res.deviations) == 8
    assert res.deviations.iloc[0]["rel_deviation" if case != "rmax_absolute" else "abs_deviation"] == pytest.approx(
        res.rho_realised, rel=1e-9)


@pytest.mark.parametrize("solver", SOLVERS)
def test_targets_equal_prior_totals_return_prior(solver):
    t = table_8_5()
    res = anais(t, totals={("R", "s1"): 100.0, ("R", "s2"): 100.0}, solver=solver)
    assert res.rho == pytest.approx(0.0, abs=1e-9)
    assert res.objective == pytest.approx(0.0, abs=1e-6)
    np.testing.assert_allclose(res.table.Z, t.Z, atol=1e-6)
    np.testing.assert_allclose(res.table.Y, t.Y, atol=1e-6)
    np.testing.assert_allclose(res.table.V, t.V, atol=1e-6)


def test_targets_equal_prior_totals_random_table():
    t, _, _ = random_case(11)
    res = anais(t, totals=t.x, solver="highs")
    assert res.rho == pytest.approx(0.0, abs=1e-8)
    for blk in ("Z", "Y", "V", "exports"):
        np.testing.assert_allclose(getattr(res.table, blk), getattr(t, blk), atol=1e-6 * res.sigma)


# --------------------------------------------------------------------------- random problems

def random_case(seed, m=2, n=3, K=2):
    """A prior with exports, negative V entries and zeros, plus a balanced 'true' target table
    with the same sign pattern (so every piece of information taken from it is feasible)."""
    rng = np.random.default_rng(seed)
    N = m * n
    regions = [f"R{i}" for i in range(m)]
    sectors = [f"s{i}" for i in range(n)]
    cats = [f"c{i}" for i in range(K)]
    Z0 = rng.uniform(1, 10, (N, N)) * (rng.uniform(size=(N, N)) > 0.25)
    Y0 = rng.uniform(20, 50, (N, m * K))
    E0 = rng.uniform(5, 20, N)
    V2 = rng.uniform(-2, 4, N)
    x0 = Z0.sum(1) + Y0.sum(1) + E0
    V0 = np.vstack([x0 - Z0.sum(0) - V2, V2])
    prior = MRIOTable.from_arrays(Z0, Y0, regions=regions, sectors=sectors, fd_categories=cats, V=V0,
                                  va_rows=["wages", "taxes"], x=x0, exports=E0, monetary_unit="MU")
    g = lambda shape: rng.uniform(0.8, 1.25, shape)  # noqa: E731
    Z1, Y1, E1 = Z0 * g(Z0.shape), Y0 * g(Y0.shape), E0 * g(E0.shape)
    x1 = Z1.sum(1) + Y1.sum(1) + E1
    V21 = V2 * g(N)
    V1 = np.vstack([x1 - Z1.sum(0) - V21, V21])
    assert (V1[0] > 0).all()
    true = MRIOTable.from_arrays(Z1, Y1, regions=regions, sectors=sectors, fd_categories=cats, V=V1,
                                 va_rows=["wages", "taxes"], x=x1, exports=E1, monetary_unit="MU")
    lab = list(prior.index)
    info = dict(
        totals={lab[k]: x1[k] for k in range(N) if k != 1},            # one total unknown
        known_cells={("Z", lab[0], lab[2]): Z1[0, 2], ("exports", lab[3]): E1[3]},
        aggregates=[
            Aggregate("total of w1+w2", [("x", lab[1]), ("x", lab[2])], x1[1] + x1[2]),
            Aggregate("soft FD of R0", [("Y", lab[k], ("R0", "c0")) for k in range(N)],
                      Y1[:, 0].sum() * 1.03, soft=True),
        ],
        coefficient_bounds=[
            CoefficientBound(column=lab[l], rows=[lab[k]], lower=0.95 * Z1[k, l] / x1[l], upper=1.05 * Z1[k, l] / x1[l])
            for (k, l) in [(1, 1), (2, 4), (5, 0)] if Z0[k, l] > 0
        ] + [CoefficientBound(column=lab[3], rows=[lab[0], lab[n]], upper=(Z1[0, 3] + Z1[n, 3]) / x1[3] * 1.01)],
    )
    return prior, true, info


def check_solution(prior, res, info, *, tol=1e-6, rmax_mode="relative", zero_policy="fixed"):
    """Independent check of every constraint on the returned table (§4.4, §4.5)."""
    t = res.table
    s = res.sigma * tol
    Z, Y, V, E, x = t.Z, t.Y, t.V, t.exports, t.x
    np.testing.assert_allclose(Z.sum(1) + Y.sum(1) + E, x, atol=s)        # row balance
    np.testing.assert_allclose(Z.sum(0) + V.sum(0), x, atol=s)            # column balance
    lab = list(prior.index)
    for key, val in info.get("totals", {}).items():
        assert x[lab.index(key)] == pytest.approx(val, abs=s)
    for ref, val in info.get("known_cells", {}).items():
        if ref[0] == "Z":
            assert Z[lab.index(ref[1]), lab.index(ref[2])] == pytest.approx(val, abs=s)
        elif ref[0] == "exports":
            assert E[lab.index(ref[1])] == pytest.approx(val, abs=s)
    for g in info.get("aggregates", []):
        tot = 0.0
        for ref in g.members:
            if ref[0] == "x":
                tot += x[lab.index(ref[1])]
            elif ref[0] == "Y":
                r, c = ref[2]
                tot += Y[lab.index(ref[1]), list(prior.fd_index).index((r, c))]
        if g.soft and rmax_mode == "relative":
            assert abs(tot - g.value) <= res.rho * (1 + 1e-6) * abs(g.value) + s
        elif g.soft:
            assert abs(tot - g.value) <= res.rho * (1 + 1e-6) + 1e-9 * res.sigma + s
        else:
            assert tot == pytest.approx(g.value, abs=s)
    for h in info.get("coefficient_bounds", []):
        l = lab.index(h.column)
        num = sum(Z[lab.index(r), l] for r in h.rows)
        if h.upper is not None:
            assert num <= h.upper * x[l] + s
        if h.lower is not None:
            assert num >= h.lower * x[l] - s
    # deviation bound and signs, zeros kept
    known = {blk: np.zeros(getattr(prior, blk).shape, bool) for blk in ("Z", "Y", "V", "exports")}
    for ref in info.get("known_cells", {}):
        if ref[0] == "Z":
            known["Z"][lab.index(ref[1]), lab.index(ref[2])] = True
        elif ref[0] == "exports":
            known["exports"][lab.index(ref[1])] = True
    for blk in ("Z", "Y", "V", "exports"):
        p, v = getattr(prior, blk), getattr(t, blk)
        if zero_policy == "fixed":
            assert np.all(v[p == 0] == 0)
        else:
            assert np.all(v[p == 0] >= 0)
        nz = (p != 0) & ~known[blk]
        if rmax_mode == "relative":
            assert np.all(np.abs(v[nz] - p[nz]) <= (res.rho * (1 + 1e-6) + 1e-9) * np.abs(p[nz]) + s)
        else:  # rho in money units
            assert np.all(np.abs(v[nz] - p[nz]) <= res.rho * (1 + 1e-6) + 1e-9 * res.sigma + s)
        assert np.all(np.sign(v[nz]) * np.sign(p[nz]) >= 0)


@pytest.mark.parametrize("seed", range(5))
def test_random_problems_both_solvers_agree_and_satisfy_constraints(seed):
    prior, _, info = random_case(seed)
    results = {sv: anais(prior, solver=sv, **info) for sv in SOLVERS}
    for res in results.values():
        check_solution(prior, res, info)
        assert res.rho_realised <= res.rho * (1 + 1e-6) + 1e-9 + 1e-7
    a, b = results["pulp"], results["highs"]
    assert a.rho == pytest.approx(b.rho, rel=1e-6, abs=1e-8)
    assert a.objective == pytest.approx(b.objective, rel=1e-5, abs=1e-6)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("opts", [dict(objective="relative"), dict(rmax_mode="absolute"), dict(zero_policy="free")])
def test_random_options_both_solvers_agree(seed, opts):
    prior, _, info = random_case(100 + seed)
    a = anais(prior, solver="pulp", **opts, **info)
    b = anais(prior, solver="highs", **opts, **info)
    assert a.rho == pytest.approx(b.rho, rel=1e-6, abs=1e-8)
    assert a.objective == pytest.approx(b.objective, rel=1e-5, abs=1e-6)
    for res in (a, b):
        check_solution(prior, res, info, rmax_mode=opts.get("rmax_mode", "relative"),
                       zero_policy=opts.get("zero_policy", "fixed"))


def test_lp_lower_bound_holds_on_true_table():
    """The true table satisfies all hard information, so rho* cannot exceed its own deviation."""
    prior, true, info = random_case(7)
    res = anais(prior, solver="highs", **info)
    dev = []
    for blk in ("Z", "Y", "V", "exports"):
        p, v = getattr(prior, blk), getattr(true, blk)
        nz = p != 0
        dev.append(np.max(np.abs(v[nz] - p[nz]) / np.abs(p[nz])))
    assert res.rho <= max(dev) + 1e-9


def test_prior_scaling_columns_uniform_growth():
    t, _, _ = random_case(3)
    res = anais(t, totals=1.1 * t.x, prior_scaling="columns", solver="highs")
    assert res.rho == pytest.approx(0.0, abs=1e-8)
    np.testing.assert_allclose(res.table.Z, 1.1 * t.Z, atol=1e-6 * res.sigma)
    np.testing.assert_allclose(res.table.V, 1.1 * t.V, atol=1e-6 * res.sigma)
    # without scaling the same targets need a 10 % move at least somewhere
    assert anais(t, totals=1.1 * t.x, solver="highs").rho >= 0.1 - 1e-9


def test_input_formats_equivalent():
    prior, true, info = random_case(5)
    lab = list(prior.index)
    a = anais(prior, totals=info["totals"], known_cells=info["known_cells"], solver="highs")
    series = pd.Series(info["totals"])
    arr = np.array([info["totals"].get(k, np.nan) for k in lab])
    Zk = np.full((prior.N, prior.N), np.nan)
    Zk[0, 2] = true.Z[0, 2]
    Ek = np.full(prior.N, np.nan)
    Ek[3] = true.exports[3]
    b = anais(prior, totals=series, known_cells={"Z": Zk, "exports": Ek}, solver="highs")
    c = anais(prior, totals=arr, known_cells={"Z": pd.DataFrame(Zk, index=prior.index, columns=prior.index),
                                              "exports": Ek}, solver="highs")
    for r in (b, c):
        assert r.rho == pytest.approx(a.rho, abs=1e-9)
        assert r.objective == pytest.approx(a.objective, rel=1e-9)
    strkeys = {f"{r}|{s}": v for (r, s), v in info["totals"].items()}
    assert anais(prior, totals=strkeys, solver="highs").rho == pytest.approx(
        anais(prior, totals=info["totals"], solver="highs").rho, abs=1e-12)


def test_reference_regions_bounds():
    rng = np.random.default_rng(9)
    ref_regions = ["P1", "P2", "P3", "P4"]
    n = 2
    Zr = rng.uniform(1, 10, (8, 8))
    Yr = rng.uniform(30, 60, (8, 4))
    ref = MRIOTable.from_arrays(Zr, Yr, regions=ref_regions, sectors=["s1", "s2"], fd_categories=["fd"])
    prior = table_8_5()
    rr = ReferenceRegions(table=ref, regions=["P1", "P2", "P3"], apply_to=["R"])
    res = anais(prior, totals=TARGET_8_5, reference_regions=rr, solver="highs")
    # independent coefficient range: column (p, j) summed over all origin regions
    for j in range(n):
        for i in range(n):
            coefs = [sum(Zr[r * n + i, p * n + j] for r in range(4)) / ref.x[p * n + j] for p in range(3)]
            a = res.table.Z[i, j] / res.table.x[j]
            assert min(coefs) - 1e-6 <= a <= max(coefs) + 1e-6


# --------------------------------------------------------------------------- infeasible problems

@pytest.mark.parametrize("solver", SOLVERS)
def test_infeasible_conflicting_aggregate_is_named(solver):
    agg = Aggregate("R total", [("x", ("R", "s1")), ("x", ("R", "s2"))], 250.0)
    with pytest.raises(InfeasibleError) as ei:
        anais(table_8_5(), totals=TARGET_8_5, aggregates=[agg], solver=solver)
    conflicts = ei.value.conflicts
    assert conflicts, "the elastic re-solve must name something"
    assert any("R total" in c or "known total output" in c for c in conflicts)
    assert "off by" in str(ei.value)


def test_infeasible_zero_row_names_total():
    t = MRIOTable.from_arrays(np.array([[20.0, 10.0], [0.0, 0.0]]), np.array([[70.0], [0.0]]),
                              regions=["R"], sectors=["s1", "s2"], fd_categories=["fd"],
                              V=np.array([[70.0, -10.0]]), va_rows=["VA"])
    with pytest.raises(InfeasibleError) as ei:
        anais(t, totals={("R", "s2"): 50.0}, solver="highs")
    assert any("R|s2" in c for c in ei.value.conflicts)


def test_infeasible_without_elastic_lists_families():
    agg = Aggregate("R total", [("x", ("R", "s1")), ("x", ("R", "s2"))], 250.0)
    with pytest.raises(InfeasibleError, match="aggregate"):
        anais(table_8_5(), totals=TARGET_8_5, aggregates=[agg], solver="highs", elastic=False)


def test_bad_options_and_labels():
    t = table_8_5()
    with pytest.raises(OptionError):
        anais(t, totals=TARGET_8_5, rmax_mode="max")
    with pytest.raises(OptionError):
        anais(t, totals=TARGET_8_5, solver="gurobi")
    with pytest.raises(Exception, match="unknown region-sector"):
        anais(t, totals={("R", "nope"): 1.0})


def test_problem_definition_is_shared():
    """Both solver paths consume the same stage LPs built from one AnaisProblem."""
    P = build_problem(table_8_5(), totals=TARGET_8_5)
    assert P.n_cells == 4 + 2 + 2
    assert P.A_cell.shape == (4, 8)  # 2 row + 2 column balance rows
    assert P.sigma == 70.0


def test_auto_solver_choice():
    assert anais(table_8_5(), totals=TARGET_8_5).solver == "pulp"
    prior, _, _ = random_case(1, m=5, n=10, K=1)   # > 1500 free cells
    res = anais(prior, totals=prior.x * 1.05)
    assert res.solver == "network"                  # all totals known, nothing but single-cell information
    assert res.rho == pytest.approx(0.05, abs=1e-6)  # uniform growth needs at least 5 %, and 5 % suffices
    lab = list(prior.index)
    group = Aggregate("first two", [("x", lab[0]), ("x", lab[1])], float(prior.x[:2].sum() * 1.05))
    res = anais(prior, totals={lab[k]: prior.x[k] * 1.05 for k in range(2, len(lab))}, aggregates=[group])
    assert res.solver == "highs-ipm"                # a group aggregate rules the network path out
    assert res.rho == pytest.approx(0.05, abs=1e-6)


@pytest.mark.parametrize("solver", ["pulp", "highs", "network"])
def test_known_cell_may_change_sign(solver):
    """A known primary-input cell whose sign differs from the prior's (net taxes turning positive)
    is information, not a sign violation: it is kept as given."""
    prior, true, _ = random_case(0)
    V1 = true.V.copy()
    k = int(np.flatnonzero(prior.V[1] < 0)[0])
    V1[0, k] -= 0.5 - true.V[1, k]
    V1[1, k] = 0.5
    res = anais(prior, totals=true.x, known_cells={"V": V1}, solver=solver)
    assert res.table.V[1, k] == pytest.approx(0.5, abs=1e-9)
    np.testing.assert_allclose(res.table.V, V1, atol=1e-8)


@pytest.mark.parametrize("solver", ["pulp", "highs"])
def test_elastic_explanation_names_only_the_conflict(solver):
    """A feasible but costly total (s3 grows tenfold, rho* = 9) must not be blamed for a clash of two
    aggregates: the explanation minimises the relaxation alone."""
    Z = np.array([[20.0, 10, 0.01], [10, 20, 0.01], [0.01, 0.01, 0.001]])
    Y = np.array([[70.0], [70], [0.02]])
    x = Z.sum(1) + Y[:, 0]
    t = MRIOTable.from_arrays(Z, Y, regions=["R"], sectors=["s1", "s2", "s3"], fd_categories=["fd"],
                              V=np.array([x - Z.sum(0)]), va_rows=["VA"], x=x)
    tot = {("R", "s3"): x[2] * 10}
    assert anais(t, totals=tot, solver=solver).rho == pytest.approx(9.0, rel=1e-6)
    clash = [Aggregate("a", [("x", ("R", "s1"))], 110.0), Aggregate("b", [("x", ("R", "s1"))], 120.0)]
    with pytest.raises(InfeasibleError) as ei:
        anais(t, totals=tot, aggregates=clash, solver=solver)
    assert len(ei.value.conflicts) == 1 and ei.value.conflicts[0].startswith("aggregate")


@pytest.mark.parametrize("solver", ["pulp", "highs"])
def test_conflicting_known_cells_are_named(solver):
    """Every cell of row s1 and of column s1 known, with row sum 90 and column sum 110: only known cells
    conflict (no totals given), so the explanation makes them elastic and names them."""
    t = table_8_5()
    known = {("Z", ("R", "s1"), ("R", "s1")): 30.0, ("Z", ("R", "s1"), ("R", "s2")): 20.0,
             ("Y", ("R", "s1"), ("R", "fd")): 40.0, ("Z", ("R", "s2"), ("R", "s1")): 10.0,
             ("V", "VA", ("R", "s1")): 70.0}
    with pytest.raises(InfeasibleError) as ei:
        anais(t, known_cells=known, solver=solver)
    assert ei.value.conflicts and all(c.startswith("known cell") for c in ei.value.conflicts)
    moved = [float(v) for v in re.findall(r"off by ([0-9.e+-]+)", str(ei.value))]
    assert sum(moved) == pytest.approx(20.0, rel=1e-6)   # the smallest relaxation: the 110 - 90 gap


@pytest.mark.parametrize("bad", [
    dict(totals={("R", "s1"): np.inf, ("R", "s2"): 100.0}),
    dict(totals=TARGET_8_5, known_cells={("Z", ("R", "s1"), ("R", "s1")): -np.inf}),
    dict(totals=TARGET_8_5, aggregates=[Aggregate("g", [("x", ("R", "s1"))], np.nan)]),
    dict(totals=TARGET_8_5, eps_rel=-1.0),
    dict(totals=TARGET_8_5, solver="cbc"),
])
def test_bad_numbers_and_options_are_typed_errors(bad):
    with pytest.raises(OptionError):
        anais(table_8_5(), **bad)


def test_without_cbc_program_auto_and_pulp_still_solve(monkeypatch):
    """xlwings Lite (Pyodide) cannot start PuLP's CBC program: 'auto' falls back to scipy's HiGHS and
    solver='pulp' to PuLP's in-process HiGHS, with the same optimum (METHODS §8.5 default case)."""
    import xlmrio.core.anais as mod

    real = mod._available
    monkeypatch.setattr(mod, "_available", lambda what: False if what == "cbc" else real(what))
    res = anais(table_8_5(), totals=TARGET_8_5)
    assert res.solver == "highs"
    assert res.rho == pytest.approx(0.1, abs=1e-7) and res.objective == pytest.approx(19.0, rel=1e-6)
    res = anais(table_8_5(), totals=TARGET_8_5, solver="pulp")
    assert res.rho == pytest.approx(0.1, abs=1e-7) and res.objective == pytest.approx(19.0, rel=1e-6)
