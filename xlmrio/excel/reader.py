"""Find and read MRIO tables in a workbook (xlwings public API only), in one pass.

Reading a table is three named steps, each in :mod:`.layout`: :func:`~.layout.locate_table` finds
the ``Region | Sector`` header and every block's place and labels; :func:`~.layout.read_blocks`
reads the numbers with cell-precise checks; the satellites are read against those blocks and
:func:`~.layout.build_table` builds the :class:`MRIOTable` once, with them. :func:`read_table` runs
the steps for a sheet, a range or a table file.

The table comes from, in this order: a table file named in the settings (CSV, Parquet, xlsx), the
``table`` option (a sheet name or a defined name), the selected sheet, or the first sheet that holds a
table. Satellites come from the ``satellites_sheet`` option, else ``"<table sheet> satellites"``, else
a sheet called ``Satellites``.

Every problem is an error at its cell, except for the Validate command (``collect=True``): it gets
every problem it can read past as a finding (:class:`~.layout.CellFinding`), and only a table that
cannot be read at all (no header, labels out of order ...) raises.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.table import MRIOTable
from ..errors import WorkbookError
from .layout import (CellFinding, Grid, Problems, TableLayout, address, build_table, find_anchor,
                     read_satellite_grid, read_table_blocks)
from .report import MARK
from .settings import option_error

SKIP_SHEETS = {"settings", "constraints", "concordance"}


class _Probe:
    """Formula and merge look-ups for single cells, only when the reader needs them."""

    def __init__(self, sheet, row0: int, col0: int):
        self.sheet, self.row0, self.col0 = sheet, row0, col0

    def _rng(self, i: int, j: int):
        return self.sheet.range((self.row0 + i, self.col0 + j))

    def formula(self, i: int, j: int) -> str | None:
        try:
            f = self._rng(i, j).formula
        except Exception:  # noqa: BLE001 - engines without formulas
            return None
        return f if isinstance(f, str) and f.startswith("=") else None

    def is_merged(self, i: int, j: int) -> bool:
        try:
            return bool(self._rng(i, j).merge_cells)
        except Exception:  # noqa: BLE001
            return False


def range_grid(rng) -> Grid:
    """Grid of an xlwings range (values as xlwings returns them; empty cells None)."""
    values = rng.options(ndim=2, err_to_str=True).value or [[]]
    return Grid(rng.sheet.name, [list(r) for r in values], rng.row, rng.column,
                probe=_Probe(rng.sheet, rng.row, rng.column))


def sheet_grid(sheet) -> Grid:
    """Grid of a sheet's used range."""
    used = sheet.used_range
    return range_grid(used)


def _monetary_unit(grid: Grid) -> str:
    anchor = find_anchor(grid, "Region", "Sector") or (min(grid.nrows, 12), 0)
    for i in range(anchor[0]):
        for j, v in enumerate(grid.values[i][:8]):
            if isinstance(v, str) and v.strip().lower().rstrip(":") in ("monetary unit", "unit", "currency"):
                u = grid.get(i, j + 1)
                if u not in (None, ""):
                    return str(u).strip()
    return ""


def _detect(grid: Grid, layout: str) -> str:
    if layout != "auto":
        return layout
    if find_anchor(Grid(grid.sheet, [r[:15] for r in grid.values[:15]]), "Region", "Sector") is not None:
        return "xlmrio"
    try:
        from .layouts_foreign import detect_layout
    except ImportError:  # pragma: no cover - foreign layouts not installed
        return "xlmrio"
    return detect_layout(grid)


@dataclass
class Source:
    """A table as read, and where from (shown in result subtitles).

    ``findings`` lists the problems read past (Validate's collect mode only; each bad cell was read
    as 0); ``layout`` is where the blocks are on ``sheet`` (xlmrio's layout only).
    """

    table: MRIOTable
    description: str
    sheet: str | None
    findings: list[CellFinding] = field(default_factory=list)
    layout: TableLayout | None = None


def read_source(grid: Grid, settings: dict, *, book=None, name: str, satellites_for: str | None,
                description: str, sheet: str | None, problems: Problems | None = None) -> Source:
    """The one pass over a table's grid: locate and read the blocks, read the satellites (from the
    sheet that goes with *satellites_for*) against them, and build the table once."""
    problems = problems or Problems()
    layout = _detect(grid, settings.get("layout", "auto"))
    unit = settings.get("monetary_unit") or _monetary_unit(grid)
    allow = bool(settings.get("allow_empty_cells", False))
    if layout == "xlmrio":
        blocks = read_table_blocks(grid, allow_empty=allow, balance_rtol=settings.get("balance_rtol", 1e-6),
                                   problems=problems)
        sats = read_satellites(book, satellites_for, blocks, settings, problems) if book is not None else None
        table = build_table(grid, blocks, satellites=sats, monetary_unit=unit, name=name, check=not problems.collect)
        return Source(table, description, sheet, problems.findings, blocks.layout)
    from .layouts_foreign import read_any_grid

    table = read_any_grid(grid, layout=layout, allow_empty=allow, name=name, problems=problems)
    sats = read_satellites(book, satellites_for, table, settings, problems) if book is not None else None
    changes: dict[str, Any] = {}
    if unit and not table.monetary_unit:
        changes["monetary_unit"] = unit
    if sats:
        changes["satellites"] = sats
    table = table.replace(**changes) if changes else table
    return Source(table, description, sheet, problems.findings)


