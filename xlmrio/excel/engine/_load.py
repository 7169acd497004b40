"""Open a workbook with openpyxl, leaving worksheets unparsed until something needs their cells.

openpyxl's loader parses every worksheet into ``Cell`` objects (about 0.5 KB each: a 2 M-cell table
costs seconds and a gigabyte). :class:`LazyReader` reads everything else as openpyxl does (workbook,
styles, names, print titles...) but makes each plain worksheet an empty ``Worksheet`` (a *stub*)
remembered with its zip part. The engine reads a stub's values from the file
(:mod:`._values`), parses it with openpyxl (:func:`bind_sheet`) only when a command touches its
structure (writes, formats, merges, formulas), and copies an untouched stub's part byte for byte
when it saves (:mod:`._package`).

A worksheet stays eager (parsed at load, as before) when its relationships include anything but
drawings (charts, pictures), comments, printer settings and hyperlinks: tables and pivot tables carry
workbook-wide ids that openpyxl renumbers on save.
"""
from __future__ import annotations

import io
import warnings
import zipfile

from openpyxl.cell import MergedCell
from openpyxl.comments.comment_sheet import CommentSheet
from openpyxl.drawing.spreadsheet_drawing import SpreadsheetDrawing
from openpyxl.packaging.relationship import RelationshipList, get_dependents, get_rels_path
from openpyxl.pivot.table import TableDefinition
from openpyxl.reader.drawings import find_images
from openpyxl.reader.excel import ExcelReader
from openpyxl.worksheet._reader import WorksheetReader
from openpyxl.worksheet.table import Table
from openpyxl.xml.constants import COMMENTS_NS
from openpyxl.xml.functions import fromstring

#: Relationship types (last path segment) a worksheet may have and still be copied byte for byte.
COPYABLE_RELS = frozenset({"drawing", "vmlDrawing", "comments", "printerSettings", "hyperlink"})


def copyable(rels: RelationshipList) -> bool:
    """Whether a worksheet with these relationships can stay unparsed and be copied as it is."""
    return all(r.Type.rsplit("/", 1)[-1] in COPYABLE_RELS for r in rels)


class LazyReader(ExcelReader):
    """openpyxl's ``ExcelReader`` with worksheets left as stubs (``stubs``: worksheet -> zip part)."""

    def __init__(self, src: bytes, keep_vba: bool):
        super().__init__(io.BytesIO(src), read_only=False, keep_vba=keep_vba, data_only=False,
                         keep_links=True, rich_text=False)
        self.src = src
        self.stubs: dict = {}

    def read_worksheets(self):
        for sheet, rel in self.parser.find_sheets():
            if rel.target not in self.valid_files:
                continue
            if "chartsheet" in rel.Type:
                self.read_chartsheet(sheet, rel)
                continue
            rels_path = get_rels_path(rel.target)
            rels = RelationshipList()
            if rels_path in self.valid_files:
                rels = get_dependents(self.archive, rels_path)
            ws = self.wb.create_sheet(sheet.name)
            ws._rels = rels
            if copyable(rels):
                self.stubs[ws] = rel.target
            else:
                bind_sheet(self, ws, rel.target)
            ws.sheet_state = sheet.state

    def reopen(self) -> None:
        """Open the archive again (``read`` closes it) to parse a stub later."""
        self.archive = zipfile.ZipFile(io.BytesIO(self.src))


def bind_sheet(reader: ExcelReader, ws, part: str) -> None:
    """Parse the worksheet part into ``ws``: openpyxl's ``ExcelReader.read_worksheets`` for one sheet."""
    rels = ws._rels
    with reader.archive.open(part) as fh:
        parser = WorksheetReader(ws, fh, reader.shared_strings, reader.data_only, reader.rich_text)
        parser.bind_all()
    for r in rels.find(COMMENTS_NS):
        comment_sheet = CommentSheet.from_tree(fromstring(reader.archive.read(r.target)))
        for ref, comment in comment_sheet.comments:
            cell = ws[ref]
            if isinstance(cell, MergedCell):
                warnings.warn(f"Cell '{ws.title}':{cell.coordinate} is part of a merged range but has a "
                              "comment which will be removed because merged cells cannot contain any data.")
                continue
            cell.comment = comment
    if reader.wb.vba_archive and ws.legacy_drawing:
        ws.legacy_drawing = rels.get(ws.legacy_drawing).target
    else:
        ws.legacy_drawing = None
    for t in parser.tables:
        ws.add_table(Table.from_tree(fromstring(reader.archive.read(t))))
    for rel in rels.find(SpreadsheetDrawing._rel_type):
        charts, images = find_images(reader.archive, rel.target)
        for c in charts:
            ws.add_chart(c, c.anchor)
        for im in images:
            ws.add_image(im, im.anchor)
    pivot_caches = None
    for r in rels.find(TableDefinition.rel_type):
        if pivot_caches is None:
            pivot_caches = reader.parser.pivot_caches
        pivot = TableDefinition.from_tree(fromstring(reader.archive.read(r.Target)))
        pivot.cache = pivot_caches[pivot.cacheId]
        ws.add_pivot(pivot)
