"""Transfer & leakage: industrial transfer, carbon transfer and carbon leakage between two table years."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..reader import Source, read_table
from ..registry import register
from ..report import Chart, ResultSheet, Table
from .context import Context, display, finish, header, open_context, option_sheet, satellite_of, sector_groups


def build_transfer(ctx: Context, t0_source: Source) -> list[ResultSheet]:
    from ...core.transfer import industrial_transfer
    from ..reader import sheet_grid
    from ..transfer_inputs import read_coefficients, read_deflators

    t0, t1 = t0_source.table, ctx.table
    _check_labels(ctx, t0_source)
    sat = satellite_of(ctx)
    s = ctx.settings
    ctx.step(f"demand-attributed output of {t0_source.description} and {ctx.source.description}")
    y0, y1 = t0_source.sheet or "t0", ctx.source.sheet or "t1"
    coef = defl = None
    if s.get("coefficients_sheet"):
        coef = read_coefficients(sheet_grid(option_sheet(ctx, "coefficients_sheet")), t1)
        if s.get("coefficients_unit"):
            coef = (coef, s["coefficients_unit"])
    if s.get("deflator_sheet"):
        defl = read_deflators(sheet_grid(option_sheet(ctx, "deflator_sheet")), t1)
    r = industrial_transfer(t0, t1, sat, coefficients_year=s.get("transfer_coefficients", "t1"),
                            coefficients=coef, deflator=defl, bloc=s.get("bloc") or None, years=(y0, y1))
    dm = display(ctx, r.monetary_unit or "money unit", "money")
    dc = display(ctx, r.carbon_unit, "emissions")
    money, cu = dm.unit, dc.unit
    coef_year = y1 if s.get("transfer_coefficients", "t1") == "t1" else y0
    if coef is not None:
        coef_year = f"sheet '{s['coefficients_sheet']}'"
    has_exports = t0.exports is not None or t1.exports is not None
    variants = ["consumption", "export", "total"] if has_exports else ["consumption"]
    vname = {"consumption": "consumption-driven", "export": "export-driven", "total": "total"}

    top = r.top_sectors(5, "total" if has_exports else "consumption")
    top["rank"] = top["rank"].astype(int)
    top["value"] = dm(top["value"])
    tops = {}
    for d in ("in", "out"):
        part = top[top["direction"] == d].set_index(["region", "rank"])[["sector", "value"]]
        tops[d] = part.rename(columns={"value": f"net transfer ({money})" if d == "in" else
                                       f"net transfer out ({money})"})
    S = r.coefficients_by_sector()
    hl = r.top_coefficients(3)
    t3 = r.table3()
    t3 = t3.loc[:, [(m, v) for m in ("NX", "NC") for v in variants if (m, v) in t3.columns]].copy()
    for c in t3.columns:
        t3[c] = dm(t3[c]) if c[0] == "NX" else dc(t3[c])
    t3.columns = pd.MultiIndex.from_tuples([(f"net transfer NX ({money})" if m == "NX" else f"net carbon transfer NC ({cu})",
                                             vname[v]) for m, v in t3.columns], names=["measure", "variant"])
    t3.loc["Total"] = t3.sum()
    share = r.transfer_in_share.loc[:, [(k, v) for k in ("industry", "carbon") for v in variants]]
    share.columns = pd.MultiIndex.from_tuples([(f"{k} transfer-in", vname[v]) for k, v in share.columns],
                                              names=["kind", "variant"])
    share.loc["Total"] = share.sum()
    drv = r.emissions_by_driver
    keep = [c for c in drv.columns if has_exports or c[1] != "export"]
    drv = dc(drv[keep].copy())
    # a driver column equal to its year's total (no exports, no 'other') repeats it: show the total only
    same = [c for c in drv.columns if c[1] != "total" and (c[0], "total") in drv.columns
            and np.allclose(drv[c], drv[(c[0], "total")], rtol=1e-12, atol=0)]
    drv = drv.drop(columns=same)
    drv.columns = pd.MultiIndex.from_tuples(
        [(f"{ {'t0': y0, 't1': y1}.get(y, y)} output", "total (all domestic final demand)" if same and d == "total"
          else d) for y, d in drv.columns], names=["year of output", "driver"])
    drv.loc["Total"] = drv.sum()
    drv_reading = (f"Both years use the carbon coefficients of {coef_year}: the {y0 if coef_year == y1 else y1} "
                   f"column is {coef_year} coefficients × that year's output ({r.price_basis}), not the "
                   "emissions reported for that year.")
    if same:
        drv_reading += (" The tables have no exports or 'other' column, so all output serves domestic final demand "
                        "and the driver split equals the total.")
    main_v = "total" if has_exports else "consumption"
    pair = dm(r.pairwise_net[main_v].copy())
    pairc = dc(r.pairwise_net_carbon[main_v].copy())
    lam = dc(r.leakage_by_variant[main_v].copy())
    for df in (pair, pairc, lam):
        df.index.name, df.columns.name = "region J (receiving)", "partner K"
    imp = pd.DataFrame({f"IE: own-coefficient emission impact ({cu})": dc(r.impact_emissions[main_v]),
                        f"IVA: value-added impact ({money})": dm(r.impact_va[main_v]),
                        f"net carbon transfer NC ({cu})": dc(r.net_carbon[main_v])})
    imp.index.name = "region"
    tables = [
        Table(f"Table 1a. Sectors with the largest net transfer in, {vname[main_v]} ({money})", tops["in"],
              formats={"sector": "text", "*": "money"}),
        Table(f"Table 1b. Sectors with the largest net transfer out, {vname[main_v]} ({money}, magnitudes)",
              tops["out"], formats={"sector": "text", "*": "money"}),
        Table(f"Table 2. Carbon coefficients S of {coef_year}, used for both years ({r.coefficients_unit}; top 3 per "
              "region marked)", S,
              formats={"*": "intensity"}, highlight=hl),
        Table("Table 3. Net industrial and carbon transfer by region (positive = inflow)", t3,
              formats={"*": "money"}, total_row=True,
              reading=f"Positive = production (NX) or emissions (NC) moved into the region between {y0} and {y1}; "
                      "each column sums to 0 across regions."),
        Table("Table 4. Shares of gross transfer-in (each column sums to 100 %)", share, formats={"*": "share"},
              total_row=True),
        Table(f"Table 5. Emissions of output by demand driver: each year's output × {coef_year} carbon coefficients "
              f"({cu})", drv, formats={"*": "emissions"}, total_row=True, reading=drv_reading),
        Table(f"Table 6. Pairwise net transfer N(J←K), {vname[main_v]} ({money})", pair, formats={"*": "money"},
              reading="N(J←K) > 0: production for each other grew more in row region J than in column region K "
                      "(production moved from K to J); the table is antisymmetric."),
        Table(f"Table 7. Pairwise net carbon transfer NC(J←K), {vname[main_v]} ({cu})", pairc,
              formats={"*": "emissions"}),
        Table(f"Table 8. Carbon leakage Λ(J,K), {vname[main_v]} ({cu}; symmetric)", lam, formats={"*": "emissions"},
              reading="Λ > 0: the pair's net relocation moved production to the more carbon-intensive region."),
        Table(f"Table 9. Effects of the transfers on each region's own emissions and value added ({vname[main_v]}; "
              f"carbon coefficients of {coef_year}, VA coefficients of {y1})", imp, formats={c: ("money" if "IVA" in c else "emissions") for c in imp.columns}),
    ]
    groups = sector_groups(ctx.step.book, ctx)
    if groups:
        g = r.impacts_by_group(groups, main_v).T           # (measure, sector group) x region
        g = pd.concat([dc(g.loc[["IE"]]), dm(g.loc[["IVA"]])]) if {"IE", "IVA"} <= set(g.index.get_level_values(0)) \
            else g
        g.index = pd.MultiIndex.from_tuples(
            [(f"IE ({cu})" if meas == "IE" else f"IVA ({money})", grp) for meas, grp in g.index],
            names=["measure", "sector group"])
        g["Total"] = g.sum(axis=1)
        tables.append(Table(f"Table 9b. Effects on own emissions (IE) and value added (IVA) by sector group "
                            f"('{s['sector_concordance']}' concordance, {vname[main_v]})", g,
                            formats={"*": "money"}))
    if r.bloc_effects is not None:
        be = r.bloc_effects[variants].copy()
        for idx in be.index:
            be.loc[idx] = (dm if idx[0] in ("net_output", "IVA") else dc)(be.loc[idx])
        tables.append(Table(f"Table 10. Bloc {', '.join(r.bloc)}: internal vs external effects", be,
                            formats={"*": "money"}))
    chart_df = pd.DataFrame({f"net carbon transfer NC ({cu})": dc(r.net_carbon[main_v])})
    chart_df.index.name = "region"
    charts = [Chart(f"Net carbon transfer by region, {y0} → {y1} ({cu})", 0, [f"net carbon transfer NC ({cu})"],
                    data=chart_df, x_title="region", y_title=f"net carbon transfer NC ({cu}; > 0 = inflow)")]
    h = header(ctx, "Transfer & leakage", "transfer", satellite=sat, coef_year=coef_year,
                source=f"{t0_source.description} → {ctx.source.description}")
    price_note = (f"Prices: {r.price_basis} (deflators from sheet '{s['deflator_sheet']}')." if defl is not None else
                  f"Prices: {r.price_basis}. Changes between table years in current prices mix real change and "
                  "inflation; name a deflator sheet in the option deflator_sheet to remove it.")
    notes = h["notes"] + [price_note] + list(r.notes)
    if not (dm.identity and dc.identity):
        notes.append(f"Shown in {money} and {cu} (options display_unit_money, display_unit_emissions); carbon "
                     f"coefficients stay in {r.coefficients_unit}.")
    nc = r.net_carbon[main_v]
    nx = r.net_output[main_v]
    key = [(f"largest net carbon transfer in: {nc.idxmax()} (NC, {y0} → {y1})", float(dc(nc.max())), cu),
           (f"largest net carbon transfer out: {nc.idxmin()} (NC)", float(dc(nc.min())), cu),
           (f"largest net industrial transfer in: {nx.idxmax()} (NX)", float(dm(nx.max())), money)]
    return [ResultSheet("Transfer & leakage", "transfer", h["title"], h["subtitle"], tables, notes, charts,
                        meta=h["meta"], kind="result",
                        source=f"{t0_source.description} → {ctx.source.description}", key_figures=key)]


def _label_cell(book, source: Source, label: str) -> str | None:
    """``'Sheet'!B8``: the first cell of *source*'s sheet holding *label* (None if not on a sheet)."""
    from ..layout import address
    from ..reader import sheet_grid

    if not source.sheet or source.sheet not in [sh.name for sh in book.sheets]:
        return None
    g = sheet_grid(book.sheets[source.sheet])
    for i, row in enumerate(g.values):
        for j, v in enumerate(row):
            if v is not None and str(v).strip() == label:
                return f"'{source.sheet}'!{address(g.row0 + i, g.col0 + j)}"
    return None


