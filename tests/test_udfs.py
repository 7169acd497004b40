"""MRIO_ worksheet functions through xlwings' real UDF decorators and conversion code.

``xlwings.udfs`` needs Windows modules (pythoncom, pywintypes, win32com); they are stubbed in
``sys.modules`` for this file only, so the UDF module imports with the real ``xlfunc``/``xlarg``.
Reference values: METHODS.md §8 (2 regions x 2 sectors) and numpy closed forms.
"""
from __future__ import annotations

import importlib
import io
import sys
import types

import numpy as np
import pytest

Z0 = np.array([[10, 8, 12, 4], [6, 4, 2, 3], [8, 4, 20, 6], [2, 6, 4, 5]], float)
X0 = np.array([100, 80, 120, 60], float)
G0 = np.array([50, 8, 120, 6], float)
Y0 = np.array([[30, 16], [50, 5], [14, 48], [3, 36]], float)
E0 = np.array([20, 10, 20, 4], float)
L_REF = np.array([[1.1352059795, 0.1353635525, 0.1431544185, 0.1055607470],
                  [0.0756174865, 1.0676514906, 0.0331210560, 0.0673481955],
                  [0.1177452224, 0.0882759977, 1.2217614029, 0.1466614055],
                  [0.0352366602, 0.0935167267, 0.0502609611, 1.1040556834]])
MISSING = -2147352572  # what COM passes for an omitted optional argument


def _stub_windows(monkeypatch):
    pythoncom = types.ModuleType("pythoncom")
    pythoncom.CoInitialize = lambda: None
    pythoncom.IID_IDispatch = object()
    pythoncom.CoMarshalInterThreadInterfaceInStream = lambda *a: None
    pywintypes = types.ModuleType("pywintypes")
    pywintypes.com_error = type("com_error", (Exception,), {})
    win32com = types.ModuleType("win32com")
    client = types.ModuleType("win32com.client")
    client.Dispatch = lambda x: x
    win32com.client = client
    for name, mod in {"pythoncom": pythoncom, "pywintypes": pywintypes, "win32com": win32com,
                      "win32com.client": client, "win32api": types.ModuleType("win32api")}.items():
        if name not in sys.modules:
            monkeypatch.setitem(sys.modules, name, mod)


class _ComEngine:
    """Stand-in for ``xlwings._xlwindows.engine`` (its two value-cleaning hooks, as in 0.37.8)."""

    name = "excel"
    type = "desktop"
    apps = None

    cell_errors = {-2146826281: "#DIV/0!", -2146826246: "#N/A", -2146826259: "#NAME?",
                   -2146826288: "#NULL!", -2146826252: "#NUM!", -2146826265: "#REF!",
                   -2146826273: "#VALUE!"}

    @classmethod
    def clean_value_data(cls, data, datetime_builder, empty_as, number_builder, err_to_str):
        def clean(c):
            if c in ("", None):
                return empty_as
            if number_builder is not None and isinstance(c, float):
                return number_builder(c)
            if isinstance(c, int) and c in cls.cell_errors:
                return cls.cell_errors[c] if err_to_str else None
            return c
        return [[clean(c) for c in row] for row in data]

    @staticmethod
    def prepare_xl_data_element(x, date_format):
        if x is None or (isinstance(x, (float, np.floating)) and np.isnan(x)):
            return ""
        return float(x) if isinstance(x, np.number) else x


@pytest.fixture(scope="module")
def xl():
    """(xlwings.udfs, xlmrio.excel.udfs) imported with the real decorators; restored afterwards."""
    mp = pytest.MonkeyPatch()
    _stub_windows(mp)
    import xlmrio.excel as pkg
    import xlwings

    saved = {k: sys.modules.get(k) for k in ("xlwings.udfs", "xlmrio.excel.udfs")}
    saved_attr = getattr(pkg, "udfs", None)
    sys.modules.pop("xlwings.udfs", None)
    sys.modules.pop("xlmrio.excel.udfs", None)
    added_engine = "excel" not in xlwings.engines.engines_by_name
    if added_engine:
        engine = xlwings.main.Engine(impl=_ComEngine())
        xlwings.engines.engines.append(engine)
        xlwings.engines.engines_by_name["excel"] = engine
    try:
        xu = importlib.import_module("xlwings.udfs")
        mu = importlib.import_module("xlmrio.excel.udfs")
        yield xu, mu
    finally:
        for k, v in saved.items():
            if v is None:
                sys.modules.pop(k, None)
            else:
                sys.modules[k] = v
        if saved_attr is not None:
            pkg.udfs = saved_attr
        if saved["xlwings.udfs"] is None and hasattr(xlwings, "udfs"):
            delattr(xlwings, "udfs")
        if added_engine:
            xlwings.engines.engines.remove(xlwings.engines.engines_by_name.pop("excel"))
        mp.undo()