def grid_table(grid: Grid, settings: dict, satellites: dict | None = None, name: str | None = None) -> MRIOTable:
    """Read a table (without looking for a satellites sheet) from a grid with the layout named (or
    detected) in *settings*; *satellites* as in :meth:`MRIOTable.from_arrays`."""
    table = read_source(grid, settings, name=name if name is not None else grid.sheet, satellites_for=None,
                        description="", sheet=None).table
    return table.replace(satellites=satellites) if satellites else table


def _is_result(book, sheet_name: str) -> bool:
    for nm in list(book.names):
        try:
            if nm.name.split("!")[-1].startswith(MARK) and nm.refers_to_range.sheet.name == sheet_name:
                return True
        except Exception:  # noqa: BLE001
            continue
    return False


def find_table_sheet(book, settings: dict) -> Any:
    """The sheet or range holding the table (see module docstring)."""
    return _find_table(book, settings)[0]


def _find_table(book, settings: dict) -> tuple[Any, Grid | None]:
    """The sheet or range holding the table, with its grid when finding it meant reading it."""
    names = [s.name for s in book.sheets]
    want = settings.get("table") or ""
    if want:
        if want in names:
            return book.sheets[want], None
        defined = {nm.name: nm for nm in book.names}
        if want in defined:
            try:
                return defined[want].refers_to_range, None
            except Exception as exc:  # noqa: BLE001
                raise WorkbookError(f"defined name {want!r} does not refer to a range ({exc})") from None
        raise option_error(settings, "table", f"no sheet or defined name called {want!r} (option 'table'); "
                                              f"sheets: {', '.join(names)}")
    try:
        sel = book.selection
        if sel is not None and sel.sheet.name.lower() not in SKIP_SHEETS and not _is_result(book, sel.sheet.name):
            # a selected block that starts at its own Region | Sector header is the table (several
            # tables on one sheet); a single cell or a block without a header means its sheet
            if sel.shape[0] > 2 and sel.shape[1] > 2:
                grid = range_grid(sel)
                if _looks_like_table(grid):
                    return sel, grid
            grid = sheet_grid(sel.sheet)
            if _looks_like_table(grid):
                return sel.sheet, grid
    except Exception:  # noqa: BLE001 - engines without a selection
        pass
    for s in book.sheets:
        if s.name.lower() in SKIP_SHEETS or s.name.lower().endswith("satellites") or _is_result(book, s.name):
            continue
        grid = sheet_grid(s)
        if _looks_like_table(grid):
            return s, grid
    raise option_error(settings, "table", "no table found in the workbook: put a table in xlmrio's layout (header "
                                          "cells 'Region', 'Sector') on a sheet, or name its sheet in the Settings "
                                          "sheet (option 'table')")


def _looks_like_table(grid: Grid) -> bool:
    head = Grid(grid.sheet, [r[:15] for r in grid.values[:15]])
    if find_anchor(head, "Region", "Sector") is not None:
        return True
    try:
        from .layouts_foreign import detect_layout

        return detect_layout(grid) in ("wiod", "ceads")
    except Exception:  # noqa: BLE001
        return False


def read_satellites(book, sheet_name: str | None, table: Any, settings: dict,
                    problems: Problems | None = None) -> dict | None:
    """The satellites that go with the table on *sheet_name*, read against *table* (an
    :class:`MRIOTable` or the blocks being read); None without a satellites sheet. Collecting, a
    satellites sheet that cannot be read is one error finding and the table is read without it."""
    names = [s.name for s in book.sheets]
    want = settings.get("satellites_sheet") or ""
    if want:
        if want not in names:
            raise option_error(settings, "satellites_sheet",
                               f"satellites sheet {want!r} (option 'satellites_sheet') does not exist")
        cand = want
    elif sheet_name is not None and f"{sheet_name} satellites"[:31] in names:
        cand = f"{sheet_name} satellites"[:31]
    elif "Satellites" in names:
        cand = "Satellites"
    else:
        return None
    problems = problems or Problems()
    try:
        return read_satellite_grid(sheet_grid(book.sheets[cand]), table,
                                   allow_empty=bool(settings.get("allow_empty_cells", False)), problems=problems)
    except WorkbookError as exc:
        if not problems.collect:
            raise
        problems.add(CellFinding("error", exc.sheet or cand, exc.cell or "", exc.problem,
                                 "correct the satellites sheet; the table was checked without its satellites"))
        return None


