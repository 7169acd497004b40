"""Worksheet functions (UDFs) for the core methods, prefixed ``MRIO_``.

Each function takes worksheet ranges and returns an array that spills in Excel 365. Inputs are
read by xlwings as 2-D numpy arrays (empty cells become NaN, error cells their text such as
``#N/A``) and checked with whole-array operations; a bad argument is named with its 1-based row
and column.

Errors Excel can see: a failing function returns the one-cell text ``#XLMRIO! <message>``; the
add-in's VBA wrapper turns that text into ``#VALUE!`` (so ``SUM``, ``ISERROR`` and ``IFERROR``
behave), and :data:`ERRORS` keeps the message for the calling cell, which ``=MRIO_ERROR(cell)``
shows. Under xlwings Lite (Pyodide) the function raises :class:`UdfError` instead: Lite turns an
exception in a custom function into an error value in the cell and reports the message itself
(checked by hand, see docs/excel-smoke-test.md). Plain Python callers get the text.

Speed: ``I − A`` is factorised once per distinct ``A`` (content hash) and kept in a small LRU
cache (:data:`SOLVERS`), so ``MRIO_MULTIPLIERS`` and ``MRIO_FOOTPRINT`` on the same ranges share
one LU. Heavy functions are registered with xlwings' ``call_in_wizard=False``: the VBA wrapper
returns at once while the Function Arguments dialog is open (desktop Excel; no-op elsewhere).

The functions stay thin: the arithmetic lives in :mod:`xlmrio.core` (coefficients, Leontief
inverse, multipliers, flows) and :mod:`xlmrio.update` (RAS, GRAS).

Decorators: xlwings' real UDF decorators (``xlwings.udfs.xlfunc/xlarg``) are used when xlwings'
Windows UDF machinery imports; elsewhere ``xlwings.func/arg`` (no-ops outside Windows). Every UDF
also carries ``__xlmrio_udf__`` metadata (name, help, arguments) from which the add-in build writes
the VBA wrappers and function-wizard help, and :mod:`xlmrio.excel.lite` writes xlwings Lite code.
"""
from __future__ import annotations

import functools
import hashlib
import inspect
import sys
import threading
import time
from collections import OrderedDict
from typing import Any, Callable

import numpy as np
import xlwings as xw

from ..errors import OptionError, XlmrioError
from .layout import value_text

try:  # Windows with pywin32 (the tests stub the Windows modules to import this on Linux)
    from xlwings.udfs import xlarg as _arg, xlfunc as _func
except ImportError:  # macOS/Linux: xlwings' platform decorators (no-ops outside Windows)
    _arg, _func = xw.arg, xw.func

CATEGORY = "xlmrio"
ERROR_PREFIX = "#XLMRIO! "
MAX_ERROR_CHARS = 250

#: All worksheet functions, in definition order (filled by :func:`udf`).
UDFS: list[Callable] = []

#: Raise instead of returning the error text: xlwings Lite (Pyodide) turns an exception into an
#: error value in the cell; desktop Excel needs the text for its VBA wrapper.
RAISE_ERRORS = sys.platform == "emscripten"

# argument kinds -> xlwings conversion options (err_to_str: an error cell arrives as "#N/A"...,
# so it is reported as an error value, not as an empty cell)
_KINDS = {
    "matrix": {"convert": np.array, "ndim": 2, "err_to_str": True},
    "vector": {"convert": np.array, "ndim": 2, "err_to_str": True},
    "number": {"convert": float, "err_to_str": True},
    "integer": {"convert": float, "err_to_str": True},
    "flag": {"convert": bool, "err_to_str": True},
    "cell": {"convert": "range"},
}

#: Excel's error values, as xlwings reads them with ``err_to_str``.
EXCEL_ERRORS = frozenset({"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A",
                          "#GETTING_DATA", "#SPILL!", "#CALC!", "#FIELD!", "#BLOCKED!", "#CONNECT!",
                          "#BUSY!", "#UNKNOWN!"})


