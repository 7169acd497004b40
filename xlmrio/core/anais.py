"""ANAIS table updating: two-stage (lexicographic) linear programme (METHODS.md §4).

Given a prior table ``T0 = (Z0, F0, V0)`` (``F`` = final-demand columns ``Y`` then exports and
"other" when present) and any subset of target information, find the target table that

* stage 1: minimises the largest deviation ``rho`` of any cell from its prior
  (relative ``|v - p| <= rho |p|``, or the seed-literal absolute form ``|v - p| <= rho``);
* stage 2: with ``rho <= rho*(1 + eps_rel) + eps_abs`` held, minimises the total deviation
  (``objective="absolute"``: ``sum |v - p|``; ``"relative"``: ``sum |v - p| / |p|``).

One problem definition (:class:`AnaisProblem`, sparse matrices over all cells) feeds every
solver path: PuLP/CBC (a readable model built from the same matrices) and HiGHS through
``scipy.optimize.linprog``.  Known cells and structural zeros are fixed before the LP is
built; the LP variables are the deviations ``d = v - base`` of the remaining cells.

Target information
------------------
``totals``
    Known total outputs ``w_k`` (= row total = column total): ``{(region, sector): value}``
    (or ``"region|sector"`` keys), a ``pandas.Series`` on ``(region, sector)`` or a length-N
    array with ``NaN`` for unknown entries.
``known_cells``
    ``{block: array}`` with blocks ``"Z"`` (N, N), ``"Y"`` (N, m*K), ``"V"`` (D, N),
    ``"exports"`` (N,), ``"other"`` (N,) — ``NaN`` = unknown (DataFrames are aligned on the
    table's labels) — or ``{cell: value}`` with cell references (below).
``aggregates``
    :class:`Aggregate` items ``sum_c alpha_c v_c + sum_k beta_k w_k = value``; ``soft=True``
    lets the item deviate by ``r_g |value|`` with ``r_g`` bounded by ``rho`` like a cell.
``coefficient_bounds``
    :class:`CoefficientBound` items ``lower <= sum_{rows} Z[row, column] / w_column <= upper``.
``reference_regions``
    :class:`ReferenceRegions`: bounds derived from the coefficient ranges of other regions
    of a reference table (§4.2), see :func:`coefficient_bounds_from_reference`.

Cell references: ``("Z", (r, i), (s, j))``, ``("Y", (r, i), (s, c))``, ``("V", input, (s, j))``,
``("exports", (r, i))``, ``("other", (r, i))`` and, for totals, ``("x", (r, i))``;
``(region, sector)`` may also be written ``"region|sector"``.

Units: all money values in the table's ``monetary_unit``; internally divided by
``sigma = max |p_c|`` (§4.5).
"""
from __future__ import annotations

import functools
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping, Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp

from xlmrio.errors import (
    InfeasibleError,
    LabelError,
    OptionError,
    ShapeError,
    SolverError,
)

if TYPE_CHECKING:  # pragma: no cover
    from xlmrio.core.table import MRIOTable

__all__ = [
    "Aggregate",
    "CoefficientBound",
    "ReferenceRegions",
    "AnaisProblem",
    "AnaisResult",
    "LP",
    "anais",
    "build_problem",
    "coefficient_bounds_from_reference",
    "solve_lp",
]

LAMBDA_FREE = 1.0          # stage-2 penalty on free zero-prior cells (§4.4-8)
ELASTIC_WEIGHT = 1e3       # weight of elastic slacks in the infeasibility re-solve (§4.5)
BINDING_TOL = 1e-6         # slack (units of sigma) under which a coefficient bound is reported binding;
                           # 1e-9 (METHODS §4.5) is below the slack that eps_rel = 1e-6 lets stage 2 create
AUTO_HIGHS_ABOVE = 1500    # solver="auto": HiGHS when more free cells than this (see docs/update-benchmarks.md)
RHO_SCOPES = ("all", "Z", "blocks")  # cells whose deviation rho bounds: every cell (seed-literal), Z cells only,
                                     # or one bound per block (RHO_BLOCKS)
RHO_BLOCKS = ("Z", "FD", "VA")  # rho_scope="blocks": intermediate flows, final demand (incl. exports/other), primary inputs
SOLVERS = ("auto", "pulp", "highs", "highs-ds", "highs-ipm", "network")
ELASTIC_LP_MAX_FREE = 100_000  # network path infeasible: explain with the LP elastic re-solve up to this size
AUTO_NETWORK_ABOVE = 1500  # solver="auto": network path (anais_network.py) above this when the structure allows
                           # (7x faster than highs-ipm at 10^4 cells, docs/update-benchmarks.md)


# ============================================================================ input types

@dataclass(frozen=True)
class Aggregate:
    """A linear item of target information: ``sum(coef * ref) = value``.

    Parameters
    ----------
    name : str
        Shown in diagnostics and infeasibility reports.
    members : sequence
        Cell or total references (see module docstring), or ``(reference, coefficient)``
        pairs; a bare reference has coefficient 1.
    value : float
        Target value in money units.
    soft : bool
        ``False`` (hard): the equality must hold.  ``True``: it may deviate by
        ``r_g |value|`` and ``r_g`` counts towards ``rho`` (§4.4-5).
    se : float, optional
        Standard error of a soft item (money units), used by :func:`xlmrio.core.kras.kras`
        to weigh conflicts (default there: ``rel_se * |value|``); ANAIS ignores it.
    """

    name: str
    members: Sequence[Any]
    value: float
    soft: bool = False
    se: float | None = None


@dataclass(frozen=True)
class CoefficientBound:
    """Coefficient interval ``lower <= sum_{r in rows} Z[r, column] / w_column <= upper`` (§4.4-4).

    Parameters
    ----------
    column : (region, sector) or "region|sector"
        Destination (buying) region-sector ``l``.
    rows : one (region, sector) or a sequence of them
        Origin cells summed in the numerator (one cell, or an origin-aggregated group).
    lower, upper : float or None
        Bounds on the coefficient (dimensionless, money per money); ``None`` = no bound.
    name : str, optional
        Label used in the ``binding`` report.
    """

    column: Any
    rows: Any
    lower: float | None = None
    upper: float | None = None
    name: str | None = None


@dataclass(frozen=True)
class ReferenceRegions:
    """Coefficient intervals from other regions of a reference table (§4.2).

    For each sector pair ``(i, j)`` the total-input coefficient of each reference region ``p``,
    ``a_p = sum_r Z[(r, i), (p, j)] / x[(p, j)]``, is computed; the bound applied to column
    ``(s, j)`` of the prior, for every ``s`` in ``apply_to``, summed over all origin regions,
    is ``[(1 - widen) min_p a_p, (1 + widen) max_p a_p]`` (or the given percentiles).
    Pairs with fewer than ``min_count`` reference values are skipped.
    """

    table: Any
    regions: Sequence[str]
    apply_to: Sequence[str]
    widen: float = 0.0
    percentiles: tuple[float, float] | None = None
    min_count: int = 3


def coefficient_bounds_from_reference(prior: "MRIOTable", ref: ReferenceRegions) -> list[CoefficientBound]:
    """Coefficient bounds for the columns of ``ref.apply_to`` derived from ``ref`` (§4.2).

    Sector labels of the reference table must match the prior's.
    """
    T = ref.table
    if tuple(T.sectors) != tuple(prior.sectors):
        raise LabelError("the reference table must have the same sectors as the prior")
    unknown = [r for r in ref.regions if r not in T.regions]
    if unknown:
        raise LabelError(f"reference regions not in the reference table: {unknown}")
    bad = [r for r in ref.apply_to if r not in prior.regions]
    if bad:
        raise LabelError(f"regions to bound are not in the prior: {bad}")
    n = T.n
    Zr = np.asarray(T.Z).reshape(T.m, n, T.N)
    origin_sum = Zr.sum(axis=0)  # (n, N): sum over origin regions, by origin sector
    coefs = []
    for p in ref.regions:
        pi = T.regions.index(p)
        cols = slice(pi * n, (pi + 1) * n)
        xp = np.asarray(T.x)[cols]
        a = np.full((n, n), np.nan)
        ok = xp > 0
        a[:, ok] = origin_sum[:, cols][:, ok] / xp[ok]
        coefs.append(a)
    C = np.stack(coefs)  # (P, n, n)
    count = np.sum(~np.isnan(C), axis=0)
    with np.errstate(all="ignore"):
        if ref.percentiles is None:
            lo, hi = np.nanmin(C, axis=0), np.nanmax(C, axis=0)
        else:
            lo = np.nanpercentile(C, ref.percentiles[0], axis=0)
            hi = np.nanpercentile(C, ref.percentiles[1], axis=0)
    out = []
    for s in ref.apply_to:
        for j, sj in enumerate(prior.sectors):
            for i, si in enumerate(prior.sectors):
                if count[i, j] < ref.min_count:
                    continue
                out.append(
                    CoefficientBound(
                        column=(s, sj),
                        rows=[(r, si) for r in prior.regions],
                        lower=(1 - ref.widen) * lo[i, j],
                        upper=(1 + ref.widen) * hi[i, j],
                        name=f"a[{si}->{s}|{sj}] from reference regions",
                    )
                )
    return out


