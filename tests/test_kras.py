"""KRAS (METHODS §5.4): checked against RAS/GRAS (xlmrio.core.ras, a separate algorithm), against a
separately written scipy.optimize solve of the same objective, and against the information itself."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import minimize

from conftest import random_mrio, worked_example
from xlmrio.core import ras as R
from xlmrio.core.kras import kras
from xlmrio.core.table import MRIOTable
from xlmrio.datasets import demo
from xlmrio.errors import InfeasibleError, OptionError
from xlmrio.update import Aggregate, CoefficientBound


def _margins(t1):
    F = np.hstack([t1.Y] + ([t1.exports[:, None]] if t1.exports is not None else []))
    return t1.x - F.sum(1), t1.x - t1.V.sum(0)


def _known_fd_va(t1):
    known = {"Y": t1.Y, "V": t1.V}
    if t1.exports is not None:
        known["exports"] = t1.exports
    return known


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_margins_only_equals_ras_random(seed):
    t0 = random_mrio(np.random.default_rng(seed), 3, 4)
    t1 = random_mrio(np.random.default_rng(seed + 100), 3, 4)
    res = kras(t0, totals=t1.x, known_cells=_known_fd_va(t1))
    u, v = _margins(t1)
    Zr = R.ras(t0.Z, u, v).Z
    assert np.allclose(res.table.Z, Zr, rtol=1e-8, atol=1e-9 * Zr.max())
    assert res.max_residual < 1e-9
    assert np.allclose(res.table.Y, t1.Y, rtol=1e-14)


def test_margins_only_equals_ras_real_pair():
    """The bundled WIOD-derived demo tables, 2002 -> 2007 (8 regions x 17 sectors)."""
    t0, t1 = demo(2002), demo(2007)
    res = kras(t0, totals=t1.x, known_cells=_known_fd_va(t1))
    u, v = _margins(t1)
    Zr = R.ras(t0.Z, u, v).Z
    assert np.abs(res.table.Z - Zr).max() <= 1e-7 * Zr.max()
    assert np.allclose(res.table.x, t1.x)


def test_signed_prior_equals_gras():
    """Final demand with negative inventory changes balanced to row and column totals = GRAS (§5.2)."""
    t0 = random_mrio(np.random.default_rng(7), 2, 3, exports=False)
    t1 = random_mrio(np.random.default_rng(8), 2, 3, exports=False)
    assert (t0.Y < 0).any()
    cols = [f"{r}|{c}" for r in t0.regions for c in t0.fd_categories]
    aggs = [Aggregate(f"FD {c}", [("Y", k, c) for k in t0.labels()], t1.Y[:, j].sum()) for j, c in enumerate(cols)]
    res = kras(t0, totals=t1.x, known_cells={"Z": t1.Z, "V": t1.V}, aggregates=aggs)
    Fg = R.gras(t0.Y, t1.x - t1.Z.sum(1), t1.Y.sum(0)).Z
    assert np.allclose(res.table.Y, Fg, rtol=1e-8, atol=1e-9 * np.abs(Fg).max())
    assert np.array_equal(np.sign(res.table.Y), np.sign(t0.Y))


def test_whole_table_equals_whole_table_gras():
    """Totals, FD column totals and VA row totals known (aggregates) = whole-table GRAS (§5.1 variant)."""
    t0 = random_mrio(np.random.default_rng(11), 2, 3, exports=False)
    t1 = random_mrio(np.random.default_rng(12), 2, 3, exports=False)
    fd_tot, va_tot = t1.Y.sum(0), t1.V.sum(1)
    aggs = [Aggregate(f"FD {c}", [("Y", k, c) for k in t0.labels()], fd_tot[j]) for j, c in
            enumerate(f"{r}|{c}" for r in t0.regions for c in t0.fd_categories)]
    aggs += [Aggregate(f"VA {d}", [("V", d, k) for k in t0.labels()], va_tot[i]) for i, d in enumerate(t0.va_rows)]
    res = kras(t0, totals=t1.x, aggregates=aggs)
    Z, F, _V, _ = R.balance_table(t0.Z, t0.Y, t0.V, t1.x, va_tot, fd_tot, method="gras")
    assert np.allclose(res.table.Z, Z, rtol=1e-7, atol=1e-9 * Z.max())
    assert np.allclose(res.table.Y, F, rtol=1e-7, atol=1e-9 * Z.max())


def _reference_solve(t0, aggs, totals, soft_se):
    """scipy SLSQP on the primal over all non-zero cells v and all totals w (not eliminated)."""
    Z0, F0, V0 = t0.Z, np.hstack([t0.Y, t0.exports[:, None]]), t0.V
    N, q, D = Z0.shape[0], F0.shape[1], V0.shape[0]
    p = np.concatenate([Z0.ravel(), F0.ravel(), V0.ravel()])
    nz = np.flatnonzero(p)
    nsoft = len(soft_se)

    def split(x):
        v = np.zeros(p.size)
        v[nz] = x[: nz.size]
        return v, x[nz.size: nz.size + N], x[nz.size + N:]

    def obj(x):
        v, _, eps = split(x)
        tt = v[nz] / p[nz]
        return np.sum(np.abs(p[nz]) * (tt * np.log(tt) - tt)) + np.sum(eps ** 2 / (2 * np.asarray(soft_se) ** 2))

    def eqs(x):
        v, w, eps = split(x)
        Z, F, V = v[: N * N].reshape(N, N), v[N * N: N * N + N * q].reshape(N, q), v[N * N + N * q:].reshape(D, N)
        out = [Z.sum(1) + F.sum(1) - w, Z.sum(0) + V.sum(0) - w]
        for k, val in totals.items():
            out.append([w[k] - val])
        si = 0
        for fn, val, soft in aggs:
            out.append([fn(Z, F, V, w) - val + (eps[si] if soft else 0.0)])
            si += soft
        return np.concatenate([np.atleast_1d(o) for o in out])

    x0 = np.concatenate([p[nz], t0.x, np.zeros(nsoft)])
    bounds = [(1e-9, None)] * nz.size + [(0, None)] * N + [(None, None)] * nsoft
    sol = minimize(obj, x0, method="SLSQP", constraints=[{"type": "eq", "fun": eqs}], bounds=bounds,
                   options={"maxiter": 1000, "ftol": 1e-14})
    assert sol.success, sol.message
    v, w, eps = split(sol.x)
    return v[: N * N].reshape(N, N), w, eps


def test_matches_independent_optimiser_with_soft_conflict():
    """Known totals for two sectors, a hard aggregate, and two conflicting soft aggregates."""
    t0 = worked_example()
    labs = t0.labels()            # R1|M, R1|S, R2|M, R2|S
    totals = {0: 110.0, 3: 66.0}
    aggs = [
        Aggregate("R1 buys from R2", [("Z", labs[2], labs[0]), ("Z", labs[2], labs[1])], 14.0),
        Aggregate("survey A", [("Z", labs[0], labs[2]), ("Z", labs[1], labs[2])], 20.0, soft=True, se=1.0),
        Aggregate("survey B", [("Z", labs[0], labs[2]), ("Z", labs[1], labs[2])], 26.0, soft=True, se=2.0),
    ]
    res = kras(t0, totals={labs[k]: v for k, v in totals.items()}, aggregates=aggs)
    ref_aggs = [
        (lambda Z, F, V, w: Z[2, 0] + Z[2, 1], 14.0, False),
        (lambda Z, F, V, w: Z[0, 2] + Z[1, 2], 20.0, True),
        (lambda Z, F, V, w: Z[0, 2] + Z[1, 2], 26.0, True),
    ]
    Zref, wref, eps = _reference_solve(t0, ref_aggs, totals, [1.0, 2.0])
    assert np.allclose(res.table.Z, Zref, rtol=2e-5, atol=1e-4)
    assert np.allclose(res.table.x, wref, rtol=2e-5)
    soft = res.residuals.set_index("item")
    ea = soft.loc["soft aggregate 'survey A' = 20", "eps"]
    eb = soft.loc["soft aggregate 'survey B' = 26", "eps"]
    assert np.allclose([ea, eb], eps, atol=1e-4)
    assert ea < 0 < eb and ea - eb == pytest.approx(-6.0)
    # the table meets the hard items exactly
    Z = res.table.Z
    assert Z[2, 0] + Z[2, 1] == pytest.approx(14.0, rel=1e-9)
    assert res.table.x[0] == pytest.approx(110.0) and res.table.x[3] == pytest.approx(66.0)
    assert np.allclose(Z.sum(1) + res.table.Y.sum(1) + res.table.exports, res.table.x)
    assert np.allclose(Z.sum(0) + res.table.V.sum(0), res.table.x)


def test_conflicts_reported_by_reliability():
    t0 = worked_example()
    labs = t0.labels()
    cells = [("Z", labs[0], labs[2]), ("Z", labs[1], labs[2])]
    with pytest.raises(InfeasibleError) as exc:
        kras(t0, aggregates=[Aggregate("A", cells, 20.0), Aggregate("B", cells, 26.0)])
    assert {"aggregate 'A' = 20", "aggregate 'B' = 26"} <= set(exc.value.conflicts)
    res = kras(t0, aggregates=[Aggregate("A", cells, 20.0, soft=True, se=0.1),
                               Aggregate("B", cells, 26.0, soft=True, se=0.1)])
    assert set(res.conflicts["item"]) == {"soft aggregate 'A' = 20", "soft aggregate 'B' = 26"}
    assert (res.conflicts["z"].abs() > 3).all()
    # equal reliabilities: the estimate sits half-way (the prior's pull is tiny at se = 0.1)
    assert res.table.Z[0, 2] + res.table.Z[1, 2] == pytest.approx(23.0, abs=0.01)


def test_information_is_met_with_bounds_and_known_cells():
    t0 = random_mrio(np.random.default_rng(21), 3, 3)
    t1 = random_mrio(np.random.default_rng(22), 3, 3)
    labs = t0.labels()
    known_Z = np.full(t0.Z.shape, np.nan)
    known_Z[0, :] = t1.Z[0, :]
    aggs = [Aggregate("R1 to R2|S0", [("Z", labs[k], labs[6]) for k in range(3, 6)], t1.Z[3:6, 6].sum()),
            Aggregate("R2 total", [("x", labs[k]) for k in range(3, 6)], t1.x[3:6].sum())]
    a = t1.Z[:, 4].sum() / t1.x[4]
    bounds = [CoefficientBound(column=labs[4], rows=labs, lower=0.98 * a, upper=1.02 * a)]
    res = kras(t0, totals={labs[k]: t1.x[k] for k in range(3)}, known_cells={"Z": known_Z, "Y": t1.Y},
               aggregates=aggs, coefficient_bounds=bounds)
    T = res.table
    assert np.allclose(T.Z[0], t1.Z[0]) and np.allclose(T.Y, t1.Y)
    assert T.Z[3:6, 6].sum() == pytest.approx(t1.Z[3:6, 6].sum(), rel=1e-9)
    assert T.x[3:6].sum() == pytest.approx(t1.x[3:6].sum(), rel=1e-9)
    assert 0.98 * a - 1e-9 <= T.Z[:, 4].sum() / T.x[4] <= 1.02 * a + 1e-9
    assert np.allclose(T.x[:3], t1.x[:3])
    assert np.allclose(T.Z.sum(1) + T.Y.sum(1) + T.exports, T.x) and np.allclose(T.Z.sum(0) + T.V.sum(0), T.x)
    assert (T.Z >= 0).all()


def test_zero_prior_aggregate_is_seeded_not_infeasible():
    t0 = worked_example()
    Z0 = t0.Z.copy()
    Z0[2, 0] = Z0[3, 0] = 0.0          # R2 sells nothing to R1|M in the prior
    t0 = MRIOTable.from_arrays(Z0, t0.Y, regions=t0.regions, sectors=t0.sectors, fd_categories=t0.fd_categories,
                               exports=t0.exports, V=t0.V + (t0.Z.sum(0) - Z0.sum(0)), x=t0.x)
    labs = t0.labels()
    agg = Aggregate("R2 to R1|M", [("Z", labs[2], labs[0]), ("Z", labs[3], labs[0])], 9.0)
    res = kras(t0, aggregates=[agg])
    assert res.table.Z[2, 0] + res.table.Z[3, 0] == pytest.approx(9.0)
    assert len(res.seeded) == 2 and (res.seeded["prior"] == 4.5).all()
    with pytest.raises(InfeasibleError, match="R2 to R1"):
        kras(t0, aggregates=[agg], zero_policy="fixed")


def test_bad_options():
    t0 = worked_example()
    with pytest.raises(OptionError):
        kras(t0, zero_policy="free")
    with pytest.raises(OptionError):
        kras(t0, rel_se=0)


def test_sign_flip_is_reseeded_and_zero_aggregate_forces_zeros():
    """An inventory change that turns negative (all members' priors positive) is re-seeded from the
    prior's pattern; an aggregate of value 0 over positive cells fixes them at zero."""
    t0 = worked_example()
    labs = t0.labels()
    col = "R1|FD"
    grp = Aggregate("R1 FD from R2", [("Y", labs[2], col), ("Y", labs[3], col)], -6.0)
    zero = Aggregate("R2|S to R1", [("Z", labs[3], labs[0]), ("Z", labs[3], labs[1])], 0.0)
    res = kras(t0, aggregates=[grp, zero])
    Y = res.table.Y
    assert Y[2, 0] + Y[3, 0] == pytest.approx(-6.0)
    assert Y[2, 0] < 0 and Y[3, 0] < 0
    # the new priors follow the old pattern 14 : 3
    seeded = res.seeded.set_index("row")
    assert seeded.loc[labs[2], "prior"] / seeded.loc[labs[3], "prior"] == pytest.approx(14 / 3)
    assert res.table.Z[3, 0] == 0 and res.table.Z[3, 1] == 0
    with pytest.raises(InfeasibleError):
        kras(t0, aggregates=[grp], zero_policy="fixed")


def test_update_auto_picks_by_information():
    from xlmrio.update import choose_method, update

    t0, t1 = demo(2002), demo(2007)
    margins = dict(totals=t1.x, known_cells=_known_fd_va(t1))
    res = update(t0, **margins)
    assert res.method == "gras" and "margins" in res.reason
    u, v = _margins(t1)
    assert np.abs(res.table.Z - R.ras(t0.Z, u, v).Z).max() <= 1e-7 * t1.Z.max()
    cells = dict(margins, known_cells={**_known_fd_va(t1), "Z": np.where(t1.Z > np.quantile(t1.Z, 0.99), t1.Z, np.nan)})
    assert choose_method(**cells)[0] == "kras"
    assert choose_method(aggregates=[Aggregate("a", [("Z", t0.labels()[0], t0.labels()[1])], 1.0)])[0] == "kras"
    assert choose_method(aggregates=[Aggregate("a", [("x", t0.labels()[0])], 1.0)])[0] == "gras"
    with pytest.raises(OptionError, match="kras"):
        update(t0, method="ras", **cells)
    with pytest.raises(OptionError):
        update(t0, method="magic", **margins)


# ---------------------------------------------------------------- regions known only as a group (METHODS §4.6)

def _grouped(t0, t1, group):
    """Grouped-regions information (written here, independently of bench/bench_update_grouped.py): cells
    and totals outside the group known; the group's cells known only as sums over its members."""
    labs, n, K = t0.labels(), t0.n, t0.K
    ing = np.array([t0.regions[k // n] in group for k in range(t0.N)])
    rkey = [("G", k % n) if ing[k] else k for k in range(t0.N)]
    sums: dict = {}
    for k in range(t0.N):
        for l in range(t0.N):
            if ing[k] or ing[l]:
                sums.setdefault(("Z", rkey[k], rkey[l]), []).append((("Z", labs[k], labs[l]), t1.Z[k, l]))
        for j in range(t0.m * K):
            reg = t0.regions[j // K]
            if ing[k] or reg in group:
                ck = ("G", j % K) if reg in group else j
                sums.setdefault(("Y", rkey[k], ck), []).append(
                    (("Y", labs[k], (reg, t0.fd_categories[j % K])), t1.Y[k, j]))
        if ing[k]:
            if t0.exports is not None:
                sums.setdefault(("E", rkey[k]), []).append((("exports", labs[k]), t1.exports[k]))
            sums.setdefault(("V", rkey[k]), []).append((("V", t0.va_rows[0], labs[k]), t1.V[0, k]))
            sums.setdefault(("x", rkey[k]), []).append((("x", labs[k]), t1.x[k]))
    aggs = [Aggregate(str(key), [m for m, _ in mem], float(sum(v for _, v in mem))) for key, mem in sums.items()]
    Yin = np.array([t0.regions[j // K] in group for j in range(t0.m * K)])
    known = {"Z": np.where(ing[:, None] | ing[None, :], np.nan, t1.Z),
             "Y": np.where(ing[:, None] | Yin[None, :], np.nan, t1.Y), "V": np.where(ing[None, :], np.nan, t1.V)}
    if t0.exports is not None:
        known["exports"] = np.where(ing, np.nan, t1.exports)
    return dict(totals=np.where(ing, np.nan, t1.x), known_cells=known, aggregates=aggs), ing, sums


def _split_Z(t0, sums):
    """Each Z sum split by the prior's shares within it."""
    labs = {lab: k for k, lab in enumerate(t0.labels())}
    Z = np.full(t0.Z.shape, np.nan)
    for key, mem in sums.items():
        if key[0] != "Z":
            continue
        idx = [(labs[r], labs[c]) for (_, r, c), _ in mem]
        p = np.array([t0.Z[k, l] for k, l in idx])
        b = sum(v for _, v in mem)
        share = p / p.sum() if p.sum() > 0 else np.full(p.size, 1.0 / p.size)
        for (k, l), s in zip(idx, share):
            Z[k, l] = b * s
    return Z


@pytest.fixture(scope="module")
def grouped_pair():
    t0 = random_mrio(np.random.default_rng(3), 4, 3, negative_inventory=False)
    rng = np.random.default_rng(4)
    # a "later year": the prior's structure perturbed, so the update has something to find
    A = t0.Z / t0.x[None, :] * rng.uniform(0.7, 1.3, t0.Z.shape)
    Y = t0.Y * rng.uniform(0.8, 1.5, t0.Y.shape)
    E = t0.exports * rng.uniform(0.8, 1.5, t0.N)
    x = np.linalg.solve(np.eye(t0.N) - A, Y.sum(1) + E)
    Z = A * x[None, :]
    t1 = MRIOTable.from_arrays(Z, Y, regions=t0.regions, sectors=t0.sectors, fd_categories=t0.fd_categories,
                               exports=E, V=(x - Z.sum(0))[None, :], x=x)
    return t0, t1, ("R1", "R2")


def test_grouped_without_balances_is_the_proportional_split(grouped_pair):
    """The only difference between KRAS and the proportional split on grouped information is the members'
    balances: without them KRAS returns the split (its objective relative to the prior and to the split
    differ by a constant on the aggregates' set)."""
    t0, t1, group = grouped_pair
    info, ing, sums = _grouped(t0, t1, group)
    split = _split_Z(t0, sums)
    m = ing[:, None] | ing[None, :]
    none = kras(t0, balance="none", **info).table.Z
    assert np.abs(none[m] - split[m]).max() <= 1e-8 * t1.Z.max()
    full = kras(t0, **info).table.Z                     # with the balances it moves
    assert np.abs(full[m] - split[m]).max() > 1e-4 * t1.Z.max()


def test_z_split_holds_the_split_and_balances(grouped_pair):
    t0, t1, group = grouped_pair
    info, ing, sums = _grouped(t0, t1, group)
    split = _split_Z(t0, sums)
    m = ing[:, None] | ing[None, :]
    res = kras(t0, z_aggregates="split", **info)
    T = res.table
    assert np.abs(T.Z[m] - split[m]).max() <= 1e-8 * t1.Z.max()
    assert np.allclose(T.Z[~m], t1.Z[~m])
    assert np.allclose(T.Z.sum(1) + T.Y.sum(1) + T.exports, T.x, rtol=1e-8)
    assert np.allclose(T.Z.sum(0) + T.V.sum(0), T.x, rtol=1e-8)
    # every group sum of final demand, exports, primary inputs and total output holds
    for key, mem in sums.items():
        if key[0] == "x":
            lab = [r[1] for r, _ in mem]
            got = sum(T.x[t0.labels().index(lb)] for lb in lab)
            assert got == pytest.approx(sum(v for _, v in mem), rel=1e-8)
    assert res.size["z_split"] == int(m.sum()) and "split" in res.note
    with pytest.raises(OptionError, match="z_aggregates"):
        kras(t0, z_aggregates="spread", **info)


def test_z_split_falls_back_when_the_balances_cannot_hold(grouped_pair):
    """Final demand and primary inputs all known: holding the split Z leaves the members' balances
    unmeetable, so every cell is left free again (and said so)."""
    t0, t1, group = grouped_pair
    info, ing, sums = _grouped(t0, t1, group)
    known = {"Y": t1.Y, "exports": t1.exports, "V": t1.V, "Z": info["known_cells"]["Z"]}
    aggs = [g for g in info["aggregates"] if g.members[0][0] == "Z"]
    res = kras(t0, z_aggregates="split", totals=info["totals"], known_cells=known, aggregates=aggs)
    assert "infeasible" in res.note
    T = res.table
    assert np.allclose(T.Z.sum(1) + T.Y.sum(1) + T.exports, T.Z.sum(0) + T.V.sum(0), rtol=1e-8)


def test_update_auto_splits_grouped_z(grouped_pair):
    from xlmrio.update import update

    t0, t1, group = grouped_pair
    info, ing, sums = _grouped(t0, t1, group)
    res = update(t0, method="auto", **info)
    assert res.method == "kras" and "split" in res.result.note
    assert "split" not in update(t0, method="kras", **info).result.note


def test_auto_on_the_demo_grouped_case_is_the_split_balanced():
    """Real data (bundled demo, 2002 -> 2007, CHN+JPN+KOR+TWN known only as a group): auto's Z cells are
    the proportional split's, the table balances, and its members' totals beat the split's (the split
    of the group's totals by the prior's shares: 34.8 % WAPE); ANAIS's default cannot solve it."""
    from xlmrio.update import anais, compare, update

    t0, t1 = demo(2002), demo(2007)
    group = ("CHN", "JPN", "KOR+TWN")
    info, ing, sums = _grouped(t0, t1, group)
    res = update(t0, method="auto", **info)
    T = res.table
    m = ing[:, None] | ing[None, :]
    split = _split_Z(t0, sums)
    assert np.abs(T.Z[m] - split[m]).max() <= 1e-7 * t1.Z.max()
    assert np.allclose(T.Z.sum(1) + T.Y.sum(1), T.x, rtol=1e-8) and np.allclose(T.Z.sum(0) + T.V.sum(0), T.x, rtol=1e-8)
    x_split = np.array(t1.x, dtype=float)
    for key, mem in sums.items():
        if key[0] == "x":
            idx = [t0.labels().index(r[1]) for r, _ in mem]
            x_split[idx] = sum(v for _, v in mem) * t0.x[idx] / t0.x[idx].sum()
    w_auto, w_split = compare(T.x[ing], t1.x[ing])["wape"], compare(x_split[ing], t1.x[ing])["wape"]
    assert w_split == pytest.approx(34.77, abs=0.01)
    assert w_auto < w_split - 1.0
    with pytest.raises(InfeasibleError):
        anais(t0, elastic=False, **info)
