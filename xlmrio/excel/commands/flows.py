"""Embodied flows: F between regions and region-sectors, net inflow and the top flows."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ...core.flows import aggregate_flows, embodied_flows, net_inflow_from_flows, top_flows
from ...core.leontief import LeontiefSolver
from ..registry import register
from ..report import Chart, ResultSheet, Table
from .context import Context, display, display_note, finish, header, open_context, satellite_of


def build_flows(ctx: Context, solver: LeontiefSolver | None = None) -> list[ResultSheet]:
    t = ctx.table
    sat = satellite_of(ctx)
    ds = display(ctx, t.satellites[sat].unit, "emissions")
    unit = ds.unit
    s = ctx.settings
    ctx.step("forming L and the embodied-flow matrix F")
    F = embodied_flows(t, sat, solver=solver)  # in the satellite's unit; scaled for display below
    Freg = aggregate_flows(F, "region")
    Fsec = aggregate_flows(F, "sector")
    net = net_inflow_from_flows(Freg)
    focus = s.get("focus_regions") or None    # labels checked by _check_options
    matrix = F if s.get("flow_level", "region-sector") == "region-sector" else Freg
    sel = dict(top_k=s.get("top_k", 20))
    if s.get("cum_share") not in ("", None):
        sel = dict(cum_share=float(s["cum_share"]))
    edges = top_flows(matrix, sources=focus, targets=focus, **sel)
    edges.index = pd.RangeIndex(1, len(edges) + 1, name="rank")
    edges["value"] = ds(edges["value"])
    edges.attrs["total"] = ds(edges.attrs["total"])
    edges_out = edges.rename(columns={"source_region": "from region", "source_sector": "from sector",
                                      "target_region": "to region", "target_sector": "to sector",
                                      "value": f"flow ({unit})", "share": "share", "cum_share": "cumulative share"})
    if s.get("flow_level") == "region":
        edges_out = edges_out.drop(columns=["from sector", "to sector"])
    Freg_out = Freg.copy()
    Freg_out["Total"] = Freg_out.sum(axis=1)
    Freg_out.loc["Total"] = Freg_out.sum(axis=0)
    Freg_out, Fsec = ds(Freg_out), ds(Fsec)
    net_col = "net = outflow − inflow"
    net_df = pd.DataFrame({"outflow to other regions": Freg.sum(axis=1) - np.diag(Freg),
                           "inflow from other regions": Freg.sum(axis=0) - np.diag(Freg), net_col: net})
    net_df = ds(net_df)
    net_df.index.name = "region"
    chart_df = edges_out.copy()
    chart_df.index = [f"{a}→{b}" if s.get("flow_level") == "region" else f"{a}|{c}→{b}|{d}"
                      for a, b, c, d in zip(edges["source_region"], edges["target_region"], edges["source_sector"],
                                            edges["target_sector"])]
    chart_df.index.name = "flow"
    h = header(ctx, "Flows", "flows", satellite=sat)
    sel_txt = f"cumulative share {sel['cum_share']:.0%}" if "cum_share" in sel else f"top {sel['top_k']}"
    tables = [
        Table(f"Table 1. Embodied flows between regions, F_reg ({unit})", Freg_out, formats={"*": "emissions"},
              reading="Row = region where the emissions occur, column = region whose purchases of intermediate "
                      "inputs they are attributed to; the diagonal stays within the region."),
        Table(f"Table 2. Embodied flows out of and into each region, from F ({unit}); net = outflow − inflow",
              net_df, formats={"*": "emissions"},
              reading="Net > 0: the region's emissions embodied in other regions' purchases exceed the reverse "
                      "(the sign convention of NEI, but on the F basis, which counts every production stage: "
                      "sheet Methods, §3.4)."),
        Table(f"Table 3. Top inter-region flows ({sel_txt}; excl. flows within a region; {unit})", edges_out,
              formats={f"flow ({unit})": "emissions", "share": "share", "cumulative share": "share"},
              note=f"Shares are of the {edges.attrs['total']:,.1f} {unit} of all inter-region flows at this level."),
        Table(f"Table 4. Embodied flows between sectors, F_sec ({unit})", Fsec, formats={"*": "emissions"}),
    ]
    charts = [Chart(f"Top embodied {sat} flows ({unit})", 0, [f"flow ({unit})"], kind="bar_clustered", max_rows=20,
                    data=chart_df.head(20).iloc[::-1],  # Excel draws bar charts bottom-up: largest on top
                    height=420.0, x_title="flow (from region | sector → to region | sector)",
                    y_title=f"embodied {sat} ({unit})"),
              Chart(f"Net embodied {sat} outflow by region, F basis ({unit}; > 0: more out than in)", 1, [net_col],
                    kind="column_clustered", x_title="region", y_title=f"outflow − inflow ({unit})")]
    linkage = float(ds(F.to_numpy().sum()))
    notes = h["notes"] + [f"Linkage strength 1'F1 = {linkage:,.1f} {unit} (not total emissions)."]
    notes += display_note(ds, t.satellites[sat].unit)
    key = [("linkage strength 1'F1 (not total emissions)", linkage, unit),
           (f"largest net outflow, F basis: {net.idxmax()}", float(ds(net.max())), unit)]
    if len(edges):
        key.append((f"largest inter-region flow: {chart_df.index[0]}", float(edges["value"].iloc[0]), unit))
    return [ResultSheet("Flows", "flows", h["title"], h["subtitle"], tables, notes, charts, meta=h["meta"],
                        kind="result", source=ctx.source.description, key_figures=key)]


@register("flows")
def flows(book, **options) -> list[str]:
    ctx = open_context(book, options, "flows")
    with ctx.step:
        return finish(book, ctx, build_flows(ctx))
