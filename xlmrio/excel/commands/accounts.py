"""Accounts: production- and consumption-based emissions by region and sector, driver matrix, NEI."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ...core.accounts import accounts as _accounts
from ...core.leontief import LeontiefSolver
from ..registry import register
from ..report import Chart, ResultSheet, Table
from .context import (Context, display, display_note, finish, header, negatives_note, open_context, satellite_of,
                      sector_groups)


def build_accounts(ctx: Context, groups: dict | None = None, solver: LeontiefSolver | None = None) -> list[ResultSheet]:
    t = ctx.table
    sat = satellite_of(ctx)
    basis = ctx.settings.get("basis", "total")
    ctx.step("solving the Leontief system for the accounts")
    a = _accounts(t, sat, basis=basis, solver=solver)
    ds = display(ctx, a.unit, "emissions")
    unit = ds.unit
    pseudo = [c for c in a.cba.index if c in ("EXP", "OTH")]
    same_nei = not pseudo and np.allclose(a.nei_total, a.nei_domestic, rtol=1e-9,
                                          atol=1e-9 * max(float(a.pba.abs().max()), 1.0))
    nei_cols = {"NEI = PBA − CBA (both bases)": a.nei_total} if same_nei else \
        {"NEI (total basis)": a.nei_total, "NEI (domestic basis)": a.nei_domestic}
    summ = pd.DataFrame({"PBA": a.pba, "CBA": a.cba.reindex(a.pba.index), **nei_cols})
    summ["PBA / CBA"] = a.pba / a.cba.reindex(a.pba.index)
    orient = f"orientation ({basis} basis)"
    summ[orient] = a.summary()["orientation"]
    tot = {"PBA": a.pba.sum(), "CBA": a.cba[list(t.regions)].sum(),
           **{k: v.sum() for k, v in nei_cols.items()}, "PBA / CBA": np.nan, orient: ""}
    summ_all = pd.concat([summ, pd.DataFrame([tot], index=["Total (real regions)"])])
    for p in pseudo:
        summ_all.loc[f"{p} (pseudo-region)"] = [np.nan, a.cba[p]] + [np.nan] * len(nei_cols) + [np.nan, ""]
    summ_all.index.name = "region"
    for c in ["PBA", "CBA", *nei_cols]:      # shown in the display unit; totals summed before scaling
        summ_all[c] = ds(summ_all[c].astype(float))
    T = a.driver.copy()
    T["Total (PBA excl. direct FD)"] = T.sum(axis=1)
    T.loc["Total (CBA excl. direct FD)"] = T.sum(axis=0)
    T = ds(T)
    pba_sec = ds(a.pba_sector.unstack("sector").reindex(index=list(t.regions), columns=list(t.sectors)))
    fp = ds(a.cba_final_producer.unstack("sector").reindex(index=list(t.regions), columns=list(t.sectors)))
    prod = a.cba_product.copy()
    prod.loc["Total"] = prod.sum()
    prod = ds(prod)
    nei_reading = ("NEI > 0: the region emits more for other regions' final demand than other regions emit for "
                   "its own (production-oriented); NEI < 0: consumer-oriented." +
                   (" The total and domestic bases coincide because the table has no exports or 'other' column."
                    if same_nei else " Total basis counts exports as inflow; domestic basis only real regions."))
    t1_title = f"Table 1. Production- and consumption-based {sat} emissions by region ({unit})"
    t3_title = f"Table 3. Consumption-based emissions by product consumed (attribution a; {unit})"
    t5_title = f"Table 5. Emissions by final producer (attribution c, μ·y; {unit})"
    tables = [
        Table(t1_title, summ_all, formats={"*": "emissions", "PBA / CBA": "ratio", orient: "text"},
              reading=nei_reading),
        Table(f"Table 2. Driver matrix T: emissions in the row region driven by final demand of the column region "
              f"({unit})", T, formats={"*": "emissions"},
              reading="Read across a row for where a region's emissions go, down a column for where a region's "
                      "consumption causes emissions; the diagonal is emitted for the region's own final demand."),
        Table(t3_title, prod, formats={"*": "emissions"}, total_row=True,
              reading="Emissions anywhere in the world caused by each region's final demand for each product; a "
                      "column sums to the region's CBA without its direct final-demand emissions."),
        Table(f"Table 4. Production-based emissions by region and sector ({unit})", pba_sec.T,
              formats={"*": "emissions"}),
        Table(t5_title, fp.T, formats={"*": "emissions"},
              reading="Supply-chain emissions of each region-sector's final products (multiplier × final demand "
                      "for them), wherever the final buyer is; the table sums to the industries' direct emissions Σ g."),
    ]
    charts = [Chart(f"Production- vs consumption-based {sat} by region ({unit})", 0, ["PBA", "CBA"],
                    rows=list(t.regions), x_title="region", y_title=f"{sat} emissions ({unit})")]
    neg_frames = {"Table 3": prod.drop(index="Total"), "Table 5": fp.T}
    clipped = False
    if groups:
        cg = a.cba_product[list(t.regions)].copy()
        cg.index = [groups[s] for s in cg.index]
        cg = ds(cg.groupby(level=0, sort=False).sum().T)
        cg.index.name = "consumer"
        cg.columns.name = "sector group"
        t6 = len(tables) + 1
        tables.append(Table(f"Table {t6}. Consumption-based emissions by consumer and sector group (Fig. 4 layout; "
                            f"{unit})", cg, formats={"*": "emissions"}))
        neg_frames[f"Table {t6}"] = cg
        # bars = sector groups, stacked by the consumer regions: series are the chart data's columns and no
        # more numerous than its rows, so Excel's automatic orientation agrees with the spec
        chart_cg = cg.T.clip(lower=0.0)
        chart_cg.index.name = "sector group"
        clipped = bool((cg < 0).to_numpy().any())
        charts.append(Chart(f"Consumption-based {sat} by sector group, stacked by consumer region ({unit})",
                            len(tables) - 1, list(chart_cg.columns), kind="bar_stacked", data=chart_cg,
                            height=360.0, x_title="sector group (product consumed)",
                            y_title=f"{sat} emissions ({unit})"))
    h = header(ctx, "Accounts", "accounts", satellite=sat, basis=basis, basis_label=f"NEI {basis}")
    notes = h["notes"] + [f"Closure: Σ PBA = {ds(a.closure['sum_pba']):,.3f} and Σ CBA incl. pseudo-regions = "
                          f"{ds(a.closure['sum_cba']):,.3f} {unit}."]
    if a.hh.abs().sum() > 0:
        notes.append(f"Direct final-demand emissions (e.g. household fuel use, {ds(a.hh.sum()):,.1f} {unit} in all) "
                     "are included in PBA and CBA of their region but not in the driver matrix T.")
    neg = negatives_note(neg_frames, unit, "They come from negative final demand (inventory drawdowns: goods "
                                           "made, and emitted for, in earlier years are used up; sheet Methods, "
                                           "§2.10). They are kept in the tables" +
                         ("; the stacked chart shows them as 0." if clipped else "."))
    if neg:
        notes.append(neg)
    notes += display_note(ds, a.unit)
    nei = a.nei_total
    key = [("Σ PBA = Σ CBA incl. pseudo-regions", float(ds(a.closure["sum_pba"])), unit),
           (f"largest net exporter of embodied emissions: {nei.idxmax()} (NEI)", float(ds(nei.max())), unit),
           (f"largest net importer of embodied emissions: {nei.idxmin()} (NEI)", float(ds(nei.min())), unit)]
    return [ResultSheet("Accounts", "accounts", h["title"], h["subtitle"], tables, notes, charts, meta=h["meta"],
                        kind="result", source=ctx.source.description, key_figures=key)]


@register("accounts")
def accounts(book, **options) -> list[str]:
    ctx = open_context(book, options, "accounts")
    with ctx.step:
        return finish(book, ctx, build_accounts(ctx, sector_groups(book, ctx)))
