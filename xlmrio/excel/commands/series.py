"""Series: PBA, CBA, NEI and embodied trade of several tables (years) side by side, with line charts
(:func:`xlmrio.uncertainty.series`)."""
from __future__ import annotations

import re


from ...errors import OptionError
from ..reader import SKIP_SHEETS, _is_result, _looks_like_table, read_table, sheet_grid
from ..registry import register
from ..report import Chart, ResultSheet, Table
from .. import settings as st
from .context import Context, display, display_note, finish, header, open_context, satellite_of
from .uncertainty import progress_line

_LABELS = {"pba": "PBA", "cba": "CBA", "nei_total": "NEI (total basis)", "nei_domestic": "NEI (domestic basis)",
           "embodied_exports": "embodied exports", "embodied_imports": "embodied imports"}


def year_of(name: str):
    """The year in a table's name (``"MRIO 2007"`` -> 2007), else the name itself."""
    found = re.findall(r"(?<!\d)(1[89]\d\d|2[01]\d\d)(?!\d)", name)
    return int(found[-1]) if found else name


def table_names(book, settings: dict) -> list[str]:
    """The tables of the series: option ``series_tables``, else every table sheet that is not a result."""
    names = settings.get("series_tables") or []
    if names:
        return list(names)
    out = []
    for s in book.sheets:
        low = s.name.lower()
        if low in SKIP_SHEETS or low.endswith("satellites") or _is_result(book, s.name):
            continue
        if _looks_like_table(sheet_grid(s)):
            out.append(s.name)
    return out


def build_series(ctx: Context) -> list[ResultSheet]:
    from ...uncertainty import series as _series, series_wide

    book, s = ctx.step.book, ctx.settings
    names = table_names(book, s)
    if len(names) < 2:
        raise st.option_error(s, "series_tables", f"a series needs at least two tables; found {names or 'none'} "
                                                  "(list them in option 'series_tables')")
    tables = {}
    for name in names:
        ctx.step(f"reading table {name!r}")
        try:
            src = read_table(book, {**s, "table": name, "table_file": ""})
        except OptionError as exc:
            raise st.option_error(s, "series_tables", str(exc)) from None
        key = year_of(name)
        if key in tables:
            key = name
        tables[key] = src.table
        ctx.inputs |= {src.sheet, f"{src.sheet} satellites"}
    sat = satellite_of(ctx)
    where = s.get("scheduler") or "local threads"
    ctx.step(f"accounts of {len(tables)} tables on {where}")
    try:
        tidy = _series(tables, sat, client=s.get("scheduler") or None,
                       progress=lambda d, n, sec: ctx.step(progress_line(d, n, sec, "tables")))
    except OptionError as exc:
        raise st.option_error(s, "scheduler" if "Dask" in str(exc) or "scheduler" in str(exc) else "series_tables",
                              str(exc)) from None
    sat_unit = ctx.table.satellites[sat].unit
    ds = display(ctx, sat_unit, "emissions")   # option display_unit_emissions; intensities keep the table's units
    unit = ds.unit
    money = ctx.table.monetary_unit or "money"
    emission_rows = tidy["measure"].isin(["pba", "cba", "nei_total", "nei_domestic", "embodied_exports",
                                          "embodied_imports"])
    tidy = tidy.copy()
    tidy.loc[emission_rows, "value"] = ds(tidy.loc[emission_rows, "value"])
    wide = tidy.pivot_table(index=["region", "year"], columns="measure", values="value", sort=False)
    wide = wide[[c for c in ("pba", "cba", "nei_total", "nei_domestic", "embodied_exports", "embodied_imports",
                             "output", "intensity") if c in wide.columns]]
    wide.columns = [_LABELS.get(c, c) for c in wide.columns]
    wide = wide.rename(columns={"output": f"output ({money})", "intensity": f"intensity ({sat_unit} per {money})"})
    wide.columns.name = None
    pba, cba = series_wide(tidy, "pba"), series_wide(tidy, "cba")
    for frame in (pba, cba):
        frame.index.name = "year"
    # chart categories are the tables' names: a numeric first column would be read as a series by Excel
    label = {k: n for k, n in zip(tables, names)}
    chart_data = [f.rename(index=lambda k: label.get(k, str(k))) for f in (pba, cba)]
    for f in chart_data:
        f.index.name = "table"
    tables_out = [
        Table(f"Table 1. {sat} accounts and embodied trade by region and year ({unit}, output in {money})", wide,
              formats={"*": "emissions", f"intensity ({sat_unit} per {money})": "intensity"},
              reading="NEI (total basis) = PBA − CBA = embodied exports − embodied imports."),
        Table(f"Table 2. Production-based {sat} by year ({unit})", pba, formats={"*": "emissions"}),
        Table(f"Table 3. Consumption-based {sat} by year ({unit})", cba, formats={"*": "emissions"}),
    ]
    charts = [Chart(f"Production-based {sat} by region over the years ({unit})", 1, list(pba.columns),
                    kind="line_markers", x_title="table (year)", y_title=f"PBA ({unit})", plot_by="columns",
                    data=chart_data[0]),
              Chart(f"Consumption-based {sat} by region over the years ({unit})", 2, list(cba.columns),
                    kind="line_markers", x_title="table (year)", y_title=f"CBA ({unit})", plot_by="columns",
                    data=chart_data[1])]
    h = header(ctx, "Series", "series", satellite=sat, source=", ".join(names))
    h["subtitle"] = h["subtitle"].replace(f"source: {ctx.source.description}", f"tables: {', '.join(names)}")
    notes = h["notes"] + [f"Tables: {', '.join(f'{k} = {n!r}' for k, n in zip(tables, names))}; computed on {where}."]
    notes += display_note(ds, sat_unit)
    return [ResultSheet("Series", "series", h["title"], h["subtitle"], tables_out, notes, charts, meta=h["meta"],
                        source=", ".join(names))]


@register("series")
def series(book, **options) -> list[str]:
    ctx = open_context(book, options, "series")
    with ctx.step:
        return finish(book, ctx, build_series(ctx))
