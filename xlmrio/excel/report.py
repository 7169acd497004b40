"""Paper-style result sheets: a pure description (built first) and one writer (xlwings public API).

Commands build every :class:`ResultSheet` before touching the book; :func:`write_results` then writes
them all into temporary sheets and only swaps them in when every one was written, so a failed run
leaves the workbook as it was. Result sheets are marked as xlmrio's with a workbook name
``_xlmrio_<n>``; a rerun replaces only marked sheets, never a user's sheet of the same name.
"""
from __future__ import annotations

import datetime as _dt
import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import WorkbookError

MARK = "_xlmrio_"
MAX_SHEET_NAME = 31


# ---------------------------------------------------------------------- templates
def templates_dir() -> Path:
    """Folder of the workbook templates (installed as ``xlmrio.templates``, or ``workbook_templates/``)."""
    here = Path(__file__).resolve().parents[1]
    installed = here / "templates"  # a wheel installs workbook_templates/ as xlmrio/templates/
    return installed if (installed / "styles.json").exists() else here.parent / "workbook_templates"


@lru_cache(maxsize=None)
def template(name: str) -> dict:
    """A JSON template from ``workbook_templates/`` (``styles``, ``results``)."""
    path = templates_dir() / f"{name}.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise WorkbookError(f"template {path.name} is missing from the xlmrio installation") from None


def sheet_text(sheet: str, **fields: Any) -> dict:
    """Title, method line and notes of a result sheet with ``{fields}`` filled in."""
    spec = template("results").get(sheet, {"title": sheet, "method": "", "notes": []})

    class _Keep(dict):
        def __missing__(self, key):  # leave unknown placeholders visible rather than failing
            return "{" + key + "}"

    fmt = lambda s: s.format_map(_Keep(fields))  # noqa: E731
    return {"title": fmt(spec["title"]), "method": fmt(spec.get("method", "")),
            "notes": [fmt(n) for n in spec.get("notes", [])]}


def number_format(quantity: str) -> str:
    return template("styles")["formats"].get(quantity, "General")


# ---------------------------------------------------------------------- model
@dataclass
class Table:
    """One titled table on a result sheet.

    ``frame``'s index becomes the leading label column(s) (a MultiIndex gives several); a MultiIndex
    on the columns gives two header rows. ``formats`` maps column labels (or ``"*"``) to a quantity
    of ``styles.json`` (``"emissions"``, ``"share"`` …). ``highlight`` is a boolean frame of the same
    shape marking cells to emphasise (e.g. the top 3 per column).
    """

    title: str
    frame: pd.DataFrame
    formats: dict = field(default_factory=lambda: {"*": "money"})
    note: str = ""
    highlight: pd.DataFrame | None = None
    total_row: bool = False
    grid: list | None = None  # raw cells in xlmrio's input layout (two header rows), written as they are
    reading: str = ""  # one plain-language line telling the reader what the table shows


@dataclass
class Chart:
    """A native chart of a table's columns: ``kind`` in column_clustered, bar_clustered, column_stacked,
    bar_stacked, xy_scatter; ``x_title``/``y_title`` name the axes with their units."""

    title: str
    table: int
    columns: list
    kind: str = "column_clustered"
    x_column: Any = None  # xy_scatter: the column on the x axis
    max_rows: int = 40
    rows: list | None = None  # index labels to plot (default: the first max_rows rows)
    data: pd.DataFrame | None = None  # plot this frame instead of a table of the sheet
    height: float = 300.0
    x_title: str = ""  # category axis (bar/column) or x axis (scatter), with units
    y_title: str = ""  # value axis, with units
    plot_by: str | None = None  # "columns" (each column a series) or "rows"; None: Excel's own choice
    # plotted column -> (minus column, plus column) of the same frame: custom y error bars whose lengths
    # (below, above each point; the values' units, non-negative) are written beside the chart data
    error_bars: dict | None = None


@dataclass
class ResultSheet:
    """A complete result sheet, built before anything is written."""

    name: str
    command: str
    title: str
    subtitle: str
    tables: list[Table]
    notes: list[str] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    meta: str = ""
    kind: str = "result"  # tab colour and Contents group: "result", "diagnostics" or "table" (input layout)
    source: str = ""  # what the sheet was computed from, for the Contents sheet
    key_figures: list = field(default_factory=list)  # (label, value, unit) shown on the Contents sheet


def subtitle(method: str, *, satellite: str = "", unit: str = "", basis: str = "", source: str = "") -> str:
    parts = [method]
    if satellite:
        parts.append(f"satellite {satellite}" + (f" [{unit}]" if unit else ""))
    if basis:
        parts.append(f"basis: {basis}")
    if source:
        parts.append(f"source: {source}")
    return " · ".join(p for p in parts if p)


def meta_line(command: str) -> str:
    from .. import __version__

    return f"Generated by xlmrio {__version__} (command '{command}') on {_dt.date.today().isoformat()}"


# ---------------------------------------------------------------------- layout into cells
def _cell(v: Any) -> Any:
    if v is None:
        return None
    if isinstance(v, (np.floating, float)):
        return None if not np.isfinite(v) else float(v)
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.bool_, bool)):
        return "yes" if v else "no"
    if isinstance(v, tuple):
        return " | ".join(map(str, v))
    return v if isinstance(v, (int, str)) else str(v)


def _number_or_text(v: Any) -> Any:
    """A data cell: text that reads as a number ("1.77", "1e-06", "20") is written as that number, so it
    sorts, sums and takes the column's format; codes with a leading zero ("01") stay text."""
    if isinstance(v, str):
        s = v.strip()
        if s and not (len(s) > 1 and s[0] == "0" and s[1].isdigit()) and s.lower().lstrip("+-") not in (
                "nan", "inf", "infinity"):
            try:
                f = float(s)
            except ValueError:
                return v
            return int(f) if f.is_integer() and "." not in s and "e" not in s.lower() else f
    return v


def table_cells(t: Table) -> tuple[list[list[Any]], int, int]:
    """Cells of a table: (rows, header rows, label columns)."""
    df = t.frame
    nlab = df.index.nlevels
    if isinstance(df.columns, pd.MultiIndex):
        heads = [[*([None] * (nlab - 1)), str(df.columns.names[lvl] or "")] +
                 [str(c[lvl]) for c in df.columns] for lvl in range(df.columns.nlevels)]
        heads[-1][:nlab] = [str(n or "") for n in df.index.names]
    else:
        heads = [[str(n or "") for n in df.index.names] + [str(c) for c in df.columns]]
    rows = []
    for idx, vals in zip(df.index, df.itertuples(index=False, name=None)):
        lab = list(idx) if isinstance(idx, tuple) else [idx]
        rows.append([_cell(v) for v in lab] + [_number_or_text(_cell(v)) for v in vals])
    return heads + rows, len(heads), nlab


