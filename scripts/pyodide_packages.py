"""Write ``tests/data/pyodide-<version>-packages.txt``: the package names and versions of one Pyodide
release, trimmed from the ``pyodide-lock.json`` that the npm package ``pyodide@<version>`` ships.

    npm pack pyodide@0.27.5 && tar xzf pyodide-0.27.5.tgz
    python scripts/pyodide_packages.py package/pyodide-lock.json

xlwings Lite runs Pyodide 0.27.5 since its release 1.0.0.0-12 (April 2025); tests/test_lite_deps.py
checks xlmrio's dependencies against this list.
"""
from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path


def main(lock_path: str) -> Path:
    raw = Path(lock_path).read_bytes()
    lock = json.loads(raw)
    info = lock["info"]
    version = info["version"]
    out = Path(__file__).resolve().parents[1] / "tests" / "data" / f"pyodide-{version}-packages.txt"
    out.parent.mkdir(parents=True, exist_ok=True)
    lines = [
        f"# Packages built for Pyodide {version} (Python {info['python']}, {info['platform']}): name version.",
        f"# Source: pyodide-lock.json of the npm package pyodide@{version} "
        f"(sha256 {hashlib.sha256(raw).hexdigest()}).",
        "# Regenerate: scripts/pyodide_packages.py (see its docstring).",
    ]
    lines += [f"{name} {pkg['version']}" for name, pkg in sorted(lock["packages"].items())]
    out.write_text("\n".join(lines) + "\n", encoding="utf-8", newline="\n")
    return out


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python scripts/pyodide_packages.py PATH/TO/pyodide-lock.json")
    print(main(sys.argv[1]))