# ============================================================================ problem definition

@dataclass
class LP:
    """A linear programme in the form ``min c'x``, ``A_ub x <= b_ub``, ``A_eq x = b_eq``, ``lb <= x <= ub``.

    ``var_kind``/``var_ref`` and ``row_names`` describe variables and rows for readable
    solver models and reports.
    """

    c: np.ndarray
    A_ub: sp.csr_matrix
    b_ub: np.ndarray
    A_eq: sp.csr_matrix
    b_eq: np.ndarray
    lb: np.ndarray
    ub: np.ndarray
    var_names: Any  # callable k -> str, used by the PuLP path only
    ub_names: Any
    eq_names: Any


@dataclass
class AnaisProblem:
    """The ANAIS problem over all cells of the table (one definition for every solver path).

    Cell numbering: ``Z`` cells ``k*N + l``; final-demand cells ``N^2 + k*q + c`` (``F = [Y |
    exports | other]``, ``q`` columns); primary-input cells ``N^2 + N q + d*N + l``.  All money
    values are scaled by ``sigma``.

    Items (rows) are ``A_cell v + A_w w + A_r r_g (sense) rhs``, with sense ``"E"`` or ``"L"``;
    they cover row/column balance, aggregates and coefficient bounds.  Deviation bounds are
    generated per stage.
    """

    N: int
    q: int
    D: int
    sigma: float
    p: np.ndarray            # scaled prior of every cell
    base: np.ndarray         # p with known cells at their values (scaled)
    fixed: np.ndarray        # bool, cell fixed (known or structural zero)
    dev: np.ndarray          # bool, cell with p != 0, not fixed (in C_dev)
    freezero: np.ndarray     # bool, p == 0, not fixed (zero_policy="free")
    cap: np.ndarray          # upper bound of free zero cells (scaled, inf = none)
    a: np.ndarray            # deviation scale per cell: |p| (relative) or 1 (absolute)
    w_known: np.ndarray      # scaled known totals (NaN = unknown)
    A_cell: sp.csr_matrix
    A_w: sp.csr_matrix
    A_r: sp.csr_matrix
    rhs: np.ndarray
    sense: np.ndarray        # "E" / "L"
    item_names: list[str]
    item_family: list[str]   # balance / aggregate / soft / coherence-upper / coherence-lower / total
    soft_names: list[str]
    soft_b: np.ndarray       # |b_g| (scaled)
    coherence: list[tuple]   # (item index, CoefficientBound, bound side, column index)
    rmax_mode: str
    objective: str
    labels: Any              # callable cell -> (block, row, column)
    in_rho: np.ndarray | None = None  # bool per cell: its deviation is bounded by rho (None = every cell)
    rho_scope: str = "all"
    rho_block: np.ndarray | None = None   # rho_scope="blocks": block index (RHO_BLOCKS) of every cell
    soft_block: np.ndarray | None = None  # ... and of every soft aggregate (its members' block, Z when mixed)

    @property
    def n_rho(self) -> int:
        """Number of deviation bounds: 3 for ``rho_scope="blocks"``, else 1."""
        return len(RHO_BLOCKS) if self.rho_scope == "blocks" else 1

    def cell_rho(self) -> np.ndarray:
        """Index of the deviation bound of every cell (all 0 unless ``rho_scope="blocks"``)."""
        return self.rho_block if self.rho_block is not None else np.zeros(self.p.size, dtype=int)

    def soft_rho(self) -> np.ndarray:
        """Index of the deviation bound of every soft aggregate."""
        return self.soft_block if self.soft_block is not None else np.zeros(self.n_soft, dtype=int)

    @property
    def n_cells(self) -> int:
        return self.p.size

    @property
    def n_soft(self) -> int:
        return len(self.soft_names)


def _rs_key(key, region_index, sectors_index, N, n) -> int:
    """(region, sector) or "region|sector" -> k."""
    if isinstance(key, str):
        if "|" not in key:
            raise LabelError(f"cannot read {key!r} as a region-sector label 'region|sector'")
        key = tuple(key.split("|", 1))
    try:
        r, s = key
        return region_index[str(r)] * n + sectors_index[str(s)]
    except (KeyError, TypeError, ValueError):
        raise LabelError(f"unknown region-sector {key!r}") from None


