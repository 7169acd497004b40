"""The one errors module: every failure xlmrio reports on purpose is an :class:`XlmrioError`.

Front ends (CLI, ribbon, UDFs) catch ``XlmrioError`` and show ``str(err)`` — one readable
sentence naming the place (labels, sheet and cell) and the problem — never a traceback.
"""
from __future__ import annotations


class XlmrioError(Exception):
    """Base class of every error xlmrio raises on purpose."""


class TableError(XlmrioError):
    """A table is structurally wrong: shapes, labels, NaN/inf, negative Z, orphan emissions.

    ``report`` (optional) is the :class:`xlmrio.core.table.ValidationReport` that found it.
    """

    def __init__(self, message: str, report=None):
        super().__init__(message)
        self.report = report


class LabelError(TableError):
    """Labels are missing, duplicated, or differ between tables that must share them."""


class ShapeError(TableError):
    """Blocks have inconsistent shapes."""


class NonFiniteError(TableError):
    """NaN or infinite values in a block."""


class NegativeFlowError(TableError):
    """Negative intermediate flows (Z must be non-negative)."""


class OrphanEmissionsError(TableError):
    """Emissions recorded for a region-sector with zero total output."""


class NonProductiveError(TableError):
    """I - A is singular or its inverse has negative entries (the Leontief model does not exist)."""


class BalanceError(TableError):
    """Row and column totals do not match within the tolerance."""


class OptionError(XlmrioError):
    """An option has an invalid value or an unknown satellite/region/sector was named."""


class ConvergenceError(XlmrioError):
    """An iterative method (RAS, GRAS) did not converge; ``eps`` is the last residual."""

    def __init__(self, message: str, eps: float | None = None, iterations: int | None = None):
        super().__init__(message)
        self.eps = eps
        self.iterations = iterations


class InfeasibleError(XlmrioError):
    """An update problem has no solution; ``conflicts`` names the constraint items that conflict."""

    def __init__(self, message: str, conflicts=None):
        super().__init__(message)
        self.conflicts = list(conflicts or [])


class SolverError(XlmrioError):
    """The LP solver failed for a reason other than infeasibility."""


class DataNotFoundError(XlmrioError):
    """A raw data file (for example ``../shared/data``) is not available."""


class WorkbookError(XlmrioError):
    """A problem in a workbook, reported with its place: ``'Sheet'!B7: what is wrong``."""

    def __init__(self, message: str, sheet: str | None = None, cell: str | None = None):
        self.sheet = sheet
        self.cell = cell
        self.problem = message
        if sheet is not None:
            where = f"'{sheet}'!{cell}" if cell else f"sheet '{sheet}'"
            message = f"{where}: {message}"
        super().__init__(message)


class SchedulerError(XlmrioError):
    """A Dask scheduler named for a parallel run cannot be reached (the message names its address)."""
