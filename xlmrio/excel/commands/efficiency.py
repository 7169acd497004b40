"""Efficiency: emission intensity, production/consumer orientation and (in)efficient supply chains."""
from __future__ import annotations

import pandas as pd

from ...core.efficiency import eco_compensation, efficiency as _efficiency
from ...core.leontief import LeontiefSolver
from ..registry import register
from ..report import Chart, ResultSheet, Table
from .context import Context, display, finish, header, open_context, satellite_of


def build_efficiency(ctx: Context, solver: LeontiefSolver | None = None) -> list[ResultSheet]:
    t = ctx.table
    sat = satellite_of(ctx)
    s = ctx.settings
    ctx.step("classifying supply chains")
    sector = s.get("efficiency_sector") or None
    r = _efficiency(t, sat, focus=s.get("focus_regions") or None, flow_basis=s.get("flow_basis", "T"),
                    basis=s.get("basis", "total"), sector=sector, solver=solver)
    iu = r.intensity_unit
    ds = display(ctx, r.unit, "emissions")
    dm = display(ctx, t.monetary_unit or "money", "money")
    eu, mu = ds.unit, dm.unit
    reg = r.regions[["orientation", "PBA", "X", "intensity", "gap", "NEI"]].copy()
    reg["PBA"], reg["NEI"], reg["X"] = ds(reg["PBA"]), ds(reg["NEI"]), dm(reg["X"])
    reg = reg.rename(columns={"PBA": f"PBA ({eu})", "X": f"output ({mu})", "intensity": f"intensity ({iu})",
                              "gap": "gap to focus average", "NEI": f"NEI ({r.basis} basis; {eu})"})
    flows = r.flows.assign(value=ds(r.flows["value"]))
    fl = flows.rename(columns={"value": f"flow ({eu})", "producer_intensity": "producer intensity",
                               "consumer_intensity": "consumer intensity"}).set_index(["producer", "consumer"])
    fl = fl.sort_values(f"flow ({eu})", ascending=False)
    fl = fl[["class"] + [c for c in fl.columns if c != "class"]]
    shares = pd.DataFrame({"share": r.shares, f"flow ({eu})": [
        flows.loc[flows["class"] == c, "value"].sum() for c in r.shares.index]})
    shares.index.name = "class"
    contrib = r.producer_contribution.to_frame()
    contrib.index.name = "producer"
    groups = r.groups[["members", "regions", "pooled_intensity", "min_intensity", "max_intensity"]].rename(columns={"pooled_intensity": f"pooled intensity ({iu})",
                                      "min_intensity": "min intensity", "max_intensity": "max intensity"})
    mode = f"sector mode: {sector}" if sector else "average mode"
    tables = [
        Table(f"Table 1. Intensity and orientation by region (focus average {r.focus_intensity:.4f} {iu})", reg,
              formats={f"PBA ({eu})": "emissions", f"output ({mu})": "money",
                       f"intensity ({iu})": "intensity", "gap to focus average": "share",
                       f"NEI ({r.basis} basis; {eu})": "emissions", "orientation": "text"},
              reading="Gap > 0: more emissions per unit of output than the focus-region average; orientation "
                      "follows the sign of NEI (> 0 production-oriented)."),
        Table(f"Table 2. Share of inefficient, efficient and neutral flows ({mode}; flow basis {r.flow_basis})",
              shares, formats={"share": "share", f"flow ({eu})": "emissions"},
              reading="Inefficient = produced in a region with a higher intensity than the consuming region's "
                      "(sheet Methods, §4.3)."),
        Table("Table 3. Producer contributions to inefficient flows", contrib, formats={"*": "share"}),
        Table("Table 4. Production- vs consumer-oriented regions", groups,
              formats={"regions": "count", f"pooled intensity ({iu})": "intensity", "min intensity": "intensity",
                       "max intensity": "intensity", "members": "text"}),
        Table(f"Table 5. Flows between focus regions and their class ({eu}; intensities in {iu})", fl,
              formats={f"flow ({eu})": "emissions", "producer intensity": "intensity",
                       "consumer intensity": "intensity", "class": "text"}),
    ]
    price = s.get("eco_price")
    if price not in ("", None):
        comp = eco_compensation(r, float(price))
        tables.append(Table(f"Table 6. Eco-compensation owed by consumers to producers on inefficient flows "
                            f"(price {float(price):g} per {r.unit})", comp, formats={"*": "money"}, total_row=True))
    # one series per region (x = intensity, y = NEI) so every point is named in the legend
    xcol, ycol = f"intensity ({iu})", f"NEI ({r.basis} basis; {eu})"
    pts = reg[[xcol, ycol]].astype(float)
    scatter = pd.DataFrame({xcol: pts[xcol]})
    for region in pts.index:
        scatter[str(region)] = [pts.loc[region, ycol] if k == region else None for k in pts.index]
    charts = [Chart("Net embodied inflow NEI against emission intensity, by region", 0,
                    [str(k) for k in pts.index], kind="xy_scatter", x_column=xcol, data=scatter,
                    x_title=f"{sat} intensity ({iu})", y_title=f"NEI, {r.basis} basis ({eu})")]
    h = header(ctx, "Efficiency", "efficiency", satellite=sat, flow_basis=r.flow_basis,
                basis_label=f"NEI {r.basis}")
    notes = h["notes"] + list(r.notes)
    if not (ds.identity and dm.identity):
        notes.append(f"Shown in {eu} and {mu} (options display_unit_emissions, display_unit_money); intensities "
                     f"stay in {iu}.")
    key = [("focus-average intensity", float(r.focus_intensity), iu)]
    if "inefficient" in r.shares.index:
        key.append(("share of inefficient flows", float(r.shares["inefficient"]), "share of classified flows"))
    return [ResultSheet("Efficiency", "efficiency", h["title"], h["subtitle"], tables, notes, charts, meta=h["meta"],
                        kind="result", source=ctx.source.description, key_figures=key)]


@register("efficiency")
def efficiency(book, **options) -> list[str]:
    ctx = open_context(book, options, "efficiency")
    with ctx.step:
        return finish(book, ctx, build_efficiency(ctx))
