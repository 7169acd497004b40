"""Embodied-flow matrix and top flows for network charts (METHODS.md §2.5–2.6).

``F = ê (L − I) x̂`` — never ``L·Z``: one inverse (formed by LU) and two diagonal scalings.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import OptionError
from .leontief import LeontiefSolver, intensities
from .table import MRIOTable

FLOW_KINDS = ("embodied", "embodied_intensity")


def flow_matrix(e: np.ndarray, L: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``F = ê (L − I) x̂`` as an array: ``f_kl = e_k (L_kl − δ_kl) x_l`` (satellite unit)."""
    F = L * e[:, None]
    F *= x[None, :]
    F[np.diag_indices_from(F)] -= e * x
    return F


def embodied_flows(table: MRIOTable, satellite: str | None = None, *, kind: str = "embodied",
                   solver: LeontiefSolver | None = None) -> pd.DataFrame:
    """Embodied-flow matrix (METHODS §2.5), indexed by (region, sector) on both axes.

    Parameters
    ----------
    table : MRIOTable
    satellite : str, optional
        Satellite name (may be omitted when the table has exactly one).
    kind : {"embodied", "embodied_intensity"}
        ``"embodied"``: ``F = ê L Z = ê (L − I) x̂``, ``f_kl`` = emissions of ``k`` attributed to the
        purchases of ``l``. ``"embodied_intensity"``: ``F_E = μ̂ Z`` (same column sums).
    solver : LeontiefSolver, optional
        Reuse a factorisation.

    Returns
    -------
    DataFrame (N, N)
        In the satellite's unit. ``1'F1`` is a *linkage strength* (stages are counted repeatedly),
        never total emissions.
    """
    if kind not in FLOW_KINDS:
        raise OptionError(f"kind must be one of {FLOW_KINDS}, not {kind!r}")
    sat = table.satellite(satellite)
    solver = solver or LeontiefSolver.for_table(table)
    e = intensities(sat.values, table.x)
    if kind == "embodied":
        F = flow_matrix(e, solver.L, table.x)
    else:
        F = solver.solve_left(e)[:, None] * table.Z
    idx = table.index
    return pd.DataFrame(F, index=idx, columns=idx)


def aggregate_flows(F: pd.DataFrame, level: str = "region") -> pd.DataFrame:
    """Aggregate a (region, sector) × (region, sector) flow matrix to ``"region"`` or ``"sector"``.

    ``F_reg = Γ_reg F Γ_regᵀ`` and ``F_sec = Γ_sec F Γ_secᵀ`` (METHODS §2.5); the grand total is kept.
    """
    if level not in ("region", "sector"):
        raise OptionError(f"level must be 'region' or 'sector', not {level!r}")
    out = F.T.groupby(level=level, sort=False).sum().T.groupby(level=level, sort=False).sum()
    out.index.name = f"from {level}"
    out.columns.name = f"to {level}"
    return out


def net_inflow_from_flows(F_reg: pd.DataFrame) -> pd.Series:
    """F-based net inflow ``Σ_{s≠r} F_reg,rs − F_reg,sr`` by region (basis: embodied flows F)."""
    a = F_reg.to_numpy()
    net = (a.sum(axis=1) - np.diag(a)) - (a.sum(axis=0) - np.diag(a))
    return pd.Series(net, index=F_reg.index, name="net inflow (F basis)")


