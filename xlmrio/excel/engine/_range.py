"""The ``Range`` implementation of the openpyxl engine (values, formulas, formats, merges...)."""
from __future__ import annotations

import datetime as dt
import itertools
import math
import re
from copy import copy
from numbers import Real

from openpyxl.cell.cell import Cell, MergedCell
from openpyxl.comments import Comment
from openpyxl.formula.translate import Translator
from openpyxl.styles import Alignment, PatternFill
from openpyxl.styles.cell_style import StyleArray
from openpyxl.styles.colors import Color
from openpyxl.styles.numbers import BUILTIN_FORMATS, BUILTIN_FORMATS_MAX_SIZE, BUILTIN_FORMATS_REVERSE
from openpyxl.utils.cell import get_column_letter
from openpyxl.utils.datetime import to_excel
from openpyxl.worksheet.cell_range import CellRange
from openpyxl.utils.exceptions import IllegalCharacterError
from openpyxl.worksheet.datavalidation import DataValidation as _OpxlValidation
from openpyxl.worksheet.formula import ArrayFormula, DataTableFormula
from xlwings import base_classes

from ...errors import WorkbookError
from ._bulk import BULK_MIN_CELLS, Bulk, plain_block
from ._util import (
    MAX_COLUMNS,
    MAX_ROWS,
    CellError,
    default_col_width,
    a1,
    chars_to_points,
    column_dimension,
    column_left_points,
    column_width_chars,
    from_color,
    no_gc,
    quote_sheet,
    rect_difference,
    row_height_points,
    row_top_points,
    to_argb,
)

#: Largest block materialised by a value read (Excel itself cannot hand out much more).
MAX_READ_CELLS = 50_000_000
#: Ranges above this many cells only touch existing cells when formatting (no new cells).
MAX_FORMAT_CREATE = 5_000_000

_FONT, _FILL, _NUMFMT, _ALIGN = 0, 1, 3, 5
_H_ALIGN = {"center_across_selection": "centerContinuous"}
_H_ALIGN_BACK = {v: k for k, v in _H_ALIGN.items()}
_DV_TYPES = {"whole_number": "whole", "decimal": "decimal", "list": "list", "date": "date",
             "time": "time", "text_length": "textLength", "custom": "custom"}
_DV_TYPES_BACK = {v: k for k, v in _DV_TYPES.items()}
_DV_OPS = {"between": "between", "not_between": "notBetween", "equal_to": "equal",
           "not_equal_to": "notEqual", "greater_than": "greaterThan", "less_than": "lessThan",
           "greater_than_or_equal": "greaterThanOrEqual", "less_than_or_equal": "lessThanOrEqual"}
_DV_OPS_BACK = {v: k for k, v in _DV_OPS.items()}
_MIXED = object()


class Rows(list):
    """A 2-D value block with flags that let ``Engine.clean_value_data`` skip its per-cell pass."""

    __slots__ = ("has_errors", "has_dates", "has_empty")


def _excel_number_text(v: float) -> str:
    if not math.isfinite(v):
        return str(v)
    if v == int(v) and abs(v) < 1e15:
        return str(int(v))
    return repr(float(v))


