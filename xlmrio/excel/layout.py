"""xlmrio's own sheet layout for MRIO tables, as plain 2-D grids (no xlwings here).

A table sheet ("MRIO 2007")::

    Region | Sector | R1 | R1 | R2 | R2 | R1 | R2 | Exports | Other | Total output     <- header row 1
           |        | M  | S  | M  | S  | FD | FD |         |       |                  <- header row 2
    R1     | M      | z  | z  | z  | z  | y  | y  | e       | o     | x
    ...
    Primary input | Value added | v | v | v | v
    Total         | Total input | x | x | x | x                                        (optional check row)

Header row 1 names the buying region (Z), the destination region (final demand) or a special
column; header row 2 the buying sector or the final-demand category. ``Exports``, ``Other`` and
``Total output`` are optional; without ``Total output`` x is derived (METHODS §1.3).

A satellite sheet ("MRIO 2007 satellites")::

    Satellite | Unit   | R1 | R1 | R2 | R2 | R1 | R2                                      <- header row 1
              |        | M  | S  | M  | S  | FD | FD                                      <- header row 2
    CO2       | kt CO2 | g  | g  | g  | g  | hh | hh      (final-demand columns optional)

The reader works on a grid of cell values (top-left at a known sheet row/column, 1-based) and
reports every problem with its cell address, in three named steps:

1. :func:`locate_table` finds the ``Region | Sector`` header and every block's place and labels
   (a :class:`TableLayout`);
2. :func:`read_blocks` reads the numbers, each cell checked (:func:`numeric_block`), then the
   flows and balances (a :class:`TableBlocks`); :func:`read_satellite_grid` reads the satellites
   against those blocks;
3. :func:`build_table` builds the :class:`MRIOTable` once, satellites included.

:func:`read_table_grid` runs them for one grid. Each problem goes to a :class:`Problems`: by default
the first error raises (every command refuses a bad table); the Validate command collects them all
as :class:`CellFinding` rows instead.
"""
from __future__ import annotations

import datetime as _dt
import math
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from ..core.table import MRIOTable
from ..errors import TableError, WorkbookError

REGION, SECTOR = "Region", "Sector"
SATELLITE, UNIT = "Satellite", "Unit"
EXPORTS, OTHER, TOTAL_OUTPUT = "Exports", "Other", "Total output"
PRIMARY, TOTAL = "Primary input", "Total"
SPECIAL_COLUMNS = {"exports": EXPORTS, "export": EXPORTS, "other": OTHER, "total output": TOTAL_OUTPUT,
                   "output": TOTAL_OUTPUT, "x": TOTAL_OUTPUT}
PRIMARY_MARKERS = {"primary input", "primary inputs", "value added", "va", "input"}
ERROR_VALUES = ("#N/A", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#NULL!", "#SPILL!", "#CALC!",
                "#GETTING_DATA", "#FIELD!", "#BLOCKED!", "#CONNECT!", "#BUSY!", "#UNKNOWN!")


def col_letter(col: int) -> str:
    """1-based column number -> letters (1 -> A, 28 -> AB)."""
    s = ""
    while col > 0:
        col, rem = divmod(col - 1, 26)
        s = chr(65 + rem) + s
    return s


def address(row: int, col: int) -> str:
    """1-based (row, col) -> ``"AB17"``."""
    return f"{col_letter(col)}{row}"


def _text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


@dataclass
class Grid:
    """Cell values of a sheet region; ``row0``/``col0`` are the sheet row/column of ``values[0][0]``.

    ``formulas`` (same shape, optional) holds formula text where a cell has one; ``merged`` lists
    merged ranges as addresses.
    """

    sheet: str
    values: list[list[Any]]
    row0: int = 1
    col0: int = 1
    formulas: list[list[Any]] | None = None
    merged: list[str] = field(default_factory=list)
    probe: Any = None  # optional object with formula(i, j) -> str | None and is_merged(i, j) -> bool

    @property
    def nrows(self) -> int:
        return len(self.values)

    @property
    def ncols(self) -> int:
        return max((len(r) for r in self.values), default=0)

    def get(self, i: int, j: int) -> Any:
        if 0 <= i < len(self.values) and 0 <= j < len(self.values[i]):
            return self.values[i][j]
        return None

    def addr(self, i: int, j: int) -> str:
        return address(self.row0 + i, self.col0 + j)

    def error(self, i: int, j: int, message: str) -> WorkbookError:
        return WorkbookError(message, self.sheet, self.addr(i, j))

    def is_merged(self, i: int, j: int) -> bool:
        if self.probe is not None:
            return bool(self.probe.is_merged(i, j))
        if not self.merged:
            return False
        from xlwings.utils import address_to_index_tuple

        r, c = self.row0 + i, self.col0 + j
        for rng in self.merged:
            a, _, b = rng.replace("$", "").partition(":")
            r1, c1 = address_to_index_tuple(a)
            r2, c2 = address_to_index_tuple(b or a)
            if r1 <= r <= r2 and c1 <= c <= c2:
                return True
        return False

    def formula(self, i: int, j: int) -> str | None:
        if self.formulas is None:
            return self.probe.formula(i, j) if self.probe is not None else None
        try:
            f = self.formulas[i][j]
        except IndexError:
            return None
        return f if isinstance(f, str) and f.startswith("=") else None


def find_anchor(grid: Grid, first: str, second: str) -> tuple[int, int] | None:
    """(i, j) of the first cell reading *first* whose right neighbour reads *second* (case-insensitive)."""
    a, b = first.lower(), second.lower()
    for i, row in enumerate(grid.values):
        for j, v in enumerate(row):
            if isinstance(v, str) and v.strip().lower() == a and _text(grid.get(i, j + 1)).lower() == b:
                return i, j
    return None


