"""ANAIS network fast path (xlmrio/core/anais_network.py) against METHODS §8.5 and the LP path."""
from __future__ import annotations

import numpy as np
import pytest

from xlmrio.core.anais import build_problem
from xlmrio.core.anais_network import network_blockers, solve_network
from xlmrio.core.table import MRIOTable
from xlmrio.errors import InfeasibleError, OptionError
from xlmrio.update import Aggregate, CoefficientBound, anais

from test_anais import CASES_8_5, TARGET_8_5, table_8_5  # METHODS §8.5: (kwargs, rho*, objective, Z*, y*, z*)


@pytest.mark.parametrize("case", list(CASES_8_5))
def test_worked_example_8_5(case):
    kwargs, rho, obj, Zs, ys, vs = CASES_8_5[case]
    res = anais(table_8_5(), totals=TARGET_8_5, solver="network", **kwargs)
    assert res.solver == "network" and res.status == "optimal"
    assert res.rho == pytest.approx(rho, abs=1e-6)
    assert res.objective == pytest.approx(obj, abs=1e-4)
    np.testing.assert_allclose(res.table.Z, Zs, atol=1e-4)
    np.testing.assert_allclose(res.table.Y[:, 0], ys, atol=1e-4)
    np.testing.assert_allclose(res.table.V[0], vs, atol=1e-4)
    np.testing.assert_allclose(res.table.x, [110, 100], atol=1e-9)
    if case == "coherence":
        assert len(res.binding) == 1 and res.binding.iloc[0]["coefficient"] == pytest.approx(0.095, abs=1e-6)


def test_targets_equal_prior_totals_return_prior():
    t = table_8_5()
    res = anais(t, totals={("R", "s1"): 100.0, ("R", "s2"): 100.0}, solver="network")
    assert res.rho == pytest.approx(0.0, abs=1e-12)
    assert res.objective == pytest.approx(0.0, abs=1e-9)
    np.testing.assert_allclose(res.table.Z, t.Z, atol=1e-9)


# --------------------------------------------------------------------------- random problems of that structure

def random_case(seed, m=3, n=4, K=2, zeros=0.3):
    """Prior with exports, a signed V row and structural zeros; a 'true' table with the same sign
    pattern gives all totals, a few known cells and single-cell coefficient bounds (so feasible)."""
    rng = np.random.default_rng(seed)
    N = m * n
    Z0 = rng.uniform(1, 10, (N, N)) * (rng.uniform(size=(N, N)) > zeros)
    Y0 = rng.uniform(5, 50, (N, m * K)) * (rng.uniform(size=(N, m * K)) > zeros)
    Y0[:, 0] = rng.uniform(5, 50, N)            # every row keeps some final demand
    E0 = rng.uniform(5, 20, N)
    V2 = rng.uniform(-2, 4, N)
    x0 = Z0.sum(1) + Y0.sum(1) + E0
    V0 = np.vstack([x0 - Z0.sum(0) - V2, V2])
    lab = dict(regions=[f"R{i}" for i in range(m)], sectors=[f"s{i}" for i in range(n)],
               fd_categories=[f"c{i}" for i in range(K)], va_rows=["wages", "taxes"])
    prior = MRIOTable.from_arrays(Z0, Y0, V=V0, x=x0, exports=E0, monetary_unit="MU", **lab)
    g = lambda shape: rng.uniform(0.7, 1.4, shape)  # noqa: E731
    Z1, Y1, E1 = Z0 * g(Z0.shape), Y0 * g(Y0.shape), E0 * g(N)
    x1 = Z1.sum(1) + Y1.sum(1) + E1
    idx = list(prior.index)
    nzk = np.argwhere(Z0 > 0)
    pick = nzk[rng.choice(len(nzk), 4, replace=False)]
    known = {("Z", idx[k], idx[l]): Z1[k, l] for k, l in pick[:2]}
    bounds = [CoefficientBound(column=idx[l], rows=idx[k], lower=0.97 * Z1[k, l] / x1[l],
                               upper=1.03 * Z1[k, l] / x1[l]) for k, l in pick[2:]]
    return prior, dict(totals=x1, known_cells=known, coefficient_bounds=bounds)


