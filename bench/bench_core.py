"""Core benchmark: xlmrio accounts and embodied flows vs pymrio ``calc_all``, and the matmul rate.

Usage::

    python bench/bench_core.py              # WIOD 2013 world table 2007 (1435 x 1435) + demo table
    python bench/bench_core.py --quick      # 3 repeats, matmul at N = 1435 only, no BLAS re-run
    python bench/bench_core.py --repeats 7 --year 2007 --json out.json

In one run, on the full WIOD 2013 world table (41 regions x 35 sectors, bridged JRC CO2 satellite,
read from ``../shared/data``; skipped with a message when absent) and on the bundled demo table:

* ``xlmrio.accounts(table, "CO2")`` — A, LU factorisation of ``I - A``, solves for ``Y*`` and ``e'L``
  (the inverse is never formed);
* ``xlmrio.embodied_flows(table, "CO2")`` — forms ``L`` and ``F = ê (L - I) x̂``;
* pymrio ``calc_all()`` on the same system with the CO2 extension only (A, x, L = inv(I - A), S, M,
  D_cba/D_pba/D_imp/D_exp and their regional sums); each repeat times ``calc_all`` alone on a freshly
  built system;
* the float64 matmul rate ``N x N @ N x N`` (N = 1435 and 2000), GFLOP/s = 2 N^3 / t.

Times are the best of k repeats (``time.perf_counter``). **Flop convention**: F's effective rate is
``2 N^3 / time(embodied_flows)``, i.e. the whole computation counted as one matmul-equivalent
(an LU inverse actually costs 2/3 N^3 + 2 N^3 with ``getrs`` on the identity). Targets: pymrio
``calc_all`` / xlmrio ``accounts`` >= 3; F rate / matmul rate (same N) >= 50 %.
Peak memory is the tracemalloc peak of one untimed extra call (numpy buffers included).
Results are cross-checked (CBA and PBA vs pymrio ``D_cba_reg``/``D_pba_reg``, rtol 1e-8; F vs
``S (L - I) x`` from pymrio's L) so that the comparison is honest.

The full run then repeats the benchmark in child processes (their environment only): with
``OPENBLAS_CORETYPE`` and ``OPENBLAS_L2_SIZE`` unset when they are set (they are on some machines
here and pin an older kernel), and in addition with ``OPENBLAS_NUM_THREADS=1`` (on a 2-core machine
shared with other jobs, two BLAS threads often lose to one). ``--no-blas-compare`` turns that off.
"""
from __future__ import annotations

import argparse
import ctypes
import gc
import json
import os
import platform
import subprocess
import sys
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import xlmrio  # noqa: E402
from xlmrio.core.leontief import LeontiefSolver, coefficients, intensities  # noqa: E402
from xlmrio.core.flows import flow_matrix  # noqa: E402

TARGET_SPEEDUP = 3.0
TARGET_F_SHARE = 0.50
RTOL = 1e-8
BLAS_ENV = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


# --------------------------------------------------------------------------------------------
# machine facts
# --------------------------------------------------------------------------------------------
def blas_info() -> list[dict]:
    """The loaded BLAS libraries: threadpoolctl when installed, else OpenBLAS's own C API."""
    import scipy.linalg  # noqa: F401  (load scipy's BLAS too)

    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        threadpool_info = None
    if threadpool_info is not None:
        return [{"library": Path(d.get("filepath", "")).name, "api": d.get("internal_api"),
                 "kernel": d.get("architecture"), "threads": d.get("num_threads"),
                 "version": d.get("version"), "source": "threadpoolctl"} for d in threadpool_info()]
    out = []
    libs = set()
    try:
        with open("/proc/self/maps") as fh:
            for line in fh:
                p = line.split()[-1]
                if "openblas" in Path(p).name.lower() and ".so" in p:
                    libs.add(p)
    except OSError:
        return out
    for p in sorted(libs):
        try:
            lib = ctypes.CDLL(p)
        except OSError:
            continue
        for pre in ("scipy_", ""):
            for suf in ("64_", ""):
                f = getattr(lib, f"{pre}openblas_get_corename{suf}", None)
                if f is None:
                    continue
                f.restype = ctypes.c_char_p
                cfg = getattr(lib, f"{pre}openblas_get_config{suf}")
                cfg.restype = ctypes.c_char_p
                nthr = getattr(lib, f"{pre}openblas_get_num_threads{suf}")
                out.append({"library": Path(p).name, "api": "openblas", "kernel": f().decode(),
                            "threads": int(nthr()), "version": cfg().decode().split(" DYNAMIC")[0],
                            "source": "openblas_get_corename (threadpoolctl not installed)"})
                break
            else:
                continue
            break
    return out