# ---------------------------------------------------------------------- problems: raise the first, or collect all
@dataclass(frozen=True)
class CellFinding:
    """One problem found while reading, at its cell.

    ``severity`` is ``"error"`` (every command but Validate refuses the table until it is fixed),
    ``"warning"`` (commands run, but results may mislead) or ``"info"``. ``value`` is the offending
    number or difference where there is one (in the block's unit), else 0. ``cell`` is empty for a
    line that counts further findings of one kind; ``count`` is how many findings a line stands for.
    """

    severity: str
    sheet: str
    cell: str
    what: str
    fix: str = ""
    value: float = 0.0
    count: int = 1

    @property
    def address(self) -> str:
        """``'Sheet'!C5`` (or ``'Sheet'`` without a cell)."""
        return f"'{self.sheet}'!{self.cell}" if self.cell else f"'{self.sheet}'"


class Problems:
    """Where the reader sends every problem it can read past (a bad cell, a negative flow, a balance).

    By default (``collect=False``) the first error raises a :class:`WorkbookError` with its cell, and
    warnings are ignored: every command but Validate refuses a bad table with that message. With
    ``collect=True`` (the Validate command) each problem becomes a :class:`CellFinding`, the cell is
    read as 0 and reading goes on; after ``per_kind`` findings of one kind, one line counts the rest.
    """

    def __init__(self, collect: bool = False, per_kind: int = 25, probes: int = 500):
        self.collect = collect
        self.per_kind = per_kind
        self.probes = probes  # collecting: formula/merge look-ups of empty cells left (each may ask Excel)
        self._found: list[CellFinding] = []
        self._count: dict[str, int] = {}
        self._first: dict[str, CellFinding] = {}
        self.unreadable: set[tuple[str, int, int]] = set()  # (sheet, grid row, grid column) read as 0

    def report(self, grid: Grid, i: int, j: int, what: str, fix: str = "", *, sep: str = "; ",
               advice: str = "", severity: str = "error", kind: str | None = None, value: float = 0.0) -> None:
        """Raise or record a problem at grid cell (i, j).

        The error message is ``what + sep + fix`` (``what`` alone without *fix*). A finding shows
        ``what`` and, as how to fix it, *advice* or else *fix*. *kind* groups findings for the
        ``per_kind`` limit (default: *what*). Warnings and notes never raise.
        """
        if not self.collect:
            if severity == "error":
                raise grid.error(i, j, what + (sep + fix if fix else ""))
            return
        key = kind or what
        finding = CellFinding(severity, grid.sheet, grid.addr(i, j), what, advice or fix, float(value))
        self._count[key] = self._count.get(key, 0) + 1
        self._first.setdefault(key, finding)
        if self._count[key] <= self.per_kind:
            self._found.append(finding)

    def add(self, finding: CellFinding) -> None:
        """Record a finding made elsewhere (e.g. a satellites sheet that cannot be read)."""
        self._count[finding.what] = self._count.get(finding.what, 0) + 1
        self._first.setdefault(finding.what, finding)
        self._found.append(finding)

    @property
    def findings(self) -> list[CellFinding]:
        """Every finding in reading order, then one line per kind counting those beyond the limit."""
        more = [CellFinding(f.severity, f.sheet, "", f"{self._count[k] - self.per_kind} more: {k}", f.fix,
                            count=self._count[k] - self.per_kind)
                for k, f in self._first.items() if self._count[k] > self.per_kind]
        return self._found + more

    def count(self, severity: str) -> int:
        """How many findings of *severity* were made, those beyond the listing limit included."""
        return sum(n for k, n in self._count.items() if self._first[k].severity == severity)


def describe_value(v: Any) -> str:
    """A cell value in words for a message, never a Python repr: ``a date (2024-12-01)``."""
    if isinstance(v, _dt.datetime):
        if v.time() == _dt.time(0):
            return f"a date ({v.date().isoformat()})"
        return f"a date and time ({v.isoformat(sep=' ', timespec='minutes')})"
    if isinstance(v, _dt.date):
        return f"a date ({v.isoformat()})"
    if isinstance(v, _dt.time):
        return f"a time ({v.isoformat(timespec='seconds')})"
    if isinstance(v, _dt.timedelta):
        return f"a duration ({v})"
    if isinstance(v, bool):
        return f"the logical value {'TRUE' if v else 'FALSE'}"
    if isinstance(v, (bytes, bytearray)):
        return "binary data"
    return f"a value of type {type(v).__name__}"


def value_text(v: Any) -> str:
    """A value as a message shows it: text quoted, numbers as they are, anything else in words
    (:func:`describe_value`), e.g. ``invalid value a date (2024-12-01)``."""
    if isinstance(v, str):
        return repr(v)
    if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_)):
        return repr(v.item() if isinstance(v, np.generic) else v)
    return describe_value(v)


# ---------------------------------------------------------------------- numbers, cell by cell
_PLAIN_NUMBERS = {float, int, np.float64}