def _cells(a):
    """A numpy array as COM hands over a range value: tuple of row tuples."""
    a = np.atleast_2d(np.asarray(a, dtype=object))
    return tuple(tuple(None if (isinstance(v, float) and np.isnan(v)) else v for v in row) for row in a)


class FakeRange:
    """Stand-in for the xlwings range of a cell (what ``caller`` or a ``"range"`` argument is)."""

    def __init__(self, address, sheet="Sheet1", book="Book1.xlsx"):
        self.address = address
        app = types.SimpleNamespace(engine=__import__("xlwings").engines["excel"])
        self.sheet = types.SimpleNamespace(name=sheet, book=types.SimpleNamespace(name=book, app=app))


def call(f, *values, caller=None):
    """What xlwings.udfs.call_udf does around the Python function (without COM): the VBA wrapper
    passes ``Nothing`` for the reserved ``caller`` argument, which xlwings replaces with the calling
    cell; an omitted optional argument arrives as COM's "missing" code; a range reference is read
    through the argument's converter, a value through the same converter without a range."""
    from xlwings import conversion

    info = f.__xlfunc__
    values = list(values)
    for ai in info["args"]:
        if ai["name"] == "caller":
            values.insert(ai["pos"], caller)
    args = []
    for i, value in enumerate(values):
        ai = info["args"][i]
        if isinstance(value, int) and value == MISSING:
            args.append(ai.get("optional"))
        elif isinstance(value, FakeRange) and ai["name"] != "caller":
            args.append(conversion.read(value, None, ai["options"]))
        else:
            args.append(conversion.read(None, value, ai["options"]))
    ret = f(*args)
    return conversion.write(ret, None, info["ret"]["options"])


def _text(out):
    """The single cell xlwings writes for a scalar result (it hands Excel a 1x1 array)."""
    assert isinstance(out, list) and len(out) == 1 and len(out[0]) == 1, out
    return out[0][0]


def test_real_decorators_and_argument_help(xl):
    xu, mu = xl
    assert mu._func is xu.xlfunc
    names = {f.__name__ for f in mu.UDFS}
    assert {"MRIO_A", "MRIO_LEONTIEF", "MRIO_MULTIPLIERS", "MRIO_FOOTPRINT", "MRIO_FLOWS",
            "MRIO_RAS", "MRIO_GRAS"} <= names
    for f in mu.UDFS:
        info = f.__xlfunc__
        assert info["category"] == "xlmrio"
        assert info["ret"]["doc"] and "Python function" not in info["ret"]["doc"]
        assert info["args"][-1]["name"] == "caller"  # xlwings' reserved argument, hidden in Excel
        for a in info["args"]:
            assert not a["doc"].startswith("Positional argument"), (f.__name__, a["name"])
            assert len(a["doc"]) <= 255 and a["doc"].isascii()
    z = mu.MRIO_A.__xlfunc__["argmap"]["Z"]["options"]
    assert z["convert"] is np.array and z["ndim"] == 2


def test_coefficients_leontief_multipliers(xl):
    _, mu = xl
    A = np.array(call(mu.MRIO_A, _cells(Z0), _cells(X0)))
    A_ref = np.array([[0.10, 0.10, 0.10, 1 / 15], [0.06, 0.05, 1 / 60, 0.05],
                      [0.08, 0.05, 1 / 6, 0.10], [0.02, 0.075, 1 / 30, 1 / 12]])
    np.testing.assert_allclose(A, A_ref, rtol=1e-12)
    L = np.array(call(mu.MRIO_LEONTIEF, _cells(Z0), _cells(X0[:, None])))  # x as a column
    np.testing.assert_allclose(L, L_REF, rtol=1e-9)
    L2 = np.array(call(mu.MRIO_LEONTIEF, _cells(A_ref), MISSING))  # A alone
    np.testing.assert_allclose(L2, np.linalg.inv(np.eye(4) - A_ref), rtol=1e-12)
    tot = np.array(call(mu.MRIO_MULTIPLIERS, _cells(Z0), _cells(X0), MISSING))
    assert tot.shape == (4, 1)
    np.testing.assert_allclose(tot[:, 0], [1.3638053486, 1.3848077675, 1.4482978384, 1.4236260314],
                               rtol=1e-9)
    m3 = np.array(call(mu.MRIO_MULTIPLIERS, _cells(Z0), _cells(X0), 2.0))
    np.testing.assert_allclose(m3[:, 1], [1.2108234660, 1.2030150432, 1.2720223640, 1.2507170889],
                               rtol=1e-9)
    np.testing.assert_allclose(m3[:, 0] - m3[:, 1], m3[:, 2], rtol=1e-12)
    mu_e = np.array(call(mu.MRIO_EMISSION_MULTIPLIERS, _cells(Z0), _cells(X0), _cells(G0)))
    np.testing.assert_allclose(mu_e[:, 0], [0.6964336269, 0.2720745957, 1.3016768138, 0.3165821669],
                               rtol=1e-9)


