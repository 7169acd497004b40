"""Readers for the raw files in ``../shared/data`` and the JRC -> WIOD CO2 bridge.

Used by :func:`xlmrio.datasets.wiod` and by ``scripts/build_demo_dataset.py``. Nothing here is
needed to load the bundled demo tables.
"""
from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..errors import DataNotFoundError, OptionError
from . import concordance as cc

ENV_VAR = "XLMRIO_SHARED_DATA"
WIOD_DIR = "wiod2013_bquast"
JRC_DIR = "jrc_wiod_co2_2000_2016"
JRC_FILE = "WIOD_EA_CO2_2000_2016_JRC.xlsx"
WIOD_YEARS: tuple[int, ...] = tuple(range(1995, 2012))
JRC_YEARS: tuple[int, ...] = tuple(range(2000, 2017))


def shared_data_dir(data_dir: str | os.PathLike | None = None) -> Path:
    """Locate the shared raw-data folder (the one holding ``wiod2013_bquast/``).

    Order: ``data_dir`` if given; else the environment variable ``XLMRIO_SHARED_DATA``; else
    ``../shared/data`` beside the repository (for a source checkout).

    Raises
    ------
    DataNotFoundError
        If the folder does not exist.
    """
    if data_dir is not None:
        candidates = [("data_dir argument", Path(data_dir))]
    elif os.environ.get(ENV_VAR):
        candidates = [(f"environment variable {ENV_VAR}", Path(os.environ[ENV_VAR]))]
    else:
        repo = Path(__file__).resolve().parents[2]
        candidates = [("default location beside the repository", repo.parent / "shared" / "data")]
    how, path = candidates[0]
    if not path.is_dir():
        raise DataNotFoundError(
            f"raw data folder {path} ({how}) not found: pass data_dir= or set {ENV_VAR} to the folder "
            f"that holds {WIOD_DIR}/ and {JRC_DIR}/"
        )
    return path


# ---------------------------------------------------------------------------- WIOD 2013
@dataclass(frozen=True)
class WiotRaw:
    """One WIOD 2013 world table as released (million USD, whole numbers).

    ``Z`` (1435, 1435), ``F`` (1435, 205) country-major (country, category), ``output`` (1435,) as
    published (differs from the row sums by rounding).
    """

    year: int
    countries: tuple[str, ...]
    industries: tuple[str, ...]
    Z: np.ndarray
    F: np.ndarray
    output: np.ndarray

    @property
    def x(self) -> np.ndarray:
        """Total output recomputed as row sums ``Z 1 + F 1`` (exact: the entries are integers)."""
        return self.Z.sum(axis=1) + self.F.sum(axis=1)


def read_wiot(year: int, data_dir: str | os.PathLike | None = None) -> WiotRaw:
    """Read ``wiod2013_bquast/wiot_<year>.RData`` (needs the ``rdata`` package)."""
    year = int(year)
    if year not in WIOD_YEARS:
        raise OptionError(f"no WIOD 2013 table for {year}: available years are "
                          f"{WIOD_YEARS[0]}-{WIOD_YEARS[-1]}")
    path = shared_data_dir(data_dir) / WIOD_DIR / f"wiot_{year}.RData"
    if not path.is_file():
        raise DataNotFoundError(f"WIOD 2013 file {path} not found")
    import rdata

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Missing constructor for R class 'iot'"
        obj = rdata.read_rda(str(path))[f"wiot_{year}"]
    countries = tuple(str(c) for c in obj["countries"])
    industries = tuple(str(c) for c in obj["industries"])
    if countries != cc.WIOD_COUNTRIES or industries != cc.WIOD_SECTORS:
        raise DataNotFoundError(f"{path}: unexpected country or industry list")
    Z = np.asarray(obj["inter"].values, dtype=np.float64)
    F = np.asarray(obj["final"].values, dtype=np.float64)
    output = np.asarray(obj["output"], dtype=np.float64).reshape(-1)
    n = len(countries) * len(industries)
    if Z.shape != (n, n) or F.shape != (n, len(countries) * len(cc.FD_CATEGORIES)) or output.shape != (n,):
        raise DataNotFoundError(f"{path}: unexpected block shapes {Z.shape}, {F.shape}, {output.shape}")
    return WiotRaw(year, countries, industries, Z, F, output)


# ---------------------------------------------------------------------------- JRC CO2
def jrc_path(data_dir: str | os.PathLike | None = None) -> Path:
    path = shared_data_dir(data_dir) / JRC_DIR / JRC_FILE
    if not path.is_file():
        raise DataNotFoundError(f"JRC CO2 accounts {path} not found")
    return path


@lru_cache(maxsize=2)
def _read_jrc_workbook(path: str) -> dict:
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        sheets: dict[str, dict[int, dict[str, float]]] = {}
        names: dict[str, str] = {}
        for ws in wb.worksheets:
            rows = list(ws.iter_rows(values_only=True))
            if ws.title == "Sector":
                for r in rows:
                    if len(r) > 2 and isinstance(r[1], str) and r[1] in cc.JRC_TO_WIOD_SECTOR:
                        names[r[1]] = " ".join(str(r[2]).split())
                continue
            if ws.title not in cc.JRC_TO_WIOD_REGION:
                continue
            header = next(r for r in rows if r and r[0] is None and any(str(v) == "2000" for v in r))
            cols = {int(str(v)): j for j, v in enumerate(header) if v is not None and str(v).isdigit()}
            data: dict[int, dict[str, float]] = {y: {} for y in cols}
            for r in rows:
                code = r[0] if r else None
                if isinstance(code, str) and (code in cc.JRC_TO_WIOD_SECTOR or code == cc.JRC_HOUSEHOLD_ROW):
                    for y, j in cols.items():
                        v = r[j]
                        data[y][code] = 0.0 if v is None else float(v)
            sheets[ws.title] = data
    finally:
        wb.close()
    missing = set(cc.JRC_TO_WIOD_REGION) - set(sheets)
    if missing:
        raise DataNotFoundError(f"{path}: region sheets missing: {sorted(missing)}")
    return {"sheets": sheets, "names": names, "order": tuple(sheets)}