class UdfError(XlmrioError):
    """A worksheet function failed (raised under xlwings Lite; the message is for the user)."""


class ErrorValueArgument(OptionError):
    """An argument holds an Excel error value, e.g. the ``#VALUE!`` of a nested ``MRIO_`` call."""


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


# --------------------------------------------------------------------------------------------
# error messages per calling cell (for MRIO_ERROR)
# --------------------------------------------------------------------------------------------
def cell_key(rng: Any) -> str | None:
    """``[Book]Sheet!$A$1`` for an xlwings range (its top-left cell), ``None`` for anything else
    (no caller: plain Python, xlwings Lite, or a value instead of a reference)."""
    if rng is None or isinstance(rng, (str, bytes, int, float, np.ndarray, list, tuple)):
        return None
    try:
        sheet = rng.sheet
        return f"[{sheet.book.name}]{sheet.name}!{str(rng.address).split(':')[0]}"
    except Exception:  # noqa: BLE001 - no usable address: treat as "no cell"
        return None


class ErrorLog:
    """The last error message(s) of each calling cell; bounded, oldest cell dropped first.

    A nested formula such as ``=MRIO_LEONTIEF(MRIO_A(...))`` calls both functions for the same
    cell one right after the other; when the outer one fails only because its argument is the
    inner one's error value, both messages are kept (inner first). "Right after" means: the
    previous ``MRIO_`` call of the session was this cell's failing call, less than
    *nested_window* seconds ago.

    Parameters
    ----------
    max_cells : int
        Cells remembered.
    nested_window : float
        Seconds (see above).
    clock : callable
        Time source in seconds (tests pass a fake).
    """

    def __init__(self, max_cells: int = 1000, nested_window: float = 1.0,
                 clock: Callable[[], float] = time.monotonic):
        self.max_cells = max_cells
        self.nested_window = nested_window
        self.clock = clock
        self._cells: OrderedDict[str | None, tuple[int, float, list[str]]] = OrderedDict()
        self._seq = 0
        self._latest: str | None = None
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._cells)

    def begin(self) -> int:
        """Number a new call (a call that fails records this number)."""
        with self._lock:
            self._seq += 1
            return self._seq

    def record(self, key: str | None, message: str, seq: int, nested: bool = False) -> None:
        """Store *message* for the cell *key*; with *nested*, keep the messages of the call just
        before it in the same cell."""
        now = self.clock()
        with self._lock:
            prev = self._cells.pop(key, None)
            messages = [message]
            if nested and prev is not None and prev[0] == seq - 1 and now - prev[1] <= self.nested_window:
                messages = prev[2] + [m for m in messages if m not in prev[2]]
            self._cells[key] = (seq, now, messages)
            self._latest = key
            while len(self._cells) > self.max_cells:
                self._cells.popitem(last=False)

    def clear(self, key: str | None) -> None:
        """The cell computed without error: forget its message."""
        with self._lock:
            self._cells.pop(key, None)

    def message(self, key: str | None = None) -> str:
        """The message(s) of cell *key* (``""`` if none); without a key the most recent one,
        prefixed with its cell when known."""
        with self._lock:
            if key is None:
                key = self._latest
                entry = self._cells.get(key)
                if entry is None:
                    return ""
                text = " | then: ".join(entry[2])
                return f"{key}: {text}" if key else text
            entry = self._cells.get(key)
            return "" if entry is None else " | then: ".join(entry[2])


#: The session's error messages (read by ``MRIO_ERROR``).
ERRORS = ErrorLog()


# --------------------------------------------------------------------------------------------
# cached factorisations of I - A
# --------------------------------------------------------------------------------------------
def array_digest(a: np.ndarray) -> bytes:
    """Content key of an array: SHA-256 over shape, dtype and the C-ordered bytes.

    SHA-256 rather than blake2b: CPUs with SHA extensions hash at several hundred MB/s (a
    1000 x 1000 float array: 15 ms against blake2b's 39 ms on the 2-core test machine).
    """
    a = np.ascontiguousarray(a)
    h = hashlib.sha256()
    h.update(repr((a.shape, a.dtype.str)).encode())
    h.update(memoryview(a).cast("B"))
    return h.digest()


