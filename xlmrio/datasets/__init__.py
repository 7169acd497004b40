"""Bundled and raw-data MRIO tables.

* :func:`demo` — a small world EE-MRIO (8 regions x 17 sectors, 5 final-demand categories, CO2)
  for 2002 and 2007, derived from the WIOD 2013 release and the JRC CO2 accounts and shipped inside
  the package (``data/``; sources, derivation and licence notes in ``data/PROVENANCE.md``).
* :func:`wiod` — the full WIOD 2013 world table (41 regions x 35 industries) read from the raw
  files in ``../shared/data`` when they are present (for benchmarks), optionally with JRC CO2.
* :func:`demo_concordance` — the region and sector concordances used for the demo.
"""
from __future__ import annotations

import csv
import io
import os
from functools import lru_cache
from importlib import resources

import numpy as np

from ..errors import DataNotFoundError, OptionError
from . import concordance as cc

__all__ = ["DEMO_YEARS", "demo", "wiod", "demo_concordance", "shared_data_dir"]

DEMO_YEARS: tuple[int, ...] = (2002, 2007)
"""Years of the bundled demo table."""

_CONCORDANCE_FILES = {
    "regions": "demo_regions.csv",
    "sectors": "demo_sectors.csv",
    "countries": "concordance_countries.csv",
    "wiod35": "concordance_wiod35.csv",
    "jrc56": "concordance_jrc56.csv",
}


def _data_text(name: str) -> str:
    res = resources.files(__name__).joinpath("data", name)
    try:
        return res.read_text(encoding="utf-8")
    except FileNotFoundError as exc:  # a broken installation
        raise DataNotFoundError(f"bundled data file {name} is missing from the xlmrio installation") from exc


def _rows(name: str) -> tuple[list[str], list[list[str]]]:
    rows = list(csv.reader(io.StringIO(_data_text(name))))
    return rows[0], rows[1:]


def _matrix(name: str, row_labels: list[tuple[str, str]], col_labels: list[str]) -> np.ndarray:
    header, rows = _rows(name)
    if header[2:] != col_labels or [tuple(r[:2]) for r in rows] != row_labels:
        raise DataNotFoundError(f"bundled data file {name} has unexpected labels")
    return np.array([[float(v) for v in r[2:]] for r in rows], dtype=np.float64)


def _vector(name: str, labels: list[tuple[str, str]]) -> np.ndarray:
    _, rows = _rows(name)
    if [tuple(r[:2]) for r in rows] != labels:
        raise DataNotFoundError(f"bundled data file {name} has unexpected labels")
    return np.array([float(r[2]) for r in rows], dtype=np.float64)


@lru_cache(maxsize=None)
def demo(year: int):
    """The bundled demo world EE-MRIO for ``year`` (2002 or 2007).

    8 regions (CHN, JPN, KOR+TWN, USA, EU, OHI other high-income, OEM other emerging, RoW) x 17
    sectors ("01 Agriculture" ... "17 Other services"), 5 final-demand categories per region
    (Households, NPISH, Government, GFCF, Inventories), no exports column (a closed world table).
    Derived from the WIOD 2013 release world tables (Timmer et al. 2015) and the JRC CO2 accounts
    (Corsatea et al. 2019); see ``xlmrio/datasets/data/PROVENANCE.md``.

    ``Z`` and ``Y`` are whole numbers (million USD, current prices); ``x = Z 1 + Y 1`` and the single
    value-added row ``V = x' - 1'Z`` (METHODS §1.3) are derived on loading, so the table balances to
    float precision. Satellite ``"CO2"`` in kt CO2: industry emissions by region-sector and direct
    household emissions in the ``Households`` column of each region.

    Parameters
    ----------
    year : int
        2002 or 2007.

    Returns
    -------
    MRIOTable
        Named ``"Demo world MRIO <year>"``, ``monetary_unit = "million USD"``.

    Raises
    ------
    OptionError
        For any other year.
    """
    from ..core.table import MRIOTable

    try:
        y = int(year)
    except (TypeError, ValueError):
        y = None
    if y not in DEMO_YEARS:
        raise OptionError(f"no demo table for year {year!r}: available years are "
                          f"{', '.join(str(v) for v in DEMO_YEARS)}")
    regions, sectors, cats = cc.DEMO_REGION_CODES, cc.DEMO_SECTOR_LABELS, cc.FD_CATEGORIES
    rows = [(r, s) for r in regions for s in sectors]
    fd = [(r, c) for r in regions for c in cats]
    Z = _matrix(f"demo_{y}_Z.csv", rows, [f"{r}|{s}" for r, s in rows])
    Y = _matrix(f"demo_{y}_Y.csv", rows, [f"{r}|{c}" for r, c in fd])
    co2 = _vector(f"demo_{y}_CO2.csv", rows)
    co2_hh = _vector(f"demo_{y}_CO2_hh.csv", fd)
    return MRIOTable.from_arrays(
        Z, Y, regions=regions, sectors=sectors, fd_categories=cats,
        satellites={"CO2": (co2, "kt CO2", co2_hh)},
        monetary_unit="million USD", name=f"Demo world MRIO {y}",
    )