class Range(base_classes.Range):
    """A rectangular block ``(r1, c1)``-``(r2, c2)`` (1-based, inclusive) of a worksheet.

    ``api`` is the range itself; ``.ws`` gives the openpyxl worksheet and ``.bounds`` the block.
    """

    def __init__(self, sheet, r1: int, c1: int, r2: int | None = None, c2: int | None = None):
        self.sheet = sheet
        r2 = r1 if r2 is None else r2
        c2 = c1 if c2 is None else c2
        if not (1 <= r1 <= r2 <= MAX_ROWS and 1 <= c1 <= c2 <= MAX_COLUMNS):
            raise ValueError(f"range rows {r1}..{r2}, columns {c1}..{c2} lie outside the worksheet")
        self.r1, self.c1, self.r2, self.c2 = r1, c1, r2, c2
        self.options = {}  # assigned by xlwings.main.Range

    # ------------------------------------------------------------------ identity
    @property
    def ws(self):
        """The openpyxl worksheet, with any large block this range meets turned into cells (``_bulk``)."""
        book = self.sheet.book
        if book._bulks:
            book._unbulk(self.sheet._ws, self.bounds)
        return self.sheet.ws

    @property
    def _geometry_ws(self):
        """The worksheet for column/row dimensions and the workbook's style tables (no cells touched)."""
        return self.sheet.ws

    @property
    def book(self):
        return self.sheet.book

    @property
    def bounds(self) -> tuple[int, int, int, int]:
        return self.r1, self.c1, self.r2, self.c2

    @property
    def api(self):
        return self

    @property
    def coords(self):
        return self.sheet.name, self.r1, self.c1, self.r2 - self.r1 + 1, self.c2 - self.c1 + 1

    @property
    def row(self) -> int:
        return self.r1

    @property
    def column(self) -> int:
        return self.c1

    @property
    def shape(self) -> tuple[int, int]:
        return self.r2 - self.r1 + 1, self.c2 - self.c1 + 1

    def __len__(self) -> int:
        nr, nc = self.shape
        return nr * nc

    def __call__(self, arg1, arg2=None):
        if arg2 is None:
            ncols = self.shape[1]
            col = (arg1 - 1) % ncols
            row = (arg1 - 1 - col) // ncols
            return Range(self.sheet, self.r1 + row, self.c1 + col)
        return Range(self.sheet, self.r1 + arg1 - 1, self.c1 + arg2 - 1)

    @property
    def max_cells_per_read(self):
        return None  # no implicit chunking: the whole block is one Python loop anyway

    @property
    def max_cells_per_write(self):
        return None

    @property
    def _full_columns(self) -> bool:
        return self.r1 == 1 and self.r2 == MAX_ROWS

    @property
    def _full_rows(self) -> bool:
        return self.c1 == 1 and self.c2 == MAX_COLUMNS

    # ------------------------------------------------------------------ cell iteration
    def _existing_cells(self):
        """Existing openpyxl cells of the block (row-major for the dense case)."""
        cells = self.ws._cells
        r1, c1, r2, c2 = self.bounds
        if len(self) > len(cells):
            for (r, c), cell in list(cells.items()):
                if r1 <= r <= r2 and c1 <= c <= c2:
                    yield cell
        else:
            get = cells.get
            for r in range(r1, r2 + 1):
                for c in range(c1, c2 + 1):
                    cell = get((r, c))
                    if cell is not None:
                        yield cell

    def _cells(self, create: bool = True):
        """Cells of the block, created where missing (unless the block is huge)."""
        if not create or len(self) > MAX_FORMAT_CREATE or self._full_columns or self._full_rows:
            yield from self._existing_cells()
            return
        ws = self.ws
        cells = ws._cells
        get = cells.get
        for r in range(self.r1, self.r2 + 1):
            for c in range(self.c1, self.c2 + 1):
                cell = get((r, c))
                if cell is None:
                    cell = Cell(ws, row=r, column=c)
                    cells[(r, c)] = cell
                yield cell

    def _style_ids(self, index: int) -> set[int]:
        ids = set()
        n = 0
        for cell in self._existing_cells():
            st = cell._style
            ids.add(st[index] if st is not None else 0)
            n += 1
        if n < len(self):
            # empty cells show their column's (or row's) style, else the default
            ws = self.ws
            if self._full_columns and not self._full_rows:
                dims = [column_dimension(ws, c) for c in range(self.c1, self.c2 + 1)]
            elif self._full_rows and not self._full_columns:
                dims = [ws.row_dimensions.get(r) for r in range(self.r1, self.r2 + 1)]
            else:
                dims = [None]
            for d in dims:
                st = getattr(d, "_style", None)
                ids.add(st[index] if st is not None else 0)
        return ids

    def _dimensions(self):
        """Column/row dimensions styled along with whole-column/whole-row blocks (as Excel does)."""
        ws = self.ws
        if self._full_columns and not self._full_rows:
            return [_own_column_dimension(ws, c) for c in range(self.c1, self.c2 + 1)]
        if self._full_rows and not self._full_columns:
            return [ws.row_dimensions[r] for r in range(self.r1, self.r2 + 1)]
        return []

    def _restyle_bulks(self, index: int, component, rest) -> bool:
        """Restyle the large blocks this range meets through their style ids and the rest of the range
        by ``rest(piece)``; False when there is no such block (or the range is whole rows/columns)."""
        book = self.sheet.book
        bulks = [b for b in book._bulks.get(self.sheet._ws, ()) if b.intersects(self.bounds)]
        if not bulks or self._full_columns or self._full_rows:
            return False
        pieces = [self.bounds]
        for b in bulks:
            b.restyle(self.bounds, index, component)
            pieces = [p for q in pieces for p in rect_difference(q, b.rect)]
        for p in pieces:
            rest(Range(self.sheet, *p))
        return True

    def _restyle(self, index: int, collection, transform) -> None:
        cache: dict[int, int] = {}

        def component(old: int) -> int:
            new = cache.get(old)
            if new is None:
                new = cache[old] = collection.add(transform(collection[old]))
            return new

        if self._restyle_bulks(index, component, lambda piece: piece._restyle(index, collection, transform)):
            return
        with no_gc():
            for cell in itertools.chain(self._cells(), self._dimensions()):
                st = cell._style
                if st is None:
                    st = cell._style = StyleArray()
                old = st[index]
                new = cache.get(old)
                if new is None:
                    new = collection.add(transform(collection[old]))
                    cache[old] = new
                st[index] = new

    # ------------------------------------------------------------------ values
    @property
    def raw_value(self):
        nr, nc = self.shape
        if nr * nc > MAX_READ_CELLS:
            raise ValueError(
                f"refusing to read {nr}x{nc} cells at once; read sheet.used_range or a smaller block")
        rows = read_block(self.sheet, self.r1, self.c1, self.r2, self.c2)
        if nr == 1 and nc == 1:
            return rows[0][0]
        return rows

    @raw_value.setter
    def raw_value(self, data):
        if isinstance(data, (list, tuple)):
            if len(data) == 0:
                return
            if not isinstance(data[0], (list, tuple)):
                data = [data]
            write_block(self.sheet, self.r1, self.c1, data)
        else:
            nr, nc = self.shape
            if nr * nc > MAX_FORMAT_CREATE:
                raise ValueError(f"refusing to fill {nr}x{nc} cells with one value")
            write_block(self.sheet, self.r1, self.c1, [[data] * nc for _ in range(nr)])

    def clear_contents(self) -> None:
        cells = self.ws._cells
        with no_gc():
            for cell in list(self._existing_cells()):
                if type(cell) is MergedCell:
                    continue
                cell._value = None
                cell.data_type = "n"
                if not cell.has_style and cell._comment is None and cell._hyperlink is None:
                    del cells[(cell.row, cell.column)]

    def clear_formats(self) -> None:
        with no_gc():
            for cell in self._existing_cells():
                cell._style = StyleArray()
        self.unmerge()

    def clear(self) -> None:
        cells = self.ws._cells
        self.unmerge()
        with no_gc():
            for cell in list(self._existing_cells()):
                del cells[(cell.row, cell.column)]

    @property
    def has_array(self) -> bool:
        cell = self.ws._cells.get((self.r1, self.c1))
        return cell is not None and isinstance(cell._value, ArrayFormula)

    # ------------------------------------------------------------------ navigation
    def _filled(self, r: int, c: int) -> bool:
        self.book._unbulk(self.sheet._ws)
        vals = self.book._sheet_values(self.sheet._ws)
        if vals is not None:
            return vals.get(r, c) is not None
        cell = self.ws._cells.get((r, c))
        return cell is not None and cell._value is not None

    def end(self, direction: str):
        """Excel's Ctrl+arrow: to the edge of the current block, or to the next filled cell."""
        steps = {"down": (1, 0), "d": (1, 0), "up": (-1, 0), "u": (-1, 0),
                 "right": (0, 1), "r": (0, 1), "left": (0, -1), "l": (0, -1)}
        try:
            dr, dc = steps[direction.lower()]
        except KeyError:
            raise ValueError(f"invalid direction {direction!r}: use 'up', 'down', 'left' or 'right'") from None
        self.book._unbulk(self.sheet._ws)
        filled = self._filled
        r, c = self.r1, self.c1
        limit_r = MAX_ROWS if dr > 0 else 1
        limit_c = MAX_COLUMNS if dc > 0 else 1
        if (dr and r == limit_r) or (dc and c == limit_c):
            return Range(self.sheet, r, c)
        if filled(r, c) and filled(r + dr, c + dc):
            while not ((dr and r == limit_r) or (dc and c == limit_c)) and filled(r + dr, c + dc):
                r, c = r + dr, c + dc
            return Range(self.sheet, r, c)
        # jump over the gap to the next filled cell (or to the sheet's edge)
        vals = self.book._sheet_values(self.sheet._ws)
        if vals is not None:
            if dr:
                ahead = [i + 1 for i, row in enumerate(vals.rows) if (i + 1 - r) * dr > 0
                         and c <= len(row) and row[c - 1] is not None]
                target = (min(ahead) if dr > 0 else max(ahead)) if ahead else limit_r
                return Range(self.sheet, target, c)
            row = vals.rows[r - 1] if r <= len(vals.rows) else []
            ahead = [j + 1 for j, v in enumerate(row) if (j + 1 - c) * dc > 0 and v is not None]
            target = (min(ahead) if dc > 0 else max(ahead)) if ahead else limit_c
            return Range(self.sheet, r, target)
        cells = self.ws._cells
        if dr:
            ahead = [k[0] for k, cell in cells.items() if k[1] == c and (k[0] - r) * dr > 0
                     and cell._value is not None]
            target = (min(ahead) if dr > 0 else max(ahead)) if ahead else limit_r
            return Range(self.sheet, target, c)
        ahead = [k[1] for k, cell in cells.items() if k[0] == r and (k[1] - c) * dc > 0
                 and cell._value is not None]
        target = (min(ahead) if dc > 0 else max(ahead)) if ahead else limit_c
        return Range(self.sheet, r, target)

    @property
    def current_region(self):
        """The block around the cell bounded by empty rows and columns (Excel's CurrentRegion)."""
        filled = self._filled
        r1, c1, r2, c2 = self.r1, self.c1, self.r1, self.c1
        grown = True
        while grown:
            grown = False
            lo_c, hi_c = max(c1 - 1, 1), min(c2 + 1, MAX_COLUMNS)
            lo_r, hi_r = max(r1 - 1, 1), min(r2 + 1, MAX_ROWS)
            if r1 > 1 and any(filled(r1 - 1, c) for c in range(lo_c, hi_c + 1)):
                r1, grown = r1 - 1, True
            if r2 < MAX_ROWS and any(filled(r2 + 1, c) for c in range(lo_c, hi_c + 1)):
                r2, grown = r2 + 1, True
            if c1 > 1 and any(filled(r, c1 - 1) for r in range(lo_r, hi_r + 1)):
                c1, grown = c1 - 1, True
            if c2 < MAX_COLUMNS and any(filled(r, c2 + 1) for r in range(lo_r, hi_r + 1)):
                c2, grown = c2 + 1, True
        if (r1, c1, r2, c2) == (self.r1, self.c1, self.r1, self.c1) and not filled(r1, c1):
            return Range(self.sheet, r1, c1)
        return Range(self.sheet, r1, c1, r2, c2)

    # ------------------------------------------------------------------ formulas
    @property
    def formula(self):
        ws = self.ws
        get = ws._cells.get

        def text(r, c):
            cell = get((r, c))
            if cell is None or cell._value is None:
                return ""
            v = cell._value
            if isinstance(v, ArrayFormula):
                return v.text or ""
            if isinstance(v, DataTableFormula):
                return ""
            if isinstance(v, bool):
                return "TRUE" if v else "FALSE"
            if isinstance(v, Real):
                return _excel_number_text(v)
            if isinstance(v, (dt.datetime, dt.date, dt.time, dt.timedelta)):
                return _excel_number_text(to_excel(v))
            return str(v)

        if self.shape == (1, 1):
            return text(self.r1, self.c1)
        return tuple(tuple(text(r, c) for c in range(self.c1, self.c2 + 1))
                     for r in range(self.r1, self.r2 + 1))

    @formula.setter
    def formula(self, value):
        if isinstance(value, (list, tuple)):
            if value and not isinstance(value[0], (list, tuple)):
                value = [value]
            data = [[_formula_constant(v) for v in row] for row in value]
        else:
            v = _formula_constant(value)
            if isinstance(v, str) and v.startswith("=") and len(v) > 1:
                origin = f"{get_column_letter(self.c1)}{self.r1}"
                data = [[Translator(v, origin=origin).translate_formula(f"{get_column_letter(c)}{r}")
                         for c in range(self.c1, self.c2 + 1)] for r in range(self.r1, self.r2 + 1)]
            else:
                data = [[v] * self.shape[1] for _ in range(self.shape[0])]
        write_block(self.sheet, self.r1, self.c1, data)

    formula2 = formula

    @property
    def formula_array(self):
        cell = self.ws._cells.get((self.r1, self.c1))
        if cell is not None and isinstance(cell._value, ArrayFormula):
            return cell._value.text
        return None

    @formula_array.setter
    def formula_array(self, value):
        text = value if str(value).startswith("=") else f"={value}"
        ref = a1(*self.bounds, row_absolute=False, col_absolute=False)
        self.clear_contents()
        ws = self.ws
        cell = ws._cells.get((self.r1, self.c1))
        if cell is None:
            cell = ws._cells[(self.r1, self.c1)] = Cell(ws, row=self.r1, column=self.c1)
        cell.value = ArrayFormula(ref, text)
        self.book._stale(ws).add((self.r1, self.c1))

    # ------------------------------------------------------------------ formats
    @property
    def font(self):
        return Font(self)

    @property
    def number_format(self):
        ids = self._style_ids(_NUMFMT)
        if len(ids) != 1:
            return None
        idx = ids.pop()
        if idx < BUILTIN_FORMATS_MAX_SIZE:
            return BUILTIN_FORMATS.get(idx, "General")
        return self._geometry_ws.parent._number_formats[idx - BUILTIN_FORMATS_MAX_SIZE]

    @number_format.setter
    def number_format(self, value):
        value = "General" if value is None else str(value)
        wb = self._geometry_ws.parent
        if value in BUILTIN_FORMATS_REVERSE:
            idx = BUILTIN_FORMATS_REVERSE[value]
        else:
            idx = wb._number_formats.add(value) + BUILTIN_FORMATS_MAX_SIZE
        if self._restyle_bulks(_NUMFMT, lambda old: idx, lambda piece: setattr(piece, "number_format", value)):
            return
        with no_gc():
            for cell in itertools.chain(self._cells(), self._dimensions()):
                st = cell._style
                if st is None:
                    st = cell._style = StyleArray()
                st[_NUMFMT] = idx

    @property
    def color(self):
        ids = self._style_ids(_FILL)
        if len(ids) != 1:
            return None
        fill = self._geometry_ws.parent._fills[ids.pop()]
        if getattr(fill, "fill_type", None) != "solid":
            return None
        return from_color(fill.fgColor)

    @color.setter
    def color(self, color_or_rgb):
        if color_or_rgb is None:
            fill = PatternFill()
        else:
            argb = to_argb(color_or_rgb)
            fill = PatternFill(fill_type="solid", fgColor=Color(rgb=argb), bgColor=Color(rgb=argb))
        self._restyle(_FILL, self._geometry_ws.parent._fills, lambda old: fill)

    def _alignment_attr(self, attr, norm=lambda v: v):
        ids = self._style_ids(_ALIGN)
        values = {norm(getattr(self._geometry_ws.parent._alignments[i], attr)) for i in ids}
        return values.pop() if len(values) == 1 else _MIXED

    def _set_alignment(self, **kw):
        def transform(old):
            new = copy(old) if old is not None else Alignment()
            for k, v in kw.items():
                setattr(new, k, v)
            return new

        self._restyle(_ALIGN, self._geometry_ws.parent._alignments, transform)

    @property
    def wrap_text(self):
        v = self._alignment_attr("wrap_text", bool)
        return None if v is _MIXED else v

    @wrap_text.setter
    def wrap_text(self, value):
        self._set_alignment(wrap_text=bool(value))

    @property
    def horizontal_alignment(self):
        v = self._alignment_attr("horizontal", lambda h: _H_ALIGN_BACK.get(h, h or "general"))
        return None if v is _MIXED else v

    @horizontal_alignment.setter
    def horizontal_alignment(self, value):
        self._set_alignment(horizontal=_H_ALIGN.get(value, value))

    @property
    def vertical_alignment(self):
        v = self._alignment_attr("vertical", lambda h: h or "bottom")
        return None if v is _MIXED else v

    @vertical_alignment.setter
    def vertical_alignment(self, value):
        self._set_alignment(vertical=value)

    # ------------------------------------------------------------------ geometry
    @property
    def column_width(self):
        widths = {column_width_chars(self._geometry_ws, c) for c in range(self.c1, min(self.c2, self.c1 + 16383) + 1)}
        return widths.pop() if len(widths) == 1 else None

    @column_width.setter
    def column_width(self, value):
        ws = self._geometry_ws
        if self._full_rows:
            ws.sheet_format.defaultColWidth = float(value)
            return
        for c in range(self.c1, self.c2 + 1):
            _own_column_dimension(ws, c).width = float(value)

    @property
    def row_height(self):
        if self._full_columns:
            return float(self._geometry_ws.sheet_format.defaultRowHeight or 15.0)
        heights = {row_height_points(self._geometry_ws, r) for r in range(self.r1, self.r2 + 1)}
        return heights.pop() if len(heights) == 1 else None

    @row_height.setter
    def row_height(self, value):
        ws = self._geometry_ws
        if self._full_columns:
            ws.sheet_format.defaultRowHeight = float(value)
            ws.sheet_format.customHeight = True
            return
        for r in range(self.r1, self.r2 + 1):
            ws.row_dimensions[r].height = float(value)

    @property
    def left(self) -> float:
        return column_left_points(self._geometry_ws, self.c1)

    @property
    def top(self) -> float:
        return row_top_points(self._geometry_ws, self.r1)

    @property
    def width(self) -> float:
        return sum(chars_to_points(column_width_chars(self._geometry_ws, c)) for c in range(self.c1, self.c2 + 1))

    @property
    def height(self) -> float:
        return row_top_points(self._geometry_ws, self.r2 + 1) - row_top_points(self._geometry_ws, self.r1)

    def _set_hidden(self, axis, value):
        ws = self._geometry_ws
        if axis == "r":
            for r in range(self.r1, self.r2 + 1):
                ws.row_dimensions[r].hidden = bool(value)
        else:
            for c in range(self.c1, self.c2 + 1):
                _own_column_dimension(ws, c).hidden = bool(value)

    @property
    def row_hidden(self):
        vals = {bool(getattr(self._geometry_ws.row_dimensions.get(r), "hidden", False))
                for r in range(self.r1, self.r2 + 1)}
        return vals.pop() if len(vals) == 1 else None

    @row_hidden.setter
    def row_hidden(self, value):
        self._set_hidden("r", value)

    @property
    def column_hidden(self):
        vals = {bool(getattr(column_dimension(self._geometry_ws, c), "hidden", False))
                for c in range(self.c1, self.c2 + 1)}
        return vals.pop() if len(vals) == 1 else None

    @column_hidden.setter
    def column_hidden(self, value):
        self._set_hidden("c", value)

    def autofit(self, axis=None) -> None:
        """Approximate Excel's autofit: column width from the longest displayed text."""
        ws = self.ws
        if axis in (None, "c", "columns"):
            longest: dict[int, float] = {}
            fonts = ws.parent._fonts
            for cell in self._existing_cells():
                n = _display_length(cell)
                if n:
                    font = fonts[cell._style[_FONT] if cell._style is not None else 0]
                    factor = (font.sz or 11) / 11 * (1.1 if font.b else 1.0)
                    longest[cell.column] = max(longest.get(cell.column, 0.0), n * factor)
            for c, n in longest.items():
                _own_column_dimension(ws, c).width = round(min(255.0, max(2.0, n + 1.7)), 2)
        if axis in (None, "r", "rows"):
            for r in range(self.r1, min(self.r2, self.r1 + 100_000) + 1):
                dim = ws.row_dimensions.get(r)
                if dim is not None:
                    dim.height = None

    # ------------------------------------------------------------------ addresses
    def get_address(self, row_absolute=True, col_absolute=True, external=False):
        addr = a1(*self.bounds, row_absolute=row_absolute, col_absolute=col_absolute)
        if not external:
            return addr
        prefix = f"[{self.book.name}]{self.sheet.name}"
        if quote_sheet(self.sheet.name) != self.sheet.name or not re.fullmatch(r"[\w.]+", self.book.name):
            prefix = "'" + prefix.replace("'", "''") + "'"
        return f"{prefix}!{addr}"

    @property
    def address(self) -> str:
        return a1(*self.bounds)

    @property
    def name(self):
        from ._names import Names

        ref = f"{quote_sheet(self.sheet.name)}!{self.address}"
        for impl in Names(self.book, None)._all():
            if impl.refers_to.lstrip("=").replace("'", "") == ref.replace("'", ""):
                return impl
        return None

    @name.setter
    def name(self, value):
        from ._names import Names

        Names(self.book, None).add(value, f"={quote_sheet(self.sheet.name)}!{self.address}")

    # ------------------------------------------------------------------ merges
    def _merged_ranges(self):
        vals = self.book._sheet_values(self.sheet._ws)
        if vals is not None:
            return [CellRange(min_row=r1, min_col=c1, max_row=r2, max_col=c2) for r1, c1, r2, c2 in vals.merged]
        return list(self.ws.merged_cells.ranges)

    @property
    def merge_area(self):
        for mr in self._merged_ranges():
            if mr.min_row <= self.r1 <= mr.max_row and mr.min_col <= self.c1 <= mr.max_col:
                return Range(self.sheet, mr.min_row, mr.min_col, mr.max_row, mr.max_col)
        return Range(self.sheet, self.r1, self.c1)

    @property
    def merge_cells(self):
        covered = 0
        inside = 0
        for mr in self._merged_ranges():
            r1, c1 = max(mr.min_row, self.r1), max(mr.min_col, self.c1)
            r2, c2 = min(mr.max_row, self.r2), min(mr.max_col, self.c2)
            if r1 <= r2 and c1 <= c2:
                covered += (r2 - r1 + 1) * (c2 - c1 + 1)
                inside += 1
        if covered == 0:
            return False
        return True if covered == len(self) else None

    def merge(self, across=False) -> None:
        self.unmerge()
        ws = self.ws
        if self.shape == (1, 1):
            return
        if across:
            if self.c1 == self.c2:
                return
            for r in range(self.r1, self.r2 + 1):
                ws.merge_cells(start_row=r, start_column=self.c1, end_row=r, end_column=self.c2)
        else:
            ws.merge_cells(start_row=self.r1, start_column=self.c1, end_row=self.r2, end_column=self.c2)

    def unmerge(self) -> None:
        ws = self.ws
        for mr in self._merged_ranges():
            if not (mr.max_row < self.r1 or mr.min_row > self.r2 or mr.max_col < self.c1 or mr.min_col > self.c2):
                ws.unmerge_cells(mr.coord)

    # ------------------------------------------------------------------ misc
    @property
    def table(self):
        return None

    def select(self) -> None:
        self.ws.sheet_view.selection[0].sqref = self.address.replace("$", "")
        self.ws.sheet_view.selection[0].activeCell = a1(self.r1, self.c1, row_absolute=False, col_absolute=False)

    @property
    def data_validation(self):
        return DataValidation(self)

    @property
    def note(self):
        cell = self.ws._cells.get((self.r1, self.c1))
        if cell is not None and cell._comment is not None:
            return Note(self.sheet, cell)
        return None

    def add_note(self, text):
        ws = self.ws
        cell = ws._cells.get((self.r1, self.c1))
        if cell is None:
            cell = ws._cells[(self.r1, self.c1)] = Cell(ws, row=self.r1, column=self.c1)
        cell.comment = Comment(text, "xlmrio")
        return Note(self.sheet, cell)

    @property
    def hyperlink(self):
        cell = self.ws._cells.get((self.r1, self.c1))
        if cell is None or cell.hyperlink is None:
            raise Exception("The cell doesn't seem to contain a hyperlink!")
        return cell.hyperlink.target or cell.hyperlink.location

    def add_hyperlink(self, address, text_to_display=None, screen_tip=None):
        ws = self.ws
        cell = ws._cells.get((self.r1, self.c1))
        if cell is None:
            cell = ws._cells[(self.r1, self.c1)] = Cell(ws, row=self.r1, column=self.c1)
        cell.value = text_to_display if text_to_display is not None else address
        cell.hyperlink = address
        if screen_tip:
            cell.hyperlink.tooltip = screen_tip
        font = copy(cell.font)
        font.color = Color(rgb="FF0563C1")
        font.underline = "single"
        cell.font = font

    def _unsupported(self, *args, **kwargs):
        raise NotImplementedError("not supported by the openpyxl engine")

    insert = delete = copy = copy_from = paste = sort = find = replace_all = _unsupported
    remove_duplicates = get_special_cells = autofill = to_png = to_pdf = copy_picture = _unsupported
    group = ungroup = adjust_indent = _unsupported

    @property
    def borders(self):
        raise NotImplementedError("Range.borders is not supported by the openpyxl engine")

    @property
    def conditional_formats(self):
        raise NotImplementedError("Range.conditional_formats is not supported by the openpyxl engine")

    @property
    def autofilter(self):
        raise NotImplementedError("Range.autofilter is not supported by the openpyxl engine")

    @property
    def characters(self):
        raise NotImplementedError("Range.characters is not supported by the openpyxl engine")

    @property
    def comment(self):
        return None