class _Resolver:
    """Turns labels and cell references into indices."""

    def __init__(self, t: "MRIOTable"):
        self.t = t
        self.N, self.n, self.m, self.K = t.N, t.n, t.m, t.K
        self.reg = {r: i for i, r in enumerate(t.regions)}
        self.sec = {s: i for i, s in enumerate(t.sectors)}
        self.cat = {c: i for i, c in enumerate(t.fd_categories)}
        self.va = {d: i for i, d in enumerate(t.va_rows)}
        self.q = t.m * t.K + (t.exports is not None) + (t.other is not None)
        self.D = len(t.va_rows)
        self.exp_col = t.m * t.K if t.exports is not None else None
        self.oth_col = (t.m * t.K + (t.exports is not None)) if t.other is not None else None
        self.offF = self.N * self.N
        self.offV = self.offF + self.N * self.q

    def k(self, key) -> int:
        return _rs_key(key, self.reg, self.sec, self.N, self.n)

    def fd_col(self, key) -> int:
        if isinstance(key, str) and "|" in key:
            key = tuple(key.split("|", 1))
        try:
            r, c = key
            return self.reg[str(r)] * self.K + self.cat[str(c)]
        except (KeyError, TypeError, ValueError):
            raise LabelError(f"unknown final-demand column {key!r} (expected (region, category))") from None

    def ref(self, ref) -> tuple[str, int]:
        """Reference -> ("cell", index) or ("w", k)."""
        if not isinstance(ref, tuple) or not ref:
            raise LabelError(f"cannot read {ref!r} as a cell reference")
        block = str(ref[0])
        try:
            if block == "Z":
                return "cell", self.k(ref[1]) * self.N + self.k(ref[2])
            if block == "Y":
                return "cell", self.offF + self.k(ref[1]) * self.q + self.fd_col(ref[2])
            if block == "V":
                if ref[1] not in self.va:
                    raise LabelError(f"unknown primary-input row {ref[1]!r}")
                return "cell", self.offV + self.va[ref[1]] * self.N + self.k(ref[2])
            if block in ("exports", "other"):
                col = self.exp_col if block == "exports" else self.oth_col
                if col is None:
                    raise LabelError(f"the prior has no {block} column")
                return "cell", self.offF + self.k(ref[1]) * self.q + col
            if block in ("x", "w", "total"):
                return "w", self.k(ref[1])
        except IndexError:
            raise LabelError(f"incomplete cell reference {ref!r}") from None
        raise LabelError(f"unknown block {block!r} in cell reference {ref!r}")

    def cell_label(self, c: int) -> tuple[str, str, str]:
        t = self.t
        if c < self.offF:
            return "Z", t.label(c // self.N), t.label(c % self.N)
        if c < self.offV:
            k, j = divmod(c - self.offF, self.q)
            if j == self.exp_col:
                col = "exports"
            elif j == self.oth_col:
                col = "other"
            else:
                col = f"{t.regions[j // self.K]}|{t.fd_categories[j % self.K]}"
            block = "Y" if col not in ("exports", "other") else col
            return block, t.label(k), col
        d, l = divmod(c - self.offV, self.N)
        return "V", t.va_rows[d], t.label(l)


def _fd_matrix(t) -> np.ndarray:
    cols = [np.asarray(t.Y, dtype=np.float64)]
    for name in ("exports", "other"):
        vec = getattr(t, name)
        if vec is not None:
            cols.append(np.asarray(vec, dtype=np.float64).reshape(-1, 1))
    return np.hstack(cols)


def _totals_vector(totals, res: _Resolver) -> np.ndarray:
    N = res.N
    w = np.full(N, np.nan)
    if totals is None:
        return w
    if isinstance(totals, pd.Series):
        totals = {k: v for k, v in totals.items()}
    if isinstance(totals, Mapping):
        for key, val in totals.items():
            if val is None or (isinstance(val, float) and np.isnan(val)):
                continue
            w[res.k(key)] = float(val)
        return w
    arr = np.asarray(totals, dtype=np.float64).reshape(-1)
    if arr.size != N:
        raise ShapeError(f"totals has {arr.size} entries, the table has {N} region-sectors")
    return arr.copy()


def _known_vector(known, res: _Resolver, n_cells: int) -> np.ndarray:
    kv = np.full(n_cells, np.nan)
    if known is None:
        return kv
    if not isinstance(known, Mapping):
        raise OptionError("known_cells must be a dict of blocks or a dict of cell references")
    t = res.t
    blocks = {"Z", "Y", "V", "exports", "other"}
    if all(isinstance(k, str) and k in blocks for k in known):
        for block, arr in known.items():
            if block == "Z":
                shape, off = (res.N, res.N), 0
                rows, cols = t.index, t.index
            elif block == "Y":
                shape, off = (res.N, t.m * t.K), None
                rows, cols = t.index, t.fd_index
            elif block == "V":
                shape, off = (res.D, res.N), res.offV
                rows, cols = pd.Index(t.va_rows), t.index
            else:
                shape, off = (res.N,), None
                rows, cols = t.index, None
            if isinstance(arr, pd.DataFrame):
                arr = arr.reindex(index=rows, columns=cols)
            elif isinstance(arr, pd.Series):
                arr = arr.reindex(rows)
            a = np.asarray(arr, dtype=np.float64)
            if a.shape != shape:
                raise ShapeError(f"known_cells[{block!r}] has shape {a.shape}, expected {shape}")
            if block == "Z" or block == "V":
                kv[off:off + a.size] = a.reshape(-1)
            elif block == "Y":
                idx = res.offF + np.arange(res.N)[:, None] * res.q + np.arange(t.m * t.K)[None, :]
                kv[idx.reshape(-1)] = a.reshape(-1)
            else:
                col = res.exp_col if block == "exports" else res.oth_col
                if col is None:
                    raise LabelError(f"the prior has no {block} column")
                kv[res.offF + np.arange(res.N) * res.q + col] = a
        return kv
    for ref, val in known.items():
        kind, idx = res.ref(ref)
        if kind != "cell":
            raise OptionError(f"{ref!r} is a total; pass known totals with totals=")
        kv[idx] = float(val)
    return kv


def build_problem(
    prior: "MRIOTable",
    *,
    totals=None,
    known_cells=None,
    aggregates: Sequence[Aggregate] | None = None,
    coefficient_bounds: Sequence[CoefficientBound] | None = None,
    reference_regions: ReferenceRegions | None = None,
    rmax_mode: str = "relative",
    objective: str = "absolute",
    zero_policy: str = "fixed",
    prior_scaling: str = "none",
    totals_as_items: bool = False,
    known_as_items: bool = False,
    rho_scope: str = "all",
) -> AnaisProblem:
    """Build the solver-independent ANAIS problem (§4.2–4.4).  Arguments as :func:`anais`.

    ``totals_as_items=True`` enters known totals as equality items (used by the elastic
    re-solve) instead of fixing the ``w`` variables; ``known_as_items=True`` does the same for
    known cells (their sign and zero pattern then follow the known values, not the prior).
    """
    for opt, val, allowed in (
        ("rmax_mode", rmax_mode, ("relative", "absolute")),
        ("objective", objective, ("absolute", "relative")),
        ("zero_policy", zero_policy, ("fixed", "free")),
        ("prior_scaling", prior_scaling, ("none", "columns")),
        ("rho_scope", rho_scope, RHO_SCOPES),
    ):
        if val not in allowed:
            raise OptionError(f"{opt} must be one of {allowed}, not {val!r}")
    res = _Resolver(prior)
    N, q, D = res.N, res.q, res.D
    Z0 = np.asarray(prior.Z, dtype=np.float64)
    F0 = _fd_matrix(prior)
    V0 = np.asarray(prior.V, dtype=np.float64)
    w_known = _totals_vector(totals, res)
    if np.isinf(w_known).any():
        raise OptionError(f"known total output of {prior.label(int(np.flatnonzero(np.isinf(w_known))[0]))} is "
                          "infinite (NaN means unknown; give a finite number)")
    if np.any(w_known[~np.isnan(w_known)] < 0):
        k = int(np.flatnonzero(w_known < 0)[0])
        raise InfeasibleError(f"known total output of {prior.label(k)} is negative", conflicts=[f"total {prior.label(k)}"])

    if prior_scaling == "columns":
        x0 = np.asarray(prior.x, dtype=np.float64)
        kn = ~np.isnan(w_known)
        g = w_known[kn].sum() / x0[kn].sum() if kn.any() and x0[kn].sum() > 0 else 1.0
        f = np.full(N, g)
        ok = kn & (x0 > 0)
        f[ok] = w_known[ok] / x0[ok]
        Z0 = Z0 * f[None, :]
        V0 = V0 * f[None, :]
        F0 = F0 * f[:, None]

    p = np.concatenate([Z0.reshape(-1), F0.reshape(-1), V0.reshape(-1)])
    sigma = float(np.abs(p).max(initial=0.0))
    if not sigma > 0:
        raise InfeasibleError("the prior table is all zero; there is nothing to update")
    p = p / sigma
    w_known = w_known / sigma
    n_cells = p.size

    known = _known_vector(known_cells, res, n_cells) / sigma
    if np.isinf(known).any():
        block, row, col = res.cell_label(int(np.flatnonzero(np.isinf(known))[0]))
        raise OptionError(f"known cell {block}[{row}, {col}] is infinite (NaN means unknown; give a finite number)")
    is_known = ~np.isnan(known)
    known_items = np.zeros(0, dtype=int)
    if known_as_items:
        known_items = np.flatnonzero(is_known)
        p = np.where(is_known, known, p)
        is_known = np.zeros(n_cells, dtype=bool)
    zero = p == 0
    fixed = is_known | (zero & (zero_policy == "fixed"))
    base = np.where(is_known, known, p)
    base = np.where(fixed & ~is_known, 0.0, base)
    dev = (~fixed) & (~zero)
    freezero = (~fixed) & zero
    a = np.abs(p) if rmax_mode == "relative" else np.ones_like(p)
    cap = np.full(n_cells, np.inf)

    # ---- item rows: balance (2N), aggregates, coherence
    rows_i, cols_i, vals_i = [], [], []
    w_r, w_c, w_v = [], [], []
    r_r, r_c, r_v = [], [], []
    rhs, sense, names, family = [], [], [], []
    labels = prior.labels()

    # row balance: sum_l Z_kl + sum_c F_kc - w_k = 0
    kZ = np.repeat(np.arange(N), N)
    kF = np.repeat(np.arange(N), q)
    rows_i += [kZ, kF]
    cols_i += [np.arange(N * N), res.offF + np.arange(N * q)]
    vals_i += [np.ones(N * N), np.ones(N * q)]
    w_r.append(np.arange(N)); w_c.append(np.arange(N)); w_v.append(-np.ones(N))
    # column balance: sum_k Z_kl + sum_d V_dl - w_l = 0
    rows_i += [N + np.tile(np.arange(N), N), N + np.tile(np.arange(N), D)]
    cols_i += [np.arange(N * N), res.offV + np.arange(D * N)]
    vals_i += [np.ones(N * N), np.ones(D * N)]
    w_r.append(N + np.arange(N)); w_c.append(np.arange(N)); w_v.append(-np.ones(N))
    rhs += [0.0] * (2 * N)
    sense += ["E"] * (2 * N)
    names += [f"row balance {lab}" for lab in labels] + [f"column balance {lab}" for lab in labels]
    family += ["balance"] * (2 * N)
    nrow = 2 * N

    if totals_as_items:
        kn = np.flatnonzero(~np.isnan(w_known))
        for k in kn:
            w_r.append(np.array([nrow])); w_c.append(np.array([k])); w_v.append(np.array([1.0]))
            rhs.append(w_known[k]); sense.append("E")
            names.append(f"known total output {labels[k]} = {w_known[k] * sigma:.10g}")
            family.append("total")
            nrow += 1
        w_known = np.full(N, np.nan)

    for c in known_items:
        rows_i.append(np.array([nrow])); cols_i.append(np.array([c])); vals_i.append(np.array([1.0]))
        rhs.append(known[c]); sense.append("E")
        block, row, col = res.cell_label(int(c))
        names.append(f"known cell {block}[{row}, {col}] = {known[c] * sigma:.10g}")
        family.append("known cell")
        nrow += 1

    soft_names: list[str] = []
    soft_b: list[float] = []
    soft_block: list[int] = []
    cell_block = np.concatenate([np.zeros(N * N, int), np.ones(N * q, int), np.full(D * N, 2)])
    for g in aggregates or ():
        if not isinstance(g, Aggregate):
            raise OptionError(f"aggregates must be Aggregate items, got {type(g).__name__}")
        ci, cv, wi, wv = [], [], [], []
        for mem in g.members:
            if isinstance(mem, tuple) and len(mem) == 2 and isinstance(mem[1], (int, float, np.number)) \
                    and isinstance(mem[0], tuple):
                ref, coef = mem
            else:
                ref, coef = mem, 1.0
            kind, idx = res.ref(ref)
            (ci if kind == "cell" else wi).append(idx)
            (cv if kind == "cell" else wv).append(float(coef))
        if not ci and not wi:
            raise OptionError(f"aggregate {g.name!r} has no members")
        if not np.isfinite(float(g.value)):
            raise OptionError(f"aggregate {g.name!r} has the value {g.value!r}; give a finite number")
        b = float(g.value) / sigma
        if not g.soft:
            rows_i.append(np.full(len(ci), nrow)); cols_i.append(np.array(ci, dtype=int)); vals_i.append(np.array(cv))
            w_r.append(np.full(len(wi), nrow)); w_c.append(np.array(wi, dtype=int)); w_v.append(np.array(wv))
            rhs.append(b); sense.append("E"); names.append(f"aggregate {g.name!r} = {g.value:.10g}")
            family.append("aggregate")
            nrow += 1
        else:
            gi = len(soft_names)
            soft_names.append(g.name)
            soft_b.append(abs(b))
            blocks = set(cell_block[np.array(ci, dtype=int)].tolist()) if ci else {0}
            soft_block.append(blocks.pop() if len(blocks) == 1 else 0)
            for sgn in (1.0, -1.0):
                rows_i.append(np.full(len(ci), nrow)); cols_i.append(np.array(ci, dtype=int))
                vals_i.append(sgn * np.array(cv))
                w_r.append(np.full(len(wi), nrow)); w_c.append(np.array(wi, dtype=int)); w_v.append(sgn * np.array(wv))
                r_r.append(nrow); r_c.append(gi); r_v.append(-abs(b))
                rhs.append(sgn * b); sense.append("L")
                names.append(f"soft aggregate {g.name!r} {'upper' if sgn > 0 else 'lower'}")
                family.append("soft")
                nrow += 1

    bounds = list(coefficient_bounds or ())
    if reference_regions is not None:
        bounds += coefficient_bounds_from_reference(prior, reference_regions)
    coherence = []
    for h in bounds:
        if not isinstance(h, CoefficientBound):
            raise OptionError(f"coefficient_bounds must be CoefficientBound items, got {type(h).__name__}")
        l = res.k(h.column)
        rws = [h.rows] if (isinstance(h.rows, str) or (isinstance(h.rows, tuple) and len(h.rows) == 2
                                                       and all(isinstance(x, str) for x in h.rows))) else list(h.rows)
        cells = np.array([res.k(r) * N + l for r in rws], dtype=int)
        label = h.name or f"Z[{', '.join(labels[res.k(r)] for r in rws)}; {labels[l]}]/x[{labels[l]}]"
        for side, bound in (("upper", h.upper), ("lower", h.lower)):
            if bound is None:
                continue
            sgn = 1.0 if side == "upper" else -1.0
            rows_i.append(np.full(cells.size, nrow)); cols_i.append(cells); vals_i.append(np.full(cells.size, sgn))
            w_r.append(np.array([nrow])); w_c.append(np.array([l])); w_v.append(np.array([-sgn * float(bound)]))
            rhs.append(0.0); sense.append("L"); names.append(f"coefficient {side} bound {label} {'<=' if sgn > 0 else '>='} {bound:.6g}")
            family.append(f"coherence-{side}")
            coherence.append((nrow, label, side, float(bound), l))
            nrow += 1
        if h.upper is not None and cells.size == 1 and freezero[cells[0]] and not np.isnan(w_known[l]):
            cap[cells[0]] = min(cap[cells[0]], h.upper * w_known[l])

    cat = lambda xs, dt=float: np.concatenate(xs).astype(dt) if xs else np.zeros(0, dt)  # noqa: E731
    A_cell = sp.csr_matrix((cat(vals_i), (cat(rows_i, int), cat(cols_i, int))), shape=(nrow, n_cells))
    A_w = sp.csr_matrix((cat(w_v), (cat(w_r, int), cat(w_c, int))), shape=(nrow, N))
    A_r = sp.csr_matrix((np.array(r_v, float), (np.array(r_r, int), np.array(r_c, int))), shape=(nrow, len(soft_names)))
    return AnaisProblem(
        N=N, q=q, D=D, sigma=sigma, p=p, base=base, fixed=fixed, dev=dev, freezero=freezero, cap=cap, a=a,
        w_known=w_known, A_cell=A_cell, A_w=A_w, A_r=A_r, rhs=np.array(rhs, float), sense=np.array(sense),
        item_names=names, item_family=family, soft_names=soft_names, soft_b=np.array(soft_b, float),
        coherence=coherence, rmax_mode=rmax_mode, objective=objective, labels=res.cell_label,
        in_rho=(np.arange(n_cells) < N * N) if rho_scope == "Z" else np.ones(n_cells, dtype=bool),
        rho_scope=rho_scope,
        rho_block=cell_block if rho_scope == "blocks" else None,
        soft_block=np.array(soft_block, int) if rho_scope == "blocks" else None,
    )


# ============================================================================ stage LPs

def _in_rho(P: AnaisProblem) -> np.ndarray:
    return P.in_rho if P.in_rho is not None else np.ones(P.n_cells, dtype=bool)


def _w_bounds(P: AnaisProblem):
    lb = np.where(np.isnan(P.w_known), 0.0, P.w_known)
    ub = np.where(np.isnan(P.w_known), np.inf, P.w_known)
    return lb, ub


def _split_items(P: AnaisProblem, cols: sp.csr_matrix, rhs: np.ndarray):
    eq = P.sense == "E"
    return cols[eq], rhs[eq], cols[~eq], rhs[~eq], np.flatnonzero(eq), np.flatnonzero(~eq)


def _cell_sign_bounds(P: AnaisProblem, idx: np.ndarray):
    """Bounds on d = v - base for cells idx (sign preservation, caps of free zero cells)."""
    p, base = P.p[idx], P.base[idx]
    lb = np.full(idx.size, -np.inf)
    ub = np.full(idx.size, np.inf)
    lb[p > 0] = -base[p > 0]                 # v >= 0
    ub[p < 0] = -base[p < 0]                 # v <= 0
    z = p == 0
    lb[z] = 0.0
    ub[z] = P.cap[idx][z]
    return lb, ub


def stage1_lp(P: AnaisProblem, *, elastic: bool = False) -> tuple[LP, dict]:
    """Stage 1: min rho over d (non-fixed cells), w, rho, r_g.

    With ``elastic=True`` every non-balance equality/coefficient item gets slack variables
    with cost ``ELASTIC_WEIGHT`` (scaled money units).
    """
    nf = np.flatnonzero(~P.fixed)
    rhs = P.rhs - P.A_cell @ P.base
    Ac = P.A_cell[:, nf]
    nd, N, ns = nf.size, P.N, P.n_soft
    dv = np.flatnonzero((P.dev & _in_rho(P))[nf])   # positions (within nf) of cells bounded by rho
    # items: [d | w | rho | r_g]
    B = P.n_rho
    items = sp.hstack([Ac, P.A_w, sp.csr_matrix((Ac.shape[0], B)), P.A_r], format="csr")
    nvar = nd + N + B + ns
    rho = nd + N                      # first deviation bound (rho_Z, rho_FD, rho_VA for rho_scope="blocks")
    # deviation rows: d - a rho_b <= 0 ; -d - a rho_b <= 0  (b = the cell's block)
    m = dv.size
    a = P.a[nf][dv]
    rb = rho + P.cell_rho()[nf][dv]
    r_idx = np.arange(2 * m)
    dev_rows = sp.csr_matrix(
        (np.concatenate([np.ones(m), -np.ones(m), -a, -a]),
         (np.concatenate([r_idx, r_idx]), np.concatenate([dv, dv, rb, rb]))),
        shape=(2 * m, nvar),
    )
    # soft aggregate bound: r_g - rho_b <= 0 (relative) ; |b| r_g - rho_b <= 0 (absolute)
    coef = np.ones(ns) if P.rmax_mode == "relative" else P.soft_b
    soft_rows = sp.csr_matrix(
        (np.concatenate([coef, -np.ones(ns)]),
         (np.concatenate([np.arange(ns), np.arange(ns)]),
          np.concatenate([nd + N + B + np.arange(ns), rho + P.soft_rho()]))),
        shape=(ns, nvar),
    )
    A_eq, b_eq, A_it_ub, b_it_ub, eq_rows, ub_rows = _split_items(P, items, rhs)
    A_ub = sp.vstack([A_it_ub, dev_rows, soft_rows], format="csr")
    b_ub = np.concatenate([b_it_ub, np.zeros(2 * m + ns)])
    c = np.zeros(nvar)
    c[rho:rho + B] = 1.0          # blocks: the sum of the per-block largest deviations
    lb_d, ub_d = _cell_sign_bounds(P, nf)
    lbw, ubw = _w_bounds(P)
    lb = np.concatenate([lb_d, lbw, np.zeros(B), np.zeros(ns)])
    ub = np.concatenate([ub_d, ubw, np.full(B, np.inf), np.full(ns, np.inf)])
    n_ub_items = A_it_ub.shape[0]
    slack_items = []
    if elastic:
        fam = np.array(P.item_family)
        el_eq = np.flatnonzero(fam[eq_rows] != "balance")
        el_ub = np.flatnonzero(np.isin(fam[ub_rows], ["coherence-upper", "coherence-lower"]))
        ne, nu = el_eq.size, el_ub.size
        # eq: + s_plus - s_minus ; ub: - s
        S_eq = sp.csr_matrix(
            (np.concatenate([np.ones(ne), -np.ones(ne)]),
             (np.concatenate([el_eq, el_eq]), np.arange(2 * ne))), shape=(A_eq.shape[0], 2 * ne + nu))
        S_ub = sp.csr_matrix((-np.ones(nu), (el_ub, 2 * ne + np.arange(nu))), shape=(A_ub.shape[0], 2 * ne + nu))
        A_eq = sp.hstack([A_eq, S_eq], format="csr")
        A_ub = sp.hstack([A_ub, S_ub], format="csr")
        c[rho:rho + B] = 0.0   # minimum total relaxation alone: a costly but consistent item is never relaxed to lower rho
        c = np.concatenate([c, np.full(2 * ne + nu, ELASTIC_WEIGHT)])
        lb = np.concatenate([lb, np.zeros(2 * ne + nu)])
        ub = np.concatenate([ub, np.full(2 * ne + nu, np.inf)])
        slack_items = [eq_rows[i] for i in el_eq] * 2 + [ub_rows[i] for i in el_ub]
    names_eq = [P.item_names[i] for i in eq_rows]
    names_ub = [P.item_names[i] for i in ub_rows]

    def var_name(k, nf=nf, nd=nd, N=N):
        if k < nd:
            return "d_" + "_".join(P.labels(nf[k]))
        if k < nd + N:
            return f"w_{k - nd}"
        if k < nd + N + B:
            return "rho" if B == 1 else f"rho_{RHO_BLOCKS[k - nd - N]}"
        if k < nd + N + B + ns:
            return f"r_soft_{k - nd - N - B}"
        return f"elastic_{k - nd - N - B - ns}"

    def ub_name(i):
        if i < n_ub_items:
            return names_ub[i]
        i -= n_ub_items
        if i < 2 * m:
            return f"dev_{'up' if i < m else 'lo'}_{i % m}"
        return f"soft_rho_{i - 2 * m}"

    lp = LP(c, A_ub, b_ub, A_eq, b_eq, lb, ub, var_name, ub_name, lambda i: names_eq[i])
    return lp, {"nf": nf, "rho": rho, "n_rho": B, "nd": nd, "slack_items": slack_items, "nvar": nvar}


def stage2_lp(P: AnaisProblem, rho_bar) -> tuple[LP, dict]:
    """Stage 2: with rho <= rho_bar, minimise the total deviation over [d+ | d- | v_free | w | r_g].

    ``rho_bar`` is a number, or one per block (``P.n_rho``) for ``rho_scope="blocks"``."""
    rho_bar = np.broadcast_to(np.asarray(rho_bar, dtype=float), (P.n_rho,))
    dv = np.flatnonzero(P.dev)
    fz = np.flatnonzero(P.freezero)
    rhs = P.rhs - P.A_cell @ P.base
    Adv = P.A_cell[:, dv]
    items = sp.hstack([Adv, -Adv, P.A_cell[:, fz], P.A_w, P.A_r], format="csr")
    m, nz, N, ns = dv.size, fz.size, P.N, P.n_soft
    nvar = 2 * m + nz + N + ns
    A_eq, b_eq, A_ub, b_ub, eq_rows, ub_rows = _split_items(P, items, rhs)
    p = P.p[dv]
    lim = np.where(_in_rho(P)[dv], P.a[dv] * rho_bar[P.cell_rho()[dv]], np.inf)
    ub_plus = np.where(p < 0, np.minimum(lim, -P.base[dv]), lim)
    ub_minus = np.where(p > 0, np.minimum(lim, P.base[dv]), lim)
    lbw, ubw = _w_bounds(P)
    rbg = rho_bar[P.soft_rho()]
    r_ub = rbg if P.rmax_mode == "relative" else np.where(P.soft_b > 0, rbg / np.maximum(P.soft_b, 1e-300), 0.0)
    lb = np.concatenate([np.zeros(2 * m + nz), lbw, np.zeros(ns)])
    ub = np.concatenate([ub_plus, ub_minus, P.cap[fz], ubw, r_ub])
    if P.objective == "absolute":
        wd = np.ones(m)
        wr = P.soft_b
    else:
        wd = 1.0 / np.abs(p)
        wr = np.ones(ns)
    c = np.concatenate([wd, wd, np.full(nz, LAMBDA_FREE), np.zeros(N), wr])
    names_eq = [P.item_names[i] for i in eq_rows]
    names_ub = [P.item_names[i] for i in ub_rows]

    def var_name(k):
        if k < 2 * m:
            return ("dplus_" if k < m else "dminus_") + "_".join(P.labels(dv[k % m]))
        if k < 2 * m + nz:
            return "v_" + "_".join(P.labels(fz[k - 2 * m]))
        if k < 2 * m + nz + N:
            return f"w_{k - 2 * m - nz}"
        return f"r_soft_{k - 2 * m - nz - N}"

    lp = LP(c, A_ub, b_ub, A_eq, b_eq, lb, ub, var_name, lambda i: names_ub[i], lambda i: names_eq[i])
    return lp, {"dv": dv, "fz": fz, "m": m, "nz": nz}


# ============================================================================ solver paths

@dataclass
class LPSolution:
    status: str          # "optimal", "infeasible", "unbounded", "error"
    x: np.ndarray | None
    fun: float | None
    message: str
    seconds: float


def _solve_highs(lp: LP, method: str = "highs", time_limit: float | None = None) -> LPSolution:
    from scipy.optimize import linprog

    t0 = time.perf_counter()
    options = {"presolve": True}
    if time_limit:
        options["time_limit"] = float(time_limit)

    def run(opts):
        return linprog(
            lp.c,
            A_ub=lp.A_ub if lp.A_ub.shape[0] else None,
            b_ub=lp.b_ub if lp.A_ub.shape[0] else None,
            A_eq=lp.A_eq if lp.A_eq.shape[0] else None,
            b_eq=lp.b_eq if lp.A_eq.shape[0] else None,
            bounds=np.column_stack([lp.lb, lp.ub]),
            method=method,
            options=opts,
        )

    res = run(options)
    if res.status == 2:
        # HiGHS' presolve has been seen to declare a feasible, degenerate stage 2 infeasible
        # (OECD JPN 2010 -> 2015, docs/update-accuracy.md): confirm without presolve.
        retry = run({**options, "presolve": False})
        if retry.status != 2:
            res = retry
    dt = time.perf_counter() - t0
    status = {0: "optimal", 2: "infeasible", 3: "unbounded"}.get(res.status, "error")
    return LPSolution(status, res.x if res.status == 0 else None, float(res.fun) if res.status == 0 else None,
                      str(res.message), dt)


def _pulp_name(s: str) -> str:
    out = "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in s)
    return out[:200]


@functools.lru_cache(maxsize=None)
def _available(what: str) -> bool:
    """Whether PuLP's bundled CBC program (``"cbc"``) or the highspy module (``"highspy"``) can run here.
    Neither can under xlwings Lite (Pyodide: no subprocesses; highspy only if the environment has it)."""
    try:
        if what == "cbc":
            import pulp

            return bool(pulp.PULP_CBC_CMD(msg=False).available())
        import highspy  # noqa: F401

        return True
    except Exception:  # noqa: BLE001 - any import or probing failure means "not available"
        return False


def _solve_pulp(lp: LP, time_limit: float | None = None) -> LPSolution:
    if not (_available("cbc") or _available("highspy")):
        # neither PuLP solver can run here (xlwings Lite: no subprocess, no highspy): scipy's HiGHS
        sol = _solve_highs(lp, "highs", time_limit)
        return LPSolution(sol.status, sol.x, sol.fun, f"{sol.message} (scipy HiGHS: PuLP has no solver here)",
                          sol.seconds)
    import pulp

    t0 = time.perf_counter()
    prob = pulp.LpProblem("anais", pulp.LpMinimize)
    n = lp.c.size
    seen: dict[str, int] = {}
    xs = []
    for k in range(n):
        nm = _pulp_name(lp.var_names(k))
        if nm in seen:
            seen[nm] += 1
            nm = f"{nm}_{seen[nm]}"
        else:
            seen[nm] = 0
        lo = None if np.isneginf(lp.lb[k]) else float(lp.lb[k])
        hi = None if np.isposinf(lp.ub[k]) else float(lp.ub[k])
        xs.append(pulp.LpVariable(nm, lowBound=lo, upBound=hi))
    prob += pulp.lpSum(float(lp.c[k]) * xs[k] for k in np.flatnonzero(lp.c))
    for A, b, sense, names, tag in ((lp.A_eq, lp.b_eq, "E", lp.eq_names, "eq"),
                                    (lp.A_ub, lp.b_ub, "L", lp.ub_names, "ub")):
        A = A.tocsr()
        for i in range(A.shape[0]):
            lo, hi = A.indptr[i], A.indptr[i + 1]
            expr = pulp.LpAffineExpression([(xs[j], float(v)) for j, v in zip(A.indices[lo:hi], A.data[lo:hi])])
            con = expr == float(b[i]) if sense == "E" else expr <= float(b[i])
            prob += con, f"{tag}{i}_{_pulp_name(names(i))[:60]}"
    if _available("cbc"):
        solver, tag = pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit), "CBC"
    else:   # no CBC program: PuLP's in-process HiGHS (highspy)
        solver, tag = pulp.HiGHS(msg=False, timeLimit=time_limit), "HiGHS (PuLP)"
    prob.solve(solver)
    dt = time.perf_counter() - t0
    st = pulp.LpStatus[prob.status]
    status = {"Optimal": "optimal", "Infeasible": "infeasible", "Unbounded": "unbounded"}.get(st, "error")
    if status != "optimal":
        return LPSolution(status, None, None, f"{tag} status {st}", dt)
    x = np.array([v.varValue if v.varValue is not None else 0.0 for v in xs], dtype=np.float64)
    return LPSolution("optimal", x, float(lp.c @ x), f"{tag} optimal", dt)


