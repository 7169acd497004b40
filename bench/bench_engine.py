"""The openpyxl engine on large workbooks, as ratios against the file format's floor (issue #12).

Run: ``python bench/bench_engine.py`` (about 10-20 minutes on a 2-core machine; ``--quick`` runs only the
start-up timings and the 1500 x 1500 block micro-benchmark, ``--commands accounts,flows`` a subset).

What it measures, every figure in the same run:

* start-up: ``import numpy, pandas``, ``import xlmrio`` and ``xlmrio --help`` (fresh processes, best of 3);
* ``xlmrio run <wiod2007.xlsx> accounts|flows|efficiency --out ...`` and ``transfer``/``update`` on a
  workbook holding the WIOD 2002 and 2007 world tables (N = 1435, about 2 M cells per table sheet):
  wall time and peak RSS of the CLI process, against the **floor**: a process that imports numpy,
  pandas and xlmrio, reads the same sheets with python-calamine (``to_python``) and runs the command's
  core computation on the tables in memory (pickled beforehand);
* the 1500 x 1500 block: write, read, save, open, read again through the engine.

The workbooks are built once from ``../shared/data`` (``xlmrio.datasets.wiod`` and
``xlmrio.excel.layout.table_grid``, written with openpyxl's write-only mode) and cached in
``$XLMRIO_BENCH_CACHE`` (default: the system's temporary folder). Without the raw data the WIOD part is
skipped with that reason.
"""
from __future__ import annotations

import argparse
import copy
import os
import pickle
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SINGLE = ("accounts", "flows", "efficiency")
DOUBLE = ("transfer", "update")

#: Core computation of each command for the floor process (tables ``t`` / ``t0``, ``t1`` in memory).
FLOOR_COMPUTE = {
    "accounts": "import xlmrio; xlmrio.accounts(t1, 'CO2')",
    "flows": ("import xlmrio; F = xlmrio.embodied_flows(t1, 'CO2'); xlmrio.aggregate_flows(F); "
              "xlmrio.top_flows(F, top_k=20)"),
    "efficiency": "import xlmrio; xlmrio.efficiency(t1, 'CO2')",
    "transfer": "import xlmrio; xlmrio.industrial_transfer(t0, t1, 'CO2')",
    "update": ("from xlmrio.excel.commands.update import biproportional; "
               "biproportional(t1, tables['target'], 'gras')"),
}


def _env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def timed(args: list[str]) -> tuple[float, float, str]:
    """Run a process; return (wall seconds, peak RSS in MB, combined output)."""
    t = time.perf_counter()
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=_env(), cwd=ROOT)
    out = p.stdout.read().decode(errors="replace")
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({p.returncode}):\n{out}")
    return wall, ru.ru_maxrss / 1024.0, out


def best_of(args: list[str], n: int = 3) -> float:
    return min(timed(args)[0] for _ in range(n))


# ----------------------------------------------------------------------------- workbooks
def _cache_dir() -> Path:
    d = Path(os.environ.get("XLMRIO_BENCH_CACHE", tempfile.gettempdir())) / "xlmrio-bench"
    d.mkdir(parents=True, exist_ok=True)
    return d


def _tables(years) -> dict:
    from xlmrio.datasets import wiod

    return {y: wiod(y, co2=True) for y in years}


def build_workbook(path: Path, tables: dict, constraints: bool) -> None:
    """Tables in xlmrio's layout (``MRIO <year>`` + ``MRIO <year> satellites``), the last year selected."""
    import openpyxl

    from xlmrio.excel.demo import demo_constraints
    from xlmrio.excel.layout import satellite_grid, table_grid

    wb = openpyxl.Workbook(write_only=True)
    for year, t in tables.items():
        ws = wb.create_sheet(f"MRIO {year}")
        ws.append(["Monetary unit", t.monetary_unit])
        ws.append([])
        for row in table_grid(t):
            ws.append(row)
        if t.satellites:
            sat = wb.create_sheet(f"MRIO {year} satellites")
            for row in satellite_grid(t):
                sat.append(row)
    if constraints:
        c = wb.create_sheet("Constraints")
        years = list(tables)  # the last table is the target of 'Update table' 
        for row in demo_constraints():
            if row[0] == "method":
                row = ["method", "gras", *row[2:]]
            elif row[0] in ("targets_from", "compare_with"):
                row = [row[0], f"MRIO {years[-1]}", *row[2:]]
            c.append(row)
    tmp = path.with_suffix(".tmp.xlsx")
    wb.save(tmp)
    os.replace(tmp, path)