# ---------------------------------------------------------------------------- block read/write
def read_block(sheet, r1: int, c1: int, r2: int, c2: int) -> Rows:
    """Values of a block as a list of row lists, the way Excel hands them out.

    Numbers come back as ``float`` (Excel has no integers), empty cells as ``None``, error cells
    as :class:`CellError`, formula cells as their cached value (``None`` when the file holds
    none, e.g. after a save by openpyxl).
    """
    vals = sheet.book._sheet_values(sheet._ws)
    if vals is not None:  # a sheet not parsed by openpyxl: values straight from the file
        out = vals.block(r1, c1, r2, c2, Rows)
        out.has_errors = vals.has_errors
        out.has_dates = vals.has_dates
        out.has_empty = any(None in row for row in out)
        return out
    ws = sheet.ws
    get = ws._cells.get
    ncols = c2 - c1 + 1
    cols = range(c1, c2 + 1)
    out = Rows()
    errors = dates = False
    book = sheet.book
    bulks = [b for b in book._bulks.get(sheet._ws, ()) if b.intersects((r1, c1, r2, c2))]
    with no_gc():
        if bulks:  # values of large blocks straight from their rows; the cells around them as below
            rows = {}
            for b in bulks:
                b.read_into(rows, r1, c1, r2, c2)
            if len(bulks) == 1 and bulks[0].intersection((r1, c1, r2, c2)) == (r1, c1, r2, c2):
                out.extend(rows[r] for r in range(r1, r2 + 1))  # all inside one block
                out.has_errors = out.has_dates = False
                out.has_empty = any(None in row for row in out)
                return out
        for r in range(r1, r2 + 1):
            row = [None] * ncols
            j = 0
            for c in cols:
                cell = get((r, c))
                if cell is not None:
                    v = cell._value
                    if v is not None:
                        t = type(v)
                        if t is float:
                            row[j] = v
                        elif t is int:
                            row[j] = float(v)
                        else:
                            v = _special_value(book, ws, cell, v, t)
                            t = type(v)
                            if t is CellError:
                                errors = True
                            elif t is dt.datetime:
                                dates = True
                            row[j] = v
                j += 1
            if bulks and r in rows:
                row = [v if v is not None else w for v, w in zip(rows[r], row)]
            out.append(row)
    out.has_errors = errors
    out.has_dates = dates
    out.has_empty = any(None in row for row in out)
    return out


