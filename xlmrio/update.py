"""Table updating: RAS, GRAS, KRAS and ANAIS (METHODS.md §4–5).  The public Python namespace.

Quick reference
---------------
>>> from xlmrio.update import ras, gras, anais
>>> Z = ras(Z0, u, v)                      # balanced matrix (DataFrame in -> DataFrame out)
>>> info = ras_result(Z0, u, v)            # BalanceResult: Z, r, s, iterations, eps
>>> res = anais(prior, totals={("BJ", "Agri"): 110.0})
>>> res.table, res.rho, res.objective, res.deviations, res.binding
>>> k = kras(prior, totals=..., aggregates=[...])   # GRAS under any linear information (§5.4)
>>> k.table, k.iterations, k.residuals, k.conflicts, k.seeded
>>> u = update(prior, method="auto", **information)  # RAS/GRAS for margins only, else KRAS (Z sums split)
>>> u.table, u.method, u.reason

Target information for :func:`anais` (see :mod:`xlmrio.core.anais` for details)
-------------------------------------------------------------------------------
* ``totals`` — known total outputs ``w_k``: a dict ``{(region, sector): value}``, a
  ``pandas.Series`` indexed by ``(region, sector)``, or a length-N array (``NaN`` = unknown).
* ``known_cells`` — known cell values: a dict of block name -> array/DataFrame of the block's
  shape (``NaN`` = unknown), blocks ``"Z"``, ``"Y"``, ``"V"``, ``"exports"``, ``"other"``;
  or a dict ``{cell: value}`` with cells written as
  ``("Z", (r, i), (s, j))``, ``("Y", (r, i), (s, c))``, ``("V", va_row, (s, j))``,
  ``("exports", (r, i))``, ``("other", (r, i))``.
* ``aggregates`` — list of :class:`Aggregate` (linear combinations of cells and totals
  equal to a value, ``soft=True`` lets them deviate like cells).  ``("x", (r, i))`` refers to
  the total output of ``(r, i)``.
* ``coefficient_bounds`` — list of :class:`CoefficientBound`
  (``lower <= sum_{rows} Z[row, column] / w_column <= upper``).
* ``reference_regions`` — a :class:`ReferenceRegions` deriving coefficient bounds from
  other regions of a reference table (§4.2).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from xlmrio.core import ras as _ras
from xlmrio.core.ras import BalanceResult, compare
from xlmrio.errors import LabelError

__all__ = [
    "ras",
    "gras",
    "ras_result",
    "gras_result",
    "ras_known_cells",
    "balance_table",
    "compare",
    "BalanceResult",
    "anais",
    "AnaisResult",
    "Aggregate",
    "CoefficientBound",
    "ReferenceRegions",
    "coefficient_bounds_from_reference",
    "kras",
    "KrasResult",
    "update",
    "UpdateResult",
    "choose_method",
]


def _align(vec, index: pd.Index | None, what: str) -> np.ndarray:
    if isinstance(vec, pd.DataFrame):
        if vec.shape[1] != 1:
            raise LabelError(f"{what} must be one column, got {vec.shape[1]}")
        vec = vec.iloc[:, 0]
    if isinstance(vec, pd.Series) and index is not None:
        missing = index.difference(vec.index)
        if len(missing):
            raise LabelError(f"{what} have no value for {list(missing)[:5]}")
        extra = vec.index.difference(index)
        if len(extra):
            raise LabelError(f"{what} name labels not in the prior: {list(extra)[:5]}")
        vec = vec.reindex(index)
    return np.asarray(vec, dtype=np.float64).reshape(-1)


def _run(fn, Z0, u, v, kwargs, known=None):
    if isinstance(Z0, pd.DataFrame):
        rows, cols = Z0.index, Z0.columns
        uu, vv = _align(u, rows, "row targets"), _align(v, cols, "column targets")
        kwargs = dict(kwargs, row_labels=list(rows), col_labels=list(cols))
        args = (Z0.to_numpy(dtype=np.float64), uu, vv)
        if known is not None:
            if isinstance(known, pd.DataFrame):
                known = known.reindex(index=rows, columns=cols).to_numpy(dtype=np.float64)
            args = args + (known,)
        res = fn(*args, **kwargs)
        return res, rows, cols
    args = (Z0, u, v) if known is None else (Z0, u, v, known)
    return fn(*args, **kwargs), None, None


def _wrap(res: BalanceResult, rows, cols):
    if rows is None:
        return res
    return BalanceResult(
        pd.DataFrame(res.Z, index=rows, columns=cols),
        pd.Series(res.r, index=rows, name="r"),
        pd.Series(res.s, index=cols, name="s"),
        res.iterations,
        res.eps,
        res.method,
    )


def ras_result(Z0, u, v, *, tol: float = 1e-10, maxiter: int = 10_000, rescale: str | None = None) -> BalanceResult:
    """RAS with diagnostics (§5.1): balanced ``Z``, multipliers ``r``, ``s``, iterations, eps.

    ``Z0`` is a non-negative array or DataFrame (money units); ``u``/``v`` are the row and
    column targets (arrays, or Series aligned on the DataFrame's labels).  DataFrame input
    gives DataFrame/Series output with the same labels.  See :func:`xlmrio.core.ras.ras`.
    """
    res, rows, cols = _run(_ras.ras, Z0, u, v, dict(tol=tol, maxiter=maxiter, rescale=rescale))
    return _wrap(res, rows, cols)


def gras_result(Z0, u, v, *, tol: float = 1e-10, maxiter: int = 10_000, rescale: str | None = None) -> BalanceResult:
    """GRAS with diagnostics (§5.2) for priors with entries of either sign.  See :func:`ras_result`."""
    res, rows, cols = _run(_ras.gras, Z0, u, v, dict(tol=tol, maxiter=maxiter, rescale=rescale))
    return _wrap(res, rows, cols)


def ras(Z0, u, v, *, tol: float = 1e-10, maxiter: int = 10_000, rescale: str | None = None):
    """Balance a non-negative prior ``Z0`` to row targets ``u`` and column targets ``v`` (RAS, §5.1).

    Parameters
    ----------
    Z0 : array_like or pandas.DataFrame
        Non-negative prior (money units).
    u, v : array_like or pandas.Series
        Row and column targets in the same unit; Series are aligned on the labels of ``Z0``.
    tol : float
        Convergence tolerance on the largest relative margin residual.
    maxiter : int
        Maximum iterations (then :class:`~xlmrio.errors.ConvergenceError`).
    rescale : {None, "columns", "rows"}
        What to do when the margins' totals differ: raise (None) or rescale one side.

    Returns
    -------
    numpy.ndarray or pandas.DataFrame
        The balanced matrix, labelled like ``Z0``.
    """
    return ras_result(Z0, u, v, tol=tol, maxiter=maxiter, rescale=rescale).Z


def gras(Z0, u, v, *, tol: float = 1e-10, maxiter: int = 10_000, rescale: str | None = None):
    """Balance a signed prior by GRAS (§5.2); signs and zeros of ``Z0`` are kept.  See :func:`ras`."""
    return gras_result(Z0, u, v, tol=tol, maxiter=maxiter, rescale=rescale).Z


def ras_known_cells(Z0, u, v, known, *, method: str = "ras", tol: float = 1e-10,
                    maxiter: int = 10_000) -> BalanceResult:
    """RAS/GRAS holding known cells fixed (``known`` has ``Z0``'s shape, ``NaN`` = unknown)."""
    res, rows, cols = _run(
        _ras.balance_known_cells, Z0, u, v, dict(method=method, tol=tol, maxiter=maxiter), known=known
    )
    return _wrap(res, rows, cols)


def balance_table(prior, x, va_totals, fd_totals, *, method: str = "gras", tol: float = 1e-10,
                  maxiter: int = 10_000):
    """Whole-table RAS/GRAS of an :class:`~xlmrio.core.table.MRIOTable` (§5.1 variant).

    Parameters
    ----------
    prior : MRIOTable
        Prior table; its final-demand columns are ``Y`` then ``exports`` and ``other``
        (when present).
    x : array_like, (N,)
        Target total outputs (money units).
    va_totals : array_like, (D,)
        Target totals of the primary-input rows.
    fd_totals : array_like, (q,)
        Target totals of the final-demand columns, in the order ``Y`` columns, exports, other.
        Must satisfy ``sum(va_totals) == sum(fd_totals)`` (GDP identity).

    Returns
    -------
    (MRIOTable, BalanceResult)
    """
    F0, parts = _fd_block(prior)
    Z, F, V, res = _ras.balance_table(
        prior.Z, F0, prior.V, x, va_totals, fd_totals, method=method, tol=tol, maxiter=maxiter
    )
    blocks = _split_fd(F, parts)
    table = _rebuild(prior, Z, blocks, V, np.asarray(x, dtype=np.float64), suffix="balanced")
    return table, res


# ---------------------------------------------------------------- table helpers (shared with ANAIS)

def _fd_block(t):
    cols = [np.asarray(t.Y)]
    parts = [("Y", t.Y.shape[1])]
    for name in ("exports", "other"):
        vec = getattr(t, name)
        if vec is not None:
            cols.append(np.asarray(vec).reshape(-1, 1))
            parts.append((name, 1))
    return np.hstack(cols), parts


def _split_fd(F, parts):
    out, j = {}, 0
    for name, width in parts:
        out[name] = F[:, j:j + width] if name == "Y" else F[:, j]
        j += width
    return out


def _rebuild(prior, Z, fd_blocks, V, x, suffix: str):
    from xlmrio.core.table import MRIOTable

    return MRIOTable.from_arrays(
        Z,
        fd_blocks["Y"],
        regions=prior.regions,
        sectors=prior.sectors,
        fd_categories=prior.fd_categories,
        V=V,
        va_rows=prior.va_rows,
        x=x,
        exports=fd_blocks.get("exports"),
        other=fd_blocks.get("other"),
        monetary_unit=prior.monetary_unit,
        name=f"{prior.name} ({suffix})" if prior.name else suffix,
    )


from xlmrio.core.anais import (  # noqa: E402  (after helpers: anais uses them lazily)
    Aggregate,
    AnaisResult,
    CoefficientBound,
    ReferenceRegions,
    anais,
    coefficient_bounds_from_reference,
)
from xlmrio.core.kras import KrasResult, kras  # noqa: E402


# ---------------------------------------------------------------- method="auto"

#: The evidence behind ``method="auto"`` (docs/update-accuracy.md; bench/bench_update_accuracy.py and
#: bench/bench_update_grouped.py).  Each entry: (method, one-line reason with the benchmark figure).
AUTO_EVIDENCE = {
    "margins": ("gras", "only margins are known (nothing on single intermediate flows): RAS/GRAS had the lowest "
                        "WAPE of Z in all 22 margins-benchmark rows (7 real year pairs, exact and noisy margins)"),
    "cells": ("kras", "information on intermediate flows (known cells, aggregates or coefficient bounds): with "
                      "the largest 5 % of Z cells known KRAS cut margins-only RAS's WAPE of Z by 35-77 % on 5 real "
                      "pairs; with regions known only as a group, KRAS holding the group's Z sums at the "
                      "proportional split (z_aggregates='split') solved all 14 cases (ANAIS's default none), "
                      "matched the split's Z cells and returned a balanced table whose total outputs were closer "
                      "to the truth than the split's in all 14"),
}

_FD_VA_BLOCKS = ("Y", "V", "exports", "other", "x", "w", "total")


def _touches_z(information: dict) -> bool:
    """Whether the information says anything about single intermediate flows (Z cells)."""
    if information.get("coefficient_bounds") or information.get("reference_regions") is not None:
        return True
    known = information.get("known_cells") or {}
    if known:
        if all(isinstance(k, str) for k in known):
            z = known.get("Z")
            if z is not None and np.isfinite(np.asarray(z, dtype=np.float64)).any():
                return True
        elif any(isinstance(k, tuple) and k and k[0] == "Z" for k in known):
            return True
    for g in information.get("aggregates") or ():
        for mem in g.members:
            ref = mem[0] if (isinstance(mem, tuple) and len(mem) == 2 and isinstance(mem[0], tuple)
                             and isinstance(mem[1], (int, float, np.number))) else mem
            if isinstance(ref, tuple) and ref and ref[0] not in _FD_VA_BLOCKS:
                return True
    return False


def choose_method(**information) -> tuple[str, str]:
    """The method ``update(method="auto")`` runs for this information, and why.

    Returns
    -------
    (method, reason)
        ``("gras", ...)`` when only margins are known (totals, final-demand and primary-input
        information, nothing on single ``Z`` cells), else ``("kras", ...)``; ``reason`` cites the
        benchmark figure behind the choice (:data:`AUTO_EVIDENCE`).  :func:`update` runs KRAS with
        ``z_aggregates="split"`` then (it changes nothing unless aggregates of ``Z`` cells are given).
    """
    return AUTO_EVIDENCE["cells" if _touches_z(information) else "margins"]


@dataclass
class UpdateResult:
    """Outcome of :func:`update`: the updated ``table``, the ``method`` that ran, ``reason`` (why it
    was chosen, with the benchmark figure behind it for ``method="auto"``) and the method's own
    ``result`` (:class:`KrasResult` or :class:`AnaisResult`)."""

    table: Any
    method: str
    reason: str
    result: Any


def update(prior, method: str = "auto", **information) -> UpdateResult:
    """Update ``prior`` to target-year information with the given method or the evidence-led choice.

    Parameters
    ----------
    prior : MRIOTable
        The prior table.
    method : {"auto", "kras", "gras", "ras", "anais"}
        ``"auto"`` picks from the information supplied (:func:`choose_method`): margins only ->
        RAS/GRAS; information on intermediate flows -> KRAS with ``z_aggregates="split"`` (aggregates
        of ``Z`` cells split by the prior's shares and held, the balances met by the other cells;
        see :func:`xlmrio.core.kras.kras`; pass ``z_aggregates="balance"`` to free them).  ``"ras"``/``"gras"`` need margins-only
        information and are computed by the KRAS solver, which equals RAS/GRAS on it (tested).
    **information
        ``totals``, ``known_cells``, ``aggregates``, ``coefficient_bounds``, ``reference_regions``
        as for :func:`anais`, plus options of the method that runs (e.g. ``rel_se`` for KRAS,
        ``rho_scope`` for ANAIS).

    Returns
    -------
    UpdateResult
    """
    from xlmrio.errors import OptionError

    info_keys = ("totals", "known_cells", "aggregates", "coefficient_bounds", "reference_regions")
    info = {k: information[k] for k in info_keys if information.get(k) is not None}
    if not info:
        raise OptionError("update needs target information: totals, known_cells, aggregates, "
                          "coefficient_bounds or reference_regions")
    auto = method == "auto"
    if auto:
        method, reason = choose_method(**info)
    elif method in ("ras", "gras"):
        if _touches_z(info):
            raise OptionError(f"method={method!r} balances to margins only; this information also concerns "
                              "intermediate flows: use method='kras' (or 'auto')")
        reason = f"method={method!r} requested"
    elif method in ("kras", "anais"):
        reason = f"method={method!r} requested"
    else:
        raise OptionError(f"method must be 'auto', 'kras', 'gras', 'ras' or 'anais', not {method!r}")
    if method == "anais":
        res = anais(prior, **information)
    else:
        if auto and method == "kras":
            information.setdefault("z_aggregates", "split")
        if method == "ras" and (np.asarray(prior.Z) < 0).any():
            raise OptionError("RAS needs a non-negative prior; use 'gras'")
        res = kras(prior, **information)
    return UpdateResult(res.table, method, reason, res)
