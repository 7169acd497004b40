"""Network fast path for ANAIS (METHODS.md §4) on problems with transportation structure.

When every total output ``w`` is known and every other item of target information bounds a
single cell (known cells, structural zeros, sign policy, coefficient bounds on one ``Z`` cell —
``a_lo w_l <= z_kl <= a_hi w_l`` is a cell bound once ``w_l`` is known), the ANAIS problem is a
bounded transportation problem: supplies ``w_k`` (rows) send ``Z`` cells to demands ``w_l``
(columns); final-demand cells go from row ``k`` to a free sink, primary-input cells come from a
free source into column ``l``.  Its only linear rows are the ``2N`` balance equations; every
cell is a bounded column whose box depends on ``rho``::

    L_c(rho) = max(p_c - a_c rho, lo_c) <= v_c <= min(p_c + a_c rho, hi_c) = U_c(rho)

(``a_c = |p_c|`` for ``rmax_mode="relative"``, 1 for ``"absolute"``; ``lo``/``hi`` from the sign
policy, coefficient bounds and caps of free zero cells, which do not depend on ``rho``).

Stage 1 (smallest feasible ``rho``) is solved by a Newton (cutting-plane) iteration on the
Hoffman/Gale feasibility conditions, which is exact for this structure:

* For any multiplier vector ``y`` on the balance rows, every feasible ``v`` satisfies
  ``y'b = sum_c g_c v_c <= sum_c max(g_c L_c(rho), g_c U_c(rho))`` with ``g = A'y``; so
  ``h_y(rho) = y'b - sum_c max(g_c L_c, g_c U_c) > 0`` proves ``rho`` infeasible, and
  ``h_y`` is convex and non-increasing in ``rho`` (boxes grow with ``rho``).  Its root is a
  valid lower bound on ``rho*``, found exactly by a one-dimensional Newton iteration.
* Start: the largest root over single-cell conditions (``L_c <= U_c``) and single-node cuts
  (``y = +-e_r``: a row's or column's cells must be able to reach its total) — closed form.
* Check: solve the stage-2 LP (below) at that ``rho``; if it is feasible, ``rho* = rho`` exactly
  (the usual case on real tables) and its basis is stage 2's warm start.
* Otherwise iterate: at the current ``rho`` solve the phase-1 LP ``min sum |s|`` over the boxes with
  elastic slacks ``s`` on the ``2N`` balance rows (HiGHS dual simplex, warm-started from the
  previous basis: only the column bounds change).  Zero infeasibility = feasible, stop.  Else
  its optimal duals ``y`` (``|y| <= 1``; for a network matrix a cut) give ``h_y(rho) > 0``; move
  to the root of ``h_y``.  ``rho`` rises monotonically to ``rho*`` and stops after finitely many
  steps (a piecewise-linear convex function, Newton from the left).

Stage 2 (``rho <= rho*(1+eps_rel)+eps_abs`` held, minimise total deviation) is the same LP with
the slacks fixed at zero, each cell split into ``d+``/``d-`` (convex piecewise-linear cost with
its kink at the prior: a min-cost flow) and the stage-2 weights (``1`` per scaled money unit for
``objective="absolute"``, ``1/|p_c|`` for ``"relative"``, ``LAMBDA_FREE`` on free zero cells);
HiGHS starts from the stage-1 basis.

Free zero cells (``zero_policy="free"``: prior 0, lower bound 0, no cap) are priced in (column
generation): the model starts without them, at 0, and after each solve every left-out cell whose
column has a negative reduced cost ``c_c - A_c'y`` (``y`` the row duals; ``c_c`` = ``LAMBDA_FREE``
in stage 2, 0 in phase 1) is added, until none is left; that is the optimum of the full LP.  The
check at the start value then keeps the balance slacks at a cost ``BIG_M`` times the largest
weight (so it always has duals to price with) and counts as feasible when they end at 0.  On WIOD
most zero cells stay 0: 41 x 10 sectors, 2002 -> 2007, 163 328 free zero cells, 2 735 priced in,
6.6 s instead of 57 s (docs/update-accuracy.md).

All values in the scaled units of :class:`~xlmrio.core.anais.AnaisProblem` (money / ``sigma``).
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from xlmrio.errors import InfeasibleError, OptionError, SolverError

__all__ = ["network_blockers", "NetworkSolution", "solve_network"]

_log = logging.getLogger(__name__)

_ALLOWED_FAMILIES = {"balance", "coherence-upper", "coherence-lower"}
MAX_NEWTON = 200           # outer iterations (LP solves) in stage 1
BIG_M = 1e3                # cost of a balance slack in the priced check, times the largest deviation weight
FEAS_TOL = 1e-9            # phase-1 infeasibility (scaled money units) treated as zero


def network_blockers(P) -> list[str]:
    """Constraint families of ``P`` that prevent the network path (empty list = it applies).

    Parameters
    ----------
    P : AnaisProblem
    """
    out = []
    unknown = int(np.isnan(P.w_known).sum())
    if unknown:
        out.append(f"unknown total outputs ({unknown} of {P.N} totals not given)")
    fam = P.item_family
    if "aggregate" in fam:
        out.append("hard aggregates")
    if "soft" in fam:
        out.append("soft aggregates")
    if "total" in fam:
        out.append("known totals entered as items")
    other = sorted(set(fam) - _ALLOWED_FAMILIES - {"aggregate", "soft", "total"})
    out += other
    rows = [i for (i, *_rest) in P.coherence]
    if rows:
        nnz = np.diff(P.A_cell.indptr)[rows]
        if np.any(nnz != 1):
            out.append("coefficient bounds on groups of cells")
    return out


@dataclass
class NetworkSolution:
    """Outcome of :func:`solve_network` (scaled units)."""

    v: np.ndarray            # every cell (scaled money)
    w: np.ndarray            # totals (scaled money)
    rho: float               # stage-1 optimum (scaled for rmax_mode="absolute")
    rho_bar: float           # bound held in stage 2
    fun: float               # stage-2 objective (scaled as the LP path's)
    timings: dict = field(default_factory=dict)
    size: dict = field(default_factory=dict)


# ----------------------------------------------------------------------------- data

@dataclass
class _Net:
    nf: np.ndarray           # indices of the non-fixed cells
    A: sp.csc_matrix         # 2N x nf: balance rows restricted to non-fixed cells
    b: np.ndarray            # 2N: right-hand side for v[nf]
    p: np.ndarray
    a: np.ndarray
    lo: np.ndarray           # static lower bound (sign, coefficient bounds)
    hi: np.ndarray           # static upper bound (sign, caps, coefficient bounds)
    dev: np.ndarray          # bool: box depends on rho
    weight: np.ndarray       # stage-2 cost per unit of deviation

    def bounds(self, rho: float) -> tuple[np.ndarray, np.ndarray]:
        L, U = self.lo.copy(), self.hi.copy()
        d = self.dev
        L[d] = np.maximum(self.p[d] - self.a[d] * rho, self.lo[d])
        U[d] = np.minimum(self.p[d] + self.a[d] * rho, self.hi[d])
        return L, U


def _prepare(P) -> _Net:
    from xlmrio.core.anais import LAMBDA_FREE

    N = P.N
    nf = np.flatnonzero(~P.fixed)
    pos = np.full(P.n_cells, -1, dtype=np.int64)
    pos[nf] = np.arange(nf.size)
    A_bal = P.A_cell[: 2 * N]
    w2 = np.concatenate([P.w_known, P.w_known])
    fixed = np.flatnonzero(P.fixed)
    b = w2 - A_bal[:, fixed] @ P.base[fixed]
    A = A_bal[:, nf].tocsc()
    p = P.p[nf].copy()
    a = P.a[nf].copy()
    lo = np.full(nf.size, -np.inf)
    hi = np.full(nf.size, np.inf)
    lo[p > 0] = 0.0
    hi[p < 0] = 0.0
    fz = P.freezero[nf]
    lo[fz] = 0.0
    hi[fz] = P.cap[nf][fz]
    for (i, label, side, bound, l) in P.coherence:
        c = int(P.A_cell[i].indices[0])
        val = bound * P.w_known[l]
        if pos[c] < 0:      # a known cell or structural zero: a check only
            bad = P.base[c] > val + 1e-9 if side == "upper" else P.base[c] < val - 1e-9
            if bad:
                raise InfeasibleError(
                    f"coefficient {side} bound {label} is violated by a known or structural-zero cell",
                    conflicts=[P.item_names[i]])
            continue
        if side == "upper":
            hi[pos[c]] = min(hi[pos[c]], val)
        else:
            lo[pos[c]] = max(lo[pos[c]], val)
        if lo[pos[c]] > hi[pos[c]] + 1e-12:
            sign = "non-negative" if p[pos[c]] > 0 else "non-positive" if p[pos[c]] < 0 else "zero-prior"
            raise InfeasibleError(
                f"coefficient {side} bound {label} leaves no value for the cell (its bounds and the "
                f"{sign} sign of the prior cell contradict each other)",
                conflicts=[nm for (j, *_r) in P.coherence if P.A_cell[j].indices[0] == c
                           for nm in [P.item_names[j]]])
    dev = P.dev[nf].copy()
    if P.objective == "absolute":
        weight = np.ones(nf.size)
    else:
        with np.errstate(divide="ignore"):
            weight = np.where(p != 0, 1.0 / np.abs(p), 0.0)
    weight[fz] = LAMBDA_FREE
    return _Net(nf=nf, A=A, b=b, p=p, a=a, lo=lo, hi=hi, dev=dev, weight=weight)


# ----------------------------------------------------------------------------- certificates

def _h(net: _Net, g: np.ndarray, yb: float, rho: float) -> tuple[float, float]:
    """``h_y(rho)`` and its right derivative for ``g = A'y``, ``yb = y'b``."""
    L, U = net.bounds(rho)
    pos, neg = g > 0, g < 0
    with np.errstate(invalid="ignore"):
        s = float(np.sum(g[pos] * U[pos]) + np.sum(g[neg] * L[neg]))
    # right derivative: cells whose relevant bound still moves with rho
    d = net.dev
    up_moving = d & pos & (net.p + net.a * rho < net.hi)
    lo_moving = d & neg & (net.p - net.a * rho > net.lo)
    slope = -float(np.sum(g[up_moving] * net.a[up_moving]) - np.sum(g[lo_moving] * net.a[lo_moving]))
    return yb - s, slope


def _root(net: _Net, g: np.ndarray, yb: float, rho: float, tol: float) -> float:
    """Largest ``rho'`` with ``h_y(rho') >= 0`` starting left of it (Newton on a convex PWL function).

    Returns ``inf`` when ``h_y`` stays positive for every ``rho`` (infeasible whatever ``rho``).
    """
    for _ in range(10_000):
        hv, sl = _h(net, g, yb, rho)
        if hv <= tol:
            return rho
        if sl >= 0:
            return np.inf
        step = hv / -sl
        new = rho + step
        if new <= rho:       # step below float resolution
            return np.nextafter(rho, np.inf)
        rho = new
    return rho


class _NodeInfeasible(Exception):
    def __init__(self, rows):
        super().__init__(rows)
        self.rows = rows


def _start_rho(net: _Net) -> float:
    """Largest root of the single-cell and single-node conditions (exact lower bound on rho*)."""
    d = net.dev
    with np.errstate(invalid="ignore", divide="ignore"):
        r1 = np.where(d, (net.p - net.hi) / net.a, -np.inf)
        r2 = np.where(d, (net.lo - net.p) / net.a, -np.inf)
    rho = max(0.0, float(np.max(r1, initial=0.0)), float(np.max(r2, initial=0.0)))
    if np.any(~d & (net.lo > net.hi + 1e-12)):
        raise InfeasibleError("a free zero-prior cell has a lower bound above its cap", conflicts=[])
    # single-node cuts, all nodes at once: Newton per node on h(rho) = +-(b_r - sum of the box side)
    A = net.A.tocoo()
    r_e, c_e, val = A.row, A.col, A.data
    nrow = net.A.shape[0]
    a_e, p_e, lo_e, hi_e, dv_e = net.a[c_e], net.p[c_e], net.lo[c_e], net.hi[c_e], d[c_e]
    bad: set[int] = set()
    for sgn in (1.0, -1.0):
        g_e = sgn * val
        rr = np.full(nrow, rho)
        for _ in range(200):
            re = rr[r_e]
            L = np.where(dv_e, np.maximum(p_e - a_e * re, lo_e), lo_e)
            U = np.where(dv_e, np.minimum(p_e + a_e * re, hi_e), hi_e)
            with np.errstate(invalid="ignore"):
                s_e = np.where(g_e > 0, g_e * U, g_e * L)
            mov = dv_e & np.where(g_e > 0, p_e + a_e * re < hi_e, p_e - a_e * re > lo_e)
            sl_e = np.where(mov, np.abs(g_e) * a_e, 0.0)
            h = sgn * net.b - np.bincount(r_e, weights=s_e, minlength=nrow)
            sl = np.bincount(r_e, weights=sl_e, minlength=nrow)
            act = h > 1e-13 * (1.0 + np.abs(net.b))
            if not act.any():
                break
            hopeless = act & (sl <= 0)
            if hopeless.any():
                bad.update(np.flatnonzero(hopeless).tolist())
                break
            step = np.where(act, h / np.where(sl > 0, sl, 1.0), 0.0)
            new = rr + step
            if np.all(new[act] <= rr[act]):
                break
            rr = new
        rho = max(rho, float(rr.max()))
    if bad:
        raise _NodeInfeasible(np.array(sorted(bad)))
    return rho


# ----------------------------------------------------------------------------- HiGHS model

def _highspy():
    """The highspy module, or None where it is not installed (xlwings Lite / Pyodide)."""
    try:
        import highspy
    except ImportError:
        return None
    return highspy


class _ScipyHighs:
    """The few ``highspy.Highs`` calls this module makes, answered by scipy's HiGHS (``linprog``).

    Used where highspy is not installed (xlwings Lite).  Same solver and optimum; every ``run`` is
    a cold start (no basis reuse), so it is slower on large tables.
    """

    def __init__(self, cost, lower, upper, A, rhs, time_limit: float | None):
        self.cost, self.lower, self.upper = (np.array(a, dtype=np.float64) for a in (cost, lower, upper))
        self.A, self.rhs, self.time_limit = A, rhs, time_limit
        self._res = None

    def changeColsBounds(self, count, idx, lower, upper):  # noqa: N802 - highspy's name
        self.lower[idx], self.upper[idx] = lower, upper

    def changeColsCost(self, count, idx, cost):  # noqa: N802
        self.cost[idx] = cost

    def addCols(self, count, cost, lower, upper, nnz, starts, index, value):  # noqa: N802
        m = self.A.shape[0]
        indptr = np.append(np.asarray(starts, dtype=np.int64), nnz)
        cols = sp.csc_matrix((value, index, indptr), shape=(m, count))
        self.A = sp.hstack([self.A, cols], format="csc")
        self.cost = np.concatenate([self.cost, cost])
        self.lower = np.concatenate([self.lower, lower])
        self.upper = np.concatenate([self.upper, upper])

    def run(self):
        from scipy.optimize import linprog

        options = {"time_limit": float(self.time_limit)} if self.time_limit else {}
        self._res = linprog(self.cost, A_eq=self.A, b_eq=self.rhs, bounds=np.column_stack([self.lower, self.upper]),
                            method="highs-ds", options=options)

    def status(self) -> str:
        return {0: "optimal", 2: "infeasible"}.get(self._res.status, "error")

    def message(self) -> str:
        return str(self._res.message)

    def objective(self) -> float:
        return float(self._res.fun)

    def col_value(self) -> np.ndarray:
        return np.asarray(self._res.x, dtype=np.float64)

    def row_dual(self) -> np.ndarray:
        return np.asarray(self._res.eqlin.marginals, dtype=np.float64)


class _Highspy:
    """Thin wrapper giving ``highspy.Highs`` the same small interface as :class:`_ScipyHighs`."""

    def __init__(self, highspy, h):
        self._hs, self.h = highspy, h

    def changeColsBounds(self, *args):  # noqa: N802
        self.h.changeColsBounds(*args)

    def changeColsCost(self, *args):  # noqa: N802
        self.h.changeColsCost(*args)

    def addCols(self, *args):  # noqa: N802
        self.h.addCols(*args)

    def run(self):
        self.h.run()

    def status(self) -> str:
        st = self.h.getModelStatus()
        if st == self._hs.HighsModelStatus.kInfeasible:
            return "infeasible"
        return "optimal" if st == self._hs.HighsModelStatus.kOptimal else "error"

    def message(self) -> str:
        return f"HiGHS status {self.h.modelStatusToString(self.h.getModelStatus())}"

    def objective(self) -> float:
        return float(self.h.getInfo().objective_function_value)

    def col_value(self) -> np.ndarray:
        return np.asarray(self.h.getSolution().col_value, dtype=np.float64)

    def row_dual(self) -> np.ndarray:
        return np.asarray(self.h.getSolution().row_dual, dtype=np.float64)


def _highs_model(net: _Net, L: np.ndarray, U: np.ndarray, time_limit: float | None, act: np.ndarray | None = None):
    """Phase-1 model: columns [d+ | d- | s+ | s-] of the cells ``act`` (default all), rows
    A(d+ - d-) + s+ - s- = b - A p.  Cells left out are free zero cells held at 0 (their d+ columns
    are added by pricing, :func:`_add_columns`).

    highspy's in-process HiGHS when installed (warm starts between solves), else scipy's."""
    act = np.arange(net.nf.size) if act is None else act
    n = act.size
    m = net.A.shape[0]
    A = net.A[:, act]
    I = sp.identity(m, format="csc")
    M = sp.hstack([A, -A, I, -I], format="csc")
    M.sort_indices()
    rhs = net.b - net.A @ net.p
    p, La, Ua = net.p[act], L[act], U[act]
    dp_ub, dm_ub = Ua - p, p - La
    dp_lb, dm_lb = np.maximum(La - p, 0.0), np.maximum(p - Ua, 0.0)
    cost = np.concatenate([np.zeros(2 * n), np.ones(2 * m)])
    lower = np.concatenate([dp_lb, dm_lb, np.zeros(2 * m)])
    upper = np.concatenate([np.maximum(dp_ub, dp_lb), np.maximum(dm_ub, dm_lb), np.full(2 * m, np.inf)])
    highspy = _highspy()
    if highspy is None:
        return _ScipyHighs(cost, lower, upper, M, rhs, time_limit), rhs
    lp = highspy.HighsLp()
    lp.num_col_ = 2 * n + 2 * m
    lp.num_row_ = m
    lp.col_cost_ = cost
    lp.col_lower_ = lower
    lp.col_upper_ = upper
    lp.row_lower_ = rhs
    lp.row_upper_ = rhs
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = M.indptr.astype(np.int32)
    lp.a_matrix_.index_ = M.indices.astype(np.int32)
    lp.a_matrix_.value_ = M.data.astype(np.float64)
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("solver", "simplex")
    h.setOptionValue("simplex_strategy", 1)   # dual simplex
    if time_limit:
        h.setOptionValue("time_limit", float(time_limit))
    h.passModel(lp)
    return _Highspy(highspy, h), rhs


class _Columns:
    """Which cells the HiGHS model holds: ``act`` as [d+ | d-] pairs (then the 2m slacks), and the
    d+ columns of free zero cells added by pricing (``extra``, after the slacks)."""

    def __init__(self, net: _Net, act: np.ndarray, m: int):
        self.net, self.act, self.m = net, act, m
        self.extra = np.zeros(0, dtype=np.int64)
        self.inside = np.zeros(net.nf.size, dtype=bool)
        self.inside[act] = True

    @property
    def n_cols(self) -> int:
        return 2 * self.act.size + 2 * self.m + self.extra.size

    def slack_idx(self) -> np.ndarray:
        n = self.act.size
        return np.arange(2 * n, 2 * n + 2 * self.m, dtype=np.int32)

    def set_bounds(self, h, L, U) -> None:
        p = self.net.p
        a = self.act
        dp_lb, dm_lb = np.maximum(L[a] - p[a], 0.0), np.maximum(p[a] - U[a], 0.0)
        dp_ub, dm_ub = np.maximum(U[a] - p[a], dp_lb), np.maximum(p[a] - L[a], dm_lb)
        idx = np.arange(2 * a.size, dtype=np.int32)
        h.changeColsBounds(idx.size, idx, np.concatenate([dp_lb, dm_lb]), np.concatenate([dp_ub, dm_ub]))
        if self.extra.size:
            e = self.extra
            lb = np.maximum(L[e] - p[e], 0.0)
            ub = np.maximum(U[e] - p[e], lb)
            idx = (2 * a.size + 2 * self.m + np.arange(e.size)).astype(np.int32)
            h.changeColsBounds(idx.size, idx, lb, ub)

    def cost(self, stage2: bool, slack_cost: float = 0.0) -> np.ndarray:
        w = self.net.weight
        n = self.act.size
        if stage2:
            return np.concatenate([w[self.act], w[self.act], np.full(2 * self.m, slack_cost), w[self.extra]])
        return np.concatenate([np.zeros(2 * n), np.ones(2 * self.m), np.zeros(self.extra.size)])

    def set_cost(self, h, stage2: bool, slack_cost: float = 0.0) -> None:
        idx = np.arange(self.n_cols, dtype=np.int32)
        h.changeColsCost(idx.size, idx, self.cost(stage2, slack_cost))

    def price(self, h, AT_out, out: np.ndarray, stage2: bool, tol: float = 1e-9) -> np.ndarray:
        """Cells of ``out`` (not in the model) whose d+ column has a negative reduced cost."""
        if out.size == 0:
            return out
        y = h.row_dual()
        g = AT_out @ y
        c = self.net.weight[out] if stage2 else 0.0
        return out[(c - g) < -tol]

    def add(self, h, cells: np.ndarray, L, U, stage2: bool) -> None:
        net = self.net
        cols = net.A[:, cells].tocsc()
        cols.sort_indices()
        lb = np.maximum(L[cells] - net.p[cells], 0.0)
        ub = np.maximum(U[cells] - net.p[cells], lb)
        cost = net.weight[cells] if stage2 else np.zeros(cells.size)
        h.addCols(cells.size, cost, lb, ub, cols.nnz, cols.indptr[:-1].astype(np.int32),
                  cols.indices.astype(np.int32), cols.data.astype(np.float64))
        self.extra = np.concatenate([self.extra, cells])
        self.inside[cells] = True

    def values(self, x: np.ndarray) -> np.ndarray:
        """Cell values (scaled) of every non-fixed cell from the model's column values."""
        net = self.net
        n = self.act.size
        v = net.p.copy()
        v[self.act] += x[:n] - x[n:2 * n]
        if self.extra.size:
            v[self.extra] += x[2 * n + 2 * self.m:]
        return v