def numeric_block(grid: Grid, i0: int, j0: int, nrows: int, ncols: int, what: str, *,
                  allow_empty: bool = False, problems: Problems | None = None) -> np.ndarray:
    """Read an nrows × ncols numeric block at grid cell (i0, j0).

    Rows of plain numbers are copied at once; any other cell is checked by :func:`cell_number`.
    Raises :class:`WorkbookError` naming the first bad cell (or records every bad cell as 0 when
    *problems* collects).
    """
    problems = problems or Problems()
    values = grid.values
    out = np.zeros((nrows, ncols))
    for i in range(nrows):
        row = values[i0 + i] if i0 + i < len(values) else []
        cells = row[j0:j0 + ncols]
        if len(cells) == ncols and set(map(type, cells)) <= _PLAIN_NUMBERS:
            out[i] = cells
            continue
        for j in range(ncols):
            v = cells[j] if j < len(cells) else None
            if type(v) is float or type(v) is int:
                out[i, j] = v
                continue
            number = cell_number(grid, i0 + i, j0 + j, v, what, allow_empty, problems)
            if number is None:
                problems.unreadable.add((grid.sheet, i0 + i, j0 + j))
            out[i, j] = number or 0.0
    bad = ~np.isfinite(out)
    if bad.any():
        for i, j in np.argwhere(bad):
            problems.report(grid, i0 + i, j0 + j, f"non-finite number in {what}", advice="enter a finite number")
            problems.unreadable.add((grid.sheet, i0 + int(i), j0 + int(j)))
            out[i, j] = 0.0
    return out


def cell_number(grid: Grid, i: int, j: int, v: Any, what: str, allow_empty: bool = False,
                problems: Problems | None = None) -> float | None:
    """The number in cell (i, j) of *what*, or the problem with it: a logical value, a formula without
    cached value, a merged or empty cell, an error value, text, a number stored as text, a date.
    An empty cell allowed by *allow_empty* is 0; a collected problem returns None."""
    problems = problems or Problems()
    if isinstance(v, bool):
        problems.report(grid, i, j, f"logical value {v} in {what}", "a number is needed",
                        advice="enter a number", kind=f"logical value in {what}")
        return None
    if isinstance(v, (int, float, np.integer, np.floating)):
        return float(v)
    if v is None or (isinstance(v, str) and v.strip() == ""):
        look = not problems.collect or problems.probes > 0   # a sheet of empty cells: stop asking
        if problems.collect:
            problems.probes -= 1
        f = grid.formula(i, j) if look else None
        if f:
            problems.report(grid, i, j, f"formula {f} in {what} has no cached value",
                            "open the file in Excel or LibreOffice, recalculate and save it (or paste values) "
                            "and run again", sep=": ", kind=f"formula without cached value in {what}")
        elif look and grid.is_merged(i, j):
            problems.report(grid, i, j, f"merged cells in {what}", "unmerge them and enter one number per cell")
        elif allow_empty:
            return 0.0
        else:
            problems.report(grid, i, j, f"empty cell in {what}", "enter 0, or set allow_empty_cells = yes in the "
                                                                 "Settings sheet to read empty cells as 0")
        return None
    if isinstance(v, str):
        s = v.strip()
        if s.upper() in ERROR_VALUES or (s.startswith("#") and s.endswith(("!", "?", "A"))):
            problems.report(grid, i, j, f"error value {s} in {what}", kind=f"error value in {what}",
                            advice="correct the formula or the data it refers to, or enter the number")
            return None
        try:
            float(s.replace(",", ""))
        except ValueError:
            problems.report(grid, i, j, f'text "{s}" in {what}', kind=f"text in {what}",
                            advice="enter a number (0 where there is no flow)")
            return None
        problems.report(grid, i, j, f'number stored as text "{s}" in {what}', "convert it to a number",
                        kind=f"number stored as text in {what}")
        return None
    problems.report(grid, i, j, f"{describe_value(v)} in {what}", "a number is needed",
                    advice="enter a number; format the cell as Number, not Date", kind=f"non-number in {what}")
    return None


# ---------------------------------------------------------------------- labels
def _label(grid: Grid, i: int, j: int, what: str) -> str:
    v = grid.get(i, j)
    t = _text(v)
    if t == "" and grid.is_merged(i, j):
        raise grid.error(i, j, f"merged cells where a {what} label is expected; unmerge them and repeat the "
                               "label in every cell")
    if isinstance(v, str) and v.strip().upper() in ERROR_VALUES:
        raise grid.error(i, j, f"error value {v.strip()} where a {what} label is expected")
    return t


def _check_merged(grid: Grid, top: int, left: int, bottom: int, right: int) -> None:
    """Merged cells inside the table area hide values: name the first one."""
    from xlwings.utils import address_to_index_tuple  # pure function

    for rng in grid.merged:
        first = rng.split(":")[0].replace("$", "")
        r, c = address_to_index_tuple(first)
        if top <= r - grid.row0 <= bottom and left <= c - grid.col0 <= right:
            raise WorkbookError(f"merged cells {rng.replace('$', '')} inside the table; unmerge them and "
                                "repeat the label in every cell", grid.sheet, first)


# ---------------------------------------------------------------------- step 1: locate the blocks
@dataclass
class TableLayout:
    """Where a table's blocks are on its grid (0-based grid indices) and their labels.

    ``header`` is the ``Region`` header cell; the region-sector rows start two rows below it, the Z
    columns two columns to its right. ``special`` maps ``Exports``/``Other``/``Total output`` to
    their columns.
    """

    header: tuple[int, int]
    rows: list[tuple[str, str]]
    regions: list[str]
    sectors: list[str]
    fd: list[tuple[str, str]]
    fd_categories: list[str]
    special: dict[str, int]
    va_labels: list[str]
    total_row: int | None
    sheet: str = ""
    row0: int = 1  # sheet row and column of grid cell (0, 0)
    col0: int = 1

    def addr(self, i: int, j: int) -> str:
        """Address ``C5`` of grid cell (i, j) on the sheet."""
        return address(self.row0 + i, self.col0 + j)

    @property
    def n_rows(self) -> int:
        return len(self.rows)

    @property
    def first_row(self) -> int:
        """Grid row of the first region-sector."""
        return self.header[0] + 2

    @property
    def z_col(self) -> int:
        """Grid column of the first Z column."""
        return self.header[1] + 2

    @property
    def z_cols(self) -> tuple[int, int]:
        return self.z_col, self.z_col + len(self.rows)

    @property
    def y_cols(self) -> tuple[int, int]:
        return self.z_cols[1], self.z_cols[1] + len(self.fd)

    @property
    def va_rows(self) -> tuple[int, int]:
        start = self.first_row + len(self.rows)
        return start, start + len(self.va_labels)

    @property
    def exports_col(self) -> int | None:
        return self.special.get(EXPORTS)

    @property
    def other_col(self) -> int | None:
        return self.special.get(OTHER)

    @property
    def x_col(self) -> int | None:
        return self.special.get(TOTAL_OUTPUT)

    def label(self, k: int) -> str:
        """``region|sector`` of region-sector *k*."""
        return f"{self.rows[k][0]}|{self.rows[k][1]}"