def test_footprint_and_flows(xl):
    _, mu = xl
    Ystar = np.column_stack([Y0, E0])
    cba = np.array(call(mu.MRIO_FOOTPRINT, _cells(Z0), _cells(X0), _cells(G0), _cells(Ystar), MISSING))
    assert cba.shape == (1, 3)
    np.testing.assert_allclose(cba[0], [53.6699604839, 86.3807560783, 43.9492834378], rtol=1e-9)
    assert cba.sum() == pytest.approx(G0.sum(), rel=1e-12)  # PBA total = CBA total incl. EXP
    Mx = np.array(call(mu.MRIO_FOOTPRINT, _cells(Z0), _cells(X0), _cells(G0), _cells(Ystar), True))
    np.testing.assert_allclose(Mx[0], [21.5726005559, 14.7558562074, 13.6715432367], rtol=1e-9)
    F = np.array(call(mu.MRIO_FLOWS, _cells(Z0), _cells(X0), _cells(G0)))
    e = G0 / X0
    np.testing.assert_allclose(F, np.diag(e) @ L_REF @ Z0, rtol=1e-8)  # F = e^ L Z (eq. 15)
    np.testing.assert_allclose(F[0], [6.7602989761, 5.4145421012, 8.5892651085, 3.1668224108], rtol=1e-9)


def test_ras_gras(xl):
    _, mu = xl
    Z = np.array(call(mu.MRIO_RAS, _cells([[2, 1], [1, 2]]), _cells([4, 2]), _cells([[3], [3]]),
                      MISSING, MISSING))
    s17 = np.sqrt(17)
    np.testing.assert_allclose(Z, [[(9 - s17) / 2, (s17 - 1) / 2], [(s17 - 3) / 2, (7 - s17) / 2]],
                               rtol=1e-9)
    G = np.array(call(mu.MRIO_GRAS, _cells([[7, 3, -2], [2, 9, 4], [-1, 5, 8]]), _cells([10, 14, 15]),
                      _cells([9, 19, 11]), 1e-12, 10000.0))
    np.testing.assert_allclose(G, [[8.0458770178, 3.7457773621, -1.7916543799],
                                   [1.7878434502, 8.7395155097, 3.4726410402],
                                   [-0.8337204680, 6.5147071283, 9.3190133397]], rtol=1e-9)


