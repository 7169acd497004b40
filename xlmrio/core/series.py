"""Accounts and embodied flows of one table as tidy rows (the unit of work of a year series).

Measures per region (emission measures in the satellite's unit, ``output`` in the table's money):

* ``pba``, ``cba``: production- and consumption-based emissions (METHODS §2.3–2.4);
* ``nei_total`` (= PBA − CBA) and ``nei_domestic`` (flows between real regions only);
* ``embodied_exports``: ``Σ_{c≠r} T_rc`` over every consumer column (incl. EXP/OTH);
* ``embodied_imports``: ``Σ_{p≠r} T_pr``; so ``nei_total = embodied_exports − embodied_imports``;
* ``output`` ``X_r`` and ``intensity`` ``ι_r = PBA_r / X_r``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .accounts import accounts
from .table import MRIOTable

MEASURES = ("pba", "cba", "nei_total", "nei_domestic", "embodied_exports", "embodied_imports", "output",
            "intensity")


def table_measures(table: MRIOTable, satellite: str | None = None) -> pd.DataFrame:
    """Tidy rows ``region, measure, value, unit`` of one table (see the module docstring)."""
    a = accounts(table, satellite)
    m = table.m
    T = a.driver.to_numpy()
    diag = np.diag(T[:, :m])
    exports = T.sum(axis=1) - diag
    imports = T[:, :m].sum(axis=0) - diag
    X = table.x.reshape(m, table.n).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        iota = np.where(X > 0, a.pba.to_numpy() / X, np.nan)
    money = table.monetary_unit
    cols = {
        "pba": (a.pba.to_numpy(), a.unit), "cba": (a.cba.to_numpy()[:m], a.unit),
        "nei_total": (a.nei_total.to_numpy(), a.unit), "nei_domestic": (a.nei_domestic.to_numpy(), a.unit),
        "embodied_exports": (exports, a.unit), "embodied_imports": (imports, a.unit),
        "output": (X, money), "intensity": (iota, f"{a.unit} per {money}".strip()),
    }
    frames = [pd.DataFrame({"region": list(table.regions), "measure": k, "value": v, "unit": u})
              for k, (v, u) in cols.items()]
    return pd.concat(frames, ignore_index=True)
