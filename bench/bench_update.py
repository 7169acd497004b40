"""Speed benchmark of the ANAIS solver paths (PuLP/CBC vs sparse HiGHS) on synthetic problems.

Usage::

    python bench/bench_update.py                    # 1e3 and 1e4 Z cells, all paths
    python bench/bench_update.py --cells 1e4 1e5 --solvers highs highs-ipm --time-limit 300

Each problem: a random prior (m regions x n sectors, 30 % zero Z cells, 2 final-demand
categories per region, exports, 2 primary-input rows) and a balanced "true" table with every
cell moved by a factor in [0.8, 1.25]; the target information is all true total outputs.
Prints build and solve times per stage, rho*, the stage-2 objective and peak RSS.
"""
from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from xlmrio.core.table import MRIOTable  # noqa: E402
from xlmrio.errors import XlmrioError  # noqa: E402
from xlmrio.update import anais  # noqa: E402


def synthetic(n_cells: float, seed: int = 0, sectors: int = 25):
    N = max(2, int(round(np.sqrt(n_cells))))
    n = min(sectors, N)
    m = max(1, N // n)
    N = m * n
    rng = np.random.default_rng(seed)
    K = 2
    Z0 = rng.uniform(1, 10, (N, N)) * (rng.uniform(size=(N, N)) > 0.3)
    Y0 = rng.uniform(0.2, 0.5, (N, m * K)) * N * 10 / (m * K)
    E0 = rng.uniform(5, 20, N)
    V2 = rng.uniform(-2, 4, N)
    x0 = Z0.sum(1) + Y0.sum(1) + E0
    V0 = np.vstack([x0 - Z0.sum(0) - V2, V2])
    labels = dict(regions=[f"R{i}" for i in range(m)], sectors=[f"s{i}" for i in range(n)],
                  fd_categories=["hh", "gov"], va_rows=["wages", "taxes"])
    prior = MRIOTable.from_arrays(Z0, Y0, V=V0, x=x0, exports=E0, **labels)
    g = lambda shape: rng.uniform(0.8, 1.25, shape)  # noqa: E731
    Z1, Y1, E1 = Z0 * g(Z0.shape), Y0 * g(Y0.shape), E0 * g(N)
    x1 = Z1.sum(1) + Y1.sum(1) + E1
    return prior, x1


def run(n_cells: float, solver: str, time_limit: float | None):
    prior, x1 = synthetic(n_cells)
    t0 = time.perf_counter()
    try:
        res = anais(prior, totals=x1, solver=solver, time_limit=time_limit)
    except XlmrioError as err:
        return dict(cells=prior.N ** 2, solver=solver, error=str(err)[:80], total=time.perf_counter() - t0)
    t = res.timings
    return dict(cells=prior.N ** 2, solver=solver, build1=t["build_stage1"], solve1=t["solve_stage1"],
                build2=t["build_stage2"], solve2=t["solve_stage2"], total=res.seconds, rho=res.rho,
                obj=res.objective, rows1=res.size["stage1_rows"], vars1=res.size["stage1_vars"])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cells", nargs="+", type=float, default=[1e3, 1e4])
    ap.add_argument("--solvers", nargs="+", default=["pulp", "highs", "highs-ds", "highs-ipm"])
    ap.add_argument("--time-limit", type=float, default=300.0)
    args = ap.parse_args(argv)
    hdr = f"{'Z cells':>8} {'solver':>10} {'build1':>7} {'solve1':>8} {'build2':>7} {'solve2':>8} {'total':>8} " \
          f"{'rows1':>7} {'rho*':>10} {'objective':>12}"
    print(hdr)
    for c in args.cells:
        for s in args.solvers:
            r = run(c, s, args.time_limit)
            if "error" in r:
                print(f"{r['cells']:>8} {s:>10} failed after {r['total']:.1f} s: {r['error']}")
            else:
                print(f"{r['cells']:>8} {s:>10} {r['build1']:7.2f} {r['solve1']:8.2f} {r['build2']:7.2f} "
                      f"{r['solve2']:8.2f} {r['total']:8.2f} {r['rows1']:>7} {r['rho']:10.6f} {r['obj']:12.6g}")
            sys.stdout.flush()
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