# ---------------------------------------------------------------------- writing
LINE_PT = 15.0  # default row height in points (Calibri 11)
PAGE_PT = {"A4": (842.0, 595.0), "letter": (792.0, 612.0)}  # landscape width, height in points
GLOSSARY = [
    ("A", "Technical coefficients A = Z x̂⁻¹: input from row region-sector per unit of output of the column"),
    ("L", "Leontief inverse L = (I − A)⁻¹: output in the row region-sector per unit of final demand of the column"),
    ("x, Z, Y, V", "Total output, intermediate flows, final demand and primary inputs (value added) of the table"),
    ("e, ι", "Direct emission intensity: emissions per unit of output (g / x)"),
    ("μ", "Emission multiplier μ' = e'L: emissions anywhere per unit of final demand for a product"),
    ("PBA", "Production-based account: emissions released in the region's own production"),
    ("CBA", "Consumption-based account (footprint): emissions anywhere driven by the region's final demand"),
    ("NEI", "Net embodied inflow: PBA − CBA on the stated basis; > 0 production-oriented, < 0 consumer-oriented"),
    ("T", "Driver matrix: emissions in the row region driven by final demand of the column region"),
    ("F", "Embodied-flow matrix F = ê (L − I) x̂: emissions of the row attributed to purchases of the column"),
    ("EXP, OTH", "Pseudo-regions: exports outside the table and the 'other' final-demand column"),
    ("ρ*", "Share of flows classified as inefficient (from a more to a less emission-intensive producer)"),
    ("RAS, GRAS", "Bi-proportional table updating (GRAS allows negative cells)"),
    ("ANAIS", "Updating by linear programming with any known totals, cells and bounds"),
    ("WAPE", "Weighted absolute percentage error: Σ|estimate − true| / Σ|true|, in %"),
    ("NC", "Net carbon transfer between two table years (Transfer & leakage)"),
]
PSEUDO_REGIONS = {"EXP": "Exports to final demand outside the table (pseudo-region)",
                  "OTH": "The 'other' final-demand column (pseudo-region)", "Total": "Sum over regions"}


def _is_openpyxl(sheet) -> bool:
    try:
        from openpyxl.worksheet.worksheet import Worksheet
    except ImportError:  # pragma: no cover - openpyxl is a dependency; Pyodide has it too
        return False
    return isinstance(getattr(sheet, "api", None), Worksheet)


def _style(rng, spec: dict) -> None:
    if spec.get("bold"):
        rng.font.bold = True
    if spec.get("italic"):
        rng.font.italic = True
    if "size" in spec:
        rng.font.size = spec["size"]
    if "color" in spec:
        rng.font.color = spec["color"]
    if "fill" in spec:
        rng.color = spec["fill"]


def column_format(quantity: str, values) -> str:
    """Number format of a column from its quantity (``styles.json``) and the magnitude of its values.

    Money and emissions get no decimals from 100 up and enough decimals for three significant digits
    below; coefficients keep their base format unless the column is large (≥ 1,000: no decimals) or
    tiny (typical value < 0.001: scientific), so every value stays readable.
    """
    base = number_format(quantity)
    if quantity not in ("money", "emissions", "coefficient", "multiplier", "intensity", "ratio"):
        return base
    a = np.abs(np.asarray([v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)], float))
    a = a[np.isfinite(a) & (a > 0)]
    if not a.size:
        return base
    big, typical = float(a.max()), float(np.median(a))
    if big >= 1000 or (big >= 100 and quantity in ("money", "emissions")):
        return "#,##0"
    if typical < 1e-3:
        return "0.00E+00"
    if quantity in ("money", "emissions"):
        d = int(min(4, max(1, 2 - np.floor(np.log10(typical)))))
        return "#,##0." + "0" * d
    return base


def _shown_width(v: Any, fmt: str) -> int:
    """Characters a value takes under an Excel number format (an estimate for column widths)."""
    if v is None:
        return 0
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return len(str(v))
    if "E" in fmt:
        return 9
    if fmt.endswith("%"):
        d = fmt.count("0") - 1
        return len(f"{v * 100:,.{max(d, 0)}f}%")
    d = len(fmt.split(".")[1].rstrip("%")) if "." in fmt else 0
    return len(f"{v:,.{d}f}")


def _lines(text: str, width_chars: float, size: float = 11.0) -> int:
    """Lines a wrapped text takes in a cell *width_chars* wide (word wrap, font *size*)."""
    per = max(4.0, width_chars * 11.0 / size * 1.1)
    n, cur = 1, 0.0
    for word in str(text).split():
        w = len(word) + (1 if cur else 0)
        if cur and cur + w > per:
            n, cur = n + 1, float(len(word))
        else:
            cur += w
    return n


def _bold_width(word: str) -> float:
    """Width of a word in a bold header, in Excel's character units (the width of a digit): capitals
    (region codes such as KOR+TWN) are about a third wider than a digit, and bold adds a tenth."""
    caps = sum(c.isupper() or c in "+&%@" for c in word)
    return (caps * 1.3 + (len(word) - caps)) * 1.1


def _plan_table(t: Table, st: dict) -> dict:
    """Cells, number formats and wanted column widths of a table (nothing written yet)."""
    cells, nh, nlab = table_cells(t)
    ncols = max(len(r) for r in cells)
    cells = [r + [None] * (ncols - len(r)) for r in cells]
    fmts: dict[int, str] = {}
    mixed: dict[tuple[int, int], str] = {}  # (row, col) -> format of a number in a text column
    for j, c in enumerate(t.frame.columns):
        q = t.formats.get(c, t.formats.get(c[-1] if isinstance(c, tuple) else None, t.formats.get("*")))
        if q and q != "text" and number_format(q) != "General":
            fmts[nlab + j] = column_format(q, t.frame.iloc[:, j].tolist())
        else:  # numbers among text (a 'value' column of a summary): each readable on its own
            for i in range(nh, len(cells)):
                v = cells[i][nlab + j]
                if isinstance(v, (int, float)) and not isinstance(v, bool) and v != 0:
                    # integers and large values without decimals, tiny ones by column_format, the rest with
                    # at most 4 decimals (1.7726, 3.1) instead of General's 15 digits
                    mixed[(i, nlab + j)] = "#,##0" if abs(v) >= 1000 or float(v).is_integer() else \
                        column_format("money", [v]) if abs(v) < 1e-3 else "#,##0.0###"
    cw = st["column_width"]
    widths, kinds = [], []
    for j in range(ncols):
        data = [cells[i][j] for i in range(nh, len(cells))]
        fmt = fmts.get(j, "General")
        dw = max((_shown_width(v, fmt) for v in data), default=0) + 1
        heads = [str(cells[i][j]) for i in range(nh) if cells[i][j] not in (None, "")]
        word = max((_bold_width(w) for h in heads for w in h.split()), default=0) + 1
        hw = max((len(h) for h in heads), default=0) + 1
        text = sum(isinstance(v, str) for v in data) > sum(isinstance(v, (int, float)) for v in data)
        # prose tables (a few text columns: methods, help) get wide columns instead of tall wrapped rows
        text_cap = cw.get("prose_max", 60) if ncols <= 4 else cw["text_max"]
        lo, cap = (cw["label"], cw["label_max"]) if j < nlab else (cw["label"], text_cap) if text else \
            (cw["number"], cw["number_max"])
        widths.append(min(cap, max(lo, dw, word, min(hw, max(dw, 10)))))
        kinds.append("label" if j < nlab else "text" if text else "number")
    return {"table": t, "cells": cells, "nh": nh, "nlab": nlab, "ncols": ncols, "fmts": fmts, "widths": widths,
            "mixed": mixed, "kinds": kinds}


