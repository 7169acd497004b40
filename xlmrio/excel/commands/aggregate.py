"""Aggregate: the table aggregated with sector/region concordances, written in the input layout."""
from __future__ import annotations

import pandas as pd

from ...core.aggregation import aggregate as _aggregate
from ...core.table import MRIOTable
from ...errors import OptionError
from ..layout import satellite_grid, table_grid
from ..registry import register
from ..report import ResultSheet, Table
from .context import Context, concordance, finish, header, open_context


def build_aggregate(book, ctx: Context) -> list[ResultSheet]:
    s = ctx.settings
    t = ctx.table
    smap = concordance(ctx, "sector_concordance", list(t.sectors)) if s.get("sector_concordance") else None
    rmap = concordance(ctx, "region_concordance", list(t.regions)) if s.get("region_concordance") else None
    if smap is None and rmap is None:
        raise OptionError("set 'sector_concordance' and/or 'region_concordance' in the Settings sheet to a sheet "
                          "with two columns (label, group)")
    ta = _aggregate(t, sector_map={k: v for k, v in smap.items() if k in t.sectors} if smap else None,
                    region_map={k: v for k, v in rmap.items() if k in t.regions} if rmap else None,
                    name=f"{t.name} aggregated")
    name = f"{ctx.source.sheet or t.name} agg"[:20]
    h = header(ctx, "Aggregate", "aggregate")
    return table_sheets(name, "aggregate", h, ta, source=ctx.source.description)


def table_sheets(name: str, command: str, h: dict, table: MRIOTable, *, source: str = "",
                 satellite_title: str = "") -> list[ResultSheet]:
    """Result sheets holding *table* in xlmrio's input layout (table + satellites), so every command can
    read them again."""
    size = f"{len(table.regions)} regions × {len(table.sectors)} sectors"
    sheets = [ResultSheet(name, command, h["title"], h["subtitle"],
                          [Table(table.monetary_unit or "", pd.DataFrame(), grid=table_grid(table))],
                          h.get("notes", []), meta=h["meta"], kind="table", source=source,
                          key_figures=[("size", size, ""), ("total output", float(table.x.sum()),
                                                             table.monetary_unit or "money unit")])]
    if table.satellites:
        sheets.append(ResultSheet(f"{name} satellites"[:31], command, satellite_title or f"Satellites of {name}",
                                  h["subtitle"], [Table(None, pd.DataFrame(), grid=satellite_grid(table))], [],
                                  meta=h["meta"], kind="table", source=source,
                                  key_figures=[(f"total {k}", float(sat.values.sum() + (0 if sat.hh is None else
                                                                                         sat.hh.sum())), sat.unit)
                                               for k, sat in table.satellites.items()]))
    return sheets


@register("aggregate")
def aggregate(book, **options) -> list[str]:
    ctx = open_context(book, options, "aggregate")
    with ctx.step:
        return finish(book, ctx, build_aggregate(book, ctx))
