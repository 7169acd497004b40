"""Start-up (issue #12 item 3): ``xlmrio --help`` and a small command load only what they use.

Each check runs a fresh interpreter (this tree first on ``PYTHONPATH``) and asserts on ``sys.modules``
afterwards, not on time; the timings are in ``bench/bench_startup.py``.
"""
from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from xlmrio.excel import registry

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "workbook_templates" / "xlmrio_input_example.xlsx"

#: Printed by the child: its exit code, stdout is left to the CLI, the loaded modules go to a file.
_CHILD = """
import json, sys
from xlmrio.cli import main
try:
    rc = main({argv!r})
except SystemExit as exc:
    rc = exc.code
json.dump({{"rc": rc, "modules": sorted(sys.modules)}}, open({report!r}, "w"))
"""


def _loaded(argv: list[str], tmp_path: Path) -> tuple[int, set[str], str]:
    """Run ``xlmrio.cli.main(argv)`` in a fresh process; return (exit code, loaded modules, stdout)."""
    report = tmp_path / "modules.json"
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run([sys.executable, "-c", _CHILD.format(argv=argv, report=str(report))],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300, check=False)
    assert report.exists(), proc.stderr
    data = json.loads(report.read_text())
    return data["rc"], set(data["modules"]), proc.stdout


def _present(modules: set[str], names) -> list[str]:
    return sorted(n for n in names if n in modules)


def test_help_lists_every_command_without_importing_pandas(tmp_path):
    rc, modules, out = _loaded(["--help"], tmp_path)
    assert rc == 0
    for name in registry.CATALOGUE:
        assert f"  {name} " in out
    heavy = ("numpy", "pandas", "scipy", "openpyxl", "xlwings", "python_calamine", "xlmrio.excel.commands",
             "xlmrio.excel.report", "xlmrio.excel.reader", "xlmrio.excel.layout")
    assert _present(modules, heavy) == []


def test_run_help_and_commands_list_need_no_command_module(tmp_path):
    # ``run --help`` shows the options (one help text has "10 %": argparse must not %-format it)
    rc, modules, out = _loaded(["run", "--help"], tmp_path)
    assert rc == 0 and "10 %" in out and "--satellite" in out
    assert _present(modules, ("pandas", "numpy", "xlmrio.excel.commands")) == []
    rc, modules, out = _loaded(["commands"], tmp_path)
    assert rc == 0
    assert [line.split()[0] for line in out.splitlines()] == list(registry.CATALOGUE)
    assert _present(modules, ("pandas", "numpy", "xlmrio.excel.commands")) == []


def test_validate_on_small_workbook_skips_unused_heavy_modules(tmp_path):
    out = tmp_path / "out.xlsx"
    rc, modules, stdout = _loaded(["run", str(EXAMPLE), "validate", "--out", str(out)], tmp_path)
    assert rc == 0 and out.exists(), stdout
    assert "xlmrio.excel.commands.validate" in modules  # the run really happened in this process
    unused = ("scipy.stats", "pulp", "highspy", "dask", "distributed", "matplotlib")
    assert _present(modules, unused) == []


@pytest.mark.skipif(importlib.util.find_spec("matplotlib") is None, reason="matplotlib is not installed")
def test_matplotlib_stays_importable_after_the_cli_loads_xlwings(tmp_path):
    code = ("import sys; from xlmrio.cli import _import_xlwings; xw = _import_xlwings(); "
            "assert 'matplotlib' not in sys.modules; import matplotlib.figure; print(xw.__name__)")
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "xlwings"


def test_catalogue_is_what_the_command_modules_register():
    cmds = registry.commands()  # imports every command module
    # same names in the same (ribbon) order, each registered by the module the catalogue names
    assert [c.name for c in cmds] == list(registry.CATALOGUE)
    for c in cmds:
        module, label, group, image, help_ = registry.CATALOGUE[c.name]
        assert c.func.__module__ == f"xlmrio.excel.commands.{module}"
        assert (c.label, c.group, c.image, c.help) == (label, group, image, help_)
        assert c.group in registry.GROUPS
    assert registry.listing() == [(c.name, c.help) for c in cmds]


def test_register_refuses_an_undeclared_command():
    with pytest.raises(ValueError, match="not declared"):
        registry.register("no-such-command")