def _stacked_widths(plans: list[dict], cw: dict) -> dict[int, float]:
    """Column widths of tables stacked in the same columns.

    A column takes the widest need of its tables, except that a text column of one table (e.g. sector
    names) does not widen the number columns of another beyond ``text_wrap`` characters: its text
    wraps instead.
    """
    need: dict[int, dict[str, float]] = {}
    for p in plans:
        for j, (w, k) in enumerate(zip(p["widths"], p["kinds"])):
            d = need.setdefault(j + 1, {})
            d[k] = max(d.get(k, 0), w)
    widths = {}
    for j, d in need.items():
        w = max(d.values())
        if "number" in d and "text" in d and "label" not in d and d["text"] > d["number"]:
            w = max(d["number"], min(d["text"], cw.get("text_wrap", 16)))
        widths[j] = w
    return widths


def _text_row(sheet, row: int, text: str, spec: dict, ncols: int, width_chars: float) -> float:
    """A line of text at *row*, merged across the printed columns and wrapped; returns its height (pt)."""
    cell = sheet.range((row, 1))
    cell.value = text
    _style(cell, spec)
    size = float(spec.get("size", 11))
    n = _lines(text, width_chars, size)
    h = max(LINE_PT, size * 1.35) * n if n > 1 else max(LINE_PT, size * 1.4)
    if n > 1 and ncols > 1:
        blk = sheet.range((row, 1), (row, ncols))
        blk.merge()
        blk.wrap_text = True
        blk.vertical_alignment = "top"
    if n > 1 or size > 11:
        sheet.range((row, 1)).row_height = h
    return h


def _write_sheet(sheet, rs: ResultSheet, progress=None) -> dict:
    """Write one result sheet; return where its tables and charts are (for the Contents sheet)."""
    st = template("styles")
    cw = st["column_width"]
    plans = [None if t.grid is not None else _plan_table(t, st) for t in rs.tables]
    widths = _stacked_widths([p for p in plans if p is not None], cw)
    grid_cols = max((max(len(r) for r in t.grid) for t in rs.tables if t.grid is not None), default=0)
    ncols = max([len(widths), grid_cols, 1])
    for j, w in widths.items():
        sheet.range((1, j)).column_width = w
    table_pt = sum(_points(widths.get(j, 8.43)) for j in range(1, max(len(widths), 1) + 1))
    chart_w = min(max(table_pt, 460.0), 720.0)
    while rs.charts and sum(_points(widths.get(j, 8.43)) for j in range(1, ncols + 1)) < chart_w + 10:
        ncols += 1
    text_w = sum(widths.get(j, 8.43) for j in range(1, ncols + 1)) if not grid_cols else 120.0
    heights: dict[int, float] = {}
    blocks: list[tuple[int, int, bool]] = []  # (first row, last row, keep on one page)
    heights[1] = _text_row(sheet, 1, rs.title, st["title"], ncols, text_w)
    heights[2] = _text_row(sheet, 2, rs.subtitle, st["subtitle"], ncols, text_w)
    heights[3] = _text_row(sheet, 3, rs.meta, st["meta"], ncols, text_w)
    blocks.append((1, 3, True))
    row = 5
    info = {"tables": [], "charts": [], "freeze": None, "header_rows": {}, "ncols": ncols, "grid": bool(grid_cols)}
    for t, p in zip(rs.tables, plans):
        top = row
        if t.grid is not None:
            row = write_layout_grid(sheet, row, t.title, t.grid) + 1
            info["tables"].append((f"Table in input layout ({t.title})" if t.title else "Table in input layout", top))
            info["freeze"] = info["freeze"] or (top + (3 if t.title is not None else 0), 2)
            info["header_rows"][top] = (top + (2 if t.title is not None else 0), top + (3 if t.title is not None else 1))
            blocks.append((top, row - 1, False))
            continue
        heights[row] = _text_row(sheet, row, t.title, st["table_title"], ncols, text_w)
        info["tables"].append((t.title, row))
        row += 1
        cells, nh, nlab, tc = p["cells"], p["nh"], p["nlab"], p["ncols"]
        sheet.range((row, 1)).value = cells
        head = sheet.range((row, 1), (row + nh - 1, tc))
        _style(head, st["header"])
        head.wrap_text = True
        head.vertical_alignment = "bottom"
        for j, kind in enumerate(p["kinds"]):  # a number column's header sits over its right-aligned numbers
            if kind == "number":
                sheet.range((row, j + 1), (row + nh - 1, j + 1)).horizontal_alignment = "right"
        for i in range(nh):
            n = max((_lines(str(v), widths[j + 1] - 1) for j, v in enumerate(cells[i]) if v not in (None, "")),
                    default=1)
            if n > 1:
                sheet.range((row + i, 1)).row_height = heights[row + i] = LINE_PT * n
        nrow = len(cells) - nh
        first = row + nh
        info["freeze"] = info["freeze"] or (first, nlab)
        info["header_rows"][top] = (row, first - 1)
        if nrow:
            for j, fmt in p["fmts"].items():
                sheet.range((first, j + 1), (first + nrow - 1, j + 1)).number_format = fmt
            for (i, j), fmt in p["mixed"].items():
                if fmt != "General":
                    sheet.range((row + i, j + 1)).number_format = fmt
            lines = [1] * nrow
            for j in range(tc):  # long text wraps in its column instead of being cut by the next one
                if any(isinstance(cells[i][j], str) and len(cells[i][j]) > widths[j + 1] - 1
                       for i in range(nh, len(cells))):
                    sheet.range((first, j + 1), (first + nrow - 1, j + 1)).wrap_text = True
                    for i in range(nrow):
                        if isinstance(cells[nh + i][j], str):
                            lines[i] = max(lines[i], _lines(cells[nh + i][j], widths[j + 1] - 1))
            for i, n in enumerate(lines):
                if n > 1:
                    sheet.range((first + i, 1)).row_height = heights[first + i] = LINE_PT * n
            if t.highlight is not None:
                hl = t.highlight.reindex(index=t.frame.index, columns=t.frame.columns).fillna(False).to_numpy(bool)
                for i, j in zip(*np.nonzero(hl)):
                    _style(sheet.range((first + i, nlab + j + 1)), st["highlight"])
            if t.total_row:
                _style(sheet.range((first + nrow - 1, 1), (first + nrow - 1, tc)), st["total"])
        row = first + nrow
        for text, spec in ((t.note, st["note"]), (t.reading, st.get("reading", st["note"]))):
            if text:
                heights[row] = _text_row(sheet, row, text, spec, ncols, text_w)
                row += 1
        # prose (text columns only: methods, help) may flow across pages; tables of numbers are kept whole
        blocks.append((top, row - 1, not all(k in ("label", "text") for k in p["kinds"])))
        row += 1
    if rs.notes:
        top = row
        heights[row] = _text_row(sheet, row, "Notes", st["table_title"], ncols, text_w)
        for k, n in enumerate(rs.notes):
            heights[row + 1 + k] = _text_row(sheet, row + 1 + k, f"{k + 1}. {n}", st["note"], ncols, text_w)
        blocks.append((top, row + len(rs.notes), True))
        row += len(rs.notes) + 2
    if rs.charts:
        row = _write_charts(sheet, rs, row, chart_w, blocks, info)
    info["last_row"] = blocks[-1][1]
    _print_setup(sheet, info, blocks, heights, widths)
    return info


