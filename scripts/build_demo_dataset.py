#!/usr/bin/env python
"""Rebuild the bundled demo world EE-MRIO (``xlmrio/datasets/data/``) from ``../shared/data``.

Usage::

    python scripts/build_demo_dataset.py [--data-dir ../shared/data] [--out-dir xlmrio/datasets/data]

Reads the WIOD 2013 world tables (2002, 2007) and the JRC CO2 accounts, aggregates them to
8 regions x 17 sectors with the concordances of :mod:`xlmrio.datasets.concordance`, and writes
CSV files (same bytes on every run). ``PROVENANCE.md`` in the output folder is written by hand and
is not touched. See that file for the derivation.

Written files (per year Y in 2002, 2007):
``demo_Y_Z.csv`` (136 x 136 intermediate flows, million USD, whole numbers),
``demo_Y_Y.csv`` (136 x 40 final demand by destination region and category, million USD, whole numbers),
``demo_Y_CO2.csv`` (region, sector, kt CO2), ``demo_Y_CO2_hh.csv`` (region, category, kt CO2);
and the concordances ``demo_regions.csv``, ``demo_sectors.csv``, ``concordance_countries.csv``,
``concordance_wiod35.csv``, ``concordance_jrc56.csv``.
"""
from __future__ import annotations

import argparse
import csv
import io
import math
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from xlmrio.datasets import _raw  # noqa: E402
from xlmrio.datasets import concordance as cc  # noqa: E402

YEARS = (2002, 2007)


def _write_csv(path: Path, header: list[str], rows: list[list]) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    path.write_bytes(buf.getvalue().encode("utf-8"))


def _int_cells(a: np.ndarray) -> list[str]:
    if not np.array_equal(a, np.round(a)):
        raise ValueError("expected whole numbers")
    return [str(int(v)) for v in a]


def aggregators() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """0/1 aggregators: region-sector Γ (136 x 1435), FD columns (40 x 205), region (8 x 41)."""
    n, K = len(cc.WIOD_SECTORS), len(cc.FD_CATEGORIES)
    nd = len(cc.DEMO_SECTOR_LABELS)
    R = np.zeros((len(cc.DEMO_REGION_CODES), len(cc.WIOD_COUNTRIES)))
    for j, c in enumerate(cc.WIOD_COUNTRIES):
        R[cc.DEMO_REGION_CODES.index(cc.WIOD_TO_DEMO_REGION[c]), j] = 1.0
    C = np.zeros((nd, n))
    for j, c in enumerate(cc.WIOD_SECTORS):
        C[cc.DEMO_SECTOR_LABELS.index(cc.WIOD_TO_DEMO_SECTOR[c]), j] = 1.0
    assert (R.sum(0) == 1).all() and (C.sum(0) == 1).all()
    return np.kron(R, C), np.kron(R, np.eye(K)), R


def build_year(year: int, data_dir: Path) -> dict:
    raw = _raw.read_wiot(year, data_dir)
    G, H, _ = aggregators()
    Z = G @ raw.Z @ G.T  # exact: whole numbers far below 2**53
    Y = G @ raw.F @ H.T
    x = Z.sum(axis=1) + Y.sum(axis=1)
    va = x - Z.sum(axis=0)

    # CO2: JRC industries -> WIOD 2013 region-sectors -> demo cells; fsum per cell (order-independent).
    allocs, hh = _raw.allocate_jrc(_raw.read_jrc_co2(year, data_dir), raw.x)
    demo_of = np.argmax(G, axis=0)  # WIOD row -> demo row
    parts: dict[int, list[float]] = {}
    for a in allocs:
        cells: dict[int, float] = {}
        for k, w in a.targets:
            cells[int(demo_of[k])] = cells.get(int(demo_of[k]), 0.0) + w
        if len(cells) == 1:
            parts.setdefault(next(iter(cells)), []).append(a.value)
        else:  # only in the last-resort fallback of allocate_jrc
            for cell, w in cells.items():
                parts.setdefault(cell, []).append(a.value * w)
    co2 = np.array([math.fsum(parts.get(i, [])) for i in range(G.shape[0])])
    K = len(cc.FD_CATEGORIES)
    hh_parts: dict[int, list[float]] = {}
    h = cc.FD_CATEGORIES.index(cc.HOUSEHOLD_CATEGORY)
    for region, v in hh:
        r = cc.DEMO_REGION_CODES.index(cc.WIOD_TO_DEMO_REGION[region])
        hh_parts.setdefault(r * K + h, []).append(v)
    co2_hh = np.array([math.fsum(hh_parts.get(i, [])) for i in range(len(cc.DEMO_REGION_CODES) * K)])
    return {"Z": Z, "Y": Y, "x": x, "va": va, "co2": co2, "co2_hh": co2_hh,
            "notes": [f"{a.sheet} {a.code} {a.value:.6g} kt: {a.note}" for a in allocs if a.note],
            "x_wiod": raw.x}