def solve_lp(lp: LP, solver: str, time_limit: float | None = None) -> LPSolution:
    """Solve an :class:`LP` with ``"pulp"`` (CBC), ``"highs"``, ``"highs-ds"`` or ``"highs-ipm"``."""
    if solver == "pulp":
        return _solve_pulp(lp, time_limit)
    if solver in ("highs", "highs-ds", "highs-ipm"):
        return _solve_highs(lp, solver, time_limit)
    raise OptionError(f"solver must be one of {', '.join(map(repr, SOLVERS))}, not {solver!r}")


# ============================================================================ result

@dataclass
class AnaisResult:
    """Outcome of :func:`anais`.

    Attributes
    ----------
    table : MRIOTable
        Updated table: ``Z``, ``Y`` (and exports/other), ``V`` and ``x = w``; satellites are
        not carried over (they belong to the prior year).
    rho : float
        Stage-1 optimum ``rho*``: dimensionless in ``rmax_mode="relative"``, money units in
        ``"absolute"``.
    objective : float
        Stage-2 optimum: money units for ``objective="absolute"`` (total absolute deviation),
        dimensionless sum of relative deviations for ``"relative"`` (free-cell penalties in
        units of ``sigma``).
    rho_realised : float
        Largest realised deviation of the stage-2 solution (same unit as ``rho``).
    deviations : pandas.DataFrame
        The 20 largest realised cell deviations: block, row, column, prior, value,
        abs_deviation, rel_deviation.
    binding : pandas.DataFrame
        Coefficient bounds holding with equality (slack <= ``BINDING_TOL`` sigma): bound,
        side, limit, realised coefficient, slack (money units).
    soft : pandas.DataFrame
        Soft aggregates: name, target, value, rel_deviation.
    status, solver : str
        ``"optimal"``; the solver path used.
    seconds : float
        Wall time of build + both stages; ``timings`` has the parts.
    sigma : float
        Scaling factor (largest absolute prior cell, money units).
    rho_blocks : dict
        ``rho_scope="blocks"``: the stage-1 optimum of each block's bound, ``{"Z": .., "FD": ..,
        "VA": ..}`` (unit as ``rho``; ``rho`` is then their maximum); empty otherwise.
    """

    table: Any
    rho: float
    objective: float
    rho_realised: float
    deviations: pd.DataFrame
    binding: pd.DataFrame
    soft: pd.DataFrame
    status: str
    solver: str
    seconds: float
    sigma: float
    timings: dict = field(default_factory=dict)
    size: dict = field(default_factory=dict)
    rho_blocks: dict = field(default_factory=dict)


