"""Large value blocks kept out of openpyxl's cell dictionary and streamed into the sheet XML on save.

openpyxl holds every cell as a ``Cell`` object (about 0.4 KB with its style array and dictionary
entry) and serialises it element by element: a 2.4 M-cell table (an updated WIOD table written back
in the input layout) costs over a gigabyte and a minute and a half. A :class:`Bulk` keeps such a
block as the row lists it was written with plus one small integer style id per cell (a palette of
openpyxl ``StyleArray`` s), and :func:`inject` writes its rows straight into the worksheet part that
openpyxl saved (merged row by row with the cells openpyxl wrote itself).

A block becomes a ``Bulk`` only when it is written in one piece onto empty cells and holds plain
values (numbers, text that is not a formula, booleans, empties). Everything the engine does to cells
keeps working: restyling (fonts, number formats, alignment, fills) is done on the style ids; any other
cell operation that touches the block (reading, formulas, merges, notes, navigation, clearing, a
second write) first turns the touched blocks into ordinary openpyxl cells (:meth:`Bulk.materialize`),
so the result is the same as if the block had been written cell by cell.
"""
from __future__ import annotations

import io
import re
import zipfile
from copy import copy

import numpy as np
from openpyxl.cell.cell import Cell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils.cell import column_index_from_string, get_column_letter, range_boundaries

#: Blocks of at least this many cells are kept as a ``Bulk`` (smaller ones as openpyxl cells).
BULK_MIN_CELLS = 10_000

_PLAIN = (float, int, bool, str, type(None))


def plain_block(data) -> bool:
    """Whether every value of ``data`` can live in a ``Bulk`` (numbers that are finite, booleans,
    text that is not a formula and has no control characters, empties) and it is not all empty."""
    anything = False
    illegal = ILLEGAL_CHARACTERS_RE.search
    for row in data:
        for v in row:
            t = type(v)
            if t is float:
                if v - v != 0.0:  # nan or inf: leave them to openpyxl's own handling
                    return False
                anything = True
            elif t is int or t is bool:
                anything = True
            elif v is None:
                continue
            elif t is str:
                if v.startswith("=") or illegal(v):
                    return False
                anything = anything or v != ""
            else:
                return False
    return anything


class Bulk:
    """Values ``rows`` (row lists, ragged allowed) at ``(r1, c1)``-``(r2, c2)`` with per-cell style ids
    ``styles`` into ``palette`` (``palette[0]`` is the default style)."""

    __slots__ = ("r1", "c1", "r2", "c2", "rows", "styles", "palette", "_ids")

    def __init__(self, r1: int, c1: int, rows: list, ncols: int):
        self.r1, self.c1 = r1, c1
        self.r2, self.c2 = r1 + len(rows) - 1, c1 + ncols - 1
        self.rows = rows
        self.styles = np.zeros((len(rows), ncols), dtype=np.int32)
        self.palette = [StyleArray()]
        self._ids = {tuple(self.palette[0]): 0}

    @property
    def rect(self) -> tuple[int, int, int, int]:
        return self.r1, self.c1, self.r2, self.c2

    def intersects(self, rect) -> bool:
        r1, c1, r2, c2 = rect
        return not (r2 < self.r1 or r1 > self.r2 or c2 < self.c1 or c1 > self.c2)

    def intersection(self, rect) -> tuple[int, int, int, int]:
        r1, c1, r2, c2 = rect
        return max(r1, self.r1), max(c1, self.c1), min(r2, self.r2), min(c2, self.c2)

    # ------------------------------------------------------------------ styles
    def _id(self, sa: StyleArray) -> int:
        key = tuple(sa)
        i = self._ids.get(key)
        if i is None:
            i = self._ids[key] = len(self.palette)
            self.palette.append(sa)
        return i

    def restyle(self, rect, index: int, component) -> None:
        """Set style component ``index`` (font, fill, number format...) of the cells in ``rect``
        (within the block) to ``component(old component id)``."""
        r1, c1, r2, c2 = self.intersection(rect)
        sub = self.styles[r1 - self.r1:r2 - self.r1 + 1, c1 - self.c1:c2 - self.c1 + 1]
        lut = np.arange(len(self.palette), dtype=np.int32)
        for u in np.unique(sub).tolist():
            sa = copy(self.palette[u])
            sa[index] = component(sa[index])
            lut[u] = self._id(sa)
        sub[...] = lut[sub]

    # ------------------------------------------------------------------ values
    def read_into(self, rows: dict, r1: int, c1: int, r2: int, c2: int) -> None:
        """Put the block's values in rows ``r1..r2``, columns ``c1..c2`` into ``rows`` (row number ->
        list over ``c1..c2``, ``None`` where the block has nothing), as a value read gives them:
        numbers as ``float``, empty text as ``None``."""
        ncols = c2 - c1 + 1
        lo, hi = max(c1, self.c1), min(c2, self.c2)
        for r in range(max(r1, self.r1), min(r2, self.r2) + 1):
            src = self.rows[r - self.r1][lo - self.c1:hi - self.c1 + 1]
            vals = [float(v) if type(v) is int else None if v == "" else v for v in src]
            row = rows.get(r)
            if row is None:
                row = rows[r] = [None] * ncols
            row[lo - c1:lo - c1 + len(vals)] = vals

    # ------------------------------------------------------------------ back to openpyxl cells
    def materialize(self, ws) -> None:
        """Put the block's cells into ``ws._cells`` as openpyxl would have created them."""
        cells = ws._cells
        palette = self.palette
        for i, row in enumerate(self.rows):
            r = self.r1 + i
            sids = self.styles[i].tolist()
            for j, sid in enumerate(sids):
                v = row[j] if j < len(row) else None
                if v == "":
                    v = None
                if v is None and sid == 0:
                    continue
                c = self.c1 + j
                cell = Cell(ws, row=r, column=c, style_array=copy(palette[sid]) if sid else None)
                if v is not None:
                    cell.value = v
                cells[(r, c)] = cell
        self.rows = []