def _print_setup(sheet, info: dict, blocks: list, heights: dict, widths: dict) -> None:
    """Freeze panes, print area, titles, fit to page width, page breaks between blocks, footer."""
    pr = template("styles")["print"]
    m = pr["margins"]
    pw, ph = PAGE_PT.get(pr["paper"], PAGE_PT["A4"])
    pw -= (m["left"] + m["right"]) * 72
    ph -= (m["top"] + m["bottom"]) * 72
    ncols, last = info["ncols"], info["last_row"]
    width = sum(_points(widths.get(j, 8.43)) for j in range(1, ncols + 1))
    if info["grid"]:
        width = sum(_points(w) for w in [16, 24] + [11] * (ncols - 2))
    scale = min(1.0, pw / width)
    overview = scale < pr["readable_scale"]
    title_rows = (1, 1)
    breaks: list[int] = []
    if not overview:
        cap = ph / scale * 0.97
        h = lambda r1, r2: sum(heights.get(r, LINE_PT) for r in range(r1, r2 + 1))  # noqa: E731
        used, tall = 0.0, None
        for k, (r1, r2, keep) in enumerate(blocks):
            hb = h(r1, r2) + LINE_PT
            if keep and used > cap * 0.15 and (hb <= cap or used > cap * 0.6) and used + hb > cap:
                breaks.append(r1)
                used = 0.0
            if hb > cap and r1 in info["header_rows"] and (tall is None or hb > tall[0]):
                tall = (hb, info["header_rows"][r1], k)
            used = (used + hb) % cap if hb > cap else used + hb
        # Excel and LibreOffice repeat one block of rows on every page after it: a long table's header
        # when only notes follow it, else the sheet's title line as a running head
        # (a table's header above the next table would mislead).
        starts = set(info["header_rows"]) | {r for _, r in info.get("charts", [])}
        later = [b for b in blocks[tall[2] + 1:] if b[0] in starts] if tall else []
        title_rows = tall[1] if tall and not later else (1, 1)
    note = ""
    if overview:
        # A table this wide is unreadable on paper (below the readable scale at one page wide, and
        # 10-40 pages at a readable one): the printed set holds its title lines and says so.
        note = (f"&A holds a table {ncols} columns wide, too wide to read on paper: only its title is printed. "
                "Read it on screen, or select a block and print the selection.")
        last, ncols = min(last, 3), min(ncols, 12)
    _page_setup(sheet, last, ncols, title_rows, breaks, overview, info["freeze"], note)


def _page_setup(sheet, last_row: int, ncols: int, title_rows, breaks: list[int], overview: bool, freeze,
                note: str = "") -> None:
    """Apply print and view settings through the openpyxl worksheet or Excel's object model."""
    pr = template("styles")["print"]
    m = pr["margins"]
    area = f"$A$1:${_col_letter(ncols)}${last_row}"
    if _is_openpyxl(sheet):
        from openpyxl.worksheet.pagebreak import Break, RowBreak

        ws = sheet.api
        ps = ws.page_setup
        ps.orientation = pr["orientation"]
        ps.paperSize = ws.PAPERSIZE_A4 if pr["paper"] == "A4" else ws.PAPERSIZE_LETTER
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ps.fitToWidth = 1
        ps.fitToHeight = 0
        ws.page_margins.left, ws.page_margins.right = m["left"], m["right"]
        ws.page_margins.top, ws.page_margins.bottom = m["top"], m["bottom"]
        ws.page_margins.header, ws.page_margins.footer = m["header"], m["footer"]
        ws.print_area = area
        if title_rows:
            ws.print_title_rows = f"{title_rows[0]}:{title_rows[1]}"
        ws.row_breaks = RowBreak()
        for r in breaks:
            ws.row_breaks.append(Break(id=r - 1))
        ws.oddFooter.center.text = pr["footer"]
        ws.oddFooter.center.size = 8
        if note:
            ws.oddHeader.center.text = note
            ws.oddHeader.center.size = 9
        if freeze:
            ws.freeze_panes = f"{_col_letter(freeze[1] + 1)}{freeze[0]}"
        return
    try:  # desktop Excel (COM on Windows); best effort elsewhere
        api = sheet.api
        ps = api.PageSetup
        ps.Orientation = 2  # xlLandscape
        ps.Zoom = False
        ps.FitToPagesWide = 1
        ps.FitToPagesTall = False
        ps.PrintArea = area
        if title_rows:
            ps.PrintTitleRows = f"${title_rows[0]}:${title_rows[1]}"
        ps.CenterFooter = pr["footer"]
        if note:
            ps.CenterHeader = note
        for r in breaks:
            api.HPageBreaks.Add(Before=api.Range(f"A{r}"))
    except Exception:  # noqa: BLE001 - macOS AppleScript objects differ; the sheet is still complete
        try:
            sheet.page_setup.print_area = area
        except Exception:  # noqa: BLE001
            pass
    if freeze:
        _freeze_excel(sheet, freeze)


def _freeze_excel(sheet, freeze) -> None:
    try:
        sheet.freeze_panes.freeze_at(sheet.range((freeze[0] - 1, max(freeze[1], 1))))
        return
    except Exception:  # noqa: BLE001 - xlwings has no freeze API on desktop Excel: use the window
        pass
    try:
        active = sheet.book.sheets.active
        sheet.activate()
        win = sheet.book.app.api.ActiveWindow
        win.FreezePanes = False
        win.SplitColumn, win.SplitRow = freeze[1], freeze[0] - 1
        win.FreezePanes = True
        active.activate()
    except Exception:  # noqa: BLE001 - frozen panes are a convenience
        pass