# ============================================================================ driver

def _choose_solver(solver: str, P: AnaisProblem) -> str:
    from xlmrio.core.anais_network import network_blockers

    if solver not in SOLVERS:
        raise OptionError(f"solver must be one of {', '.join(map(repr, SOLVERS))}, not {solver!r}")
    if solver == "auto":
        n_free = int((~P.fixed).sum())
        if n_free > AUTO_NETWORK_ABOVE and not network_blockers(P) and P.rho_scope == "all":
            return "network"     # highspy (warm starts) or, without it (xlwings Lite), scipy's HiGHS
        if n_free > AUTO_HIGHS_ABOVE:
            return "highs-ipm"
        return "pulp" if _available("cbc") else "highs"   # no CBC program (xlwings Lite): scipy's HiGHS
    if solver == "network":
        blockers = network_blockers(P) + ([f"rho_scope={P.rho_scope!r}"] if P.rho_scope != "all" else [])
        if blockers:
            raise OptionError("solver='network' needs every total output known and otherwise only single-cell "
                              "information (known cells, zeros, single-cell coefficient bounds); this problem has "
                              + ", ".join(blockers))
    return solver


def _explain_infeasible(prior, kw, solver, families) -> InfeasibleError:
    """Elastic re-solve (§4.5): known totals, aggregates and coefficient bounds get slacks and the
    total relaxation is minimised; if that stays infeasible and there are known cells, they are
    made elastic too.  The error names the items that must move, largest first."""
    has_known = bool(kw.get("known_cells"))
    present = sorted(set(families) - {"balance"}) + (["known cells"] if has_known else [])
    attempts = [dict(totals_as_items=True)] + ([dict(totals_as_items=True, known_as_items=True)] if has_known else [])
    for extra in attempts:
        P = build_problem(prior, **extra, **kw)
        lp, info = stage1_lp(P, elastic=True)
        sol = solve_lp(lp, solver if solver != "network" else "highs-ipm")
        if sol.status == "optimal":
            break
    else:
        return InfeasibleError(
            "the update problem is infeasible, and stays infeasible with all known totals, known cells, "
            "aggregates and coefficient bounds made elastic (so structural zeros or sign preservation "
            f"conflict with the row/column balance); information present: {', '.join(present) or 'none'}",
            conflicts=[],
        )
    nv = info["nvar"]
    slack = sol.x[nv:]
    items = info["slack_items"]
    viol: dict[int, float] = {}
    for val, item in zip(slack, items):
        if val > 1e-7:
            viol[item] = viol.get(item, 0.0) + val * P.sigma
    order = sorted(viol, key=lambda i: -viol[i])
    conflicts = [P.item_names[i] for i in order]
    detail = "; ".join(f"{P.item_names[i]} (off by {viol[i]:.6g})" for i in order[:10])
    more = f"; and {len(order) - 10} more" if len(order) > 10 else ""
    return InfeasibleError(
        "the update problem is infeasible; the smallest relaxation that makes it feasible moves these items: "
        + (detail or "none found") + more,
        conflicts=conflicts,
    )