@pytest.mark.parametrize("fname, values, expected", [
    ("MRIO_A", (Z0, np.array([100, 80, 0, 60.0])), "#XLMRIO! x is 0 in column 3 but Z has inputs there"),
    ("MRIO_A", (Z0, X0[:3]), "#XLMRIO! x has 3 entries but Z has 4 columns"),
    ("MRIO_A", (Z0[:3], X0), "#XLMRIO! Z must be square, not 3x4"),
    ("MRIO_LEONTIEF", (np.array([[0.5, 0.6], [0.6, 0.5]]), MISSING), "#XLMRIO! non-productive"),
    ("MRIO_FLOWS", (Z0, X0, np.array([50, 8, 120])), "#XLMRIO! g has 3 entries"),
    ("MRIO_MULTIPLIERS", (Z0, X0, 3.0), "#XLMRIO! n_sectors = 3.0 does not divide"),
    ("MRIO_RAS", (np.array([[2, 1], [1, 2.0]]), np.array([4, 2.0]), np.array([3, 4.0]), MISSING, MISSING),
     "#XLMRIO! the row targets u sum to 6 but the column targets v to 7; they must have the same total"),
    ("MRIO_RAS", (np.array([[0, 0], [1, 2.0]]), np.array([4, 2.0]), np.array([3, 3.0]), MISSING, MISSING),
     "#XLMRIO! row 1 of the prior is all zero"),
    ("MRIO_RAS", (np.array([[2, 1], [1, 2.0]]), np.array([4, 2.0]), np.array([3, 3.0]), "abc", MISSING),
     "#XLMRIO! tol must be a number"),
    ("MRIO_GRAS", (np.array([[2, 1], [1, 2.0]]), np.array([4, 2.0]), np.array([3, 3.0]), MISSING, 0.5),
     "#XLMRIO! maxiter must be a whole number above 0, not 0.5"),
    ("MRIO_FOOTPRINT", (Z0, X0, G0, Y0, "maybe"), "#XLMRIO! by_emitter must be TRUE or FALSE"),
    ("MRIO_FOOTPRINT", (Z0, X0, G0, Y0, -2146826246), "#XLMRIO! by_emitter is the error value #N/A"),
    ("MRIO_MULTIPLIERS", (Z0, X0, -2146826273), "#XLMRIO! n_sectors is the error value #VALUE!"),
])
def test_bad_arguments_return_short_text(xl, fname, values, expected):
    _, mu = xl
    f = getattr(mu, fname)
    out = _text(call(f, *[v if isinstance(v, int) and v == MISSING else _cells(v)
                          if isinstance(v, np.ndarray) else v for v in values]))
    assert isinstance(out, str) and out.startswith(expected), out
    assert "Traceback" not in out and len(out) <= 260


def test_empty_and_text_cells_are_located(xl):
    _, mu = xl
    cells = [list(r) for r in _cells(Z0)]
    cells[1][2] = None  # empty cell -> NaN through xlwings' numpy converter
    out = _text(call(mu.MRIO_A, tuple(map(tuple, cells)), _cells(X0)))
    assert out == "#XLMRIO! Z has an empty cell at row 2, column 3"
    cells[1][2] = "n/a"
    out = _text(call(mu.MRIO_A, tuple(map(tuple, cells)), _cells(X0)))
    assert out == "#XLMRIO! Z has a non-numeric cell at row 2, column 3"


def test_vba_wrapper_text_from_xlwings(xl):
    """xlwings' own generator declares each MRIO_ function with its arguments (the reserved
    ``caller`` as ``Nothing``, the function-wizard guard for heavy functions), and the add-in embeds
    exactly that text, with each result passed through ``MrioResult`` (text -> #VALUE!)."""
    xu, mu = xl
    from xlmrio.excel import addin

    buf = io.StringIO()
    xu.generate_vba_wrapper("xlmrio.excel.udfs", mu, buf, types.SimpleNamespace(Name="xlmrio.xlam"))
    text = buf.getvalue()
    assert 'Function MRIO_A(Z, x)' in text
    assert 'Function MRIO_LEONTIEF(A, Optional x)' in text
    assert 'Function MRIO_FOOTPRINT(Z, x, g, Y, Optional by_emitter)' in text
    assert 'Function MRIO_RAS(Z0, u, v, Optional tol, Optional maxiter)' in text
    assert 'Function MRIO_ERROR(Optional cell)' in text
    assert 'MRIO_FLOWS = XLPy.CallUDF("xlmrio.excel.udfs", "MRIO_FLOWS", Array(Z, x, g, Nothing), ' \
           'ActiveWorkbook, Application.Caller)' in text
    for f in mu.UDFS:
        args = ", ".join(("Optional " if "optional" in a else "") + a["name"] for a in f.__xlfunc__["args"]
                         if a["name"] != "caller")
        assert f"Function {f.__name__}({args})" in text
    ours = addin.udf_wrappers_vba([f.__xlmrio_udf__ for f in sorted(mu.UDFS, key=lambda f: f.__name__)])
    helper = ours[ours.index("Private Function MrioResult"):]
    expected = "\n".join(line.replace("= XLPy.CallUDF(", "= MrioResult(XLPy.CallUDF(") + ")"
                         if "= XLPy.CallUDF(" in line else line for line in text.split("\n"))
    assert ours == expected + helper
    assert 'If Left$(r, 9) = "#XLMRIO! " Then' in helper and "MrioResult = CVErr(2015)" in helper  # #VALUE!
    assert mu.ERROR_PREFIX == "#XLMRIO! " and len(mu.ERROR_PREFIX) == 9


