"""Helpers shared by the openpyxl engine modules: addresses, colours, geometry, errors."""
from __future__ import annotations

import gc
import math
import re
from contextlib import contextmanager
from typing import Iterator

from openpyxl.utils.cell import get_column_letter

#: Excel's grid size (rows, columns).
MAX_ROWS = 1_048_576
MAX_COLUMNS = 16_384

#: Excel error literals (the ones openpyxl knows plus the dynamic-array era ones).
ERROR_CODES = frozenset({
    "#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA",
    "#SPILL!", "#CALC!", "#FIELD!", "#BLOCKED!", "#CONNECT!", "#UNKNOWN!", "#BUSY!", "#DATA!",
})

#: Points per EMU (English Metric Unit) used by DrawingML anchors.
EMU_PER_POINT = 12700


class CellError(str):
    """An Excel error value (``"#N/A"``, ``"#DIV/0!"``...) held by a cell.

    A ``str`` subclass, so ``value == "#N/A"`` works; ``isinstance(value, CellError)`` tells an
    error apart from a text cell that happens to read ``"#N/A"``. ``Range.raw_value`` returns
    these; ``Range.value`` turns them into ``None`` (or into plain strings with the
    ``err_to_str=True`` option), exactly as xlwings does with desktop Excel.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return f"CellError({str(self)!r})"


@contextmanager
def no_gc() -> Iterator[None]:
    """Suspend the cyclic garbage collector while millions of cell objects are created.

    openpyxl allocates one object per cell; with the collector running, the repeated
    generation-2 sweeps roughly double the time of bulk reads/writes, loads and saves.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


# ----------------------------------------------------------------------------- addresses
_CELL = r"\$?([A-Za-z]{1,3})\$?([0-9]{1,7})"
_CELL_RE = re.compile(_CELL)
_AREA_RE = re.compile(_CELL + r"(?::" + _CELL + r")?")
_COLS_RE = re.compile(r"\$?([A-Za-z]{1,3}):\$?([A-Za-z]{1,3})")
_ROWS_RE = re.compile(r"\$?([0-9]{1,7}):\$?([0-9]{1,7})")
_SHEET_REF_RE = re.compile(r"^(?:'((?:[^']|'')+)'|([^'!]+))!(.+)$")
_PLAIN_SHEET_RE = re.compile(r"[A-Za-z_\u00C0-\uFFFF][\w.\u00C0-\uFFFF]*")
_LOOKS_LIKE_REF_RE = re.compile(r"([A-Za-z]{1,3}[0-9]+|[Rr][0-9]*[Cc][0-9]*|[Rr]|[Cc])")


def column_number(letters: str) -> int:
    """``"A"`` -> 1, ``"AB"`` -> 28."""
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


def parse_address(text: str) -> tuple[int, int, int, int] | None:
    """Parse an A1 address into 1-based ``(row1, col1, row2, col2)``; ``None`` if it is not one.

    Accepts ``A1``, ``$A$1``, ``A1:C3``, whole columns ``A:C`` and whole rows ``1:3``.
    Out-of-grid addresses raise ``ValueError``.
    """
    text = text.strip()
    m = _AREA_RE.fullmatch(text)
    if m:
        c1, r1 = column_number(m.group(1)), int(m.group(2))
        if m.group(3):
            c2, r2 = column_number(m.group(3)), int(m.group(4))
        else:
            c2, r2 = c1, r1
    else:
        m = _COLS_RE.fullmatch(text)
        if m:
            r1, r2 = 1, MAX_ROWS
            c1, c2 = column_number(m.group(1)), column_number(m.group(2))
        else:
            m = _ROWS_RE.fullmatch(text)
            if not m:
                return None
            r1, r2 = int(m.group(1)), int(m.group(2))
            c1, c2 = 1, MAX_COLUMNS
    r1, r2 = min(r1, r2), max(r1, r2)
    c1, c2 = min(c1, c2), max(c1, c2)
    if r1 < 1 or c1 < 1 or r2 > MAX_ROWS or c2 > MAX_COLUMNS:
        raise ValueError(f"address {text!r} lies outside the worksheet grid")
    return r1, c1, r2, c2