def grown(t):
    """Update targets for the 2007 table: intermediate use +3 %, final demand +5 % (x and V follow; rows
    without intermediate use get no final demand either).

    WIOD 2002 -> 2007 cannot be a GRAS benchmark: some rows are zero in one year and not in the other.
    """
    from xlmrio.core.table import MRIOTable

    Z, Y = t.Z * 1.03, t.Y * 1.05
    Y[Z.sum(axis=1) == 0] = 0.0  # rows without intermediate use get exactly zero targets (GRAS needs it)
    x = Z.sum(axis=1) + Y.sum(axis=1)
    return MRIOTable.from_arrays(Z, Y, regions=t.regions, sectors=t.sectors, fd_categories=t.fd_categories,
                                 x=x, monetary_unit=t.monetary_unit, name=f"{t.name}, grown")


def workbooks() -> tuple[Path, Path, Path, Path]:
    """(one-table workbook, two-table workbook, update workbook, pickled tables), built once."""
    d = _cache_dir()
    one, two, upd = d / "wiod2007.xlsx", d / "wiod2002_2007.xlsx", d / "wiod2007_update.xlsx"
    pkl = d / "wiod_tables_v2.pkl"
    if not (one.exists() and two.exists() and upd.exists() and pkl.exists()):
        print("building the WIOD workbooks (once; cached in", d, ")", flush=True)
        tables = _tables((2002, 2007))
        tables["target"] = grown(tables[2007])
        if not one.exists():
            build_workbook(one, {2007: tables[2007]}, constraints=False)
        if not two.exists():
            build_workbook(two, {2002: tables[2002], 2007: tables[2007]}, constraints=True)
        if not upd.exists():
            build_workbook(upd, {2007: tables[2007], "2007 target": tables["target"]}, constraints=True)
        plain = {}
        for year, t in tables.items():  # a mappingproxy does not pickle: the floor gets a dict
            plain[year] = copy.copy(t)
            object.__setattr__(plain[year], "satellites", dict(t.satellites))
        with open(pkl.with_suffix(".tmp"), "wb") as fh:
            pickle.dump(plain, fh)
        os.replace(pkl.with_suffix(".tmp"), pkl)
    return one, two, upd, pkl


FLOOR = """
import pickle, sys, time
import numpy, pandas, xlmrio
from python_calamine import CalamineWorkbook
path, pkl, command = sys.argv[1], sys.argv[2], sys.argv[3]
sheets = sys.argv[4:]
book = CalamineWorkbook.from_path(path)
rows = [book.get_sheet_by_name(s).to_python() for s in sheets]
with open(pkl, "rb") as fh:
    tables = pickle.load(fh)
t0, t1 = tables[2002], tables[2007]
exec(COMPUTE[command])
"""


def floor(path: Path, pkl: Path, command: str, sheets: list[str]) -> tuple[float, float]:
    code = f"COMPUTE = {FLOOR_COMPUTE!r}\n" + FLOOR
    wall, rss, _ = timed([sys.executable, "-c", code, str(path), str(pkl), command, *sheets])
    return wall, rss


def run_command(path: Path, command: str, out: Path, extra: list[str]) -> tuple[float, float]:
    wall, rss, _ = timed([sys.executable, "-m", "xlmrio.cli", "run", str(path), command, "--out", str(out),
                          "--satellite", "CO2", *extra])
    return wall, rss


# ----------------------------------------------------------------------------- parts
def startup() -> None:
    py = sys.executable
    base = best_of([py, "-c", "import numpy, pandas"])
    imp = best_of([py, "-c", "import xlmrio"])
    imp_np = best_of([py, "-c", "import numpy, pandas, xlmrio"])
    helpt = best_of([py, "-m", "xlmrio.cli", "--help"])
    print("start-up (fresh processes, best of 3)")
    print(f"  import numpy, pandas          {base:6.2f} s")
    print(f"  import xlmrio                 {imp:6.2f} s")
    print(f"  import numpy, pandas, xlmrio  {imp_np:6.2f} s   (+{imp_np - base:.2f} s over numpy, pandas; "
          "target <= +0.5 s)")
    print(f"  xlmrio --help                 {helpt:6.2f} s   (target <= 1 s)")