def anais(
    prior: "MRIOTable",
    *,
    totals=None,
    known_cells=None,
    aggregates: Sequence[Aggregate] | None = None,
    coefficient_bounds: Sequence[CoefficientBound] | None = None,
    reference_regions: ReferenceRegions | None = None,
    rmax_mode: str = "relative",
    objective: str = "absolute",
    zero_policy: str = "fixed",
    prior_scaling: str = "none",
    rho_scope: str = "all",
    eps_rel: float = 1e-6,
    eps_abs: float = 1e-9,
    solver: str = "auto",
    elastic: bool = True,
    time_limit: float | None = None,
) -> AnaisResult:
    """Update a prior table with ANAIS (METHODS.md §4).

    Parameters
    ----------
    prior : MRIOTable
        The reference table (money units ``prior.monetary_unit``).
    totals, known_cells, aggregates, coefficient_bounds, reference_regions
        Target information, any subset; formats in the module docstring.
    rmax_mode : {"relative", "absolute"}
        ``relative`` (default): ``|v - p| <= rho |p|``; ``absolute`` (seed-literal eq. 7–9):
        ``|v - p| <= rho`` with ``rho`` in money units.
    objective : {"absolute", "relative"}
        Stage-2 objective: total absolute deviation (eq. 2, default) or sum of relative
        deviations (eq. 1).
    zero_policy : {"fixed", "free"}
        Zero prior cells stay zero (default) or may become positive (penalised, capped by a
        single-cell coefficient bound times a known total when one exists).
    prior_scaling : {"none", "columns"}
        Scale prior columns by known growth ``w_hat / x0`` before measuring deviations.
    rho_scope : {"all", "Z", "blocks"}
        Which cells the largest deviation ``rho`` bounds: every cell of ``Z``, final demand and
        primary inputs (``"all"``, the seed-literal form, default), or the ``Z`` cells only
        (``"Z"``): final-demand and primary-input cells then deviate as the information requires
        (still counted in the stage-2 total deviation), so a large change of final demand or value
        added no longer sets ``rho*`` for the intermediate flows (issue #14).  ``"blocks"``: one
        bound per block, ``rho_Z``, ``rho_FD`` (final demand, exports, other) and ``rho_VA``
        (primary inputs); stage 1 minimises ``rho_Z + rho_FD + rho_VA``, stage 2 holds each
        (``rho_blocks`` of the result; a soft aggregate counts in its members' block, in Z when
        they span blocks).
    eps_rel, eps_abs : float
        Stage-2 holds ``rho <= rho*(1 + eps_rel) + eps_abs`` (``eps_abs`` in scaled units).
    solver : {"auto", "pulp", "highs", "highs-ds", "highs-ipm", "network"}
        ``pulp`` = PuLP with CBC (PuLP's in-process HiGHS where the CBC program cannot run, scipy's
        HiGHS where highspy is missing too, as under xlwings Lite); ``highs*`` = scipy ``linprog`` (``highs`` lets HiGHS choose,
        ``highs-ds`` dual simplex, ``highs-ipm`` interior point with crossover); ``network`` = the
        transportation-structure path of :mod:`xlmrio.core.anais_network` (all totals known, only
        single-cell information; OptionError otherwise; its LPs go to highspy, else to scipy's
        HiGHS); ``auto`` picks ``network`` above
        ``AUTO_NETWORK_ABOVE`` free cells when the structure allows, else CBC up to
        ``AUTO_HIGHS_ABOVE`` free cells (``highs`` where CBC cannot run) and ``highs-ipm`` above
        (docs/update-benchmarks.md).
    elastic : bool
        On infeasibility, re-solve with known totals, aggregates and coefficient bounds
        elastic and name the items that must be relaxed.
    time_limit : float, optional
        Seconds per LP solve.

    Returns
    -------
    AnaisResult

    Raises
    ------
    InfeasibleError
        No table satisfies the information (``.conflicts`` names the items to relax).
    SolverError
        The solver failed, or a solution violated a post-check of §4.5.
    """
    t_start = time.perf_counter()
    kw = dict(totals=totals, known_cells=known_cells, aggregates=aggregates, coefficient_bounds=coefficient_bounds,
              reference_regions=reference_regions, rmax_mode=rmax_mode, objective=objective,
              zero_policy=zero_policy, prior_scaling=prior_scaling, rho_scope=rho_scope)
    if not (eps_rel >= 0 and eps_abs >= 0):
        raise OptionError(f"eps_rel and eps_abs must be >= 0 (stage 2 holds rho <= rho*(1 + eps_rel) + eps_abs); "
                          f"got eps_rel={eps_rel!r}, eps_abs={eps_abs!r}")
    P = build_problem(prior, **kw)
    solver_used = _choose_solver(solver, P)
    if solver_used == "network":   # transportation structure (xlmrio/core/anais_network.py)
        from xlmrio.core.anais_network import solve_network

        try:
            net = solve_network(P, eps_rel=eps_rel, eps_abs=eps_abs, time_limit=time_limit)
        except InfeasibleError:
            # the network path names the totals of a violated cut; the LP elastic re-solve names the
            # items to relax (coefficient bounds too), affordable up to about 10^5 free cells
            if elastic and int((~P.fixed).sum()) <= ELASTIC_LP_MAX_FREE:
                raise _explain_infeasible(prior, kw, "highs-ipm", P.item_family) from None
            raise
        rho_star, rho_bar, v, w, rg, fun2 = net.rho, net.rho_bar, net.v, net.w, np.zeros(0), net.fun
        rho_vec = np.array([rho_star])
        nt = net.timings
        timings = {"build_stage1": time.perf_counter() - t_start - nt["stage1"] - nt["stage2"],
                   "solve_stage1": nt["stage1"], "build_stage2": 0.0, "solve_stage2": nt["stage2"],
                   "newton_iterations": nt["newton_iterations"]}
        size = dict(net.size)
    else:
        lp1, info1 = stage1_lp(P)
        t_build1 = time.perf_counter() - t_start
        s1 = solve_lp(lp1, solver_used, time_limit)
        if s1.status == "infeasible":
            if elastic:
                raise _explain_infeasible(prior, kw, solver_used, P.item_family)
            raise InfeasibleError(
                "the update problem is infeasible; information present: "
                + ", ".join(sorted(set(P.item_family) - {"balance"})), conflicts=[])
        if s1.status != "optimal":
            raise SolverError(f"stage 1 failed ({solver_used}): {s1.message}")
        rho_vec = np.maximum(s1.x[info1["rho"]:info1["rho"] + info1["n_rho"]], 0.0)
        rho_star = float(rho_vec.max())
        rho_bar = rho_vec * (1.0 + eps_rel) + eps_abs if P.n_rho > 1 else rho_star * (1.0 + eps_rel) + eps_abs
        t1 = time.perf_counter()
        lp2, info2 = stage2_lp(P, rho_bar)
        t_build2 = time.perf_counter() - t1
        s2 = solve_lp(lp2, solver_used, time_limit)
        if s2.status != "optimal":
            raise SolverError(f"stage 2 failed ({solver_used}) although stage 1 was solved: {s2.message}")

        # ---- realised solution (LP path)
        m, nz, N, ns = info2["m"], info2["nz"], P.N, P.n_soft
        x2 = s2.x
        v = P.base.copy()
        dv, fz = info2["dv"], info2["fz"]
        v[dv] = P.base[dv] + x2[:m] - x2[m:2 * m]
        v[fz] = x2[2 * m:2 * m + nz]
        w = x2[2 * m + nz:2 * m + nz + N]
        rg = x2[2 * m + nz + N:]
        fun2 = s2.fun
        timings = {"build_stage1": t_build1, "solve_stage1": s1.seconds, "build_stage2": t_build2,
                   "solve_stage2": s2.seconds}
        size = {"cells": P.n_cells, "free_cells": int((~P.fixed).sum()), "stage1_vars": lp1.c.size,
                "stage1_rows": lp1.A_ub.shape[0] + lp1.A_eq.shape[0], "stage2_vars": lp2.c.size,
                "stage2_rows": lp2.A_ub.shape[0] + lp2.A_eq.shape[0]}
    N, ns = P.N, P.n_soft
    _post_check(P, v, w, rg, rho_bar)
    # clean solver noise in sign-constrained cells (all within the post-check tolerance)
    v = np.where(((P.p > 0) & ~P.fixed) | P.freezero, np.maximum(v, 0.0), v)
    v = np.where((P.p < 0) & ~P.fixed, np.minimum(v, 0.0), v)
    w = np.maximum(w, 0.0)

    sigma = P.sigma
    vs, ws = v * sigma, w * sigma
    NN, Nq = N * N, N * P.q
    Z = vs[:NN].reshape(N, N)
    F = vs[NN:NN + Nq].reshape(N, P.q)
    V = vs[NN + Nq:].reshape(P.D, N)
    table = _make_table(prior, Z, F, V, ws)

    absdev = np.abs(v - P.p) * sigma
    with np.errstate(divide="ignore", invalid="ignore"):
        reldev = np.where(P.p != 0, np.abs(v - P.p) / np.abs(P.p), np.nan)
    rho_blocks = ({b: float(r) * (1.0 if P.rmax_mode == "relative" else sigma) for b, r in zip(RHO_BLOCKS, rho_vec)}
                  if P.n_rho > 1 else {})
    if P.rmax_mode == "relative":
        rho_out = rho_star
        rho_real = float(np.nanmax(np.where(P.dev & _in_rho(P), reldev, np.nan), initial=0.0)) if P.dev.any() else 0.0
    else:
        rho_out = rho_star * sigma
        rho_real = float(absdev[P.dev & _in_rho(P)].max(initial=0.0))
    if ns:
        soft_lhs = _soft_values(P, v, w)
        rho_real = max(rho_real, float(np.max(rg if P.rmax_mode == "relative" else rg * P.soft_b * sigma)))
    obj = float(fun2) * (sigma if objective == "absolute" else 1.0)

    cand = np.flatnonzero(P.dev | P.freezero)
    key = reldev[cand] if P.rmax_mode == "relative" else absdev[cand]
    key = np.nan_to_num(key, nan=0.0)
    key[P.freezero[cand] & (v[cand] > 0)] = np.inf   # a zero prior that became positive
    top = cand[np.argsort(-key, kind="stable")[:20]]
    rows = []
    for c in top:
        block, r, col = P.labels(c)
        rows.append((block, r, col, P.p[c] * sigma, v[c] * sigma, absdev[c], reldev[c]))
    deviations = pd.DataFrame(rows, columns=["block", "row", "column", "prior", "value", "abs_deviation", "rel_deviation"])

    bind = []
    lhs_items = P.A_cell @ v + P.A_w @ w
    for (i, label, side, bound, l) in P.coherence:
        slack = -lhs_items[i]
        if slack <= BINDING_TOL:
            num = lhs_items[i] + bound * w[l] if side == "upper" else bound * w[l] - lhs_items[i]
            coef = num / w[l] if w[l] > 0 else np.nan
            bind.append((label, side, bound, coef, slack * sigma))
    binding = pd.DataFrame(bind, columns=["bound", "side", "limit", "coefficient", "slack"])
    soft = pd.DataFrame(
        [(nm, np.nan, soft_lhs[g] * sigma, float(rg[g])) for g, nm in enumerate(P.soft_names)] if ns else [],
        columns=["name", "target", "value", "r"],
    )
    if ns:
        soft["target"] = [float(g.value) for g in (aggregates or []) if isinstance(g, Aggregate) and g.soft]
    total = time.perf_counter() - t_start
    return AnaisResult(
        table=table, rho=rho_out, objective=obj, rho_realised=rho_real, deviations=deviations, binding=binding,
        soft=soft, status="optimal", solver=solver_used, seconds=total, sigma=sigma,
        timings=timings, size=size, rho_blocks=rho_blocks,
    )