def _col_letter(c: int) -> str:
    s = ""
    while c:
        c, r = divmod(c - 1, 26)
        s = chr(65 + r) + s
    return s


def set_tab_color(sheet, kind: str) -> None:
    """Tab colour of a sheet by kind (``styles.json`` tab_colors: contents, result, diagnostics, table, input)."""
    color = template("styles")["tab_colors"].get(kind)
    if not color:
        return
    try:
        if _is_openpyxl(sheet):
            sheet.api.sheet_properties.tabColor = color.lstrip("#").upper()
        else:
            r, g, b = (int(color[i:i + 2], 16) for i in (1, 3, 5))
            sheet.api.Tab.Color = r + 256 * g + 65536 * b
    except Exception:  # noqa: BLE001 - a tab colour is a convenience
        pass


def print_setup(sheet, last_row: int, ncols: int, header_rows: tuple[int, int] | None = None,
                freeze: tuple[int, int] | None = None, widths: dict | None = None) -> None:
    """Page set-up of a sheet xlmrio writes outside :func:`write_results` (the demo's input sheets).

    ``freeze`` is (first scrolling row, label columns); ``header_rows`` repeat on every printed page.
    Sheets too wide to read at one page wide print only their title lines, with a page header saying
    so (see README, "Printing").
    """
    widths = widths or {j: sheet.range((1, j)).column_width or 8.43 for j in range(1, ncols + 1)}
    info = {"ncols": ncols, "last_row": last_row, "grid": False, "freeze": freeze,
            "header_rows": {1: header_rows} if header_rows else {}}
    _print_setup(sheet, info, [(1, last_row, False)], {}, widths)


def write_layout_grid(sheet, row: int, unit_line: str, grid: list) -> int:
    """Write a table in xlmrio's input layout at *row*: a ``Monetary unit`` line, then the grid.

    Returns the first row after the grid. The reader finds it again by its ``Region | Sector`` header.
    """
    st = template("styles")
    if unit_line is not None:
        sheet.range((row, 1)).value = [["Monetary unit", unit_line]]
        _style(sheet.range((row, 1)), st["table_title"])
        row += 2
    ncols = max(len(r) for r in grid)
    cells = [list(r) + [None] * (ncols - len(r)) for r in grid]
    sheet.range((row, 1)).value = cells
    _style(sheet.range((row, 1), (row + 1, ncols)), st["header"])
    _style(sheet.range((row + 2, 1), (row + len(cells) - 1, 2)), st["header"])
    if len(cells) > 2 and ncols > 2:
        sheet.range((row + 2, 3), (row + len(cells) - 1, ncols)).number_format = number_format("money")
    sheet.range((1, 1)).column_width = 16
    sheet.range((1, 2)).column_width = 24
    for j in range(3, ncols + 1):
        sheet.range((1, j)).column_width = 11
    return row + len(cells)


def _points(width_chars: float) -> float:
    """Excel column width (characters) -> points (7 px per character + 5 px padding, 0.75 pt per px)."""
    return (7.0 * width_chars + 5.0) * 0.75


def _chart_block(rs: ResultSheet, ch: Chart):
    df = ch.data if ch.data is not None else rs.tables[ch.table].frame
    cols = ([ch.x_column] if ch.kind == "xy_scatter" and ch.x_column is not None else []) + list(ch.columns)
    data = df.loc[list(ch.rows), cols] if ch.rows is not None else df[cols].head(ch.max_rows)
    labels = [" | ".join(map(str, i)) if isinstance(i, tuple) else str(i) for i in data.index]
    if ch.kind == "xy_scatter":
        block = [[str(c) for c in cols]] + [[_cell(v) for v in r] for r in data.itertuples(index=False, name=None)]
    else:
        block = [[df.index.name or ""] + [str(c) for c in cols]] + \
            [[lab] + [_cell(v) for v in r] for lab, r in zip(labels, data.itertuples(index=False, name=None))]
    return df, cols, data, block


def _unit_of(title: str) -> str:
    """The last parenthesised part of a title, e.g. 'kt' of 'PBA by region (kt)'."""
    if title.rstrip().endswith(")") and "(" in title:
        return title[title.rindex("(") + 1:title.rstrip().rindex(")")]
    return ""


def _axis_titles(rs: ResultSheet, ch: Chart, df, cols) -> tuple[str, str]:
    """Axis titles: the chart's own, else from the table (index name; the unit in the chart title)."""
    x, y = ch.x_title, ch.y_title
    if ch.kind == "xy_scatter":
        said = ch.title.split(" against ") if " against " in ch.title else None  # "y (unit) against x (unit)"
        x = x or (said[1] if said else str(ch.x_column or "x"))
        y = y or (said[0] if said else _unit_of(ch.title) or "value")
    else:
        x = x or str(df.index.name or "category")
        unit = _unit_of(ch.title)
        y = y or (str(cols[0]) if len(cols) == 1 else unit or "value")
    return x, y


def _write_charts(sheet, rs: ResultSheet, row: int, width: float, blocks: list, info: dict) -> int:
    """Charts below the notes, one under the other (each kept on one printed page), then the small
    'chart data' blocks they read (contiguous ranges, labels first) below the printed area."""
    starts = []
    for ch in rs.charts:
        nrows = int(np.ceil((ch.height + 12.0) / LINE_PT))
        starts.append(row)
        blocks.append((row, row + nrows - 1, True))
        row += nrows + 1
    data_row = row + 1
    sheet.range((data_row, 1)).value = "Chart data (read by the charts above; not printed)"
    _style(sheet.range((data_row, 1)), template("styles")["note"])
    data_row += 1
    for ch, top_row in zip(rs.charts, starts):
        df, cols, _, block = _chart_block(rs, ch)
        sheet.range((data_row, 1)).value = block
        rng = sheet.range((data_row, 1), (data_row + len(block) - 1, len(block[0])))
        bars = _write_error_bar_columns(sheet, ch, df, cols, block, data_row)
        values = [v for r in block[1:] for v in r[1:] if isinstance(v, (int, float))]
        fmt = column_format("emissions", values)
        if len(block) > 1 and len(block[0]) > 1:
            sheet.range((data_row + 1, 2), (data_row + len(block) - 1, len(block[0]))).number_format = fmt
        top = sheet.range((top_row, 1)).top
        kind = ch.kind
        if kind.endswith("_clustered") and len(cols) > 4 and len(cols) * (len(block) - 1) > 40:
            kind = kind.replace("_clustered", "_stacked")  # dozens of thin clustered bars cannot be read
        chart = sheet.charts.add(left=4.0, top=top + 4.0, width=width, height=ch.height)
        chart.chart_type = kind
        chart.set_source_data(rng)
        if ch.plot_by:
            _set_plot_by(chart, ch.plot_by)
        for k, (minus, plus) in bars.items():
            _set_error_bars(chart, k, minus, plus)
        x_title, y_title = _axis_titles(rs, ch, df, cols)
        axis_fmt = "#,##0" if values and max(abs(v) for v in values) >= 100 else "General"
        look = {"x_title": x_title, "y_title": y_title, "value_format": axis_fmt,
                "palette": [c.lstrip("#") for c in template("styles")["palette"]],
                "label_points": ch.kind == "xy_scatter", "legend": len(cols) - (ch.kind == "xy_scatter") > 1
                and ch.kind != "xy_scatter"}
        if ch.kind == "xy_scatter":
            xs = [r[0] for r in block[1:] if isinstance(r[0], (int, float))]
            look["x_format"] = "General" if not xs or max(abs(v) for v in xs) < 100 else "#,##0"
        _format_chart(chart, ch.title, look)
        info["charts"].append((ch.title, top_row))
        data_row += len(block) + 1
    return row


