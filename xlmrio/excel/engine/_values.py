"""Cell values of sheets the engine has not loaded into openpyxl (read-only, value-level access).

A sheet that a command only reads (a table, its satellites, the settings) never becomes millions of
openpyxl ``Cell`` objects: its values come straight from the file, through python-calamine (Rust,
optional: ``pip install "xlmrio[fast]"``) when it is installed, else through openpyxl's streaming
read-only parser (pure Python, e.g. under xlwings Lite / Pyodide). Both give what a full openpyxl
load gives through :func:`~xlmrio.excel.engine._range.read_block`:

* numbers as ``float``, text as ``str``, booleans as ``bool``, empty cells as ``None``;
* formula cells as their cached result (``None`` when the file holds none);
* error cells as :class:`CellError` (calamine reports them as empty; they are recovered from the
  sheet's XML, where they are marked ``t="e"``);
* date-formatted numbers as ``datetime`` (a date alone at midnight); time-of-day and duration
  formats as the serial number (fraction of a day), as the engine always gave them.

One difference to a full load: a cell holding an empty string reads as ``None``.
"""
from __future__ import annotations

import datetime as dt
import html
import io
import os
import re
import zipfile

from ._util import CellError, no_gc

try:  # optional: not installable under Pyodide (xlwings Lite)
    import python_calamine as _calamine
except ImportError:  # pragma: no cover - exercised by forcing the fallback in the tests
    _calamine = None

#: Set to ``"0"`` to force the pure-Python reader (for comparisons and benchmarks).
ENV_USE_CALAMINE = "XLMRIO_CALAMINE"


def calamine_available() -> bool:
    """Whether values are read with python-calamine (installed and not switched off)."""
    return _calamine is not None and os.environ.get(ENV_USE_CALAMINE, "1") != "0"


class SheetValues:
    """All values of one sheet as rows from ``A1`` (``rows[r - 1][c - 1]``), ragged, ``None`` = empty.

    ``used`` is the block from the first to the last non-empty cell, 1-based ``(r1, c1, r2, c2)``,
    or ``None`` for a sheet without values; ``merged`` the merged blocks, ``(r1, c1, r2, c2)`` each.
    """

    __slots__ = ("rows", "used", "has_errors", "has_dates", "merged")

    def __init__(self, rows: list[list], has_errors: bool, has_dates: bool):
        self.rows = rows
        self.merged: list[tuple[int, int, int, int]] = []
        self.has_errors = has_errors
        self.has_dates = has_dates
        self.used = _used_block(rows)

    def get(self, r: int, c: int):
        """Value of the cell at row ``r``, column ``c`` (1-based)."""
        if r > len(self.rows):
            return None
        row = self.rows[r - 1]
        return row[c - 1] if c <= len(row) else None

    def block(self, r1: int, c1: int, r2: int, c2: int, rows_type=list):
        """Values of the block as a list of row lists (a fresh list per row)."""
        out = rows_type()
        ncols = c2 - c1 + 1
        empty = [None] * ncols
        rows = self.rows
        n = len(rows)
        for r in range(r1, r2 + 1):
            if r > n:
                out.append(empty.copy())
                continue
            row = rows[r - 1][c1 - 1:c2]
            if len(row) < ncols:
                row += [None] * (ncols - len(row))
            out.append(row)
        return out


def _used_block(rows: list[list]):
    r1 = r2 = c1 = c2 = None
    for i, row in enumerate(rows):
        if not row:
            continue
        first = next((j for j, v in enumerate(row) if v is not None), None)
        if first is None:
            continue
        last = len(row) - 1 - next(j for j, v in enumerate(reversed(row)) if v is not None)
        if r1 is None:
            r1 = i + 1
        r2 = i + 1
        c1 = first + 1 if c1 is None else min(c1, first + 1)
        c2 = last + 1 if c2 is None else max(c2, last + 1)
    return None if r1 is None else (r1, c1, r2, c2)


# ----------------------------------------------------------------------------- normalisation
_PLAIN = frozenset({float, str, bool, type(None)})


def _normal(v):
    """One value as the engine hands it out (see the module docstring)."""
    t = type(v)
    if t is float or t is bool or v is None:
        return v
    if t is str:
        return v if v != "" else None
    if t is int:
        return float(v)
    if t is dt.datetime:
        return v.replace(tzinfo=None) if v.tzinfo is not None else v
    if t is dt.date:
        return dt.datetime(v.year, v.month, v.day)
    if t is dt.time:
        return (v.hour * 3600 + v.minute * 60 + v.second + v.microsecond / 1e6) / 86400.0
    if t is dt.timedelta:
        return v.total_seconds() / 86400.0
    return v


def _normalise_rows(rows: list[list]) -> tuple[list[list], bool]:
    """Replace empty strings by ``None`` and convert dates/times, row by row (C-speed checks first)."""
    dates = False
    for i, row in enumerate(rows):
        kinds = set(map(type, row))
        if kinds <= _PLAIN and (str not in kinds or "" not in row):
            continue
        rows[i] = [_normal(v) for v in row]
        if dt.datetime in kinds or dt.date in kinds:
            dates = True
    return rows, dates