def _special_value(book, ws, cell, v, t):
    if t is str:
        dtype = cell.data_type
        if dtype == "s":
            return v
        if dtype == "f":
            return book._cached_value(ws, cell.row, cell.column)
        if dtype == "e":
            return CellError(v)
        return v
    if t is bool:
        return v
    if t is dt.datetime:
        return v
    if t is dt.date:
        return dt.datetime(v.year, v.month, v.day)
    if isinstance(v, (ArrayFormula, DataTableFormula)):
        return book._cached_value(ws, cell.row, cell.column)
    if t is dt.time:
        return (v.hour * 3600 + v.minute * 60 + v.second + v.microsecond / 1e6) / 86400.0
    if t is dt.timedelta:
        return v.total_seconds() / 86400.0
    if isinstance(v, Real):
        return float(v)
    return str(v)


def write_block(sheet, r1: int, c1: int, data) -> None:
    """Write a 2-D list at ``(r1, c1)``; ``None``/``""`` empty the cell, ``"=..."`` is a formula."""
    ws = sheet.ws
    cells = ws._cells
    get = cells.get
    nrows = len(data)
    ncols = max((len(row) for row in data), default=0)
    if r1 + nrows - 1 > MAX_ROWS or c1 + ncols - 1 > MAX_COLUMNS:
        raise ValueError("the data do not fit on the worksheet")
    rect = (r1, c1, r1 + nrows - 1, c1 + ncols - 1)
    if nrows * ncols >= BULK_MIN_CELLS and _fresh_area(sheet.book, ws, rect) and plain_block(data):
        sheet.book._bulks.setdefault(ws, []).append(Bulk(r1, c1, [list(row) for row in data], ncols))
        return
    sheet.book._unbulk(ws, rect)
    stale = sheet.book._stale(ws)
    # new cells take the style of a styled column, as in Excel
    col_styles = {}
    for dim in ws.column_dimensions.values():
        if dim._style is not None and any(dim._style):
            dim.reindex()
            for k in range(max(dim.min, c1), min(dim.max, c1 + ncols - 1) + 1):
                col_styles[k] = dim._style
    with no_gc():
        for i, values in enumerate(data):
            r = r1 + i
            c = c1
            for v in values:
                cell = get((r, c))
                t = type(v)
                if v is None or (t is str and v == ""):
                    if cell is not None and type(cell) is not MergedCell:
                        cell._value = None
                        cell.data_type = "n"
                elif cell is None:
                    cell = Cell(ws, row=r, column=c, style_array=col_styles.get(c) if col_styles else None)
                    if t is float or t is int:
                        cell._value = v
                    else:
                        _bind(cell, v, t, stale)
                    cells[(r, c)] = cell
                elif type(cell) is MergedCell:
                    raise WorkbookError("cannot write into a merged cell other than its top-left cell",
                                        ws.title, f"{get_column_letter(c)}{r}")
                elif t is float or t is int:
                    cell._value = v
                    cell.data_type = "n"
                else:
                    _bind(cell, v, t, stale)
                c += 1