def locate_table(grid: Grid) -> TableLayout:
    """Step 1 of reading: find the ``Region | Sector`` header and every block's place and labels.

    Raises
    ------
    WorkbookError
        Naming sheet and cell for: no header, duplicated or missing labels, regions that do not list
        the same sectors, header labels that do not match the row labels, final-demand columns out of
        order, unexpected rows below the table, merged cells. These make a table unreadable, so they
        raise even for Validate.
    """
    anchor = find_anchor(grid, REGION, SECTOR)
    if anchor is None:
        raise WorkbookError("no table found: expected a header cell 'Region' with 'Sector' to its right "
                            "(xlmrio layout; see workbook_templates/xlmrio_input_template.xlsx)", grid.sheet, "A1")
    hi, hj = anchor
    rows = _row_labels(grid, hi, hj)
    regions, sectors = _regions_and_sectors(grid, hi, hj, rows)
    _check_z_header(grid, hi, hj, rows)
    fd, special = _columns_after_z(grid, hi, hj + 2 + len(rows), regions)
    cats = _fd_categories(grid, hi, hj + 2 + len(rows), fd, regions)
    va_labels, total_row = _primary_rows(grid, hi + 2 + len(rows), hj)
    bottom = (total_row or hi + 2 + len(rows) + len(va_labels)) + 1
    _check_merged(grid, hi, hj, bottom, max([hj + 2 + len(rows) + len(fd)] + list(special.values())))
    return TableLayout((hi, hj), rows, regions, sectors, fd, cats, special, va_labels, total_row,
                       grid.sheet, grid.row0, grid.col0)


def _row_labels(grid: Grid, hi: int, hj: int) -> list[tuple[str, str]]:
    """(region, sector) labels of the rows below the header, up to a blank, primary-input or total row."""
    rows: list[tuple[str, str]] = []
    i = hi + 2
    while i < grid.nrows:
        r = _label(grid, i, hj, "region")
        if r == "" and rows and _label(grid, i, hj + 1, "sector") != "" \
                and any(grid.get(i, j) not in (None, "") for j in range(hj + 2, hj + 2 + len(rows) + 1)):
            raise grid.error(i, hj, f"missing region label for sector {_label(grid, i, hj + 1, 'sector')!r} "
                                    "(a row with numbers inside the table)")
        if r == "" or r.lower() in PRIMARY_MARKERS or r.lower() == TOTAL.lower():
            break
        s = _label(grid, i, hj + 1, "sector")
        if s == "":
            raise grid.error(i, hj + 1, f"missing sector label for region {r!r}")
        rows.append((r, s))
        i += 1
    if not rows:
        raise grid.error(hi + 2, hj, "no region-sector rows below the header")
    seen: dict[tuple[str, str], int] = {}
    for k, lab in enumerate(rows):
        if lab in seen:
            raise grid.error(hi + 2 + k, hj, f"duplicated row label {lab[0]}|{lab[1]} (first in row "
                                             f"{grid.row0 + hi + 2 + seen[lab]})")
        seen[lab] = k
    return rows


def _regions_and_sectors(grid: Grid, hi: int, hj: int, rows: list[tuple[str, str]]) -> tuple[list[str], list[str]]:
    """Regions and sectors of region-major row labels: every region lists the first region's sectors."""
    first_region = rows[0][0]
    sectors = [s for r, s in rows if r == first_region]
    n = len(sectors)
    regions: list[str] = []
    for k, (r, s) in enumerate(rows):
        pos = k % n
        if pos == 0:
            if r in regions:
                raise grid.error(hi + 2 + k, hj, f"region {r!r} appears again after other regions; list each region's "
                                                 "sectors in one block (region-major order)")
            if s != sectors[0]:
                raise grid.error(hi + 2 + k, hj, f"{r}|{s} is not a region-sector row: a new region must list the "
                                                 f"sectors {', '.join(sectors[:3])}{' ...' if n > 3 else ''} in order; "
                                                 f"primary-input rows start with '{PRIMARY}' in column "
                                                 f"{col_letter(grid.col0 + hj)}")
            regions.append(r)
        elif r != regions[-1] or s != sectors[pos]:
            raise grid.error(hi + 2 + k, hj if r != regions[-1] else hj + 1,
                             f"expected {regions[-1]}|{sectors[pos]}, found {r}|{s}: every region must list the same "
                             "sectors in the same order")
    if len(rows) % n:
        k = len(rows)
        raise grid.error(hi + 2 + k, hj, f"region {regions[-1]!r} lists {len(rows) % n} of the {n} sectors; "
                                         f"missing {sectors[len(rows) % n]!r}")
    return regions, sectors