def _check_labels(ctx: Context, t0_source: Source) -> None:
    """Both years must share labels: the error names the first differing label's cell on each sheet
    and the option table_t0."""
    from ...core.transfer import check_same_labels
    from ...errors import LabelError, WorkbookError

    t0, t1 = t0_source.table, ctx.table
    try:
        check_same_labels(t0, t1, (t0_source.description, ctx.source.description))
    except LabelError as exc:
        book = ctx.step.book
        where = ""
        for what, kind in (("regions", "region"), ("sectors", "sector"), ("fd_categories", "final-demand category")):
            a, b = list(getattr(t0, what)), list(getattr(t1, what))
            if a == b:
                continue
            k = next((k for k, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
            cells = []
            if k < len(a):
                cells.append(f"{_label_cell(book, t0_source, a[k]) or t0_source.description} has {kind} {a[k]!r}")
            if k < len(b):
                cells.append(f"{_label_cell(book, ctx.source, b[k]) or ctx.source.description} has {b[k]!r}")
            where = " where ".join(cells) + "; "
            break
        raise WorkbookError(
            f"{where}the earlier table (option table_t0 = {ctx.settings.get('table_t0')!r}) and the table "
            f"(option table) must have the same regions, sectors and final-demand categories in the same order: "
            f"{str(exc).split(': ', 1)[-1]}") from None


@register("transfer")
def transfer(book, **options) -> list[str]:
    ctx = open_context(book, options, "transfer")
    with ctx.step:
        ctx.step("reading the earlier table")
        t0_source = read_table(book, ctx.settings, which="table_t0")
        return finish(book, ctx, build_transfer(ctx, t0_source))
