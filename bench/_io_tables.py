"""Readers for the real tables used by ``bench_update_accuracy.py`` (not part of the package).

All readers return an :class:`xlmrio.MRIOTable` whose rows balance exactly (``x = Z 1 + y``) and
whose columns balance exactly (``x' = 1'Z + 1'V``); the published rounding residuals (at most a
few units) are absorbed into the last primary-input row.

* :func:`oecd_table` — OECD 2021-edition national IOT (CHN or JPN), "total" flows (domestic and
  imported together), one region, 44 industries (industry 45, households as employers, has zero
  output and is dropped). Final demand = 7 domestic-use categories, ``exports`` = EXPO,
  ``other`` = IMPO (imports as a negative final-demand column, as published). Primary inputs:
  "Net taxes on products" (TXS_IMP_FNL + TXS_INT_FNL of the industry columns) and "Value added"
  (VALU). Unit: million USD, current prices.
* :func:`nbs42_table` — NBS China 42-sector non-competitive-import table (2017, 2018, 2020, one
  sector list): the **domestic** table. ``Z`` = domestic intermediate flows, final demand = TC,
  FU201 (GFCF), FU202 (inventories) of domestic products, ``exports`` = EX; primary inputs =
  "Imported intermediate inputs" (column sums of the import block) and VA001..VA004. Unit:
  10 thousand CNY, current producers' prices.
* :func:`wiod_agg_table` — WIOD 2013 world table aggregated to 41 regions x 5 sectors with the
  five final-demand categories merged into one column per destination region.

Data folder: ``xlmrio.datasets.shared_data_dir()`` (``$XLMRIO_SHARED_DATA`` or ``../shared/data``).
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from xlmrio.core.table import MRIOTable
from xlmrio.datasets import shared_data_dir

OECD_FD = ("HFCE", "NPISH", "GGFC", "GFCF", "INVNT", "CONS_ABR", "CONS_NONRES")
NBS_FD = ("TC", "FU201", "FU202")
NBS_VA = ("VA001", "VA002", "VA003", "VA004")
NBS42_YEARS = (2017, 2018, 2020)

#: WIOD 2013 industries c1..c35 -> 5 broad sectors.
WIOD5 = {
    **{f"c{i}": "Primary" for i in (1, 2)},
    **{f"c{i}": "Manufacturing" for i in range(3, 17)},
    **{f"c{i}": "Utilities+construction" for i in (17, 18)},
    **{f"c{i}": "Trade+transport" for i in range(19, 28)},
    **{f"c{i}": "Other services" for i in range(28, 36)},
}


def _root(data_dir: str | os.PathLike | None) -> Path:
    return Path(shared_data_dir(data_dir)) / "ionet_china_oecd_io" / "csv"


def oecd_table(country: str, year: int, data_dir: str | os.PathLike | None = None) -> MRIOTable:
    """OECD 2021-ed. national IOT of ``country`` ("CHN" or "JPN") for ``year`` (1995-2018), million USD."""
    path = _root(data_dir) / "oecd2021" / f"OECD21ed_{country}_{int(year)}.csv"
    d = pd.read_csv(path, dtype={"Code": str}).set_index("Code")
    ind = [f"{i:02d}" for i in range(1, 45)]  # 45 (households as employers) has zero output: dropped
    Z = d.loc[ind, ind].to_numpy(np.float64)
    Y = d.loc[ind, list(OECD_FD)].to_numpy(np.float64)
    exports = d.loc[ind, "EXPO"].to_numpy(np.float64)
    imports = d.loc[ind, "IMPO"].to_numpy(np.float64)  # negative
    x = Z.sum(axis=1) + Y.sum(axis=1) + exports + imports
    taxes = d.loc[["TXS_IMP_FNL", "TXS_INT_FNL"], ind].to_numpy(np.float64).sum(axis=0)
    va = x - Z.sum(axis=0) - taxes  # = VALU up to the published rounding (<= 3.2)
    return MRIOTable.from_arrays(
        Z, Y, regions=[country], sectors=ind, fd_categories=list(OECD_FD),
        V=np.vstack([taxes, va]), va_rows=["Net taxes on products", "Value added"], x=x,
        exports=exports, other=imports, monetary_unit="million USD",
        name=f"OECD IOT {country} {year}",
    )


def nbs42_table(year: int, data_dir: str | os.PathLike | None = None) -> MRIOTable:
    """NBS China 42-sector domestic table for ``year`` (2017, 2018 or 2020), 10 thousand CNY."""
    if int(year) not in NBS42_YEARS:
        raise ValueError(f"no 42-sector non-competitive NBS table for {year}")
    d = pd.read_csv(_root(data_dir) / "china_nbs" / f"china_{int(year)}_42.csv", dtype={"Code": str})
    sec = [f"{i:02d}" for i in range(1, 43)]
    dom = d[d["Origin"] == "Domestic"].set_index("Code")
    imp = d[d["Origin"] == "Imports"].set_index("Code")
    tot = d[d["Origin"] == "TOT"].set_index("Code")
    Z = dom.loc[sec, sec].to_numpy(np.float64)
    Y = dom.loc[sec, list(NBS_FD)].to_numpy(np.float64)
    exports = dom.loc[sec, "EX"].to_numpy(np.float64)
    x = Z.sum(axis=1) + Y.sum(axis=1) + exports
    m_int = imp.loc[sec, sec].to_numpy(np.float64).sum(axis=0)
    V = np.vstack([m_int, tot.loc[list(NBS_VA), sec].to_numpy(np.float64)])
    V[-1] += x - Z.sum(axis=0) - V.sum(axis=0)  # float-level residual into operating surplus
    return MRIOTable.from_arrays(
        Z, Y, regions=["CHN"], sectors=sec, fd_categories=["Consumption", "GFCF", "Inventories"],
        V=V, va_rows=["Imported intermediate inputs", *NBS_VA], x=x, exports=exports,
        monetary_unit="10 thousand CNY", name=f"NBS China 42-sector domestic IOT {year}",
    )


def wiod_agg_table(year: int, data_dir: str | os.PathLike | None = None) -> MRIOTable:
    """WIOD 2013 world table for ``year`` aggregated to 41 regions x 5 sectors, one FD column per region."""
    from xlmrio import aggregate
    from xlmrio.datasets import wiod

    t = aggregate(wiod(year, data_dir), sector_map=WIOD5, name=f"WIOD {year} 41x5")
    return MRIOTable.from_arrays(
        t.Z, t.Y_reg, regions=t.regions, sectors=t.sectors, fd_categories=["Final demand"],
        monetary_unit=t.monetary_unit, name=t.name,
    )
