"""The distribution works as the docs tell an analyst to use it: the wheel (built by `.ci/run` with
``python -m build``, or here with ``pip wheel``) installed non-editable into a fresh virtual environment
(no system site-packages), then, from an empty folder: ``python -m xlmrio --help``, ``xlmrio demo``,
``xlmrio addin build`` and ``xlmrio lite``. Catches package data or subpackages missing from the wheel.

Dependencies come from a wheelhouse (``$XLMRIO_WHEELHOUSE`` or ``~/.cache/xlmrio-wheelhouse``) filled
once with ``pip download`` from the package index, so later runs install offline.
"""
from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import xlmrio

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def _clean_env() -> dict:
    """The caller's environment without what would put a source tree on the path."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env["PYTHONDONTWRITEBYTECODE"] = ""
    return env


def _run(cmd, cwd=None, env=None, timeout=600) -> subprocess.CompletedProcess:
    env = _clean_env() if env is None else env
    res = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert res.returncode == 0, f"{' '.join(map(str, cmd))} exited {res.returncode}:\n{res.stdout[-2000:]}\n{res.stderr[-3000:]}"
    return res


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    dist = os.environ.get("XLMRIO_DIST")
    if dist:                         # .ci/run built wheel + sdist with `python -m build`
        wheels = sorted(Path(dist).glob(f"xlmrio-{xlmrio.__version__}-*.whl"))
        assert wheels, f"XLMRIO_DIST={dist} holds no xlmrio {xlmrio.__version__} wheel"
        assert list(Path(dist).glob(f"xlmrio-{xlmrio.__version__}.tar.gz")), "the sdist is missing"
        return wheels[-1]
    if not (ROOT / "pyproject.toml").exists():
        pytest.skip("not a source checkout: no pyproject.toml to build a wheel from")
    out = tmp_path_factory.mktemp("dist")
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", out, ROOT])
    return next(out.glob("xlmrio-*.whl"))


def test_wheel_holds_every_package_and_its_data(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    src = ROOT / "xlmrio"
    for init in src.rglob("__init__.py"):
        rel = init.relative_to(ROOT).as_posix()
        assert rel in names, f"{rel} is not in the wheel (add its package to pyproject.toml)"
    for f in (ROOT / "workbook_templates").rglob("*"):
        if f.is_file() and f.suffix in (".json", ".csv", ".xlsx", ".xml"):
            rel = "xlmrio/templates/" + f.relative_to(ROOT / "workbook_templates").as_posix()
            assert rel in names, f"{rel} is not in the wheel"
    for f in (src / "datasets" / "data").iterdir():
        assert f"xlmrio/datasets/data/{f.name}" in names
    meta = next(n for n in names if n.endswith(".dist-info/METADATA"))
    text = zipfile.ZipFile(wheel).read(meta).decode()
    assert "Requires-Dist: xlwings==0.37.8; sys_platform != \"emscripten\"" in text


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory) -> Path:
    """A fresh venv (no system site-packages, no pip of its own) with the wheel installed by the
    outer pip (``pip --python``)."""
    root = tmp_path_factory.mktemp("venv")
    _run([sys.executable, "-m", "venv", "--without-pip", root], cwd=root)
    py = root / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    house = Path(os.environ.get("XLMRIO_WHEELHOUSE") or Path.home() / ".cache" / "xlmrio-wheelhouse")
    house.mkdir(parents=True, exist_ok=True)
    install = [sys.executable, "-m", "pip", "--python", py, "install", "-q", "--no-index", "--find-links", house, wheel]
    # cwd: the wheelhouse, so no source tree (and no *.egg-info in it) is on pip's path
    if subprocess.run([str(c) for c in install], capture_output=True, env=_clean_env(), cwd=house).returncode:
        _run([sys.executable, "-m", "pip", "--python", py, "download", "-q", "-d", house, wheel], cwd=house,
             timeout=900)
        _run(install, cwd=house, timeout=900)
    return py


def test_installed_wheel_runs_from_an_empty_folder(venv, tmp_path):
    work = tmp_path / "empty"
    work.mkdir()
    env = _clean_env()
    scripts = venv.parent
    cli = scripts / ("xlmrio.exe" if os.name == "nt" else "xlmrio")
    where = _run([venv, "-c", "import xlmrio; print(xlmrio.__file__)"], cwd=work, env=env).stdout.strip()
    assert Path(where).resolve().is_relative_to(venv.parent.parent.resolve()), f"imported {where}, not the venv's"

    out = _run([venv, "-m", "xlmrio", "--help"], cwd=work, env=env).stdout
    assert "usage: xlmrio" in out and "addin" in out and "lite" in out
    _run([cli, "demo", "--out", "demo.xlsx"], cwd=work, env=env)
    with zipfile.ZipFile(work / "demo.xlsx") as z:
        book = z.read("xl/workbook.xml").decode()
    for sheet in ("MRIO 2007", "Accounts", "Update", "Transfer &amp; leakage"):
        assert f'name="{sheet}"' in book, sheet
    out = _run([cli, "addin", "build"], cwd=work, env=env).stdout
    assert "built the add-in" in out and zipfile.is_zipfile(work / "xlmrio.xlam")
    _run([cli, "lite", "--wheel-url", "https://example.org/xlmrio.whl"], cwd=work, env=env)
    req = (work / "xlwings-lite" / "requirements.txt").read_text()
    assert "https://example.org/xlmrio.whl" in req and "highspy" not in req
    compile((work / "xlwings-lite" / "main.py").read_text(), "main.py", "exec")
    assert sorted(p.name for p in work.iterdir()) == ["demo.xlsx", "xlmrio.xlam", "xlwings-lite"]
