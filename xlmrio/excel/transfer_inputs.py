"""Optional inputs of the 'Transfer & leakage' command: a coefficients sheet and a deflator sheet."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..core.table import MRIOTable
from ..errors import WorkbookError
from .layout import Grid, find_anchor, numeric_block


def read_coefficients(grid: Grid, table: MRIOTable) -> pd.Series:
    """Carbon coefficients laid out as in [XWL14] Table 2: sectors down, regions across.

    Header cell ``Sector`` (top-left), region labels to its right, sector labels below it. Every
    region-sector of the table needs a value. Returns a (region, sector) Series.
    """
    pos = None
    for i, row in enumerate(grid.values):
        for j, v in enumerate(row):
            if isinstance(v, str) and v.strip().lower() == "sector":
                pos = (i, j)
                break
        if pos:
            break
    if pos is None:
        raise WorkbookError("no header cell 'Sector' (sectors down, regions across)", grid.sheet, "A1")
    hi, hj = pos
    regions, cols = [], {}
    j = hj + 1
    while j < grid.ncols and grid.get(hi, j) not in (None, ""):
        r = str(grid.get(hi, j)).strip()
        if r not in table.regions:
            raise grid.error(hi, j, f"unknown region {r!r}; the table has {', '.join(table.regions)}")
        if r in cols:
            raise grid.error(hi, j, f"region {r!r} appears twice")
        cols[r] = j
        j += 1
    rows = {}
    i = hi + 1
    while i < grid.nrows and grid.get(i, hj) not in (None, ""):
        s = str(grid.get(i, hj)).strip()
        if isinstance(grid.get(i, hj), float) and float(grid.get(i, hj)).is_integer():
            s = str(int(grid.get(i, hj)))
        if s not in table.sectors:
            raise grid.error(i, hj, f"unknown sector {s!r}")
        rows[s] = i
        i += 1
    missing = [f"{r}|{s}" for r in table.regions for s in table.sectors if r not in cols or s not in rows]
    if missing:
        raise WorkbookError(f"coefficients missing for {', '.join(missing[:5])}" + (" ..." if len(missing) > 5 else ""),
                            grid.sheet, grid.addr(hi, hj))
    vals = []
    for r in table.regions:
        for s in table.sectors:
            vals.append(numeric_block(grid, rows[s], cols[r], 1, 1, "the coefficients")[0, 0])
    return pd.Series(vals, index=table.index, name="S")


def read_deflators(grid: Grid, table: MRIOTable) -> dict:
    """Price indices ``{"t0": p0, "t1": p1}`` (N-vectors) from ``Region | Sector | t0 | t1`` rows.

    ``*`` as region applies a sector's indices to every region; one row ``* | *`` gives one index for
    all region-sectors. Later rows override earlier ones; every region-sector needs an index.
    """
    anchor = find_anchor(grid, "Region", "Sector")
    if anchor is None:
        raise WorkbookError("no header cells 'Region', 'Sector' (columns Region | Sector | t0 | t1)", grid.sheet, "A1")
    hi, hj = anchor
    p = {"t0": np.full(table.N, np.nan), "t1": np.full(table.N, np.nan)}
    i = hi + 1
    n = table.n
    while i < grid.nrows and grid.get(i, hj) not in (None, ""):
        r, s = str(grid.get(i, hj)).strip(), str(grid.get(i, hj + 1) or "").strip()
        vals = numeric_block(grid, i, hj + 2, 1, 2, "the price indices")[0]
        if (vals <= 0).any():
            raise grid.error(i, hj + 2 + int(np.argmin(vals)), "price indices must be positive")
        regs = range(table.m) if r == "*" else [table.regions.index(r)] if r in table.regions else None
        if regs is None:
            raise grid.error(i, hj, f"unknown region {r!r} (or '*' for all)")
        secs = range(n) if s == "*" else [table.sectors.index(s)] if s in table.sectors else None
        if secs is None:
            raise grid.error(i, hj + 1, f"unknown sector {s!r} (or '*' for all)")
        for a in regs:
            for b in secs:
                p["t0"][a * n + b], p["t1"][a * n + b] = vals
        i += 1
    if np.isnan(p["t0"]).any():
        k = int(np.flatnonzero(np.isnan(p["t0"]))[0])
        raise WorkbookError(f"no price index for {table.label(k)}", grid.sheet, grid.addr(hi, hj))
    return p
