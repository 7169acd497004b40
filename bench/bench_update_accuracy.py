"""Accuracy benchmark of table updating (ANAIS, RAS, GRAS, fixed coefficients) on real year pairs.

Usage::

    python bench/bench_update_accuracy.py                 # all pairs, noise 2 % and 5 %, 3 draws
    python bench/bench_update_accuracy.py --quick         # 2 small pairs, 1 draw (~20 s)
    python bench/bench_update_accuracy.py --pairs oecd-chn-10-15 nbs-17-18 --reps 5
    python bench/bench_update_accuracy.py --markdown out.md   # also write the tables as Markdown

For each pair (table of year t, table of year t+k) the year-t table is updated to year t+k from
information about the t+k table, and the estimate is compared with the true t+k table
(METHODS §5.3: WAPE of Z and of the Leontief inverse L, largest relative deviation of Z cells).

Information sets (every method of a set gets the same numbers):

``margins``
    total output ``x``, intermediate row sums ``u = Z 1`` and column sums ``v = 1'Z``.
    RAS balances ``Z`` to ``(u, v)``; ANAIS gets ``x`` as known totals, the final-demand row sums
    ``x - u`` (over all final-demand columns incl. exports and imports) as hard aggregates and the
    primary-input column sums ``x - v`` (known cells of ``V`` when ``V`` has one row, else hard
    aggregates); "keep coefficients" uses ``x`` only (``Z = A_t diag(x)``).
``table``
    ``x``, the column totals of the final-demand block and the row totals of the primary-input
    block (the whole-table GRAS of ``xlmrio.update.balance_table``). ANAIS gets ``x`` as known
    totals and those totals as hard aggregates.

Noise: each given number ``b`` becomes ``b (1 + e)``, ``e ~ U(-a, a)`` independently, ``a`` = 2 %
or 5 %. The sums are then made equal where the identities require it: column targets ``v`` are
rescaled to ``sum v = sum u`` (margins), primary-input totals to ``sum va = sum fd`` (table).
Figures with noise are means over ``--reps`` draws (same draws for every method).
"""
from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from xlmrio.core.leontief import coefficients, leontief_inverse  # noqa: E402
from xlmrio.core.table import MRIOTable  # noqa: E402
from xlmrio.errors import SolverError, XlmrioError  # noqa: E402
from xlmrio.update import Aggregate, anais, balance_table, compare, kras, ras  # noqa: E402

import _io_tables as io  # noqa: E402


# ============================================================================ year pairs

@dataclass(frozen=True)
class Pair:
    """A benchmark case: load the prior (year t) and the reference (year t+k) tables."""

    key: str
    label: str
    load: Callable[[], tuple[MRIOTable, MRIOTable]]
    info_sets: tuple[str, ...] = ("margins", "table")
    noise: bool = True


def _oecd(c, t0, t1):
    return lambda: (io.oecd_table(c, t0), io.oecd_table(c, t1))


def _nbs(t0, t1):
    return lambda: (io.nbs42_table(t0), io.nbs42_table(t1))


def _demo():
    from xlmrio.datasets import demo

    return demo(2002), demo(2007)


def _wiod():
    return io.wiod_agg_table(2003), io.wiod_agg_table(2008)


PAIRS = [
    Pair("oecd-chn-10-15", "OECD CHN 2010->2015 (44 ind.)", _oecd("CHN", 2010, 2015)),
    Pair("oecd-chn-14-18", "OECD CHN 2014->2018 (44 ind.)", _oecd("CHN", 2014, 2018)),
    Pair("oecd-jpn-10-15", "OECD JPN 2010->2015 (44 ind.)", _oecd("JPN", 2010, 2015)),
    Pair("oecd-jpn-05-15", "OECD JPN 2005->2015 (44 ind.)", _oecd("JPN", 2005, 2015)),
    Pair("nbs-17-18", "NBS China 2017->2018 (42 sect., domestic)", _nbs(2017, 2018)),
    Pair("nbs-18-20", "NBS China 2018->2020 (42 sect., domestic)", _nbs(2018, 2020)),
    Pair("demo-02-07", "Demo WIOD 2002->2007 (8x17)", _demo),
    Pair("wiod5-03-08", "WIOD 2003->2008 (41x5)", _wiod, info_sets=("margins",), noise=False),
]
QUICK = ("oecd-chn-10-15", "nbs-17-18")
CBC_FALLBACK_MAX_N = 60  # retry ANAIS with CBC after a HiGHS failure only up to this many rows