def read_table(book, settings: dict, *, which: str = "table", collect: bool = False) -> Source:
    """Read the table named by option *which* (``"table"`` or ``"table_t0"``) with its satellites.

    ``collect=True`` (the Validate command only) lists the problems it can read past in
    ``Source.findings`` instead of raising the first one.
    """
    problems = Problems(collect=collect)
    if which == "table" and settings.get("table_file"):
        return read_table_file(book, settings, problems=problems)
    sub = dict(settings)
    sub["table"] = settings.get(which) or ""
    if which != "table" and not sub["table"]:
        raise option_error(settings, which, f"set option {which!r} in the Settings sheet to the sheet holding the "
                                            "earlier table")
    target, grid = _find_table(book, sub)
    is_sheet = not hasattr(target, "sheet") or target.__class__.__name__ == "Sheet"
    sheet = target if is_sheet else target.sheet
    if grid is None:
        grid = sheet_grid(sheet) if is_sheet else range_grid(target)
    where = f"sheet '{sheet.name}'" if is_sheet else f"range {target.get_address(include_sheetname=True)}"
    return read_source(grid, settings, book=book, name=sheet.name, satellites_for=sheet.name, description=where,
                       sheet=sheet.name, problems=problems)


def read_table_file(book, settings: dict, *, problems: Problems | None = None) -> Source:
    """A table in xlmrio's layout (or WIOD/CEADs) from a CSV, Parquet or xlsx file named in the settings."""
    import pandas as pd

    raw = settings["table_file"]
    path = Path(raw)
    if not path.is_absolute() and book is not None and getattr(book, "fullname", None):
        path = Path(book.fullname).resolve().parent / path
    if not path.exists():
        raise option_error(settings, "table_file", f"table file {str(path)!r} (option 'table_file') does not exist")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        df = pd.read_csv(path, header=None, dtype=object, keep_default_na=False)
        values = [[_parse_csv(v) for v in row] for row in df.itertuples(index=False, name=None)]
    elif suffix in (".parquet", ".pq"):
        from .layout import frame_grid

        try:
            df = pd.read_parquet(path)
        except ImportError:
            raise WorkbookError(f"table file {path.name!r}: reading Parquet needs pyarrow "
                                "(pip install \"xlmrio[parquet]\")") from None
        if not (isinstance(df.index, pd.MultiIndex) and df.index.nlevels == 2
                and isinstance(df.columns, pd.MultiIndex) and df.columns.nlevels == 2):
            raise WorkbookError(f"table file {path.name!r}: a Parquet table needs a (region, sector) row index "
                                "and a two-level column index, as written by "
                                "xlmrio.excel.layout.table_frame(table).to_parquet(...)")
        values = frame_grid(df)
    elif suffix in (".xlsx", ".xlsm"):
        import openpyxl

        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
        ws = wb.worksheets[0]
        values = [list(r) for r in ws.iter_rows(values_only=True)]
        wb.close()
    else:
        raise WorkbookError(f"table file {path.name!r}: use a .csv, .parquet or .xlsx file")
    return read_source(Grid(path.name, values), settings, book=book, name=path.stem, satellites_for=path.stem,
                       description=f"file {path.name}", sheet=None, problems=problems)


def _parse_csv(v: Any) -> Any:
    if v is None or v == "":
        return None
    try:
        return float(v)
    except (TypeError, ValueError):
        return v


def read_concordance(book, sheet_name: str) -> dict[str, str]:
    """Two-column concordance (label, group) from a sheet; a header row is skipped."""
    names = [s.name for s in book.sheets]
    if sheet_name not in names:
        raise WorkbookError(f"concordance sheet {sheet_name!r} does not exist")
    g = sheet_grid(book.sheets[sheet_name])
    out: dict[str, str] = {}
    for i, row in enumerate(g.values):
        if len(row) < 2 or row[0] in (None, ""):
            continue
        a, b = str(row[0]).strip(), ("" if row[1] is None else str(row[1]).strip())
        if i == 0 and b.lower() in ("group", "to", "new", "aggregate"):
            continue
        if b == "":
            raise WorkbookError(f"no group for {a!r}", sheet_name, address(g.row0 + i, g.col0 + 1))
        if a in out and out[a] != b:
            raise WorkbookError(f"{a!r} is mapped twice ({out[a]!r} and {b!r})", sheet_name, address(g.row0 + i, g.col0))
        out[a] = b
    if not out:
        raise WorkbookError("the concordance sheet is empty (two columns: label, group)", sheet_name, "A1")
    return out
