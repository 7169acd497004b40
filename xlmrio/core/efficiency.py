"""Emission intensity, orientation and (in)efficient supply chains (METHODS.md §3).

A flow from producer ``p`` to consumer ``c`` is *inefficient* when production sits in the less
efficient region (``ι_p > ι_c``), *efficient* when ``ι_p < ι_c``, *neutral* when equal (relative
difference ≤ 1e-12) and *unclassified* when an intensity is undefined (zero output).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import OptionError
from .accounts import AccountsResult, accounts
from .flows import aggregate_flows, embodied_flows
from .leontief import LeontiefSolver
from .table import MRIOTable

CLASSES = ("inefficient", "efficient", "neutral")


def orientation(nei: pd.Series, pba: pd.Series, tol: float = 1e-9) -> pd.Series:
    """``"production"`` if ``NEI > tol·PBA``, ``"consumption"`` if ``NEI < −tol·PBA``, else ``"balanced"``."""
    lim = tol * np.abs(pba.reindex(nei.index).to_numpy())
    v = nei.to_numpy()
    lab = np.where(v > lim, "production", np.where(v < -lim, "consumption", "balanced"))
    return pd.Series(lab, index=nei.index, name="orientation")


def classify(i_p: np.ndarray, i_c: np.ndarray) -> np.ndarray:
    """Class of each flow from producer and consumer intensities (NaN = undefined)."""
    i_p = np.asarray(i_p, float)
    i_c = np.asarray(i_c, float)
    out = np.full(i_p.shape, "unclassified", dtype=object)
    ok = np.isfinite(i_p) & np.isfinite(i_c)
    scale = np.maximum(np.abs(i_p), np.abs(i_c))
    with np.errstate(invalid="ignore"):
        neutral = ok & (np.abs(i_p - i_c) <= 1e-12 * scale)
    out[ok & ~neutral & (i_p > i_c)] = "inefficient"
    out[ok & ~neutral & (i_p < i_c)] = "efficient"
    out[neutral] = "neutral"
    return out


@dataclass(frozen=True)
class EfficiencyResult:
    """Intensities, orientation and flow classification of one satellite.

    Attributes
    ----------
    regions : DataFrame
        Per focus region: ``PBA`` (unit), ``X`` (monetary unit), ``intensity`` (unit per monetary
        unit), ``gap`` (``ι/ι_f − 1``), ``NEI`` (on ``basis``), ``orientation``.
    focus_intensity : float
        ``ι_f = Σ PBA / Σ X`` over the focus regions.
    flows : DataFrame
        Each classified pair: ``producer, consumer, value, producer_intensity,
        consumer_intensity, class``.
    shares : Series
        Share of inefficient / efficient / neutral flows in the classified total (sums to 1).
    producer_contribution : Series
        Each producer's share of the inefficient total.
    groups : DataFrame
        Pooled intensity and member range for production- and consumer-oriented regions.
    dropped_negative : float
        Sum of negative flows that were dropped.
    flow_basis, basis, mode, sector, unit, intensity_unit : str
    """

    regions: pd.DataFrame
    focus_intensity: float
    flows: pd.DataFrame
    shares: pd.Series
    producer_contribution: pd.Series
    groups: pd.DataFrame
    dropped_negative: float
    flow_basis: str
    basis: str
    mode: str
    sector: str | None
    unit: str
    intensity_unit: str
    notes: list = field(default_factory=list)

    @property
    def share_ineff(self) -> float:
        """Share of inefficient flows in the classified total."""
        return float(self.shares["inefficient"])


def efficiency(table: MRIOTable, satellite: str | None = None, *, focus=None, flow_basis: str = "T",
               basis: str = "total", sector: str | None = None, tol: float = 1e-9,
               accounts_result: AccountsResult | None = None,
               solver: LeontiefSolver | None = None) -> EfficiencyResult:
    """Intensity, orientation and inefficient/efficient flow shares (METHODS §3).

    Parameters
    ----------
    table : MRIOTable
    satellite : str, optional
    focus : iterable of str, optional
        Focus set ``R_f`` of real regions (default: all regions).
    flow_basis : {"T", "F_reg"}
        ``"T"``: final-demand-driven flows ``T_pc`` (default); ``"F_reg"``: region-aggregated embodied
        flows.
    basis : {"total", "domestic"}
        Basis of NEI used for orientation.
    sector : str, optional
        Sector mode: flows ``Mx[(p, j), c]`` compared with ``e_(p,j)`` vs ``e_(c,j)`` (flow basis T).
    tol : float
        Orientation tolerance relative to PBA.
    accounts_result, solver : optional
        Reuse earlier results.
    """
    if flow_basis not in ("T", "F_reg"):
        raise OptionError(f"flow_basis must be 'T' or 'F_reg', not {flow_basis!r}")
    solver = solver or LeontiefSolver.for_table(table)
    acc = accounts_result or accounts(table, satellite, basis=basis, solver=solver)
    if acc.basis != basis:
        acc = accounts(table, acc.satellite, basis=basis, solver=solver)
    focus_list = list(table.regions) if focus is None else [str(r) for r in focus]
    unknown = [r for r in focus_list if r not in table.regions]
    if unknown:
        raise OptionError(f"unknown focus region(s) {unknown}; the table has {list(table.regions)}")
    if len(focus_list) < 2:
        raise OptionError("the focus set needs at least two regions")
    X = pd.Series(table.x.reshape(table.m, table.n).sum(axis=1), index=acc.pba.index)
    pba = acc.pba
    with np.errstate(divide="ignore", invalid="ignore"):
        iota = (pba / X).where(X > 0)
    i_f = float(pba[focus_list].sum() / X[focus_list].sum()) if X[focus_list].sum() > 0 else float("nan")
    regions = pd.DataFrame({
        "PBA": pba[focus_list], "X": X[focus_list], "intensity": iota[focus_list],
        "gap": iota[focus_list] / i_f - 1.0, "NEI": acc.nei[focus_list],
        "orientation": orientation(acc.nei, pba, tol)[focus_list],
    })
    regions.index.name = "region"
    notes: list[str] = []
    if sector is not None:
        if flow_basis != "T":
            raise OptionError("sector mode compares final-demand-driven flows: use flow_basis='T'")
        if sector not in table.sectors:
            raise OptionError(f"unknown sector {sector!r}; the table has {list(table.sectors)}")
        j = table.sectors.index(sector)
        rows = [r * table.n + j for r in range(table.m)]
        M = acc.Mx.to_numpy()[rows][:, : table.m]
        e = acc.e.to_numpy()[rows]
        xj = table.x[rows]
        intens = pd.Series(np.where(xj > 0, e, np.nan), index=table.regions)
        mode = "sector"
    else:
        if flow_basis == "T":
            M = acc.driver.to_numpy()[:, : table.m]
        else:
            M = aggregate_flows(embodied_flows(table, acc.satellite, solver=solver)).to_numpy()
        intens = iota
        mode = "average"
    pos = {r: k for k, r in enumerate(table.regions)}
    recs = []
    dropped = 0.0
    for p in focus_list:
        for c in focus_list:
            if p == c:
                continue
            v = float(M[pos[p], pos[c]])
            if v < 0:
                dropped += v
                continue
            recs.append((p, c, v, float(intens[p]), float(intens[c])))
    flows = pd.DataFrame(recs, columns=["producer", "consumer", "value", "producer_intensity",
                                        "consumer_intensity"])
    flows["class"] = classify(flows["producer_intensity"].to_numpy(), flows["consumer_intensity"].to_numpy())
    if dropped:
        notes.append(f"negative flows dropped, sum {dropped:.6g} {acc.unit}")
    classified = flows[flows["class"] != "unclassified"]
    tot = classified["value"].sum()
    shares = pd.Series({c: (classified.loc[classified["class"] == c, "value"].sum() / tot if tot else np.nan)
                        for c in CLASSES}, name="share")
    ineff = flows[flows["class"] == "inefficient"]
    ineff_tot = ineff["value"].sum()
    contrib = (ineff.groupby("producer", sort=False)["value"].sum() / ineff_tot) if ineff_tot \
        else pd.Series(dtype=float)
    contrib = contrib.sort_values(ascending=False).rename("share of inefficient flows")
    groups = []
    for label, key in (("production-oriented", "production"), ("consumer-oriented", "consumption")):
        mem = regions[regions["orientation"] == key]
        pooled = mem["PBA"].sum() / mem["X"].sum() if len(mem) and mem["X"].sum() > 0 else np.nan
        groups.append((label, len(mem), pooled, mem["intensity"].min() if len(mem) else np.nan,
                       mem["intensity"].max() if len(mem) else np.nan, ", ".join(mem.index)))
    groups = pd.DataFrame(groups, columns=["group", "regions", "pooled_intensity", "min_intensity",
                                           "max_intensity", "members"]).set_index("group")
    return EfficiencyResult(
        regions=regions, focus_intensity=i_f, flows=flows, shares=shares, producer_contribution=contrib,
        groups=groups, dropped_negative=dropped, flow_basis=flow_basis, basis=basis, mode=mode, sector=sector,
        unit=acc.unit, intensity_unit=f"{acc.unit} per {table.monetary_unit}".strip(), notes=notes,
    )


def eco_compensation(result: EfficiencyResult, price: float) -> pd.DataFrame:
    """Compensation owed by consumer regions to producer regions over inefficient flows ([MA18]).

    ``comp_pc = π · T_pc`` for every inefficient flow; ``price`` π is money per emission unit (the
    result is in that money). Returns a consumer × producer matrix with ``Total`` row and column.
    """
    if not np.isfinite(price) or price < 0:
        raise OptionError(f"price must be a non-negative number, not {price}")
    ineff = result.flows[result.flows["class"] == "inefficient"]
    regs = list(result.regions.index)
    mat = pd.DataFrame(0.0, index=pd.Index(regs, name="consumer (pays)"),
                       columns=pd.Index(regs, name="producer (receives)"))
    for _, row in ineff.iterrows():
        mat.loc[row["consumer"], row["producer"]] += price * row["value"]
    mat["Total"] = mat.sum(axis=1)
    mat.loc["Total"] = mat.sum(axis=0)
    return mat


def correlation_table(factors: pd.DataFrame, target: pd.Series) -> pd.DataFrame:
    """Pearson correlation of each factor with *target*, two-tailed p, significance flag (METHODS §3).

    ``t = r·sqrt((n−2)/(1−r²))`` with ``n − 2`` degrees of freedom; flag ``**`` for p < 0.01 and
    ``*`` for p < 0.05. Rows with a missing factor or target value are dropped pairwise.
    """
    recs = []
    for col in factors.columns:
        both = pd.concat([factors[col], target], axis=1, join="inner").dropna()
        n = len(both)
        if n < 3:
            recs.append((col, np.nan, np.nan, n, ""))
            continue
        a, b = both.iloc[:, 0].to_numpy(float), both.iloc[:, 1].to_numpy(float)
        r = float(np.corrcoef(a, b)[0, 1])
        if abs(r) >= 1:
            p = 0.0
        else:
            t = r * np.sqrt((n - 2) / (1 - r * r))
            from scipy import stats  # imported here: scipy.stats takes about a second to load

            p = float(2 * stats.t.sf(abs(t), n - 2))
        flag = "**" if p < 0.01 else "*" if p < 0.05 else ""
        recs.append((col, r, p, n, flag))
    return pd.DataFrame(recs, columns=["factor", "r", "p", "n", "flag"]).set_index("factor")