def split_sheet_ref(ref: str) -> tuple[str | None, str]:
    """``"'My sheet'!$A$1"`` -> ``("My sheet", "$A$1")``; ``"A1"`` -> ``(None, "A1")``."""
    ref = ref.strip()
    if ref.startswith("="):
        ref = ref[1:].strip()
    m = _SHEET_REF_RE.match(ref)
    if not m:
        return None, ref
    sheet = m.group(1).replace("''", "'") if m.group(1) is not None else m.group(2)
    return sheet, m.group(3)


def needs_quotes(name: str) -> bool:
    """Whether a sheet (or book) name must be quoted in a reference, as Excel does."""
    return not _PLAIN_SHEET_RE.fullmatch(name) or bool(_LOOKS_LIKE_REF_RE.fullmatch(name))


def quote_sheet(name: str) -> str:
    """Sheet name as it appears before ``!`` in a reference (quoted when needed)."""
    if needs_quotes(name):
        return "'" + name.replace("'", "''") + "'"
    return name


def a1(r1: int, c1: int, r2: int | None = None, c2: int | None = None, *,
       row_absolute: bool = True, col_absolute: bool = True) -> str:
    """Address of a block as Excel prints it (``$A$1``, ``$A$1:$C$3``, ``$A:$C``, ``$1:$3``)."""
    if r2 is None:
        r2, c2 = r1, c1
    rd = "$" if row_absolute else ""
    cd = "$" if col_absolute else ""
    if r1 == 1 and r2 == MAX_ROWS:
        return f"{cd}{get_column_letter(c1)}:{cd}{get_column_letter(c2)}"
    if c1 == 1 and c2 == MAX_COLUMNS:
        return f"{rd}{r1}:{rd}{r2}"
    first = f"{cd}{get_column_letter(c1)}{rd}{r1}"
    if (r1, c1) == (r2, c2):
        return first
    return f"{first}:{cd}{get_column_letter(c2)}{rd}{r2}"


def rect_difference(a: tuple[int, int, int, int],
                    b: tuple[int, int, int, int]) -> list[tuple[int, int, int, int]]:
    """Rectangle ``a`` minus rectangle ``b`` as up to four disjoint rectangles (r1, c1, r2, c2)."""
    ar1, ac1, ar2, ac2 = a
    br1, bc1, br2, bc2 = b
    if br1 > ar2 or br2 < ar1 or bc1 > ac2 or bc2 < ac1:
        return [a]
    out = []
    if ar1 < br1:
        out.append((ar1, ac1, br1 - 1, ac2))
    if br2 < ar2:
        out.append((br2 + 1, ac1, ar2, ac2))
    mr1, mr2 = max(ar1, br1), min(ar2, br2)
    if ac1 < bc1:
        out.append((mr1, ac1, mr2, bc1 - 1))
    if bc2 < ac2:
        out.append((mr1, bc2 + 1, mr2, ac2))
    return out