def _check_z_header(grid: Grid, hi: int, hj: int, rows: list[tuple[str, str]]) -> None:
    """The two header rows above the Z columns repeat the row labels in the same order."""
    zc = hj + 2
    top, below = grid.values[hi], grid.values[hi + 1] if hi + 1 < grid.nrows else []
    for k, (r, s) in enumerate(rows):
        if zc + k < len(top) and zc + k < len(below) and top[zc + k] == r and below[zc + k] == s:
            continue  # the common case, without the label checks
        got = (_label(grid, hi, zc + k, "region"), _label(grid, hi + 1, zc + k, "sector"))
        if got != (r, s):
            shown = f"{got[0]}|{got[1]}" if any(got) else "an empty header"
            raise grid.error(hi, zc + k, f"column header {shown} does not match row label {r}|{s}; "
                                         "the Z columns must repeat the row labels in the same order")


def _columns_after_z(grid: Grid, hi: int, j0: int, regions: list[str]) -> tuple[list[tuple[str, str]], dict[str, int]]:
    """Final-demand columns (region, category) from grid column *j0* on, then Exports/Other/Total output."""
    fd: list[tuple[str, str]] = []
    special: dict[str, int] = {}
    j, ncols = j0, grid.ncols
    while j < ncols:
        h1 = _label(grid, hi, j, "column")
        h2 = _label(grid, hi + 1, j, "column")
        key = h1.lower()
        if key in SPECIAL_COLUMNS:
            kind = SPECIAL_COLUMNS[key]
            if kind in special:
                raise grid.error(hi, j, f"duplicated {kind} column")
            special[kind] = j
        elif h1 == "" and h2 == "":
            break
        else:
            if special:
                raise grid.error(hi, j, f"final-demand column {h1}|{h2} after the {', '.join(special)} column(s); "
                                        "put final demand right after the Z block")
            if h1 not in regions:
                raise grid.error(hi, j, f"final-demand column for unknown region {h1!r} (regions: {', '.join(regions)})")
            if h2 == "":
                raise grid.error(hi + 1, j, f"missing final-demand category label for region {h1!r}")
            fd.append((h1, h2))
        j += 1
    if not fd:
        raise grid.error(hi, j0, "no final-demand columns after the Z block")
    return fd, special


def _fd_categories(grid: Grid, hi: int, j0: int, fd: list[tuple[str, str]], regions: list[str]) -> list[str]:
    """The categories, checked to repeat region by region in the same order."""
    cats = list(dict.fromkeys(c for _, c in fd))
    want_fd = [(r, c) for r in regions for c in cats]
    if fd != want_fd:
        dup = [x for x in fd if fd.count(x) > 1]
        k = next((k for k, (a, b) in enumerate(zip(fd, want_fd)) if a != b), min(len(fd), len(want_fd)))
        msg = (f"duplicated final-demand column {dup[0][0]}|{dup[0][1]}" if dup else
               "final-demand columns must list the same categories for every region, region by region"
               + (f": expected {want_fd[k][0]}|{want_fd[k][1]}" if k < len(want_fd) else ""))
        raise grid.error(hi, j0 + min(k, len(fd) - 1), msg)
    return cats


def _primary_rows(grid: Grid, i0: int, hj: int) -> tuple[list[str], int | None]:
    """Primary-input row labels from grid row *i0* on, and the optional ``Total`` check row."""
    va_labels: list[str] = []
    i = i0
    while i < grid.nrows:
        a = _label(grid, i, hj, "row")
        b = _label(grid, i, hj + 1, "row")
        if a.lower() in PRIMARY_MARKERS:
            if b == "":
                raise grid.error(i, hj + 1, "missing primary-input label")
            if b in va_labels:
                raise grid.error(i, hj + 1, f"duplicated primary-input row {b!r}")
            va_labels.append(b)
        elif a.lower() == TOTAL.lower():
            return va_labels, i
        elif a == "" and b == "":
            break
        else:
            raise grid.error(i, hj, f"unexpected row label {a!r} below the table; primary-input rows start with "
                                    f"'{PRIMARY}' in this column, the check row with '{TOTAL}'")
        i += 1
    return va_labels, None


# ---------------------------------------------------------------------- step 2: read the numbers
@dataclass
class TableBlocks:
    """A table's numbers with the layout they were read from (step 2 of reading).

    Z, Y, V, exports, other in the monetary unit; ``x_given`` is the Total output column (None
    without one). ``x`` is the total output the table will use: the given column, else the row sums.
    """

    layout: TableLayout
    Z: np.ndarray
    Y: np.ndarray
    V: np.ndarray | None
    x_given: np.ndarray | None
    exports: np.ndarray | None
    other: np.ndarray | None

    @property
    def regions(self) -> tuple[str, ...]:
        return tuple(self.layout.regions)

    @property
    def sectors(self) -> tuple[str, ...]:
        return tuple(self.layout.sectors)

    @property
    def fd_categories(self) -> tuple[str, ...]:
        return tuple(self.layout.fd_categories)

    @property
    def x(self) -> np.ndarray:
        if self.x_given is not None:
            return self.x_given
        y = self.Y.sum(axis=1)
        for v in (self.exports, self.other):
            if v is not None:
                y = y + v
        return self.Z.sum(axis=1) + y


def _balance_tol(ref: np.ndarray, rtol: float | None) -> np.ndarray:
    """Per-entry tolerance of a balance check against *ref* (the Settings option balance_rtol)."""
    if rtol is None:
        return 1e-6 * np.maximum(np.abs(ref), 1.0)
    return rtol * np.maximum(np.abs(ref), 1e-9 * np.abs(ref).max(initial=1.0))


