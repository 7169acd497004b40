"""KRAS: GRAS under any, possibly conflicting, linear information (METHODS.md §5.4).

Concept from Lenzen, Gallego & Wood (2009), "Matrix balancing under conflicting information",
*Economic Systems Research* 21(1); the formulation (this project's, exact and convex) is

    minimise   sum_c |p_c| (t_c ln t_c - t_c)  +  sum_g eps_g^2 / (2 se_g^2)
    subject to G v + eps = b,   G_I v <= b_I,   v_c = p_c t_c,  t_c >= 0

over the free cells ``c`` of ``Z``, ``F = [Y | exports | other]`` and ``V`` (the first term is
GRAS's information loss, §5.2, so signed cells keep their sign; ``eps_g = 0`` for hard items).
It takes exactly the information of :func:`xlmrio.core.anais.anais`: known totals and cells,
:class:`~xlmrio.core.anais.Aggregate` items (``soft=True`` items carry a standard error ``se``,
default ``rel_se * |value|``), coefficient bounds (inequalities) and reference-region bounds.

Solve: Newton's method on the concave dual (one multiplier per information item, not per
cell): ``t_c(lambda) = exp(sign(p_c) (G' lambda)_c)``; gradient ``b - G v - se^2 lambda``; Hessian
``-G diag(|p| t) G' - diag(se^2)``; bound multipliers ``lambda_I <= 0`` by a projected Newton step;
Armijo back-tracking.  Unknown total outputs are eliminated: ``w_k`` is replaced by the row sum of
``k`` wherever it appears, and the balance of ``k`` becomes "row sum = column sum".

Zero-prior cells (``zero_policy``): ``"fixed"`` keeps them zero (structural zeros, as RAS);
``"seed"`` (default) handles an equality item that the prior's signs cannot meet — its value is
non-zero while every free member has a zero prior, or a prior of the other sign (an inventory
change turning negative) — which would make the problem infeasible: its members get a new prior,
the item's value split by the prior's pattern (signs flip), or evenly when the members are all
zero.  The re-seeded cells are reported (``KrasResult.seeded``).  Any other cell keeps its prior
and sign; other zero-prior cells stay zero.  A hard aggregate given as 0 (to 1e-9 of the largest prior cell) sets its members
to 0 (with either policy).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp

from xlmrio.core.anais import Aggregate, CoefficientBound, ReferenceRegions, _make_table, build_problem
from xlmrio.errors import ConvergenceError, InfeasibleError, OptionError

if TYPE_CHECKING:  # pragma: no cover
    from xlmrio.core.table import MRIOTable

__all__ = ["kras", "KrasResult", "CONFLICT_Z"]

CONFLICT_Z = 3.0          # a soft item whose |eps / se| exceeds this is reported as a conflict (§5.4)
DENSE_SMALL = 1500        # Newton system always solved densely up to this many items
DENSE_MAX = 6000          # ... and up to this many when it is more than 10 % filled; else sparse LU (CG last)
WARM_SWEEPS = 5           # classical KRAS scaling sweeps before Newton (see _warm_start)
_EXP_CAP = 600.0          # cap on the exponent (no overflow while the line search probes)


@dataclass
class KrasResult:
    """Outcome of :func:`kras`.

    Attributes
    ----------
    table : MRIOTable
        The balanced table (``Z``, ``Y``/exports/other, ``V``, ``x``; money units of the prior).
    iterations : int
        Newton iterations.
    max_residual : float
        Largest relative residual ``|b - G v| / max(|b|, sum |G v|)`` of the hard items and
        bound violations (dimensionless).
    residuals : pandas.DataFrame
        One row per information item (balances, totals, aggregates, bounds): ``item``, ``kind``
        (hard / soft / bound), ``target``, ``value`` (money units; both count the free cells only,
        known cells are on the right-hand side), ``eps = target - value``,
        ``se`` and ``z = eps / se`` (soft items).
    conflicts : pandas.DataFrame
        The soft items with ``|z| > CONFLICT_Z`` (the rows of ``residuals``), largest first.
    seeded : pandas.DataFrame
        Cells given a new prior by ``zero_policy="seed"``: block, row, column, prior (the new one), value.
    seconds : float
        Wall time (build + solve).
    size : dict
        Problem size: free cells, items, seeded cells, ``Z`` cells held at a split (``z_split``).
    note : str
        What ``z_aggregates="split"`` did (or why it fell back); empty otherwise.
    """

    table: Any
    iterations: int
    max_residual: float
    residuals: pd.DataFrame
    conflicts: pd.DataFrame
    seeded: pd.DataFrame
    seconds: float
    size: dict = field(default_factory=dict)
    note: str = ""


def _row_sum_expr(P, n_cells: int) -> sp.csr_matrix:
    """(N, cells): w_k expressed as the row sum of k (Z row k and F row k)."""
    N, q = P.N, P.q
    rows = np.concatenate([np.repeat(np.arange(N), N), np.repeat(np.arange(N), q)])
    cols = np.concatenate([np.arange(N * N), N * N + np.arange(N * q)])
    return sp.csr_matrix((np.ones(rows.size), (rows, cols)), shape=(N, n_cells))


def _forced_zeros(G: sp.csr_matrix, rhs, eq, p, free, tiny, zero_aggs=()) -> np.ndarray:
    """Cells an item of value 0 forces to zero: all its free members' terms ``G_gc p_c`` have one sign
    (as RAS's zero target row), or the item is an aggregate given as exactly 0 (``zero_aggs``: its
    members are taken to be 0, not positive and negative cells that cancel).  Repeated until nothing
    changes; returns a bool mask over cells."""
    zero = np.zeros(p.size, dtype=bool)
    for i in zero_aggs:
        lo, hi = G.indptr[i], G.indptr[i + 1]
        cols = G.indices[lo:hi][G.data[lo:hi] != 0]
        zero[cols[free[cols]]] = True
    rows = np.flatnonzero(eq & (np.abs(rhs) <= tiny))
    changed = True
    while changed:
        changed = False
        for i in rows:
            lo, hi = G.indptr[i], G.indptr[i + 1]
            cols, vals = G.indices[lo:hi], G.data[lo:hi]
            ok = free[cols] & ~zero[cols] & (p[cols] != 0) & (vals != 0)
            terms = vals[ok] * p[cols[ok]]
            if ok.any() and ((terms > 0).all() or (terms < 0).all()):
                zero[cols[ok]] = True
                changed = True
            # a plain sum (one-signed coefficients) of value 0 whose non-zero members are all positive:
            # its zero-prior members must stay zero too (they may not be seeded by another item)
            rest = free[cols] & ~zero[cols] & (vals != 0)
            if rest.any() and ((vals[rest] > 0).all() or (vals[rest] < 0).all()) and (terms >= 0).all():
                zero[cols[rest]] = True
                changed = True
    return zero


def _seed(G: sp.csr_matrix, rhs, eq, p, free, tiny) -> dict[int, float]:
    """New priors for the free members of equality items that the prior's sign pattern cannot meet.

    An item is unreachable when its value ``b`` is non-zero and no free member has a term
    ``G_gc p_c`` of the sign of ``b`` (all members zero, or all of the other sign, e.g. an
    inventory change that turns negative).  Its members get the prior ``p_c b / sum_c G_gc p_c``
    (the prior's pattern, rescaled to ``b``; signs flip), or ``b`` split evenly when that sum is 0.
    """
    seeded: dict[int, float] = {}
    pp = p.copy()
    for i in np.flatnonzero(eq & (np.abs(rhs) > tiny)):
        lo, hi = G.indptr[i], G.indptr[i + 1]
        cols, vals = G.indices[lo:hi], G.data[lo:hi]
        ok = free[cols] & (vals != 0)
        cols, vals = cols[ok], vals[ok]
        if cols.size == 0:
            continue
        terms = vals * pp[cols]
        if np.any(np.sign(terms) == np.sign(rhs[i])):
            continue
        tot = float(terms.sum())
        if tot != 0.0:
            newp = pp[cols] * (rhs[i] / tot)
        else:
            newp = vals * (rhs[i] / float(np.sum(vals * vals)))
        for c, val in zip(cols, newp):
            seeded[int(c)] = float(val)
            pp[c] = val
    return seeded


def _split_z_aggregates(P, fam, hard) -> tuple[np.ndarray, np.ndarray, dict[int, float]]:
    """Hold the cells of hard ``Z``-only aggregates at the prior's within-aggregate shares.

    An aggregate qualifies when its members are ``Z`` cells with coefficient 1, it names no total
    output, and its free members appear in no other item but the balances (so holding them cannot
    contradict another item).  Its value ``b`` (less known members) is split as ``p_c b / sum p``
    when the members' prior sum has the sign of ``b`` and no member has the other sign, evenly when
    every member's prior is zero, and to zeros when ``b = 0``; other aggregates stay free.
    Returns the new ``fixed`` mask, ``base`` values (scaled) and ``{cell: held value}``.
    """
    nz = P.N * P.N
    A = P.A_cell.tocsr()
    other = np.flatnonzero(fam != "balance")
    count = np.bincount(A[other].indices, minlength=P.n_cells)
    no_w = np.diff(P.A_w.tocsr().indptr) == 0
    fixed, base = P.fixed.copy(), P.base.copy()
    held: dict[int, float] = {}
    tiny = 1e-12
    for i in np.flatnonzero((fam == "aggregate") & hard & no_w):
        cols, vals = A.indices[A.indptr[i]:A.indptr[i + 1]], A.data[A.indptr[i]:A.indptr[i + 1]]
        if cols.size == 0 or np.any(cols >= nz) or np.any(vals != 1.0):
            continue
        fr = cols[~fixed[cols]]
        if fr.size == 0 or np.any(count[fr] != 1):
            continue
        b = P.rhs[i] - float(base[cols[fixed[cols]]].sum())
        pp = P.p[fr]
        s = float(pp.sum())
        if abs(b) <= tiny:
            new = np.zeros(fr.size)
        elif np.all(pp == 0):
            new = np.full(fr.size, b / fr.size)
        elif s != 0 and np.sign(s) == np.sign(b) and np.all(pp * np.sign(b) >= 0):
            new = pp * (b / s)
        else:
            continue
        base[fr] = new
        fixed[fr] = True
        held.update(zip(fr.tolist(), new.tolist()))
    return fixed, base, held


def _warm_start(A: sp.csr_matrix, b, pv, hard, sweeps: int = WARM_SWEEPS) -> np.ndarray:
    """Multipliers after a few sweeps of the classical KRAS row scaling (Gauss-Seidel on the dual).

    Only hard items whose members all have coefficient 1 and a positive prior and whose value is
    positive are scaled (``t_c *= b / sum(v)`` for the item's members, the RAS step); Newton starts
    from the result, which is far closer to the optimum than 0 when the table grows a lot.
    """
    lam = np.zeros(A.shape[0])
    t = np.ones(pv.size)
    ok = [i for i in np.flatnonzero(hard & (b > 0))
          if np.all(A.data[A.indptr[i]:A.indptr[i + 1]] == 1.0)
          and np.all(pv[A.indices[A.indptr[i]:A.indptr[i + 1]]] > 0)]
    if not ok:
        return lam
    for _ in range(sweeps):
        for i in ok:
            cols = A.indices[A.indptr[i]:A.indptr[i + 1]]
            S = float(pv[cols] @ t[cols])
            if S > 0:
                f = b[i] / S
                t[cols] *= f
                lam[i] += np.log(f)
    return lam


def _newton_direction(H: sp.csr_matrix, g: np.ndarray) -> np.ndarray:
    """Solve ``H d = g`` (H symmetric positive semi-definite, a tiny ridge for redundant items).

    Dense Cholesky-type solve when small or well filled, sparse LU otherwise, preconditioned CG last.
    """
    n = g.size
    ridge = 1e-12 * max(float(H.diagonal().max(initial=0.0)), 1e-300)
    Hr = (H + sp.diags(np.full(n, ridge))).tocsr()
    if n <= DENSE_SMALL or (n <= DENSE_MAX and H.nnz > 0.1 * n * n):
        Hd = Hr.toarray()
        try:
            return np.linalg.solve(Hd, g)
        except np.linalg.LinAlgError:
            return np.linalg.lstsq(Hd, g, rcond=None)[0]
    from scipy.sparse.linalg import LinearOperator, cg, splu

    try:
        return splu(Hr.tocsc(), permc_spec="MMD_AT_PLUS_A").solve(g)
    except RuntimeError:   # exactly singular factor
        diag = Hr.diagonal()
        M = LinearOperator(Hr.shape, matvec=lambda r: r / diag)
        return cg(Hr, g, M=M, rtol=1e-10, maxiter=5000)[0]


def kras(
    prior: "MRIOTable",
    *,
    totals=None,
    known_cells=None,
    aggregates: Sequence[Aggregate] | None = None,
    coefficient_bounds: Sequence[CoefficientBound] | None = None,
    reference_regions: ReferenceRegions | None = None,
    rel_se: float = 0.05,
    zero_policy: str = "seed",
    z_aggregates: str = "balance",
    balance: str = "hard",
    tol: float = 1e-9,
    maxiter: int = 200,
) -> KrasResult:
    """Balance ``prior`` to any linear information by KRAS (METHODS.md §5.4).

    Parameters
    ----------
    prior : MRIOTable
        The prior table (money units ``prior.monetary_unit``); cells of either sign.
    totals, known_cells, aggregates, coefficient_bounds, reference_regions
        Target information, any subset, in the formats of :func:`xlmrio.core.anais.anais`.
        Hard aggregates and known totals/cells must hold; ``soft=True`` aggregates may miss by
        ``eps`` at a cost ``eps^2 / (2 se^2)``.
    rel_se : float
        Standard error of a soft aggregate without its own ``se``, relative to ``|value|``.
    zero_policy : {"seed", "fixed"}
        See the module docstring.  ``"fixed"`` keeps every zero-prior cell at zero.
    z_aggregates : {"balance", "split"}
        ``"balance"`` (default): every cell is free and KRAS meets all items at once.
        ``"split"``: each hard aggregate of intermediate flows (``Z`` cells only, coefficient 1, no
        total outputs) whose cells appear in no other item except the balances is split by the
        prior's shares within it (evenly when its prior is all zero) and held; KRAS then meets the
        balances with the remaining cells (final demand, primary inputs, other ``Z`` cells).  This is
        what ``update(method="auto")`` runs for regions known only as a group (docs/update-accuracy.md:
        the balances move the group's ``Z`` cells by noise-level amounts, either way, while they
        improve its total outputs).  Falls back to ``"balance"`` (reported in ``note``) when the held
        cells leave the balances infeasible.
    balance : {"hard", "none"}
        ``"none"`` drops the row/column balance items and with them the known totals (a diagnostic:
        with aggregates that partition the unknown cells the result is their proportional split).
    tol : float
        Convergence tolerance on the largest relative residual of the hard items (Newton also
        stops when, below 1e-7, the residual no longer halves: the floating-point floor).
    maxiter : int
        Newton iterations before giving up.

    Returns
    -------
    KrasResult

    Raises
    ------
    InfeasibleError
        Hard items that cannot all hold (named, largest residual first), or an item with a non-zero
        value and no free member.
    ConvergenceError
        No convergence within ``maxiter`` although no conflict was identified.
    """
    t0 = time.perf_counter()
    if z_aggregates not in ("balance", "split"):
        raise OptionError(f"z_aggregates must be 'balance' or 'split', not {z_aggregates!r}")
    if z_aggregates == "split":
        kw = dict(totals=totals, known_cells=known_cells, aggregates=aggregates,
                  coefficient_bounds=coefficient_bounds, reference_regions=reference_regions, rel_se=rel_se,
                  zero_policy=zero_policy, balance=balance, tol=tol, maxiter=maxiter)
        try:
            return _kras(prior, split_z=True, **kw)
        except (InfeasibleError, ConvergenceError) as exc:
            res = _kras(prior, split_z=False, **kw)
            res.note = (f"z_aggregates='split' was infeasible ({str(exc)[:200]}); every cell was left free "
                        "(z_aggregates='balance')")
            res.seconds = time.perf_counter() - t0
            return res
    return _kras(prior, split_z=False, totals=totals, known_cells=known_cells, aggregates=aggregates,
                 coefficient_bounds=coefficient_bounds, reference_regions=reference_regions, rel_se=rel_se,
                 zero_policy=zero_policy, balance=balance, tol=tol, maxiter=maxiter)


def _kras(prior, *, split_z: bool, totals, known_cells, aggregates, coefficient_bounds, reference_regions,
          rel_se, zero_policy, balance, tol, maxiter) -> KrasResult:
    t0 = time.perf_counter()
    if zero_policy not in ("seed", "fixed"):
        raise OptionError(f"zero_policy must be 'seed' or 'fixed', not {zero_policy!r}")
    if not rel_se > 0:
        raise OptionError(f"rel_se must be positive, not {rel_se!r}")
    aggs = list(aggregates or ())
    for g in aggs:
        if not isinstance(g, Aggregate):
            raise OptionError(f"aggregates must be Aggregate items, got {type(g).__name__}")
    P = build_problem(prior, totals=totals, known_cells=known_cells,
                      aggregates=[replace(g, soft=False) for g in aggs],
                      coefficient_bounds=coefficient_bounds, reference_regions=reference_regions,
                      zero_policy="free")
    n_cells, N, sigma = P.n_cells, P.N, P.sigma
    fam = np.array(P.item_family)
    names = list(P.item_names)
    eq = P.sense == "E"
    # standard errors (scaled units): aggregate rows follow the order of `aggs`
    se = np.zeros(len(names))
    agg_rows = np.flatnonzero(fam == "aggregate")
    for i, g in zip(agg_rows, aggs):
        if g.soft:
            se[i] = (float(g.se) if g.se is not None else rel_se * abs(float(g.value))) / sigma
            names[i] = f"soft aggregate {g.name!r} = {g.value:.10g}"

    # eliminate unknown totals (w_k := row sum of k) and move known totals and fixed cells to the rhs
    known_w = ~np.isnan(P.w_known)
    G = P.A_cell.tocsr()
    if (~known_w).any():
        G = G + (P.A_w[:, ~known_w] @ _row_sum_expr(P, n_cells)[~known_w]).tocsr()
    rhs = P.rhs - P.A_w[:, known_w] @ P.w_known[known_w]
    fixed, base = P.fixed, P.base
    z_split: dict[int, float] = {}
    if split_z:
        fixed, base, z_split = _split_z_aggregates(P, fam, eq & (se == 0))
    rhs = rhs - G[:, fixed] @ base[fixed]
    G.eliminate_zeros()
    if balance not in ("hard", "none"):
        raise OptionError(f"balance must be 'hard' or 'none', not {balance!r}")
    isbal = fam == "balance"
    if balance == "none":
        keep = ~isbal
        G, rhs, eq, se, fam = G[keep], rhs[keep], eq[keep], se[keep], fam[keep]
        names = [nm for nm, k in zip(names, keep) if k]
        agg_rows = np.flatnonzero(fam == "aggregate")
    free = ~fixed
    tiny = 1e-12

    p = P.p.copy()
    zero_aggs = [i for i, g in zip(agg_rows, aggs) if abs(float(g.value)) <= 1e-9 * sigma and not g.soft]
    forced = _forced_zeros(G, rhs, eq, p, free, tiny, zero_aggs)   # t -> 0 only at infinite multipliers
    p[forced] = 0.0
    free = free & ~forced
    seeded = _seed(G, rhs, eq, p, free, tiny) if zero_policy == "seed" else {}
    for c, val in seeded.items():
        p[c] = val
    var = free & (p != 0)
    vidx = np.flatnonzero(var)
    Gv = G[:, vidx].tocsr()
    pv = p[vidx]
    sgn = np.sign(pv)
    a = np.abs(pv)

    # items with no free member: hold or conflict, nothing to solve for
    has = np.diff(Gv.indptr) > 0
    bad = []
    for i in np.flatnonzero(~has):
        if (eq[i] and abs(rhs[i]) > 1e-9 and se[i] == 0) or (not eq[i] and rhs[i] < -1e-9):
            bad.append(i)
    if bad:
        detail = "; ".join(f"{names[i]} (off by {abs(rhs[i]) * sigma:.6g}, no free cell can change it)"
                           for i in bad[:10])
        raise InfeasibleError("KRAS: hard information that known or structurally zero cells already "
                              f"contradict: {detail}" + (f"; and {len(bad) - 10} more" if len(bad) > 10 else ""),
                              conflicts=[names[i] for i in bad])
    act = np.flatnonzero(has)
    A = Gv[act].tocsr()
    b = rhs[act]
    # the objective is divided by sigma along with the money values: the entropy term scales with
    # 1/sigma, the penalty eps^2/(2 se^2) does not, so its variance in scaled units is se_s^2 * sigma
    s2 = se[act] ** 2 * sigma
    ineq = ~eq[act]
    absA = abs(A)
    AT = A.T.tocsr()

    def primal(lam):
        e = np.clip(sgn * (AT @ lam), -_EXP_CAP, _EXP_CAP)
        return np.exp(e)

    def dual(lam, t):
        return float(lam @ b - a @ t - 0.5 * np.sum(s2 * lam * lam))

    lam = _warm_start(A, b, pv, eq[act] & (s2 == 0))
    t = primal(lam)
    phi = dual(lam, t)
    it, conv, rel, prev = 0, False, np.inf, np.inf
    for it in range(1, maxiter + 1):
        v = pv * t
        Av = A @ v
        grad = b - Av - s2 * lam
        scale = np.maximum(np.abs(b), absA @ np.abs(v)) + tiny
        viol = np.where(ineq, np.maximum(-grad, 0.0) * (lam >= 0) + np.abs(grad) * (lam < 0), np.abs(grad))
        viol = np.where(ineq & (lam >= 0) & (grad >= 0), 0.0, viol)
        rel = float(np.max(viol / scale, initial=0.0))
        # converged, or at the floating-point floor (quadratic convergence stopped below 1e-7)
        if rel < tol or (rel < 1e-7 and rel > 0.5 * prev):
            conv = True
            break
        prev = rel
        # projected Newton: bound multipliers at 0 whose gradient pushes outwards stay put
        hold = ineq & (lam >= 0) & (grad > 0)
        fr = np.flatnonzero(~hold)
        D = a * t
        H = (A[fr].multiply(D[None, :]) @ A[fr].T).tocsr()
        H = H + sp.diags(s2[fr])
        d = np.zeros(act.size)
        d[fr] = _newton_direction(H, grad[fr])
        step, slope = 1.0, float(grad @ d)
        while step > 1e-12:
            new = lam + step * d
            new[ineq] = np.minimum(new[ineq], 0.0)
            tn = primal(new)
            pn = dual(new, tn)
            # Armijo; close to the optimum (rel < 1e-4) the full Newton step is taken: the dual's
            # gain is then below its floating-point resolution
            if pn >= phi + 1e-4 * step * max(slope, 0.0) or (step == 1.0 and rel < 1e-4 and np.isfinite(pn)):
                break
            step *= 0.5
        else:
            break  # no ascent possible: stalled
        lam, t, phi = new, tn, pn
    v = pv * t
    Av = A @ v
    eps = b - Av
    hard = eq[act] & (s2 == 0)
    scale = np.maximum(np.abs(b), absA @ np.abs(v)) + tiny
    hres = np.where(hard, np.abs(eps), 0.0)
    hres = np.where(ineq, np.maximum(-eps, 0.0), hres)
    if not conv:
        worst = np.argsort(-hres / scale)
        worst = [j for j in worst if hres[j] / scale[j] > 1e-6][:10]
        if worst:
            detail = "; ".join(f"{names[act[j]]} (off by {hres[j] * sigma:.6g})" for j in worst)
            raise InfeasibleError("KRAS: the hard information conflicts (no table meets it all); the items "
                                  f"left furthest from their values: {detail}. Make the less reliable ones soft "
                                  "(Aggregate(..., soft=True)) to have the conflict resolved by reliability.",
                                  conflicts=[names[act[j]] for j in worst])
        raise ConvergenceError(f"KRAS did not converge in {maxiter} iterations (largest relative residual {rel:.3g})")

    vfull = np.where(fixed, base, 0.0)
    vfull[vidx] = v
    vfull *= sigma
    Z = vfull[: N * N].reshape(N, N)
    F = vfull[N * N: N * N + N * P.q].reshape(N, P.q)
    V = vfull[N * N + N * P.q:].reshape(P.D, N)
    x = np.where(known_w, P.w_known * sigma, Z.sum(axis=1) + F.sum(axis=1))
    table = replace(_make_table(prior, Z, F, V, x),
                    name=f"{prior.name} (KRAS update)" if prior.name else "KRAS update")

    kind = np.where(ineq, "bound", np.where(hard, "hard", "soft"))
    se_act = se[act] * sigma
    epsm = eps * sigma
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(kind == "soft", epsm / se_act, np.nan)
    residuals = pd.DataFrame({
        "item": [names[i] for i in act], "kind": kind, "target": b * sigma + 0.0, "value": Av * sigma,
        "eps": epsm, "se": np.where(kind == "soft", se_act, np.nan), "z": z,
    })
    conflicts = residuals[(residuals["kind"] == "soft") & (residuals["z"].abs() > CONFLICT_Z)]
    conflicts = conflicts.reindex(conflicts["z"].abs().sort_values(ascending=False).index)
    seeded.update({c: val for c, val in z_split.items() if P.p[c] == 0 and val != 0})
    seeded_df = pd.DataFrame(
        [(*P.labels(c), val * sigma, vfull[c]) for c, val in seeded.items()],
        columns=["block", "row", "column", "prior", "value"],
    )
    return KrasResult(
        table=table, iterations=it, max_residual=float(np.max(hres / scale, initial=0.0)),
        residuals=residuals, conflicts=conflicts.reset_index(drop=True), seeded=seeded_df,
        seconds=time.perf_counter() - t0,
        size={"cells": int(vidx.size), "items": int(act.size), "seeded": len(seeded), "z_split": len(z_split)},
        note=(f"{len(z_split)} Z cells held at the proportional split of their aggregates (z_aggregates='split')"
              if z_split else ""),
    )
