"""Options of the workbook commands and the "Settings" sheet that holds them.

Each option has a default, a type, allowed values (drop-down list in the sheet) and a one-line
description. Precedence: explicit keyword options (CLI flags, ribbon code) > the Settings sheet >
the defaults below.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ..errors import OptionError, WorkbookError

SETTINGS_SHEET = "Settings"
CELLS = "__cells__"  # settings[CELLS][option] = cell of the option's value in the Settings sheet
HEADER = ("Option", "Value", "Description", "Allowed values")


@dataclass(frozen=True)
class Option:
    name: str
    default: Any
    kind: str  # "str", "int", "float", "bool", "choice", "list"
    help: str
    choices: tuple[str, ...] = ()


OPTIONS: tuple[Option, ...] = (
    Option("table", "", "str", "Table to analyse: a sheet name or a defined name (empty: the selected sheet, "
           "else the first sheet holding a table)"),
    Option("table_t0", "", "str", "Earlier-year table for 'Transfer & leakage' and the prior for 'Update table' "
           "(sheet or defined name)"),
    Option("table_file", "", "str", "Read the table from this CSV / Parquet / xlsx file instead of a sheet "
           "(for tables too large for a sheet; path relative to the workbook)"),
    Option("layout", "auto", "choice", "Table layout: auto-detect, xlmrio's own, WIOD, or CEADs China MRIO",
           ("auto", "xlmrio", "wiod", "ceads")),
    Option("satellites_sheet", "", "str", "Sheet with the satellite accounts (empty: '<table sheet> satellites', "
           "then 'Satellites')"),
    Option("satellite", "", "str", "Satellite (emission account) to analyse (empty: the only one)"),
    Option("monetary_unit", "", "str", "Monetary unit of the table, e.g. 'million USD' (shown in results)"),
    Option("basis", "total", "choice", "Basis of net embodied inflow: total = PBA - CBA (exports count as "
           "inflow); domestic = flows between real regions only", ("total", "domestic")),
    Option("top_k", 20, "int", "Number of top flows to list (flows command)"),
    Option("cum_share", "", "float", "Alternatively list the flows making up this cumulative share, e.g. 0.8"),
    Option("flow_level", "region-sector", "choice", "Top flows between region-sectors or between regions",
           ("region-sector", "region")),
    Option("focus_regions", "", "list", "Focus regions for efficiency and flows, comma-separated (empty: all)"),
    Option("flow_basis", "T", "choice", "Flows classified as (in)efficient: T (final-demand driven) or "
           "F_reg (embodied flows)", ("T", "F_reg")),
    Option("efficiency_sector", "", "str", "Sector mode of the efficiency command (empty: all sectors)"),
    Option("eco_price", "", "float", "Price per unit of emissions for the eco-compensation table (empty: none)"),
    Option("sector_concordance", "", "str", "Sheet with a sector concordance (columns: sector, group) for the "
           "aggregate command and the accounts by sector group"),
    Option("region_concordance", "", "str", "Sheet with a region concordance (columns: region, group)"),
    Option("full_matrices", "sheets", "choice", "Leontief: write A and L in full on sheets of their own "
           "('Leontief A', 'Leontief L'; up to 300 region-sectors) or not at all", ("sheets", "no")),
    Option("allow_empty_cells", False, "bool", "Read empty cells in numeric blocks as 0", ("yes", "no")),
    Option("balance_rtol", 1e-6, "float", "Relative tolerance of the row/column balance checks (loosen, e.g. "
           "1e-3, for published rounded tables)"),
    Option("transfer_coefficients", "t1", "choice", "Carbon coefficients of the transfer analysis: of the "
           "later (t1) or earlier (t0) year", ("t1", "t0")),
    Option("coefficients_sheet", "", "str", "Sheet with carbon coefficients for the transfer analysis: sectors "
           "down, regions across, header cell 'Sector' (empty: intensities of the satellite)"),
    Option("coefficients_unit", "", "str", "Unit of the coefficients sheet, e.g. 't CO2 per 1e4 CNY'"),
    Option("deflator_sheet", "", "str", "Sheet with price indices for the transfer analysis: columns Region | Sector "
           "| t0 | t1 (Region '*' = every region; one row '*' | '*' = one index for all)"),
    Option("bloc", "", "list", "Bloc of regions for internal vs external transfer effects, comma-separated"),
    Option("display_unit_emissions", "as table", "choice", "Show emission totals and flows in this unit (tables "
           "and charts alike; intensities stay per the table's units); 'as table' = the satellite's own unit",
           ("as table", "t", "kt", "Mt", "Gt")),
    Option("display_unit_money", "as table", "choice", "Show money totals (output, industrial transfers, value-"
           "added effects) in this unit, e.g. billion; 'as table' = the table's monetary unit (table sheets and "
           "Update deviations always keep it)",
           ("as table", "thousand", "million", "billion", "trillion")),
    Option("prior", "", "str", "Prior table of 'Update table' (sheet or defined name; empty: table_t0, else table)"),
    Option("constraints_sheet", "Constraints", "str", "Sheet with the target information and options of "
           "'Update table' (see workbook_templates/xlmrio_constraints_template.xlsx)"),
    Option("mc_draws", 500, "int", "Uncertainty: number of Monte Carlo draws (>= 2)"),
    Option("mc_rsd", "", "float", "Uncertainty: relative standard deviation of every cell of Z, Y and the satellite, "
           "e.g. 0.1 for 10 % (empty: size-dependent default after Lenzen et al. 2010, smaller cells less reliable)"),
    Option("mc_seed", 1, "int", "Uncertainty: random seed (the same seed gives the same draws locally and on Dask)"),
    Option("mc_rebalance", "none", "choice", "Uncertainty: none = total output follows the perturbed rows; ras = "
           "each perturbed Z is RAS-scaled back to the table's intermediate row and column totals", ("none", "ras")),
    Option("series_tables", "", "list", "Series: tables (sheets or defined names) in year order, comma-separated "
           "(empty: every table sheet of the workbook); the year is the number in the name"),
    Option("scheduler", "", "str", "Run Uncertainty and Series on this Dask scheduler, e.g. tcp://host:8786 "
           "(empty: local threads; needs pip install \"xlmrio[dask]\")"),
)
BY_NAME = {o.name: o for o in OPTIONS}


def convert(option: Option, value: Any, *, where: str = "") -> Any:
    """Convert a raw value (cell value or CLI text) to the option's type; raise OptionError otherwise."""
    loc = f" ({where})" if where else ""
    if value is None or (isinstance(value, str) and value.strip() == ""):
        return option.default
    try:
        if option.kind == "int":
            f = float(value)
            if not f.is_integer() or f <= 0:
                raise ValueError
            return int(f)
        if option.kind == "float":
            f = float(value)
            if not (math.isfinite(f) and f >= 0):       # tolerances, shares and prices are never negative
                raise ValueError
            return f
        if option.kind == "bool":
            if isinstance(value, bool):
                return value
            s = str(value).strip().lower()
            if s in ("yes", "true", "1", "y", "on"):
                return True
            if s in ("no", "false", "0", "n", "off"):
                return False
            raise ValueError
        if option.kind == "choice":
            s = str(value).strip()
            for c in option.choices:
                if s.lower() == c.lower():
                    return c
            raise ValueError
        if option.kind == "list":
            if isinstance(value, (list, tuple)):
                return [str(v).strip() for v in value if str(v).strip()]
            return [p.strip() for p in str(value).split(",") if p.strip()]
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value).strip()
    except (TypeError, ValueError):
        # layout imports numpy: not at module load (``xlmrio --help``)
        from .layout import value_text

        allowed = f"; allowed: {', '.join(option.choices)}" if option.choices else f" (a {option.kind})"
        raise OptionError(f"option {option.name!r}{loc}: invalid value {value_text(value)}{allowed}") from None


