"""Worksheet functions (UDFs) for the core methods, prefixed ``MRIO_``.

Each function takes worksheet ranges and returns an array that spills in Excel 365. Inputs are
read by xlwings as 2-D numpy arrays (empty cells become NaN); bad arguments return a short text
such as ``#XLMRIO! x is 0 in column 3 but Z has inputs there`` instead of a traceback.

The functions stay thin: the arithmetic lives in :mod:`xlmrio.core` (coefficients, Leontief
inverse, multipliers, flows) and :mod:`xlmrio.update` (RAS, GRAS).

Decorators: xlwings' real UDF decorators (``xlwings.udfs.xlfunc/xlarg``) are used when xlwings'
Windows UDF machinery imports; elsewhere ``xlwings.func/arg`` (no-ops outside Windows). Every UDF
also carries ``__xlmrio_udf__`` metadata (name, help, arguments) from which the add-in build writes
the VBA wrappers and function-wizard help, and :mod:`xlmrio.excel.lite` writes xlwings Lite code.
"""
from __future__ import annotations

import functools
from typing import Any, Callable

import numpy as np
import xlwings as xw

from ..errors import OptionError, XlmrioError

try:  # Windows with pywin32 (the tests stub the Windows modules to import this on Linux)
    from xlwings.udfs import xlarg as _arg, xlfunc as _func
except ImportError:  # macOS/Linux: xlwings' platform decorators (no-ops outside Windows)
    _arg, _func = xw.arg, xw.func

CATEGORY = "xlmrio"
ERROR_PREFIX = "#XLMRIO! "
MAX_ERROR_CHARS = 250

#: All worksheet functions, in definition order (filled by :func:`udf`).
UDFS: list[Callable] = []

# argument kinds -> xlwings conversion options
_KINDS = {
    "matrix": {"convert": np.array, "ndim": 2},
    "vector": {"convert": np.array, "ndim": 2},
    "number": {"convert": float},
    "integer": {"convert": float},
    "flag": {"convert": bool},
}


def error_text(exc: BaseException) -> str:
    """The short cell text for *exc*: ``#XLMRIO! <message>`` (never a traceback)."""
    if isinstance(exc, XlmrioError):
        msg = str(exc)
    else:
        msg = f"unexpected {type(exc).__name__}: {exc}"
    msg = " ".join(msg.split())
    if len(msg) > MAX_ERROR_CHARS:
        msg = msg[:MAX_ERROR_CHARS - 1] + "…"
    return ERROR_PREFIX + msg


def udf(doc: str, **args: tuple[str, str]):
    """Register a worksheet function.

    Parameters
    ----------
    doc : str
        One-line description (function wizard; ASCII).
    **args : (kind, help)
        Per argument: kind (``"matrix"``, ``"vector"``, ``"number"``, ``"integer"``, ``"flag"``)
        and a one-line help text (ASCII, at most 255 characters).
    """

    def deco(f: Callable) -> Callable:
        import inspect

        params = inspect.signature(f).parameters
        if list(params) != list(args):
            raise TypeError(f"{f.__name__}: help given for {list(args)}, signature has {list(params)}")

        @functools.wraps(f)
        def guarded(*a):
            try:
                return f(*a)
            except Exception as exc:  # noqa: BLE001 - a cell shows text, never a traceback
                return error_text(exc)

        g = guarded
        for name, (kind, help_) in args.items():
            g = _arg(name, doc=help_, **_KINDS[kind])(g)
        g = _func(category=CATEGORY)(g)
        g.__xlmrio_udf__ = {
            "name": f.__name__,
            "doc": doc,
            "category": CATEGORY,
            "args": [
                {"name": n, "kind": k, "doc": h,
                 "optional": params[n].default is not inspect.Parameter.empty,
                 "default": None if params[n].default is inspect.Parameter.empty else params[n].default}
                for n, (k, h) in args.items()
            ],
        }
        UDFS.append(g)
        return g

    return deco


