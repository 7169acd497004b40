"""Reading a table grid: ``python bench/bench_reader.py [--quick]``.

Times the reader's steps (locate_table -> read_blocks -> satellites -> build_table) on a synthetic
WIOD-size grid in xlmrio's layout (41 regions x 35 sectors, N = 1435, about 2.3 M cells, as the
engine hands it over: a list of row lists), in the default mode every command uses and in
Validate's collect mode. The peer, measured in the same run, is the floor of any reader: numpy's
conversion of the same numeric cells to one float array (``np.array(rows, dtype=float)``), with no
checks. Prints best-of-n seconds and the ratio to the floor.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from xlmrio.excel.layout import (Grid, Problems, build_table, read_satellite_grid,  # noqa: E402
                                 read_table_blocks)


def synthetic_grid(m: int, n: int, K: int = 5, seed: int = 0) -> tuple[Grid, Grid]:
    """A balanced table and its CO2 satellite in xlmrio's layout, as row lists of Python floats."""
    N = m * n
    rng = np.random.default_rng(seed)
    Z = rng.random((N, N))
    Y = rng.random((N, m * K))
    x = Z.sum(1) + Y.sum(1)
    va = x - Z.sum(0)
    regions = [f"R{i:02d}" for i in range(m)]
    sectors = [f"S{i:02d}" for i in range(n)]
    labels = [(r, s) for r in regions for s in sectors]
    h1 = ["Region", "Sector"] + [r for r, _ in labels] + [r for r in regions for _ in range(K)] + ["Total output"]
    h2 = [None, None] + [s for _, s in labels] + [f"C{k}" for _ in regions for k in range(K)] + [None]
    body = np.hstack([Z, Y, x[:, None]]).tolist()
    rows = [h1, h2] + [[r, s] + body[k] for k, (r, s) in enumerate(labels)]
    rows.append(["Primary input", "Value added"] + va.tolist() + [None] * (m * K + 1))
    sat = [["Satellite", "Unit"] + h1[2:2 + N], [None, None] + h2[2:2 + N], ["CO2", "kt"] + rng.random(N).tolist()]
    return Grid("Big", rows), Grid("Big satellites", sat)


def _read(grid: Grid, sat: Grid, collect: bool):
    problems = Problems(collect=collect)
    blocks = read_table_blocks(grid, problems=problems)
    sats = read_satellite_grid(sat, blocks, problems=problems)
    return build_table(grid, blocks, satellites=sats, check=not collect)


def _floor(grid: Grid) -> np.ndarray:
    """The cheapest conversion of the same numbers: one numpy call, no checks."""
    return np.array([r[2:] for r in grid.values[2:-1]], dtype=float)


def _best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a 10 x 35 grid, 2 repeats")
    args = ap.parse_args(argv)
    m, n, repeat = (10, 35, 2) if args.quick else (41, 35, 3)
    grid, sat = synthetic_grid(m, n)
    t = _read(grid, sat, False)
    assert t.N == m * n and "CO2" in t.satellites
    floor = _best(lambda: _floor(grid), repeat)
    strict = _best(lambda: _read(grid, sat, False), repeat)
    collect = _best(lambda: _read(grid, sat, True), repeat)
    N = m * n
    cells = len(grid.values) * len(grid.values[0]) / 1e6
    print(f"bench_reader: {N} x {N} grid ({cells:.1f} M cells), best of {repeat}")
    print(f"  floor np.array(rows, dtype=float)   {floor:7.3f} s")
    print(f"  read (every command)                {strict:7.3f} s   {strict / floor:5.1f}x floor")
    print(f"  read, collect mode (Validate)       {collect:7.3f} s   {collect / floor:5.1f}x floor")


if __name__ == "__main__":
    main(sys.argv[1:])
