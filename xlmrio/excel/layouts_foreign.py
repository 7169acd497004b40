"""Readers for two published MRIO sheet layouts (WIOD world tables, CEADs China MRIO) on plain grids.

Like :mod:`xlmrio.excel.layout`, everything here works on a :class:`~xlmrio.excel.layout.Grid` (cell
values as xlwings returns them) and reports every problem as a :class:`~xlmrio.errors.WorkbookError`
naming the sheet and the cell. No Excel is needed.

WIOD world input-output tables (``WIOT`` sheets)
------------------------------------------------
Layout as documented by pymrio's ``parse_wiod`` (IndEcol/pymrio, ``pymrio/tools/ioparser.py``: header
rows/columns ``code, sector_names, region, c_code`` at offsets 0..3 after two title rows, last industry
``c35``, totals ``r60``/``r69`` dropped from the factor inputs, last column = total) and by published
scripts reading the 2013 release with fixed ranges (Z in ``E7:BCI1441``, output row ``1449``, i.e. eight
rows below the 1435 industry rows). The 2016 release has the same structure with ISIC Rev.4 codes
(``A01``, ``C10-C12``, ...), final-demand codes ``CONS_h, CONS_np, CONS_g, GFCF, INVEN`` and summary rows
coded ``II_fob, TXSP, EXP_adj, PURR, PURNR, VA, IntTTM, GO`` with country ``TOT`` (as mimicked in MARIO's
WIOD parser tests, it-is-me-mario/MARIO)::

    A                 B            C      D    | E ...            (Z)        | final demand     | total
    World Input-Output Table ...               |                             |                  |
    (industry-by-industry)                     | AtB / A01  (industry code)  | (CONS_h in 2016) | (GO)
    (millions of US$)                          | description                 | description      | Total output
                                               | AUS  (country)              | AUS              | (TOT)
                                               | c1 .. c35 (c1 .. c56)       | c37 ..  (c57 ..) | c62
    AtB  | Agriculture ... | AUS | c1 (r1)     | z ...                       | y ...            | x
    ...
    II_fob | Total intermediate consumption | TOT | r60        (skipped)
    TXSP   | taxes less subsidies on products ...              -> V rows (one per row, labelled by
    ...    | ... Value added at basic prices, International      the description)
    GO     | Output at basic prices (r69)                       -> checked against the total column

The reader finds the row holding the ``c1, c2, ...`` codes (the c-code row); the country, description
and industry-code rows are the three rows above it and the four label columns are the four columns left
of the first ``c1``. Primary-input rows are the rows between the industry rows and the output row,
except the total-intermediate-consumption row. Their entries under the final-demand columns (taxes on
final products, purchases abroad) have no place in an :class:`MRIOTable` and are not read.

CEADs China multi-regional IO tables
------------------------------------
The provincial MRIO workbooks from ceads.net (2012, 30 x 30, Mi et al. 2018, Sci. Data,
doi:10.1038/sdata.2018.155; 2012, 2015, 2017, 31 x 42, Zheng et al. 2021, Sci. Data,
doi:10.1038/s41597-021-01023-5; 2018 and 2020) use the National Bureau of Statistics codes.
What was learnt from MARIO's CEADS parser (it-is-me-mario/MARIO, ``mario/parsers/ceads.py`` and
``tests/test_ceads_parser.py``, GPL: read, not copied) and from the table structure published by
Mi et al. (their Table 5)::

    title
            |       | province (first column of each block; merged or blank to the right)
            |       | sector names ...  | Total intermediate use | Rural household consumption ... | Export ...
            |       | 01 02 ... 42      |  (TIU)                 | FU101 FU102 FU103 FU201 FU202   | EX (IM) TFU ERR GO
    Beijing | Agriculture | 01 | z ...  |                        | y ...                           | e (im) . o x
    (blank) | Mining      | 02 | ...           (province column merged/blank below the first row)
    ...
            | Imports                  | IM    -> V row "Imports" (non-competitive tables)
            | Total Intermediate Input | TII   (skipped)
            | Compensation of employees| VA001 -> V rows (VA001..VA004)
            | Total Value Added        | TVA   (skipped)
            | Total Input              | TI    -> checked against GO
            | CO2 (Mt)                 |       -> satellite "CO2" (unit from the parentheses), when present

Province labels are forward-filled (merged cells), sector codes may be numbers (``1.0`` -> ``"01"``).
Column kinds are recognised by NBS code first (``TIU, FU1xx/FU2xx, EX, IM, TFU, ERR, GO``) and by the
English header text otherwise.

Imports (METHODS §1.4). Where imports are a *row* (the CEADs tables listed above) the table is already
non-competitive and the row becomes the primary-input row ``Imports``. Where an imports *column* is
present (competitive table, NBS convention: entered negative, ``Z1 + Y1 + EX + ERR + IM = GO``; the sign
is taken from whichever convention fits the row identity), the default ``imports="noncompetitive"``
converts it with :func:`xlmrio.core.aggregation.noncompetitive` (proportional split of every row into
domestic and imported use, imported intermediate inputs appended to V): emission multipliers then
follow domestic supply chains only, which is what the methods (after [XWL14]) assume. With
``imports="other"`` the imports column is added to ``other`` instead (row identity kept, imported
inputs stay inside Z and are treated as if produced in the province — only for reproducing
competitive-table results).

Test data: ../shared/data holds WIOD 2013 only as .RData (no xlsx) and no CEADs IO workbook, so the
tests build synthetic grids that mimic the header structure and label columns above.
"""
from __future__ import annotations