def _fresh_area(book, ws, rect) -> bool:
    """Whether nothing lives in ``rect`` yet: no cell, merged range, large block or styled column."""
    r1, c1, r2, c2 = rect
    if any(b.intersects(rect) for b in book._bulks.get(ws, ())):
        return False
    if any(r1 <= r <= r2 and c1 <= c <= c2 for r, c in ws._cells):
        return False
    if any(not (mr.max_row < r1 or mr.min_row > r2 or mr.max_col < c1 or mr.min_col > c2)
           for mr in ws.merged_cells.ranges):
        return False
    return not any(dim._style is not None and any(dim._style) and not (dim.max < c1 or dim.min > c2)
                   for dim in ws.column_dimensions.values() if dim.min is not None)


def _bind(cell, v, t, stale) -> None:
    if t is CellError:
        v = str(v)
    try:
        cell.value = v
    except ValueError:
        raise WorkbookError(f"cannot store a value of type {t.__name__} in a cell",
                            cell.parent.title, cell.coordinate) from None
    except IllegalCharacterError:
        raise WorkbookError("text with control characters cannot be stored in a cell",
                            cell.parent.title, cell.coordinate) from None
    if cell.data_type == "f":
        stale.add((cell.row, cell.column))


def _formula_constant(v):
    """What Excel stores for ``.Formula = v``: formulas stay text, numeric/boolean text is parsed."""
    if isinstance(v, str) and not v.startswith("="):
        s = v.strip()
        if s.upper() in ("TRUE", "FALSE"):
            return s.upper() == "TRUE"
        try:
            return float(s)
        except ValueError:
            return v
    return v