def machine_facts() -> dict:
    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    import pandas as pd
    import scipy

    try:
        import pymrio
        pv = pymrio.__version__
    except ImportError:
        pv = None
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "loadavg": os.getloadavg() if hasattr(os, "getloadavg") else None,
        "python": platform.python_version(),
        "numpy": np.__version__, "scipy": scipy.__version__, "pandas": pd.__version__, "pymrio": pv,
        "env": {k: os.environ.get(k) for k in BLAS_ENV + ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")},
        "blas": blas_info(),
    }


# --------------------------------------------------------------------------------------------
# timing helpers
# --------------------------------------------------------------------------------------------
def best_of(fn, k: int, setup=None) -> tuple[float, list[float]]:
    """Best and all wall times of ``fn(setup())`` over ``k`` repeats (setup is not timed)."""
    times = []
    for _ in range(k):
        arg = setup() if setup is not None else None
        gc.collect()
        t = time.perf_counter()
        fn(arg) if setup is not None else fn()
        times.append(time.perf_counter() - t)
        del arg
    return min(times), times


def peak_mb(fn, setup=None) -> float:
    """tracemalloc peak (MB) of one call, above the memory held before the call."""
    arg = setup() if setup is not None else None
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    res = fn(arg) if setup is not None else fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    del res, arg
    return (peak - base) / 2**20


def matmul_rate(N: int, k: int) -> dict:
    rng = np.random.default_rng(0)
    B = rng.random((N, N))
    C = rng.random((N, N))
    B @ C  # warm the threads
    t, ts = best_of(lambda: B @ C, k)
    return {"N": N, "seconds": t, "all": ts, "gflops": 2 * N**3 / t / 1e9}


# --------------------------------------------------------------------------------------------
# one table
# --------------------------------------------------------------------------------------------
def pymrio_system(table, sat: str = "CO2"):
    """A fresh pymrio system of *table* (Z, Y, x and the satellite extension; no factor_inputs)."""
    io = table.to_pymrio()
    if hasattr(io, "factor_inputs"):
        del io.factor_inputs  # pymrio would otherwise also compute accounts for the VA rows
    return io


def check_agreement(table, acc, F, io, sat: str = "CO2") -> dict:
    """Compare xlmrio with pymrio (after calc_all): CBA, PBA, mu vs M, F vs S (L - I) x."""
    ext = io.satellites
    regions = list(table.regions)
    p_cba = ext.D_cba_reg.loc[sat].reindex(regions).to_numpy(float)
    p_pba = ext.D_pba_reg.loc[sat].reindex(regions).to_numpy(float)
    x_cba = acc.cba.reindex(regions).to_numpy(float)
    x_pba = acc.pba.reindex(regions).to_numpy(float)
    p_mu = ext.M.loc[sat].reindex(table.index).to_numpy(float)
    Lp = io.L.reindex(index=table.index, columns=table.index).to_numpy(float)
    Sp = ext.S.loc[sat].reindex(table.index).to_numpy(float)
    xp = io.x.reindex(table.index).to_numpy(float).ravel()
    Fp = flow_matrix(Sp, Lp, xp)
    Fx = F.to_numpy(float)

    def rel(a, b):
        return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300)))

    out = {
        "cba_max_rel": rel(x_cba, p_cba),
        "pba_max_rel": rel(x_pba, p_pba),
        "mu_max_rel_scaled": float(np.abs(acc.mu.to_numpy() - p_mu).max() / np.abs(p_mu).max()),
        "F_max_abs_over_max": float(np.abs(Fx - Fp).max() / np.abs(Fp).max()),
        "closure_rel": abs(acc.closure["difference"]) / abs(acc.closure["sum_pba"]),
    }
    out["ok"] = bool(np.allclose(x_cba, p_cba, rtol=RTOL, atol=0) and np.allclose(x_pba, p_pba, rtol=RTOL, atol=0)
                     and out["mu_max_rel_scaled"] < RTOL and out["F_max_abs_over_max"] < RTOL)
    return out