# ----------------------------------------------------------------------------- colours
def to_argb(color) -> str:
    """xlwings colour (RGB tuple, ``"#RRGGBB"`` or Excel's BGR integer) -> openpyxl ``"FFRRGGBB"``."""
    if isinstance(color, str):
        h = color.lstrip("#")
        if len(h) != 6 or any(ch not in "0123456789abcdefABCDEF" for ch in h):
            raise ValueError(f"colour {color!r} is not a hex string like '#RRGGBB'")
        return "FF" + h.upper()
    if isinstance(color, int) and not isinstance(color, bool):
        r, g, b = color % 256, (color // 256) % 256, (color // 65536) % 256
    else:
        try:
            r, g, b = (int(x) for x in color)
        except (TypeError, ValueError):
            raise ValueError(f"colour {color!r} is neither an RGB tuple, a hex string nor an int") from None
    if not all(0 <= x <= 255 for x in (r, g, b)):
        raise ValueError(f"RGB components of {color!r} must lie in 0..255")
    return f"FF{r:02X}{g:02X}{b:02X}"


def from_color(color) -> tuple[int, int, int] | None:
    """openpyxl ``Color`` -> RGB tuple; ``None`` for unset, theme or automatic colours."""
    if color is None:
        return None
    try:
        if color.type == "rgb" and isinstance(color.rgb, str) and len(color.rgb) in (6, 8):
            h = color.rgb[-6:]
            return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)
        if color.type == "indexed":
            from openpyxl.styles.colors import COLOR_INDEX
            idx = color.indexed
            if 0 <= idx < 64:
                h = COLOR_INDEX[idx][-6:]
                return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)
    except (AttributeError, TypeError, ValueError):
        return None
    return None


# ----------------------------------------------------------------------------- geometry
def default_col_width(ws) -> float:
    """Default column width in file units (Calibri 11: base 8 characters -> 64 px -> 9.140625)."""
    fmt = ws.sheet_format
    if fmt.defaultColWidth:
        return float(fmt.defaultColWidth)
    base = fmt.baseColWidth if fmt.baseColWidth is not None else 8
    px = math.ceil((base * 7 + 5) / 8) * 8
    chars = math.trunc((px - 5) / 7 * 100 + 0.5) / 100
    return math.trunc((chars * 7 + 5) / 7 * 256) / 256


def column_dimension(ws, c: int):
    """The ``ColumnDimension`` covering column ``c`` (``None`` if none), without creating one."""
    cd = ws.column_dimensions
    dim = cd.get(get_column_letter(c))
    if dim is not None and (dim.min is None or dim.min <= c <= (dim.max or dim.min)):
        return dim
    for d in cd.values():
        if d.min is not None and d.max is not None and d.min <= c <= d.max:
            return d
    return None


def column_width_chars(ws, c: int) -> float:
    """Column width in the file's units (openpyxl's ``width``; Excel's displayed width + ~0.71)."""
    dim = column_dimension(ws, c)
    if dim is not None and dim.width:
        return float(dim.width)
    return default_col_width(ws)


def row_height_points(ws, r: int) -> float:
    dim = ws.row_dimensions.get(r)
    if dim is not None and dim.ht:
        return float(dim.ht)
    return float(ws.sheet_format.defaultRowHeight or 15.0)


def chars_to_points(width: float) -> float:
    """Column width in file units -> points (Calibri 11: 7 px per digit, ECMA-376 18.3.1.13)."""
    px = int(((256 * width + int(128 / 7)) / 256) * 7) if width > 0 else 0
    return px * 0.75


def column_left_points(ws, c: int) -> float:
    """Distance in points from the sheet's left edge to the left edge of column ``c``."""
    return sum(chars_to_points(column_width_chars(ws, k)) for k in range(1, c))


def row_top_points(ws, r: int) -> float:
    fast_default = float(ws.sheet_format.defaultRowHeight or 15.0)
    custom = {k: d.ht for k, d in ws.row_dimensions.items() if k < r and d.ht}
    return fast_default * (r - 1 - len(custom)) + sum(custom.values())


def locate_point(ws, left: float, top: float) -> tuple[int, float, int, float]:
    """Cell containing the point (left, top) in points: ``(col, col_offset_pt, row, row_offset_pt)``."""
    c, x = 1, 0.0
    while c < MAX_COLUMNS:
        w = chars_to_points(column_width_chars(ws, c))
        if x + w > left:
            break
        x += w
        c += 1
    r, y = 1, 0.0
    while r < MAX_ROWS:
        h = row_height_points(ws, r)
        if y + h > top:
            break
        y += h
        r += 1
    return c, max(left - x, 0.0), r, max(top - y, 0.0)