def _write_error_bar_columns(sheet, ch: Chart, df, cols, block: list, data_row: int) -> dict:
    """The lengths of a chart's error bars, written right of its data block (outside the range the chart
    plots): one (minus, plus) pair of columns per plotted column. Returns {series number: (minus, plus)}."""
    if not ch.error_bars or ch.kind == "xy_scatter":
        return {}
    rows = list(ch.rows) if ch.rows is not None else list(df.index[:ch.max_rows])
    n = len(block) - 1
    col = len(block[0]) + 1
    bars = {}
    for k, c in enumerate(cols, start=1):
        if c not in ch.error_bars:
            continue
        for m in ch.error_bars[c]:
            sheet.range((data_row, col)).value = [[str(m)]] + [[_cell(v)] for v in df.loc[rows, m]]
            col += 1
        minus = sheet.range((data_row + 1, col - 2), (data_row + n, col - 2))
        plus = sheet.range((data_row + 1, col - 1), (data_row + n, col - 1))
        sheet.range((data_row + 1, col - 2), (data_row + n, col - 1)).number_format = \
            column_format("emissions", [v for r in block[1:] for v in r[1:] if isinstance(v, (int, float))])
        bars[k] = (minus, plus)
    return bars


def _set_error_bars(chart, series: int, minus, plus) -> None:
    """Custom y error bars on one series: xlmrio's openpyxl engine, else Excel's object model."""
    impl = getattr(chart, "impl", chart)
    if hasattr(impl, "set_error_bars"):  # xlmrio's openpyxl engine, behind xlwings' Chart
        impl.set_error_bars(series, getattr(minus, "impl", minus), getattr(plus, "impl", plus))
        return
    try:  # desktop Excel (COM): xlY = 1, xlErrorBarIncludeBoth = 1, xlErrorBarTypeCustom = -4114
        chart.api[1].SeriesCollection(series).ErrorBar(Direction=1, Include=1, Type=-4114, Amount=plus.api,
                                                       MinusValues=minus.api)
    except Exception:  # noqa: BLE001 - macOS or an older Excel: the bars' lengths are in the chart data
        pass


def _format_chart(chart, title: str, look: dict) -> None:
    """Title, axis titles, tick-label formats, palette, point labels: on the openpyxl engine's chart
    recipe, or through Excel's object model."""
    spec = getattr(chart.api, "_xlmrio", None) if not isinstance(chart.api, tuple) else None
    if isinstance(spec, dict):
        spec["look"] = look
        chart.title = title  # rebuilds the chart from its recipe
        return
    _set_chart_title(chart, title)
    try:  # desktop Excel (COM)
        c = chart.api[1]
        for k, (axis, text) in enumerate(((1, look["x_title"]), (2, look["y_title"]))):
            ax = c.Axes(axis)
            ax.HasTitle = True
            ax.AxisTitle.Text = text
        c.Axes(2).TickLabels.NumberFormat = look["value_format"]
        if look.get("x_format"):
            c.Axes(1).TickLabels.NumberFormat = look["x_format"]
            c.Axes(1).TickLabelPosition = -4134
        else:
            c.Axes(1).TickLabelSpacing = 1
            c.Axes(1).TickLabelPosition = -4134  # xlTickLabelPositionLow: clear of negative bars
        for i in range(1, c.SeriesCollection().Count + 1):
            s = c.SeriesCollection(i)
            rgb = look["palette"][(i - 1) % len(look["palette"])]
            r, g, b = (int(rgb[k:k + 2], 16) for k in (0, 2, 4))
            s.Format.Fill.ForeColor.RGB = r + 256 * g + 65536 * b
            if look["label_points"]:
                s.HasDataLabels = True
                s.DataLabels().ShowSeriesName = True
                s.DataLabels().ShowValue = False
        c.HasLegend = bool(look["legend"])
    except Exception:  # noqa: BLE001 - macOS or an older Excel: the chart itself is complete
        pass


def _set_plot_by(chart, plot_by: str) -> None:
    try:
        chart.plot_by = plot_by  # xlmrio's openpyxl engine
    except Exception:  # noqa: BLE001 - desktop Excel: PlotBy xlColumns = 2, xlRows = 1
        try:
            chart.api[1].PlotBy = 2 if plot_by == "columns" else 1
        except Exception:  # noqa: BLE001 - Excel's own choice is still a chart
            pass


def _set_chart_title(chart, title: str) -> None:
    try:
        chart.title = title  # xlmrio's openpyxl engine
    except Exception:  # noqa: BLE001 - desktop Excel: only through the COM/AppleScript object
        try:
            chart.api[1].HasTitle = True
            chart.api[1].ChartTitle.Text = title
        except Exception:  # noqa: BLE001 - a chart without title is still useful
            pass


def _safe_name(name: str) -> str:
    for ch in '[]:*?/\\':
        name = name.replace(ch, "-")
    return name[:MAX_SHEET_NAME]


def _marked(book) -> dict[str, str]:
    """Sheet name -> workbook name of the sheets marked as xlmrio results."""
    out = {}
    for nm in list(book.names):
        try:
            if nm.name.startswith(MARK) or nm.name.split("!")[-1].startswith(MARK):
                out[nm.refers_to_range.sheet.name] = nm.name
        except Exception:  # noqa: BLE001 - a stale name (#REF!) is not ours to judge
            continue
    return out


def _free_name(wanted: str, taken, replaceable) -> str:
    name = _safe_name(wanted)
    k = 2
    while name in taken and name not in replaceable:
        suffix = f" ({k})"        # the suffix always survives the 31-character limit
        name = _safe_name(wanted)[:MAX_SHEET_NAME - len(suffix)] + suffix
        k += 1
    return name