# ---------------------------------------------------------------------------- saving
_ROW = re.compile(rb'<row\b[^>]*?\br="(\d+)"[^>]*?(?:/>|>(.*?)</row>)', re.S)
_CELL = re.compile(rb'<c\b[^>]*?\br="([A-Z]+)\d+"[^>]*?(?:/>|>.*?</c>)', re.S)
_SPANS = re.compile(rb'\s+spans="[^"]*"')
_DIMENSION = re.compile(rb'<dimension\s+ref="([^"]*)"\s*/>')
_ESC = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


def register_styles(wb, bulks: list[Bulk]) -> list[list[str]]:
    """Add every palette style to the workbook's style table (before openpyxl writes ``styles.xml``);
    per block, the ``s`` attribute text of each palette entry."""
    out = []
    for b in bulks:
        attrs = []
        for sa in b.palette:
            sid = wb._cell_styles.add(sa) if any(sa) else 0
            attrs.append(f' s="{sid}"' if sid else "")
        out.append(attrs)
    return out


def _row_cells(b: Bulk, i: int, refs: list[str], sattrs: list[str], stop: int | None = None
               ) -> list[tuple[int, str]]:
    """The ``<c>`` elements of row ``i`` of the block (up to column index ``stop``) as
    ``(column index within the block, text)``."""
    row = b.rows[i]
    rs = str(b.r1 + i)
    sids = b.styles[i].tolist()
    out = []
    append = out.append
    if stop is not None:
        row, sids = row[:stop], sids[:stop]
    for j, v in enumerate(row):
        t = type(v)
        if t is float:
            append((j, f'{refs[j]}{rs}"{sattrs[sids[j]]}><v>{v!r}</v></c>'))
        elif v is None or v == "":
            if sids[j]:
                append((j, f'{refs[j]}{rs}"{sattrs[sids[j]]}/>'))
        elif t is int:
            append((j, f'{refs[j]}{rs}"{sattrs[sids[j]]}><v>{v}</v></c>'))
        elif t is str:
            space = ' xml:space="preserve"' if v[0].isspace() or v[-1].isspace() else ""
            append((j, f'{refs[j]}{rs}"{sattrs[sids[j]]} t="inlineStr"><is><t{space}>{v.translate(_ESC)}</t></is></c>'))
        else:  # bool
            append((j, f'{refs[j]}{rs}"{sattrs[sids[j]]} t="b"><v>{int(v)}</v></c>'))
    for j in range(len(row), len(sids)):
        if sids[j]:
            append((j, f'{refs[j]}{rs}"{sattrs[sids[j]]}/>'))
    return out


def _row_text(b: Bulk, i: int, refs: list[str], sattrs: list[str]) -> str:
    """Row ``i`` of the block as XML cells; a fast path for the run of floats in one style that
    ends a table row (the labels before it go the general way)."""
    row = b.rows[i]
    sids = b.styles[i]
    k = 0
    n = len(row)
    while k < n and type(row[k]) is not float:
        k += 1
    if k < n and n == len(sids) and all(type(v) is float for v in row[k:]) and (sids[k:] == sids[k]).all():
        head = "".join(t for _, t in _row_cells(b, i, refs, sattrs, stop=k)) if k else ""
        mid = f'{b.r1 + i}"{sattrs[int(sids[k])]}><v>'
        return head + "".join([f"{p}{mid}{v!r}</v></c>" for p, v in zip(refs[k:], row[k:])])
    return "".join(t for _, t in _row_cells(b, i, refs, sattrs))