def _display_length(cell) -> int:
    v = cell._value
    if v is None:
        return 0
    if isinstance(v, bool):
        return 5
    if isinstance(v, Real):
        fmt = cell.number_format
        if fmt == "General":
            return len(f"{v:.10g}")
        decimals = len(fmt.split(".")[1].split(";")[0].rstrip("%")) if "." in fmt else 0
        text = f"{v:,.{decimals}f}" if "," in fmt else f"{v:.{decimals}f}"
        return len(text) + ("%" in fmt)
    if isinstance(v, (dt.datetime, dt.date)):
        return 10 if isinstance(v, dt.date) and not isinstance(v, dt.datetime) or v.time() == dt.time() else 16
    if isinstance(v, ArrayFormula):
        return 0
    text = str(v)
    if cell.data_type == "f":
        return 0
    return max(len(line) for line in text.split("\n"))


def _own_column_dimension(ws, c: int):
    """A ``ColumnDimension`` for column ``c`` alone, splitting a grouped ``<col min max>`` entry."""
    from openpyxl.worksheet.dimensions import ColumnDimension

    cd = ws.column_dimensions
    letter = get_column_letter(c)
    dim = column_dimension(ws, c)
    if dim is not None and (dim.min in (None, c) and dim.max in (None, c)):
        return dim
    if dim is not None:
        lo, hi = dim.min, dim.max
        del cd[dim.index]
        for a, b in ((lo, c - 1), (c, c), (c + 1, hi)):
            if a <= b:
                nd = ColumnDimension(ws, index=get_column_letter(a), width=dim.width, bestFit=dim.bestFit,
                                     hidden=dim.hidden, outlineLevel=dim.outlineLevel,
                                     collapsed=dim.collapsed, min=a, max=b)
                nd._style = copy(dim._style)
                cd[get_column_letter(a)] = nd
        return cd[letter]
    nd = ColumnDimension(ws, index=letter, width=default_col_width(ws), min=c, max=c)
    cd[letter] = nd
    return nd


