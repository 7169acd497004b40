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
        rows.append([_cell(v) for v in lab] + [_cell(v) for v in vals])
    return heads + rows, len(heads), nlab


# ---------------------------------------------------------------------- writing
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


def _write_sheet(sheet, rs: ResultSheet, progress=None) -> None:
    st = template("styles")
    sheet["A1"].value = rs.title
    _style(sheet["A1"], st["title"])
    sheet["A2"].value = rs.subtitle
    _style(sheet["A2"], st["subtitle"])
    sheet["A3"].value = rs.meta
    _style(sheet["A3"], st["meta"])
    row = 5
    anchors: list[tuple[int, int, int, int, int]] = []  # (first data row, header rows, label cols, nrows, ncols)
    widths: dict[int, int] = {}
    for t in rs.tables:
        if t.grid is not None:
            row = write_layout_grid(sheet, row, t.title, t.grid) + 1
            continue
        sheet.range((row, 1)).value = t.title
        _style(sheet.range((row, 1)), st["table_title"])
        row += 1
        cells, nh, nlab = table_cells(t)
        ncols = max(len(r) for r in cells)
        cells = [r + [None] * (ncols - len(r)) for r in cells]
        sheet.range((row, 1)).value = cells
        _style(sheet.range((row, 1), (row + nh - 1, ncols)), st["header"])
        nrow = len(cells) - nh
        first = row + nh
        if nrow:
            cols = list(t.frame.columns)
            for j, c in enumerate(cols):
                q = t.formats.get(c, t.formats.get(c[-1] if isinstance(c, tuple) else None, t.formats.get("*")))
                if q and q != "text":
                    sheet.range((first, nlab + j + 1), (first + nrow - 1, nlab + j + 1)).number_format = number_format(q)
            if t.highlight is not None:
                hl = t.highlight.reindex(index=t.frame.index, columns=t.frame.columns).fillna(False).to_numpy(bool)
                for i, j in zip(*np.nonzero(hl)):
                    _style(sheet.range((first + i, nlab + j + 1)), st["highlight"])
            if t.total_row:
                _style(sheet.range((first + nrow - 1, 1), (first + nrow - 1, ncols)), st["total"])
        for j in range(ncols):
            vals = [r[j] for r in cells]
            w = max((len(f"{v:,.1f}") if isinstance(v, float) else min(len(str(v)), 40) for v in vals
                     if v is not None), default=4)
            widths[j + 1] = max(widths.get(j + 1, 0), min(w + 2, st["column_width"]["max"]))
        anchors.append((first, nh, nlab, nrow, ncols))
        row = first + nrow
        if t.note:
            sheet.range((row, 1)).value = t.note
            _style(sheet.range((row, 1)), st["note"])
            row += 1
        row += 1
    if rs.notes:
        sheet.range((row, 1)).value = "Notes"
        _style(sheet.range((row, 1)), st["table_title"])
        for k, n in enumerate(rs.notes):
            sheet.range((row + 1 + k, 1)).value = f"{k + 1}. {n}"
            _style(sheet.range((row + 1 + k, 1)), st["note"])
        row += len(rs.notes) + 2
    for j, w in widths.items():
        lo = st["column_width"]["label"] if j == 1 else st["column_width"]["number"]
        sheet.range((1, j)).column_width = max(lo if j > 1 else min(w, 24), min(w, 24) if j == 1 else w)
    if rs.charts:
        # right of the tables that share rows with the charts (15 pt per row)
        span = (60.0 + sum(c.height + 20.0 for c in rs.charts)) / 15.0
        beside = [a[4] for a in anchors if a[0] - a[1] - 1 <= span] or [1]
        left = sum(_points(widths.get(j, 8.43)) for j in range(1, max(beside) + 1)) + 20.0
        _write_charts(sheet, rs, row, left)


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


def _write_charts(sheet, rs: ResultSheet, row: int, left: float) -> None:
    """Charts to the right of the tables, read from small 'chart data' blocks below the notes
    (contiguous ranges, labels first)."""
    sheet.range((row, 1)).value = "Chart data"
    _style(sheet.range((row, 1)), template("styles")["table_title"])
    row += 1
    top = 60.0
    for ch in rs.charts:
        df = ch.data if ch.data is not None else rs.tables[ch.table].frame
        cols = ([ch.x_column] if ch.kind == "xy_scatter" and ch.x_column is not None else []) + list(ch.columns)
        data = df.loc[list(ch.rows), cols] if ch.rows is not None else df[cols].head(ch.max_rows)
        labels = [" | ".join(map(str, i)) if isinstance(i, tuple) else str(i) for i in data.index]
        head = [[df.index.name or ""] + [str(c) for c in cols]] if ch.kind != "xy_scatter" else [[str(c) for c in cols]]
        body = [[lab] + [_cell(v) for v in r] for lab, r in zip(labels, data.itertuples(index=False, name=None))] \
            if ch.kind != "xy_scatter" else [[_cell(v) for v in r] for r in data.itertuples(index=False, name=None)]
        block = head + body
        sheet.range((row, 1)).value = block
        rng = sheet.range((row, 1), (row + len(block) - 1, len(block[0])))
        if len(block) > 1 and len(block[0]) > 1:
            sheet.range((row + 1, 2), (row + len(block) - 1, len(block[0]))).number_format = number_format("money")
        chart = sheet.charts.add(left=left, top=top, width=480, height=ch.height)
        chart.chart_type = ch.kind
        chart.set_source_data(rng)
        if ch.plot_by:
            _set_plot_by(chart, ch.plot_by)
        _set_chart_title(chart, ch.title)
        top += ch.height + 20.0
        row += len(block) + 1


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


def write_results(book, sheets: list[ResultSheet], progress=None, keep=()) -> list[str]:
    """Write result sheets completely or not at all; return the final sheet names.

    Existing result sheets of the same name that xlmrio made are replaced in place (same tab
    position); a user's sheet of the same name — or any sheet named in *keep*, e.g. the sheets the
    command has just read, even if an earlier run made them — is kept and the result goes to
    ``"<name> (2)"`` etc.
    """
    existing = [s.name for s in book.sheets]
    marked = {k: v for k, v in _marked(book).items() if k not in set(keep)}
    targets = []
    for rs in sheets:
        name = _safe_name(rs.name)
        k = 2
        while (name in existing and name not in marked) or name in targets:
            suffix = f" ({k})"        # the suffix always survives the 31-character limit
            name = _safe_name(rs.name)[:MAX_SHEET_NAME - len(suffix)] + suffix
            k += 1
        targets.append(name)
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
            _write_sheet(tmp, rs, progress)
    except Exception:
        for tmp in temps:
            try:
                tmp.delete()
            except Exception:  # noqa: BLE001
                pass
        raise
    # every sheet is written: swap them in
    for name in targets:
        if name in marked:
            try:
                book.names[marked[name]].delete()
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
    return targets
