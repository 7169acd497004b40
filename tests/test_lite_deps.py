"""xlwings Lite can install xlmrio: highspy is optional (scipy's HiGHS answers every LP path without it),
and every unconditional dependency is in Pyodide's package list or pure Python.

The Pyodide package list is ``tests/data/pyodide-0.27.5-packages.txt`` (names and versions from
``pyodide-lock.json`` of the npm package ``pyodide@0.27.5``; see its header for provenance).
"""
from __future__ import annotations

import sys
from importlib import metadata
from pathlib import Path

import numpy as np
import pytest

from xlmrio.core.anais import build_problem
from xlmrio.core.anais_network import network_blockers, solve_network
from xlmrio.errors import InfeasibleError
from xlmrio.update import anais

from test_anais import CASES_8_5, TARGET_8_5, table_8_5
from test_anais_fast import check_solution, random_case

PYODIDE_VERSION = "0.27.5"
PACKAGE_LIST = Path(__file__).parent / "data" / f"pyodide-{PYODIDE_VERSION}-packages.txt"
#: Environment markers as micropip evaluates them inside Pyodide 0.27 (Python 3.12, emscripten).
PYODIDE_ENV = {"sys_platform": "emscripten", "platform_system": "Emscripten", "os_name": "posix",
               "platform_machine": "wasm32", "python_version": "3.12", "python_full_version": "3.12.7",
               "implementation_name": "cpython", "platform_python_implementation": "CPython", "extra": ""}
#: xlwings Lite brings its own xlwings (new workbooks default to 0.33.15 since Lite 1.0.0.0-18).
SUPPLIED_BY_LITE = {"xlwings"}


@pytest.fixture
def no_highspy(monkeypatch):
    """Make ``import highspy`` fail, as in Pyodide, and forget what the solver probes cached."""
    import xlmrio.core.anais as anais_mod

    probe = anais_mod._available
    monkeypatch.setitem(sys.modules, "highspy", None)
    probe.cache_clear()
    yield
    probe.cache_clear()


# --------------------------------------------------------------------------- highspy hidden

def test_highspy_really_hidden(no_highspy):
    with pytest.raises(ImportError):
        import highspy  # noqa: F401
    import xlmrio.core.anais as anais_mod

    assert not anais_mod._available("highspy")


@pytest.mark.parametrize("case", list(CASES_8_5))
def test_network_path_without_highspy_meets_worked_example(no_highspy, case):
    """METHODS §8.5 through the network path, every LP answered by scipy's HiGHS."""
    kwargs, rho, obj, Zs, ys, vs = CASES_8_5[case]
    res = anais(table_8_5(), totals=TARGET_8_5, solver="network", **kwargs)
    assert res.solver == "network"
    assert res.rho == pytest.approx(rho, abs=1e-6)
    assert res.objective == pytest.approx(obj, abs=1e-4)
    np.testing.assert_allclose(res.table.Z, Zs, atol=1e-4)


@pytest.mark.parametrize("seed", range(3))
def test_network_path_without_highspy_equals_lp(no_highspy, seed):
    prior, info = random_case(seed, zeros=0.3 + 0.1 * seed)
    a = anais(prior, solver="network", **info)
    b = anais(prior, solver="highs-ipm", **info)
    assert a.rho == pytest.approx(b.rho, rel=1e-6, abs=1e-9)
    assert a.objective == pytest.approx(b.objective, rel=1e-6, abs=1e-9)
    check_solution(prior, a, info)


def test_network_newton_cuts_without_highspy_same_as_with_it(no_highspy, monkeypatch):
    """The phase-1 duals from scipy drive the same Newton steps: same rho* and optimum as highspy
    (computed before hiding it) on sparse priors that need multi-node cuts."""
    sys.modules.pop("highspy")          # un-hide for the reference solve
    import xlmrio.core.anais as anais_mod

    anais_mod._available.cache_clear()
    cases, reference = [], []
    for seed in range(40):
        prior, info = random_case(1000 + seed, m=2, n=4, zeros=0.6)
        P = build_problem(prior, totals=info["totals"])
        try:
            sol = solve_network(P)
        except InfeasibleError:
            continue
        if sol.timings["newton_iterations"] >= 2:
            cases.append(P)
            reference.append(sol)
        if len(cases) == 3:
            break
    assert len(cases) == 3
    monkeypatch.setitem(sys.modules, "highspy", None)
    for P, ref in zip(cases, reference):
        sol = solve_network(P)
        assert sol.timings["newton_iterations"] >= 1
        assert sol.rho == pytest.approx(ref.rho, rel=1e-6, abs=1e-9)
        assert sol.fun == pytest.approx(ref.fun, rel=1e-6, abs=1e-9)


def test_network_infeasible_cut_named_without_highspy(no_highspy):
    from xlmrio.core.table import MRIOTable

    Z = np.array([[0.0, 0.0, 10.0], [0.0, 0.0, 10.0], [5.0, 5.0, 5.0]])
    t = MRIOTable.from_arrays(Z, np.array([[0.0], [0.0], [30.0]]), regions=["R"], sectors=["s1", "s2", "s3"],
                              fd_categories=["fd"])
    with pytest.raises(InfeasibleError) as ei:
        anais(t, totals=[15.0, 15.0, 20.0], solver="network", elastic=False)
    assert {"known total output R|s1", "known total output R|s2", "known total output R|s3"} <= \
        set(ei.value.conflicts)