def top_flows(flows: pd.DataFrame, *, top_k: int | None = 20, cum_share: float | None = None,
              threshold: float | None = None, exclude_self: bool = True, exclude_intra_region: bool = True,
              sources=None, targets=None, source_sectors=None, target_sectors=None,
              positive_only: bool = True) -> pd.DataFrame:
    """Largest flows of a flow matrix as an edge list for network charts (METHODS §2.6).

    Parameters
    ----------
    flows : DataFrame
        ``F`` (region-sector on both axes, MultiIndex), ``F_reg``, ``T`` or ``Mx`` (plain index = region).
    top_k, cum_share, threshold
        Selection rule — exactly one is used, in this order of precedence: ``cum_share p`` (shortest
        prefix of the sorted list whose cumulative sum ≥ p × filtered total), ``threshold τ``
        (values ≥ τ), else ``top_k`` (default 20; ``None`` keeps all).
    exclude_self : bool
        Drop ``k = l`` (default True).
    exclude_intra_region : bool
        Drop flows whose source and target regions are equal (default True).
    sources, targets : iterable of str, optional
        Keep only these source / target regions.
    source_sectors, target_sectors : iterable of str, optional
        Keep only these source / target sectors (e.g. ``target_sectors=["Construction"]``).
    positive_only : bool
        Drop flows ≤ 0 (default True).

    Returns
    -------
    DataFrame
        Columns ``source_region, source_sector, target_region, target_sector, value, share,
        cum_share``; sorted by value descending, ties by (source index, target index). ``share``
        is relative to the total of the filtered flows (``flows.attrs["total"]`` holds it).
    """
    arr = flows.to_numpy(dtype=float)
    src_reg, src_sec = _split(flows.index)
    tgt_reg, tgt_sec = _split(flows.columns)
    keep = np.ones(arr.shape, dtype=bool)
    ii, jj = np.indices(arr.shape)
    if exclude_self:
        same = (np.asarray(src_reg)[:, None] == np.asarray(tgt_reg)[None, :]) & \
               (np.asarray(src_sec, dtype=object)[:, None] == np.asarray(tgt_sec, dtype=object)[None, :])
        keep &= ~same
    if exclude_intra_region:
        keep &= np.asarray(src_reg)[:, None] != np.asarray(tgt_reg)[None, :]
    for labels, allowed, axis in ((src_reg, sources, 0), (tgt_reg, targets, 1),
                                  (src_sec, source_sectors, 0), (tgt_sec, target_sectors, 1)):
        if allowed is not None:
            allowed = {str(a) for a in ([allowed] if isinstance(allowed, str) else allowed)}
            mask = np.array([str(lab) in allowed for lab in labels])
            keep &= mask[:, None] if axis == 0 else mask[None, :]
    if positive_only:
        keep &= arr > 0
    vals = arr[keep]
    rows, cols = ii[keep], jj[keep]
    total = float(vals.sum())
    order = np.lexsort((cols, rows, -vals))
    vals, rows, cols = vals[order], rows[order], cols[order]
    cum = np.cumsum(vals) / total if total else np.zeros_like(vals)
    if cum_share is not None:
        if not 0 < cum_share <= 1:
            raise OptionError(f"cum_share must be in (0, 1], not {cum_share}")
        cnt = int(np.searchsorted(cum, cum_share - 1e-12) + 1)
    elif threshold is not None:
        cnt = int((vals >= threshold).sum())
    else:
        cnt = len(vals) if top_k is None else int(top_k)
        if cnt < 0:
            raise OptionError(f"top_k must be a positive number, not {top_k}")
    cnt = min(cnt, len(vals))
    sl = slice(0, cnt)
    out = pd.DataFrame({
        "source_region": [src_reg[r] for r in rows[sl]],
        "source_sector": [src_sec[r] for r in rows[sl]],
        "target_region": [tgt_reg[c] for c in cols[sl]],
        "target_sector": [tgt_sec[c] for c in cols[sl]],
        "value": vals[sl],
        "share": vals[sl] / total if total else np.zeros(cnt),
        "cum_share": cum[sl],
    })
    out.attrs["total"] = total
    return out


def _split(index: pd.Index) -> tuple[list, list]:
    """(regions, sectors) of an index; plain indexes have no sector ("")."""
    if isinstance(index, pd.MultiIndex):
        return [str(v) for v in index.get_level_values(0)], [str(v) for v in index.get_level_values(1)]
    return [str(v) for v in index], [""] * len(index)