def breakdown(table, k: int, sat: str = "CO2") -> dict:
    """Where the time of accounts / embodied_flows goes: the same steps as the core, timed one by one."""
    import pandas as pd
    import scipy.linalg as sla

    N = table.N
    s = table.satellites[sat]
    res = {}
    res["coefficients A (safe_divide)"], _ = best_of(lambda: coefficients(table.Z, table.x), k)
    A = coefficients(table.Z, table.x)
    res["I - A"], _ = best_of(lambda: np.eye(N) - A, k)
    IA = np.eye(N) - A
    res["lu_factor (getrf)"], _ = best_of(lambda: sla.lu_factor(IA, check_finite=False), k)
    res["LeontiefSolver.for_table (all of the above + check)"], _ = best_of(lambda: LeontiefSolver.for_table(table), k)
    solver = LeontiefSolver.for_table(table)
    Ys = table.Y_star
    e = intensities(s.values, table.x)
    res["solve L Y* (getrs, m+2 rhs)"], _ = best_of(lambda: solver.solve(Ys), k)
    res["solve_left e (getrs trans)"], _ = best_of(lambda: solver.solve_left(e), k)
    res["accounts given solver (solves + pandas)"], _ = best_of(lambda: xlmrio.accounts(table, sat, solver=solver), k)
    res["L = lu_solve(eye) (getrs, N rhs)"], _ = best_of(lambda: solver.solve(np.eye(N)), k)
    L = solver.solve(np.eye(N))

    def thr():
        L2 = L.copy()
        L2[np.abs(L2) < 1e-15 * max(1.0, float(np.abs(L2).max(initial=0.0)))] = 0.0

    res["L zero-threshold pass (incl. one copy)"], _ = best_of(thr, k)
    res["flow_matrix scaling ê(L-I)x̂"], _ = best_of(lambda: flow_matrix(e, L, table.x), k)
    F = flow_matrix(e, L, table.x)
    res["DataFrame(F) (pandas copy)"], _ = best_of(lambda: pd.DataFrame(F, index=table.index, columns=table.index), k)
    # alternatives for L that only bench files try (reported as suggestions for core)
    res["alt: np.linalg.inv(I - A) (gesv, numpy BLAS)"], _ = best_of(lambda: np.linalg.inv(IA), k)

    from scipy.linalg import lapack

    lu, piv = solver._lu
    lw = int(lapack.dgetri_lwork(N)[0])

    def getri():  # L from the existing factorisation: 4/3 N^3 flops instead of 2 N^3 for getrs(I)
        return lapack.dgetri(lu, piv, lwork=lw, overwrite_lu=False)[0]

    Lg = getri()
    assert np.allclose(Lg, L, rtol=1e-10, atol=1e-13), "getri inverse differs from lu_solve(I)"
    res["alt: L = getri on the same factorisation"], _ = best_of(getri, k)
    return res


def bench_table(table, label: str, k: int, sat: str = "CO2", do_breakdown: bool = False,
                matmul: bool = True) -> dict:
    """Time accounts, embodied_flows, pymrio calc_all (and an N x N matmul) in interleaved rounds.

    Each of the k rounds runs every step once, so a burst of load from other processes hits all of
    them alike; the best time of each step over the rounds is kept.
    """
    out = {"label": label, "N": table.N, "m": table.m, "n": table.n}
    rng = np.random.default_rng(0)
    B = rng.random((table.N, table.N)) if matmul else None
    C = rng.random((table.N, table.N)) if matmul else None
    steps = {
        "accounts": (lambda _: xlmrio.accounts(table, sat), None),
        "flows": (lambda _: xlmrio.embodied_flows(table, sat), None),
        "pymrio": (lambda io: io.calc_all(), lambda: pymrio_system(table, sat)),
    }
    if matmul:
        steps["matmul"] = (lambda _: B @ C, None)
    times: dict[str, list[float]] = {key: [] for key in steps}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for fn, setup in steps.values():  # warm-up (imports, caches, BLAS threads)
            fn(setup() if setup else None)
        for _ in range(k):
            for key, (fn, setup) in steps.items():
                arg = setup() if setup else None
                gc.collect()
                t = time.perf_counter()
                fn(arg)
                times[key].append(time.perf_counter() - t)
                del arg
        out["mem_accounts_mb"] = peak_mb(lambda: xlmrio.accounts(table, sat))
        out["mem_flows_mb"] = peak_mb(lambda: xlmrio.embodied_flows(table, sat))
        out["mem_pymrio_mb"] = peak_mb(lambda io: io.calc_all(), setup=lambda: pymrio_system(table, sat))
        io = pymrio_system(table, sat).calc_all()
    for key, ts in times.items():
        out[key], out[f"{key}_all"] = min(ts), ts
    acc = xlmrio.accounts(table, sat)
    F = xlmrio.embodied_flows(table, sat)
    out["check"] = check_agreement(table, acc, F, io, sat)
    out["speedup"] = out["pymrio"] / out["accounts"]
    out["flows_gflops"] = 2 * table.N**3 / out["flows"] / 1e9
    if matmul:
        out["matmul_gflops"] = 2 * table.N**3 / out["matmul"] / 1e9
        out["f_share"] = out["flows_gflops"] / out["matmul_gflops"]
    if do_breakdown:
        out["breakdown"] = breakdown(table, k, sat)
    return out