def read_jrc_co2(year: int, data_dir: str | os.PathLike | None = None) -> dict[str, dict[str, float]]:
    """JRC CO2 (kt) for one year: ``{sheet: {industry code or 'FC_HH': kt}}`` in workbook order."""
    year = int(year)
    if year not in JRC_YEARS:
        raise OptionError(f"no JRC CO2 accounts for {year}: available years are {JRC_YEARS[0]}-{JRC_YEARS[-1]}")
    wb = _read_jrc_workbook(str(jrc_path(data_dir)))
    out = {}
    for sheet in wb["order"]:
        d = wb["sheets"][sheet][year]
        missing = [c for c in (*cc.JRC_SECTORS, cc.JRC_HOUSEHOLD_ROW) if c not in d]
        if missing:
            raise DataNotFoundError(f"JRC sheet {sheet}: rows missing: {missing}")
        out[sheet] = d
    return out


def jrc_sector_names(data_dir: str | os.PathLike | None = None) -> dict[str, str]:
    """Names of the 56 JRC industries (sheet ``Sector``)."""
    return dict(_read_jrc_workbook(str(jrc_path(data_dir)))["names"])


# ---------------------------------------------------------------------------- bridge
@dataclass(frozen=True)
class Allocation:
    """Where one JRC value goes: ``targets`` are (WIOD row index 0..1434, weight) with weights summing to 1."""

    sheet: str
    code: str
    value: float
    targets: tuple[tuple[int, float], ...]
    note: str = ""


def allocate_jrc(jrc: dict[str, dict[str, float]], x: np.ndarray) -> tuple[list[Allocation], list[tuple[str, float]]]:
    """Bridge JRC industry emissions onto the 41 x 35 WIOD 2013 region-sectors.

    Each JRC industry value of a sheet goes to the WIOD 2013 region of the sheet and to the industries
    of :data:`~xlmrio.datasets.concordance.JRC_TO_WIOD_SECTOR`, split by the output ``x`` of the
    targets; targets with zero (or negative) output get nothing. If all targets have zero output (would be orphan emissions), it goes to the other
    industries of the same demo sector in that country, by output (noted); if those are zero too,
    to all industries of the country by output (noted).

    Parameters
    ----------
    jrc : dict
        From :func:`read_jrc_co2`.
    x : ndarray (1435,)
        WIOD 2013 total output (million USD), row sums.

    Returns
    -------
    allocations : list of Allocation
        One per non-zero JRC industry value.
    households : list of (WIOD region, kt)
        ``FC_HH`` per sheet, mapped to its WIOD region.
    """
    n = len(cc.WIOD_SECTORS)
    sec_idx = {c: i for i, c in enumerate(cc.WIOD_SECTORS)}
    reg_idx = {c: i for i, c in enumerate(cc.WIOD_COUNTRIES)}
    allocs: list[Allocation] = []
    hh: list[tuple[str, float]] = []
    for sheet, values in jrc.items():
        region = cc.JRC_TO_WIOD_REGION[sheet]
        base = reg_idx[region] * n
        for code in cc.JRC_SECTORS:
            v = values[code]
            if v == 0.0:
                continue
            note = ""
            ks = [base + sec_idx[c] for c in cc.JRC_TO_WIOD_SECTOR[code] if x[base + sec_idx[c]] > 0]
            if not ks:
                demo = cc.jrc_to_demo_sector(code)
                ks = [base + sec_idx[c] for c in cc.WIOD_SECTORS
                      if cc.WIOD_TO_DEMO_SECTOR[c] == demo and x[base + sec_idx[c]] > 0]
                note = f"targets have zero output in {region}: moved within demo sector {demo!r}"
                if not ks:
                    ks = [base + i for i in range(n) if x[base + i] > 0]
                    note = f"demo sector {demo!r} has zero output in {region}: moved to all its industries"
                if not ks:
                    raise DataNotFoundError(f"WIOD region {region} has zero output everywhere")
            w = x[ks]
            w = w / w.sum()
            allocs.append(Allocation(sheet, code, v, tuple(zip(ks, (float(a) for a in w))), note))
        hh.append((region, values[cc.JRC_HOUSEHOLD_ROW]))
    return allocs, hh


def wiod_co2(year: int, x: np.ndarray, data_dir: str | os.PathLike | None = None):
    """JRC CO2 bridged onto WIOD 2013: ``(values (1435,), hh (41*5,), notes)`` in kt CO2.

    Household direct emissions (``FC_HH``) go to the ``Households`` category of each WIOD region.
    """
    allocs, hh = allocate_jrc(read_jrc_co2(year, data_dir), x)
    values = np.zeros(len(cc.WIOD_COUNTRIES) * len(cc.WIOD_SECTORS))
    for a in allocs:
        for k, w in a.targets:
            values[k] += a.value * w
    K = len(cc.FD_CATEGORIES)
    hvec = np.zeros(len(cc.WIOD_COUNTRIES) * K)
    h = cc.FD_CATEGORIES.index(cc.HOUSEHOLD_CATEGORY)
    for region, v in hh:
        hvec[cc.WIOD_COUNTRIES.index(region) * K + h] += v
    notes = [f"{a.sheet} {a.code} {a.value:.6g} kt: {a.note}" for a in allocs if a.note]
    return values, hvec, notes