METHODS = {
    "margins": ("keep", "ras", "anais", "anais_cols", "anais_soft", "anais_z", "anais_blocks", "kras"),
    "table": ("keep", "gras_table", "anais", "anais_cols", "anais_soft"),
}
METHOD_LABEL = {
    "keep": "keep A_t",
    "ras": "RAS (Z)",
    "gras_table": "GRAS (table)",
    "anais": "ANAIS",
    "anais_cols": "ANAIS cols",
    "anais_soft": "ANAIS cols soft",
    "anais_z": "ANAIS rho on Z",
    "anais_blocks": "ANAIS rho per block",
    "kras": "KRAS",
}


# ============================================================================ information

@dataclass
class Info:
    """What a method is told about the year t+k table (money units of the tables)."""

    kind: str                      # "margins" or "table"
    x: np.ndarray                  # total output (N,)
    u: np.ndarray | None = None    # Z row sums (margins)
    v: np.ndarray | None = None    # Z column sums (margins)
    fd: np.ndarray | None = None   # final-demand column totals (table), order Y, exports, other
    va: np.ndarray | None = None   # primary-input row totals (table)
    noise: float = 0.0


def fd_matrix(t: MRIOTable) -> np.ndarray:
    """Final-demand block ``[Y | exports | other]`` (N, q)."""
    cols = [np.asarray(t.Y)]
    for vec in (t.exports, t.other):
        if vec is not None:
            cols.append(np.asarray(vec).reshape(-1, 1))
    return np.hstack(cols)


def make_info(true: MRIOTable, kind: str, noise: float = 0.0, rng: np.random.Generator | None = None) -> Info:
    """The information of set ``kind`` about ``true``, optionally with multiplicative noise ``U(-noise, noise)``."""
    rng = rng if rng is not None else np.random.default_rng(0)

    def jitter(a):
        a = np.asarray(a, dtype=np.float64)
        return a * (1.0 + rng.uniform(-noise, noise, a.shape)) if noise > 0 else a.copy()

    Z = np.asarray(true.Z)
    if kind == "margins":
        x, u, v = jitter(true.x), jitter(Z.sum(axis=1)), jitter(Z.sum(axis=0))
        v = v * (u.sum() / v.sum())  # RAS needs sum u = sum v; ANAIS needs sum(x-u) = sum(x-v)
        return Info(kind, x, u=u, v=v, noise=noise)
    if kind == "table":
        x, fd, va = jitter(true.x), jitter(fd_matrix(true).sum(axis=0)), jitter(np.asarray(true.V).sum(axis=1))
        va = va * (fd.sum() / va.sum())  # GDP identity sum(VA) = sum(FD)
        return Info(kind, x, fd=fd, va=va, noise=noise)
    raise ValueError(f"unknown information set {kind!r}")


# ============================================================================ methods