# --------------------------------------------------------------------------------------------
# argument checks (1-based positions, as the user sees them in the range)
# --------------------------------------------------------------------------------------------
def _matrix(name: str, value: Any) -> np.ndarray:
    if value is None:
        raise OptionError(f"{name} is missing")
    arr = np.array(value, dtype=object, ndmin=2)
    if arr.ndim != 2:
        raise OptionError(f"{name} must be a range (rows x columns)")
    out = np.empty(arr.shape, dtype=float)
    for (i, j), v in np.ndenumerate(arr):
        # a text cell makes numpy turn the whole range into strings: parse numbers back
        if isinstance(v, bool) or v is None or (isinstance(v, str) and not v.strip()):
            what = "a non-numeric" if isinstance(v, bool) else "an empty"
            raise OptionError(f"{name} has {what} cell at row {i + 1}, column {j + 1}")
        try:
            out[i, j] = float(v)
        except (TypeError, ValueError):
            raise OptionError(f"{name} has a non-numeric cell at row {i + 1}, column {j + 1}") from None
        if not np.isfinite(out[i, j]):
            what = "an empty" if np.isnan(out[i, j]) else "an infinite"
            raise OptionError(f"{name} has {what} cell at row {i + 1}, column {j + 1}")
    return out


def _number(name: str, value: Any, default: float, *, integer: bool = False, positive: bool = True) -> float:
    """A scalar argument (empty = *default*); text, fractions where an integer is needed and
    non-positive values are errors naming the argument."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return default
    try:
        val = float(value) if not isinstance(value, bool) else float("nan")
    except (TypeError, ValueError):
        raise OptionError(f"{name} must be a number, not {value!r}") from None
    if not np.isfinite(val) or (integer and val != round(val)) or (positive and val <= 0):
        what = "a whole number" if integer else "a number"
        raise OptionError(f"{name} must be {what}{' above 0' if positive else ''}, not {value!r}")
    return int(val) if integer else val


def _flag(name: str, value: Any) -> bool:
    """TRUE/FALSE (or 1/0, or the texts TRUE/FALSE); anything else is an error naming the argument."""
    if value is None or isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, str) and value.strip().upper() in ("TRUE", "FALSE"):
        return value.strip().upper() == "TRUE"
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    raise OptionError(f"{name} must be TRUE or FALSE, not {value!r}")


def _vector(name: str, value: Any, n: int | None = None) -> np.ndarray:
    m = _matrix(name, value)
    if min(m.shape) != 1:
        raise OptionError(f"{name} must be one row or one column, not {m.shape[0]}x{m.shape[1]}")
    v = m.ravel()
    if n is not None and v.size != n:
        raise OptionError(f"{name} has {v.size} entries but Z has {n} columns")
    return v


def _square(name: str, value: Any) -> np.ndarray:
    M = _matrix(name, value)
    if M.shape[0] != M.shape[1]:
        raise OptionError(f"{name} must be square, not {M.shape[0]}x{M.shape[1]}")
    return M


def _check_Z_x(Z: np.ndarray, x: np.ndarray, zname: str = "Z") -> None:
    neg = np.argwhere(Z < 0)
    if neg.size:
        i, j = neg[0]
        raise OptionError(f"{zname} is negative at row {i + 1}, column {j + 1}")
    for j in range(x.size):
        if x[j] < 0:
            raise OptionError(f"x is negative in column {j + 1}")
        if x[j] == 0 and np.any(Z[:, j] != 0):
            raise OptionError(f"x is 0 in column {j + 1} but {zname} has inputs there")


def _intensity(g: np.ndarray, x: np.ndarray) -> np.ndarray:
    from ..core.leontief import intensities

    bad = np.flatnonzero((x == 0) & (g != 0))
    if bad.size:
        raise OptionError(f"g is not 0 in entry {bad[0] + 1} where x is 0 (orphan emissions)")
    return intensities(g, x)


def _model(Z: Any, x: Any):
    """Checked ``(Z, x, A)`` from worksheet ranges."""
    from ..core.leontief import coefficients

    Zm = _square("Z", Z)
    xv = _vector("x", x, Zm.shape[0])
    _check_Z_x(Zm, xv)
    return Zm, xv, coefficients(Zm, xv)


def _solver(A: np.ndarray):
    from ..core.leontief import LeontiefSolver

    return LeontiefSolver(A, labels=[f"row {k + 1}" for k in range(A.shape[0])])


# --------------------------------------------------------------------------------------------
# the worksheet functions
# --------------------------------------------------------------------------------------------
@udf("Technical coefficients A = Z diag(x)^-1 (a_kl = z_kl / x_l; 0 where x_l = 0).",
     Z=("matrix", "Intermediate flows, N x N (money)."),
     x=("vector", "Total output, N values as a row or column (money)."))
def MRIO_A(Z: np.ndarray, x: np.ndarray):
    """Technical coefficients ``A = Z x̂⁻¹`` (dimensionless, N×N)."""
    return _model(Z, x)[2]


@udf("Leontief inverse L = (I - A)^-1. Give A alone, or Z and x (then A = Z diag(x)^-1).",
     A=("matrix", "Technical coefficients A (N x N); or intermediate flows Z when x is given."),
     x=("vector", "Optional total output (N values): if given, the first argument is Z."))
def MRIO_LEONTIEF(A: np.ndarray, x: np.ndarray | None = None):
    """Leontief inverse ``L = (I − A)⁻¹`` (dimensionless, N×N)."""
    if x is None:
        Am = _square("A", A)
    else:
        Am = _model(A, x)[2]
    return _solver(Am).L


@udf("Output multipliers 1'L as a column; with n_sectors also own-region and spill-over parts.",
     Z=("matrix", "Intermediate flows, N x N (money)."),
     x=("vector", "Total output, N values (money)."),
     n_sectors=("integer", "Optional sectors per region (region-major order): returns total, "
                           "own-region, spill-over."))
def MRIO_MULTIPLIERS(Z: np.ndarray, x: np.ndarray, n_sectors: float | None = None):
    """Output multipliers: N×1 ``1'L``, or N×3 (total, own region, spill-over) with *n_sectors*."""
    from ..core.leontief import output_multipliers

    Zm, xv, A = _model(Z, x)
    solver = _solver(A)
    N = A.shape[0]
    if n_sectors is None:
        return solver.solve_left(np.ones(N))[:, None]
    n = _number("n_sectors", n_sectors, N, integer=True)
    if N % n:
        raise OptionError(f"n_sectors = {n_sectors} does not divide the {N} rows of Z into regions")
    return output_multipliers(solver, N // n, n)


@udf("Emission multipliers mu' = e'L (satellite unit per money unit of final demand), a column.",
     Z=("matrix", "Intermediate flows, N x N (money)."),
     x=("vector", "Total output, N values (money)."),
     g=("vector", "Direct emissions by producing region-sector, N values (e.g. t)."))
def MRIO_EMISSION_MULTIPLIERS(Z: np.ndarray, x: np.ndarray, g: np.ndarray):
    """Total emission multipliers ``μ = L'e`` (N×1; satellite unit per money unit)."""
    Zm, xv, A = _model(Z, x)
    e = _intensity(_vector("g", g, xv.size), xv)
    return _solver(A).solve_left(e)[:, None]


@udf("Consumption-based emissions e'L Y per final-demand column (one value per destination); "
     "by_emitter=TRUE gives diag(e) L Y.",
     Z=("matrix", "Intermediate flows, N x N (money)."),
     x=("vector", "Total output, N values (money)."),
     g=("vector", "Direct emissions by producing region-sector, N values."),
     Y=("matrix", "Final demand, N rows x one column per destination region (money)."),
     by_emitter=("flag", "Optional TRUE: N x columns matrix by emitting region-sector."))
def MRIO_FOOTPRINT(Z: np.ndarray, x: np.ndarray, g: np.ndarray, Y: np.ndarray,
                   by_emitter: bool = False):
    """Footprint by destination: row ``e'L Y`` (1×c), or ``ê L Y`` (N×c) when *by_emitter*."""
    Zm, xv, A = _model(Z, x)
    e = _intensity(_vector("g", g, xv.size), xv)
    Ym = _matrix("Y", Y)
    if Ym.shape[0] != xv.size:
        raise OptionError(f"Y has {Ym.shape[0]} rows but Z has {xv.size}")
    LY = _solver(A).solve(Ym)
    if _flag("by_emitter", by_emitter):
        return e[:, None] * LY
    return (e @ LY)[None, :]


@udf("Embodied-flow matrix F = diag(e) (L - I) diag(x): emissions of row k attributed to the "
     "purchases of column l (linkage strength, not total emissions).",
     Z=("matrix", "Intermediate flows, N x N (money)."),
     x=("vector", "Total output, N values (money)."),
     g=("vector", "Direct emissions by producing region-sector, N values."))
def MRIO_FLOWS(Z: np.ndarray, x: np.ndarray, g: np.ndarray):
    """Embodied flows ``F = ê (L − I) x̂`` (N×N, satellite unit)."""
    from ..core.flows import flow_matrix

    Zm, xv, A = _model(Z, x)
    e = _intensity(_vector("g", g, xv.size), xv)
    return flow_matrix(e, _solver(A).L, xv)


def _balance(method, Z0, u, v, tol, maxiter):
    Zm = _matrix("Z0", Z0)
    uv = _vector("u", u)
    vv = _vector("v", v)
    if uv.size != Zm.shape[0]:
        raise OptionError(f"u has {uv.size} entries but Z0 has {Zm.shape[0]} rows")
    if vv.size != Zm.shape[1]:
        raise OptionError(f"v has {vv.size} entries but Z0 has {Zm.shape[1]} columns")
    tol = _number("tol", tol, 1e-10)
    maxiter = _number("maxiter", maxiter, 10_000, integer=True)
    su, sv = uv.sum(), vv.sum()
    if abs(su - sv) > 1e-9 * max(np.abs(uv).sum(), np.abs(vv).sum()):
        raise OptionError(f"the row targets u sum to {su:.10g} but the column targets v to {sv:.10g}; "
                          "they must have the same total")
    labels = dict(row_labels=[str(k + 1) for k in range(Zm.shape[0])],
                  col_labels=[str(k + 1) for k in range(Zm.shape[1])])   # 1-based, as in the range
    return np.asarray(method(Zm, uv, vv, tol=tol, maxiter=maxiter, **labels).Z, dtype=float)


@udf("RAS: balance a non-negative prior Z0 to row totals u and column totals v.",
     Z0=("matrix", "Non-negative prior matrix."),
     u=("vector", "Row targets (one per row of Z0)."),
     v=("vector", "Column targets (one per column of Z0); sum(u) must equal sum(v)."),
     tol=("number", "Optional convergence tolerance (default 1E-10)."),
     maxiter=("integer", "Optional maximum iterations (default 10000)."))
def MRIO_RAS(Z0: np.ndarray, u: np.ndarray, v: np.ndarray, tol: float = 1e-10,
             maxiter: float = 10_000):
    """RAS-balanced matrix ``r̂ Z0 ŝ`` (xlmrio methods text, §5.4)."""
    from ..core.ras import ras

    return _balance(ras, Z0, u, v, tol, maxiter)


@udf("GRAS: balance a prior with positive and negative entries to row totals u and column totals v.",
     Z0=("matrix", "Prior matrix (signs are kept)."),
     u=("vector", "Row targets (one per row of Z0)."),
     v=("vector", "Column targets (one per column of Z0)."),
     tol=("number", "Optional convergence tolerance (default 1E-10)."),
     maxiter=("integer", "Optional maximum iterations (default 10000)."))
def MRIO_GRAS(Z0: np.ndarray, u: np.ndarray, v: np.ndarray, tol: float = 1e-10,
              maxiter: float = 10_000):
    """GRAS-balanced matrix (xlmrio methods text, §5.5)."""
    from ..core.ras import gras

    return _balance(gras, Z0, u, v, tol, maxiter)