def read_blocks(grid: Grid, layout: TableLayout, *, allow_empty: bool = False, balance_rtol: float | None = 1e-6,
                problems: Problems | None = None) -> TableBlocks:
    """Step 2 of reading: the numeric blocks at their places, each cell checked, then the flows, the
    balances and the sign of total output (:func:`check_flows`, :func:`check_balances`,
    :func:`check_output_sign`)."""
    problems = problems or Problems()
    first, zc, N = layout.first_row, layout.z_col, layout.n_rows
    kw = dict(allow_empty=allow_empty, problems=problems)
    Z = numeric_block(grid, first, zc, N, N, "the Z block", **kw)
    Y = numeric_block(grid, first, layout.y_cols[0], N, len(layout.fd), "the final-demand block", **kw)
    vec = {kind: numeric_block(grid, first, jj, N, 1, f"the {kind} column", **kw)[:, 0]
           for kind, jj in layout.special.items()}
    V = numeric_block(grid, layout.va_rows[0], zc, len(layout.va_labels), N, "the primary-input rows", **kw) \
        if layout.va_labels else None
    blocks = TableBlocks(layout, Z, Y, V, vec.get(TOTAL_OUTPUT), vec.get(EXPORTS), vec.get(OTHER))
    check_flows(grid, blocks, problems)
    check_balances(grid, blocks, balance_rtol, problems, allow_empty=allow_empty)
    check_output_sign(grid, blocks, problems)
    return blocks


def check_flows(grid: Grid, blocks: TableBlocks, problems: Problems) -> None:
    """Intermediate flows must be >= 0 (the most negative one is reported first)."""
    lay, Z = blocks.layout, blocks.Z
    if Z.min(initial=0) >= 0:
        return
    worst = np.unravel_index(np.argmin(Z), Z.shape)
    cells = [worst] + [tuple(c) for c in np.argwhere(Z < 0) if tuple(c) != worst] if problems.collect else [worst]
    for i, j in cells:
        problems.report(grid, lay.first_row + i, lay.z_col + j,
                        f"negative intermediate flow {Z[i, j]:g} in Z (row {lay.label(i)}, column {lay.label(j)})",
                        "Z must be >= 0", kind="negative intermediate flow in Z", value=Z[i, j],
                        advice="Z must be >= 0: enter the flow as 0 or more; negative entries such as inventory "
                               "changes belong in a final-demand column")


def check_balances(grid: Grid, blocks: TableBlocks, rtol: float | None, problems: Problems, *,
                   allow_empty: bool = False) -> None:
    """The ``Total output`` column against the row sums and (with primary inputs) the column sums, and
    the ``Total`` check row against total output. Collecting, every region-sector off is listed and a
    table without ``Total output`` is checked for column balance too (a warning: commands run)."""
    lay, Z, V = blocks.layout, blocks.Z, blocks.V
    x = blocks.x_given
    first = lay.first_row
    loosen = "for a published, rounded table loosen balance_rtol in the Settings sheet"
    rows_read0, cols_read0 = _unreadable_lines(grid, lay, problems)
    if x is not None:
        tc = lay.x_col
        tol_x = _balance_tol(x, rtol)
        extra = [v for v in (blocks.exports, blocks.other) if v is not None]
        rows_sum = Z.sum(1) + blocks.Y.sum(1) + sum(extra)
        checks = [(rows_sum, "the row sum Z + final demand" + (" + exports" if blocks.exports is not None else "")
                   + (" + other" if blocks.other is not None else ""))]
        if V is not None:
            checks.append((Z.sum(0) + V.sum(0), "the column sum Z + primary inputs"))
        for ref, what in checks:
            off = np.abs(x - ref)
            bad = np.flatnonzero(off > tol_x)
            if not bad.size:
                continue
            order = bad[np.argsort(-off[bad], kind="stable")]
            for k in (order if problems.collect else order[:1]):
                k = int(k)
                read0 = (rows_read0 if what.startswith("the row") else cols_read0).get(k, "")
                problems.report(grid, first + k, tc,
                                f"Total output {x[k]:.10g} of {lay.label(k)} does not match {what}, {ref[k]:.10g}"
                                + read0,
                                f"({bad.size} region-sector(s) off; {loosen})" if not problems.collect else "",
                                sep=" ", kind=f"Total output does not match {what}", value=x[k] - ref[k],
                                advice=f"correct the Total output or the flows it sums; {loosen}")
    elif V is not None and problems.collect:
        ref = blocks.x
        col = Z.sum(0) + V.sum(0)
        for k in np.flatnonzero(np.abs(col - ref) > _balance_tol(ref, rtol)):
            k = int(k)
            problems.report(grid, lay.va_rows[0], lay.z_col + k,
                            f"column sum Z + primary inputs {col[k]:.10g} of {lay.label(k)} does not match its "
                            f"row sum {ref[k]:.10g}" + (cols_read0.get(k, "") or rows_read0.get(k, "")),
                            severity="warning", value=col[k] - ref[k],
                            kind="column sum Z + primary inputs does not match the row sum",
                            advice=f"correct the primary inputs or the flows of this column; {loosen}")
    if lay.total_row is not None:
        tot = numeric_block(grid, lay.total_row, lay.z_col, 1, lay.n_rows, "the Total input row",
                            allow_empty=allow_empty, problems=problems)[0]
        ref = x if x is not None else (Z.sum(0) + (V.sum(0) if V is not None else 0))
        bad = np.flatnonzero(np.abs(tot - ref) > _balance_tol(ref, rtol))
        for k in (bad if problems.collect else bad[:1]):
            k = int(k)
            problems.report(grid, lay.total_row, lay.z_col + k,
                            f"Total input {tot[k]:.10g} of {lay.label(k)} does not match total output {ref[k]:.10g}"
                            + (cols_read0.get(k, "") or rows_read0.get(k, "")),
                            kind="Total input does not match total output", value=tot[k] - ref[k],
                            advice="correct the Total input cell (or delete the check row)")