def test_plain_import_without_windows_modules():
    """Off Windows the functions are plain Python and give the same numbers."""
    from xlmrio.excel import udfs

    L = udfs.MRIO_LEONTIEF(Z0, X0[None, :])
    np.testing.assert_allclose(L, L_REF, rtol=1e-9)
    assert udfs.MRIO_A("abc", X0).startswith("#XLMRIO! ")


# --------------------------------------------------------------------------------------------
# range checks: whole-array operations, same cell-precise messages as the cell-by-cell loop
# --------------------------------------------------------------------------------------------
def _loop_matrix(name, value):
    """The former cell-by-cell check, kept here as the independent reference for the messages."""
    arr = np.array(value, dtype=object, ndmin=2)
    for (i, j), v in np.ndenumerate(arr):
        if isinstance(v, (bool, np.bool_)):
            return f"{name} has a non-numeric cell at row {i + 1}, column {j + 1}"
        if v is None or (isinstance(v, str) and not v.strip()):
            return f"{name} has an empty cell at row {i + 1}, column {j + 1}"
        try:
            f = float(v)
        except (TypeError, ValueError):
            return f"{name} has a non-numeric cell at row {i + 1}, column {j + 1}"
        if not np.isfinite(f):
            return f"{name} has {'an empty' if np.isnan(f) else 'an infinite'} cell at row {i + 1}, column {j + 1}"
    return None


@pytest.mark.parametrize("seed", range(40))
def test_vectorised_checks_name_the_same_cell_as_the_loop(seed):
    from xlmrio.errors import OptionError
    from xlmrio.excel import udfs

    rng = np.random.default_rng(seed)
    M = rng.random((7, 5)) * 100
    cells = M.astype(object)
    for _ in range(int(rng.integers(0, 4))):  # a few defects at random places (first one counts)
        i, j = rng.integers(0, 7), rng.integers(0, 5)
        cells[i, j] = [None, "", "n/a", " 12 ", True, np.inf, np.nan, "-inf"][int(rng.integers(0, 8))]
    expected = _loop_matrix("Z", cells)
    # the three forms the values arrive in: object cells (Python), numpy's text array (a text cell
    # in the range), numpy floats with NaN for empty cells (xlwings' numpy converter)
    forms = [cells]
    if not any(isinstance(v, (bool, type(None))) for v in cells.ravel()):
        forms.append(np.array(cells.tolist()))
    for form in forms:
        if expected is None:
            out = udfs._matrix("Z", form)
            np.testing.assert_array_equal(out, np.array([[float(v) for v in r] for r in cells]))
        else:
            with pytest.raises(OptionError) as err:
                udfs._matrix("Z", form)
            assert str(err.value) == expected, form


def test_first_bad_cell_wins_across_kinds():
    """An empty cell (NaN, 'nan' once numpy made the range text) before a text cell is named first."""
    from xlmrio.errors import OptionError
    from xlmrio.excel import udfs

    cells = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], dtype=object)
    cells[0, 1], cells[2, 0] = np.nan, "n/a"
    for form in (cells, np.array(cells.tolist())):              # objects; numpy's text array
        with pytest.raises(OptionError, match="Z has an empty cell at row 1, column 2"):
            udfs._matrix("Z", form)
    cells[0, 1], cells[2, 1] = 2.0, np.inf                      # same row: text before inf
    with pytest.raises(OptionError, match="non-numeric cell at row 3, column 1"):
        udfs._matrix("Z", np.array(cells.tolist()))
    cells[2, 0], cells[2, 1] = np.inf, "n/a"                    # same row: inf before text
    with pytest.raises(OptionError, match="an infinite cell at row 3, column 1"):
        udfs._matrix("Z", np.array(cells.tolist()))


def test_range_shapes_and_error_values():
    from xlmrio.errors import OptionError
    from xlmrio.excel import udfs

    assert udfs._matrix("x", [1, 2, 3]).shape == (1, 3)       # a row
    assert udfs._matrix("x", 5.0).shape == (1, 1)
    assert udfs._matrix("x", np.arange(4)[:, None]).dtype == float
    with pytest.raises(OptionError, match="Z has the error value #N/A at row 2, column 1"):
        udfs._matrix("Z", np.array([[1.0, 2.0], ["#N/A", 3.0]], dtype=object))
    with pytest.raises(OptionError, match="Z has a non-numeric cell at row 1, column 1"):
        udfs._matrix("Z", np.array([[True, False]]))
    with pytest.raises(OptionError, match="must be a range"):
        udfs._matrix("Z", np.zeros((2, 2, 2)))


