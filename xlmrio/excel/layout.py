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
reports every problem with its cell address.
"""
from __future__ import annotations

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


def numeric_block(grid: Grid, i0: int, j0: int, nrows: int, ncols: int, what: str, *,
                  allow_empty: bool = False) -> np.ndarray:
    """Read an nrows × ncols numeric block at (i0, j0); raise :class:`WorkbookError` naming the first bad cell."""
    out = np.zeros((nrows, ncols))
    for i in range(nrows):
        row = grid.values[i0 + i] if i0 + i < grid.nrows else []
        for j in range(ncols):
            v = row[j0 + j] if j0 + j < len(row) else None
            if type(v) is float or type(v) is int:
                out[i, j] = v
                continue
            out[i, j] = _check_cell(grid, i0 + i, j0 + j, v, what, allow_empty)
    bad = ~np.isfinite(out)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise grid.error(i0 + i, j0 + j, f"non-finite number in {what}")
    return out


def _check_cell(grid: Grid, i: int, j: int, v: Any, what: str, allow_empty: bool) -> float:
    if isinstance(v, bool):
        raise grid.error(i, j, f"logical value {v} in {what}; a number is needed")
    if isinstance(v, (int, float, np.integer, np.floating)):
        return float(v)
    if v is None or (isinstance(v, str) and v.strip() == ""):
        f = grid.formula(i, j)
        if f:
            raise grid.error(i, j, f"formula {f} in {what} has no cached value: open the file in Excel or "
                                   "LibreOffice, recalculate and save it (or paste values) and run again")
        if grid.is_merged(i, j):
            raise grid.error(i, j, f"merged cells in {what}; unmerge them and enter one number per cell")
        if allow_empty:
            return 0.0
        raise grid.error(i, j, f"empty cell in {what}; enter 0, or set allow_empty_cells = yes in the "
                               "Settings sheet to read empty cells as 0")
    if isinstance(v, str):
        s = v.strip()
        if s.upper() in ERROR_VALUES or (s.startswith("#") and s.endswith(("!", "?", "A"))):
            raise grid.error(i, j, f"error value {s} in {what}")
        try:
            float(s.replace(",", ""))
            raise grid.error(i, j, f'number stored as text "{s}" in {what}; convert it to a number')
        except ValueError:
            raise grid.error(i, j, f'text "{s}" in {what}') from None
    raise grid.error(i, j, f"unexpected value {v!r} in {what}")


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


@dataclass
class TableLayout:
    """Where the blocks of a table were found (grid indices, 0-based)."""

    header: tuple[int, int]
    n_rows: int
    z_cols: tuple[int, int]
    y_cols: tuple[int, int]
    exports_col: int | None
    other_col: int | None
    x_col: int | None
    va_rows: tuple[int, int]
    total_row: int | None


def _balance_tol(ref: np.ndarray, rtol: float | None) -> np.ndarray:
    """Per-entry tolerance of a balance check against *ref* (the Settings option balance_rtol)."""
    if rtol is None:
        return 1e-6 * np.maximum(np.abs(ref), 1.0)
    return rtol * np.maximum(np.abs(ref), 1e-9 * np.abs(ref).max(initial=1.0))


def read_table_grid(grid: Grid, *, allow_empty: bool = False, name: str | None = None, monetary_unit: str = "",
                    satellites: dict | None = None, balance_rtol: float | None = 1e-6) -> tuple[MRIOTable, TableLayout]:
    """Read an MRIO table in xlmrio's layout from *grid*.

    Raises
    ------
    WorkbookError
        Naming sheet and cell for: no header, duplicated or missing labels, header labels that do not
        match the row labels, text/error values/empty cells in numeric blocks, formulas without cached
        values, merged cells, a ``Total input`` row that does not match ``Total output``.
    """
    anchor = find_anchor(grid, REGION, SECTOR)
    if anchor is None:
        raise WorkbookError("no table found: expected a header cell 'Region' with 'Sector' to its right "
                            "(xlmrio layout; see workbook_templates/xlmrio_input_template.xlsx)", grid.sheet, "A1")
    hi, hj = anchor
    # ---- row labels
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
    N = len(rows)
    # ---- Z column headers must repeat the row labels
    zc = hj + 2
    for k, (r, s) in enumerate(rows):
        got = (_label(grid, hi, zc + k, "region"), _label(grid, hi + 1, zc + k, "sector"))
        if got != (r, s):
            shown = f"{got[0]}|{got[1]}" if any(got) else "an empty header"
            raise grid.error(hi, zc + k, f"column header {shown} does not match row label {r}|{s}; "
                                         "the Z columns must repeat the row labels in the same order")
    # ---- final demand and special columns
    j = zc + N
    fd: list[tuple[str, str]] = []
    special: dict[str, int] = {}
    while j < grid.ncols:
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
        raise grid.error(hi, zc + N, "no final-demand columns after the Z block")
    cats = list(dict.fromkeys(c for _, c in fd))
    want_fd = [(r, c) for r in regions for c in cats]
    if fd != want_fd:
        dup = [x for x in fd if fd.count(x) > 1]
        k = next((k for k, (a, b) in enumerate(zip(fd, want_fd)) if a != b), min(len(fd), len(want_fd)))
        msg = (f"duplicated final-demand column {dup[0][0]}|{dup[0][1]}" if dup else
               "final-demand columns must list the same categories for every region, region by region"
               + (f": expected {want_fd[k][0]}|{want_fd[k][1]}" if k < len(want_fd) else ""))
        raise grid.error(hi, zc + N + min(k, len(fd) - 1), msg)
    yc = zc + N
    # ---- primary-input rows and the optional total row
    vi = hi + 2 + N
    va_labels: list[str] = []
    total_row = None
    i = vi
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
            total_row = i
            break
        elif a == "" and b == "":
            break
        else:
            raise grid.error(i, hj, f"unexpected row label {a!r} below the table; primary-input rows start with "
                                    f"'{PRIMARY}' in this column, the check row with '{TOTAL}'")
        i += 1
    _check_merged(grid, hi, hj, (total_row or vi + len(va_labels)) + 1, max([yc + len(fd)] + list(special.values())))
    region_sector = lambda k: f"{rows[k][0]}|{rows[k][1]}"  # noqa: E731
    Z = numeric_block(grid, hi + 2, zc, N, N, "the Z block", allow_empty=allow_empty)
    Y = numeric_block(grid, hi + 2, yc, N, len(fd), "the final-demand block", allow_empty=allow_empty)
    vec = {}
    for kind, jj in special.items():
        vec[kind] = numeric_block(grid, hi + 2, jj, N, 1, f"the {kind} column", allow_empty=allow_empty)[:, 0]
    V = numeric_block(grid, vi, zc, len(va_labels), N, "the primary-input rows", allow_empty=allow_empty) \
        if va_labels else None
    x = vec.get(TOTAL_OUTPUT)
    if Z.min(initial=0) < 0:
        i, j = np.unravel_index(np.argmin(Z), Z.shape)
        raise grid.error(hi + 2 + i, zc + j, f"negative intermediate flow {Z[i, j]:g} in Z "
                                             f"(row {region_sector(i)}, column {region_sector(j)}); Z must be >= 0")
    if x is not None:
        # the Total output column must equal the row sums, and (with primary inputs) the column sums
        tc = special[TOTAL_OUTPUT]
        tol_x = _balance_tol(x, balance_rtol)
        rows_sum = Z.sum(1) + Y.sum(1) + sum(vec[k] for k in (EXPORTS, OTHER) if k in vec)
        checks = [(rows_sum, "the row sum Z + final demand" + (" + exports" if EXPORTS in vec else "")
                   + (" + other" if OTHER in vec else ""))]
        if V is not None:
            checks.append((Z.sum(0) + V.sum(0), "the column sum Z + primary inputs"))
        for ref, what in checks:
            bad = np.flatnonzero(np.abs(x - ref) > tol_x)
            if bad.size:
                k = int(bad[np.argmax(np.abs(x - ref)[bad])])
                raise grid.error(hi + 2 + k, tc, f"Total output {x[k]:.10g} of {region_sector(k)} does not match "
                                                 f"{what}, {ref[k]:.10g} ({bad.size} region-sector(s) off; for a "
                                                 "published, rounded table loosen balance_rtol in the Settings sheet)")
    if total_row is not None:
        tot = numeric_block(grid, total_row, zc, 1, N, "the Total input row", allow_empty=allow_empty)[0]
        ref = x if x is not None else (Z.sum(0) + (V.sum(0) if V is not None else 0))
        bad = np.flatnonzero(np.abs(tot - ref) > _balance_tol(ref, balance_rtol))
        if bad.size:
            k = int(bad[0])
            raise grid.error(total_row, zc + k, f"Total input {tot[k]:.10g} of {region_sector(k)} does not match "
                                                f"total output {ref[k]:.10g}")
    try:
        table = MRIOTable.from_arrays(
            Z, Y, regions=regions, sectors=sectors, fd_categories=cats, V=V, va_rows=va_labels or None, x=x,
            exports=vec.get(EXPORTS), other=vec.get(OTHER), satellites=satellites,
            monetary_unit=monetary_unit, name=name if name is not None else grid.sheet)
    except TableError as exc:
        raise WorkbookError(str(exc), grid.sheet) from exc
    layout = TableLayout((hi, hj), N, (zc, zc + N), (yc, yc + len(fd)), special.get(EXPORTS), special.get(OTHER),
                         special.get(TOTAL_OUTPUT), (vi, vi + len(va_labels)), total_row)
    return table, layout


def read_satellite_grid(grid: Grid, table: MRIOTable, *, allow_empty: bool = False) -> dict:
    """Satellites in xlmrio's layout for *table*: ``{name: (values, unit, hh or None)}``."""
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
        vals = numeric_block(grid, i, c0, 1, len(cols), f"satellite {name!r}", allow_empty=allow_empty)[0]
        hh = None
        if has_hh:   # a satellite without direct final-demand emissions leaves all of its cells empty;
            # a partly filled row follows the allow_empty_cells rule like every numeric block
            blank = all(grid.get(i, fdc + k) in (None, "") for k in range(len(fd_cols)))
            hh = np.zeros(len(fd_cols)) if blank else numeric_block(
                grid, i, fdc, 1, len(fd_cols), f"final-demand emissions of {name!r}", allow_empty=allow_empty)[0]
        orphan = [k for k in range(len(cols)) if vals[k] != 0 and table.x[k] == 0]
        if orphan:
            k = orphan[0]
            raise grid.error(i, c0 + k, f"{name} emissions {vals[k]:g} for {cols[k][0]}|{cols[k][1]}, whose total "
                                        "output is 0 (orphan emissions); move them to a producing sector")
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