def _soft_values(P: AnaisProblem, v, w):
    """Left-hand side of each soft aggregate (scaled), read from its 'upper' row."""
    fam = np.array(P.item_family)
    up = [i for i, (f, nm) in enumerate(zip(fam, P.item_names)) if f == "soft" and nm.endswith("upper")]
    return (P.A_cell[up] @ v + P.A_w[up] @ w)


def _post_check(P: AnaisProblem, v, w, rg, rho_bar, tol: float = 1e-6) -> None:
    """§4.5 post-checks on the realised stage-2 solution (scaled units, tolerance 1e-6 sigma)."""
    problems = []
    lhs = P.A_cell @ v + P.A_w @ w + P.A_r @ rg
    res = lhs - P.rhs
    eq = P.sense == "E"
    bad_eq = np.flatnonzero(eq & (np.abs(res) > tol))
    bad_ub = np.flatnonzero((~eq) & (res > tol))
    for i in list(bad_eq[:3]) + list(bad_ub[:3]):
        problems.append(f"{P.item_names[i]} violated by {abs(res[i]) * P.sigma:.6g}")
    kn = ~np.isnan(P.w_known)
    if np.any(np.abs(w[kn] - P.w_known[kn]) > tol):
        problems.append("a known total output is not met")
    if np.any(np.abs(v[P.fixed] - P.base[P.fixed]) > tol):
        problems.append("a known or structural-zero cell moved")
    d = np.abs(v - P.p)
    rb = np.broadcast_to(np.asarray(rho_bar, dtype=float), (P.n_rho,))
    cell_bar = rb[P.cell_rho()]
    over = P.dev & _in_rho(P) & (d > P.a * cell_bar + tol)
    if over.any():
        c = int(np.flatnonzero(over)[0])
        problems.append(f"cell {P.labels(c)} deviates beyond rho* ({d[c] / P.a[c]:.6g} > {cell_bar[c]:.6g})")
    free = ~P.fixed   # known cells may take any sign the user gives them (e.g. net taxes turning positive)
    if np.any(free & (P.p > 0) & (v < -tol)) or np.any(free & (P.p < 0) & (v > tol)) \
            or np.any(P.freezero & (v < -tol)):
        problems.append("a cell changed sign")
    if np.any(w < -tol):
        problems.append("a total output is negative")
    if P.n_soft:
        rbg = rb[P.soft_rho()]
        lim = rbg if P.rmax_mode == "relative" else rbg / np.maximum(P.soft_b, 1e-300)
        if np.any(rg > lim + tol):
            problems.append("a soft aggregate deviates beyond rho*")
    if problems:
        raise SolverError("the solver's solution fails the post-checks: " + "; ".join(problems))


def _make_table(prior, Z, F, V, x):
    from xlmrio.core.table import MRIOTable

    mK = prior.m * prior.K
    j = mK
    exports = other = None
    if prior.exports is not None:
        exports = F[:, j]
        j += 1
    if prior.other is not None:
        other = F[:, j]
    return MRIOTable.from_arrays(
        Z, F[:, :mK], regions=prior.regions, sectors=prior.sectors, fd_categories=prior.fd_categories,
        V=V, va_rows=prior.va_rows, x=x, exports=exports, other=other, monetary_unit=prior.monetary_unit,
        name=f"{prior.name} (ANAIS update)" if prior.name else "ANAIS update",
    )