def test_error_cells_are_named_not_called_empty(xl):
    """An error cell in a range arrives (err_to_str) as its text and is named as an error value."""
    _, mu = xl
    cells = [list(r) for r in _cells(Z0)]
    cells[1][2] = -2146826246  # what COM hands over for #N/A
    out = _text(call(mu.MRIO_A, tuple(map(tuple, cells)), _cells(X0)))
    assert out == "#XLMRIO! Z has the error value #N/A at row 2, column 3"


# --------------------------------------------------------------------------------------------
# cached factorisation
# --------------------------------------------------------------------------------------------
@pytest.fixture
def counting(monkeypatch):
    """Counts the factorisations of I - A (scipy's lu_factor as called by LeontiefSolver)."""
    import scipy.linalg

    from xlmrio.excel import udfs

    calls = []
    real = scipy.linalg.lu_factor   # LeontiefSolver imports it from scipy.linalg when it factorises
    monkeypatch.setattr(scipy.linalg, "lu_factor", lambda *a, **k: calls.append(1) or real(*a, **k))
    monkeypatch.setattr(udfs, "SOLVERS", udfs.SolverCache())
    return calls


def test_multipliers_and_footprint_share_one_lu(xl, counting):
    _, mu = xl
    Ystar = np.column_stack([Y0, E0])
    m = np.array(call(mu.MRIO_MULTIPLIERS, _cells(Z0), _cells(X0), MISSING))
    assert len(counting) == 1 and mu.SOLVERS.misses == 1
    cba = np.array(call(mu.MRIO_FOOTPRINT, _cells(Z0), _cells(X0), _cells(G0), _cells(Ystar), MISSING))
    em = np.array(call(mu.MRIO_EMISSION_MULTIPLIERS, _cells(Z0), _cells(X0), _cells(G0)))
    L = np.array(call(mu.MRIO_LEONTIEF, _cells(Z0), _cells(X0)))
    assert len(counting) == 1 and mu.SOLVERS.hits == 3  # no second factorisation
    # results unchanged against closed forms (numpy's inverse, not the cached solver)
    L_np = np.linalg.inv(np.eye(4) - Z0 / X0)
    np.testing.assert_allclose(m[:, 0], L_np.sum(axis=0), rtol=1e-12)
    np.testing.assert_allclose(cba[0], (G0 / X0) @ L_np @ Ystar, rtol=1e-12)
    np.testing.assert_allclose(em[:, 0], L_np.T @ (G0 / X0), rtol=1e-12)
    np.testing.assert_allclose(L, L_REF, rtol=1e-9)
    # A given directly (e.g. the spill of MRIO_A) is the same content: same LU
    A = np.array(call(mu.MRIO_A, _cells(Z0), _cells(X0)))
    call(mu.MRIO_LEONTIEF, _cells(A), MISSING)
    assert len(counting) == 1


def test_changed_range_gives_a_fresh_result(xl, counting):
    _, mu = xl
    before = np.array(call(mu.MRIO_MULTIPLIERS, _cells(Z0), _cells(X0), MISSING))[:, 0]
    Z1 = Z0.copy()
    Z1[2, 1] += 1.0  # one cell edited
    after = np.array(call(mu.MRIO_MULTIPLIERS, _cells(Z1), _cells(X0), MISSING))[:, 0]
    assert len(counting) == 2
    np.testing.assert_allclose(after, np.linalg.inv(np.eye(4) - Z1 / X0).sum(axis=0), rtol=1e-12)
    assert not np.allclose(before, after)
    again = np.array(call(mu.MRIO_MULTIPLIERS, _cells(Z0), _cells(X0), MISSING))[:, 0]
    np.testing.assert_array_equal(again, before)  # the first table is still cached
    assert len(counting) == 2