import re
from typing import Any

import numpy as np

from ..core.table import MRIOTable
from ..errors import TableError, WorkbookError, XlmrioError
from .layout import Grid, Problems, _text, find_anchor, numeric_block, read_table_grid, REGION, SECTOR

__all__ = ["read_wiod_grid", "read_ceads_grid", "detect_layout", "read_any_grid"]

LAYOUTS = ("xlmrio", "wiod", "ceads")
_SCAN_ROWS = 60  # how far down the header row is looked for
WIOD_SUMMARY_CODES = {"ii_fob", "txsp", "exp_adj", "purr", "purnr", "va", "intttm", "go"}
_CCODE = re.compile(r"^c(\d+)$", re.IGNORECASE)
_DIGITS = re.compile(r"^\d+$")


# ---------------------------------------------------------------------- small helpers
def _t(grid: Grid, i: int, j: int) -> str:
    """Text of a cell ('' for empty or out of range, 3.0 -> '3')."""
    if i < 0 or j < 0:
        return ""
    return _text(grid.get(i, j)).replace("\n", " ").strip()


def _ceads_code(v: Any) -> str:
    """NBS code of a cell: numbers and digit strings become two-digit strings (1.0 -> '01')."""
    t = _text(v).strip()
    if _DIGITS.fullmatch(t):
        return t.zfill(2)
    if re.fullmatch(r"\d+\.0+", t):
        return str(int(float(t))).zfill(2)
    return t


def _structure(grid: Grid, rows: list[tuple[str, str]], i0: int, j_region: int, j_sector: int,
               what: str) -> tuple[list[str], list[str]]:
    """Regions and sector keys from region-major row labels; errors name the offending label cell."""
    first = rows[0][0]
    sectors = [s for r, s in rows if r == first]
    n = len(sectors)
    if len(set(sectors)) != n:
        dup = next(s for s in sectors if sectors.count(s) > 1)
        k = [s for _, s in rows].index(dup, sectors.index(dup) + 1)
        raise grid.error(i0 + k, j_sector, f"{what} {dup!r} appears twice for {first!r}")
    regions: list[str] = []
    for k, (r, s) in enumerate(rows):
        pos = k % n
        if pos == 0:
            if r in regions:
                raise grid.error(i0 + k, j_region, f"region {r!r} appears again after other regions; the rows "
                                                   "must list each region's sectors in one block")
            regions.append(r)
        if r != regions[-1]:
            raise grid.error(i0 + k, j_region, f"expected region {regions[-1]!r} (it lists {pos} of the {n} "
                                               f"sectors so far), found {r!r}")
        if s != sectors[pos]:
            raise grid.error(i0 + k, j_sector, f"expected {what} {sectors[pos]!r} for {r}, found {s!r}: every "
                                               "region must list the same sectors in the same order")
    if len(rows) % n:
        raise grid.error(i0 + len(rows), j_sector, f"region {regions[-1]!r} lists {len(rows) % n} of the {n} "
                                                   f"sectors; missing {sectors[len(rows) % n]!r}")
    return regions, sectors