def test_auto_and_pulp_without_highspy_or_cbc(no_highspy, monkeypatch):
    """Lite has neither PuLP's CBC program nor highspy: 'auto' and 'pulp' both end at scipy's HiGHS."""
    import xlmrio.core.anais as anais_mod

    real = anais_mod._available
    monkeypatch.setattr(anais_mod, "_available", lambda what: False if what == "cbc" else real(what))
    for solver in ("auto", "pulp"):
        res = anais(table_8_5(), totals=TARGET_8_5, solver=solver)
        assert res.rho == pytest.approx(0.1, abs=1e-7) and res.objective == pytest.approx(19.0, rel=1e-6)
    prior, info = random_case(5, m=4, n=25, K=1)         # large enough for the network path
    a = anais(prior, **info)
    assert a.solver == "network"                         # its LPs answered by scipy's HiGHS
    b = anais(prior, solver="highs-ipm", **info)
    assert a.rho == pytest.approx(b.rho, rel=1e-6) and a.objective == pytest.approx(b.objective, rel=1e-6)


# --------------------------------------------------------------------------- the dependency list

def _pyodide_packages() -> dict[str, str]:
    out = {}
    for line in PACKAGE_LIST.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, version = line.split()
            out[name] = version
    return out


def _norm(name: str) -> str:
    import re

    return re.sub(r"[-_.]+", "-", name).lower()


def _pure_python(dist: metadata.Distribution) -> bool:
    """A wheel that Pyodide's micropip can install from PyPI: purelib, no extension modules."""
    wheel = dist.read_text("WHEEL") or ""
    if "Root-Is-Purelib: true" not in wheel:
        return False
    return not any(str(f).endswith((".so", ".pyd", ".dylib")) for f in (dist.files or []))


def _xlmrio_requirements() -> list[str]:
    """xlmrio's declared dependencies: from the checkout's pyproject.toml when run from a source tree
    (an editable install's metadata can be older), else from the installed metadata."""
    import tomllib

    import xlmrio

    pyproject = Path(xlmrio.__file__).resolve().parents[1] / "pyproject.toml"
    if pyproject.exists():
        return list(tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["dependencies"])
    return [r for r in (metadata.requires("xlmrio") or []) if "extra ==" not in r]


def _requirements_in_pyodide(reqs):
    from packaging.requirements import Requirement

    return [r for r in map(Requirement, reqs) if r.marker is None or r.marker.evaluate(PYODIDE_ENV)]


def test_package_list_provenance():
    head = PACKAGE_LIST.read_text(encoding="utf-8").splitlines()[:6]
    assert any(f"pyodide@{PYODIDE_VERSION}" in line for line in head)
    pkgs = _pyodide_packages()
    assert len(pkgs) > 200 and {"numpy", "scipy", "pandas"} <= set(pkgs)


def test_pyodide_install_set_is_pyodide_built_or_pure_python():
    """Walk xlmrio's requirements as micropip would inside Pyodide (markers evaluated for emscripten),
    plus the Lite requirements.txt lines: each must be a Pyodide package whose version meets the
    specifier, or a pure-Python wheel (then its own requirements are walked too)."""
    from packaging.requirements import Requirement

    from xlmrio.excel.lite import REQUIREMENTS

    pyodide = _pyodide_packages()
    todo = _requirements_in_pyodide(_xlmrio_requirements())
    todo += [Requirement(r) for r in REQUIREMENTS]
    names = {_norm(r.name) for r in todo}
    assert "highspy" not in names and "xlwings" not in names, "Lite cannot install these from xlmrio's list"
    seen, problems = set(), []
    while todo:
        req = todo.pop()
        name = _norm(req.name)
        if name in seen or name in SUPPLIED_BY_LITE:
            continue
        seen.add(name)
        if name in pyodide:
            if not req.specifier.contains(pyodide[name], prereleases=True):
                problems.append(f"{req} but Pyodide {PYODIDE_VERSION} has {name} {pyodide[name]}")
            continue
        try:
            dist = metadata.distribution(req.name)
        except metadata.PackageNotFoundError:
            problems.append(f"{req}: not in Pyodide and not installed here to check it is pure Python")
            continue
        if not _pure_python(dist):
            problems.append(f"{req}: compiled and not in Pyodide {PYODIDE_VERSION}")
            continue
        todo += _requirements_in_pyodide(dist.requires or [])
    assert not problems, problems
    assert {"numpy", "scipy", "pandas", "pulp", "openpyxl"} <= seen


def test_desktop_keeps_highspy_and_the_addin_xlwings_pin():
    """On Windows/macOS/Linux the same metadata still installs highspy and exactly xlwings 0.37.8."""
    from packaging.requirements import Requirement

    desktop = dict(PYODIDE_ENV, sys_platform="win32", platform_system="Windows")
    reqs = {_norm(r.name): r for r in map(Requirement, _xlmrio_requirements())
            if r.marker is None or r.marker.evaluate(desktop)}
    assert "highspy" in reqs
    assert str(reqs["xlwings"].specifier) == "==0.37.8"


@pytest.mark.parametrize("seed", range(2))
def test_network_free_zero_pricing_without_highspy_equals_lp(no_highspy, seed):
    """Column generation of free zero cells (addCols) through scipy's HiGHS."""
    from test_anais_fast import _grow_from_zero_case

    prior, info = _grow_from_zero_case(seed)
    a = anais(prior, solver="network", zero_policy="free", **info)
    b = anais(prior, solver="highs-ipm", zero_policy="free", **info)
    assert a.rho == pytest.approx(b.rho, rel=1e-6, abs=1e-9)
    assert a.objective == pytest.approx(b.objective, rel=1e-6, abs=1e-9)
    check_solution(prior, a, info, "relative", "free", "none")
