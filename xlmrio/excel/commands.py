"""The workbook commands: one function ``cmd(book, **options)`` per analysis, registered for the
ribbon, the CLI and the tests.

Each command reads its inputs (settings, table, satellites, concordances), computes with
:mod:`xlmrio.core`, builds every :class:`~xlmrio.excel.report.ResultSheet`, and only then writes them
with :func:`~xlmrio.excel.report.write_results` — inputs are never overwritten and a failed run writes
nothing.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .. import core
from ..core.accounts import accounts as _accounts
from ..core.aggregation import aggregate as _aggregate, aggregate_result
from ..core.efficiency import eco_compensation, efficiency as _efficiency
from ..core.flows import aggregate_flows, embodied_flows, net_inflow_from_flows, top_flows
from ..core.leontief import LeontiefSolver, leontief as _leontief
from ..core.table import MRIOTable
from ..errors import OptionError, WorkbookError
from . import settings as st
from .layout import satellite_grid, table_grid
from .progress import Steps
from .reader import Source, read_concordance, read_table
from .registry import register
from .report import Chart, ResultSheet, Table, meta_line, sheet_text, subtitle, write_results

FULL_MATRIX_LIMIT = 300  # write A and L in full up to this many region-sectors


@dataclass
class Context:
    settings: dict
    source: Source
    step: Steps
    inputs: set = field(default_factory=set)   # further sheets a command read (never replaced by its results)

    @property
    def table(self) -> MRIOTable:
        return self.source.table


def _context(book, options: dict, command: str) -> Context:
    step = Steps(book, command)
    step("reading settings")
    settings = st.resolve(book, options)
    step("reading the table")
    source = read_table(book, settings)
    step(f"read {source.table.m} regions x {source.table.n} sectors from {source.description}")
    ctx = Context(settings, source, step)
    _check_options(ctx, command)
    return ctx


def _sheet(ctx: Context, option: str):
    """The sheet named by *option* (error at the option's Settings cell when it does not exist)."""
    name = ctx.settings.get(option)
    book = ctx.step.book
    if name not in [sh.name for sh in book.sheets]:
        raise st.option_error(ctx.settings, option, f"sheet {name!r} (option {option!r}) does not exist")
    return book.sheets[name]


#: options naming labels of the table, checked for the commands that use them
_LABEL_OPTIONS = {"flows": ("focus_regions",), "efficiency": ("focus_regions", "efficiency_sector")}


def _check_options(ctx: Context, command: str) -> None:
    """Options naming table labels: an unknown one is reported at its Settings cell (sheet options
    are checked where they are read, by :func:`_sheet`)."""
    t, s = ctx.table, ctx.settings
    uses = _LABEL_OPTIONS.get(command, ())
    focus = (s.get("focus_regions") or []) if "focus_regions" in uses else []
    unknown = [r for r in focus if r not in t.regions]
    if unknown:
        raise st.option_error(s, "focus_regions", f"unknown focus region(s) {', '.join(map(repr, unknown))}; the "
                                                  f"table has {', '.join(t.regions)}")
    sector = (s.get("efficiency_sector") or None) if "efficiency_sector" in uses else None
    if sector is not None and sector not in t.sectors:
        raise st.option_error(s, "efficiency_sector", f"unknown sector {sector!r}; the table has "
                                                      f"{', '.join(t.sectors)}")


def _concordance(ctx: Context, option: str) -> dict[str, str]:
    """The concordance on the sheet named by *option* (missing sheet: error at the option's cell)."""
    return read_concordance(ctx.step.book, _sheet(ctx, option).name)


def _satellite(ctx: Context) -> str:
    t = ctx.table
    name = ctx.settings.get("satellite") or None
    if not t.satellites:
        raise WorkbookError(f"the table on {ctx.source.description} has no satellite accounts: add a sheet "
                            f"'{ctx.source.sheet} satellites' (Satellite | Unit | one column per region-sector)")
    try:
        return t.satellite_name(name)
    except OptionError as exc:
        raise st.option_error(ctx.settings, "satellite", str(exc)) from None


def _header(ctx: Context, sheet: str, command: str, **fields) -> dict:
    t = ctx.table
    fields.setdefault("source", ctx.source.description)
    fields.setdefault("money", t.monetary_unit or "money unit")
    txt = sheet_text(sheet, **fields)
    sat = fields.get("satellite", "")
    unit = t.satellites[sat].unit if sat in t.satellites else ""
    sub = subtitle(txt["method"], satellite=sat, unit=unit, basis=fields.get("basis_label", ""),
                   source=ctx.source.description)
    return {"title": txt["title"], "subtitle": sub, "notes": txt["notes"], "meta": meta_line(command)}


def _finish(book, ctx: Context, sheets: list[ResultSheet]) -> list[str]:
    ctx.step("writing results")
    sheet_names = {sh.name for sh in book.sheets}
    read = {ctx.source.sheet, f"{ctx.source.sheet} satellites"} | ctx.inputs | {
        v for v in ctx.settings.values() if isinstance(v, str) and v in sheet_names}
    names = write_results(book, sheets, progress=ctx.step, keep=read & sheet_names)
    ctx.step(f"done: {', '.join(names)}")
    return names


def _labels_frame(t: MRIOTable, data: dict) -> pd.DataFrame:
    return pd.DataFrame(data, index=t.index)


# ---------------------------------------------------------------------- validate
def build_validate(ctx: Context) -> list[ResultSheet]:
    t = ctx.table
    rtol = float(ctx.settings.get("balance_rtol", 1e-6))
    rep = t.validate(rtol=rtol, raise_on_error=False)
    summary = pd.DataFrame({"value": [
        t.m, t.n, t.K, len(t.va_rows), ", ".join(f"{k} [{s.unit}]" for k, s in t.satellites.items()) or "none",
        t.monetary_unit or "(not given)", float(t.x.sum()), float(t.y.sum()), float(t.V.sum()),
        rep.max_row_residual, rep.max_col_residual, rep.gdp_residual, rtol,
        "OK" if rep.ok and not rep.warnings else ("problems found" if not rep.ok else "warnings")]},
        index=pd.Index(["regions", "sectors", "final-demand categories per region", "primary-input rows",
                        "satellites", "monetary unit", "total output", "total final demand", "total primary inputs",
                        "max |row residual|", "max |column residual|", "GDP residual sum(y) - sum(V)",
                        "relative tolerance", "verdict"], name="check"))
    findings = rep.to_frame()[["severity", "where", "residual", "what"]]
    if findings.empty:
        findings = pd.DataFrame([("info", "whole table", 0.0, "no findings: every identity holds within the tolerance")],
                                columns=["severity", "where", "residual", "what"])
    findings.index = pd.RangeIndex(1, len(findings) + 1, name="#")
    row_res = t.Z.sum(1) + t.y - t.x
    col_res = t.Z.sum(0) + t.V.sum(0) - t.x
    by_region = pd.DataFrame({
        "total output": t.x.reshape(t.m, t.n).sum(1),
        "value added": t.V.sum(0).reshape(t.m, t.n).sum(1),
        "final demand (rows)": t.y.reshape(t.m, t.n).sum(1),
        "max |row residual|": np.abs(row_res).reshape(t.m, t.n).max(1),
        "max |column residual|": np.abs(col_res).reshape(t.m, t.n).max(1),
    }, index=pd.Index(t.regions, name="region"))
    h = _header(ctx, "Validate", "validate")
    return [ResultSheet("Validate", "validate", h["title"], h["subtitle"], [
        Table("Table 1. Summary", summary, formats={"value": "general"}),
        Table("Table 2. Findings", findings, formats={"residual": "residual"}),
        Table(f"Table 3. Totals and residuals by region ({t.monetary_unit or 'money unit'})", by_region,
              formats={"*": "money", "max |row residual|": "residual", "max |column residual|": "residual"}),
    ], h["notes"], meta=h["meta"])]


@register("validate", label="Validate", group="Table", image="AcceptInvitation",
          help="Check the table: balance identities, labels, negative flows, orphan emissions")
def validate(book, **options) -> list[str]:
    ctx = _context(book, options, "validate")
    with ctx.step:
        return _finish(book, ctx, build_validate(ctx))


# ---------------------------------------------------------------------- leontief
def build_leontief(ctx: Context) -> list[ResultSheet]:
    t = ctx.table
    ctx.step("factorising I - A and forming L")
    r = _leontief(t)
    money = t.monetary_unit or "money unit"
    data = {"output multiplier": r.multipliers["total"], "own-region part": r.multipliers["own_region"],
            "spill-over part": r.multipliers["spillover"], "VA coefficient": r.va_coefficients}
    fmts = {"output multiplier": "multiplier", "own-region part": "multiplier", "spill-over part": "multiplier",
            "VA coefficient": "coefficient"}
    for name in t.satellites:
        unit = r.units[name]
        data[f"{name} intensity e ({unit})"] = r.intensities[name]
        data[f"{name} multiplier μ ({unit})"] = r.emission_multipliers[name]
        fmts[f"{name} intensity e ({unit})"] = "intensity"
        fmts[f"{name} multiplier μ ({unit})"] = "intensity"
    mult = _labels_frame(t, data)
    checks = pd.DataFrame({"value": list(r.checks.values())}, index=pd.Index([
        "max |(I − A)L − I|", "min L (must be ≥ 0)", "min diag L (must be ≥ 1)", "max |Ly − x| / max x",
        "max |v'L − 1|"], name="check"))
    tables = [Table(f"Table 1. Multipliers by region-sector ({money} per {money}; emissions per {money})", mult,
                    formats=fmts),
              Table("Table 2. Checks (METHODS §2.1)", checks, formats={"value": "residual"})]
    if t.N <= FULL_MATRIX_LIMIT:
        tables.append(Table("Table 3. Technical coefficients A = Z x̂⁻¹", r.A, formats={"*": "coefficient"}))
        tables.append(Table("Table 4. Leontief inverse L = (I − A)⁻¹", r.L, formats={"*": "coefficient"}))
    notes = list(_header(ctx, "Leontief", "leontief", satellite=", ".join(t.satellites),
                         unit=", ".join(s.unit for s in t.satellites.values()))["notes"])
    if t.N > FULL_MATRIX_LIMIT:
        notes.append(f"A and L ({t.N} x {t.N}) are not written in full above {FULL_MATRIX_LIMIT} region-sectors; "
                     "use the MRIO_LEONTIEF worksheet function or the Python API for them.")
    h = _header(ctx, "Leontief", "leontief")
    by_region = r.multipliers.groupby(level="region", sort=False).mean()
    by_region.columns = ["mean output multiplier", "mean own-region part", "mean spill-over part"]
    tables.insert(1, Table("Table 1b. Mean output multipliers by region", by_region, formats={"*": "multiplier"}))
    charts = [Chart("Mean output multipliers: own region vs spill-over", 1,
                    ["mean own-region part", "mean spill-over part"], kind="column_clustered")]
    return [ResultSheet("Leontief", "leontief", h["title"], h["subtitle"], tables, notes, charts, meta=h["meta"])]


@register("leontief", label="Leontief", group="Table", image="FunctionWizard",
          help="Technical coefficients A, Leontief inverse L, output, VA and emission multipliers")
def leontief(book, **options) -> list[str]:
    ctx = _context(book, options, "leontief")
    with ctx.step:
        return _finish(book, ctx, build_leontief(ctx))


# ---------------------------------------------------------------------- accounts
def _sector_groups(book, ctx: Context) -> dict | None:
    name = ctx.settings.get("sector_concordance") or ""
    if not name:
        return None
    conc = _concordance(ctx, "sector_concordance")
    missing = [s for s in ctx.table.sectors if s not in conc]
    if missing:
        raise WorkbookError(f"sector concordance does not map {missing[:5]}", name, "A1")
    return conc


def build_accounts(ctx: Context, groups: dict | None = None, solver: LeontiefSolver | None = None) -> list[ResultSheet]:
    t = ctx.table
    sat = _satellite(ctx)
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
    h = _header(ctx, "Accounts", "accounts", satellite=sat, basis=basis, basis_label=f"NEI {basis}")
    notes = h["notes"] + [f"Closure: Σ PBA = {a.closure['sum_pba']:,.3f} and Σ CBA incl. pseudo-regions = "
                          f"{a.closure['sum_cba']:,.3f} {unit}."]
    if a.hh.abs().sum() > 0:
        notes.append(f"Direct final-demand emissions (e.g. household fuel use, {a.hh.sum():,.1f} {unit} in all) are "
                     "included in PBA and CBA of their region but not in the driver matrix T.")
    return [ResultSheet("Accounts", "accounts", h["title"], h["subtitle"], tables, notes, charts, meta=h["meta"])]


@register("accounts", label="Accounts", group="Accounts", image="ChartTypeBarInsertGallery",
          help="Production- vs consumption-based emissions by region and sector, driver matrix, net embodied inflow")
def accounts(book, **options) -> list[str]:
    ctx = _context(book, options, "accounts")
    with ctx.step:
        return _finish(book, ctx, build_accounts(ctx, _sector_groups(book, ctx)))


# ---------------------------------------------------------------------- flows
def build_flows(ctx: Context, solver: LeontiefSolver | None = None) -> list[ResultSheet]:
    t = ctx.table
    sat = _satellite(ctx)
    unit = t.satellites[sat].unit
    s = ctx.settings
    ctx.step("forming L and the embodied-flow matrix F")
    F = embodied_flows(t, sat, solver=solver)
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
    edges_out = edges.rename(columns={"source_region": "from region", "source_sector": "from sector",
                                      "target_region": "to region", "target_sector": "to sector",
                                      "value": f"flow ({unit})", "share": "share", "cum_share": "cumulative share"})
    if s.get("flow_level") == "region":
        edges_out = edges_out.drop(columns=["from sector", "to sector"])
    Freg_out = Freg.copy()
    Freg_out["Total"] = Freg_out.sum(axis=1)
    Freg_out.loc["Total"] = Freg_out.sum(axis=0)
    net_df = pd.DataFrame({"outflow to other regions": Freg.sum(axis=1) - np.diag(Freg),
                           "inflow from other regions": Freg.sum(axis=0) - np.diag(Freg), "net inflow (F basis)": net})
    net_df.index.name = "region"
    chart_df = edges_out.copy()
    chart_df.index = [f"{a}→{b}" if s.get("flow_level") == "region" else f"{a}|{c}→{b}|{d}"
                      for a, b, c, d in zip(edges["source_region"], edges["target_region"], edges["source_sector"],
                                            edges["target_sector"])]
    chart_df.index.name = "flow"
    h = _header(ctx, "Flows", "flows", satellite=sat)
    sel_txt = f"cumulative share {sel['cum_share']:.0%}" if "cum_share" in sel else f"top {sel['top_k']}"
    tables = [
        Table(f"Table 1. Embodied flows between regions, F_reg ({unit})", Freg_out, formats={"*": "emissions"}),
        Table(f"Table 2. Net embodied inflow from F by region ({unit}; basis: embodied flows F)", net_df,
              formats={"*": "emissions"}),
        Table(f"Table 3. Top inter-region flows ({sel_txt}; excl. flows within a region; {unit})", edges_out,
              formats={f"flow ({unit})": "emissions", "share": "share", "cumulative share": "share"},
              note=f"Shares are of the {edges.attrs['total']:,.1f} {unit} of all inter-region flows at this level."),
        Table(f"Table 4. Embodied flows between sectors, F_sec ({unit})", Fsec, formats={"*": "emissions"}),
    ]
    charts = [Chart(f"Top embodied {sat} flows ({unit})", 0, [f"flow ({unit})"], kind="bar_clustered", max_rows=20,
                    data=chart_df.head(20).iloc[::-1],  # Excel draws bar charts bottom-up: largest on top
                    height=420.0)]
    notes = h["notes"] + [f"Linkage strength 1'F1 = {F.to_numpy().sum():,.1f} {unit} (not total emissions)."]
    return [ResultSheet("Flows", "flows", h["title"], h["subtitle"], tables, notes, charts, meta=h["meta"])]


@register("flows", label="Embodied flows", group="Accounts", image="DiagramRadialInsertClassic",
          help="Embodied-emission flows F between regions and sectors, net inflow, top flows for network charts")
def flows(book, **options) -> list[str]:
    ctx = _context(book, options, "flows")
    with ctx.step:
        return _finish(book, ctx, build_flows(ctx))


# ---------------------------------------------------------------------- efficiency
def build_efficiency(ctx: Context, solver: LeontiefSolver | None = None) -> list[ResultSheet]:
    t = ctx.table
    sat = _satellite(ctx)
    s = ctx.settings
    ctx.step("classifying supply chains")
    sector = s.get("efficiency_sector") or None
    r = _efficiency(t, sat, focus=s.get("focus_regions") or None, flow_basis=s.get("flow_basis", "T"),
                    basis=s.get("basis", "total"), sector=sector, solver=solver)
    iu = r.intensity_unit
    reg = r.regions[["orientation", "PBA", "X", "intensity", "gap", "NEI"]].rename(columns={"PBA": f"PBA ({r.unit})", "X": f"output ({t.monetary_unit or 'money'})",
                                    "intensity": f"intensity ({iu})", "gap": "gap to focus average",
                                    "NEI": f"NEI ({r.basis} basis)"})
    fl = r.flows.rename(columns={"value": f"flow ({r.unit})", "producer_intensity": "producer intensity",
                                 "consumer_intensity": "consumer intensity"}).set_index(["producer", "consumer"])
    fl = fl.sort_values(f"flow ({r.unit})", ascending=False)
    fl = fl[["class"] + [c for c in fl.columns if c != "class"]]
    shares = pd.DataFrame({"share": r.shares, f"flow ({r.unit})": [
        r.flows.loc[r.flows["class"] == c, "value"].sum() for c in r.shares.index]})
    shares.index.name = "class"
    contrib = r.producer_contribution.to_frame()
    contrib.index.name = "producer"
    groups = r.groups[["members", "regions", "pooled_intensity", "min_intensity", "max_intensity"]].rename(columns={"pooled_intensity": f"pooled intensity ({iu})",
                                      "min_intensity": "min intensity", "max_intensity": "max intensity"})
    mode = f"sector mode: {sector}" if sector else "average mode"
    tables = [
        Table(f"Table 1. Intensity and orientation by region (focus average {r.focus_intensity:.4f} {iu})", reg,
              formats={f"PBA ({r.unit})": "emissions", f"output ({t.monetary_unit or 'money'})": "money",
                       f"intensity ({iu})": "intensity", "gap to focus average": "share",
                       f"NEI ({r.basis} basis)": "emissions", "orientation": "text"}),
        Table(f"Table 2. Share of inefficient, efficient and neutral flows ({mode}; flow basis {r.flow_basis})",
              shares, formats={"share": "share", f"flow ({r.unit})": "emissions"}),
        Table("Table 3. Producer contributions to inefficient flows", contrib, formats={"*": "share"}),
        Table("Table 4. Production- vs consumer-oriented regions", groups,
              formats={"regions": "count", f"pooled intensity ({iu})": "intensity", "min intensity": "intensity",
                       "max intensity": "intensity", "members": "text"}),
        Table(f"Table 5. Flows between focus regions and their class ({r.unit}; intensities in {iu})", fl,
              formats={f"flow ({r.unit})": "emissions", "producer intensity": "intensity",
                       "consumer intensity": "intensity", "class": "text"}),
    ]
    price = s.get("eco_price")
    if price not in ("", None):
        comp = eco_compensation(r, float(price))
        tables.append(Table(f"Table 6. Eco-compensation owed by consumers to producers on inefficient flows "
                            f"(price {float(price):g} per {r.unit})", comp, formats={"*": "money"}, total_row=True))
    # one series per region (x = intensity, y = NEI) so every point is named in the legend
    xcol, ycol = f"intensity ({iu})", f"NEI ({r.basis} basis)"
    pts = reg[[xcol, ycol]].astype(float)
    scatter = pd.DataFrame({xcol: pts[xcol]})
    for region in pts.index:
        scatter[str(region)] = [pts.loc[region, ycol] if k == region else None for k in pts.index]
    charts = [Chart(f"Net embodied inflow ({r.unit}, y) against intensity ({iu}, x)", 0,
                    [str(k) for k in pts.index], kind="xy_scatter", x_column=xcol, data=scatter)]
    h = _header(ctx, "Efficiency", "efficiency", satellite=sat, flow_basis=r.flow_basis,
                basis_label=f"NEI {r.basis}")
    notes = h["notes"] + list(r.notes)
    tables[0].frame = reg
    return [ResultSheet("Efficiency", "efficiency", h["title"], h["subtitle"], tables, notes, charts, meta=h["meta"])]


@register("efficiency", label="Efficiency", group="Accounts", image="ChartTrendline",
          help="Emission intensity, production/consumer orientation, inefficient supply-chain shares")
def efficiency(book, **options) -> list[str]:
    ctx = _context(book, options, "efficiency")
    with ctx.step:
        return _finish(book, ctx, build_efficiency(ctx))


# ---------------------------------------------------------------------- aggregate
def build_aggregate(book, ctx: Context) -> list[ResultSheet]:
    s = ctx.settings
    smap = _concordance(ctx, "sector_concordance") if s.get("sector_concordance") else None
    rmap = _concordance(ctx, "region_concordance") if s.get("region_concordance") else None
    if smap is None and rmap is None:
        raise OptionError("set 'sector_concordance' and/or 'region_concordance' in the Settings sheet to a sheet "
                          "with two columns (label, group)")
    t = ctx.table
    ta = _aggregate(t, sector_map={k: v for k, v in smap.items() if k in t.sectors} if smap else None,
                    region_map={k: v for k, v in rmap.items() if k in t.regions} if rmap else None,
                    name=f"{t.name} aggregated")
    name = f"{ctx.source.sheet or t.name} agg"[:20]
    h = _header(ctx, "Aggregate", "aggregate")
    return table_sheets(name, "aggregate", h, ta)


def table_sheets(name: str, command: str, h: dict, table: MRIOTable) -> list[ResultSheet]:
    """Result sheets holding *table* in xlmrio's input layout (table + satellites), so every command can
    read them again."""
    sheets = [ResultSheet(name, command, h["title"], h["subtitle"],
                          [Table(table.monetary_unit or "", pd.DataFrame(), grid=table_grid(table))], h.get("notes", []), meta=h["meta"])]
    if table.satellites:
        sheets.append(ResultSheet(f"{name} satellites"[:31], command, f"Satellites of {name}", h["subtitle"],
                                  [Table(None, pd.DataFrame(), grid=satellite_grid(table))], [], meta=h["meta"]))
    return sheets


@register("aggregate", label="Aggregate", group="Table", image="GroupBy",
          help="Aggregate the table with sector/region concordance sheets into a new table sheet")
def aggregate(book, **options) -> list[str]:
    ctx = _context(book, options, "aggregate")
    with ctx.step:
        return _finish(book, ctx, build_aggregate(book, ctx))


# ---------------------------------------------------------------------- transfer & leakage
def build_transfer(ctx: Context, t0_source: Source) -> list[ResultSheet]:
    from ..core.transfer import industrial_transfer
    from .reader import sheet_grid
    from .transfer_inputs import read_coefficients, read_deflators

    t0, t1 = t0_source.table, ctx.table
    sat = _satellite(ctx)
    s = ctx.settings
    ctx.step(f"demand-attributed output of {t0_source.description} and {ctx.source.description}")
    y0, y1 = t0_source.sheet or "t0", ctx.source.sheet or "t1"
    coef = defl = None
    if s.get("coefficients_sheet"):
        coef = read_coefficients(sheet_grid(_sheet(ctx, "coefficients_sheet")), t1)
        if s.get("coefficients_unit"):
            coef = (coef, s["coefficients_unit"])
    if s.get("deflator_sheet"):
        defl = read_deflators(sheet_grid(_sheet(ctx, "deflator_sheet")), t1)
    r = industrial_transfer(t0, t1, sat, coefficients_year=s.get("transfer_coefficients", "t1"),
                            coefficients=coef, deflator=defl, bloc=s.get("bloc") or None, years=(y0, y1))
    money, cu = r.monetary_unit or "money unit", r.carbon_unit
    has_exports = t0.exports is not None or t1.exports is not None
    variants = ["consumption", "export", "total"] if has_exports else ["consumption"]
    vname = {"consumption": "consumption-driven", "export": "export-driven", "total": "total"}

    top = r.top_sectors(5, "total" if has_exports else "consumption")
    top["rank"] = ["#" + str(k) for k in top["rank"]]
    tops = {}
    for d in ("in", "out"):
        part = top[top["direction"] == d].set_index(["region", "rank"])[["sector", "value"]]
        tops[d] = part.rename(columns={"value": f"net transfer ({money})" if d == "in" else
                                       f"net transfer out ({money})"})
    S = r.coefficients_by_sector()
    hl = r.top_coefficients(3)
    t3 = r.table3()
    t3 = t3.loc[:, [(m, v) for m in ("NX", "NC") for v in variants if (m, v) in t3.columns]]
    t3.columns = pd.MultiIndex.from_tuples([(f"net transfer NX ({money})" if m == "NX" else f"net carbon transfer NC ({cu})",
                                             vname[v]) for m, v in t3.columns], names=["measure", "variant"])
    t3.loc["Total"] = t3.sum()
    share = r.transfer_in_share.loc[:, [(k, v) for k in ("industry", "carbon") for v in variants]]
    share.columns = pd.MultiIndex.from_tuples([(f"{k} transfer-in", vname[v]) for k, v in share.columns],
                                              names=["kind", "variant"])
    share.loc["Total"] = share.sum()
    drv = r.emissions_by_driver
    keep = [c for c in drv.columns if has_exports or c[1] != "export"]
    drv = drv[keep].copy()
    drv.columns = pd.MultiIndex.from_tuples([({"t0": y0, "t1": y1}.get(y, y), d) for y, d in drv.columns],
                                            names=["year", "driver"])
    drv.loc["Total"] = drv.sum()
    main_v = "total" if has_exports else "consumption"
    pair = r.pairwise_net[main_v].copy()
    pairc = r.pairwise_net_carbon[main_v].copy()
    lam = r.leakage_by_variant[main_v].copy()
    for df in (pair, pairc, lam):
        df.index.name, df.columns.name = "region J (receiving)", "partner K"
    imp = pd.DataFrame({f"IE: own-coefficient emission impact ({cu})": r.impact_emissions[main_v],
                        f"IVA: value-added impact ({money})": r.impact_va[main_v],
                        f"net carbon transfer NC ({cu})": r.net_carbon[main_v]})
    imp.index.name = "region"
    tables = [
        Table(f"Table 1a. Sectors with the largest net transfer in, {vname[main_v]} ({money})", tops["in"],
              formats={"sector": "text", "*": "money"}),
        Table(f"Table 1b. Sectors with the largest net transfer out, {vname[main_v]} ({money}, magnitudes)",
              tops["out"], formats={"sector": "text", "*": "money"}),
        Table(f"Table 2. Carbon coefficients S ({r.coefficients_unit}; top 3 per region marked)", S,
              formats={"*": "intensity"}, highlight=hl),
        Table("Table 3. Net industrial and carbon transfer by region (positive = inflow)", t3,
              formats={"*": "money"}, total_row=True),
        Table("Table 4. Shares of gross transfer-in (each column sums to 100 %)", share, formats={"*": "share"},
              total_row=True),
        Table(f"Table 5. Emissions of output by demand driver and year ({cu})", drv, formats={"*": "emissions"},
              total_row=True),
        Table(f"Table 6. Pairwise net transfer N(J←K), {vname[main_v]} ({money})", pair, formats={"*": "money"}),
        Table(f"Table 7. Pairwise net carbon transfer NC(J←K), {vname[main_v]} ({cu})", pairc,
              formats={"*": "emissions"}),
        Table(f"Table 8. Carbon leakage Λ(J,K), {vname[main_v]} ({cu}; symmetric)", lam, formats={"*": "emissions"}),
        Table(f"Table 9. Effects of the transfers on each region's own emissions and value added ({vname[main_v]})",
              imp, formats={c: ("money" if "IVA" in c else "emissions") for c in imp.columns}),
    ]
    groups = _sector_groups(ctx.step.book, ctx)
    if groups:
        g = r.impacts_by_group(groups, main_v).T           # (measure, sector group) x region
        g.index = pd.MultiIndex.from_tuples(
            [(f"IE ({cu})" if meas == "IE" else f"IVA ({money})", grp) for meas, grp in g.index],
            names=["measure", "sector group"])
        g["Total"] = g.sum(axis=1)
        tables.append(Table(f"Table 9b. Effects on own emissions (IE) and value added (IVA) by sector group "
                            f"('{s['sector_concordance']}' concordance, {vname[main_v]})", g,
                            formats={"*": "money"}))
    if r.bloc_effects is not None:
        be = r.bloc_effects[variants]
        tables.append(Table(f"Table 10. Bloc {', '.join(r.bloc)}: internal vs external effects", be,
                            formats={"*": "money"}))
    chart_df = pd.DataFrame({f"net carbon transfer NC ({cu})": r.net_carbon[main_v]})
    chart_df.index.name = "region"
    charts = [Chart(f"Net carbon transfer by region, {y0} → {y1} ({cu})", 0, [f"net carbon transfer NC ({cu})"],
                    data=chart_df)]
    coef_year = y1 if s.get("transfer_coefficients", "t1") == "t1" else y0
    if coef is not None:
        coef_year = f"sheet '{s['coefficients_sheet']}'"
    h = _header(ctx, "Transfer & leakage", "transfer", satellite=sat, coef_year=coef_year,
                source=f"{t0_source.description} → {ctx.source.description}")
    price_note = (f"Prices: {r.price_basis} (deflators from sheet '{s['deflator_sheet']}')." if defl is not None else
                  f"Prices: {r.price_basis}. Changes between table years in current prices mix real change and "
                  "inflation; name a deflator sheet in the option deflator_sheet to remove it.")
    notes = h["notes"] + [price_note] + list(r.notes)
    return [ResultSheet("Transfer & leakage", "transfer", h["title"], h["subtitle"], tables, notes, charts,
                        meta=h["meta"])]


@register("transfer", label="Transfer & leakage", group="Transfer", image="ArrowsMoreMenu",
          help="Industrial transfer, carbon transfer and carbon leakage between two table years (table_t0 -> table)")
def transfer(book, **options) -> list[str]:
    ctx = _context(book, options, "transfer")
    with ctx.step:
        ctx.step("reading the earlier table")
        t0_source = read_table(book, ctx.settings, which="table_t0")
        return _finish(book, ctx, build_transfer(ctx, t0_source))


# ---------------------------------------------------------------------- update table
def build_update(book, ctx: Context) -> list[ResultSheet]:
    from ..update import anais
    from .constraints import margins_of, read_constraints
    from .reader import sheet_grid

    s = ctx.settings
    prior_src = ctx.source
    prior = prior_src.table
    cname = s.get("constraints_sheet") or "Constraints"
    if cname not in [sh.name for sh in book.sheets]:
        raise st.option_error(s, "constraints_sheet", f"constraints sheet {cname!r} does not exist; copy the sheet "
                              "from workbook_templates/xlmrio_constraints_template.xlsx and fill it in")
    cons = read_constraints(sheet_grid(book.sheets[cname]), prior)
    opts = cons.options
    totals, known, aggs = dict(cons.totals), dict(cons.known_cells), list(cons.aggregates)
    target_src = None
    ctx.inputs |= {opts[k] for k in ("targets_from", "compare_with") if opts.get(k)}
    if opts.get("targets_from"):
        target_src = read_table(book, {**s, "table": opts["targets_from"], "table_file": ""})
        t_tot, t_known, t_aggs = margins_of(target_src.table, prior, opts["targets_from"])
        totals = {**t_tot, **totals}
        known = {**t_known, **known}  # cells given explicitly win over the target table's
        aggs = t_aggs + aggs
    reference = None
    if opts.get("reference_table"):
        reference = _reference_regions(book, s, cons, cname, prior)
        ctx.inputs.add(opts["reference_table"])
    if not (totals or known or aggs or cons.coefficient_bounds or reference):
        raise WorkbookError("no target information: fill in 'Known totals', 'Known cells', 'Aggregates' or "
                            "'Coefficient bounds', or name a table sheet in the option targets_from", cname, "A1")
    method = opts["method"]
    ctx.step(f"updating {prior_src.description} with {method.upper()} ({len(totals)} known totals, "
             f"{len(aggs)} aggregates, {len(cons.coefficient_bounds)} coefficient bounds)")
    diag = []
    if method == "anais":
        ctx.step("solving the ANAIS linear programmes (stage 1: largest deviation; stage 2: total deviation)")
        res = anais(prior, totals=totals or None, known_cells=known or None, aggregates=aggs or None,
                    coefficient_bounds=cons.coefficient_bounds or None, reference_regions=reference,
                    rmax_mode=opts["rmax_mode"], objective=opts["objective"], zero_policy=opts["zero_policy"],
                    prior_scaling=opts["prior_scaling"], eps_rel=float(opts["eps_rel"]),
                    eps_abs=float(opts["eps_abs"]), solver=opts["solver"], elastic=opts["elastic"] == "yes",
                    time_limit=float(opts["time_limit"]) if opts["time_limit"] not in ("", None) else None)
        new = res.table
        money = prior.monetary_unit or "money units"
        rho_txt = (f"{res.rho:.6g} ({res.rho:.1%} of the prior value)" if opts["rmax_mode"] == "relative"
                   else f"{res.rho:,.6g} {money}")
        obj_txt = (f"{res.objective:,.6g} {money} (total absolute deviation)" if opts["objective"] == "absolute"
                   else f"{res.objective:.6g} (sum of relative deviations)")
        diag = [("method", "ANAIS (two-stage LP)"), ("solver", res.solver), ("status", res.status),
                ("ρ*: largest deviation (stage 1)", rho_txt), ("stage-2 objective", obj_txt),
                ("largest realised deviation", f"{res.rho_realised:.6g}"), ("time", f"{res.seconds:.1f} s"),
                ("rmax mode / objective", f"{opts['rmax_mode']} / {opts['objective']}"),
                ("prior scaling", opts["prior_scaling"]),
                ("cells / free cells", f"{res.size.get('cells', '')} / {res.size.get('free_cells', '')}")]
    else:
        if target_src is None:
            raise WorkbookError(f"{method.upper()} needs complete margins: name a table sheet in the option "
                                "targets_from", cname, "A1")
        unused = [name for name, items in (("Known totals", cons.totals), ("Known cells", cons.known_cells),
                                           ("Aggregates", cons.aggregates),
                                           ("Coefficient bounds", cons.coefficient_bounds),
                                           ("reference_table", reference)) if items]
        if unused:
            raise WorkbookError(f"{method.upper()} balances to the margins of '{opts['targets_from']}' only and "
                                f"cannot use the section(s) {', '.join(unused)}; set method to anais, or clear "
                                "those sections", cname, "A1")
        new, info = biproportional(prior, target_src.table, method)
        diag = [("method", f"{method.upper()} on Z with the target's intermediate row and column totals; final "
                           "demand rows scaled to the target's row sums; primary inputs from the target"),
                ("iterations", info.iterations), ("final residual", info.eps)]
    name = f"{(prior_src.sheet or prior.name)[:20]} updated"[:31]
    new = new.replace(name=name, monetary_unit=prior.monetary_unit)
    ctx.step("checking the updated table")
    rep = new.validate(rtol=1e-6, raise_on_error=False)
    diag.append(("updated table balances (rtol 1e-6)", "yes" if not [f for f in rep.warnings if "balance" in f.what]
                 else "no"))
    tables = [Table("Table 1. Solution summary", pd.DataFrame({"value": [v for _, v in diag]},
                                                              index=pd.Index([k for k, _ in diag], name="item")),
                    formats={"value": "general"})]
    if method == "anais":
        dev = res.deviations.copy()
        dev.index = pd.Index([f"#{k}" for k in range(1, len(dev) + 1)], name="rank")
        scaled = " (prior after column scaling to the target totals)" if opts["prior_scaling"] == "columns" else ""
        tables.append(Table(f"Table 2. Largest realised deviations from the prior{scaled}", dev,
                            formats={"prior": "money", "value": "money", "abs_deviation": "money",
                                     "rel_deviation": "share", "block": "text", "row": "text", "column": "text"}))
        if len(res.binding):
            tables.append(Table("Table 3. Binding coefficient bounds", res.binding.set_index(res.binding.columns[0]),
                                formats={"*": "coefficient"}))
        if len(res.soft):
            tables.append(Table("Table 4. Soft aggregates", res.soft.set_index(res.soft.columns[0]),
                                formats={"*": "money", "rel_deviation": "share"}))
    compare_name = opts.get("compare_with")
    if compare_name:
        ctx.step(f"comparing with {compare_name}")
        ref = read_table(book, {**s, "table": compare_name, "table_file": ""}).table
        tables.append(Table(f"Accuracy against '{compare_name}' (WAPE in %, METHODS §5.3)",
                            _accuracy(prior, new, ref, method), formats={"*": "ratio"},
                            note="Every method gets the same information: total outputs, final-demand row sums and "
                                 "primary inputs of the target year. 'keep coefficients' = A of the prior with the "
                                 "target x."))
    h = _header(ctx, "Update", "update", method=method.upper(),
                method_line=("ANAIS: stage 1 minimises the largest relative deviation ρ from the prior, stage 2 the "
                             "total deviation with ρ held (METHODS §4)") if method == "anais" else
                f"{method.upper()}: biproportional balancing to the target margins (METHODS §5)")
    notes = [f"The updated table is on sheet '{name}' in xlmrio's input layout, so every command can read it "
             "(set the option table to that sheet).",
             "Satellite accounts are not carried over: they belong to the prior year."]
    sheets = [ResultSheet("Update", "update", h["title"], h["subtitle"], tables, notes, meta=h["meta"])]
    return sheets + table_sheets(name, "update", {**h, "title": f"Updated table ({method.upper()}) from "
                                                             f"{prior_src.description}", "notes": []}, new)


def _reference_regions(book, s: dict, cons, cname: str, prior: MRIOTable):
    """ReferenceRegions from the Constraints options (errors at the option's cell)."""
    from ..update import ReferenceRegions

    opts, cells = cons.options, cons.cells
    ref = read_table(book, {**s, "table": opts["reference_table"], "table_file": ""}).table
    regions, apply_to = opts.get("reference_regions") or [], opts.get("reference_apply_to") or []
    for key, labels, table, what in (("reference_regions", regions, ref, "reference table"),
                                     ("reference_apply_to", apply_to, prior, "prior table")):
        if not labels:
            raise WorkbookError(f"{key} is empty: list regions of the {what}, comma-separated", cname,
                                cells.get(key, "A1"))
        unknown = [r for r in labels if r not in table.regions]
        if unknown:
            raise WorkbookError(f"{key}: unknown region(s) {', '.join(map(repr, unknown))}; the {what} has "
                                f"{', '.join(table.regions)}", cname, cells.get(key, "A1"))
    if tuple(ref.sectors) != tuple(prior.sectors):
        raise WorkbookError(f"the reference table '{opts['reference_table']}' must have the prior's sectors",
                            cname, cells.get("reference_table", "A1"))
    return ReferenceRegions(table=ref, regions=regions, apply_to=apply_to, widen=float(opts["reference_widen"]))


def biproportional(prior: MRIOTable, target: MRIOTable, method: str):
    """RAS/GRAS update with the same information ANAIS gets from a target table: Z balanced to the target's
    intermediate row sums ``u = x − y`` and column sums ``v = x − 1'V``; final-demand rows scaled to the
    target's row sums; ``V`` and ``x`` from the target. Returns ``(table, BalanceResult)``."""
    from ..update import gras_result, ras_result

    y_t = target.y
    u = target.x - y_t
    v = target.x - target.V.sum(axis=0)
    res = (ras_result if method == "ras" else gras_result)(prior.Z, u, v)
    blocks = [prior.Y] + [b[:, None] for b in (prior.exports, prior.other) if b is not None]
    F0 = np.hstack(blocks)
    f0 = F0.sum(axis=1)
    scale = np.divide(y_t, f0, out=np.zeros_like(y_t), where=f0 != 0)
    F = F0 * scale[:, None]
    flat = f0 == 0
    F[flat] = (y_t[flat] / F0.shape[1])[:, None]  # no prior pattern: spread evenly
    k = prior.Y.shape[1]
    rest = iter(range(k, F.shape[1]))
    exports = F[:, next(rest)] if prior.exports is not None else None
    other = F[:, next(rest)] if prior.other is not None else None
    new = prior.replace(Z=res.Z, Y=F[:, :k], V=target.V, x=target.x, exports=exports, other=other, satellites={})
    return new, res


def _accuracy(prior: MRIOTable, est: MRIOTable, ref: MRIOTable, method: str) -> pd.DataFrame:
    """WAPE of Z and L of the estimate and of the benchmark methods against a reference table."""
    from ..core.leontief import coefficients, leontief_inverse
    from ..update import compare

    cand = {method.upper(): est}
    for m in ("ras", "gras"):
        if m != method:
            cand[m.upper()] = biproportional(prior, ref, m)[0]
    A0 = coefficients(prior.Z, prior.x)
    cand["keep coefficients"] = prior.replace(Z=A0 * ref.x[None, :], x=ref.x, V=None, satellites={})
    Lref = leontief_inverse(coefficients(ref.Z, ref.x))
    rows = {}
    for name, t in cand.items():
        cz = compare(t.Z, ref.Z)
        cl = compare(leontief_inverse(coefficients(t.Z, t.x)), Lref)
        rows[name] = [cz["wape"], cz["max_rel"], cl["wape"]]
    out = pd.DataFrame(rows, index=["WAPE of Z (%)", "max relative deviation of Z (ratio)", "WAPE of L (%)"]).T
    out.index.name = "method"
    return out


@register("update", label="Update table", group="Update", image="TableSharePointListsRefreshList",
          help="Update the prior table to target-year information (ANAIS, RAS, GRAS) from the Constraints sheet")
def update(book, **options) -> list[str]:
    settings = st.resolve(book, options)
    prior_opt = settings.get("prior") or settings.get("table_t0") or settings.get("table")
    ctx = _context(book, {**options, "table": prior_opt} if prior_opt else options, "update")
    with ctx.step:
        return _finish(book, ctx, build_update(book, ctx))


# ---------------------------------------------------------------------- settings and help
def write_settings_sheet(book, values: dict | None = None) -> str:
    """Create the Settings sheet with every option, its default, description and a drop-down list, or add the
    options an existing Settings sheet lacks (existing values are never changed)."""
    from .engine import add_list_validation
    from .report import template

    names = [s.name for s in book.sheets]
    rows = st.settings_rows(values)
    if st.SETTINGS_SHEET not in names:
        sheet = book.sheets.add(st.SETTINGS_SHEET, before=book.sheets[0])
        sheet.range("A1").value = rows
        start = 2
        todo = list(enumerate(st.OPTIONS))
    else:
        sheet = book.sheets[st.SETTINGS_SHEET]
        st.read_settings(book)  # report a malformed sheet before touching it
        have = {str(r[0]).strip() for r in (sheet.used_range.options(ndim=2).value or []) if r and r[0]}
        missing = [(k, o) for k, o in enumerate(st.OPTIONS) if o.name not in have]
        last = sheet.used_range.last_cell.row
        if missing:
            sheet.range((last + 1, 1)).value = [rows[k + 1] for k, _ in missing]
        start = last + 1
        todo = [(start - 2 + i, o) for i, (_, o) in enumerate(missing)]
    sheet.range("A1:D1").font.bold = True
    sheet.range("A1:D1").color = template("styles")["header"]["fill"]
    for col, w in zip("ABCD", (22, 16, 90, 40)):
        sheet.range(f"{col}1").column_width = w
    for k, o in todo:
        if o.choices:
            add_list_validation(sheet, f"B{k + 2}", list(o.choices))
    return sheet.name


@register("settings", label="Settings", group="Settings/Help", image="PropertySheet",
          help="Create the Settings sheet (defaults, descriptions, drop-down lists) or add missing options to it")
def settings(book, **options) -> list[str]:
    return [write_settings_sheet(book, st.resolve(None, options) if options else None)]


def build_help() -> list[ResultSheet]:
    from .registry import commands

    cmds = pd.DataFrame([(c.label, c.group, c.help) for c in commands()], columns=["button", "ribbon group", "what it does"],
                        index=pd.Index([c.name for c in commands()], name="command"))
    opts = pd.DataFrame([(str(o.default) if o.default not in ("", None) else "", ", ".join(o.choices), o.help)
                         for o in st.OPTIONS], columns=["default", "allowed values", "description"],
                        index=pd.Index([o.name for o in st.OPTIONS], name="option"))
    return [ResultSheet("xlmrio help", "help", "xlmrio: commands and options",
                        "Every command reads the table named in the Settings sheet and writes its own result sheets; "
                        "inputs are never changed", [
                            Table("Commands", cmds, formats={"*": "text"}),
                            Table("Options of the Settings sheet", opts, formats={"*": "text"}),
                        ], ["Without Excel: xlmrio run WORKBOOK COMMAND [--option value ...]; xlmrio --help.",
                            "Input layout: workbook_templates/xlmrio_input_template.xlsx; the filled example "
                            "xlmrio_input_example.xlsx; the Update table constraints: "
                            "xlmrio_constraints_template.xlsx."], meta=meta_line("help"))]


@register("help", label="Help", group="Settings/Help", image="Help",
          help="Write a sheet listing the commands and every option with its default and description")
def help_(book, **options) -> list[str]:
    return write_results(book, build_help())