class SolverCache:
    """LRU cache of :class:`~xlmrio.core.leontief.LeontiefSolver` keyed by the content of ``A``.

    Parameters
    ----------
    max_entries : int
        Solvers kept.
    max_bytes : int
        Memory bound, counting each solver as 3 N×N float arrays (A, its LU, L once formed).
        A solver larger than this is returned but not kept.
    """

    def __init__(self, max_entries: int = 4, max_bytes: int = 256 * 2**20):
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._solvers: OrderedDict[bytes, Any] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    @staticmethod
    def _size(A: np.ndarray) -> int:
        return 3 * A.shape[0] * A.shape[0] * 8

    @property
    def nbytes(self) -> int:
        """Memory counted for the kept solvers (bytes)."""
        return sum(self._size(s.A) for s in self._solvers.values())

    def __len__(self) -> int:
        return len(self._solvers)

    def clear(self) -> None:
        with self._lock:
            self._solvers.clear()

    def get(self, A: np.ndarray):
        """The solver of ``I − A`` (factorised here on a miss; a non-productive ``A`` raises and is
        not kept)."""
        from ..core.leontief import LeontiefSolver

        key = array_digest(A)
        with self._lock:
            solver = self._solvers.get(key)
            if solver is not None:
                self._solvers.move_to_end(key)
                self.hits += 1
                return solver
        solver = LeontiefSolver(A, labels=[f"row {k + 1}" for k in range(A.shape[0])])
        with self._lock:
            self.misses += 1
            if self._size(A) <= self.max_bytes:
                self._solvers[key] = solver
                while len(self._solvers) > self.max_entries or self.nbytes > self.max_bytes:
                    self._solvers.popitem(last=False)
        return solver


#: The session's factorisations (shared by every MRIO_ function).
SOLVERS = SolverCache()