# --------------------------------------------------------------------------------------------
# reporting
# --------------------------------------------------------------------------------------------
def _fmt_t(t: float) -> str:
    return f"{t * 1e3:9.1f} ms"


def report(res: dict) -> str:
    lines = []
    f = res["facts"]
    lines.append(f"machine: {f['cpu']}, {f['usable_cores']} usable cores, load average at start "
                 f"{', '.join(f'{v:.2f}' for v in f['loadavg'] or ())}")
    lines.append(f"python {f['python']}, numpy {f['numpy']}, scipy {f['scipy']}, pandas {f['pandas']}, "
                 f"pymrio {f['pymrio']}")
    env = ", ".join(f"{k}={v}" for k, v in f["env"].items() if v is not None) or "(none set)"
    lines.append(f"BLAS environment: {env}")
    for b in f["blas"]:
        lines.append(f"  BLAS {b['library']}: kernel {b['kernel']}, {b['threads']} threads, {b['version']} "
                     f"[{b['source']}]")
    lines.append(f"timing: best of {res['repeats']} repeats (time.perf_counter); flop convention: "
                 "F rate = 2 N^3 / time(embodied_flows) (inverse counted as one matmul-equivalent)")
    lines.append("")
    for mm in res["matmul"]:
        lines.append(f"matmul float64 {mm['N']}x{mm['N']} @ {mm['N']}x{mm['N']}: {_fmt_t(mm['seconds'])}  "
                     f"-> {mm['gflops']:6.1f} GFLOP/s (2 N^3 / t)")
    lines.append("")
    for t in res["tables"]:
        lines.append(f"== {t['label']}: N = {t['N']} ({t['m']} regions x {t['n']} sectors) ==")
        lines.append(f"{'step':42s} {'best':>12s} {'spread (max/min)':>17s} {'peak mem':>10s}")
        for key, name, mem in (("accounts", "xlmrio accounts (LU + solves)", "mem_accounts_mb"),
                               ("flows", "xlmrio embodied_flows (L and F)", "mem_flows_mb"),
                               ("pymrio", "pymrio calc_all (CO2 extension only)", "mem_pymrio_mb"),
                               ("matmul", "matmul N x N @ N x N (same rounds)", None)):
            if key not in t:
                continue
            ts = t[f"{key}_all"]
            memtxt = f"{t[mem]:8.1f} MB" if mem else f"{'':>11s}"
            lines.append(f"{name:42s} {_fmt_t(t[key]):>12s} {max(ts) / min(ts):16.2f}x {memtxt}")
        ok = "MET" if t["speedup"] >= TARGET_SPEEDUP else "MISSED"
        lines.append(f"ratio pymrio calc_all / xlmrio accounts: {t['speedup']:6.2f}x  "
                     f"(target >= {TARGET_SPEEDUP:.0f}x: {ok})")
        if "f_share" in t:
            share = t["f_share"]
            ok = "MET" if share >= TARGET_F_SHARE else "MISSED"
            lines.append(f"F rate: {t['flows_gflops']:6.1f} GFLOP/s = {share * 100:5.1f} % of the matmul rate "
                         f"{t['matmul_gflops']:.1f} GFLOP/s at N = {t['N']} in the same rounds (target >= {TARGET_F_SHARE * 100:.0f} %: {ok})")
        else:
            lines.append(f"F rate: {t['flows_gflops']:6.2f} GFLOP/s (too small for a matmul comparison)")
        c = t["check"]
        lines.append(f"agreement with pymrio: CBA max rel {c['cba_max_rel']:.1e}, PBA max rel {c['pba_max_rel']:.1e}, "
                     f"mu {c['mu_max_rel_scaled']:.1e}, F {c['F_max_abs_over_max']:.1e} (rtol {RTOL:g}): "
                     f"{'OK' if c['ok'] else 'DISAGREE'}; closure {c['closure_rel']:.1e}")
        if "breakdown" in t:
            lines.append("  where the time goes (each step timed alone, best of k):")
            for name, sec in t["breakdown"].items():
                lines.append(f"    {name:52s} {_fmt_t(sec)}")
        lines.append("")
    return "\n".join(lines)