def check_solution(prior, res, info, rmax_mode="relative", zero_policy="fixed", prior_scaling="none"):
    """Every constraint of §4.4 on the returned table, independently of the solver."""
    f = info["totals"] / prior.x if prior_scaling == "columns" else np.ones(prior.N)   # §4.2 scaling
    scaled = {"Z": prior.Z * f[None, :], "V": prior.V * f[None, :], "Y": prior.Y * f[:, None],
              "exports": prior.exports * f}
    t, s = res.table, 1e-6 * res.sigma
    np.testing.assert_allclose(t.Z.sum(1) + t.Y.sum(1) + t.exports, info["totals"], atol=s)
    np.testing.assert_allclose(t.Z.sum(0) + t.V.sum(0), info["totals"], atol=s)
    idx = list(prior.index)
    known = np.zeros(t.Z.shape, bool)
    for (_, r, c), val in info.get("known_cells", {}).items():
        known[idx.index(r), idx.index(c)] = True
        assert t.Z[idx.index(r), idx.index(c)] == pytest.approx(val, abs=s)
    for h in info.get("coefficient_bounds", []):
        k, l = idx.index(h.rows), idx.index(h.column)
        assert h.lower * t.x[l] - s <= t.Z[k, l] <= h.upper * t.x[l] + s
    tol_rho = res.rho * (1 + 1e-6) + (1e-9 if rmax_mode == "relative" else 1e-9 * res.sigma)
    for blk in ("Z", "Y", "V", "exports"):
        p, v = scaled[blk], getattr(t, blk)
        kn = known if blk == "Z" else np.zeros(p.shape, bool)
        if zero_policy == "fixed":
            assert np.all(v[p == 0] == 0)
        else:
            assert np.all(v[p == 0] >= -s)
        nz = (p != 0) & ~kn
        scale = np.abs(p[nz]) if rmax_mode == "relative" else 1.0
        assert np.all(np.abs(v[nz] - p[nz]) <= tol_rho * scale + s)
        assert np.all(np.sign(v[nz]) * np.sign(p[nz]) >= 0)


OPTIONS = [dict(), dict(objective="relative"), dict(rmax_mode="absolute"), dict(zero_policy="free"),
           dict(prior_scaling="columns"), dict(objective="relative", zero_policy="free")]


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("opts", OPTIONS, ids=lambda o: "-".join(f"{k}={v}" for k, v in o.items()) or "default")
def test_random_network_equals_lp(seed, opts):
    prior, info = random_case(seed, zeros=0.3 + 0.1 * seed)
    assert network_blockers(build_problem(prior, **info, **opts)) == []
    a = anais(prior, solver="network", **info, **opts)
    b = anais(prior, solver="highs", **info, **opts)
    assert a.rho == pytest.approx(b.rho, rel=1e-6, abs=1e-9)
    assert a.objective == pytest.approx(b.objective, rel=1e-6, abs=1e-9)
    check_solution(prior, a, info, opts.get("rmax_mode", "relative"), opts.get("zero_policy", "fixed"),
                   opts.get("prior_scaling", "none"))


def test_newton_iterations_on_a_multi_node_cut():
    """Sparse priors where no single row or column is binding: the LP certificates must lift rho."""
    seen = 0
    for seed in range(40):
        prior, info = random_case(1000 + seed, m=2, n=4, zeros=0.6)
        info = {"totals": info["totals"]}
        P = build_problem(prior, **info)
        try:
            sol = solve_network(P)
        except InfeasibleError:
            continue
        if sol.timings["newton_iterations"] < 2:
            continue
        seen += 1
        b = anais(prior, solver="highs", **info)
        assert sol.rho == pytest.approx(b.rho, rel=1e-6, abs=1e-9)
        assert sol.fun * P.sigma == pytest.approx(b.objective, rel=1e-6, abs=1e-9)
    assert seen >= 3, "the search for cases with a binding multi-node cut found too few"


# --------------------------------------------------------------------------- demo table 2002 -> 2007 totals

@pytest.mark.parametrize("scaling", ["none", "columns"])
@pytest.mark.parametrize("objective", ["absolute", "relative"])
def test_demo_2002_to_2007_totals(scaling, objective):
    from xlmrio.datasets import demo

    prior, x7 = demo(2002), demo(2007).x
    kw = dict(totals=x7, prior_scaling=scaling, objective=objective)
    a = anais(prior, **kw)                     # auto: the structure allows the network path
    assert a.solver == "network"
    b = anais(prior, solver="highs-ipm", **kw)
    assert a.rho == pytest.approx(b.rho, rel=1e-6)
    assert a.objective == pytest.approx(b.objective, rel=1e-6)
    t = a.table
    s = 1e-6 * a.sigma
    np.testing.assert_allclose(t.Z.sum(1) + t.Y.sum(1), x7, atol=s)
    np.testing.assert_allclose(t.Z.sum(0) + t.V.sum(0), x7, atol=s)
    assert np.all(t.Z[prior.Z == 0] == 0)
    assert a.rho_realised <= a.rho * (1 + 1e-6) + 1e-9 + 1e-9


# --------------------------------------------------------------------------- dispatch and errors

