"""Aggregation with concordances and competitive → non-competitive conversion (METHODS.md §1.4–1.5).

Rule (§1.5): compute multipliers on the most detailed table, then aggregate *results* with
:func:`aggregate_result`; aggregate the table itself only when the user asks (aggregation bias).
"""
from __future__ import annotations

from typing import Mapping

import numpy as np
import pandas as pd

from ..errors import LabelError, OptionError
from .table import MRIOTable


def concordance_matrix(labels, mapping=None) -> tuple[np.ndarray, list[str]]:
    """0/1 concordance ``C`` (n_a × n) from a mapping ``old label -> new label``.

    *mapping* may be a dict, a Series (index old, values new), a two-column DataFrame
    (old, new) or a 0/1 DataFrame (rows new, columns old). ``None`` is the identity. Each old label
    must map to exactly one new label; new labels keep the order of first appearance.

    Returns
    -------
    (C, new_labels)
    """
    labels = [str(v) for v in labels]
    if mapping is None:
        return np.eye(len(labels)), labels
    if isinstance(mapping, pd.DataFrame):
        if mapping.shape[1] == 2 and not set(map(str, mapping.columns)) >= set(labels):
            mapping = dict(zip(mapping.iloc[:, 0].astype(str), mapping.iloc[:, 1].astype(str)))
        else:
            mat = mapping.copy()
            mat.columns = [str(c) for c in mat.columns]
            missing = [lab for lab in labels if lab not in mat.columns]
            if missing:
                raise LabelError(f"concordance has no column for {missing[:5]}")
            C = mat[labels].to_numpy(float)
            bad = [labels[j] for j in np.flatnonzero(np.abs(C.sum(axis=0) - 1) > 0)]
            if bad or not np.isin(C, (0.0, 1.0)).all():
                raise LabelError(f"each label must map to exactly one group (0/1 entries); check {bad[:5]}")
            return C, [str(i) for i in mat.index]
    if isinstance(mapping, pd.Series):
        mapping = {str(k): str(v) for k, v in mapping.items()}
    mapping = {str(k): str(v) for k, v in dict(mapping).items()}
    missing = [lab for lab in labels if lab not in mapping]
    if missing:
        raise LabelError(f"concordance does not map {missing[:5]}" + (" ..." if len(missing) > 5 else ""))
    extra = [k for k in mapping if k not in set(labels)]
    if extra:
        raise LabelError(f"concordance maps unknown labels {extra[:5]}")
    new = list(dict.fromkeys(mapping[lab] for lab in labels))
    C = np.zeros((len(new), len(labels)))
    for j, lab in enumerate(labels):
        C[new.index(mapping[lab]), j] = 1.0
    return C, new


def aggregate(table: MRIOTable, sector_map=None, region_map=None, *, name: str | None = None) -> MRIOTable:
    """Aggregate a table with a sector concordance and/or a region grouping (METHODS §1.5).

    ``Z_agg = Γ Z Γᵀ``, ``Y_agg = Γ Y`` (destination columns grouped with ``R``), ``V_agg = V Γᵀ``,
    ``x_agg = Γ x``, ``G_agg = G Γᵀ`` with ``Γ = R ⊗ C``; exports, other and direct final-demand
    emissions are grouped the same way.

    Parameters
    ----------
    table : MRIOTable
    sector_map, region_map : mapping or DataFrame, optional
        ``old label -> new label`` (see :func:`concordance_matrix`). ``None`` keeps the labels.
    name : str, optional
        Name of the new table (default: the old name + " (aggregated)").
    """
    if sector_map is None and region_map is None:
        raise OptionError("give a sector_map and/or a region_map to aggregate")
    C, sectors = concordance_matrix(table.sectors, sector_map)
    R, regions = concordance_matrix(table.regions, region_map)
    G = np.kron(R, C)
    RK = np.kron(R, np.eye(table.K))
    vec = lambda v: None if v is None else G @ v  # noqa: E731
    sats = {k: (G @ s.values, s.unit, None if s.hh is None else RK @ s.hh) for k, s in table.satellites.items()}
    return MRIOTable.from_arrays(
        G @ table.Z @ G.T, G @ table.Y @ RK.T, regions=regions, sectors=sectors,
        fd_categories=table.fd_categories, V=table.V @ G.T, va_rows=table.va_rows, x=G @ table.x,
        exports=vec(table.exports), other=vec(table.other), satellites=sats,
        monetary_unit=table.monetary_unit, name=name if name is not None else f"{table.name} (aggregated)".strip(),
    )


