"""Accuracy of table updating in the seeds' own case: regions known only as a group (METHODS §4.6),
and a "some cells known" set beside margins only.

Usage::

    python bench/bench_update_grouped.py                  # every pair and group (a few minutes)
    python bench/bench_update_grouped.py --quick          # the demo pair, one group (~30 s)
    python bench/bench_update_grouped.py --markdown out.md

Grouped regions.  For a pair (prior = table of year t, truth = table of year t+k) and a group ``G``
of regions, the information about the t+k table is what §4.6 gives an analyst who has a
province-level table for t+k and a city-level table for t:

* every cell not touching ``G`` (Z, final demand, primary inputs) and every total output outside
  ``G`` is known;
* the cells touching ``G`` are known only as sums over the group's members: per sector, the group's
  total output; its sales to each outside region-sector and final-demand column and its purchases
  from each; the flows among the members summed over member pairs; its final demand and primary
  inputs by sector.

Each such sum is one hard aggregate; they partition the group's cells.  Methods: ``split`` (each
sum split by the prior's within-group shares, evenly where the prior is all zero), ``keep A``
(prior coefficients times the split total outputs), ANAIS (default = fixed zeros; ``free`` =
``zero_policy="free"``; ``Z free`` = also ``rho_scope="Z"``), KRAS (``xlmrio.update.kras``), KRAS with
``z_aggregates="split"`` (the group's Z sums split as ``split`` does and held; the balances are met by
final demand and primary inputs; what ``auto`` runs).  Scores on the group's cells only: WAPE of the
Z cells touching G, WAPE of the entries of L in rows or columns of G, WAPE of the members' total
outputs, largest relative deviation of a group Z cell, seconds.

Some cells known.  Margins (x, final demand and primary inputs known cell by cell) plus the
largest 5 % of the true Z cells known (a survey of the big flows).  Methods: ``RAS (margins)``
ignores the known cells, ``RAS + known`` holds them and balances the rest, ANAIS (``Z free`` ...),
KRAS.  Scored on all Z cells.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")   # the shared 2-core machine: no BLAS oversubscription

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from xlmrio.core.grouped import split_by_prior  # noqa: E402
from xlmrio.core.leontief import coefficients, leontief_inverse  # noqa: E402
from xlmrio.core.table import MRIOTable  # noqa: E402
from xlmrio.errors import XlmrioError  # noqa: E402
from xlmrio.update import Aggregate, anais, compare, kras, ras, ras_known_cells, update  # noqa: E402


# ============================================================================ pairs and groups

def _demo():
    from xlmrio.datasets import demo

    return demo(2002), demo(2007)


def _wiod(t0, t1):
    def load():
        import _io_tables as io

        return io.wiod_agg_table(t0), io.wiod_agg_table(t1)
    return load


def _wiod_third(year):
    def load():
        import _io_tables as io

        return io.wiod_agg_table(year)
    return load


PAIRS = {
    "demo-02-07": ("Demo WIOD 2002->2007 (8x17)", _demo,
                   [("CHN", "JPN", "KOR+TWN"), ("EU", "OHI"), ("USA", "OEM", "RoW"), ("JPN", "USA"), ("CHN", "RoW")]),
    "wiod5-03-08": ("WIOD 2003->2008 (41x5)", _wiod(2003, 2008),
                    [("DEU", "FRA", "ITA"), ("CHN", "JPN", "KOR"), ("BEL", "NLD", "LUX")]),
    "wiod5-05-10": ("WIOD 2005->2010 (41x5)", _wiod(2005, 2010),
                    [("DEU", "FRA", "ITA"), ("CHN", "JPN", "KOR"), ("BEL", "NLD", "LUX")]),
    # check cases added after the choice of z_aggregates="split" (not used to make it)
    "wiod5-00-05": ("WIOD 2000->2005 (41x5)", _wiod(2000, 2005),
                    [("DEU", "FRA", "ITA"), ("USA", "CAN", "MEX"), ("GBR", "ESP", "NLD")]),
}
QUICK = {"demo-02-07": 1}
#: a third (earlier) year per pair for coefficient intervals (§4.2): [min, max] of the prior's and the third
#: year's total-input coefficients of each group member column, widened by INTERVAL_WIDEN
THIRD = {"wiod5-03-08": _wiod_third(2001), "wiod5-05-10": _wiod_third(2003)}
INTERVAL_WIDEN = 0.5
GROUP_METHODS = ("split", "keep", "anais", "anais_free", "anais_zfree", "kras", "kras_zsplit", "auto", "anais_zfree_int",
                 "kras_int")
CELLS_METHODS = ("ras", "ras_known", "anais_zfree", "kras", "auto")
LABEL = {"split": "proportional split", "keep": "keep A", "anais": "ANAIS (default)", "anais_free": "ANAIS free",
         "anais_zfree": "ANAIS Z free", "kras": "KRAS", "kras_zsplit": "KRAS, Z split", "auto": "auto", "ras": "RAS (margins)",
         "ras_known": "RAS + known cells", "anais_zfree_int": "ANAIS Z free + intervals",
         "kras_int": "KRAS + intervals"}


def fd_matrix(t: MRIOTable) -> np.ndarray:
    return np.hstack([t.Y] + [v[:, None] for v in (t.exports, t.other) if v is not None])


# ============================================================================ grouped information

def group_partition(t: MRIOTable, group) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Aggregate id of every cell of Z (N, N), F (N, q), V (D, N) and total x (N,): -1 = known cell.

    Keys: a row (column) of a group member is replaced by ("G", sector) (("G", category) for
    final-demand columns); cells with the same pair of keys form one aggregate.
    """
    N, n, K = t.N, t.n, t.K
    in_g = np.array([t.regions[k // n] in group for k in range(N)])
    rkey = [("G", k % n) if in_g[k] else ("k", k) for k in range(N)]
    q = fd_matrix(t).shape[1]
    fkey = []
    for j in range(q):
        if j < t.m * K and t.regions[j // K] in group:
            fkey.append(("G", j % K))
        else:
            fkey.append(("j", j))
    f_in = np.array([k[0] == "G" for k in fkey])
    ids: dict = {}

    def gid(key):
        return ids.setdefault(key, len(ids))

    Zid = np.full((N, N), -1)
    for k in range(N):
        for l in range(N):
            if in_g[k] or in_g[l]:
                Zid[k, l] = gid(("Z", rkey[k], rkey[l]))
    Fid = np.full((N, q), -1)
    for k in range(N):
        for j in range(q):
            if in_g[k] or f_in[j]:
                Fid[k, j] = gid(("F", rkey[k], fkey[j]))
    D = t.V.shape[0]
    Vid = np.full((D, N), -1)
    for d in range(D):
        for l in range(N):
            if in_g[l]:
                Vid[d, l] = gid(("V", d, rkey[l]))
    xid = np.where(in_g, [gid(("x", rkey[k])) for k in range(N)], -1)
    return Zid, Fid, Vid, xid


def _refs(t: MRIOTable):
    labs = t.labels()
    K = t.K
    fd = [("Y", (t.regions[j // K], t.fd_categories[j % K])) for j in range(t.m * K)]
    if t.exports is not None:
        fd.append(("exports", None))
    if t.other is not None:
        fd.append(("other", None))

    def fref(k, j):
        block, col = fd[j]
        return (block, labs[k], col) if col is not None else (block, labs[k])
    return labs, fref


def grouped_information(prior: MRIOTable, true: MRIOTable, group) -> dict:
    """Keyword arguments (totals, known_cells, aggregates) of the grouped-regions case."""
    Zid, Fid, Vid, xid = group_partition(prior, group)
    labs, fref = _refs(prior)
    Ft = fd_matrix(true)
    members: dict[int, list] = {}
    values: dict[int, float] = {}

    def add(i, ref, val):
        members.setdefault(i, []).append(ref)
        values[i] = values.get(i, 0.0) + float(val)

    for k, l in zip(*np.nonzero(Zid >= 0)):
        add(Zid[k, l], ("Z", labs[k], labs[l]), true.Z[k, l])
    for k, j in zip(*np.nonzero(Fid >= 0)):
        add(Fid[k, j], fref(k, j), Ft[k, j])
    for d, l in zip(*np.nonzero(Vid >= 0)):
        add(Vid[d, l], ("V", prior.va_rows[d], labs[l]), true.V[d, l])
    for k in np.flatnonzero(xid >= 0):
        add(xid[k], ("x", labs[k]), true.x[k])
    aggs = [Aggregate(f"group sum #{i}", members[i], values[i]) for i in sorted(members)]
    known = {"Z": np.where(Zid < 0, true.Z, np.nan), "Y": np.where(Fid[:, :prior.m * prior.K] < 0, true.Y, np.nan),
             "V": np.where(Vid < 0, true.V, np.nan)}
    j = prior.m * prior.K
    for name in ("exports", "other"):
        if getattr(prior, name) is not None:
            known[name] = np.where(Fid[:, j] < 0, getattr(true, name), np.nan)
            j += 1
    totals = np.where(xid < 0, true.x, np.nan)
    return {"totals": totals, "known_cells": known, "aggregates": aggs}


def interval_bounds(prior: MRIOTable, third: MRIOTable, group, widen: float | None = None) -> list:
    """Coefficient bounds for every group member column (s, j) and origin sector i (summed over all origin
    regions): ``[(1 - widen) min, (1 + widen) max]`` of the prior's and the third year's coefficient."""
    from xlmrio.update import CoefficientBound

    widen = INTERVAL_WIDEN if widen is None else widen
    n = prior.n
    out = []
    for t_idx, s in enumerate(prior.regions):
        if s not in group:
            continue
        for j, sj in enumerate(prior.sectors):
            col = t_idx * n + j
            coefs = []
            for t in (prior, third):
                x = t.x[col]
                coefs.append(np.asarray(t.Z)[:, col].reshape(t.m, n).sum(axis=0) / x if x > 0 else None)
            if any(c is None for c in coefs):
                continue
            lo, hi = np.minimum(*coefs), np.maximum(*coefs)
            for i, si in enumerate(prior.sectors):
                out.append(CoefficientBound(column=(s, sj), rows=[(r, si) for r in prior.regions],
                                            lower=(1 - widen) * lo[i], upper=(1 + widen) * hi[i],
                                            name=f"a[{si} -> {s}|{sj}]"))
    return out


def proportional_split(prior: MRIOTable, true: MRIOTable, group) -> tuple[np.ndarray, np.ndarray]:
    Zid, _Fid, _Vid, xid = group_partition(prior, group)
    return split_by_prior(prior.Z, true.Z, Zid), split_by_prior(prior.x, true.x, xid)


# ============================================================================ scoring

def leontief_L(Z, x):
    return leontief_inverse(coefficients(Z, x), check=False)


def score(Z, x, true: MRIOTable, L_true, mask_Z, mask_L, seconds, mask_x=None) -> dict:
    cz = compare(Z[mask_Z], true.Z[mask_Z])
    L = leontief_L(Z, x)
    cl = compare(L[mask_L], L_true[mask_L])
    out = {"wape_Z": cz["wape"], "wape_L": cl["wape"], "max_rel_Z": cz["max_rel"], "seconds": seconds}
    if mask_x is not None:
        out["wape_x"] = compare(np.asarray(x)[mask_x], np.asarray(true.x)[mask_x])["wape"]
    return out


def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def run_grouped(prior, true, group, methods=GROUP_METHODS, third=None) -> list[dict]:
    N, n = prior.N, prior.n
    in_g = np.array([prior.regions[k // n] in group for k in range(N)])
    mask = in_g[:, None] | in_g[None, :]
    L_true = leontief_L(true.Z, true.x)
    info = grouped_information(prior, true, group)
    rows = []
    bounds = interval_bounds(prior, third, group) if third is not None else None
    for meth in methods:
        if meth.endswith("_int") and bounds is None:
            continue
        err, sc = None, None
        try:
            if meth == "anais_zfree_int":
                res, sec = _timed(lambda: anais(prior, **info, coefficient_bounds=bounds, zero_policy="free",
                                                rho_scope="Z"))
                Z, x = res.table.Z, res.table.x
            elif meth == "kras_int":
                res, sec = _timed(lambda: kras(prior, **info, coefficient_bounds=bounds))
                Z, x = res.table.Z, res.table.x
            elif meth == "split":
                (Z, x), sec = _timed(lambda: proportional_split(prior, true, group))
            elif meth == "keep":
                def keep():
                    _Zs, x = proportional_split(prior, true, group)
                    Z = coefficients(prior.Z, prior.x) * x[None, :]
                    return np.where(mask, Z, true.Z), x
                (Z, x), sec = _timed(keep)
            elif meth.startswith("anais"):
                kw = {"anais": {}, "anais_free": {"zero_policy": "free"},
                      "anais_zfree": {"zero_policy": "free", "rho_scope": "Z"}}[meth]
                res, sec = _timed(lambda kw=kw: anais(prior, **info, **kw))
                Z, x = res.table.Z, res.table.x
            elif meth == "kras":
                res, sec = _timed(lambda: kras(prior, **info))
                Z, x = res.table.Z, res.table.x
            elif meth == "kras_zsplit":
                res, sec = _timed(lambda: kras(prior, **info, z_aggregates="split"))
                Z, x = res.table.Z, res.table.x
            elif meth == "auto":
                res, sec = _timed(lambda: update(prior, method="auto", **info))
                Z, x = res.table.Z, res.table.x
            sc = score(np.asarray(Z), np.asarray(x), true, L_true, mask, mask, sec, mask_x=in_g)
        except XlmrioError as exc:
            err = f"{type(exc).__name__}: {str(exc)[:100]}"
        rows.append({"method": meth, "error": err, **(sc or {})})
    return rows


def run_cells(prior, true, share=0.05, methods=CELLS_METHODS) -> list[dict]:
    """Margins + the largest ``share`` of true Z cells known."""
    L_true = leontief_L(true.Z, true.x)
    Zt = np.asarray(true.Z)
    cut = np.quantile(Zt[Zt > 0], 1 - share) if (Zt > 0).any() else np.inf
    top = Zt >= cut
    knownZ = np.where(top, Zt, np.nan)
    known = {"Y": true.Y, "V": true.V, "Z": knownZ}
    for name in ("exports", "other"):
        if getattr(prior, name) is not None:
            known[name] = getattr(true, name)
    F = fd_matrix(true)
    u, v = true.x - F.sum(1), true.x - true.V.sum(0)
    allmask = np.ones(Zt.shape, bool)
    rows = []
    for meth in methods:
        err, sc = None, None
        try:
            if meth == "ras":
                Z, sec = _timed(lambda: ras(np.asarray(prior.Z), u, v))
                x = true.x
            elif meth == "ras_known":
                r, sec = _timed(lambda: ras_known_cells(np.asarray(prior.Z), u, v, knownZ))
                Z, x = r.Z, true.x
            elif meth == "anais_zfree":
                res, sec = _timed(lambda: anais(prior, totals=true.x, known_cells=known, zero_policy="free",
                                                rho_scope="Z"))
                Z, x = res.table.Z, res.table.x
            elif meth == "kras":
                res, sec = _timed(lambda: kras(prior, totals=true.x, known_cells=known))
                Z, x = res.table.Z, res.table.x
            elif meth == "auto":
                res, sec = _timed(lambda: update(prior, method="auto", totals=true.x, known_cells=known))
                Z, x = res.table.Z, res.table.x
            sc = score(np.asarray(Z), np.asarray(x), true, L_true, allmask, allmask, sec)
            sc["known_share_of_Z_value"] = float(Zt[top].sum() / Zt.sum())
        except XlmrioError as exc:
            err = f"{type(exc).__name__}: {str(exc)[:100]}"
        rows.append({"method": meth, "error": err, **(sc or {})})
    return rows


# ============================================================================ driver and report

def _fmt(r, key, digits=2):
    if r.get("error"):
        return "infeasible" if r["error"].startswith("InfeasibleError") else "failed"
    v = r.get(key)
    return "n/a" if v is None or not np.isfinite(v) else f"{v:.{digits}f}"


def markdown(grouped: list[dict], cells: list[dict]) -> str:
    out = []
    if grouped:
        meths = [m for m in GROUP_METHODS if any(r["method"] == m for r in grouped)]
        for key, title, digits in (("wape_Z", "WAPE of the group's Z cells (%)", 2),
                                   ("wape_L", "WAPE of L in the group's rows and columns (%)", 2),
                                   ("wape_x", "WAPE of the members' total outputs (%)", 2),
                                   ("max_rel_Z", "largest relative deviation of a group Z cell", 2),
                                   ("seconds", "seconds", 2)):
            out.append(f"\n#### Grouped regions — {title}\n")
            out.append("| pair | group | " + " | ".join(LABEL[m] for m in meths) + " |")
            out.append("|---|---|" + "---:|" * len(meths))
            for (pair, group) in dict.fromkeys((r["pair"], r["group"]) for r in grouped):
                cellsr = [next((_fmt(r, key, digits) for r in grouped if r["pair"] == pair and r["group"] == group
                                and r["method"] == m), "") for m in meths]
                out.append(f"| {pair} | {group} | " + " | ".join(cellsr) + " |")
    if cells:
        meths = [m for m in CELLS_METHODS if any(r["method"] == m for r in cells)]
        out.append("\n#### Some cells known (largest 5 % of Z cells + margins) — WAPE of Z / WAPE of L (%), seconds\n")
        out.append("| pair | share of Z value known | " + " | ".join(LABEL[m] for m in meths) + " |")
        out.append("|---|---:|" + "---:|" * len(meths))
        for pair in dict.fromkeys(r["pair"] for r in cells):
            sub = [r for r in cells if r["pair"] == pair]
            share = next((r.get("known_share_of_Z_value") for r in sub if r.get("known_share_of_Z_value")), np.nan)
            cellsr = []
            for m in meths:
                r = next(r for r in sub if r["method"] == m)
                cellsr.append(_fmt(r, "wape_Z") if r.get("error") else
                              f"{_fmt(r, 'wape_Z')} / {_fmt(r, 'wape_L')}, {_fmt(r, 'seconds', 1)} s")
            out.append(f"| {pair} | {share:.0%} | " + " | ".join(cellsr) + " |")
    return "\n".join(out) + "\n"


def _cells_pairs():
    import bench_update_accuracy as acc

    keep = ("oecd-chn-10-15", "oecd-jpn-10-15", "nbs-17-18", "demo-02-07", "wiod5-03-08")
    return {p.key: (p.label, p.load) for p in acc.PAIRS if p.key in keep}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="the demo pair, first group; some-cells on the demo pair")
    ap.add_argument("--pairs", nargs="+", choices=list(PAIRS), help="grouped-regions pairs")
    ap.add_argument("--no-cells", action="store_true", help="skip the some-cells-known set")
    ap.add_argument("--no-grouped", action="store_true", help="skip the grouped-regions set")
    ap.add_argument("--methods", nargs="+", help="subset of methods")
    ap.add_argument("--markdown", type=Path)
    args = ap.parse_args(argv)
    t_start = time.perf_counter()
    grouped, cells = [], []
    keys = list(QUICK) if args.quick else (args.pairs or list(PAIRS))
    if not args.no_grouped:
        for key in keys:
            label, load, groups = PAIRS[key]
            prior, true = load()
            third = THIRD[key]() if key in THIRD else None
            for group in groups[: QUICK.get(key, len(groups)) if args.quick else len(groups)]:
                gname = "+".join(group)
                meths = [m for m in GROUP_METHODS if not args.methods or m in args.methods]
                for r in run_grouped(prior, true, group, meths, third):
                    r.update(pair=label, group=gname)
                    grouped.append(r)
                    print(f"{label:28s} {gname:18s} {LABEL[r['method']]:18s} "
                          + (r["error"] or f"WAPE Z {r['wape_Z']:7.2f}  WAPE L {r['wape_L']:6.2f}  "
                                           f"maxrel {r['max_rel_Z']:8.3g}  {r['seconds']:7.2f} s"), flush=True)
    if not args.no_cells:
        pairs = {"demo-02-07": ("Demo WIOD 2002->2007 (8x17)", _demo)} if args.quick else _cells_pairs()
        for key, (label, load) in pairs.items():
            try:
                prior, true = load()
            except XlmrioError as exc:
                print(f"{label}: skipped ({exc})")
                continue
            meths = [m for m in CELLS_METHODS if not args.methods or m in args.methods]
            for r in run_cells(prior, true, methods=meths):
                r.update(pair=label)
                cells.append(r)
                print(f"{label:28s} some cells known   {LABEL[r['method']]:18s} "
                      + (r["error"] or f"WAPE Z {r['wape_Z']:7.2f}  WAPE L {r['wape_L']:6.2f}  "
                                       f"{r['seconds']:7.2f} s"), flush=True)
    md = markdown(grouped, cells)
    print(md)
    print(f"total {time.perf_counter() - t_start:.0f} s")
    if args.markdown:
        args.markdown.write_text(md, encoding="utf-8")
    return grouped, cells


if __name__ == "__main__":
    main()