# --------------------------------------------------------------------------------------------
# registration
# --------------------------------------------------------------------------------------------
def udf(doc: str, *, heavy: bool = True, record_errors: bool = True, **args: tuple[str, str]):
    """Register a worksheet function.

    Parameters
    ----------
    doc : str
        One-line description (function wizard; ASCII).
    heavy : bool
        Skip the computation while the Function Arguments dialog is open (xlwings
        ``call_in_wizard=False``; desktop Excel only).
    record_errors : bool
        Failures are stored in :data:`ERRORS` for the calling cell, successes clear it.
    **args : (kind, help)
        Per argument: kind (``"matrix"``, ``"vector"``, ``"number"``, ``"integer"``, ``"flag"``,
        ``"cell"``) and a one-line help text (ASCII, at most 255 characters).

    Notes
    -----
    The registered function takes one more, hidden, last argument: xlwings' reserved ``caller``
    (the calling cell; the VBA wrapper passes ``Nothing`` and xlwings fills it in).
    """

    def deco(f: Callable) -> Callable:
        params = inspect.signature(f).parameters
        if list(params) != list(args):
            raise TypeError(f"{f.__name__}: help given for {list(args)}, signature has {list(params)}")
        n = len(params)

        @functools.wraps(f)
        def guarded(*a, **kw):
            if kw:  # Python callers may name arguments; xlwings passes all of them by position
                bound = guarded.__signature__.bind(*a, **kw)
                bound.apply_defaults()
                a = tuple(bound.arguments.values())
            user, caller = a[:n], (a[n] if len(a) > n else None)
            seq = ERRORS.begin()
            try:
                result = f(*user)
            except Exception as exc:  # noqa: BLE001 - a cell shows an error, never a traceback
                text = error_text(exc)
                if record_errors:
                    ERRORS.record(cell_key(caller), text[len(ERROR_PREFIX):], seq,
                                  nested=isinstance(exc, ErrorValueArgument))
                if RAISE_ERRORS:
                    raise UdfError(text[len(ERROR_PREFIX):]) from None
                return text
            if record_errors and len(ERRORS):
                ERRORS.clear(cell_key(caller))
            return result

        guarded.__signature__ = inspect.Signature(
            [*params.values(), inspect.Parameter("caller", inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                                 default=None)])
        g = _arg("caller", doc="The calling cell (xlwings fills it in; not shown in Excel).")(guarded)
        for name, (kind, help_) in args.items():
            g = _arg(name, doc=help_, **_KINDS[kind])(g)
        g = _func(category=CATEGORY, call_in_wizard=not heavy)(g)
        g.__xlmrio_udf__ = {
            "name": f.__name__,
            "doc": doc,
            "category": CATEGORY,
            "call_in_wizard": not heavy,
            "caller": True,
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
def _where(i: int, j: int) -> str:
    return f"row {i + 1}, column {j + 1}"


def _cell_float(name: str, v: Any, i: int, j: int) -> float:
    """One cell as a float, or the error naming it (used only on rows that fail the fast path)."""
    if isinstance(v, (bool, np.bool_)):
        raise OptionError(f"{name} has a non-numeric cell at {_where(i, j)}")
    if v is None or (isinstance(v, str) and not v.strip()):
        raise OptionError(f"{name} has an empty cell at {_where(i, j)}")
    if isinstance(v, str):
        t = v.strip()
        if t.startswith(ERROR_PREFIX.strip()):
            raise OptionError(f"{name} is the error of a nested MRIO_ function: "
                              f"{t[len(ERROR_PREFIX):].strip()}")
        if t.upper() in EXCEL_ERRORS:
            raise ErrorValueArgument(f"{name} has the error value {t.upper()} at {_where(i, j)}")
    try:
        f = float(v)
    except (TypeError, ValueError):
        raise OptionError(f"{name} has a non-numeric cell at {_where(i, j)}") from None
    if not np.isfinite(f):
        raise OptionError(f"{name} has {'an empty' if np.isnan(f) else 'an infinite'} cell at {_where(i, j)}")
    return f


def _check_finite(name: str, out: np.ndarray) -> None:
    """Raise naming the first (row-major) empty (NaN) or infinite cell of *out*."""
    bad = ~np.isfinite(out)
    if bad.any():
        i, j = np.unravel_index(int(np.argmax(bad)), bad.shape)
        what = "an empty" if np.isnan(out[i, j]) else "an infinite"
        raise OptionError(f"{name} has {what} cell at {_where(i, j)}")


_NUMBER_TYPES = ("floating", "integer", "mixed-integer-float")


def _parse_cells(name: str, arr: np.ndarray) -> np.ndarray:
    """Text or object cells as floats.

    Object cells that are all numbers (pandas' type inference, one C pass) convert in one numpy
    call. Otherwise each row converts in one numpy call, and only the first row that fails is
    looked at cell by cell, to name its first bad cell (text is parsed once, at numpy's speed).
    """
    from pandas.api.types import infer_dtype

    if arr.dtype.kind == "O":
        if infer_dtype(arr.ravel(), skipna=False) in _NUMBER_TYPES:
            return arr.astype(float)
    out = np.empty(arr.shape, dtype=float)
    for i, row in enumerate(arr):
        try:
            if row.dtype.kind == "O" and infer_dtype(row, skipna=False) not in _NUMBER_TYPES:
                raise ValueError  # None/bool would pass astype; text gets the cell-wise checks
            out[i] = row.astype(float)
        except (TypeError, ValueError):
            _check_finite(name, out[:i])  # an empty cell in an earlier row comes first
            for j, v in enumerate(row):
                out[i, j] = _cell_float(name, v, i, j)
    return out


def _matrix(name: str, value: Any) -> np.ndarray:
    """A range as a finite float matrix (a row or column range gives 1×n or n×1).

    Numeric ranges are checked with whole-array operations; the first bad cell (row-major) is
    named: empty, non-numeric (text, TRUE/FALSE), an Excel error value, or infinite.
    """
    if value is None:
        raise OptionError(f"{name} is missing")
    try:
        arr = np.asarray(value)
    except ValueError:  # ragged nested lists
        raise OptionError(f"{name} must be a range (rows x columns)") from None
    if arr.ndim > 2:
        raise OptionError(f"{name} must be a range (rows x columns)")
    arr = arr.reshape((1,) * (2 - arr.ndim) + arr.shape)
    if arr.dtype.kind in "fiu":
        out = arr.astype(float)
    elif arr.dtype.kind == "b":
        raise OptionError(f"{name} has a non-numeric cell at {_where(0, 0)}")
    else:
        out = _parse_cells(name, arr)
    _check_finite(name, out)
    return out


def _scalar_error(name: str, value: Any) -> None:
    """Raise if a one-cell argument is an Excel error value (e.g. a nested function's #VALUE!)."""
    if isinstance(value, str) and value.strip().upper() in EXCEL_ERRORS:
        raise ErrorValueArgument(f"{name} is the error value {value.strip().upper()}")
    if isinstance(value, str) and value.strip().startswith(ERROR_PREFIX.strip()):
        raise OptionError(f"{name} is the error of a nested MRIO_ function: "
                          f"{value.strip()[len(ERROR_PREFIX):].strip()}")


def _number(name: str, value: Any, default: float, *, integer: bool = False, positive: bool = True) -> float:
    """A scalar argument (empty = *default*); text, fractions where an integer is needed and
    non-positive values are errors naming the argument."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return default
    _scalar_error(name, value)
    try:
        val = float(value) if not isinstance(value, bool) else float("nan")
    except (TypeError, ValueError):
        raise OptionError(f"{name} must be a number, not {value_text(value)}") from None
    if not np.isfinite(val) or (integer and val != round(val)) or (positive and val <= 0):
        what = "a whole number" if integer else "a number"
        raise OptionError(f"{name} must be {what}{' above 0' if positive else ''}, not {value_text(value)}")
    return int(val) if integer else val


def _flag(name: str, value: Any) -> bool:
    """TRUE/FALSE (or 1/0, or the texts TRUE/FALSE); anything else is an error naming the argument."""
    if value is None or isinstance(value, (bool, np.bool_)):
        return bool(value)
    _scalar_error(name, value)
    if isinstance(value, str) and value.strip().upper() in ("TRUE", "FALSE"):
        return value.strip().upper() == "TRUE"
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    raise OptionError(f"{name} must be TRUE or FALSE, not {value_text(value)}")


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
    neg = Z < 0
    if neg.any():
        i, j = np.unravel_index(int(np.argmax(neg)), neg.shape)
        raise OptionError(f"{zname} is negative at row {i + 1}, column {j + 1}")
    if (x < 0).any():
        raise OptionError(f"x is negative in column {int(np.argmax(x < 0)) + 1}")
    orphan = (x == 0) & (Z != 0).any(axis=0)
    if orphan.any():
        raise OptionError(f"x is 0 in column {int(np.argmax(orphan)) + 1} but {zname} has inputs there")


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
    """The (cached) factorisation of ``I − A``."""
    return SOLVERS.get(A)


# --------------------------------------------------------------------------------------------
# the worksheet functions
# --------------------------------------------------------------------------------------------
@udf("Technical coefficients A = Z diag(x)^-1 (a_kl = z_kl / x_l; 0 where x_l = 0).", heavy=False,
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
    return _solver(Am).L.copy()  # the cached solver keeps its own L


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


@udf("The message behind an MRIO_ function's #VALUE! error in a cell (empty text if it has none).",
     heavy=False, record_errors=False,
     cell=("cell", "The cell holding the MRIO_ formula (top-left cell of its spill); omitted: the "
                   "most recent MRIO_ error message, with its cell."))
def MRIO_ERROR(cell: Any = None):
    """Text of the last error of an ``MRIO_`` formula in *cell* (``""`` when it has none)."""
    return ERRORS.message(cell_key(cell))