def demo_concordance(which: str = "regions"):
    """A concordance shipped with the demo data as a DataFrame (all columns text).

    ``which``: ``"regions"`` (demo region -> WIOD 2013 and JRC members), ``"sectors"`` (demo sector ->
    WIOD 2013 and JRC industries), ``"countries"`` (every WIOD 2013 and JRC region -> demo region),
    ``"wiod35"`` (c1..c35 -> demo sector), ``"jrc56"`` (JRC industry -> WIOD 2013 targets and demo sector).
    """
    import pandas as pd

    if which not in _CONCORDANCE_FILES:
        raise OptionError(f"unknown concordance {which!r}: choose one of {', '.join(_CONCORDANCE_FILES)}")
    header, rows = _rows(_CONCORDANCE_FILES[which])
    return pd.DataFrame(rows, columns=header)


def shared_data_dir(data_dir: str | os.PathLike | None = None):
    """The raw-data folder: ``data_dir``, else ``$XLMRIO_SHARED_DATA``, else ``../shared/data`` beside the repo.

    Raises :class:`~xlmrio.errors.DataNotFoundError` when it does not exist.
    """
    from ._raw import shared_data_dir as _find

    return _find(data_dir)


def wiod(year: int, data_dir: str | os.PathLike | None = None, *, co2: bool = False):
    """The full WIOD 2013 release world table (41 regions x 35 industries = 1435) for ``year``.

    Read from ``wiod2013_bquast/wiot_<year>.RData`` in the raw-data folder (``data_dir``, else the
    environment variable ``XLMRIO_SHARED_DATA``, else ``../shared/data`` beside the repository).
    Regions are the WIOD codes (``ROM`` = Romania, ``RoW`` last), sectors ``c1..c35``, categories
    Households, NPISH, Government, GFCF, Inventories. The release rounds cells to whole million USD,
    so its ``output`` column misses the row sums by up to about 100: ``x`` is recomputed as
    ``Z 1 + Y 1`` and ``V = x' - 1'Z`` (one row), which balances exactly. With recomputed ``x``, 2002
    has two cells with slightly negative value added (LVA c24 -1, SVN c8 -3) and about 20 cells per
    year have zero output. In 2009-2011 a few rows (e.g. LUX c5) sum to a negative output (a large
    inventory draw-down on a tiny sector); their own-region inventory change is raised so that their
    output is 0.

    Parameters
    ----------
    year : int
        1995-2011 (2000-2011 with ``co2=True``).
    data_dir : path, optional
        Folder holding ``wiod2013_bquast/`` (and ``jrc_wiod_co2_2000_2016/`` for CO2).
    co2 : bool
        Add satellite ``"CO2"`` (kt CO2) from the JRC accounts: each country's 56 industries bridged
        onto c1..c35 (``concordance.JRC_TO_WIOD_SECTOR``; several targets split by output), CHE, HRV
        and NOR added to RoW, household direct emissions in the Households column. Values whose
        targets have zero output are moved to the other industries of the same demo sector.

    Returns
    -------
    MRIOTable
        Named ``"WIOD 2013 world table <year>"``, ``monetary_unit = "million USD"``.

    Raises
    ------
    DataNotFoundError
        When the raw files are not there.
    OptionError
        For a year outside the release (or outside 2000-2011 with ``co2=True``).
    """
    from ..core.table import MRIOTable
    from . import _raw

    year = int(year)
    if co2 and year not in _raw.JRC_YEARS:
        raise OptionError(f"no CO2 accounts for {year}: the JRC accounts cover "
                          f"{_raw.JRC_YEARS[0]}-{_raw.JRC_YEARS[-1]} (WIOD 2013 tables 1995-2011)")
    raw = _raw.read_wiot(year, data_dir)
    F = raw.F.copy()
    rowsum = raw.Z.sum(axis=1) + F.sum(axis=1)
    neg = rowsum < 0
    if neg.any():
        # rounding plus a large inventory draw-down gives a few negative row sums in 2009-2011 (e.g. LUX c5):
        # raise that row's own inventory change so its output is 0 rather than negative
        n = len(raw.industries)
        K = len(cc.FD_CATEGORIES)
        inv = cc.FD_CATEGORIES.index("Inventories")
        for k in np.flatnonzero(neg):
            F[k, (k // n) * K + inv] -= rowsum[k]
    satellites = None
    if co2:
        # split JRC industries by the repaired output (no negative shares from 2009-2011 draw-downs)
        values, hh, _notes = _raw.wiod_co2(year, raw.Z.sum(axis=1) + F.sum(axis=1), data_dir)
        satellites = {"CO2": (values, "kt CO2", hh)}
    return MRIOTable.from_arrays(
        raw.Z, F, regions=raw.countries, sectors=raw.industries, fd_categories=cc.FD_CATEGORIES,
        satellites=satellites, monetary_unit="million USD", name=f"WIOD 2013 world table {year}",
    )
