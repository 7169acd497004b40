"""Run every benchmark: ``python bench/run.py [--quick] [--only NAME ...]``.

Imports each ``bench/bench_*.py`` module in name order and calls its ``main()``: with
``argv=["--quick"]`` when ``--quick`` is given and the module's ``main`` takes ``argv`` and knows
``--quick``, with ``argv=[]`` when it takes ``argv`` (so it never parses this script's arguments),
with ``quick=True`` when it takes a ``quick`` keyword, else with no argument. A module that fails
(an exception, or ``SystemExit`` with a non-zero code) is reported and the others still run; the
exit code is 1 when any module failed.
"""
from __future__ import annotations

import argparse
import importlib.util
import inspect
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))


def _call_args(main, source: str, quick: bool) -> tuple[list, dict]:
    try:
        params = inspect.signature(main).parameters
    except (TypeError, ValueError):
        return [], {}
    if "quick" in params:
        return [], {"quick": quick}
    if "argv" in params:
        return [["--quick"] if quick and '"--quick"' in source else []], {}
    return [], {}


def run_module(path: Path, quick: bool) -> tuple[str, float, str]:
    """Import *path*, call its ``main``; returns (status, seconds, detail)."""
    t0 = time.perf_counter()
    try:
        spec = importlib.util.spec_from_file_location(path.stem, path)
        mod = importlib.util.module_from_spec(spec)
        sys.modules[path.stem] = mod
        spec.loader.exec_module(mod)
        main = getattr(mod, "main", None)
        if main is None:
            return "skipped", time.perf_counter() - t0, "no main()"
        args, kwargs = _call_args(main, path.read_text(encoding="utf-8"), quick)
        main(*args, **kwargs)
    except KeyboardInterrupt:
        raise
    except SystemExit as exc:
        if exc.code not in (None, 0):
            return "FAILED", time.perf_counter() - t0, f"SystemExit({exc.code!r})"
    except BaseException as exc:  # noqa: BLE001 - report and go on with the next module
        traceback.print_exc()
        return "FAILED", time.perf_counter() - t0, f"{type(exc).__name__}: {exc}"
    return "ok", time.perf_counter() - t0, ""


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="pass --quick to the modules that support it")
    ap.add_argument("--only", nargs="+", metavar="NAME", help="run only these modules (e.g. bench_core)")
    args = ap.parse_args(argv)
    paths = sorted(HERE.glob("bench_*.py"))
    if args.only:
        wanted = {n.removesuffix(".py") for n in args.only}
        paths = [p for p in paths if p.stem in wanted]
    results = []
    for path in paths:
        print(f"\n======== {path.stem} ========", flush=True)
        status, sec, detail = run_module(path, args.quick)
        print(f"-------- {path.stem}: {status} in {sec:.1f} s {detail}".rstrip(), flush=True)
        results.append((path.stem, status, sec, detail))
    print("\n======== summary ========")
    for name, status, sec, detail in results:
        print(f"{name:28s} {status:8s} {sec:8.1f} s  {detail}".rstrip())
    return 1 if any(r[1] == "FAILED" for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