def _fd_structure(grid: Grid, fd: list[tuple[str, str]], j0: int, hrow: int, crow: int,
                  regions: list[str]) -> list[str]:
    """Final-demand columns must be (region, category) in region-major order with equal categories."""
    cats = list(dict.fromkeys(c for _, c in fd))
    want = [(r, c) for r in regions for c in cats]
    if fd != want:
        dup = [x for x in fd if fd.count(x) > 1]
        k = next((k for k, (a, b) in enumerate(zip(fd, want)) if a != b), min(len(fd), len(want)))
        k = min(k, len(fd) - 1)
        if dup:
            k = [i for i, x in enumerate(fd) if x == dup[0]][1]
            raise grid.error(hrow, j0 + k, f"duplicated final-demand column {dup[0][0]}|{dup[0][1]}")
        exp = f": expected {want[k][0]}|{want[k][1]}, found {fd[k][0]}|{fd[k][1]}" if k < len(want) else ""
        row = crow if k < len(want) and fd[k][0] == want[k][0] else hrow
        raise grid.error(row, j0 + k,
                         "final-demand columns must list the same categories for every region, region by "
                         "region in the order of the rows" + exp)
    return cats


def _check_z(grid: Grid, Z: np.ndarray, i0: int, j0: int, labels: list[str], problems: Problems) -> None:
    """Z >= 0: the most negative flow first (every one when *problems* collects)."""
    if Z.size and Z.min() < 0:
        worst = np.unravel_index(np.argmin(Z), Z.shape)
        cells = [worst] + [tuple(c) for c in np.argwhere(Z < 0) if tuple(c) != worst] if problems.collect \
            else [worst]
        for i, j in cells:
            problems.report(grid, i0 + i, j0 + j, f"negative intermediate flow {Z[i, j]:g} (row {labels[i]}, column "
                                                  f"{labels[j]})", "Z must be >= 0",
                            kind="negative intermediate flow in Z", value=Z[i, j])


def _compare(grid: Grid, a: np.ndarray, b: np.ndarray, rtol: float, cell, message, kind: str,
             problems: Problems | None = None) -> None:
    """Report ``cell(k)`` at the first k (every k when collecting) where a and b differ beyond rtol
    (atol 1e-9·max)."""
    problems = problems or Problems()
    scale = np.maximum(np.abs(a), np.abs(b))
    atol = 1e-9 * max(float(scale.max(initial=0.0)), 1.0)
    bad = np.flatnonzero(np.abs(a - b) > rtol * scale + atol)
    for k in (bad if problems.collect else bad[:1]):
        i, j = cell(int(k))
        problems.report(grid, i, j, message(int(k)), kind=kind, value=float(a[k] - b[k]))


def _build(grid: Grid, problems: Problems | None = None, **kw) -> MRIOTable:
    """The table from its arrays; after collecting (Validate), without the fatal checks already reported."""
    try:
        return MRIOTable.from_arrays(**kw, check=not (problems and problems.collect))
    except TableError as exc:
        raise WorkbookError(str(exc), grid.sheet) from exc


# ---------------------------------------------------------------------- WIOD
def _find_wiod_header(grid: Grid, max_rows: int = _SCAN_ROWS) -> tuple[int, int] | None:
    """(row, col) of the first ``c1`` followed by ``c2`` (or ``c1`` for one-sector tables)."""
    for i in range(min(grid.nrows, max_rows)):
        row = grid.values[i]
        for j, v in enumerate(row):
            if isinstance(v, str) and v.strip().lower() == "c1" and _t(grid, i, j + 1).lower() in ("c2", "c1"):
                return i, j
    return None


def _wiod_is_total_col(code: str, desc: str, cty: str, cc: str) -> bool:
    return cc.lower() == "c62" or code.upper() == "GO" or cty.upper() == "TOT" or "output" in desc.lower()