def large(commands: list[str]) -> None:
    from xlmrio.datasets import shared_data_dir

    try:
        shared_data_dir()
    except Exception as exc:  # noqa: BLE001 - DataNotFoundError: say why and go on
        print(f"WIOD benchmark skipped: {exc}")
        return
    one, two, upd, pkl = workbooks()
    print(f"\nWIOD-size workbooks: {one.name} {one.stat().st_size / 1e6:.1f} MB, "
          f"{two.name} {two.stat().st_size / 1e6:.1f} MB, {upd.name} {upd.stat().st_size / 1e6:.1f} MB")
    print(f"{'command':<11}{'wall s':>8}{'floor s':>9}{'ratio':>7}{'peak MB':>9}{'floor MB':>9}   target: ratio <= 3, "
          "peak <= 700 MB")
    with tempfile.TemporaryDirectory() as tmp:
        for command in commands:
            if command in SINGLE:
                path, sheets, extra = one, ["MRIO 2007", "MRIO 2007 satellites"], []
            elif command == "transfer":
                path = two
                sheets = ["MRIO 2002", "MRIO 2002 satellites", "MRIO 2007", "MRIO 2007 satellites"]
                extra = ["--table", "MRIO 2007", "--table-t0", "MRIO 2002"]
            else:
                path = upd
                sheets = ["MRIO 2007", "MRIO 2007 target", "Constraints"]
                extra = ["--table", "MRIO 2007"]
            fw, frss = floor(path, pkl, command, sheets)
            w, rss = run_command(path, command, Path(tmp) / f"{command}.xlsx", extra)
            print(f"{command:<11}{w:8.1f}{fw:9.1f}{w / fw:7.2f}{rss:9.0f}{frss:9.0f}", flush=True)


def block(n: int = 1500) -> None:
    """The engine's bulk paths on an n x n random block (seconds per step)."""
    import numpy as np
    import xlwings as xw

    from xlmrio.excel import engine

    engine.use()
    data = np.random.default_rng(0).random((n, n))
    print(f"\n{n} x {n} block through the engine")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.xlsx"
        book = xw.Book()
        sheet = book.sheets[0]
        t = time.perf_counter()
        sheet["A1"].value = data
        print(f"  write via .value                 {time.perf_counter() - t:6.2f} s")
        t = time.perf_counter()
        back = sheet["A1"].resize(n, n).options(np.array, ndim=2).value
        print(f"  read via .options(np.array)      {time.perf_counter() - t:6.2f} s")
        assert np.array_equal(back, data)
        t = time.perf_counter()
        book.save(path)
        print(f"  save                             {time.perf_counter() - t:6.2f} s")
        book.close()
        t = time.perf_counter()
        book = xw.Book(path)
        print(f"  open (sheets left unparsed)      {time.perf_counter() - t:6.2f} s")
        t = time.perf_counter()
        back = book.sheets[0].used_range.options(np.array, ndim=2).value
        print(f"  read used_range after open       {time.perf_counter() - t:6.2f} s")
        assert np.array_equal(back, data)  # exact: the engine saves floats with repr()
        t = time.perf_counter()
        book.save(Path(tmp) / "copy.xlsx")
        print(f"  save again (sheet copied as is)  {time.perf_counter() - t:6.2f} s")
        book.close()


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="start-up and the block micro-benchmark only")
    ap.add_argument("--commands", default=",".join(SINGLE + DOUBLE),
                    help="commands to time on the WIOD workbooks (default: %(default)s)")
    ap.add_argument("-n", type=int, default=1500, help="block size of the micro-benchmark")
    args = ap.parse_args(argv)
    startup()
    if not args.quick:
        large([c for c in args.commands.split(",") if c])
    block(args.n)


if __name__ == "__main__":
    main()