# ---------------------------------------------------------------------------- Font
class Font(base_classes.Font):
    def __init__(self, rng: Range):
        self.rng = rng

    @property
    def api(self):
        return None

    def _get(self, attr, norm=lambda v: v):
        fonts = self.rng._geometry_ws.parent._fonts
        values = {norm(getattr(fonts[i], attr)) for i in self.rng._style_ids(_FONT)}
        return values.pop() if len(values) == 1 else None

    def _set(self, **kw):
        def transform(old):
            new = copy(old)
            for k, v in kw.items():
                setattr(new, k, v)
            return new

        self.rng._restyle(_FONT, self.rng._geometry_ws.parent._fonts, transform)

    @property
    def bold(self):
        return self._get("b", bool)

    @bold.setter
    def bold(self, value):
        self._set(b=bool(value))

    @property
    def italic(self):
        return self._get("i", bool)

    @italic.setter
    def italic(self, value):
        self._set(i=bool(value))

    @property
    def size(self):
        return self._get("sz", lambda v: float(v) if v is not None else 11.0)

    @size.setter
    def size(self, value):
        self._set(sz=float(value))

    @property
    def color(self):
        fonts = self.rng._geometry_ws.parent._fonts
        values = {from_color(fonts[i].color) for i in self.rng._style_ids(_FONT)}
        if len(values) != 1:
            return None
        v = values.pop()
        return (0, 0, 0) if v is None else v

    @color.setter
    def color(self, color_or_rgb):
        self._set(color=None if color_or_rgb is None else Color(rgb=to_argb(color_or_rgb)))

    @property
    def name(self):
        return self._get("name")

    @name.setter
    def name(self, value):
        self._set(name=str(value))


