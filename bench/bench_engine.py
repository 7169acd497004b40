"""Time the openpyxl engine on a 1500 x 1500 numeric block: write, read, save, open, read again.

Run: ``python bench/bench_engine.py [n]`` (default n = 1500). Prints seconds per step.
"""
from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import xlwings as xw

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from xlmrio.excel import engine  # noqa: E402


def main(n: int = 1500) -> None:
    engine.use()
    data = np.random.default_rng(0).random((n, n))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.xlsx"
        book = xw.Book()
        sheet = book.sheets[0]
        t = time.perf_counter()
        sheet["A1"].value = data
        print(f"write {n}x{n} via .value:          {time.perf_counter() - t:6.2f} s")
        t = time.perf_counter()
        back = sheet["A1"].resize(n, n).options(np.array, ndim=2).value
        print(f"read  {n}x{n} via .options(np.array): {time.perf_counter() - t:6.2f} s")
        assert np.array_equal(back, data)
        t = time.perf_counter()
        book.save(path)
        print(f"save (openpyxl):                   {time.perf_counter() - t:6.2f} s")
        book.close()
        t = time.perf_counter()
        book = xw.Book(path)
        print(f"open (openpyxl):                   {time.perf_counter() - t:6.2f} s")
        t = time.perf_counter()
        back = book.sheets[0].used_range.options(np.array, ndim=2).value
        print(f"read used_range after open:        {time.perf_counter() - t:6.2f} s")
        assert np.array_equal(back, data)  # exact: the engine saves floats with repr()
        book.close()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1500)