def check_output_sign(grid: Grid, blocks: TableBlocks, problems: Problems) -> None:
    """Total output (the column, or the row sums without one) must be >= 0, named at its cell."""
    lay, x = blocks.layout, blocks.x
    given = blocks.x_given is not None
    for k in np.flatnonzero(x < 0)[:None if problems.collect else 1]:
        k = int(k)
        problems.report(grid, lay.first_row + k, lay.x_col if given else lay.header[1],
                        f"negative total output {x[k]:.10g} of {lay.label(k)}"
                        + ("" if given else " (the row sum: no Total output column)"), "total output must be >= 0",
                        kind="negative total output", value=x[k],
                        advice="total output must be >= 0: check the Total output cell and the row's final demand")


def _unreadable_lines(grid: Grid, lay: TableLayout, problems: Problems) -> tuple[dict[int, str], dict[int, str]]:
    """Region-sectors whose row / column holds a cell read as 0 (collect mode), with a note for the
    balance findings they distort."""
    rows: dict[int, str] = {}
    cols: dict[int, str] = {}
    N = lay.n_rows
    for sheet, i, j in problems.unreadable:
        if sheet != grid.sheet:
            continue
        if 0 <= i - lay.first_row < N:
            rows[i - lay.first_row] = " (its row has a cell with an error, read as 0)"
        if 0 <= j - lay.z_col < N:
            cols[j - lay.z_col] = " (its column has a cell with an error, read as 0)"
    return rows, cols


# ---------------------------------------------------------------------- step 3: build the table
def build_table(grid: Grid, blocks: TableBlocks, *, satellites: dict | None = None, monetary_unit: str = "",
                name: str | None = None, check: bool = True) -> MRIOTable:
    """Step 3 of reading: the :class:`MRIOTable` with its satellites, built once.

    ``check=False`` (Validate, after collecting) skips the table's fatal checks, which the reader has
    already reported at their cells.
    """
    lay = blocks.layout
    try:
        return MRIOTable.from_arrays(
            blocks.Z, blocks.Y, regions=lay.regions, sectors=lay.sectors, fd_categories=lay.fd_categories,
            V=blocks.V, va_rows=lay.va_labels or None, x=blocks.x_given, exports=blocks.exports,
            other=blocks.other, satellites=satellites, monetary_unit=monetary_unit,
            name=name if name is not None else grid.sheet, check=check)
    except TableError as exc:
        raise WorkbookError(str(exc), grid.sheet) from exc


def read_table_blocks(grid: Grid, *, allow_empty: bool = False, balance_rtol: float | None = 1e-6,
                      problems: Problems | None = None) -> TableBlocks:
    """Steps 1 and 2: locate the table on *grid* and read its numbers with cell-precise checks."""
    return read_blocks(grid, locate_table(grid), allow_empty=allow_empty, balance_rtol=balance_rtol,
                       problems=problems)


def read_table_grid(grid: Grid, *, allow_empty: bool = False, name: str | None = None, monetary_unit: str = "",
                    satellites: dict | None = None, balance_rtol: float | None = 1e-6,
                    problems: Problems | None = None) -> tuple[MRIOTable, TableLayout]:
    """Read an MRIO table in xlmrio's layout from *grid* (steps 1-3; the first problem raises unless
    *problems* collects them).

    Raises
    ------
    WorkbookError
        Naming sheet and cell for: no header, duplicated or missing labels, header labels that do not
        match the row labels, text/error values/empty cells in numeric blocks, formulas without cached
        values, merged cells, a ``Total input`` row that does not match ``Total output``.
    """
    problems = problems or Problems()
    blocks = read_table_blocks(grid, allow_empty=allow_empty, balance_rtol=balance_rtol, problems=problems)
    return build_table(grid, blocks, satellites=satellites, monetary_unit=monetary_unit, name=name,
                       check=not problems.collect), blocks.layout


# ---------------------------------------------------------------------- step 2b: satellites, against the blocks
def read_satellite_grid(grid: Grid, table: Any, *, allow_empty: bool = False,
                        problems: Problems | None = None) -> dict:
    """Satellites in xlmrio's layout: ``{name: (values, unit, hh or None)}``.

    *table* is anything with ``regions``, ``sectors``, ``fd_categories`` and total output ``x``: an
    :class:`MRIOTable` or the :class:`TableBlocks` being read. Emissions of a region-sector without
    output (orphans) are an error; collecting, negative values are a warning.
    """
    problems = problems or Problems()
    anchor = find_anchor(grid, SATELLITE, UNIT)
    if anchor is None:
        raise WorkbookError("no satellite table found: expected a header cell 'Satellite' with 'Unit' to its "
                            "right", grid.sheet, "A1")
    hi, hj = anchor
    cols = [(r, s) for r in table.regions for s in table.sectors]
    c0 = hj + 2
    for k, (r, s) in enumerate(cols):
        got = (_label(grid, hi, c0 + k, "region"), _label(grid, hi + 1, c0 + k, "sector"))
        if got != (r, s):
            shown = f"{got[0]}|{got[1]}" if any(got) else "an empty header"
            raise grid.error(hi, c0 + k, f"satellite column header {shown} does not match {r}|{s} of the table")
    fdc = c0 + len(cols)
    fd_cols = [(r, c) for r in table.regions for c in table.fd_categories]
    has_hh = _label(grid, hi, fdc, "column") != ""
    if has_hh:
        for k, (r, c) in enumerate(fd_cols):
            got = (_label(grid, hi, fdc + k, "region"), _label(grid, hi + 1, fdc + k, "category"))
            if got != (r, c):
                raise grid.error(hi, fdc + k, f"final-demand emission column {got[0]}|{got[1]} does not match "
                                              f"{r}|{c} of the table's final-demand columns")
    x = table.x
    out: dict = {}
    i = hi + 2
    while i < grid.nrows:
        name = _label(grid, i, hj, "satellite")
        if name == "":
            break
        if name in out:
            raise grid.error(i, hj, f"duplicated satellite {name!r}")
        unit = _label(grid, i, hj + 1, "unit")
        if unit == "":
            raise grid.error(i, hj + 1, f"missing unit for satellite {name!r}")
        vals = numeric_block(grid, i, c0, 1, len(cols), f"satellite {name!r}", allow_empty=allow_empty,
                             problems=problems)[0]
        hh = None
        if has_hh:   # a satellite without direct final-demand emissions leaves all of its cells empty;
            # a partly filled row follows the allow_empty_cells rule like every numeric block
            blank = all(grid.get(i, fdc + k) in (None, "") for k in range(len(fd_cols)))
            hh = np.zeros(len(fd_cols)) if blank else numeric_block(
                grid, i, fdc, 1, len(fd_cols), f"final-demand emissions of {name!r}", allow_empty=allow_empty,
                problems=problems)[0]
        for k in np.flatnonzero((vals != 0) & (x == 0)):
            k = int(k)
            problems.report(grid, i, c0 + k, f"{name} emissions {vals[k]:g} for {cols[k][0]}|{cols[k][1]}, whose "
                                             "total output is 0 (orphan emissions)",
                            "move them to a producing sector", kind=f"orphan emissions in satellite {name!r}",
                            value=vals[k])
        for k in np.flatnonzero(vals < 0) if problems.collect else ():
            problems.report(grid, i, c0 + int(k), f"negative {name} value {vals[k]:g} for {cols[k][0]}|{cols[k][1]}",
                            severity="warning", kind=f"negative value in satellite {name!r}", value=vals[k],
                            advice="check the sign: a negative satellite value lowers every footprint it enters")
        out[name] = (vals, unit, hh)
        i += 1
    if not out:
        raise grid.error(hi + 2, hj, "no satellite rows below the header")
    return out