def defaults() -> dict[str, Any]:
    return {o.name: o.default for o in OPTIONS}


def read_settings(book) -> dict[str, Any]:
    """Options from the book's Settings sheet over the defaults (unknown options are an error)."""
    from .layout import ERROR_VALUES

    out = defaults()
    out[CELLS] = {}
    names = [s.name for s in book.sheets]
    if SETTINGS_SHEET not in names:
        return out
    sheet = book.sheets[SETTINGS_SHEET]
    values = sheet.used_range.options(ndim=2, err_to_str=True).value or []
    start = None
    for i, row in enumerate(values):
        if row and isinstance(row[0], str) and row[0].strip().lower() == "option":
            start = i + 1
            break
    if start is None:
        raise WorkbookError("no header row 'Option | Value' found", SETTINGS_SHEET, "A1")
    r0 = sheet.used_range.row
    for i in range(start, len(values)):
        row = values[i]
        key = row[0] if row else None
        if key is None or str(key).strip() == "":
            continue
        key = str(key).strip()
        cell = f"B{r0 + i}"
        if key not in BY_NAME:
            raise WorkbookError(f"unknown option {key!r}; known options: {', '.join(BY_NAME)}", SETTINGS_SHEET,
                                f"A{r0 + i}")
        out[CELLS][key] = cell
        raw = row[1] if len(row) > 1 else None
        if isinstance(raw, str) and raw.strip().upper() in ERROR_VALUES:
            raise WorkbookError(f"error value {raw} as the value of option {key!r}: enter a value or leave it "
                                "empty for the default", SETTINGS_SHEET, cell)
        try:
            out[key] = convert(BY_NAME[key], row[1] if len(row) > 1 else None)
        except OptionError as exc:
            raise WorkbookError(str(exc), SETTINGS_SHEET, cell) from None
    return out


def resolve(book, options: dict[str, Any] | None) -> dict[str, Any]:
    """Settings sheet + explicit options (converted; unknown names raise OptionError)."""
    out = read_settings(book) if book is not None else defaults()
    for k, v in (options or {}).items():
        if k not in BY_NAME:
            raise OptionError(f"unknown option {k!r}; known options: {', '.join(BY_NAME)}")
        if v is None:
            continue
        out[k] = convert(BY_NAME[k], v)
        out.setdefault(CELLS, {}).pop(k, None)  # set here, not in the sheet
    return out


def option_error(settings: dict, option: str, message: str) -> Exception:
    """A WorkbookError at the option's cell in the Settings sheet (or a plain OptionError when the option
    was given on the command line / in code)."""
    cell = settings.get(CELLS, {}).get(option)
    if cell:
        return WorkbookError(message, SETTINGS_SHEET, cell)
    return OptionError(message)


def settings_rows(values: dict[str, Any] | None = None) -> list[list[Any]]:
    """Rows of a Settings sheet (header first) with the given values over the defaults."""
    values = {**defaults(), **(values or {})}
    rows: list[list[Any]] = [list(HEADER)]
    for o in OPTIONS:
        v = values[o.name]
        if o.kind == "bool":
            v = "yes" if v else "no"
        elif o.kind == "list":
            v = ", ".join(v) if isinstance(v, (list, tuple)) else v
        rows.append([o.name, v, o.help, ", ".join(o.choices)])
    return rows