def read_wiod_grid(grid: Grid, *, allow_empty: bool = False, name: str | None = None,
                   monetary_unit: str | None = None, sector_labels: str = "code",
                   rtol: float = 1e-6, problems: Problems | None = None) -> MRIOTable:
    """Read a WIOD world input-output table (2013 or 2016 release ``WIOT`` sheet) from *grid*.

    Parameters
    ----------
    grid : Grid
        The sheet's cells (the whole used range, top-left at ``grid.row0``/``grid.col0``).
    allow_empty : bool
        Read empty numeric cells as 0.
    name : str, optional
        Table name (default: the sheet name).
    monetary_unit : str, optional
        Default: read from the ``(millions of US$)`` cell in the label column, else ``""``.
    sector_labels : {"code", "name", "ccode"}
        Sector labels from the industry-code column (``AtB``/``A01``, pymrio's default), the
        description column, or the WIOD ``c1..`` numbering.
    rtol : float
        Relative tolerance for the output row (``r69``/``GO``) against the total-output column.

    Returns
    -------
    MRIOTable
        Z, Y (5 categories per country, labelled by the 2016 code or the 2013 c-code), V (one row per
        primary-input row, labelled by its description), x from the total-output column (or the output
        row when there is no such column).

    Raises
    ------
    WorkbookError
        Naming sheet and cell: no ``c1, c2`` header, rows not in country-major order or with different
        industries, column headers that do not repeat the row countries/codes, unknown countries in
        final-demand headers, text/error/empty cells in numeric blocks, negative Z, output row and column
        that disagree beyond *rtol*.
    """
    if sector_labels not in ("code", "name", "ccode"):
        raise WorkbookError(f"sector_labels must be 'code', 'name' or 'ccode', not {sector_labels!r}", grid.sheet)
    hdr = _find_wiod_header(grid)
    if hdr is None:
        raise WorkbookError("no WIOD table found: expected a header row with industry codes 'c1', 'c2', ... "
                            "(WIOT sheet of the WIOD release)", grid.sheet, "A1")
    hc, j0 = hdr
    hk, hd, hcode = hc - 1, hc - 2, hc - 3
    if j0 < 4:
        raise grid.error(hc, j0, "the WIOD layout needs four label columns (code, description, country, "
                                 "row code) left of the first 'c1' column")
    lc_code, lc_desc, lc_cty, lc_rc = j0 - 4, j0 - 3, j0 - 2, j0 - 1
    # ---- industry rows
    i0 = hc + 1
    keys: list[tuple[str, str]] = []
    info: list[tuple[str, str, str]] = []  # (code, description, row code)
    i = i0
    while i < grid.nrows:
        code, desc, cty, rc = (_t(grid, i, lc_code), _t(grid, i, lc_desc), _t(grid, i, lc_cty), _t(grid, i, lc_rc))
        if (cty == "" or cty.upper() == "TOT" or code.lower() in WIOD_SUMMARY_CODES
                or desc.lower().startswith("total intermediate")):
            break
        keys.append((cty, code or rc or desc))
        info.append((code, desc, rc))
        i += 1
    if not keys:
        raise grid.error(i0, lc_cty, "no industry rows below the WIOD header (country code expected here)")
    regions, sector_keys = _structure(grid, keys, i0, lc_cty, lc_code, "industry")
    n, N = len(sector_keys), len(keys)
    # ---- Z column headers repeat the row countries and the c-codes of the first block
    ccodes = [_t(grid, hc, j0 + k) for k in range(n)]
    for k in range(N):
        r = keys[k][0]
        got = _t(grid, hk, j0 + k)
        if got != r:
            raise grid.error(hk, j0 + k, f"column country {got or 'empty'!r} does not match the row country {r!r} "
                                         f"of row {grid.row0 + i0 + k}; the Z columns must repeat the rows")
        cc = _t(grid, hc, j0 + k)
        if not _CCODE.fullmatch(cc) or cc != ccodes[k % n]:
            raise grid.error(hc, j0 + k, f"industry code {cc or 'empty'!r} where {ccodes[k % n]!r} is expected "
                                         f"({r}, {n} industries per country)")
        code = _t(grid, hcode, j0 + k)
        if code and info[k][0] and code != info[k][0]:
            raise grid.error(hcode, j0 + k, f"column industry {code!r} does not match the row industry "
                                            f"{info[k][0]!r} of row {grid.row0 + i0 + k}")
    # ---- final-demand columns and the total-output column
    fd: list[tuple[str, str]] = []
    x_col = None
    j = j0 + N
    while j < grid.ncols:
        code, desc, cty, cc = _t(grid, hcode, j), _t(grid, hd, j), _t(grid, hk, j), _t(grid, hc, j)
        if _wiod_is_total_col(code, desc, cty, cc):
            x_col = j
            break
        if not (code or desc or cty or cc):
            break
        if cty not in regions:
            raise grid.error(hk, j, f"final-demand column for unknown country {cty or 'empty'!r} "
                                    f"(countries: {', '.join(regions[:8])}{' ...' if len(regions) > 8 else ''})")
        cat = code or cc
        if not cat:
            raise grid.error(hc, j, f"missing final-demand category code for {cty}")
        fd.append((cty, cat))
        j += 1
    if not fd:
        raise grid.error(hk, j0 + N, "no final-demand columns after the intermediate block")
    cats = _fd_structure(grid, fd, j0 + N, hk, hc, regions)
    # ---- rows below: primary inputs and output
    va_rows: list[int] = []
    va_labels: list[str] = []
    out_row = None
    i = i0 + N
    while i < grid.nrows:
        code, desc, rc = _t(grid, i, lc_code), _t(grid, i, lc_desc), _t(grid, i, lc_rc)
        if not (code or desc or rc or _t(grid, i, lc_cty)):
            break
        dl = desc.lower()
        if code.upper() == "GO" or dl.startswith("output") or dl in ("total output", "gross output"):
            out_row = i
            break
        if code.lower() == "ii_fob" or dl.startswith("total intermediate"):
            i += 1
            continue
        lab = desc or code or rc
        if lab in va_labels:
            raise grid.error(i, lc_desc, f"duplicated primary-input row {lab!r}")
        va_rows.append(i)
        va_labels.append(lab)
        i += 1
    if x_col is None and out_row is None:
        raise grid.error(hc, j0 + N + len(fd), "no total-output column (c62 / GO) and no output row "
                                               "('Output at basic prices') found")
    # ---- numbers
    problems = problems or Problems()
    kw = {"allow_empty": allow_empty, "problems": problems}
    Z = numeric_block(grid, i0, j0, N, N, "the intermediate block", **kw)
    Y = numeric_block(grid, i0, j0 + N, N, len(fd), "the final-demand block", **kw)
    V = np.vstack([numeric_block(grid, r, j0, 1, N, f"primary-input row {lab!r}", **kw)
                   for r, lab in zip(va_rows, va_labels)]) if va_rows else None
    col_x = None if x_col is None else \
        numeric_block(grid, i0, x_col, N, 1, "the total-output column", **kw)[:, 0]
    row_x = None if out_row is None else \
        numeric_block(grid, out_row, j0, 1, N, "the output row", **kw)[0]
    labels = [f"{r}|{s}" for r, s in keys]
    if col_x is not None and row_x is not None:
        _compare(grid, row_x, col_x, rtol, lambda k: (out_row, j0 + k),
                 lambda k: f"output {row_x[k]:.10g} of {labels[k]} does not match the total-output column "
                           f"({col_x[k]:.10g} in row {grid.row0 + i0 + k}); loosen rtol for rounded tables",
                 "output row does not match the total-output column", problems)
    x = col_x if col_x is not None else row_x
    _check_z(grid, Z, i0, j0, labels, problems)
    pick = {"code": 0, "name": 1, "ccode": 2}[sector_labels]
    sectors = []
    for k in range(n):
        lab = info[k][pick] if pick < 2 else ccodes[k]
        sectors.append(lab or sector_keys[k])
    if len(set(sectors)) != n:
        dup = next(s for s in sectors if sectors.count(s) > 1)
        raise grid.error(i0 + sectors.index(dup, sectors.index(dup) + 1), lc_code + pick,
                         f"sector label {dup!r} is not unique; use another sector_labels option")
    if monetary_unit is None:
        monetary_unit = ""
        for r in range(min(hc + 1, grid.nrows)):
            t = _t(grid, r, lc_code)
            if t.startswith("(") and ("$" in t or "million" in t.lower() or "euro" in t.lower()):
                monetary_unit = t.strip("()").strip()
                break
    return _build(grid, problems, Z=Z, Y=Y, regions=regions, sectors=sectors, fd_categories=cats, V=V,
                  va_rows=va_labels or None, x=x, monetary_unit=monetary_unit,
                  name=name if name is not None else grid.sheet)


