"""What every command shares: the :class:`Context` (settings, table source, progress), option checks
reported at their Settings cell, the result-sheet header, and :func:`finish`, which writes the results.

Each command module builds every :class:`~xlmrio.excel.report.ResultSheet` first and only then writes
them with :func:`~xlmrio.excel.report.write_results` — inputs are never overwritten and a failed run
writes nothing.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from ...core.table import MRIOTable
from ...errors import OptionError, WorkbookError
from .. import settings as st
from ..progress import Steps
from ..reader import Source, read_concordance, read_table
from ..report import ResultSheet, meta_line, sheet_text, subtitle, write_results
from ..units import AS_TABLE, Scale, display_scale



@dataclass
class Context:
    settings: dict
    source: Source
    step: Steps
    inputs: set = field(default_factory=set)   # further sheets a command read (never replaced by its results)

    @property
    def table(self) -> MRIOTable:
        return self.source.table


def open_context(book, options: dict, command: str) -> Context:
    step = Steps(book, command)
    step("reading settings")
    settings = st.resolve(book, options)
    step("reading the table")
    source = read_table(book, settings)
    step(f"read {source.table.m} regions x {source.table.n} sectors from {source.description}")
    ctx = Context(settings, source, step)
    _check_options(ctx, command)
    return ctx


def option_sheet(ctx: Context, option: str):
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
    are checked where they are read, by :func:`option_sheet`)."""
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


def concordance(ctx: Context, option: str, covers: list[str] | None = None) -> dict[str, str]:
    """The concordance on the sheet named by *option* (missing sheet: error at the option's cell).

    *covers*: labels of the table it must map; one it misses is reported on the concordance sheet,
    at the first empty row below its entries (where the user adds it)."""
    sheet = option_sheet(ctx, option)
    conc = read_concordance(ctx.step.book, sheet.name)
    missing = [x for x in (covers or []) if x not in conc]
    if missing:
        from ..layout import address
        from ..reader import sheet_grid

        g = sheet_grid(sheet)
        kind = "sector" if option.startswith("sector") else "region"
        more = f" (also missing: {', '.join(map(repr, missing[1:6]))}{' ...' if len(missing) > 6 else ''})" \
            if len(missing) > 1 else ""
        raise WorkbookError(
            f"{kind} {missing[0]!r} of the table on {ctx.source.description} is not in this concordance "
            f"(option {option!r}); add a row: {missing[0]} | its group{more}",
            sheet.name, address(g.row0 + g.nrows, g.col0))
    return conc


def satellite_of(ctx: Context) -> str:
    t = ctx.table
    name = ctx.settings.get("satellite") or None
    if not t.satellites:
        raise WorkbookError(f"the table on {ctx.source.description} has no satellite accounts: add a sheet "
                            f"'{ctx.source.sheet} satellites' (Satellite | Unit | one column per region-sector)")
    try:
        return t.satellite_name(name)
    except OptionError as exc:
        raise st.option_error(ctx.settings, "satellite", str(exc)) from None


def header(ctx: Context, sheet: str, command: str, **fields) -> dict:
    t = ctx.table
    fields.setdefault("source", ctx.source.description)
    fields.setdefault("money", t.monetary_unit or "money unit")
    txt = sheet_text(sheet, **fields)
    sat = fields.get("satellite", "")
    unit = t.satellites[sat].unit if sat in t.satellites else ""
    sub = subtitle(txt["method"], satellite=sat, unit=unit, basis=fields.get("basis_label", ""),
                   source=ctx.source.description)
    return {"title": txt["title"], "subtitle": sub, "notes": txt["notes"], "meta": meta_line(command)}


def finish(book, ctx: Context, sheets: list[ResultSheet]) -> list[str]:
    """Write *sheets* and the Methods sheet they cite (replaced in place on every run); a sheet without a
    ``source`` gets the table the command read. Returns the names of *sheets* as written (not Methods)."""
    from .methods import build_methods

    ctx.step("writing results")
    for rs in sheets:
        rs.source = rs.source or ctx.source.description
        if rs.command == "validate" and rs.kind == "result":
            rs.kind = "diagnostics"  # validate.py is owned elsewhere; its sheet is a diagnosis of the input
    own = len(sheets)
    sheets = list(sheets) + [build_methods()]
    sheet_names = {sh.name for sh in book.sheets}
    read = {ctx.source.sheet, f"{ctx.source.sheet} satellites"} | ctx.inputs | {
        v for v in ctx.settings.values() if isinstance(v, str) and v in sheet_names}
    names = write_results(book, sheets, progress=ctx.step, keep=read & sheet_names)
    ctx.step(f"done: {', '.join(names)}")
    # the command's own sheets (and anything the writer adds after them), not the companion Methods sheet
    return names[:own] + names[own + 1:]


def display(ctx: Context, unit: str, kind: str) -> Scale:
    """The display :class:`~xlmrio.excel.units.Scale` for *unit* (*kind* ``"emissions"`` or ``"money"``) from
    the option ``display_unit_<kind>``; a unit it cannot convert is an error at that option's cell."""
    option = f"display_unit_{kind}"
    try:
        return display_scale(unit, ctx.settings.get(option) or AS_TABLE, kind)
    except ValueError as exc:
        raise st.option_error(ctx.settings, option, str(exc)) from None


def display_note(ds: Scale, source_unit: str) -> list[str]:
    """The note a sheet needs when its emissions are shown in another unit than the satellite's (else none)."""
    if ds.identity:
        return []
    return [f"Emissions are shown in {ds.unit} (option display_unit_emissions); the satellite is in {source_unit}."]


def negatives_note(frames: dict[str, pd.DataFrame], unit: str, why: str) -> str:
    """A note naming the negative entries of the given tables (title -> frame) and why they occur, or ''."""
    parts = []
    for title, df in frames.items():
        vals = df.select_dtypes("number")
        neg = vals[vals < 0].stack().dropna()
        if len(neg):
            (r, c), v = neg.idxmin(), neg.min()
            parts.append(f"{title}: {len(neg)} negative entr{'y' if len(neg) == 1 else 'ies'}, the largest "
                         f"{v:,.1f} {unit} ({_label(r)}, {_label(c)})")
    return ("Negative values — " + "; ".join(parts) + f". {why}") if parts else ""


def _label(v) -> str:
    return " | ".join(map(str, v)) if isinstance(v, tuple) else str(v)


def labels_frame(t: MRIOTable, data: dict) -> pd.DataFrame:
    return pd.DataFrame(data, index=t.index)


def sector_groups(book, ctx: Context) -> dict | None:
    name = ctx.settings.get("sector_concordance") or ""
    if not name:
        return None
    return concordance(ctx, "sector_concordance", covers=list(ctx.table.sectors))