def write_concordances(out: Path, data_dir: Path) -> list[Path]:
    names35 = {}
    with open(Path(data_dir) / _raw.WIOD_DIR / "industries_c1_c35.csv", newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            names35[row["code"]] = " ".join(row["name"].split())
    names56 = _raw.jrc_sector_names(data_dir)
    files = []

    p = out / "demo_regions.csv"
    jrc_members = {code: [] for code in cc.DEMO_REGION_CODES}
    for sheet, region in cc.JRC_TO_WIOD_REGION.items():
        jrc_members[cc.WIOD_TO_DEMO_REGION[region]].append(sheet)
    _write_csv(p, ["region", "name", "wiod2013_members", "jrc_members"],
               [[code, name, " ".join(members), " ".join(sorted(jrc_members[code]))]
                for code, name, members in cc.DEMO_REGIONS])
    files.append(p)

    p = out / "demo_sectors.csv"
    jrc_of = {label: [] for label in cc.DEMO_SECTOR_LABELS}
    for code in cc.JRC_SECTORS:
        jrc_of[cc.jrc_to_demo_sector(code)].append(code)
    _write_csv(p, ["sector", "wiod2013_industries", "jrc56_industries", "note"],
               [[label, " ".join(cs), " ".join(jrc_of[label]), cc.DEMO_SECTOR_NOTES.get(label, "")]
                for label, cs in cc.DEMO_SECTORS])
    files.append(p)

    p = out / "concordance_countries.csv"
    rows = [["WIOD2013", c, c, cc.WIOD_TO_DEMO_REGION[c], ""] for c in cc.WIOD_COUNTRIES]
    rows += [["JRC", s, r, cc.WIOD_TO_DEMO_REGION[r], cc.JRC_REGION_NOTES.get(s, "")]
             for s, r in sorted(cc.JRC_TO_WIOD_REGION.items())]
    _write_csv(p, ["source", "code", "wiod2013_region", "demo_region", "note"], rows)
    files.append(p)

    p = out / "concordance_wiod35.csv"
    _write_csv(p, ["wiod2013_code", "wiod2013_name", "demo_sector"],
               [[c, names35[c], cc.WIOD_TO_DEMO_SECTOR[c]] for c in cc.WIOD_SECTORS])
    files.append(p)

    p = out / "concordance_jrc56.csv"
    _write_csv(p, ["jrc_code", "jrc_name", "wiod2013_targets", "demo_sector", "note"],
               [[j, names56.get(j, ""), " ".join(cc.JRC_TO_WIOD_SECTOR[j]), cc.jrc_to_demo_sector(j),
                 cc.JRC_SECTOR_NOTES.get(j, "")] for j in cc.JRC_SECTORS])
    files.append(p)
    return files


def build(data_dir: Path, out_dir: Path, verbose: bool = True) -> list[Path]:
    """Write every derived file into ``out_dir``; return their paths."""
    data_dir = _raw.shared_data_dir(data_dir)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    labels = [(r, s) for r in cc.DEMO_REGION_CODES for s in cc.DEMO_SECTOR_LABELS]
    fd = [(r, c) for r in cc.DEMO_REGION_CODES for c in cc.FD_CATEGORIES]
    files = write_concordances(out_dir, data_dir)
    for year in YEARS:
        d = build_year(year, data_dir)
        p = out_dir / f"demo_{year}_Z.csv"
        _write_csv(p, ["region", "sector"] + [f"{r}|{s}" for r, s in labels],
                   [[r, s] + _int_cells(d["Z"][k]) for k, (r, s) in enumerate(labels)])
        files.append(p)
        p = out_dir / f"demo_{year}_Y.csv"
        _write_csv(p, ["region", "sector"] + [f"{r}|{c}" for r, c in fd],
                   [[r, s] + _int_cells(d["Y"][k]) for k, (r, s) in enumerate(labels)])
        files.append(p)
        p = out_dir / f"demo_{year}_CO2.csv"
        _write_csv(p, ["region", "sector", "co2_kt"],
                   [[r, s, repr(float(d["co2"][k]))] for k, (r, s) in enumerate(labels)])
        files.append(p)
        p = out_dir / f"demo_{year}_CO2_hh.csv"
        _write_csv(p, ["region", "category", "co2_kt"],
                   [[r, c, repr(float(d["co2_hh"][k]))] for k, (r, c) in enumerate(fd)])
        files.append(p)
        if verbose:
            neg = [(labels[k], float(d["va"][k])) for k in np.flatnonzero(d["va"] < 0)]
            orphan = [labels[k] for k in np.flatnonzero((d["x"] <= 0) & (d["co2"] != 0))]
            zero_x = [labels[k] for k in np.flatnonzero(d["x"] <= 0)]
            print(f"{year}: N={len(labels)}, total output {d['x'].sum():.0f} million USD, "
                  f"CO2 industries {d['co2'].sum():.1f} kt + households {d['co2_hh'].sum():.1f} kt")
            print(f"  negative value added: {neg or 'none'}; zero output: {zero_x or 'none'}; "
                  f"orphan emissions: {orphan or 'none'}")
            print(f"  full WIOD (x = row sums): {int((d['x_wiod'] == 0).sum())} zero-output cells; "
                  f"JRC values moved to avoid orphan emissions ({len(d['notes'])}):")
            for note in d["notes"]:
                print(f"    {note}")
    if verbose:
        total = sum(p.stat().st_size for p in files)
        print(f"wrote {len(files)} files, {total / 1024:.0f} KiB, into {out_dir}")
    return files


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-dir", default=None,
                    help=f"raw data folder (default: ${_raw.ENV_VAR} or ../shared/data beside the repo)")
    ap.add_argument("--out-dir", default=str(REPO / "xlmrio" / "datasets" / "data"))
    ap.add_argument("-q", "--quiet", action="store_true")
    args = ap.parse_args(argv)
    build(args.data_dir, Path(args.out_dir), verbose=not args.quiet)
    return 0


if __name__ == "__main__":
    sys.exit(main())
