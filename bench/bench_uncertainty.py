"""Monte Carlo benchmark (#15): time per draw against one ``accounts`` call, and Dask scaling.

Usage::

    python bench/bench_uncertainty.py            # WIOD 2013 world table 2007 (1435 x 1435), 64 draws on Dask
    python bench/bench_uncertainty.py --quick    # 16 draws on Dask, 3 timed draws
    python bench/bench_uncertainty.py --year 2005 --draws 64 --repeats 5

In one run, on the WIOD 1435 table (read from ``../shared/data``; the bundled 136-sector demo table
when it is absent, said so in the output):

* ``accounts(table, "CO2")`` — best of ``--repeats``;
* one Monte Carlo draw (``xlmrio.core.uncertainty.run_draws`` on one thread): log-normal factors for
  every non-zero cell of Z, Y and the satellite, A, LU of I − A, the driver solves, PBA/CBA/NEI and
  the inefficient-flow share — mean over ``--repeats`` draws. Target: draw / accounts <= 1.3;
* ``monte_carlo(..., draws=--draws, client=...)`` on a Dask ``LocalCluster`` of processes with one
  thread each, with 1 worker and with 2 workers (cluster start-up excluded, the table's plan is
  scattered once per run). Target: 1 worker / 2 workers >= 1.6. Both runs must give identical
  summaries (asserted). On a 2-core machine shared with other jobs the scaling measures the load as
  much as the code: read the figures with the machine's load average, which is printed.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import xlmrio  # noqa: E402
from xlmrio.core.uncertainty import make_plan, run_draws  # noqa: E402

TARGET_DRAW_RATIO = 1.3
TARGET_SCALING = 1.6


def _table(year: int):
    try:
        return xlmrio.datasets.wiod(year, co2=True), f"WIOD 2013 world table {year}"
    except xlmrio.XlmrioError as exc:
        print(f"  WIOD not available ({exc}); using the bundled demo table 2007 instead")
        return xlmrio.datasets.demo(2007), "demo 2007 (8 x 17)"


def _cluster_run(table, draws: int, workers: int):
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                      silence_logs=50) as cl, Client(cl) as client:
        client.submit(sum, [1]).result()  # workers up and answering
        t0 = time.perf_counter()
        r = xlmrio.uncertainty.monte_carlo(table, "CO2", draws=draws, seed=0, client=client,
                                           chunk=max(1, draws // (4 * workers)))
        return time.perf_counter() - t0, r


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="16 Dask draws, 3 timed draws")
    ap.add_argument("--year", type=int, default=2007)
    ap.add_argument("--draws", type=int, default=64, help="draws of the Dask runs (default 64)")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--no-dask", action="store_true", help="skip the LocalCluster runs")
    args = ap.parse_args(argv)
    if args.quick:
        args.draws, args.repeats = 16, 3
    table, name = _table(args.year)
    print(f"table: {name}, N = {table.N}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; "
          f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}")
    xlmrio.accounts(table, "CO2")  # warm-up
    acc = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        xlmrio.accounts(table, "CO2")
        acc.append(time.perf_counter() - t0)
    t_acc = min(acc)
    t0 = time.perf_counter()
    plan = make_plan(table, "CO2")
    t_plan = time.perf_counter() - t0
    run_draws(plan, 0, [0])  # warm-up
    t0 = time.perf_counter()
    run_draws(plan, 0, range(1, 1 + args.repeats))
    t_draw = (time.perf_counter() - t0) / args.repeats
    ratio = t_draw / t_acc
    print(f"accounts (best of {args.repeats}):        {t_acc * 1e3:8.1f} ms")
    print(f"plan (once per run):              {t_plan * 1e3:8.1f} ms")
    print(f"one draw (mean of {args.repeats}, 1 thread):   {t_draw * 1e3:8.1f} ms  = {1 / t_draw:.2f} draws/s")
    print(f"draw / accounts = {ratio:.2f}  (target <= {TARGET_DRAW_RATIO}: {'met' if ratio <= TARGET_DRAW_RATIO else 'MISSED'})")
    if args.no_dask:
        return
    try:
        import distributed  # noqa: F401
    except ImportError:
        print("Dask not installed (pip install \"xlmrio[dask]\"): LocalCluster runs skipped")
        return
    t1, r1 = _cluster_run(table, args.draws, 1)
    t2, r2 = _cluster_run(table, args.draws, 2)
    assert np.array_equal(r1.values, r2.values), "1 and 2 workers gave different draws"
    sc = t1 / t2
    print(f"LocalCluster, {args.draws} draws, 1 worker:  {t1:7.1f} s = {args.draws / t1:.2f} draws/s")
    print(f"LocalCluster, {args.draws} draws, 2 workers: {t2:7.1f} s = {args.draws / t2:.2f} draws/s")
    print(f"scaling 1 -> 2 workers = {sc:.2f}x  (target >= {TARGET_SCALING}: {'met' if sc >= TARGET_SCALING else 'MISSED'}); "
          f"load average now {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
