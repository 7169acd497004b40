"""Accounts: production- and consumption-based emissions by region and sector, driver matrix, NEI."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ...core.accounts import accounts as _accounts
from ...core.leontief import LeontiefSolver
from ..registry import register
from ..report import Chart, ResultSheet, Table
from .context import Context, finish, header, open_context, satellite_of, sector_groups


def build_accounts(ctx: Context, groups: dict | None = None, solver: LeontiefSolver | None = None) -> list[ResultSheet]:
    t = ctx.table
    sat = satellite_of(ctx)
    basis = ctx.settings.get("basis", "total")
    ctx.step("solving the Leontief system for the accounts")
    a = _accounts(t, sat, basis=basis, solver=solver)
    unit = a.unit
    summ = pd.DataFrame({"PBA": a.pba, "CBA": a.cba.reindex(a.pba.index), "NEI (total basis)": a.nei_total,
                         "NEI (domestic basis)": a.nei_domestic})
    summ["PBA / CBA"] = summ["PBA"] / summ["CBA"]
    summ[f"orientation ({basis} basis)"] = a.summary()["orientation"]
    pseudo = [c for c in a.cba.index if c in ("EXP", "OTH")]
    tot = pd.DataFrame({"PBA": [a.pba.sum()], "CBA": [a.cba[list(t.regions)].sum()],
                        "NEI (total basis)": [a.nei_total.sum()], "NEI (domestic basis)": [a.nei_domestic.sum()],
                        "PBA / CBA": [np.nan], f"orientation ({basis} basis)": [""]}, index=["Total (real regions)"])
    for p in pseudo:
        tot.loc[f"{p} (pseudo-region)"] = [np.nan, a.cba[p], np.nan, np.nan, np.nan, ""]
    summ_all = pd.concat([summ, tot])
    summ_all.index.name = "region"
    T = a.driver.copy()
    T["Total (PBA excl. direct FD)"] = T.sum(axis=1)
    T.loc["Total (CBA excl. direct FD)"] = T.sum(axis=0)
    pba_sec = a.pba_sector.unstack("sector").reindex(index=list(t.regions), columns=list(t.sectors))
    fp = a.cba_final_producer.unstack("sector").reindex(index=list(t.regions), columns=list(t.sectors))
    prod = a.cba_product.copy()
    prod.loc["Total"] = prod.sum()
    tables = [
        Table(f"Table 1. Production- and consumption-based {sat} emissions by region ({unit})", summ_all,
              formats={"*": "emissions", "PBA / CBA": "ratio", f"orientation ({basis} basis)": "text"}),
        Table(f"Table 2. Driver matrix T: emissions in the row region driven by final demand of the column region "
              f"({unit})", T, formats={"*": "emissions"}),
        Table(f"Table 3. Consumption-based emissions by product consumed (attribution a; {unit})", prod,
              formats={"*": "emissions"}, total_row=True),
        Table(f"Table 4. Production-based emissions by region and sector ({unit})", pba_sec.T,
              formats={"*": "emissions"}),
        Table(f"Table 5. Emissions by final producer (attribution c, μ·y; {unit})", fp.T, formats={"*": "emissions"}),
    ]
    charts = [Chart(f"Production- vs consumption-based {sat} by region ({unit})", 0, ["PBA", "CBA"],
                    rows=list(t.regions))]
    if groups:
        cg = a.cba_product[list(t.regions)].copy()
        cg.index = [groups[s] for s in cg.index]
        cg = cg.groupby(level=0, sort=False).sum().T
        cg.index.name = "consumer"
        cg.columns.name = "sector group"
        tables.append(Table(f"Table 6. Consumption-based emissions by consumer and sector group (Fig. 4 layout; "
                            f"{unit})", cg, formats={"*": "emissions"}))
        charts.append(Chart(f"Consumption-based {sat} by sector group ({unit})", len(tables) - 1, list(cg.columns),
                            kind="bar_clustered"))
    h = header(ctx, "Accounts", "accounts", satellite=sat, basis=basis, basis_label=f"NEI {basis}")
    notes = h["notes"] + [f"Closure: Σ PBA = {a.closure['sum_pba']:,.3f} and Σ CBA incl. pseudo-regions = "
                          f"{a.closure['sum_cba']:,.3f} {unit}."]
    if a.hh.abs().sum() > 0:
        notes.append(f"Direct final-demand emissions (e.g. household fuel use, {a.hh.sum():,.1f} {unit} in all) are "
                     "included in PBA and CBA of their region but not in the driver matrix T.")
    return [ResultSheet("Accounts", "accounts", h["title"], h["subtitle"], tables, notes, charts, meta=h["meta"])]


@register("accounts", label="Accounts", group="Accounts", image="ChartTypeBarInsertGallery",
          help="Production- vs consumption-based emissions by region and sector, driver matrix, net embodied inflow")
def accounts(book, **options) -> list[str]:
    ctx = open_context(book, options, "accounts")
    with ctx.step:
        return finish(book, ctx, build_accounts(ctx, sector_groups(book, ctx)))