def test_solver_cache_is_bounded_and_keeps_no_failures(counting):
    from xlmrio.errors import XlmrioError
    from xlmrio.excel import udfs

    cache = udfs.SolverCache(max_entries=2, max_bytes=10_000)
    mats = [np.diag(np.full(n, 0.1)) for n in (3, 4, 5)]
    for A in mats:
        cache.get(A)
    assert len(cache) == 2 and cache.misses == 3            # oldest dropped
    cache.get(mats[0])
    assert cache.misses == 4                                # ... so it is factorised again
    cache.get(np.diag(np.full(30, 0.1)))                    # 3 * 30 * 30 * 8 bytes > max_bytes
    assert cache.nbytes <= 10_000 and all(s.N != 30 for s in cache._solvers.values())
    with pytest.raises(XlmrioError, match="non-productive"):
        cache.get(np.array([[0.5, 0.6], [0.6, 0.5]]))
    assert all(s.N != 2 for s in cache._solvers.values())
    # the key is the content: an equal array built separately hits, a different dtype/shape does not
    assert udfs.array_digest(mats[1]) == udfs.array_digest(mats[1].copy(order="F"))
    assert udfs.array_digest(np.zeros((2, 3))) != udfs.array_digest(np.zeros((3, 2)))


def test_leontief_result_does_not_alias_the_cache(counting):
    from xlmrio.excel import udfs

    L = udfs.MRIO_LEONTIEF(Z0, X0)
    L[:] = 0.0
    np.testing.assert_allclose(udfs.MRIO_LEONTIEF(Z0, X0), L_REF, rtol=1e-9)


# --------------------------------------------------------------------------------------------
# function wizard: heavy functions are xlwings call_in_wizard=False
# --------------------------------------------------------------------------------------------
WIZARD_GUARD = '    If (Not Application.CommandBars("Standard").Controls(1).Enabled) Then Exit Function'


def test_heavy_functions_do_not_run_in_the_function_wizard(xl):
    _, mu = xl
    from xlmrio.excel import addin

    light = {"MRIO_A", "MRIO_ERROR"}
    for f in mu.UDFS:
        assert f.__xlfunc__["call_in_wizard"] is (f.__name__ in light), f.__name__
        assert f.__xlmrio_udf__["call_in_wizard"] is (f.__name__ in light)
    vba = addin.udf_wrappers_vba()
    for f in mu.UDFS:
        block = vba[vba.index(f"Function {f.__name__}("):]
        block = block[:block.index("End Function")]
        first_statement = block.split("\n")[1]
        # the guard is the first statement, before Python is called at all
        assert (first_statement == WIZARD_GUARD) is (f.__name__ not in light), f.__name__
    assert vba.count(WIZARD_GUARD) == len(mu.UDFS) - len(light)
    # Lite: the generated main.py has no wizard logic (no-op there) and still calls every function
    from xlmrio.excel import lite

    from xlmrio.excel import registry

    main = lite.main_py(commands=registry.commands())
    assert "CommandBars" not in main and "def MRIO_ERROR(cell=None):" in main


# --------------------------------------------------------------------------------------------
# errors Excel can see, and their messages
# --------------------------------------------------------------------------------------------
def test_error_log_keeps_the_last_message_per_cell():
    from xlmrio.excel.udfs import ErrorLog

    now = [0.0]
    log = ErrorLog(max_cells=2, nested_window=1.0, clock=lambda: now[0])
    s = log.begin()
    log.record("[B]S!$A$1", "x is 0 in column 3", s)
    assert log.message("[B]S!$A$1") == "x is 0 in column 3" and log.message("[B]S!$B$1") == ""
    assert log.message() == "[B]S!$A$1: x is 0 in column 3"
    # nested: the outer call right after, in the same cell, failing on the error value
    log.record("[B]S!$A$1", "A has the error value #VALUE! at row 1, column 1", log.begin(), nested=True)
    assert log.message("[B]S!$A$1") == ("x is 0 in column 3 | then: A has the error value #VALUE! at "
                                         "row 1, column 1")
    # the same cell recalculated later (another call in between, or after the window): fresh message
    log.begin()
    log.record("[B]S!$A$1", "A has the error value #VALUE! at row 1, column 1", log.begin(), nested=True)
    assert log.message("[B]S!$A$1") == "A has the error value #VALUE! at row 1, column 1"
    s = log.begin()
    log.record("[B]S!$A$1", "Z must be square, not 3x4", s)
    now[0] = 5.0
    log.record("[B]S!$A$1", "A has the error value #N/A at row 1, column 1", s + 1, nested=True)
    assert log.message("[B]S!$A$1") == "A has the error value #N/A at row 1, column 1"
    log.clear("[B]S!$A$1")
    assert log.message("[B]S!$A$1") == ""
    for k in ("a", "b", "c"):                               # bounded: oldest cell dropped
        log.record(k, k, log.begin())
    assert len(log) == 2 and log.message("a") == "" and log.message("c") == "c"


