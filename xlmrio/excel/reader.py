"""Find and read MRIO tables in a workbook (xlwings public API only).

The table comes from, in this order: a table file named in the settings (CSV, Parquet, xlsx), the
``table`` option (a sheet name or a defined name), the selected sheet, or the first sheet that holds a
table. Satellites come from the ``satellites_sheet`` option, else ``"<table sheet> satellites"``, else
a sheet called ``Satellites``.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.table import MRIOTable
from ..errors import WorkbookError
from .layout import Grid, address, find_anchor, read_satellite_grid, read_table_grid
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


def grid_table(grid: Grid, settings: dict, satellites: dict | None = None, name: str | None = None) -> MRIOTable:
    """Read a table from a grid with the layout named (or detected) in *settings*."""
    layout = _detect(grid, settings.get("layout", "auto"))
    unit = settings.get("monetary_unit") or _monetary_unit(grid)
    allow = bool(settings.get("allow_empty_cells", False))
    if layout == "xlmrio":
        table, _ = read_table_grid(grid, allow_empty=allow, name=name, monetary_unit=unit,
                                   satellites=satellites, balance_rtol=settings.get("balance_rtol", 1e-6))
        return table
    from .layouts_foreign import read_any_grid

    table = read_any_grid(grid, layout=layout, allow_empty=allow, name=name)
    changes: dict[str, Any] = {}
    if unit and not table.monetary_unit:
        changes["monetary_unit"] = unit
    if satellites:
        changes["satellites"] = satellites
    return table.replace(**changes) if changes else table


@dataclass
class Source:
    """Where a table was read from (shown in result subtitles)."""

    table: MRIOTable
    description: str
    sheet: str | None


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
    names = [s.name for s in book.sheets]
    want = settings.get("table") or ""
    if want:
        if want in names:
            return book.sheets[want]
        defined = {nm.name: nm for nm in book.names}
        if want in defined:
            try:
                return defined[want].refers_to_range
            except Exception as exc:  # noqa: BLE001
                raise WorkbookError(f"defined name {want!r} does not refer to a range ({exc})") from None
        raise option_error(settings, "table", f"no sheet or defined name called {want!r} (option 'table'); "
                                              f"sheets: {', '.join(names)}")
    try:
        sel = book.selection
        if sel is not None and sel.sheet.name.lower() not in SKIP_SHEETS and not _is_result(book, sel.sheet.name):
            # a selected block that starts at its own Region | Sector header is the table (several
            # tables on one sheet); a single cell or a block without a header means its sheet
            if sel.shape[0] > 2 and sel.shape[1] > 2 and _looks_like_table(range_grid(sel)):
                return sel
            if _looks_like_table(sheet_grid(sel.sheet)):
                return sel.sheet
    except Exception:  # noqa: BLE001 - engines without a selection
        pass
    for s in book.sheets:
        if s.name.lower() in SKIP_SHEETS or s.name.lower().endswith("satellites") or _is_result(book, s.name):
            continue
        if _looks_like_table(sheet_grid(s)):
            return s
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


def read_satellites(book, sheet_name: str, table: MRIOTable, settings: dict) -> dict | None:
    names = [s.name for s in book.sheets]
    want = settings.get("satellites_sheet") or ""
    if want:
        if want not in names:
            raise option_error(settings, "satellites_sheet",
                               f"satellites sheet {want!r} (option 'satellites_sheet') does not exist")
        cand = want
    elif f"{sheet_name} satellites"[:31] in names:
        cand = f"{sheet_name} satellites"[:31]
    elif "Satellites" in names:
        cand = "Satellites"
    else:
        return None
    return read_satellite_grid(sheet_grid(book.sheets[cand]), table,
                               allow_empty=bool(settings.get("allow_empty_cells", False)))


def read_table(book, settings: dict, *, which: str = "table") -> Source:
    """Read the table named by option *which* (``"table"`` or ``"table_t0"``) with its satellites."""
    if which == "table" and settings.get("table_file"):
        return read_table_file(book, settings)
    sub = dict(settings)
    sub["table"] = settings.get(which) or ""
    if which != "table" and not sub["table"]:
        raise option_error(settings, which, f"set option {which!r} in the Settings sheet to the sheet holding the "
                                            "earlier table")
    target = find_table_sheet(book, sub)
    is_sheet = not hasattr(target, "sheet") or target.__class__.__name__ == "Sheet"
    sheet = target if is_sheet else target.sheet
    grid = sheet_grid(sheet) if is_sheet else range_grid(target)
    table = grid_table(grid, settings, name=sheet.name)
    sats = read_satellites(book, sheet.name, table, settings)
    if sats:
        table = table.replace(satellites=sats)
    where = f"sheet '{sheet.name}'" if is_sheet else f"range {target.get_address(include_sheetname=True)}"
    return Source(table, where, sheet.name)


def read_table_file(book, settings: dict) -> Source:
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
    grid = Grid(path.name, values)
    table = grid_table(grid, settings, name=path.stem)
    sats = None
    if book is not None:
        sats = read_satellites(book, path.stem, table, settings)
    if sats:
        table = table.replace(satellites=sats)
    return Source(table, f"file {path.name}", None)


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