# ---------------------------------------------------------------------------- notes
class Note:
    """A cell note (openpyxl ``Comment``)."""

    def __init__(self, sheet, cell):
        self.sheet = sheet
        self.cell = cell

    @property
    def api(self):
        return self.cell.comment

    @property
    def text(self):
        return self.cell.comment.text

    @text.setter
    def text(self, value):
        self.cell.comment = Comment(value, self.cell.comment.author or "xlmrio")

    @property
    def author(self):
        return self.cell.comment.author

    def delete(self):
        self.cell.comment = None

    @property
    def location(self):
        return Range(self.sheet, self.cell.row, self.cell.column)


# ---------------------------------------------------------------------------- data validation
class DataValidation(base_classes.DataValidation):
    """Data validation of a block (openpyxl ``DataValidation`` objects on the worksheet)."""

    def __init__(self, rng: Range):
        self.rng = rng

    def _covering(self):
        r, c = self.rng.r1, self.rng.c1
        for dv in self.rng.ws.data_validations.dataValidation:
            for cr in dv.sqref.ranges:
                if cr.min_row <= r <= cr.max_row and cr.min_col <= c <= cr.max_col:
                    return dv
        return None

    @property
    def api(self):
        return self._covering()

    def _remove_from_block(self):
        ws = self.rng.ws
        keep = []
        for dv in ws.data_validations.dataValidation:
            pieces = []
            for cr in dv.sqref.ranges:
                pieces += rect_difference((cr.min_row, cr.min_col, cr.max_row, cr.max_col), self.rng.bounds)
            if pieces:
                dv.sqref = " ".join(a1(*p, row_absolute=False, col_absolute=False) for p in pieces)
                keep.append(dv)
        ws.data_validations.dataValidation = keep

    def _add(self, dv):
        self._remove_from_block()
        dv.add(a1(*self.rng.bounds, row_absolute=False, col_absolute=False))
        self.rng.ws.add_data_validation(dv)

    def set_list(self, source, in_cell_dropdown=True):
        if isinstance(source, Range):
            formula1 = f"{quote_sheet(source.sheet.name)}!{source.address}"
            if source.sheet.ws is self.rng.ws:
                formula1 = source.address
        elif hasattr(source, "refers_to"):  # a Name impl
            formula1 = source.name
        else:
            formula1 = '"' + ",".join(str(v) for v in source) + '"'
        # openpyxl's showDropDown=True *hides* the arrow (the OOXML attribute is inverted).
        self._add(_OpxlValidation(type="list", formula1=formula1, allow_blank=True,
                                  showDropDown=not in_cell_dropdown, showErrorMessage=True,
                                  showInputMessage=True))

    def set_rule(self, rule_type, operator, formula1, formula2):
        f1 = None if formula1 is None else str(formula1).lstrip("=")
        f2 = None if formula2 is None else str(formula2).lstrip("=")
        self._add(_OpxlValidation(type=_DV_TYPES[rule_type], operator=_DV_OPS.get(operator) if operator else None,
                                  formula1=f1, formula2=f2, allow_blank=True, showErrorMessage=True,
                                  showInputMessage=True))

    def delete(self):
        self._remove_from_block()

    @property
    def type(self):
        dv = self._covering()
        return "none" if dv is None else _DV_TYPES_BACK.get(dv.type, "unknown")

    @property
    def operator(self):
        dv = self._covering()
        if dv is None or dv.type in ("list", "custom"):
            return None
        return _DV_OPS_BACK.get(dv.operator or "between")

    @property
    def formula1(self):
        dv = self._covering()
        return None if dv is None else dv.formula1

    @property
    def formula2(self):
        dv = self._covering()
        return None if dv is None else dv.formula2

    @property
    def formula(self):
        dv = self._covering()
        return None if dv is None or dv.type != "custom" else f"={dv.formula1}"

    @property
    def source(self):
        dv = self._covering()
        if dv is None or dv.type != "list" or dv.formula1 is None:
            return None
        f = dv.formula1
        return f[1:-1] if f.startswith('"') and f.endswith('"') else f"={f}"

    @property
    def in_cell_dropdown(self):
        dv = self._covering()
        return None if dv is None or dv.type != "list" else not dv.showDropDown

    @property
    def ignore_blank(self):
        dv = self._covering()
        return None if dv is None else bool(dv.allow_blank)

    @property
    def input_title(self):
        dv = self._covering()
        return None if dv is None else dv.promptTitle

    @property
    def input_message(self):
        dv = self._covering()
        return None if dv is None else dv.prompt

    @property
    def show_input(self):
        dv = self._covering()
        return None if dv is None else bool(dv.showInputMessage)

    @property
    def error_title(self):
        dv = self._covering()
        return None if dv is None else dv.errorTitle

    @property
    def error_message(self):
        dv = self._covering()
        return None if dv is None else dv.error

    @property
    def show_error(self):
        dv = self._covering()
        return None if dv is None else bool(dv.showErrorMessage)

    @property
    def alert_style(self):
        dv = self._covering()
        return None if dv is None else (dv.errorStyle or "stop")