def write_results(book, sheets: list[ResultSheet], progress=None, keep=()) -> list[str]:
    """Write result sheets completely or not at all; return the final sheet names.

    Existing result sheets of the same name that xlmrio made are replaced in place (same tab
    position); a user's sheet of the same name — or any sheet named in *keep*, e.g. the sheets the
    command has just read, even if an earlier run made them — is kept and the result goes to
    ``"<name> (2)"`` etc. The ``Contents`` sheet (first tab, also marked as xlmrio's) is rewritten
    with the new sheets in the same all-or-nothing step.
    """
    existing = [s.name for s in book.sheets]
    all_marked = _marked(book)
    old_contents = next((s for s, n in all_marked.items() if n == CONTENTS_MARK), None)
    marked = {k: v for k, v in all_marked.items() if k not in set(keep) and v != CONTENTS_MARK}
    targets: list[str] = []
    for rs in sheets:
        name = _free_name(rs.name, set(existing) | set(targets), set(marked) - set(targets))
        targets.append(name)
    entries = _read_contents(book, old_contents)
    temps = []
    try:
        last = book.sheets[len(book.sheets) - 1]
        for i, rs in enumerate(sheets):
            if targets[i] in marked:       # a rerun: the new sheet takes the old one's place
                tmp = book.sheets.add(f"~xlmrio{i}", before=book.sheets[targets[i]])
            else:
                tmp = book.sheets.add(f"~xlmrio{i}", after=last)
                last = tmp
            temps.append(tmp)
            if progress:
                progress(f"writing sheet '{targets[i]}'")
            where = _write_sheet(tmp, rs, progress)
            if rs.kind == "result" and rs.tables and all(t.grid is not None for t in rs.tables):
                rs.kind = "table"  # a table in input layout (aggregate, update): green tab, own Contents group
            set_tab_color(tmp, rs.kind)
            entries[targets[i]] = _entry(targets[i], rs, where)
        # the final tab order, then the Contents sheet that lists it
        replaced = set(targets) & set(marked)
        order, tmp_names = [], {t.name: n for t, n in zip(temps, targets)}
        for s in book.sheets:
            if s.name in tmp_names:
                order.append(tmp_names[s.name])
            elif s.name not in replaced and s.name != old_contents:
                order.append(s.name)
        contents_name = _free_name(CONTENTS, set(order), set())
        tmp = book.sheets.add("~xlmrio_contents", before=book.sheets[0])
        temps.append(tmp)
        if progress:
            progress(f"writing sheet '{contents_name}'")
        ours = set(marked) | set(targets)
        _write_contents(tmp, [n for n in order if n in ours], [n for n in order if n not in ours], entries)
        set_tab_color(tmp, "contents")
    except Exception:
        for tmp in temps:
            try:
                tmp.delete()
            except Exception:  # noqa: BLE001
                pass
        raise
    # every sheet is written: swap them in
    for name in targets + ([old_contents] if old_contents else []):
        if name in marked or name == old_contents:
            try:
                book.names[all_marked[name]].delete()
            except Exception:  # noqa: BLE001
                pass
            book.sheets[name].delete()
    used = {nm.name for nm in book.names}
    for tmp, name in zip(temps, targets):
        tmp.name = name
        k = 1
        while f"{MARK}{k}" in used:
            k += 1
        used.add(f"{MARK}{k}")
        book.names.add(f"{MARK}{k}", f"='{name}'!$A$1")
    temps[-1].name = contents_name
    book.names.add(CONTENTS_MARK, f"='{contents_name}'!$A$1")
    return targets


# ---------------------------------------------------------------------- contents sheet
CONTENTS = "Contents"
CONTENTS_MARK = MARK + "contents"
_STORE_COL = 26  # hidden column Z of the Contents sheet: one JSON record per listed sheet


def _codes(frames) -> tuple[list[str], list[str]]:
    """Region and sector labels found in index or column levels named like 'region' / 'sector'
    (a level named like 'sector group' gives groups, listed as ``"group: <group>"``)."""
    regions, sectors = [], []
    for df in frames:
        for idx in (df.index, df.columns):
            for lvl, nm in enumerate(idx.names):
                nm = str(nm or "").lower()
                dest = regions if "region" in nm else sectors if "sector" in nm else None
                if dest is None:
                    continue
                for v in idx.get_level_values(lvl).unique():
                    if not isinstance(v, str) or v.startswith("Total"):
                        continue
                    v = f"group: {v}" if "group" in nm and "region" not in nm else v
                    if v not in dest:
                        dest.append(v)
    return regions, sectors


def _entry(name: str, rs: ResultSheet, where: dict) -> dict:
    regions, sectors = _codes([t.frame for t in rs.tables if t.grid is None])
    kf = []
    for f in rs.key_figures:
        label, value, unit = (list(f) + ["", "", ""])[:3]
        kf.append([str(label), _cell(value), str(unit or "")])
    source = rs.source or next((p.split(":", 1)[1].strip() for p in rs.subtitle.split(" · ")
                                if p.startswith("source:")), "")
    return {"sheet": name, "kind": rs.kind, "command": rs.command, "title": rs.title, "source": source,
            "time": _dt.datetime.now().strftime("%Y-%m-%d %H:%M"), "tables": where["tables"],
            "charts": where["charts"], "key_figures": kf, "regions": regions, "sectors": sectors}


def _read_contents(book, sheet_name: str | None) -> dict[str, dict]:
    """The records of an earlier Contents sheet (hidden column), by sheet name."""
    if not sheet_name:
        return {}
    try:
        sh = book.sheets[sheet_name]
        last = sh.used_range.last_cell.row
        vals = sh.range((1, _STORE_COL), (max(last, 1), _STORE_COL)).options(ndim=1).value
    except Exception:  # noqa: BLE001 - an unreadable old Contents is rebuilt from the sheets
        return {}
    out = {}
    for v in vals or []:
        if isinstance(v, str) and v.startswith("{"):
            try:
                rec = json.loads(v)
                out[rec["sheet"]] = rec
            except (ValueError, KeyError):
                continue
    return out


def _link(sheet, row: int, col: int, target_sheet: str, cell: str, text: str) -> None:
    """An internal hyperlink ``#'Sheet'!A1`` in both engines."""
    address = f"'{target_sheet}'!{cell}"
    if _is_openpyxl(sheet):
        from openpyxl.worksheet.hyperlink import Hyperlink

        c = sheet.api.cell(row=row, column=col)
        c.value = text
        c.hyperlink = Hyperlink(ref=c.coordinate, location=address, display=text)
        c.style = "Hyperlink" if "Hyperlink" in sheet.api.parent.style_names else c.style
        sheet.range((row, col)).font.color = template("styles")["link"]["color"]
        return
    sheet.range((row, col)).add_hyperlink(f"#{address}", text)


