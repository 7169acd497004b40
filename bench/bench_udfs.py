"""Worksheet-function benchmark: range checks and the shared factorisation.

Usage::

    python bench/bench_udfs.py            # N = 1000 range, 3 repeats
    python bench/bench_udfs.py --quick    # 1 repeat
    python bench/bench_udfs.py --n 1435   # WIOD size

Measured in one run, on one machine:

1. **Range check** of an N x N range (what ``MRIO_…`` does with every matrix argument before any
   arithmetic): ``xlmrio.excel.udfs._matrix`` against the former cell-by-cell loop (kept below as
   the baseline, same messages), on the float array xlwings' numpy converter hands over and on
   the same values as Python objects (and, without ``--quick``, a range holding one text cell in
   its last corner, which numpy hands over as text: the error path).
2. **MULTIPLIERS + FOOTPRINT on the same ranges** (Z, x, g, Y of a random productive table):
   the number of LU factorisations of ``I − A`` (counted at scipy's ``lu_factor``) and the wall
   time of the pair, with the solver cache and with the cache off (``max_entries=0``, i.e. one LU
   per call as before).
3. The cost of the cache key (hashing A) next to one factorisation.

Times are the best of the repeats (``time.perf_counter``).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from xlmrio.core import leontief  # noqa: E402
from xlmrio.errors import OptionError  # noqa: E402
from xlmrio.excel import udfs  # noqa: E402


def loop_matrix(name, value):
    """The range check before vectorisation (cell by cell), the baseline."""
    arr = np.array(value, dtype=object, ndmin=2)
    out = np.empty(arr.shape, dtype=float)
    for (i, j), v in np.ndenumerate(arr):
        if isinstance(v, bool) or v is None or (isinstance(v, str) and not v.strip()):
            what = "a non-numeric" if isinstance(v, bool) else "an empty"
            raise OptionError(f"{name} has {what} cell at row {i + 1}, column {j + 1}")
        try:
            out[i, j] = float(v)
        except (TypeError, ValueError):
            raise OptionError(f"{name} has a non-numeric cell at row {i + 1}, column {j + 1}") from None
        if not np.isfinite(out[i, j]):
            what = "an empty" if np.isnan(out[i, j]) else "an infinite"
            raise OptionError(f"{name} has {what} cell at row {i + 1}, column {j + 1}")
    return out


def best(f, repeats):
    t = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        f()
        t.append(time.perf_counter() - t0)
    return min(t)


def table(n, seed=0):
    """A random productive table: Z (n x n), x, g, Y (n x 8), column sums of A below 0.6."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(50, 150, n)
    A = rng.random((n, n))
    A *= 0.6 / A.sum(axis=0)
    Z = A * x
    fd = x - Z.sum(axis=1)
    Y = np.outer(fd, rng.dirichlet(np.ones(8)))
    g = rng.uniform(0, 10, n)
    return Z, x, g, Y


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1000, help="range size N (N x N), default 1000")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="one repeat")
    args = ap.parse_args(argv)
    reps = 1 if args.quick else args.repeats
    n = args.n

    print(f"1. range check of a {n} x {n} range (best of {reps})")
    Z, x, g, Y = table(n)
    as_float = Z.copy()                       # xlwings' numpy converter: float64, NaN for empty
    as_objects = Z.astype(object)             # the same values as Python objects
    cases = [("float array (xlwings)", as_float), ("Python objects", as_objects)]
    if not args.quick:
        # one text cell in the last corner: numpy hands over the whole range as text; both paths
        # must parse it (the error path)
        as_text = Z.astype(str)
        as_text[-1, -1] = "n/a"
        cases.append(("text, last cell bad", as_text))

    def run(check, value):
        try:
            return check("Z", value)
        except OptionError as exc:
            return str(exc)

    for label, value in cases:
        a, b = run(udfs._matrix, value), run(loop_matrix, value)
        assert (a == b) if isinstance(a, str) else np.array_equal(a, b), (a, b)
        t_new = best(lambda: run(udfs._matrix, value), reps)
        t_old = best(lambda: run(loop_matrix, value), 1)
        print(f"   {label:24s} loop {t_old:8.3f} s   vectorised {t_new:8.4f} s   "
              f"speed-up {t_old / t_new:8.1f}x")

    print(f"2. MRIO_MULTIPLIERS + MRIO_FOOTPRINT on the same {n} x {n} ranges (best of {reps})")
    lu_calls = []
    real = leontief.sla.lu_factor
    leontief.sla.lu_factor = lambda *a, **k: lu_calls.append(1) or real(*a, **k)
    saved = udfs.SOLVERS
    try:
        results, pair = {}, {}
        for label, cache in (("cache off (before)", lambda: udfs.SolverCache(max_entries=0)),
                             ("solver cache", udfs.SolverCache)):
            times, lus = [], []
            for _ in range(reps):
                udfs.SOLVERS = cache()        # cold: nothing cached from an earlier repeat
                lu_calls.clear()
                t0 = time.perf_counter()
                m = udfs.MRIO_MULTIPLIERS(Z, x)
                f = udfs.MRIO_FOOTPRINT(Z, x, g, Y)
                times.append(time.perf_counter() - t0)
                lus.append(len(lu_calls))
            assert not isinstance(m, str) and not isinstance(f, str), (m, f)
            results[label] = (m, f)
            pair[label] = min(times)
            print(f"   {label:24s} {min(times):8.3f} s   LU factorisations: {max(lus)}")
        (m0, f0), (m1, f1) = results.values()
        np.testing.assert_array_equal(m0, m1)
        np.testing.assert_array_equal(f0, f1)
        print(f"   pair time, cache off / cache: {pair['cache off (before)'] / pair['solver cache']:.2f}x")
    finally:
        leontief.sla.lu_factor = real
        udfs.SOLVERS = saved
    print("   (same results with and without the cache; FOOTPRINT reuses MULTIPLIERS' LU)")
    A = leontief.coefficients(Z, x)
    t_key = best(lambda: udfs.array_digest(A), reps)
    t_lu = best(lambda: leontief.LeontiefSolver(A), reps)
    print(f"3. cache key (SHA-256 of A, {A.nbytes / 2**20:.1f} MB) {t_key * 1e3:8.1f} ms   "
          f"vs one LU + productivity check {t_lu * 1e3:8.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