def aggregate_result(frame: pd.DataFrame | pd.Series, sector_map=None, region_map=None, *,
                     rows: bool = True, columns: bool = True):
    """Aggregate a result indexed by (region, sector) — e.g. ``F`` or ``Mx`` — with concordances.

    ``F_agg = Γ F Γᵀ``: rows and/or columns carrying a (region, sector) MultiIndex are summed into the
    new groups; other axes are left alone.
    """
    def agg_axis(obj, axis):
        idx = obj.index if axis == 0 else obj.columns
        if not isinstance(idx, pd.MultiIndex) or idx.nlevels != 2:
            return obj
        reg = [str(v) for v in idx.get_level_values(0)]
        sec = [str(v) for v in idx.get_level_values(1)]
        rmap = _as_dict(region_map, dict.fromkeys(reg))
        smap = _as_dict(sector_map, dict.fromkeys(sec))
        new = pd.MultiIndex.from_arrays([[rmap[r] for r in reg], [smap[s] for s in sec]], names=idx.names)
        obj = obj.copy()
        if axis == 0:
            obj.index = new
            return obj.groupby(level=[0, 1], sort=False).sum()
        obj.columns = new
        return obj.T.groupby(level=[0, 1], sort=False).sum().T

    out = frame
    if rows:
        out = agg_axis(out, 0)
    if columns and isinstance(out, pd.DataFrame):
        out = agg_axis(out, 1)
    return out


def _as_dict(mapping, labels: dict) -> dict:
    if mapping is None:
        return {k: k for k in labels}
    if isinstance(mapping, pd.Series):
        mapping = mapping.to_dict()
    if isinstance(mapping, pd.DataFrame):
        C, new = concordance_matrix(list(labels), mapping)
        return {lab: new[int(np.argmax(C[:, j]))] for j, lab in enumerate(labels)}
    d = {str(k): str(v) for k, v in dict(mapping).items()}
    missing = [k for k in labels if k not in d]
    if missing:
        raise LabelError(f"concordance does not map {missing[:5]}")
    return d


def noncompetitive(table: MRIOTable, imports, *, name: str | None = None) -> tuple[MRIOTable, list[str]]:
    """Competitive-imports table → non-competitive (domestic) table (METHODS §1.4).

    The table's rows satisfy ``Z1 + Y1 + E1 + O − m = x`` with ``m = imports ≥ 0`` (the competitive
    imports column, entered as a positive vector here). Each row is split with
    ``δ_k = (x_k − ex_k) / (x_k + m_k − ex_k)`` (1 if the denominator is 0; clipped to [0, 1]),
    ``Z_dom = δ̂ Z``, ``Y_dom = δ̂ Y``, ``O_dom = δ̂ O``, exports unchanged, and a row
    ``"Imported inputs" = 1'(I − δ̂) Z`` is appended to ``V``.

    Returns
    -------
    (table, warnings)
        The domestic table and a list of warnings (clipped rows named by label).
    """
    imports = np.asarray(imports, dtype=float).reshape(-1)
    if imports.shape != (table.N,):
        raise OptionError(f"imports must have one value per region-sector ({table.N}), got {imports.shape}")
    if (imports < 0).any():
        k = int(np.argmin(imports))
        raise OptionError(f"imports must be entered as non-negative amounts; {table.label(k)} has {imports[k]:g}")
    ex = np.zeros(table.N) if table.exports is None else table.exports
    num = table.x - ex
    den = table.x + imports - ex
    delta = np.ones(table.N)
    np.divide(num, den, out=delta, where=den != 0)
    warnings = []
    clipped = np.flatnonzero((delta < 0) | (delta > 1))
    if clipped.size:
        warnings.append("import share clipped to [0, 1] for " + ", ".join(table.label(k) for k in clipped[:10]))
        delta = np.clip(delta, 0.0, 1.0)
    Zd = delta[:, None] * table.Z
    imported = ((1 - delta)[:, None] * table.Z).sum(axis=0)
    out = MRIOTable.from_arrays(
        Zd, delta[:, None] * table.Y, regions=table.regions, sectors=table.sectors,
        fd_categories=table.fd_categories, V=np.vstack([table.V, imported]),
        va_rows=list(table.va_rows) + ["Imported inputs"], x=table.x, exports=table.exports,
        other=None if table.other is None else delta * table.other,
        satellites={k: tuple(s) for k, s in table.satellites.items()}, monetary_unit=table.monetary_unit,
        name=name if name is not None else f"{table.name} (non-competitive)".strip(),
    )
    return out, warnings