def test_mrio_error_shows_the_message_of_the_calling_cell(xl, monkeypatch):
    _, mu = xl
    monkeypatch.setattr(mu, "ERRORS", mu.ErrorLog())
    b5, c9 = FakeRange("$B$5"), FakeRange("$C$9:$F$12", sheet="Model")
    out = _text(call(mu.MRIO_A, _cells(Z0[:3]), _cells(X0), caller=b5))
    assert out == "#XLMRIO! Z must be square, not 3x4"          # the VBA wrapper makes this #VALUE!
    call(mu.MRIO_A, _cells(Z0), _cells(X0), caller=c9)           # another cell, fine
    assert _text(call(mu.MRIO_ERROR, FakeRange("$B$5"))) == "Z must be square, not 3x4"
    assert _text(call(mu.MRIO_ERROR, FakeRange("$C$9"))) == ""
    assert _text(call(mu.MRIO_ERROR, MISSING)) == "[Book1.xlsx]Sheet1!$B$5: Z must be square, not 3x4"
    # the user fixes the input: the cell computes, its message is gone
    call(mu.MRIO_A, _cells(Z0), _cells(X0), caller=b5)
    assert _text(call(mu.MRIO_ERROR, FakeRange("$B$5"))) == ""
    # the message never carries the #XLMRIO! prefix (the wrapper would turn it into #VALUE!)
    call(mu.MRIO_A, _cells(Z0), _cells(X0[:2]), caller=b5)
    assert not _text(call(mu.MRIO_ERROR, FakeRange("$B$5"))).startswith("#")


def test_nested_call_keeps_the_inner_message(xl, monkeypatch):
    """=MRIO_LEONTIEF(MRIO_A(Z, x)) in B5 with x = 0 where Z has inputs: Excel calls MRIO_A, its
    wrapper returns #VALUE!, which MRIO_LEONTIEF receives as COM's error code."""
    _, mu = xl
    monkeypatch.setattr(mu, "ERRORS", mu.ErrorLog())
    b5 = FakeRange("$B$5")
    inner = _text(call(mu.MRIO_A, _cells(Z0), _cells([100, 80, 0, 60.0]), caller=b5))
    assert inner.startswith("#XLMRIO! x is 0 in column 3")
    VALUE_ERROR = -2146826273                                     # CVErr(xlErrValue) over COM
    outer = _text(call(mu.MRIO_LEONTIEF, VALUE_ERROR, MISSING, caller=b5))
    assert outer == "#XLMRIO! A has the error value #VALUE! at row 1, column 1"
    assert _text(call(mu.MRIO_ERROR, FakeRange("$B$5"))) == (
        "x is 0 in column 3 but Z has inputs there | then: A has the error value #VALUE! at row 1, column 1")
    # without Excel (plain Python / Lite) the inner text itself reaches the outer function
    from xlmrio.excel import udfs

    nested = udfs.MRIO_LEONTIEF(udfs.MRIO_A(Z0, [100, 80, 0, 60.0]))
    assert nested == ("#XLMRIO! A is the error of a nested MRIO_ function: x is 0 in column 3 but Z has "
                      "inputs there")


def test_lite_raises_so_excel_shows_value_error(monkeypatch):
    from xlmrio.excel import udfs

    monkeypatch.setattr(udfs, "RAISE_ERRORS", True)
    with pytest.raises(udfs.UdfError) as err:
        udfs.MRIO_A(Z0[:3], X0)
    assert str(err.value) == "Z must be square, not 3x4"
    np.testing.assert_allclose(udfs.MRIO_LEONTIEF(Z0, X0), L_REF, rtol=1e-9)  # success unchanged


def test_python_callers_may_name_arguments():
    from xlmrio.excel import udfs

    Ystar = np.column_stack([Y0, E0])
    by_name = udfs.MRIO_FOOTPRINT(Z0, X0, G0, Ystar, by_emitter=True)
    np.testing.assert_allclose(by_name, udfs.MRIO_FOOTPRINT(Z0, X0, G0, Ystar, True), rtol=0)
    np.testing.assert_allclose(by_name[0], [21.5726005559, 14.7558562074, 13.6715432367], rtol=1e-9)
    assert udfs.MRIO_A(Z=Z0[:3], x=X0) == "#XLMRIO! Z must be square, not 3x4"
