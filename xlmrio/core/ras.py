"""RAS and GRAS biproportional balancing (METHODS.md §5).

Pure numpy.  All functions accept dense arrays; the public wrappers in :mod:`xlmrio.update`
add pandas label handling.

* :func:`ras` — non-negative prior, ``Z = diag(r) Z0 diag(s)`` (Miller & Blair 2009, ch. 7).
* :func:`gras` — signed prior, ``Z = diag(r) P diag(s) - diag(r)^-1 N diag(s)^-1`` with
  ``P = max(Z0, 0)``, ``N = max(-Z0, 0)`` (Junius & Oosterhaven 2003; the update of
  Temurshoev, Miller & Bouwmeester 2013).
* :func:`balance_known_cells` — hold some cells at known values and balance the rest.
* :func:`balance_table` — whole-table variant on ``[[Z, F], [V, 0]]``.
* :func:`compare` — WAPE, maximum relative deviation and RMSE between an estimate and a
  reference (§5.3).

Units: the balanced matrix carries the unit of the margins ``u`` and ``v`` (money units);
the multipliers ``r`` and ``s`` are dimensionless.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from xlmrio.errors import ConvergenceError, InfeasibleError, OptionError, ShapeError

__all__ = [
    "BalanceResult",
    "ras",
    "gras",
    "balance_known_cells",
    "balance_table",
    "compare",
]


@dataclass(frozen=True)
class BalanceResult:
    """Outcome of a RAS or GRAS balancing.

    Attributes
    ----------
    Z : numpy.ndarray
        Balanced matrix (units of the margins).
    r, s : numpy.ndarray
        Row and column multipliers (dimensionless).  For GRAS they are unique only up to
        ``(c*r, s/c)``; compare ``Z``, not ``r`` and ``s``.
    iterations : int
        Number of completed (row, column) update pairs.
    eps : float
        Final convergence measure (largest relative margin residual, §5.1).
    method : str
        ``"ras"`` or ``"gras"``.
    """

    Z: np.ndarray
    r: np.ndarray
    s: np.ndarray
    iterations: int
    eps: float
    method: str


def _label(labels: Sequence | None, k: int, kind: str) -> str:
    if labels is not None:
        lab = labels[k]
        if isinstance(lab, tuple):
            lab = "|".join(str(p) for p in lab)
        return f"{kind} {lab!s}"
    return f"{kind} {k}"


def _as_inputs(Z0, u, v):
    Z0 = np.asarray(Z0, dtype=np.float64)
    u = np.asarray(u, dtype=np.float64).reshape(-1)
    v = np.asarray(v, dtype=np.float64).reshape(-1)
    if Z0.ndim != 2:
        raise ShapeError(f"the prior must be a 2-D matrix, got {Z0.ndim} dimension(s)")
    if Z0.shape != (u.size, v.size):
        raise ShapeError(
            f"prior is {Z0.shape[0]}x{Z0.shape[1]} but {u.size} row targets and "
            f"{v.size} column targets were given"
        )
    for name, arr in (("prior", Z0), ("row targets", u), ("column targets", v)):
        if not np.all(np.isfinite(arr)):
            raise ShapeError(f"{name} contain NaN or infinite values")
    return Z0, u, v


def _check_totals(u, v, rescale, row_labels, col_labels):
    su, sv = u.sum(), v.sum()
    scale = max(np.abs(u).sum(), np.abs(v).sum())
    if abs(su - sv) <= 1e-9 * scale:
        return u, v
    if rescale in (None, "none"):
        raise InfeasibleError(
            f"row targets sum to {su:.10g} but column targets sum to {sv:.10g}; "
            "the margins must have equal totals (or pass rescale='columns' or 'rows')",
            conflicts=["sum of row targets", "sum of column targets"],
        )
    if rescale == "columns":
        if sv == 0:
            raise InfeasibleError("column targets sum to 0 and cannot be rescaled")
        return u, v * (su / sv)
    if rescale == "rows":
        if su == 0:
            raise InfeasibleError("row targets sum to 0 and cannot be rescaled")
        return u * (sv / su), v
    raise OptionError(f"rescale must be None, 'columns' or 'rows', not {rescale!r}")


def _eps(Z, u, v) -> float:
    """Largest relative margin residual (§5.1)."""
    tau = 1e-12 * max(np.abs(u).max(initial=0.0), np.abs(v).max(initial=0.0))
    tau = tau if tau > 0 else 1e-300
    er = np.abs(Z.sum(axis=1) - u) / np.maximum(np.abs(u), tau)
    ec = np.abs(Z.sum(axis=0) - v) / np.maximum(np.abs(v), tau)
    return float(max(er.max(initial=0.0), ec.max(initial=0.0)))


def _safe_div(a, b):
    out = np.zeros_like(a)
    np.divide(a, b, out=out, where=b != 0)
    return out


def ras(
    Z0,
    u,
    v,
    *,
    tol: float = 1e-10,
    maxiter: int = 10_000,
    rescale: str | None = None,
    row_labels: Sequence | None = None,
    col_labels: Sequence | None = None,
) -> BalanceResult:
    """Balance a non-negative prior to row targets ``u`` and column targets ``v`` by RAS.

    Parameters
    ----------
    Z0 : array_like, shape (nr, nc)
        Non-negative prior (money units).
    u, v : array_like
        Non-negative row (length nr) and column (length nc) targets, same money unit.
    tol : float
        Stop when the largest relative margin residual is below ``tol`` (§5.1).
    maxiter : int
        Maximum number of (row, column) update pairs.
    rescale : {None, "columns", "rows"}
        When the margins' totals differ by more than ``1e-9`` relative: raise (None) or
        rescale the column (row) targets to the other total.
    row_labels, col_labels : sequence, optional
        Used in error messages only.

    Returns
    -------
    BalanceResult

    Raises
    ------
    InfeasibleError
        Unequal margin totals, negative entries or targets, or a zero row/column of the
        prior with a positive target (the label is named).
    ConvergenceError
        ``maxiter`` reached (the zero pattern admits no solution, or convergence is slow).
    """
    Z0, u, v = _as_inputs(Z0, u, v)
    if (Z0 < 0).any():
        k, l = np.argwhere(Z0 < 0)[0]
        raise InfeasibleError(
            f"RAS needs a non-negative prior; entry ({_label(row_labels, k, 'row')}, "
            f"{_label(col_labels, l, 'column')}) is {Z0[k, l]:g} (use GRAS for signed priors)"
        )
    for name, arr, labels in (("row", u, row_labels), ("column", v, col_labels)):
        if (arr < 0).any():
            k = int(np.argmax(arr < 0))
            raise InfeasibleError(
                f"RAS needs non-negative targets; the target of {_label(labels, k, name)} is {arr[k]:g}",
                conflicts=[_label(labels, k, name)],
            )
    u, v = _check_totals(u, v, rescale, row_labels, col_labels)
    rs, cs = Z0.sum(axis=1), Z0.sum(axis=0)
    for name, tot, tgt, labels in (("row", rs, u, row_labels), ("column", cs, v, col_labels)):
        bad = np.flatnonzero((tot == 0) & (tgt > 0))
        if bad.size:
            k = int(bad[0])
            raise InfeasibleError(
                f"{_label(labels, k, name)} of the prior is all zero but its target is {tgt[k]:g}",
                conflicts=[_label(labels, k, name) for k in bad],
            )
    s = np.ones(v.size)
    r = np.ones(u.size)
    eps = np.inf
    it = 0
    while it < maxiter:
        r = _safe_div(u, Z0 @ s)
        s = _safe_div(v, Z0.T @ r)
        it += 1
        Z = (r[:, None] * Z0) * s[None, :]
        eps = _eps(Z, u, v)
        if eps < tol:
            return BalanceResult(Z, r, s, it, eps, "ras")
    raise ConvergenceError(
        f"RAS did not converge in {maxiter} iterations (largest relative margin residual {eps:.3g}); "
        "the zero pattern of the prior may not admit the targets",
        eps=eps,
        iterations=it,
    )


def _gras_mult(P, N, s, u):
    """One GRAS half-step: row multipliers for targets ``u`` given column multipliers ``s``."""
    p = P @ s
    n = N @ _safe_div(np.ones_like(s), s)
    r = np.ones_like(u)
    pos = p > 0
    r[pos] = (u[pos] + np.sqrt(u[pos] ** 2 + 4.0 * p[pos] * n[pos])) / (2.0 * p[pos])
    neg = (~pos) & (n > 0)
    r[neg] = -n[neg] / u[neg]
    return r


def gras(
    Z0,
    u,
    v,
    *,
    tol: float = 1e-10,
    maxiter: int = 10_000,
    rescale: str | None = None,
    row_labels: Sequence | None = None,
    col_labels: Sequence | None = None,
) -> BalanceResult:
    """Balance a prior with entries of either sign by GRAS (§5.2).

    Parameters and results as :func:`ras`; targets may be negative.  Signs of the prior
    are preserved and its zero cells stay zero.

    Raises
    ------
    InfeasibleError
        Unequal margin totals, or a row/column whose sign pattern cannot reach its target
        (all zero with a non-zero target; only negative entries with a target >= 0; only
        positive entries with a negative target).
    ConvergenceError
        ``maxiter`` reached.
    """
    Z0, u, v = _as_inputs(Z0, u, v)
    u, v = _check_totals(u, v, rescale, row_labels, col_labels)
    P = np.maximum(Z0, 0.0)
    N = np.maximum(-Z0, 0.0)
    # A row or column with a zero target whose prior entries all have one sign can only be zero in a
    # sign-preserving solution: zero it first (the multiplicative update would have to reach 0 or inf).
    while True:
        zr = (u == 0) & ((P.sum(axis=1) > 0) ^ (N.sum(axis=1) > 0))
        zc = (v == 0) & ((P.sum(axis=0) > 0) ^ (N.sum(axis=0) > 0))
        if not (zr.any() or zc.any()):
            break
        P[zr, :] = N[zr, :] = 0.0
        P[:, zc] = N[:, zc] = 0.0
    for name, pp, nn, tgt, labels in (
        ("row", P.sum(axis=1), N.sum(axis=1), u, row_labels),
        ("column", P.sum(axis=0), N.sum(axis=0), v, col_labels),
    ):
        bad = (
            ((pp == 0) & (nn == 0) & (tgt != 0))
            | ((pp == 0) & (nn > 0) & (tgt >= 0))
            | ((pp > 0) & (nn == 0) & (tgt < 0))
        )
        idx = np.flatnonzero(bad)
        if idx.size:
            k = int(idx[0])
            sign = "all zero" if pp[k] == 0 and nn[k] == 0 else (
                "only negative" if pp[k] == 0 else "only positive")
            raise InfeasibleError(
                f"{_label(labels, k, name)} of the prior has {sign} entries but its target is {tgt[k]:g}",
                conflicts=[_label(labels, k, name) for k in idx],
            )
    s = np.ones(v.size)
    r = np.ones(u.size)
    eps = np.inf
    it = 0
    while it < maxiter:
        r = _gras_mult(P, N, s, u)
        s = _gras_mult(P.T, N.T, r, v)
        it += 1
        Z = (r[:, None] * P) * s[None, :] - (_safe_div(np.ones_like(r), r)[:, None] * N) * _safe_div(
            np.ones_like(s), s
        )[None, :]
        eps = _eps(Z, u, v)
        if eps < tol:
            return BalanceResult(Z, r, s, it, eps, "gras")
    raise ConvergenceError(
        f"GRAS did not converge in {maxiter} iterations (largest relative margin residual {eps:.3g})",
        eps=eps,
        iterations=it,
    )


def balance_known_cells(
    Z0,
    u,
    v,
    known,
    *,
    method: str = "ras",
    **kwargs,
) -> BalanceResult:
    """Balance with some cells held at known values (§5.1 variant).

    Parameters
    ----------
    Z0, u, v : array_like
        Prior and margins as in :func:`ras`.
    known : array_like, shape of ``Z0``
        Known cell values; ``NaN`` marks unknown cells.
    method : {"ras", "gras"}
        Balancing method for the unknown cells.
    **kwargs
        Passed to :func:`ras` / :func:`gras`.

    Returns
    -------
    BalanceResult
        ``Z`` contains the known cells; ``r`` and ``s`` apply to the unknown cells only.
    """
    Z0, u, v = _as_inputs(Z0, u, v)
    known = np.asarray(known, dtype=np.float64)
    if known.shape != Z0.shape:
        raise ShapeError(f"known cells have shape {known.shape}, the prior {Z0.shape}")
    mask = ~np.isnan(known)
    K = np.where(mask, known, 0.0)
    prior = np.where(mask, 0.0, Z0)
    fn = {"ras": ras, "gras": gras}.get(method)
    if fn is None:
        raise OptionError(f"method must be 'ras' or 'gras', not {method!r}")
    ur, vr = u - K.sum(axis=1), v - K.sum(axis=0)
    # what is left for the unknown cells; rounding noise of a fully known row/column is zero
    scale = max(np.abs(u).max(initial=0.0), np.abs(v).max(initial=0.0), np.abs(K).max(initial=0.0), 1e-300)
    ur[np.abs(ur) <= 1e-12 * scale] = 0.0
    vr[np.abs(vr) <= 1e-12 * scale] = 0.0
    if method == "ras":
        rl, cl = kwargs.get("row_labels"), kwargs.get("col_labels")
        for rest, tgt, labels, kind in ((ur, u, rl, "row"), (vr, v, cl, "column")):
            bad = np.flatnonzero(rest < 0)
            if bad.size:
                k = int(bad[0])
                raise InfeasibleError(
                    f"the known cells of {_label(labels, k, kind)} add up to {tgt[k] - rest[k]:.10g}, more than its "
                    f"target {tgt[k]:.10g}; RAS cannot make the other cells negative (use GRAS or fix the data)",
                    conflicts=[_label(labels, k, kind)])
    res = fn(prior, ur, vr, **kwargs)
    Z = res.Z + K
    return BalanceResult(Z, res.r, res.s, res.iterations, _eps(Z, u, v), res.method)


def balance_table(
    Z0,
    F0,
    V0,
    x,
    va_totals,
    fd_totals,
    *,
    method: str = "gras",
    **kwargs,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, BalanceResult]:
    """Whole-table RAS/GRAS on ``[[Z, F], [V, 0]]`` (§5.1 variant).

    Parameters
    ----------
    Z0 : array_like, (N, N)
        Prior intermediate flows.
    F0 : array_like, (N, q)
        Prior final-demand columns (including export / other columns if any).
    V0 : array_like, (D, N)
        Prior primary inputs.
    x : array_like, (N,)
        Target total outputs (= total inputs).
    va_totals : array_like, (D,)
        Target row totals of the primary-input rows.
    fd_totals : array_like, (q,)
        Target column totals of the final-demand columns.
    method : {"gras", "ras"}
        ``"gras"`` (default) handles negative final demand and net taxes.
    **kwargs
        Passed to :func:`ras` / :func:`gras`.

    Returns
    -------
    Z, F, V : numpy.ndarray
        The balanced blocks.
    result : BalanceResult
        The balancing of the whole table.
    """
    Z0 = np.asarray(Z0, dtype=np.float64)
    F0 = np.asarray(F0, dtype=np.float64)
    V0 = np.asarray(V0, dtype=np.float64)
    if F0.ndim == 1:
        F0 = F0[:, None]
    if V0.ndim == 1:
        V0 = V0[None, :]
    N, q, D = Z0.shape[0], F0.shape[1], V0.shape[0]
    if Z0.shape != (N, N) or F0.shape[0] != N or V0.shape[1] != N:
        raise ShapeError(f"inconsistent blocks Z {Z0.shape}, F {F0.shape}, V {V0.shape}")
    T0 = np.block([[Z0, F0], [V0, np.zeros((D, q))]])
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    u = np.concatenate([x, np.asarray(va_totals, dtype=np.float64).reshape(-1)])
    w = np.concatenate([x, np.asarray(fd_totals, dtype=np.float64).reshape(-1)])
    fn = {"ras": ras, "gras": gras}.get(method)
    if fn is None:
        raise OptionError(f"method must be 'ras' or 'gras', not {method!r}")
    res = fn(T0, u, w, **kwargs)
    T = res.Z
    return T[:N, :N], T[:N, N:], T[N:, :N], res


def compare(estimate, reference) -> dict[str, float]:
    """Accuracy of an estimate against a reference matrix (§5.3).

    Parameters
    ----------
    estimate, reference : array_like, same shape
        Any matrices in the same unit (e.g. ``Z`` in money units, or ``L``, dimensionless).

    Returns
    -------
    dict
        ``wape`` — ``100 * sum|est - ref| / sum|ref|`` (percent; a.k.a. STPE);
        ``max_rel`` — largest ``|est - ref| / |ref|`` over non-zero reference cells;
        ``rmse`` — root mean squared error (unit of the inputs).
    """
    e = np.asarray(estimate, dtype=np.float64)
    r = np.asarray(reference, dtype=np.float64)
    if e.shape != r.shape:
        raise ShapeError(f"estimate has shape {e.shape}, reference {r.shape}")
    d = np.abs(e - r)
    denom = np.abs(r).sum()
    nz = r != 0
    return {
        "wape": float(100.0 * d.sum() / denom) if denom > 0 else float("nan"),
        "max_rel": float((d[nz] / np.abs(r[nz])).max()) if nz.any() else float("nan"),
        "rmse": float(np.sqrt(np.mean((e - r) ** 2))) if e.size else float("nan"),
    }
