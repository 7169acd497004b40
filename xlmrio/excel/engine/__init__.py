"""An xlwings engine on top of openpyxl: ``xw.Book("file.xlsx")`` without Excel (Linux, CI, CLI).

Activate it once, then use the ordinary xlwings API::

    from xlmrio.excel import engine
    engine.use()                      # registers "openpyxl" in xw.engines and makes it active
    book = xw.Book("table.xlsx")      # or xw.Book() for a new book with one sheet "Sheet1"
    book.sheets[0]["A1"].options(pd.DataFrame, index=2, header=2).value
    book.save()                       # atomic: temp file in the same folder + os.replace

Semantics follow desktop Excel as xlwings reports it:

* numbers read back as ``float``; empty cells as ``None``; dates as ``datetime``.
* error cells (``#N/A``, ``#DIV/0!``...) read as ``None`` by default, like Excel on Windows;
  with ``.options(err_to_str=True)`` they read as the error text (a :class:`CellError`, a
  ``str`` subclass). ``raw_value`` always gives :class:`CellError` objects.
* a formula cell reads as its cached result from the file; a file written by openpyxl has
  none, so ``.value`` is ``None`` while ``.formula`` holds the text. The engine never
  recalculates; every save sets "full calculation on load" so Excel/LibreOffice recompute.
* writing ``None``/``""`` empties a cell, ``"=..."`` writes a formula, ``nan`` writes an empty
  cell and ``±inf`` writes ``#NUM!`` (Excel cannot store infinities).

* column widths are in the file's units (openpyxl's ``width``, which includes Excel's 5-pixel
  padding: Excel displays the default 9.140625 as 8.43); row heights in points.
* charts: ``sheet.charts.add(...)``, ``chart.chart_type`` (see :data:`CHART_KINDS`),
  ``chart.set_source_data(rng)`` (first column = categories, first row = series names, series
  along the longer side, as Excel reads a simple block), ``chart.title`` (xlwings' public API),
  ``chart.name`` (kept in memory only: openpyxl always writes "Chart N").
* drop-down lists: ``rng.data_validation.set_list([...])`` or :func:`add_list_validation`.
* ``Book.api`` / ``Sheet.api`` are the openpyxl ``Workbook`` / ``Worksheet``; ``Range.api`` is
  the engine's range (``.ws``, ``.bounds``); ``Chart.api`` the openpyxl chart.

Large files: opening parses the workbook (names, styles, print titles...) but leaves every worksheet
unparsed until something needs more than its values. Values (``.value``, ``used_range``, ``end``,
merges) come straight from the file, through python-calamine when installed (``xlmrio[fast]``), else
through openpyxl's streaming parser; writing, formatting, formulas, notes or ``sheet.api`` parse the
sheet into openpyxl cells first. Saving copies the untouched sheets' zip members (and their drawings,
comments, shared strings) byte for byte; only new or changed sheets are serialised by openpyxl.

Limits: no VBA execution (``.xlsm`` projects are preserved), no recalculation, no PDF/PNG
export, no borders/conditional formats/tables/pictures; saving keeps the cached results of formulas
read from the file (put back into the XML openpyxl writes) but formulas written in the session have
none until Excel/LibreOffice recalculates. Saving writes floats exactly (``repr``; openpyxl alone
rounds to 16 digits). Bulk reads/writes suspend the cyclic garbage collector (2x faster).
"""
from __future__ import annotations

from typing import Iterable

import xlwings as xw

from ._core import App, Apps, Book, Books, Engine, Sheet, Sheets, engine
from ._chart import CHART_KINDS, Chart, Charts
from ._names import Name, Names
from ._range import DataValidation, Font, Note, Range
from ._util import CellError

__all__ = ["use", "is_active", "add_list_validation", "engine", "Engine", "Apps", "App", "Books", "Book",
           "Sheets", "Sheet", "Range", "Font", "Note", "DataValidation", "Names", "Name", "Charts", "Chart",
           "CHART_KINDS", "CellError", "ENGINE_NAME"]

#: Name of the engine in ``xw.engines``.
ENGINE_NAME = "openpyxl"


def use() -> xw.Engine:
    """Register the openpyxl engine with xlwings (once) and make it the active engine.

    Returns
    -------
    xlwings.Engine
        The active engine; ``xw.Book(...)``, ``xw.books``, ``xw.apps`` now go through openpyxl.
    """
    if ENGINE_NAME not in [e.name for e in xw.engines]:
        xw.engines.add(xw.Engine(impl=engine))
    active = xw.engines[ENGINE_NAME]
    active.activate()
    return active


def is_active() -> bool:
    """Whether the openpyxl engine is xlwings' active engine."""
    return xw.engines.active is not None and xw.engines.active.name == ENGINE_NAME


def add_list_validation(sheet: xw.Sheet, address: str, choices: Iterable | xw.Range, *,
                        in_cell_dropdown: bool = True) -> bool:
    """Give the cells at ``address`` a drop-down list of ``choices`` (a settings sheet helper).

    Uses xlwings' public ``Range.data_validation.set_list`` (xlwings >= 0.37.5), which this
    engine and desktop Excel implement. Literal choices must not contain ``,`` or ``;`` and
    must total at most 255 characters; otherwise pass a one-column ``xw.Range`` holding them.

    Parameters
    ----------
    sheet : xlwings.Sheet
        Sheet holding the cells.
    address : str
        A1 address of the cells, e.g. ``"B3"`` or ``"B3:B10"``.
    choices : iterable of str/number/bool, or xlwings.Range
        The allowed values.
    in_cell_dropdown : bool
        Show the drop-down arrow (default).

    Returns
    -------
    bool
        ``True`` if the validation was set, ``False`` if the active engine cannot do it (no-op).
    """
    rng = sheet.range(address)
    source = choices if isinstance(choices, xw.Range) else list(choices)
    try:
        rng.data_validation.set_list(source, in_cell_dropdown=in_cell_dropdown)
    except NotImplementedError:
        return False
    return True