def _row_open(ws, r: int) -> str:
    dim = ws.row_dimensions.get(r)
    attrs = "".join(f' {k}="{v}"' for k, v in dim) if dim is not None else ""
    return f'<row r="{r}"{attrs}>'


def sheet_xml_chunks(xml: bytes, ws, bulks: list[Bulk], sattrs: list[list[str]]):
    """The worksheet part ``xml`` (as openpyxl wrote it, without the blocks) with the blocks' rows
    merged into its ``sheetData``, as a sequence of byte chunks."""
    m = re.search(rb"<sheetData\s*/>", xml)
    if m is not None:
        head, body, tail = xml[:m.start()], b"", xml[m.end():]
    else:
        start = re.search(rb"<sheetData\s*>", xml)
        end = xml.rindex(b"</sheetData>")
        head, body, tail = xml[:start.start()], xml[start.end():end], xml[end + len(b"</sheetData>"):]
    # the dimension covers the blocks too
    r1s = [b.r1 for b in bulks]
    c1s = [b.c1 for b in bulks]
    r2s = [b.r2 for b in bulks]
    c2s = [b.c2 for b in bulks]
    dm = _DIMENSION.search(head)
    if dm is not None:
        if body:  # openpyxl's own cells (an empty sheet says "A1")
            c1, r1, c2, r2 = range_boundaries(dm.group(1).decode())
            r1s.append(r1), c1s.append(c1), r2s.append(r2 or r1), c2s.append(c2 or c1)
        new = (f'<dimension ref="{get_column_letter(min(c1s))}{min(r1s)}:'
               f'{get_column_letter(max(c2s))}{max(r2s)}"/>').encode()
        head = head[:dm.start()] + new + head[dm.end():]
    yield head
    yield b"<sheetData>"
    existing = {}
    for rm in _ROW.finditer(body):
        existing[int(rm.group(1))] = rm
    by_row: dict[int, list[int]] = {}
    for k, b in enumerate(bulks):
        for r in range(b.r1, b.r2 + 1):
            by_row.setdefault(r, []).append(k)
    refs = [[f'<c r="{get_column_letter(b.c1 + j)}' for j in range(b.c2 - b.c1 + 1)] for b in bulks]
    chunk: list[str] = []
    size = 0
    for r in sorted(existing.keys() | by_row.keys()):
        ks = by_row.get(r)
        rm = existing.get(r)
        if ks is None:
            text = rm.group(0).decode()
        elif rm is None and len(ks) == 1:
            b = bulks[ks[0]]
            text = _row_open(ws, r) + _row_text(b, r - b.r1, refs[ks[0]], sattrs[ks[0]]) + "</row>"
        else:
            cells = []  # (column, text)
            for k in ks:
                b = bulks[k]
                cells += [(b.c1 + j, t) for j, t in _row_cells(b, r - b.r1, refs[k], sattrs[k])]
            if rm is not None:
                taken = {}
                for cm in _CELL.finditer(rm.group(2) or b""):
                    taken[column_index_from_string(cm.group(1).decode())] = cm.group(0).decode()
                cells = [(c, t) for c, t in cells if c not in taken] + list(taken.items())
                opening = _SPANS.sub(b"", rm.group(0)[:rm.group(0).index(b">") + 1]).decode()
                if opening.endswith("/>"):
                    opening = opening[:-2] + ">"
            else:
                opening = _row_open(ws, r)
            cells.sort(key=lambda ct: ct[0])
            text = opening + "".join(t for _, t in cells) + "</row>"
        chunk.append(text)
        size += len(text)
        if size > 1 << 20:
            yield "".join(chunk).encode()
            chunk, size = [], 0
    if chunk:
        yield "".join(chunk).encode()
    yield b"</sheetData>"
    yield tail


def inject(data: bytes, sheets: dict) -> bytes:
    """The package ``data`` with the blocks written into their worksheet parts.

    ``sheets`` maps a worksheet part name to ``(ws, bulks, style attribute texts)``; every other
    member is copied as it is (compressed bytes, no inflate).
    """
    from ._package import copy_raw

    zin = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as zo:
        for info in zin.infolist():
            spec = sheets.get(info.filename)
            if spec is None:
                copy_raw(zin, info, zo, info.filename)
                continue
            ws, bulks, sattrs = spec
            zi = zipfile.ZipInfo(info.filename, date_time=info.date_time)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi._compresslevel = 1
            cells = sum((b.r2 - b.r1 + 1) * (b.c2 - b.c1 + 1) for b in bulks)
            big = info.file_size + 80 * cells > (1 << 31) - (1 << 26)  # zip64 only where needed
            with zo.open(zi, "w", force_zip64=big) as dst:
                for part in sheet_xml_chunks(zin.read(info.filename), ws, bulks, sattrs):
                    dst.write(part)
    return out.getvalue()