def _run(h, what: str):
    t0 = time.perf_counter()
    h.run()
    st = h.status()
    dt = time.perf_counter() - t0
    if st == "error":
        raise SolverError(f"{what} failed ({h.message()})")
    return st, dt


# ----------------------------------------------------------------------------- driver

def _infeasible(P, rows, what: str) -> InfeasibleError:
    """InfeasibleError naming the known totals of the balance rows ``rows`` (a violated cut)."""
    names = [P.item_names[i] for i in rows]
    labs = sorted({nm.replace("row balance ", "").replace("column balance ", "") for nm in names})
    conflicts = [f"known total output {lab}" for lab in labs]
    detail = "; ".join(names[:10]) + (f"; ... ({len(names)} in all)" if len(names) > 10 else "")
    return InfeasibleError(
        f"the update problem is infeasible for every rho ({what}): the known totals cannot be met by the "
        f"cells allowed to move (known cells, structural zeros, signs or coefficient bounds) in: {detail}",
        conflicts=conflicts)


def solve_network(P, *, eps_rel: float = 1e-6, eps_abs: float = 1e-9,
                  time_limit: float | None = None) -> NetworkSolution:
    """Solve both ANAIS stages of ``P`` on its transportation structure.

    Parameters
    ----------
    P : AnaisProblem
        Built by :func:`~xlmrio.core.anais.build_problem`; must have no blockers
        (:func:`network_blockers`).
    eps_rel, eps_abs : float
        Stage 2 holds ``rho <= rho*(1 + eps_rel) + eps_abs`` (``eps_abs`` scaled).
    time_limit : float, optional
        Seconds per HiGHS solve.

    Returns
    -------
    NetworkSolution

    Raises
    ------
    OptionError
        The problem lacks the structure (names the families).
    InfeasibleError
        No table satisfies the information; ``conflicts`` names the known totals of the
        violated cut.
    SolverError
        HiGHS failed.
    """
    blockers = network_blockers(P)
    if blockers:
        raise OptionError("the network path needs all total outputs known and only single-cell information; "
                          "this problem has " + ", ".join(blockers))
    t0 = time.perf_counter()
    net = _prepare(P)
    n, m = net.nf.size, net.A.shape[0]
    AT = net.A.T.tocsr()
    try:
        rho = _start_rho(net)
    except _NodeInfeasible as exc:
        raise _infeasible(P, exc.rows, "single rows or columns") from None
    t_start = time.perf_counter() - t0

    t1 = time.perf_counter()
    L, U = net.bounds(rho)
    # free zero cells (prior 0, lower bound 0, no cap) start outside the model at 0 and enter by pricing
    # (column generation): at the optimum most of them stay 0, and the LP is far smaller
    fz = (net.p == 0) & ~net.dev & (net.lo == 0) & np.isinf(net.hi)
    act = np.flatnonzero(~fz)
    cols = _Columns(net, act, m)
    h, rhs = _highs_model(net, L, U, time_limit, act)
    t_model = time.perf_counter() - t1
    lp_seconds, iters, phi, priced, rounds = 0.0, 0, np.inf, 0, 0
    t2 = time.perf_counter()
    labels_y = None

    def outside() -> tuple[np.ndarray, sp.csr_matrix]:
        out = np.flatnonzero(fz & ~cols.inside)
        return out, AT[out]

    def solve_priced(what: str, stage2: bool, L, U):
        """Solve, then add free zero cells with negative reduced cost until none is left."""
        nonlocal lp_seconds, priced, rounds
        while True:
            st, dt = _run(h, what)
            lp_seconds += dt
            _log.debug("%s: %s in %.2f s, %d model columns", what, st, dt, cols.n_cols)
            if st != "optimal":
                return st
            out, AT_out = outside()
            new = cols.price(h, AT_out, out, stage2)
            if new.size == 0:
                return st
            cols.add(h, new, L, U, stage2)
            priced += int(new.size)
            rounds += 1

    # Optimistic check: the stage-2 LP (deviation costs) at the start value.  Feasible => rho* = rho_0
    # exactly (rho_0 is a proven lower bound).  It is far less degenerate than the phase-1 LP, and its
    # basis is the warm start of stage 2.  With every cell in the model the slacks are fixed at 0;
    # with free zero cells left out (priced in) the slacks stay, at a cost BIG_M times the largest
    # deviation weight, so that the check is always solvable and pricing sees valid duals: zero
    # slacks at the priced optimum = feasible.
    sl = cols.slack_idx()
    if fz.any():
        big = BIG_M * max(1.0, float(net.weight.max(initial=1.0)))
        cols.set_cost(h, stage2=True, slack_cost=big)
        status0 = solve_priced("stage 1 (check at the cut bound)", True, L, U)
        if status0 == "optimal":
            xs = h.col_value()[sl]
            status0 = "optimal" if float(xs.sum()) <= FEAS_TOL else "infeasible"
            if status0 == "optimal":
                h.changeColsBounds(2 * m, sl, np.zeros(2 * m), np.zeros(2 * m))
    else:
        h.changeColsBounds(2 * m, sl, np.zeros(2 * m), np.zeros(2 * m))
        cols.set_cost(h, stage2=True)
        status0, dt = _run(h, "stage 1 (check at the cut bound)")
        lp_seconds += dt
    verified_at_start = status0 == "optimal"
    if verified_at_start:
        phi = 0.0
    else:                          # back to the phase-1 model: elastic slacks, zero cell costs
        h.changeColsBounds(2 * m, sl, np.zeros(2 * m), np.full(2 * m, np.inf))
        cols.set_cost(h, stage2=False)
    while not verified_at_start:
        iters += 1
        solve_priced("stage 1 (phase-1 LP)", False, L, U)
        phi = h.objective()
        if phi <= FEAS_TOL:
            break
        y = h.row_dual()
        y[np.abs(y) < 1e-12] = 0.0          # solver noise would meet infinite bounds
        best = None
        scale = 1.0 + float(np.abs(net.b).max(initial=0.0))
        for sgn in (1.0, -1.0):
            ys = sgn * y
            g = AT @ ys
            g[fz & ~cols.inside & (g > 0) & (g < 1e-9)] = 0.0   # priced out: not a way around the cut
            yb = float(ys @ net.b)
            hv, _ = _h(net, g, yb, rho)
            if hv > 1e-12 * scale:
                r = _root(net, g, yb, rho, 1e-14 * scale)
                if best is None or r > best[0]:
                    best = (r, ys)
        if best is None:
            break            # no certificate beyond rounding: feasible at rho within tolerance
        if not np.isfinite(best[0]):
            labels_y = best[1]
            break
        if best[0] <= rho or iters >= MAX_NEWTON:
            break
        rho = best[0]
        L, U = net.bounds(rho)
        cols.set_bounds(h, L, U)
    t_stage1 = time.perf_counter() - t2
    if labels_y is not None or phi > 1e-6:
        if labels_y is None:
            labels_y = h.row_dual()
        raise _infeasible(P, np.flatnonzero(np.abs(labels_y) > 1e-9), "a group of rows and columns")

    # ---- stage 2: hold rho_bar, slacks fixed at 0, deviation costs; warm start from the stage-1 basis
    rho_bar = rho * (1.0 + eps_rel) + eps_abs
    t3 = time.perf_counter()
    L, U = net.bounds(rho_bar)
    cols.set_bounds(h, L, U)
    h.changeColsBounds(2 * m, sl, np.zeros(2 * m), np.zeros(2 * m))
    cols.set_cost(h, stage2=True)
    status = solve_priced("stage 2", True, L, U)
    if status != "optimal":
        raise SolverError("stage 2 of the network path is infeasible although stage 1 was solved "
                          f"(rho* = {rho:.12g}); retry with a larger eps_abs")
    x = h.col_value()
    fun = h.objective()
    t_stage2 = time.perf_counter() - t3
    v = P.base.copy()
    v[net.nf] = cols.values(x)
    w = P.w_known.copy()
    return NetworkSolution(
        v=v, w=w, rho=rho, rho_bar=rho_bar, fun=fun,
        timings={"prepare": t_start, "build_model": t_model, "stage1": t_stage1, "stage1_lp": lp_seconds,
                 "stage2": t_stage2, "newton_iterations": iters, "verified_at_start": verified_at_start,
                 "pricing_rounds": rounds},
        size={"cells": P.n_cells, "free_cells": int(n), "rows": int(m), "columns": int(cols.n_cols),
              "free_zero_cells": int(fz.sum()), "free_zero_cells_priced_in": priced},
    )