def test_network_refuses_other_structures_naming_the_family():
    prior, info = random_case(3)
    idx = list(prior.index)
    agg = Aggregate("two totals", [("x", idx[0]), ("x", idx[1])], float(info["totals"][:2].sum()))
    with pytest.raises(OptionError, match="hard aggregates"):
        anais(prior, aggregates=[agg], solver="network", **info)
    partial = dict(info, totals={idx[k]: info["totals"][k] for k in range(1, prior.N)})
    with pytest.raises(OptionError, match="unknown total outputs"):
        anais(prior, solver="network", **partial)
    grp = CoefficientBound(column=idx[0], rows=[idx[1], idx[2]], upper=0.5)
    with pytest.raises(OptionError, match="groups of cells"):
        anais(prior, solver="network", **dict(info, coefficient_bounds=[grp]))
    soft = Aggregate("soft", [("Y", idx[0], ("R0", "c0"))], 10.0, soft=True)
    with pytest.raises(OptionError, match="soft aggregates"):
        anais(prior, aggregates=[soft], solver="network", **info)


def test_auto_uses_network_only_when_structure_allows_and_large():
    prior, info = random_case(5, m=4, n=25, K=1)         # > AUTO_NETWORK_ABOVE free cells
    assert anais(prior, **info).solver == "network"
    idx = list(prior.index)
    agg = Aggregate("two totals", [("x", idx[0]), ("x", idx[1])], float(info["totals"][:2].sum()))
    assert anais(prior, aggregates=[agg], **info).solver == "highs-ipm"
    assert anais(table_8_5(), totals=TARGET_8_5).solver == "pulp"   # small: the readable model


def test_infeasible_total_is_named():
    t = MRIOTable.from_arrays(np.array([[20.0, 10.0], [0.0, 0.0]]), np.array([[70.0], [0.0]]),
                              regions=["R"], sectors=["s1", "s2"], fd_categories=["fd"],
                              V=np.array([[70.0, -10.0]]), va_rows=["VA"])
    with pytest.raises(InfeasibleError) as ei:
        anais(t, totals={("R", "s1"): 100.0, ("R", "s2"): 50.0}, solver="network")
    assert any("R|s2" in c for c in ei.value.conflicts)


def test_infeasible_cut_of_several_nodes_is_named():
    """Rows s1, s2 deliver only to column s3, whose total is too small for both: no single row or
    column is infeasible on its own, the cut {rows s1, s2; column s3} is (V must keep its sign)."""
    Z = np.array([[0.0, 0.0, 10.0], [0.0, 0.0, 10.0], [5.0, 5.0, 5.0]])
    Y = np.array([[0.0], [0.0], [30.0]])
    t = MRIOTable.from_arrays(Z, Y, regions=["R"], sectors=["s1", "s2", "s3"], fd_categories=["fd"])
    assert np.all(t.V > 0)
    with pytest.raises(InfeasibleError) as ei:     # the network path's own cut certificate
        anais(t, totals=[15.0, 15.0, 20.0], solver="network", elastic=False)
    assert {"known total output R|s1", "known total output R|s2", "known total output R|s3"} <= \
        set(ei.value.conflicts)
    with pytest.raises(InfeasibleError) as ei:     # elastic (default): the smallest relaxation, named
        anais(t, totals=[15.0, 15.0, 20.0], solver="network")
    assert ei.value.conflicts and all(c.split(" = ")[0] in {"known total output R|s1", "known total output R|s2",
                                                           "known total output R|s3"} for c in ei.value.conflicts)
    with pytest.raises(InfeasibleError):     # the LP path agrees
        anais(t, totals=[15.0, 15.0, 20.0], solver="highs")


def _grow_from_zero_case(seed):
    """Totals a row and a column of the prior's non-zero cells cannot reach within any small rho:
    with zero_policy="free" zero-prior cells must take the flow (the network path prices them in)."""
    prior, info = random_case(seed, zeros=0.5)
    x1 = np.array(info["totals"], dtype=float)
    x1[0] *= 3.0                           # a sector that triples (needs new suppliers / buyers)
    return prior, {"totals": x1}


@pytest.mark.parametrize("seed", range(3))
def test_free_zero_cells_priced_in_equal_lp(seed):
    prior, info = _grow_from_zero_case(seed)
    P = build_problem(prior, **info, zero_policy="free")
    sol = solve_network(P)
    assert sol.size["free_zero_cells"] > 0
    assert sol.size["free_zero_cells_priced_in"] <= sol.size["free_zero_cells"]
    a = anais(prior, solver="network", zero_policy="free", **info)
    b = anais(prior, solver="highs", zero_policy="free", **info)
    assert a.rho == pytest.approx(b.rho, rel=1e-6, abs=1e-9)
    assert a.objective == pytest.approx(b.objective, rel=1e-6, abs=1e-9)
    check_solution(prior, a, info, "relative", "free", "none")