# ---------------------------------------------------------------------- writing
def table_frame(table: MRIOTable) -> "pd.DataFrame":
    """The table in xlmrio's layout as one DataFrame: rows indexed by (region, sector) then
    ("Primary input", row) and ("Total", "Total input"); columns by (region, sector or category),
    ("Exports", ""), ("Other", ""), ("Total output", ""). Save it with ``to_parquet`` for the
    ``table_file`` option when the table is too large for a sheet."""
    import pandas as pd

    g = table_grid(table)
    cols = pd.MultiIndex.from_tuples([(a, b or "") for a, b in zip(g[0][2:], g[1][2:])], names=[g[0][0], g[0][1]])
    rows = pd.MultiIndex.from_tuples([(r[0], r[1]) for r in g[2:]], names=[g[0][0], g[0][1]])
    return pd.DataFrame([r[2:] for r in g[2:]], index=rows, columns=cols, dtype=float)


def frame_grid(df: "pd.DataFrame") -> list[list[Any]]:
    """Inverse of :func:`table_frame`: the 2-D list a sheet would hold (for the reader)."""
    def cell(v):
        return None if v is None or (isinstance(v, float) and v != v) or v == "" else v

    cols = list(df.columns)
    head = [[REGION, SECTOR] + [cell(c[0]) for c in cols], [None, None] + [cell(c[1]) for c in cols]]
    body = [[cell(i[0]), cell(i[1])] + [cell(v) for v in row]
            for i, row in zip(df.index, df.itertuples(index=False, name=None))]
    return head + body


def table_grid(table: MRIOTable) -> list[list[Any]]:
    """The table in xlmrio's layout as a 2-D list (header rows first)."""
    N, fdn = table.N, table.m * table.K
    labels = [(r, s) for r in table.regions for s in table.sectors]
    fd = [(r, c) for r in table.regions for c in table.fd_categories]
    h1 = [REGION, SECTOR] + [r for r, _ in labels] + [r for r, _ in fd]
    h2: list[Any] = [None, None] + [s for _, s in labels] + [c for _, c in fd]
    extra = []
    if table.exports is not None:
        extra.append((EXPORTS, table.exports))
    if table.other is not None:
        extra.append((OTHER, table.other))
    extra.append((TOTAL_OUTPUT, table.x))
    h1 += [e[0] for e in extra]
    h2 += [None] * len(extra)
    body = np.hstack([table.Z, table.Y] + [e[1][:, None] for e in extra])
    grid: list[list[Any]] = [h1, h2]
    for k, (r, s) in enumerate(labels):
        grid.append([r, s] + body[k].tolist())
    pad = [None] * (fdn + len(extra))
    for d, lab in enumerate(table.va_rows):
        grid.append([PRIMARY, lab] + table.V[d].tolist() + pad)
    grid.append([TOTAL, "Total input"] + (table.Z.sum(0) + table.V.sum(0)).tolist() + pad)
    return grid


def satellite_grid(table: MRIOTable) -> list[list[Any]]:
    """The table's satellites in xlmrio's layout (with final-demand columns when any satellite has them)."""
    labels = [(r, s) for r in table.regions for s in table.sectors]
    fd = [(r, c) for r in table.regions for c in table.fd_categories]
    has_hh = any(s.hh is not None for s in table.satellites.values())
    h1 = [SATELLITE, UNIT] + [r for r, _ in labels] + ([r for r, _ in fd] if has_hh else [])
    h2: list[Any] = [None, None] + [s for _, s in labels] + ([c for _, c in fd] if has_hh else [])
    grid: list[list[Any]] = [h1, h2]
    for name, sat in table.satellites.items():
        row = [name, sat.unit] + sat.values.tolist()
        if has_hh:
            row += (sat.hh if sat.hh is not None else np.zeros(len(fd))).tolist()
        grid.append(row)
    return grid


def is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def grid_from_rows(rows: Sequence[Sequence[Any]]) -> list[list[Any]]:
    return [list(r) for r in rows]