def _fd_refs(t: MRIOTable, k: int) -> list:
    r, i = t.regions[k // t.n], t.sectors[k % t.n]
    refs = [("Y", (r, i), (s, c)) for s in t.regions for c in t.fd_categories]
    if t.exports is not None:
        refs.append(("exports", (r, i)))
    if t.other is not None:
        refs.append(("other", (r, i)))
    return refs


def _fd_col_refs(t: MRIOTable, j: int) -> list:
    rs = [(r, i) for r in t.regions for i in t.sectors]
    mK = t.m * t.K
    if j < mK:
        col = (t.regions[j // t.K], t.fd_categories[j % t.K])
        return [("Y", k, col) for k in rs]
    name = "exports" if (j == mK and t.exports is not None) else "other"
    return [(name, k) for k in rs]


def anais_information(prior: MRIOTable, info: Info, soft: bool = False) -> dict:
    """Keyword arguments of :func:`xlmrio.update.anais` that carry ``info``.

    ``soft=True`` enters the final-demand and primary-input sums as soft aggregates (they may
    deviate by ``r_g |value|`` with ``r_g <= rho``, METHODS §4.4-5); totals ``x`` stay hard.
    """
    rs = [(r, i) for r in prior.regions for i in prior.sectors]
    kw: dict = {"totals": info.x}
    aggs: list[Aggregate] = []
    if info.kind == "margins":
        f = info.x - info.u           # final-demand row sums
        g = info.x - info.v           # primary-input column sums
        aggs += [Aggregate(f"FD row {k}", _fd_refs(prior, k), float(f[k]), soft) for k in range(prior.N)]
        if len(prior.va_rows) == 1 and not soft:
            kw["known_cells"] = {"V": g[None, :]}
        else:
            aggs += [Aggregate(f"VA column {l}", [("V", d, rs[l]) for d in prior.va_rows], float(g[l]), soft)
                     for l in range(prior.N)]
    else:
        aggs += [Aggregate(f"FD column {j}", _fd_col_refs(prior, j), float(info.fd[j]), soft)
                 for j in range(info.fd.size)]
        aggs += [Aggregate(f"VA row {d}", [("V", d, k) for k in rs], float(info.va[di]), soft)
                 for di, d in enumerate(prior.va_rows)]
    kw["aggregates"] = aggs
    return kw


def estimate(method: str, prior: MRIOTable, info: Info) -> dict:
    """Run one method; returns ``Z`` and ``x`` of the estimate (plus ``rho`` for ANAIS, ``seconds``)."""
    t0 = time.perf_counter()
    out: dict = {}
    if method == "keep":
        A = coefficients(prior.Z, prior.x)
        out.update(Z=A * info.x[None, :], x=info.x)
    elif method == "ras":
        out.update(Z=ras(np.asarray(prior.Z), info.u, info.v), x=info.x)
    elif method == "gras_table":
        t, _res = balance_table(prior, info.x, info.va, info.fd, method="gras")
        out.update(Z=np.asarray(t.Z), x=np.asarray(t.x), table=t)
    elif method == "kras":
        res = kras(prior, **anais_information(prior, info))
        out.update(Z=np.asarray(res.table.Z), x=np.asarray(res.table.x), table=res.table)
    elif method in ("anais", "anais_cols", "anais_soft", "anais_z", "anais_blocks"):
        kw = dict(prior_scaling="none" if method in ("anais", "anais_z", "anais_blocks") else "columns",
                  rho_scope={"anais_z": "Z", "anais_blocks": "blocks"}.get(method, "all"),
                  **anais_information(prior, info, soft=method == "anais_soft"))
        try:
            res = anais(prior, **kw)
        except SolverError:
            # HiGHS presolve can wrongly declare the stage-2 LP infeasible when some cells have
            # a box of width below its feasibility tolerance (seen on OECD JPN 2010->2015);
            # CBC solves the same problem.  Counted in the "fallback" column.  CBC is too slow
            # beyond national size (221 s on WIOD 41x5), so larger tables report the failure.
            if prior.N > CBC_FALLBACK_MAX_N:
                raise
            res = anais(prior, solver="pulp", **kw)
            out["fallback"] = 1
        out.update(Z=np.asarray(res.table.Z), x=np.asarray(res.table.x), rho=res.rho, table=res.table,
                   rho_blocks=res.rho_blocks)
    else:
        raise ValueError(f"unknown method {method!r}")
    out["seconds"] = time.perf_counter() - t0
    return out


def leontief_L(Z: np.ndarray, x: np.ndarray) -> np.ndarray:
    return leontief_inverse(coefficients(Z, x), check=False)


def score(est: dict, true: MRIOTable, L_true: np.ndarray) -> dict:
    cz = compare(est["Z"], true.Z)
    cl = compare(leontief_L(est["Z"], est["x"]), L_true)
    return {"wape_Z": cz["wape"], "max_rel_Z": cz["max_rel"], "wape_L": cl["wape"], "max_rel_L": cl["max_rel"],
            "seconds": est["seconds"], "rho": est.get("rho", np.nan), "fallback": est.get("fallback", 0),
            "rho_blocks": est.get("rho_blocks") or {}}


# ============================================================================ driver

def run_pair(pair: Pair, noise_levels=(0.02, 0.05), reps: int = 3, seed: int = 12345,
             info_sets: tuple[str, ...] | None = None, methods: dict | None = None,
             verbose: bool = True) -> list[dict]:
    """All information sets x noise levels x methods for one pair; one result row per combination."""
    prior, true = pair.load()
    L_true = leontief_L(true.Z, true.x)
    rows = []
    levels = [0.0] + (list(noise_levels) if pair.noise else [])
    for kind in info_sets or pair.info_sets:
        if kind not in pair.info_sets:
            continue
        for a in levels:
            n_draws = 1 if a == 0 else reps
            infos = [make_info(true, kind, a, np.random.default_rng([seed, r, int(round(a * 1e4))]))
                     for r in range(n_draws)]
            for meth in (methods or METHODS)[kind]:
                scores, err = [], None
                for info in infos:
                    try:
                        scores.append(score(estimate(meth, prior, info), true, L_true))
                    except XlmrioError as exc:  # e.g. ANAIS infeasible with noisy margins
                        err = f"{type(exc).__name__}: {str(exc)[:90]}"
                row = dict(pair=pair.key, label=pair.label, info=kind, noise=a, method=meth,
                           draws=len(scores), failed=n_draws - len(scores), error=err)
                for key in ("wape_Z", "wape_L", "max_rel_Z", "max_rel_L", "seconds", "rho"):
                    row[key] = float(np.mean([s[key] for s in scores])) if scores else float("nan")
                row["fallback"] = int(sum(s["fallback"] for s in scores))
                row["rho_blocks"] = {b: float(np.mean([s["rho_blocks"][b] for s in scores]))
                                     for b in (scores[0]["rho_blocks"] if scores else {})}
                rows.append(row)
                if verbose:
                    print(f"  {pair.key:15s} {kind:7s} noise {a:4.0%} {METHOD_LABEL[meth]:12s} "
                          f"WAPE Z {row['wape_Z']:7.2f}  WAPE L {row['wape_L']:6.2f}  "
                          f"maxrel Z {row['max_rel_Z']:8.3g}  {row['seconds']:6.2f} s"
                          + (f"  [{row['failed']} failed: {err}]" if row["failed"] else "")
                          + (f"  [CBC fallback x{row['fallback']}]" if row["fallback"] else ""), flush=True)
    return rows


def _fmt(v, digits=2):
    return "n/a" if v is None or not np.isfinite(v) else f"{v:.{digits}f}"


def tables_markdown(rows: list[dict]) -> str:
    """Markdown tables: per information set, rows (pair, noise), columns WAPE Z / WAPE L per method."""
    out = []
    for kind in ("margins", "table"):
        sub = [r for r in rows if r["info"] == kind]
        if not sub:
            continue
        meths = [m for m in METHODS[kind] if any(r["method"] == m for r in sub)]
        out.append(f"\n### Information set `{kind}` — WAPE of Z / WAPE of L (%)\n")
        out.append("| pair | noise | " + " | ".join(METHOD_LABEL[m] for m in meths) + " |")
        out.append("|---|---:|" + "---:|" * len(meths))
        keys = sorted({(r["pair"], r["noise"]) for r in sub}, key=lambda k: ([p.key for p in PAIRS].index(k[0]), k[1]))
        for pk, a in keys:
            cells = []
            for m in meths:
                r = next((r for r in sub if r["pair"] == pk and r["noise"] == a and r["method"] == m), None)
                if r is None:
                    cells.append("")
                    continue
                c = f"{_fmt(r['wape_Z'])} / {_fmt(r['wape_L'])}"
                if r["failed"]:
                    what = "infeasible" if (r["error"] or "").startswith("InfeasibleError") else "solver failed"
                    c += f" ({r['failed']}/{r['failed'] + r['draws']} {what})" if r["draws"] else f" {what}"
                if r["fallback"]:
                    c += " †"
                cells.append(c)
            label = next(r["label"] for r in sub if r["pair"] == pk)
            out.append(f"| {label} | {'exact' if a == 0 else f'±{a:.0%}'} | " + " | ".join(cells) + " |")
        exact = [r for r in sub if r["noise"] == 0]
        if exact:
            out.append(f"\nLargest relative deviation of a Z cell (exact `{kind}` information):\n")
            out.append("| pair | " + " | ".join(METHOD_LABEL[m] for m in meths) + " |")
            out.append("|---|" + "---:|" * len(meths))
            for pk in dict.fromkeys(r["pair"] for r in exact):
                cells = [_fmt(next((r["max_rel_Z"] for r in exact if r["pair"] == pk and r["method"] == m), None), 3)
                         for m in meths]
                out.append(f"| {next(r['label'] for r in exact if r['pair'] == pk)} | " + " | ".join(cells) + " |")
            rm = [m for m in ("anais", "anais_z", "anais_blocks") if m in meths]
            if rm:
                out.append(f"\nrho* of ANAIS (exact `{kind}` information; per block: rho_Z / rho_FD / rho_VA):\n")
                out.append("| pair | " + " | ".join(METHOD_LABEL[m] for m in rm) + " |")
                out.append("|---|" + "---:|" * len(rm))
                for pk in dict.fromkeys(r["pair"] for r in exact):
                    cells = []
                    for m in rm:
                        r = next((r for r in exact if r["pair"] == pk and r["method"] == m), None)
                        if r is None or not r["draws"]:
                            cells.append("n/a")
                        elif r.get("rho_blocks"):
                            cells.append(" / ".join(_fmt(r["rho_blocks"][b], 3) for b in ("Z", "FD", "VA")))
                        else:
                            cells.append(_fmt(r["rho"], 3))
                    out.append(f"| {next(r['label'] for r in exact if r['pair'] == pk)} | " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


def main(argv=None) -> list[dict]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help=f"pairs {', '.join(QUICK)}, one draw per noise level")
    ap.add_argument("--pairs", nargs="+", choices=[p.key for p in PAIRS], help="subset of pairs")
    ap.add_argument("--noise", nargs="*", type=float, default=[0.02, 0.05], help="noise half-widths (fractions)")
    ap.add_argument("--reps", type=int, default=None, help="draws per noise level (default 3, quick 1)")
    ap.add_argument("--seed", type=int, default=12345)
    ap.add_argument("--markdown", type=Path, help="write the result tables to this Markdown file")
    ap.add_argument("--methods", nargs="+", choices=list(METHOD_LABEL), help="subset of methods")
    ap.add_argument("--info", nargs="+", choices=list(METHODS), help="subset of information sets")
    args = ap.parse_args(argv)
    methods = ({k: tuple(m for m in v if m in args.methods) for k, v in METHODS.items()} if args.methods else None)
    keys = args.pairs or (QUICK if args.quick else [p.key for p in PAIRS])
    reps = args.reps if args.reps is not None else (1 if args.quick else 3)
    rows: list[dict] = []
    t0 = time.perf_counter()
    for p in PAIRS:
        if p.key in keys:
            print(f"{p.label}", flush=True)
            rows += run_pair(p, noise_levels=args.noise, reps=reps, seed=args.seed, methods=methods,
                             info_sets=tuple(args.info) if args.info else None)
    md = tables_markdown(rows)
    print(md)
    print(f"total {time.perf_counter() - t0:.1f} s")
    if args.markdown:
        args.markdown.write_text(md, encoding="utf-8")
    return rows


if __name__ == "__main__":
    main()