# ----------------------------------------------------------------------------- errors and merges
_ERR_MARKS = (b't="e"', b"t='e'")
_ERR_CELL = re.compile(rb"<c\b([^>]*?)\bt=[\"']e[\"']([^>]*)>(.*?)</c>", re.S)
_REF = re.compile(rb"\br=[\"']([A-Z]{1,3})([0-9]+)[\"']")
_V = re.compile(rb"<v>([^<]*)</v>")
_MERGE = re.compile(rb"<(?:\w+:)?mergeCell\b[^>]*?\bref=[\"']([^\"']+)[\"']")


def scan_part(archive: zipfile.ZipFile, part: str) -> tuple[dict | None, list]:
    """Error cells and merged blocks of a worksheet part, in one streaming pass.

    Returns ``({(row, col): CellError}, [(r1, c1, r2, c2), ...])``. The part is inflated in chunks
    and parsed for errors only if an error mark occurs; the error dict is ``None`` if an error cell
    has no ``r`` attribute (then the caller falls back to the pure-Python reader).
    """
    found = False
    tail = b""
    merges = b""
    with archive.open(part) as fh:
        while True:
            chunk = fh.read(1 << 22)
            if not chunk:
                break
            buf = tail + chunk
            if not found and any(m in buf for m in _ERR_MARKS):
                found = True
            k = buf.find(b"mergeCell")
            if merges or k >= 0:
                merges += buf[max(k - 8, 0):] if not merges else chunk
            tail = buf[-16:]
    merged = []
    for m in _MERGE.finditer(merges):
        ref = m.group(1).decode().replace("$", "")
        a, _, b = ref.partition(":")
        ra, ca = _cell(a)
        rb_, cb = _cell(b or a)
        merged.append((min(ra, rb_), min(ca, cb), max(ra, rb_), max(ca, cb)))
    if not found:
        return {}, merged
    errors = {}
    for m in _ERR_CELL.finditer(archive.read(part)):
        ref = _REF.search(m.group(1) + b" " + m.group(2))
        if ref is None:
            return None, merged
        v = _V.search(m.group(3))
        if v is None:
            continue
        key = (int(ref.group(2)), _column(ref.group(1).decode()))
        errors[key] = CellError(html.unescape(v.group(1).decode("utf-8")))
    return errors, merged


def _column(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def _cell(ref: str) -> tuple[int, int]:
    m = re.fullmatch(r"([A-Z]{1,3})([0-9]+)", ref.upper())
    return int(m.group(2)), _column(m.group(1))


# ----------------------------------------------------------------------------- readers
def read_values(src: bytes, title: str, part: str) -> SheetValues:
    """Values of the sheet ``title`` (stored in the zip member ``part``) of the workbook bytes ``src``."""
    with zipfile.ZipFile(io.BytesIO(src)) as archive:
        errors, merged = scan_part(archive, part)
    rows = None
    if calamine_available() and errors is not None:
        rows = _calamine_rows(src, title)
    if rows is None:
        vals = _openpyxl_values(src, title)
        vals.merged = merged
        return vals
    rows, dates = _normalise_rows(rows)
    for (r, c), err in errors.items():
        while len(rows) < r:
            rows.append([])
        row = rows[r - 1]
        if len(row) < c:
            row += [None] * (c - len(row))
        row[c - 1] = err
    vals = SheetValues(rows, bool(errors), dates)
    vals.merged = merged
    return vals


def _calamine_rows(src: bytes, title: str) -> list[list] | None:
    try:
        book = _calamine.CalamineWorkbook.from_filelike(io.BytesIO(src))
        try:
            sheet = book.get_sheet_by_name(title)
            with no_gc():
                return sheet.to_python(skip_empty_area=False)
        finally:
            book.close()
    except Exception:  # noqa: BLE001 - anything calamine cannot read goes to the pure-Python reader
        return None


def _openpyxl_values(src: bytes, title: str) -> SheetValues:
    """The pure-Python reader: openpyxl's read-only (streaming) parser, values only."""
    import openpyxl

    wb = openpyxl.load_workbook(io.BytesIO(src), read_only=True, data_only=True, keep_links=False)
    try:
        ws = wb[title]
        ws.reset_dimensions()  # trust the cells, not the <dimension> element
        rows = []
        errors = dates = False
        with no_gc():
            for cells in ws.iter_rows():
                row = []
                for cell in cells:
                    v = getattr(cell, "value", None)
                    if v is not None:
                        if cell.data_type == "e":
                            v = CellError(v)
                            errors = True
                        else:
                            v = _normal(v)
                            if type(v) is dt.datetime:
                                dates = True
                    row.append(v)
                rows.append(row)
    finally:
        wb.close()
    return SheetValues(rows, errors, dates)