# ---------------------------------------------------------------------- CEADs
def _find_ceads_header(grid: Grid, max_rows: int = _SCAN_ROWS, max_cols: int | None = None) -> tuple[int, int] | None:
    """(row, col) of the sector-code header: codes 01, 02 with the data row's code 01 just left below."""
    for i in range(min(grid.nrows - 1, max_rows)):
        row = grid.values[i]
        last = len(row) if max_cols is None else min(len(row), max_cols)
        for j in range(1, last):
            if (_ceads_code(row[j]) == "01" and _ceads_code(grid.get(i, j + 1)) in ("02", "01")
                    and _ceads_code(grid.get(i + 1, j - 1)) == "01" and not _DIGITS.fullmatch(_ceads_code(row[j - 1]))):
                return i, j
    return None


def _ceads_col_kind(code: str, name: str) -> str:
    c, nm = code.upper(), name.lower()
    if c == "TIU" or nm.startswith("total intermediate"):
        return "skip"
    if c == "TFU" or nm.startswith("total final"):
        return "skip"
    if re.fullmatch(r"FU\d+", c) or any(w in nm for w in ("consumption", "capital formation", "inventor")):
        return "fd"
    if c in ("EX", "EXP") or nm.startswith("export"):
        return "exports"
    if c in ("IM", "IMP") or nm.startswith("import"):
        return "imports"
    if c in ("ERR", "OTHER", "OT") or nm.startswith(("error", "other", "statistical")):
        return "other"
    if c in ("GO", "TO") or nm in ("gross output", "total output", "output"):
        return "x"
    if c == "" and nm == "":
        return "end"
    return "unknown"


