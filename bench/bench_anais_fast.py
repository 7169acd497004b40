"""Speed benchmark of the ANAIS network fast path (xlmrio/core/anais_network.py) against the LP path.

Usage::

    python bench/bench_anais_fast.py                       # synthetic 1e4, 1e5 (both paths), 1e6 (network)
                                                           # and the full WIOD 2002 -> 2007 cases
    python bench/bench_anais_fast.py --cells 1e4 --no-wiod
    python bench/bench_anais_fast.py --free                # also WIOD with zero_policy="free" (2.35 M free cells)

Synthetic problems are those of ``bench/bench_update.py`` (random prior, 30 % structural zeros,
targets = all total outputs of a perturbed table).  WIOD: prior ``wiod(2002)``, totals
``wiod(2007).x`` (1435 x 1435 Z).  Each case runs in a fresh process so that its peak RSS is its own.
Prints build / stage-1 / stage-2 / total seconds, rho*, the stage-2 objective and peak RSS (MB).
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def _case(spec: dict) -> dict:
    """Run one case (in a child process); returns timings, results and peak RSS."""
    from xlmrio.core.anais import build_problem
    from xlmrio.errors import XlmrioError
    from xlmrio.update import anais

    t0 = time.perf_counter()
    if spec["kind"] == "synthetic":
        from bench_update import synthetic

        prior, x1 = synthetic(spec["cells"])
        label = f"synthetic {prior.N ** 2:,} Z cells"
    else:
        from xlmrio.datasets import wiod

        prior, x1 = wiod(2002), np.array(wiod(2007).x, dtype=np.float64)
        label = "WIOD 2002 -> 2007"
        if spec.get("repair"):
            # 2 LVA industries have zero 2002 output and positive 2007 output, 1 the reverse: with
            # fixed structural zeros no table meets those totals; keep the prior's totals there
            bad = (np.asarray(prior.x) <= 0) != (x1 <= 0)
            x1[bad] = np.asarray(prior.x)[bad]
            label += f" ({int(bad.sum())} inconsistent totals kept at 2002)"
    t_load = time.perf_counter() - t0
    kw = dict(totals=x1, prior_scaling=spec.get("scaling", "none"), zero_policy=spec.get("zero_policy", "fixed"))
    t1 = time.perf_counter()
    P = build_problem(prior, **kw)
    t_build = time.perf_counter() - t1
    free = int((~P.fixed).sum())
    del P
    out = dict(label=label, solver=spec["solver"], load=t_load, build=t_build, free=free,
               scaling=kw["prior_scaling"], zero_policy=kw["zero_policy"])
    t2 = time.perf_counter()
    try:
        res = anais(prior, solver=spec["solver"], time_limit=spec.get("time_limit"), **kw)
    except XlmrioError as err:
        out.update(error=f"{type(err).__name__}: {str(err)[:150]}", total=time.perf_counter() - t2)
    else:
        t = res.timings
        out.update(stage1=t["solve_stage1"], stage2=t["solve_stage2"], total=res.seconds, rho=res.rho,
                   obj=res.objective, iters=t.get("newton_iterations", ""))
    out["rss"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def run(spec: dict) -> dict:
    ctx = mp.get_context("spawn")
    with ctx.Pool(1) as pool:
        return pool.apply(_case, (spec,))


def show(r: dict) -> None:
    head = f"{r['label']:<58} {r['solver']:>9} {r['scaling']:>7} {r['zero_policy']:>5} {r['free']:>9,}"
    if "error" in r:
        print(f"{head}  failed after {r['total']:.1f} s: {r['error']}  (peak {r['rss']:.0f} MB)")
    else:
        print(f"{head} {r['build']:6.2f} {r['stage1']:7.2f} {r['stage2']:7.2f} {r['total']:7.2f} {str(r['iters']):>3} "
              f"{r['rho']:12.8g} {r['obj']:14.8g} {r['rss']:7.0f}")
    sys.stdout.flush()


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cells", nargs="+", type=float, default=[1e4, 1e5])
    ap.add_argument("--network-only-cells", nargs="*", type=float, default=[1e6])
    ap.add_argument("--lp-solver", default="highs-ipm")
    ap.add_argument("--no-wiod", action="store_true")
    ap.add_argument("--free", action="store_true", help="also WIOD with zero_policy='free'")
    ap.add_argument("--time-limit", type=float, default=600.0)
    args = ap.parse_args(argv)
    print(f"{'case':<58} {'solver':>9} {'scaling':>7} {'zeros':>5} {'free cells':>9} {'build':>6} {'stage1':>7} "
          f"{'stage2':>7} {'total':>7} {'it':>3} {'rho*':>12} {'objective':>14} {'RSS MB':>7}")
    for c in args.cells:
        for solver in ("network", args.lp_solver):
            show(run(dict(kind="synthetic", cells=c, solver=solver, time_limit=args.time_limit)))
    for c in args.network_only_cells:
        show(run(dict(kind="synthetic", cells=c, solver="network", time_limit=args.time_limit)))
    if not args.no_wiod:
        show(run(dict(kind="wiod", solver="network", time_limit=args.time_limit)))
        for scaling in ("none", "columns"):
            show(run(dict(kind="wiod", repair=True, scaling=scaling, solver="network", time_limit=args.time_limit)))
        if args.free:
            show(run(dict(kind="wiod", scaling="columns", zero_policy="free", solver="network",
                          time_limit=args.time_limit)))


if __name__ == "__main__":
    main()