def run(args) -> dict:
    k = args.repeats or (3 if args.quick else 5)
    res = {"facts": machine_facts(), "repeats": k, "tables": [], "matmul": []}
    sizes = [1435] if args.quick else [1435, 2000]
    res["matmul"] = [matmul_rate(N, k) for N in sizes]
    try:
        from xlmrio.datasets import wiod

        big = wiod(args.year, co2=True)
    except xlmrio.XlmrioError as exc:
        print(f"WIOD {args.year} not available ({exc}); benchmarking the demo table only", flush=True)
        big = None
    if big is not None:
        res["tables"].append(bench_table(big, f"WIOD 2013 world table {args.year}", k,
                                         do_breakdown=not args.quick))
    from xlmrio.datasets import demo

    res["tables"].append(bench_table(demo(2007), "demo table 2007", k, matmul=False))
    res["facts"]["loadavg_end"] = os.getloadavg() if hasattr(os, "getloadavg") else None
    return res


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="3 repeats, matmul at N = 1435 only, no breakdown")
    ap.add_argument("--repeats", type=int, default=None, help="repeats per timing (default 5, quick 3; >= 3)")
    ap.add_argument("--year", type=int, default=2007, help="WIOD year (2000-2011, default 2007)")
    ap.add_argument("--json", type=Path, help="also write the raw results to this JSON file")
    ap.add_argument("--no-blas-compare", action="store_true",
                    help="do not re-run with OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE unset")
    args = ap.parse_args(argv)
    if args.repeats is not None and args.repeats < 3:
        ap.error("--repeats must be >= 3")
    t0 = time.perf_counter()
    res = run(args)
    print(report(res), flush=True)
    print(f"(bench_core: {time.perf_counter() - t0:.1f} s; load average at end "
          f"{', '.join(f'{v:.2f}' for v in res['facts']['loadavg_end'] or ())})", flush=True)
    if args.json:
        args.json.write_text(json.dumps(res, indent=1, default=str), encoding="utf-8")
    if not args.quick and not args.no_blas_compare:
        base = {k: v for k, v in os.environ.items() if k not in BLAS_ENV}
        variants = []
        if any(os.environ.get(v) for v in BLAS_ENV):
            variants.append((f"{' and '.join(BLAS_ENV)} unset", "nocoretype", base))
        variants.append((f"{' and '.join(BLAS_ENV)} unset and OPENBLAS_NUM_THREADS=1", "1thread",
                         {**base, "OPENBLAS_NUM_THREADS": "1"}))
        for title, tag, env in variants:
            print(f"\n##### same benchmark with {title} (child process only) #####", flush=True)
            cmd = [sys.executable, str(Path(__file__).resolve()), "--no-blas-compare", "--repeats",
                   str(res["repeats"]), "--year", str(args.year)]
            if args.json:
                cmd += ["--json", str(args.json.with_name(f"{args.json.stem}_{tag}{args.json.suffix}"))]
            subprocess.run(cmd, env=env, check=False)
    failed = [t["label"] for t in res["tables"] if not t["check"]["ok"]]
    if failed:
        raise RuntimeError(f"xlmrio and pymrio disagree on: {', '.join(failed)}")
    return res


if __name__ == "__main__":
    main()