def read_ceads_grid(grid: Grid, *, allow_empty: bool = False, name: str | None = None,
                    monetary_unit: str = "10k CNY", sector_labels: str = "name", imports: str = "noncompetitive",
                    rtol: float = 1e-6, notes: list[str] | None = None,
                    problems: Problems | None = None) -> MRIOTable:
    """Read a CEADs China multi-regional IO table (English sheet) from *grid*.

    Parameters
    ----------
    grid : Grid
        The sheet's cells.
    allow_empty : bool
        Read empty numeric cells as 0.
    name : str, optional
        Table name (default: the sheet name).
    monetary_unit : str
        CEADs tables are in 10 000 yuan (万元); change it for other files.
    sector_labels : {"name", "code"}
        Sector labels from the English sector names or the NBS codes (``"01"`` ..).
    imports : {"noncompetitive", "other"}
        What to do with a competitive imports *column* (see the module docstring); an imports *row*
        always becomes the primary-input row ``Imports``.
    rtol : float
        Relative tolerance for the ``Total Input`` row against ``Gross Output``.
    notes : list, optional
        Receives warnings of the non-competitive conversion (rows whose import share was clipped).

    Returns
    -------
    MRIOTable
        Z, Y (categories as in the header, e.g. rural/urban household consumption, government consumption,
        fixed capital formation, changes in inventories), exports, other (the ``ERR`` column), V (imports
        row if any, VA001..VA004), x from ``GO`` (else derived), satellite ``CO2`` if a CO2 row is present.

    Raises
    ------
    WorkbookError
        Naming sheet and cell, as :func:`read_wiod_grid`; also for unrecognised columns between the
        intermediate block and ``GO``, an imports row *and* column, and a ``Total Input`` row that does
        not match ``GO``.
    """
    if sector_labels not in ("name", "code"):
        raise WorkbookError(f"sector_labels must be 'name' or 'code', not {sector_labels!r}", grid.sheet)
    if imports not in ("noncompetitive", "other"):
        raise WorkbookError(f"imports must be 'noncompetitive' or 'other', not {imports!r}", grid.sheet)
    hdr = _find_ceads_header(grid)
    if hdr is None:
        raise WorkbookError("no CEADs table found: expected a header row with sector codes 01, 02, ... above "
                            "the first data row (province | sector | code | numbers)", grid.sheet, "A1")
    hc, j0 = hdr
    hn, hp = hc - 1, hc - 2
    if j0 < 3:
        raise grid.error(hc, j0, "the CEADs layout needs three label columns (province, sector, code) left of "
                                 "the first sector column")
    lc_prov, lc_name, lc_code = j0 - 3, j0 - 2, j0 - 1
    # ---- data rows (province forward-filled)
    i0 = hc + 1
    keys: list[tuple[str, str]] = []
    names: list[str] = []
    prov = ""
    i = i0
    while i < grid.nrows:
        code = _ceads_code(grid.get(i, lc_code))
        if not _DIGITS.fullmatch(code):
            break
        p = _t(grid, i, lc_prov)
        if p:
            prov = p
        elif not prov:
            raise grid.error(i, lc_prov, "missing province name in the first data row")
        nm = _t(grid, i, lc_name)
        if nm == "":
            raise grid.error(i, lc_name, f"missing sector name for code {code}")
        keys.append((prov, code))
        names.append(nm)
        i += 1
    regions, codes = _structure(grid, keys, i0, lc_prov, lc_code, "sector code")
    n, N = len(codes), len(keys)
    for k in range(n, N):
        if names[k] != names[k % n]:
            raise grid.error(i0 + k, lc_name, f"sector name {names[k]!r} differs from {names[k % n]!r} used for "
                                              f"code {codes[k % n]} in {regions[0]}")
    # ---- Z column headers
    hprov = ""
    for k in range(N):
        j = j0 + k
        p = _t(grid, hp, j)
        hprov = p or hprov
        if hprov != keys[k][0]:
            raise grid.error(hp, j, f"column province {hprov or 'empty'!r} does not match the row province "
                                    f"{keys[k][0]!r} of row {grid.row0 + i0 + k}; the columns must repeat the rows")
        c = _ceads_code(grid.get(hc, j))
        if c != keys[k][1]:
            raise grid.error(hc, j, f"column sector code {c or 'empty'!r} does not match the row code "
                                    f"{keys[k][1]!r} of row {grid.row0 + i0 + k}")
        nm = _t(grid, hn, j)
        if nm and nm != names[k]:
            raise grid.error(hn, j, f"column sector {nm!r} does not match the row sector {names[k]!r}")
    # ---- columns after Z
    fd: list[tuple[str, str]] = []
    fd_cols: list[int] = []
    special: dict[str, int] = {}
    fprov = None
    j = j0 + N
    while j < grid.ncols:
        code, nm = _t(grid, hc, j), _t(grid, hn, j)
        kind = _ceads_col_kind(code, nm)
        if kind == "end":
            break
        if kind == "unknown":
            raise grid.error(hc, j, f"unrecognised column {nm or code!r} between the intermediate block and "
                                    "Gross Output (expected TIU, FU101..FU202, EX, IM, TFU, ERR, GO)")
        if kind == "fd":
            if special:
                raise grid.error(hc, j, f"final-demand column {nm or code!r} after the "
                                        f"{', '.join(special)} column(s)")
            p = _t(grid, hp, j)
            if p:
                fprov = p
            if fprov is None:
                raise grid.error(hp, j, "missing province name above the first final-demand column")
            if fprov not in regions:
                raise grid.error(hp, j, f"final-demand column for unknown province {fprov!r}")
            fd.append((fprov, nm or code))
            fd_cols.append(j)
        elif kind != "skip":
            if kind in special:
                raise grid.error(hc, j, f"duplicated {kind} column")
            special[kind] = j
            if kind == "x":
                break
        j += 1
    if not fd:
        raise grid.error(hc, j0 + N, "no final-demand columns (FU101 .. FU202) after the intermediate block")
    if fd_cols != list(range(fd_cols[0], fd_cols[0] + len(fd_cols))):
        k = next(k for k in range(1, len(fd_cols)) if fd_cols[k] != fd_cols[k - 1] + 1)
        raise grid.error(hc, fd_cols[k - 1] + 1, "final-demand columns must be contiguous")
    cats = _fd_structure(grid, fd, fd_cols[0], hp, hn, regions)
    # ---- rows below
    va_rows: list[int] = []
    va_labels: list[str] = []
    im_row = ti_row = None
    sats: dict[str, tuple[int, str]] = {}
    in_va = True
    for i in range(i0 + N, grid.nrows):
        code, nm = _t(grid, i, lc_code), _t(grid, i, lc_name)
        c, nl = code.upper(), nm.lower()
        if nm.upper().startswith("CO2"):
            m = re.search(r"\(([^)]*)\)", nm)
            sats["CO2"] = (i, m.group(1).strip() if m else "")
            in_va = False
            continue
        if not in_va:
            if ti_row is None and (c == "TI" or nl == "total input"):
                ti_row = i
            continue
        if not (code or nm):
            in_va = False
        elif c == "TI" or nl == "total input":
            ti_row, in_va = i, False
        elif c in ("TII", "TVA") or nl.startswith("total") or nl.startswith("gross input"):
            continue
        elif c in ("IM", "IMP") or nl.startswith("import"):
            im_row = i
            va_rows.append(i)
            va_labels.append("Imports")
        else:
            lab = nm or code
            if lab in va_labels:
                raise grid.error(i, lc_name, f"duplicated primary-input row {lab!r}")
            va_rows.append(i)
            va_labels.append(lab)
    if im_row is not None and "imports" in special:
        raise grid.error(im_row, lc_code, "the table has both an imports row and an imports column "
                                          f"({grid.addr(hc, special['imports'])}); keep one")
    # ---- numbers
    problems = problems or Problems()
    kw = {"allow_empty": allow_empty, "problems": problems}
    Z = numeric_block(grid, i0, j0, N, N, "the intermediate block", **kw)
    Y = numeric_block(grid, i0, fd_cols[0], N, len(fd), "the final-demand block", **kw)
    vec = {kind: numeric_block(grid, i0, jj, N, 1, f"the {kind} column", **kw)[:, 0]
           for kind, jj in special.items()}
    V = np.vstack([numeric_block(grid, r, j0, 1, N, f"primary-input row {lab!r}", **kw)
                   for r, lab in zip(va_rows, va_labels)]) if va_rows else None
    labels = [f"{r}|{names[k]}" for k, (r, _) in enumerate(keys)]
    _check_z(grid, Z, i0, j0, labels, problems)
    x = vec.get("x")
    if ti_row is not None:
        ti = numeric_block(grid, ti_row, j0, 1, N, "the Total Input row", **kw)[0]
        if x is None:
            x = ti
        else:
            _compare(grid, ti, x, rtol, lambda k: (ti_row, j0 + k),
                     lambda k: f"Total Input {ti[k]:.10g} of {labels[k]} does not match Gross Output {x[k]:.10g} "
                               f"({grid.addr(i0 + k, special['x'])})",
                     "Total Input does not match Gross Output", problems)
    satellites = {}
    for sname, (r, unit) in sats.items():
        vals = numeric_block(grid, r, j0, 1, N, f"the {sname} row", allow_empty=True, problems=problems)[0]
        satellites[sname] = (vals, unit)
    sectors = names[:n] if sector_labels == "name" else codes
    if len(set(sectors)) != n:
        dup = next(s for s in sectors if sectors.count(s) > 1)
        raise grid.error(i0 + sectors.index(dup, sectors.index(dup) + 1), lc_name,
                         f"sector name {dup!r} is not unique; use sector_labels='code'")
    other = vec.get("other")
    im = vec.get("imports")
    m_imp = None
    if im is not None:
        base = Z.sum(1) + Y.sum(1) + vec.get("exports", 0.0) + (other if other is not None else 0.0)
        if x is None:
            negative = im.sum() <= 0
        else:
            negative = np.abs(base + im - x).sum() <= np.abs(base - im - x).sum()
        m_imp = -im if negative else im
        if (m_imp < 0).any():
            k = int(np.argmin(m_imp))
            raise grid.error(i0 + k, special["imports"], f"imports {im[k]:g} of {labels[k]} has the other sign than "
                                                          "the rest of the imports column")
        if x is None:  # no GO column nor Total Input row: x from the competitive row identity
            x = base - m_imp
        if imports == "other":
            other = (other if other is not None else 0.0) - m_imp
            m_imp = None
    table = _build(grid, problems, Z=Z, Y=Y, regions=regions, sectors=sectors, fd_categories=cats, V=V,
                   va_rows=va_labels or None, x=x, exports=vec.get("exports"), other=other,
                   satellites=satellites or None, monetary_unit=monetary_unit,
                   name=name if name is not None else grid.sheet)
    if m_imp is not None and imports == "noncompetitive":
        from ..core.aggregation import noncompetitive

        try:
            table, warns = noncompetitive(table, m_imp, name=table.name)
        except XlmrioError as exc:
            raise WorkbookError(str(exc), grid.sheet, grid.addr(hc, special["imports"])) from exc
        if notes is not None:
            notes.extend(warns)
    return table