@lru_cache(maxsize=1)
def _code_descriptions() -> tuple[dict, dict]:
    """What the demo's region and sector codes contain (from the bundled dataset's concordances)."""
    import csv

    base = Path(__file__).resolve().parents[1] / "datasets" / "data"
    regions, sectors = dict(PSEUDO_REGIONS), {}
    try:
        with open(base / "demo_regions.csv", encoding="utf-8") as fh:
            for r in csv.DictReader(fh):
                members = r["wiod2013_members"]
                regions[r["region"]] = r["name"] + ("" if members in (r["region"],) else f" — WIOD {members}")
        with open(base / "demo_sectors.csv", encoding="utf-8") as fh:
            for r in csv.DictReader(fh):
                sectors[r["sector"]] = f"WIOD 2013 industries {r['wiod2013_industries']}; JRC {r['jrc56_industries']}"
    except (OSError, KeyError):
        pass
    return regions, sectors


def _write_contents(sheet, ours: list[str], others: list[str], entries: dict) -> None:
    st = template("styles")
    for j, w in enumerate((36, 62, 12, 17, 40), start=1):
        sheet.range((1, j)).column_width = w
    ncols, text_w = 5, 36 + 62 + 12 + 17 + 40
    heights = {1: _text_row(sheet, 1, "Contents", st["title"], ncols, text_w)}
    heights[2] = _text_row(sheet, 2, "Sheets written by xlmrio, in tab order; click a name or a table to go there. "
                           "Kept up to date by every command; tab colours: blue results, orange diagnostics, "
                           "green tables in input layout, grey inputs.", st["subtitle"], ncols, text_w)
    row, blocks, store = 4, [(1, 2, True)], []
    groups = [("result", "Results"), ("diagnostics", "Diagnostics"), ("table", "Tables in input layout")]
    for kind, label in groups:
        names = [n for n in ours if entries.get(n, {"kind": "result"}).get("kind", "result") == kind]
        if not names:
            continue
        top = row
        heights[row] = _text_row(sheet, row, label, st["table_title"], ncols, text_w)
        sheet.range((row + 1, 1)).value = [["Sheet / table", "What it shows", "Command", "Written", "Source"]]
        _style(sheet.range((row + 1, 1), (row + 1, 5)), st["header"])
        row += 2
        for n in names:
            e = entries.get(n) or {"sheet": n, "title": "", "command": "", "time": "", "source": "", "tables": [],
                                   "charts": [], "key_figures": []}
            _link(sheet, row, 1, n, "A1", n)
            sheet.range((row, 2)).value = [[e.get("title", ""), e.get("command", ""), e.get("time", ""),
                                            e.get("source", "")]]
            sheet.range((row, 1)).font.bold = True
            sheet.range((row, 1), (row, 5)).vertical_alignment = "top"
            sheet.range((row, 2)).wrap_text = True
            sheet.range((row, 5)).wrap_text = True
            n_lines = max(_lines(e.get("title", ""), 61), _lines(e.get("source", ""), 39))
            if n_lines > 1:
                sheet.range((row, 1)).row_height = heights[row] = LINE_PT * n_lines
            store.append((row, e))
            row += 1
            for title, r in e.get("tables", []):
                _link(sheet, row, 2, n, f"A{r}", title)
                row += 1
            for title, r in e.get("charts", []):
                _link(sheet, row, 2, n, f"A{r}", f"Figure: {title}")
                row += 1
        blocks.append((top, row - 1, False))
        row += 1
    figures = [(e["sheet"], *f) for n in ours for e in [entries.get(n, {})] for f in e.get("key_figures", [])]
    if figures:
        top = row
        heights[row] = _text_row(sheet, row, "Key figures", st["table_title"], ncols, text_w)
        sheet.range((row + 1, 1)).value = [["Sheet", "Figure", "Value", "Unit"]]
        _style(sheet.range((row + 1, 1), (row + 1, 4)), st["header"])
        row += 2
        for sh, label, value, unit in figures:
            _link(sheet, row, 1, sh, "A1", sh)
            sheet.range((row, 2)).value = [[label, value, unit]]
            if isinstance(value, (int, float)):
                sheet.range((row, 3)).number_format = column_format("emissions", [value])
            row += 1
        blocks.append((top, row - 1, True))
        row += 1
    if others:
        top = row
        heights[row] = _text_row(sheet, row, "Input and other sheets (not written by xlmrio)", st["table_title"],
                                 ncols, text_w)
        row += 1
        for n in others:
            _link(sheet, row, 1, n, "A1", n)
            row += 1
        blocks.append((top, row - 1, True))
        row += 1
    top = row
    heights[row] = _text_row(sheet, row, "Glossary", st["table_title"], ncols, text_w)
    sheet.range((row + 1, 1)).value = [[term, text] for term, text in GLOSSARY]
    sheet.range((row + 1, 1), (row + len(GLOSSARY), 1)).font.bold = True
    row += len(GLOSSARY) + 2
    blocks.append((top, row - 2, True))
    regions = [c for n in ours for c in entries.get(n, {}).get("regions", [])]
    sectors = [c for n in ours for c in entries.get(n, {}).get("sectors", [])]
    rdesc, sdesc = _code_descriptions()
    for label, codes, desc in (("Regions", regions, rdesc), ("Sectors", sectors, sdesc)):
        codes = list(dict.fromkeys(codes))
        if not codes:
            continue
        top = row
        heights[row] = _text_row(sheet, row, f"{label}: codes used in the results", st["table_title"], ncols, text_w)
        sheet.range((row + 1, 1)).value = [["Code", "What it contains"]]
        _style(sheet.range((row + 1, 1), (row + 1, 2)), st["header"])
        for i, c in enumerate(codes):
            text = desc.get(c) or ("a group of the sector concordance named in the Settings" if c.startswith("group: ")
                                   else "as labelled in the input table")
            sheet.range((row + 2 + i, 1)).value = [[c, text]]
            n = _lines(text, 61)
            if n > 1:
                blk = sheet.range((row + 2 + i, 2), (row + 2 + i, 5))
                blk.merge()
                blk.wrap_text = True
                blk.vertical_alignment = "top"
                sheet.range((row + 2 + i, 1)).row_height = heights[row + 2 + i] = LINE_PT * _lines(text, 135)
        row += len(codes) + 3
        blocks.append((top, row - 2, True))
    for r, e in store:
        sheet.range((r, _STORE_COL)).value = json.dumps(e, ensure_ascii=False)
    try:
        if _is_openpyxl(sheet):
            sheet.api.column_dimensions[_col_letter(_STORE_COL)].hidden = True
        else:
            sheet.range((1, _STORE_COL)).api.EntireColumn.Hidden = True
    except Exception:  # noqa: BLE001
        pass
    info = {"ncols": ncols, "last_row": blocks[-1][1], "grid": False, "freeze": (4, 0), "header_rows": {}}
    _print_setup(sheet, info, blocks, heights, {1: 36, 2: 62, 3: 12, 4: 17, 5: 40})
