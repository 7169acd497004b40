"""Start-up of the ``xlmrio`` command, against ``import numpy, pandas`` in the same run (issue #12 item 3).

Run: ``python bench/bench_startup.py`` (about 30 s; ``--repeat N`` fresh processes per line, best taken).

Every line is a fresh process (this tree first on ``PYTHONPATH``), timed wall-clock, best of N:

* ``python -c "import numpy, pandas"``: the peer every other line is divided by;
* ``python -c "import xlmrio"``;
* ``python -m xlmrio --help`` and ``xlmrio --help`` (the console script found on ``PATH``; a pyenv shim
  adds its own start-up, which is what the user waits for too). Target: at most 1 s each;
* ``xlmrio run xlmrio_input_example.xlsx validate --out ...``: a command on the 2 x 2 example workbook.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "workbook_templates" / "xlmrio_input_example.xlsx"


def _env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def best_of(args: list[str], n: int) -> float:
    """Best wall time in seconds of *n* fresh runs of *args* (each must exit 0)."""
    times = []
    for _ in range(n):
        t = time.perf_counter()
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=_env(), cwd=ROOT)
        times.append(time.perf_counter() - t)
    return min(times)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5, help="fresh processes per line (default: %(default)s)")
    args = ap.parse_args(argv)
    n, py = args.repeat, sys.executable
    base = best_of([py, "-c", "import numpy, pandas"], n)
    rows = [("import xlmrio", best_of([py, "-c", "import xlmrio"], n), None),
            ("python -m xlmrio --help", best_of([py, "-m", "xlmrio", "--help"], n), 1.0)]
    script = shutil.which("xlmrio")
    if script:
        rows.append((f"xlmrio --help ({script})", best_of([script, "--help"], n), 1.0))
    else:
        print("xlmrio --help skipped: no xlmrio script on PATH")
    with tempfile.TemporaryDirectory() as tmp:
        out = str(Path(tmp) / "out.xlsx")
        rows.append(("xlmrio run <2x2 example> validate",
                     best_of([py, "-m", "xlmrio", "run", str(EXAMPLE), "validate", "--out", out], n), None))
    print(f"start-up, fresh processes, best of {n}")
    print(f"  {'import numpy, pandas':<58}{base:6.2f} s   (peer, 1.00)")
    for label, secs, target in rows:
        goal = f"; target <= {target:.0f} s: {'met' if secs <= target else 'MISSED'}" if target else ""
        print(f"  {label:<58}{secs:6.2f} s   ({secs / base:.2f} x peer{goal})")


if __name__ == "__main__":
    main()