# ---------------------------------------------------------------------- detection and dispatch
def _window(grid: Grid, rows: int = 12, cols: int = 12) -> Grid:
    return Grid(grid.sheet, [list(r[:cols]) for r in grid.values[:rows]], grid.row0, grid.col0)


def detect_layout(grid: Grid) -> str:
    """``"xlmrio"``, ``"wiod"`` or ``"ceads"`` from the header cells in the first 12 rows × 12 columns.

    xlmrio: a ``Region`` cell with ``Sector`` to its right; WIOD: a header row with industry codes
    ``c1, c2``; CEADs: a header row with sector codes ``01, 02`` above a data row whose code column
    reads ``01``. Raises :class:`WorkbookError` (cell A1 of the grid) when none matches.
    """
    w = _window(grid)
    if find_anchor(w, REGION, SECTOR) is not None:
        return "xlmrio"
    if _find_wiod_header(w) is not None:
        return "wiod"
    if _find_ceads_header(w) is not None:
        return "ceads"
    raise WorkbookError("unknown table layout: expected xlmrio's 'Region' | 'Sector' header, a WIOD header row "
                        "with industry codes c1, c2, ... or a CEADs header row with sector codes 01, 02, ... in "
                        "the first 12 rows and columns", grid.sheet, grid.addr(0, 0))


def read_any_grid(grid: Grid, layout: str = "auto", **kw) -> MRIOTable:
    """Read a table in any supported layout; ``layout="auto"`` uses :func:`detect_layout`.

    Keyword arguments go to :func:`~xlmrio.excel.layout.read_table_grid`, :func:`read_wiod_grid` or
    :func:`read_ceads_grid`.
    """
    if layout == "auto":
        layout = detect_layout(grid)
    if layout == "xlmrio":
        return read_table_grid(grid, **kw)[0]
    if layout == "wiod":
        return read_wiod_grid(grid, **kw)
    if layout == "ceads":
        return read_ceads_grid(grid, **kw)
    raise WorkbookError(f"unknown layout {layout!r}; use one of auto, {', '.join(LAYOUTS)}", grid.sheet)
