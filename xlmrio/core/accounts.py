"""Production- and consumption-based emission accounts (METHODS.md §2.3–2.4).

``Mx = ê L Y*`` is computed by one LU solve with the ``m + 2`` driver columns as right-hand sides
and ``μ' = e'L`` by one transposed solve; the full inverse is never formed.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import OptionError
from .leontief import LeontiefSolver, intensities
from .table import MRIOTable

BASES = ("total", "domestic")


@dataclass(frozen=True)
class AccountsResult:
    """Emission accounts of one satellite.

    Attributes
    ----------
    satellite, unit : str
        Satellite name and its unit (every emission figure below is in ``unit``).
    basis : str
        Basis of :attr:`nei`: ``"total"`` (``PBA − CBA``, exports count as inflow) or ``"domestic"``
        (``Σ_{s≠r} T_rs − T_sr`` over real regions).
    pba : Series (m,)
        Production-based emissions by region, incl. direct final-demand emissions of the region.
    cba : Series (m [+ EXP, OTH])
        Consumption-based emissions by consuming region (+ pseudo-regions ``EXP``/``OTH``).
    driver : DataFrame (m, m [+2])
        ``T``: emissions in the row region driven by final demand of the column region (excl.
        direct final-demand emissions).
    nei : Series (m,)
        Net embodied inflow on :attr:`basis`.
    nei_total, nei_domestic : Series (m,)
        Both bases, always computed.
    Mx : DataFrame (N, m [+2])
        Emitting region-sector × consuming region, ``ê L Y*``.
    pba_sector : Series (N,)
        Production-based emissions by region-sector (``g``).
    cba_product : DataFrame (n, m [+2])
        Attribution (a): emissions embodied in the consumption of each product (sector), summed over
        the producing regions, by consumer.
    cba_final_producer : Series (N,)
        Attribution (c): ``FP = μ ∘ y`` (final producer).
    hh : Series (m,)
        Direct final-demand emissions by region (0 when the satellite has none).
    e, mu : Series (N,)
        Direct intensities and total multipliers (``unit`` per monetary unit).
    closure : dict
        ``sum_pba``, ``sum_cba`` (incl. pseudo-regions) and their difference.
    """

    satellite: str
    unit: str
    monetary_unit: str
    basis: str
    pba: pd.Series
    cba: pd.Series
    driver: pd.DataFrame
    nei: pd.Series
    nei_total: pd.Series
    nei_domestic: pd.Series
    Mx: pd.DataFrame
    pba_sector: pd.Series
    cba_product: pd.DataFrame
    cba_final_producer: pd.Series
    hh: pd.Series
    e: pd.Series
    mu: pd.Series
    closure: dict = field(default_factory=dict)

    @property
    def cba_by_emitter(self) -> pd.DataFrame:
        """Attribution (b): emissions by emitting region-sector for each consumer (= :attr:`Mx`)."""
        return self.Mx

    def summary(self) -> pd.DataFrame:
        """One row per region: PBA, CBA, NEI (this result's basis), orientation."""
        from .efficiency import orientation

        df = pd.DataFrame({"PBA": self.pba, "CBA": self.cba.reindex(self.pba.index), "NEI": self.nei})
        df["orientation"] = orientation(self.nei, self.pba)
        return df


def accounts(table: MRIOTable, satellite: str | None = None, *, basis: str = "total",
             solver: LeontiefSolver | None = None) -> AccountsResult:
    """Production- and consumption-based accounts of one satellite (METHODS §2.3–2.4).

    Parameters
    ----------
    table : MRIOTable
    satellite : str, optional
        Satellite name (may be omitted when the table has exactly one).
    basis : {"total", "domestic"}
        Basis of ``nei``: ``"total"`` = ``PBA − CBA`` (exports count as inflow, the default) or
        ``"domestic"`` = ``Σ_{s≠r} (T_rs − T_sr)`` (exports excluded; sums to 0). Both are computed.
    solver : LeontiefSolver, optional
        A factorisation of this table's ``I − A`` to reuse.

    Returns
    -------
    AccountsResult
    """
    if basis not in BASES:
        raise OptionError(f"basis must be one of {BASES}, not {basis!r}")
    name = table.satellite_name(satellite)
    sat = table.satellites[name]
    solver = solver or LeontiefSolver.for_table(table)
    m, n, N = table.m, table.n, table.N
    e = intensities(sat.values, table.x)
    Ystar = table.Y_star
    Mx = e[:, None] * solver.solve(Ystar)  # (N, m+q)
    mu = solver.solve_left(e)
    T = Mx.reshape(m, n, -1).sum(axis=1)  # (m, m+q)
    hh = np.zeros(m) if sat.hh is None else sat.hh.reshape(m, table.K).sum(axis=1)
    cols = table.driver_columns
    pba = T.sum(axis=1) + hh
    cba = T.sum(axis=0)
    cba[:m] += hh
    Tr = T[:, :m]
    nei_dom = Tr.sum(axis=1) - np.diag(Tr) - (Tr.sum(axis=0) - np.diag(Tr))
    nei_tot = pba - cba[:m]
    # (a) by product consumed: Σ_r μ_(r,j) Y*_{(r,j),s}
    cba_prod = (mu[:, None] * Ystar).reshape(m, n, -1).sum(axis=0)
    fp = mu * table.y
    idx = table.index
    regions = pd.Index(table.regions, name="region")
    dcols = pd.Index(cols, name="consumer")
    nei = nei_tot if basis == "total" else nei_dom
    return AccountsResult(
        satellite=name,
        unit=sat.unit,
        monetary_unit=table.monetary_unit,
        basis=basis,
        pba=pd.Series(pba, index=regions, name="PBA"),
        cba=pd.Series(cba, index=dcols, name="CBA"),
        driver=pd.DataFrame(T, index=pd.Index(table.regions, name="emitter"), columns=dcols),
        nei=pd.Series(nei, index=regions, name=f"NEI ({basis})"),
        nei_total=pd.Series(nei_tot, index=regions, name="NEI (total)"),
        nei_domestic=pd.Series(nei_dom, index=regions, name="NEI (domestic)"),
        Mx=pd.DataFrame(Mx, index=idx, columns=dcols),
        pba_sector=pd.Series(sat.values.copy(), index=idx, name="PBA"),
        cba_product=pd.DataFrame(cba_prod, index=pd.Index(table.sectors, name="product"), columns=dcols),
        cba_final_producer=pd.Series(fp, index=idx, name="FP"),
        hh=pd.Series(hh, index=regions, name="direct final-demand emissions"),
        e=pd.Series(e, index=idx, name="e"),
        mu=pd.Series(mu, index=idx, name="mu"),
        closure={"sum_pba": float(pba.sum()), "sum_cba": float(cba.sum()),
                 "difference": float(pba.sum() - cba.sum())},
    )
