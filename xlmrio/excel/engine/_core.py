"""Engine, apps, books and sheets of the openpyxl engine."""
from __future__ import annotations

import datetime as dt
import io
import math
import numbers
import os
import re
import sys
import tempfile
from contextlib import contextmanager
from operator import itemgetter
from pathlib import Path

import openpyxl
from xlwings import NoSuchObjectError, base_classes

from ...errors import WorkbookError
from ._chart import Charts, rebuild_all
from ._load import LazyReader, bind_sheet
from ._names import Names, find_worksheet
from ._range import Note, Range, Rows
from ._bulk import inject, register_styles
from ._package import splice
from ._values import read_values
from ._util import (MAX_COLUMNS, MAX_ROWS, CellError, a1, needs_quotes, no_gc, parse_address, quote_sheet,
                    split_sheet_ref)

try:
    import numpy as np
except ImportError:  # pragma: no cover
    np = None
try:
    import pandas as pd
except ImportError:  # pragma: no cover
    pd = None

#: File types the engine opens and saves.
EXTENSIONS = (".xlsx", ".xlsm", ".xltx", ".xltm")
_CALC_MODES = ("automatic", "manual", "semiautomatic")


# ============================================================================ engine
def _clean_element(v, datetime_builder, empty_as, number_builder, err_to_str):
    if v is None:
        return empty_as
    t = type(v)
    if t is CellError:
        return str(v) if err_to_str else None
    if t is dt.datetime and datetime_builder is not dt.datetime:
        return datetime_builder(year=v.year, month=v.month, day=v.day, hour=v.hour, minute=v.minute,
                                second=v.second, microsecond=v.microsecond, tzinfo=None)
    if number_builder is not None and t is float:
        return number_builder(v)
    return v


class Engine:
    """The engine object registered with ``xw.engines`` (name ``"openpyxl"``, type ``"file"``)."""

    def __init__(self):
        self.apps = Apps(self)

    @property
    def name(self) -> str:
        return "openpyxl"

    @property
    def type(self) -> str:
        return "file"

    @staticmethod
    def clean_value_data(data, datetime_builder, empty_as, number_builder, err_to_str):
        if isinstance(data, Rows) and not data.has_errors and number_builder is None \
                and (not data.has_dates or datetime_builder is dt.datetime) \
                and (empty_as is None or not data.has_empty):
            return data
        return [[_clean_element(v, datetime_builder, empty_as, number_builder, err_to_str) for v in row]
                for row in data]

    @staticmethod
    def prepare_xl_data_element(x, options=None):
        t = type(x)
        if t is float:
            if x != x:
                return None
            if x in (math.inf, -math.inf):
                return CellError("#NUM!")
            return x
        if t is int or t is str or t is bool or x is None:
            return x
        if t is dt.datetime:
            return x.replace(tzinfo=None) if x.tzinfo is not None else x
        if t is dt.date or t is dt.time or t is dt.timedelta or t is CellError:
            return x
        if np is not None:
            if isinstance(x, np.bool_):
                return bool(x)
            if isinstance(x, np.integer):
                return int(x)
            if isinstance(x, np.floating):
                return Engine.prepare_xl_data_element(float(x))
            if isinstance(x, np.datetime64):
                if np.isnat(x):
                    return None
                x = pd.Timestamp(x) if pd is not None else x.astype("datetime64[us]").item()
        if pd is not None:
            if x is pd.NaT or x is pd.NA:
                return None
            if isinstance(x, pd.Timestamp):
                return x.to_pydatetime().replace(tzinfo=None)
            if isinstance(x, pd.Timedelta):
                return x.to_pytimedelta()
        if isinstance(x, dt.datetime):
            return x.replace(tzinfo=None)
        if isinstance(x, numbers.Integral):
            return int(x)
        if isinstance(x, numbers.Real):
            return Engine.prepare_xl_data_element(float(x))
        if isinstance(x, str):
            return str(x)
        return x


# ============================================================================ apps
class Apps(base_classes.Apps):
    """All apps of the engine; the first one is the active app."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self._apps: list[App] = []
        self._next_pid = -1
        self._book_counter = 0

    def keys(self):
        return [app.pid for app in self._apps]

    def add(self, spec=None, add_book=None, xl=None, visible=None, **kwargs):
        app = App(self, add_book=True if add_book is None else bool(add_book), visible=visible)
        self._apps.insert(0, app)
        return app

    @staticmethod
    def cleanup():
        pass

    def __iter__(self):
        return iter(list(self._apps))

    def __len__(self) -> int:
        return len(self._apps)

    def __getitem__(self, key):
        for app in self._apps:
            if app.pid == key:
                return app
        return self._apps[key]


class App(base_classes.App):
    """A stand-in for an Excel instance: holds books and the (stored, inert) app settings."""

    def __init__(self, apps: Apps, add_book: bool = True, visible=None):
        self.apps = apps
        self._pid = apps._next_pid
        apps._next_pid -= 1
        self._books = Books(self)
        self._settings = {"visible": bool(visible) if visible is not None else False,
                          "screen_updating": True, "display_alerts": True, "enable_events": True,
                          "interactive": True, "calculation": "automatic", "status_bar": False,
                          "cut_copy_mode": None}
        if add_book:
            self._books.add()

    # identity
    @property
    def engine(self) -> Engine:
        return self.apps.engine

    @property
    def api(self):
        return None

    @property
    def pid(self) -> int:
        return self._pid

    @property
    def hwnd(self):
        return None

    @property
    def version(self) -> str:
        return openpyxl.__version__

    @property
    def path(self) -> str:
        return os.path.dirname(openpyxl.__file__)

    @property
    def startup_path(self) -> str:
        return ""

    @property
    def books(self):
        return self._books

    @property
    def selection(self):
        book = self._books.active
        if book is None:
            return None
        ws = book.wb.active
        sel = ws.sheet_view.selection[0].sqref if ws.sheet_view.selection else "A1"
        bounds = parse_address(str(sel).split()[0]) or (1, 1, 1, 1)
        return Range(Sheet(book, ws), *bounds)

    def activate(self, steal_focus=False):
        if self in self.apps._apps:
            self.apps._apps.remove(self)
            self.apps._apps.insert(0, self)

    def quit(self):
        for book in list(self._books):
            book.close()
        if self in self.apps._apps:
            self.apps._apps.remove(self)
        if not self.apps._apps:
            self.apps._book_counter = 0  # a fresh "Excel" starts again at Book1

    kill = quit

    def calculate(self):
        """No-op: the engine has no calculation engine (formula results are cached values)."""

    def run(self, macro, args):
        raise NotImplementedError("the openpyxl engine cannot run VBA macros")

    def alert(self, prompt, title=None, buttons="ok", mode=None, callback=None):
        print(f"[{title or 'xlmrio'}] {prompt}", file=sys.stderr)
        if buttons == "ok":
            return "ok"
        raise NotImplementedError("the openpyxl engine cannot ask questions (no user interface)")

    # stored settings
    def _get(self, key):
        return self._settings[key]

    def _set(self, key, value):
        self._settings[key] = value

    visible = property(lambda self: self._get("visible"), lambda self, v: self._set("visible", bool(v)))
    screen_updating = property(lambda self: self._get("screen_updating"),
                               lambda self, v: self._set("screen_updating", bool(v)))
    display_alerts = property(lambda self: self._get("display_alerts"),
                              lambda self, v: self._set("display_alerts", bool(v)))
    enable_events = property(lambda self: self._get("enable_events"),
                             lambda self, v: self._set("enable_events", bool(v)))
    interactive = property(lambda self: self._get("interactive"),
                           lambda self, v: self._set("interactive", bool(v)))
    status_bar = property(lambda self: self._get("status_bar"), lambda self, v: self._set("status_bar", v))
    cut_copy_mode = property(lambda self: self._get("cut_copy_mode"),
                             lambda self, v: self._set("cut_copy_mode", None))

    @property
    def calculation(self) -> str:
        return self._settings["calculation"]

    @calculation.setter
    def calculation(self, value: str) -> None:
        if value not in _CALC_MODES:
            raise ValueError(f"calculation must be one of {_CALC_MODES}, not {value!r}")
        self._settings["calculation"] = value


# ============================================================================ books
class Books(base_classes.Books):
    def __init__(self, app: App):
        self.app = app
        self._books: list[Book] = []
        self._active: Book | None = None

    @property
    def api(self):
        return None

    @property
    def active(self):
        if self._active in self._books:
            return self._active
        return self._books[-1] if self._books else None

    def __call__(self, name_or_index):
        if isinstance(name_or_index, numbers.Number):
            return self._books[int(name_or_index) - 1]
        key = str(name_or_index).casefold()
        for book in self._books:
            if book.name.casefold() == key or book.fullname.casefold() == key:
                return book
        raise KeyError(name_or_index)

    def __len__(self) -> int:
        return len(self._books)

    def __iter__(self):
        return iter(list(self._books))

    def _unsaved_name(self) -> str:
        apps = self.app.apps
        taken = {b.name.casefold() for app in apps for b in app.books}
        while True:
            apps._book_counter += 1  # Excel numbers new books Book1, Book2... per session
            if f"book{apps._book_counter}" not in taken:
                return f"Book{apps._book_counter}"

    def add(self):
        wb = openpyxl.Workbook()
        wb.active.title = "Sheet1"
        book = Book(self, wb, path=None, name=self._unsaved_name())
        self._books.append(book)
        self._active = book
        return book

    def open(self, fullname=None, update_links=None, read_only=None, format=None, password=None,
             *args, **kwargs):
        if password is not None:
            raise NotImplementedError("the openpyxl engine cannot open password-protected workbooks")
        path = Path(os.path.realpath(os.fspath(fullname)))
        book = Book.from_file(self, path)
        self._books.append(book)
        self._active = book
        return book


class Book(base_classes.Book):
    """A workbook held in memory as an openpyxl ``Workbook`` (formulas kept, ``data_only=False``).

    Cached formula results are read lazily from the original file bytes (a second, read-only,
    ``data_only=True`` pass over the sheets that hold formulas).
    """

    def __init__(self, books: Books, wb, path: Path | None, name: str | None = None, src: bytes | None = None,
                 reader=None):
        self.books = books
        self.wb = wb
        self._path = path
        self._name = name
        self._src = src
        self._orig_titles = {ws: ws.title for ws in wb.worksheets} if src is not None else {}
        self._fcache: dict = {}
        self._stale_cells: dict = {}
        self._ro_wb = None
        # worksheets not parsed yet (stubs): worksheet -> zip part; their values, read from the file
        self._reader = reader
        self._stubs: dict = dict(reader.stubs) if reader is not None else {}
        self._values: dict = {}
        self._activated = False
        self._style_sizes = _style_sizes(wb) if reader is not None else None
        # large plain value blocks kept out of openpyxl's cells until saved (see ``_bulk``): ws -> [Bulk]
        self._bulks: dict = {}

    @classmethod
    def from_file(cls, books: Books, path: Path) -> "Book":
        if path.suffix.lower() not in EXTENSIONS:
            raise WorkbookError(f"cannot open {path.name}: the openpyxl engine reads {', '.join(EXTENSIONS)} files")
        if not path.exists():
            raise FileNotFoundError(f"No such file: '{path}'")
        src = path.read_bytes()
        keep_vba = path.suffix.lower() in (".xlsm", ".xltm")
        try:
            with no_gc():
                reader = LazyReader(src, keep_vba)
                reader.read()
        except Exception as exc:  # zipfile.BadZipFile, KeyError, InvalidFileException...
            raise WorkbookError(f"cannot read {path.name} as an Excel workbook: {exc}") from exc
        return cls(books, reader.wb, path, src=src, reader=reader)

    # -------------------------------------------------------------- unparsed sheets
    def _is_stub(self, ws) -> bool:
        return ws in self._stubs

    def _materialize(self, ws) -> None:
        """Parse a stub worksheet into openpyxl cells (its structure is about to be used or changed)."""
        part = self._stubs.pop(ws, None)
        if part is None:
            return
        self._values.pop(ws, None)
        title, state = ws.title, ws.sheet_state
        self._reader.reopen()
        try:
            with no_gc():
                bind_sheet(self._reader, ws, part)
        finally:
            self._reader.archive.close()
        ws.title, ws.sheet_state = title, state
        if self._activated:
            ws.sheet_view.tabSelected = ws is self.wb.active

    def _materialize_all(self) -> None:
        for ws in list(self._stubs):
            self._materialize(ws)

    def _unbulk(self, ws, rect=None) -> None:
        """Turn the large blocks of ``ws`` that meet ``rect`` (all of them when ``None``) into openpyxl
        cells: a cell operation other than restyling is about to touch them."""
        bulks = self._bulks.get(ws)
        if not bulks:
            return
        keep = []
        with no_gc():
            for b in bulks:
                if rect is None or b.intersects(rect):
                    b.materialize(ws)
                else:
                    keep.append(b)
        if keep:
            self._bulks[ws] = keep
        else:
            del self._bulks[ws]

    def _sheet_values(self, ws):
        """Values of a stub worksheet (read once from the file), else ``None``."""
        part = self._stubs.get(ws)
        if part is None:
            return None
        vals = self._values.get(ws)
        if vals is None:
            vals = self._values[ws] = read_values(self._src, self._orig_titles[ws], part)
        return vals

    # -------------------------------------------------------------- identity
    @property
    def api(self):
        return self.wb

    @property
    def name(self) -> str:
        return self._path.name if self._path is not None else self._name

    @property
    def fullname(self) -> str:
        return str(self._path) if self._path is not None else self._name

    @property
    def app(self) -> App:
        return self.books.app

    @property
    def sheets(self):
        self._check_open()
        return Sheets(self)

    @property
    def names(self):
        self._check_open()
        return Names(self, None)

    def _check_open(self):
        if self.wb is None:
            raise WorkbookError(f"the workbook {self.name} has been closed")

    def activate(self):
        self.books._active = self

    def close(self):
        if self in self.books._books:
            self.books._books.remove(self)
        self._stubs, self._values, self._reader, self._bulks = {}, {}, None, {}
        if self._ro_wb is not None:
            self._ro_wb.close()
        self.wb = None
        self._ro_wb = None
        self._src = None
        self._fcache = {}

    def json(self):
        raise NotImplementedError("Book.json() is only for xlwings Server")

    def to_pdf(self, path, quality):
        raise NotImplementedError("the openpyxl engine cannot print to PDF")

    # -------------------------------------------------------------- save
    def save(self, path=None, password=None):
        """Write the workbook atomically: a temporary file in the target folder, then ``os.replace``."""
        self._check_open()
        if password is not None:
            raise NotImplementedError("the openpyxl engine cannot write password-protected workbooks")
        if path is not None:
            target = Path(os.path.abspath(os.fspath(path)))
        elif self._path is not None:
            target = self._path
        else:
            target = Path.cwd() / f"{self._name}.xlsx"
        if target.suffix.lower() not in EXTENSIONS:
            raise WorkbookError(f"cannot save as {target.name}: use one of {', '.join(EXTENSIONS)}")
        if target.suffix.lower() in (".xlsm", ".xltm") and self.wb.vba_archive is None:
            raise WorkbookError(f"cannot save {target.name}: the workbook has no VBA project; save as .xlsx")
        rebuild_all(self)
        bulks = {ws: (bl, register_styles(self.wb, bl)) for ws, bl in self._bulks.items()
                 if ws in self.wb.worksheets}
        self.wb.template = target.suffix.lower() in (".xltx", ".xltm")
        self.wb.calculation.fullCalcOnLoad = True  # Excel/LibreOffice recompute on open
        # Serialise in memory first: a failure inside openpyxl never touches the disk.
        buf = io.BytesIO()
        vba = self.wb.vba_archive
        if target.suffix.lower() in (".xlsx", ".xltx"):
            self.wb.vba_archive = None  # an .xlsx must not carry macros (Excel refuses the file)
        try:
            with no_gc(), _exact_floats():
                self.wb.save(buf)
        finally:
            self.wb.vba_archive = vba
        results = self._formula_results()
        if results:
            buf = io.BytesIO(_with_cached_results(buf.getvalue(), results))
        if self._stubs:
            active = self.wb.active
            stubs = [(ws.path[1:], part, self._activated and ws is not active) for ws, part in self._stubs.items()]
            buf = io.BytesIO(splice(buf.getvalue(), self._src, stubs,
                                    keep_styles=_style_sizes(self.wb) == self._style_sizes))
        if bulks:
            buf = io.BytesIO(inject(buf.getvalue(), {ws.path[1:]: (ws, bl, attrs) for ws, (bl, attrs) in bulks.items()}))
        fd, tmp = tempfile.mkstemp(prefix=f".~{target.stem}.", suffix=".tmp", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(buf.getbuffer())
                fh.flush()
                os.fsync(fh.fileno())
            _copy_mode(target, tmp)
            os.replace(tmp, target)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
        self._path = target

    # -------------------------------------------------------------- formula results
    def _formula_results(self) -> dict:
        """``{sheet title: {(row, col): cached result}}`` of formula cells whose result is known (read
        from the original file and not rewritten in this session), to be written back on save."""
        out = {}
        for ws in self.wb.worksheets:
            if ws not in self._orig_titles:
                continue
            vals = {}
            for (r, c), cell in ws._cells.items():
                if cell.data_type == "f" and isinstance(cell.value, str):
                    v = self._cached_value(ws, r, c)
                    if v is not None:
                        vals[(r, c)] = v
            if vals:
                out[ws.title] = vals
        return out

    def _stale(self, ws) -> set:
        """Cells of ``ws`` whose formula was written in this session (no cached result)."""
        s = self._stale_cells.get(ws)
        if s is None:
            s = self._stale_cells[ws] = set()
        return s

    def _cached_value(self, ws, r: int, c: int):
        if (r, c) in self._stale_cells.get(ws, ()):
            return None
        cache = self._fcache.get(ws)
        if cache is None:
            cache = self._fcache[ws] = self._load_formula_results(ws)
        return cache.get((r, c))

    def _load_formula_results(self, ws) -> dict:
        title = self._orig_titles.get(ws)
        if title is None or self._src is None:
            return {}
        keys = {k for k, cell in ws._cells.items() if cell.data_type == "f"}
        if not keys:
            return {}
        if self._ro_wb is None:
            with no_gc():
                self._ro_wb = openpyxl.load_workbook(io.BytesIO(self._src), read_only=True, data_only=True,
                                                     keep_links=False)
        cws = self._ro_wb[title]
        rmin, rmax = min(k[0] for k in keys), max(k[0] for k in keys)
        cmin, cmax = min(k[1] for k in keys), max(k[1] for k in keys)
        out = {}
        with no_gc():
            for i, row in enumerate(cws.iter_rows(min_row=rmin, max_row=rmax, min_col=cmin, max_col=cmax)):
                r = rmin + i
                for j, cell in enumerate(row):
                    key = (r, cmin + j)
                    if key in keys:
                        v = cell.value
                        if v is not None:
                            if cell.data_type == "e":
                                v = CellError(v)
                            elif type(v) is int:
                                v = float(v)
                            elif type(v) is dt.date:
                                v = dt.datetime(v.year, v.month, v.day)
                        out[key] = v
        return out


def _style_sizes(wb) -> tuple:
    """Sizes of the workbook's style tables: equal before and after a session when no style was added."""
    return tuple(len(x) for x in (wb._cell_styles, wb._fonts, wb._fills, wb._borders, wb._number_formats,
                                  wb._alignments, wb._protections, wb._named_styles,
                                  wb._differential_styles.styles))


_FORMULA_CELL = re.compile(rb'<c r="([A-Z]{1,3})([0-9]+)"([^>]*)>(<f(?: [^>]*)?>.*?</f>|<f [^>]*/>)<v\s*/></c>', re.S)


def _with_cached_results(data: bytes, results: dict) -> bytes:
    """Put cached formula results back into a workbook openpyxl wrote (it writes ``<v/>``), so
    readers that do not recalculate (pandas, this engine, a later ``xlmrio run``) see the values the
    input file had. Only cells whose formula was not rewritten are given a result."""
    import xml.etree.ElementTree as ET
    import zipfile
    from xml.sax.saxutils import escape

    from openpyxl.utils.cell import column_index_from_string

    zin = zipfile.ZipFile(io.BytesIO(data))
    # sheet title -> its part, through the workbook's relationships
    targets = {rel.get("Id"): rel.get("Target") for rel in ET.fromstring(zin.read("xl/_rels/workbook.xml.rels"))}
    rid = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
    parts = {}
    for sh in ET.fromstring(zin.read("xl/workbook.xml")).iter(
            "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}sheet"):
        target = targets.get(sh.get(rid))
        if target:
            parts["xl/" + target.lstrip("/").removeprefix("xl/")] = sh.get("name")

    def cell_xml(m, vals):
        col, row, attrs, f = m.group(1), int(m.group(2)), m.group(3), m.group(4)
        v = vals.get((row, column_index_from_string(col.decode())))
        if v is None:
            return m.group(0)
        attrs = re.sub(rb'\s+t="[^"]*"', b"", attrs)
        if isinstance(v, CellError):
            t, text = b' t="e"', escape(str(v))
        elif isinstance(v, bool):
            t, text = b' t="b"', "1" if v else "0"
        elif isinstance(v, (int, float)):
            t, text = b"", repr(float(v))
        elif isinstance(v, str):
            t, text = b' t="str"', escape(v)
        else:   # dates and anything else: leave for Excel to recalculate
            return m.group(0)
        return b'<c r="' + col + m.group(2) + b'"' + attrs + t + b">" + f + b"<v>" + text.encode() + b"</v></c>"

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            raw = zin.read(item.filename)
            title = parts.get(item.filename)
            if title in results:
                raw = _FORMULA_CELL.sub(lambda m, vals=results[title]: cell_xml(m, vals), raw)
            zout.writestr(item, raw)
    return out.getvalue()


@contextmanager
def _exact_floats():
    """Make openpyxl write floats with ``repr`` (shortest exact form) instead of ``%.16g``.

    openpyxl's cell writer rounds to 16 significant digits, losing up to one unit in the last
    place; Excel writes 17. The patch is scoped to one save and restored afterwards.
    """
    import openpyxl.cell._writer as cell_writer

    original = cell_writer.safe_string

    def safe_string(value):
        if type(value) is float and math.isfinite(value):
            return repr(value)
        return original(value)

    cell_writer.safe_string = safe_string
    try:
        yield
    finally:
        cell_writer.safe_string = original


def _copy_mode(target: Path, tmp: str) -> None:
    try:
        mode = os.stat(target).st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    os.chmod(tmp, mode)


# ============================================================================ sheets
_BAD_TITLE_RE = re.compile(r"[\\/?*\[\]:]")


class Sheets(base_classes.Sheets):
    def __init__(self, book: Book):
        self.book = book

    @property
    def api(self):
        return self.book.wb.worksheets

    @property
    def active(self):
        wb = self.book.wb
        ws = wb.active
        if ws not in wb.worksheets:
            ws = wb.worksheets[0]
        return Sheet(self.book, ws)

    def __call__(self, name_or_index):
        wss = self.book.wb.worksheets
        if isinstance(name_or_index, numbers.Number):
            i = int(name_or_index)
            if not 1 <= i <= len(wss):
                raise IndexError(f"sheet index {i} out of range ({len(wss)} sheets)")
            return Sheet(self.book, wss[i - 1])
        ws = find_worksheet(self.book.wb, str(name_or_index))
        if ws is None:
            raise NoSuchObjectError(f"Sheet {name_or_index} doesn't exist.")
        return Sheet(self.book, ws)

    def __contains__(self, key) -> bool:
        return find_worksheet(self.book.wb, str(key)) is not None

    def __len__(self) -> int:
        return len(self.book.wb.worksheets)

    def __iter__(self):
        for ws in list(self.book.wb.worksheets):
            yield Sheet(self.book, ws)

    def add(self, before=None, after=None, name=None):
        wb = self.book.wb
        if name is None:
            taken = {ws.title.casefold() for ws in wb.worksheets}
            n = len(wb.worksheets) + 1
            while f"sheet{n}" in taken:
                n += 1
            name = f"Sheet{n}"
        else:
            _check_title(wb, name)
        if before is not None:
            index = wb._sheets.index(before._ws)
        elif after is not None:
            index = wb._sheets.index(after._ws) + 1
        else:
            index = wb._sheets.index(wb.active) if wb.active in wb._sheets else 0
        ws = wb.create_sheet(title=name, index=index)
        sheet = Sheet(self.book, ws)
        sheet.activate()
        return sheet


def _check_title(wb, name: str, ignore=None) -> None:
    if not name or len(name) > 31 or _BAD_TITLE_RE.search(name) or name.startswith("'") or name.endswith("'"):
        raise ValueError(f"{name!r} is not a valid sheet name (1-31 characters, none of \\ / ? * [ ] :)")
    other = find_worksheet(wb, name)
    if other is not None and other is not ignore:
        raise ValueError(f"Sheet named '{name}' already present in workbook")


def _rename_in_text(text: str, old: str, new: str) -> str:
    """Point sheet references ``old!``/``'old'!`` in a formula or name at sheet ``new``."""
    quoted = "'" + re.escape(old.replace("'", "''")) + "'!"
    plain = "" if needs_quotes(old) else r"|(?<![\w.'])" + re.escape(old) + "!"
    return re.sub(quoted + plain, lambda m: quote_sheet(new) + "!", text, flags=re.IGNORECASE)


class Sheet(base_classes.Sheet):
    """A worksheet; ``api`` is the openpyxl ``Worksheet``."""

    def __init__(self, book: Book, ws):
        self._book = book
        self._ws = ws

    @property
    def ws(self):
        """The openpyxl worksheet, parsed from the file first if it was not yet (see ``_load``)."""
        ws = self._ws
        if ws in self._book._stubs:
            self._book._materialize(ws)
        return ws

    @property
    def api(self):
        return self.ws

    @property
    def book(self) -> Book:
        return self._book

    @property
    def name(self) -> str:
        return self._ws.title

    @name.setter
    def name(self, value: str) -> None:
        ws = self._ws
        old = ws.title
        if value == old:
            return
        wb = self.book.wb
        _check_title(wb, value, ignore=ws)
        if old.casefold() in {t.casefold() for t in self.book._orig_titles.values()}:
            # untouched sheets of the file may refer to it: parse them so their formulas follow
            self.book._materialize_all()
        if value.casefold() == old.casefold():
            # openpyxl would "deduplicate" a case-only rename against the sheet itself
            ws.title = f"~xlmrio~{id(ws)}"[:31]
        ws.title = value
        # Excel rewrites references to the renamed sheet; do it for names and formulas.
        for dn in list(wb.defined_names.values()) + [d for w in wb.worksheets for d in w.defined_names.values()]:
            if dn.attr_text:
                dn.attr_text = _rename_in_text(dn.attr_text, old, value)
        for w in wb.worksheets:
            for cell in w._cells.values():
                if cell.data_type == "f" and isinstance(cell._value, str) and "!" in cell._value:
                    cell._value = _rename_in_text(cell._value, old, value)
            for dv in w.data_validations.dataValidation:
                if dv.formula1 and "!" in dv.formula1:
                    dv.formula1 = _rename_in_text(dv.formula1, old, value)

    @property
    def names(self):
        return Names(self.book, self._ws)

    @property
    def index(self) -> int:
        return self.book.wb.worksheets.index(self._ws) + 1

    # -------------------------------------------------------------- ranges
    def _bounds(self, arg) -> tuple[int, int, int, int]:
        if isinstance(arg, Range):
            if arg.sheet._ws is not self._ws:
                raise ValueError("the range lies on another sheet")
            return arg.bounds
        if isinstance(arg, tuple):
            if len(arg) == 2:
                r, c = int(arg[0]), int(arg[1])
                return r, c, r, c
            if len(arg) == 4:
                r, c, nr, nc = (int(x) for x in arg)
                return r, c, r + max(nr, 1) - 1, c + max(nc, 1) - 1
            raise ValueError(f"a cell tuple has 2 or 4 items, not {arg!r}")
        if isinstance(arg, str):
            text = arg
            if "!" in text:
                sheet_name, text = split_sheet_ref(text)
                if sheet_name is not None and sheet_name.casefold() != self._ws.title.casefold():
                    raise ValueError(f"address {arg!r} refers to another sheet than {self._ws.title!r}")
            bounds = parse_address(text)
            if bounds is None:
                bounds = Names(self.book, None).resolve_range(text, self._ws)
            if bounds is None:
                raise NoSuchObjectError(f"The address/named range '{arg}' doesn't exist.")
            return bounds
        raise TypeError(f"cannot make a range from {arg!r}")

    def range(self, arg1, arg2=None):
        a = self._bounds(arg1)
        if arg2 is None:
            return Range(self, *a)
        b = self._bounds(arg2)
        return Range(self, min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))

    @property
    def cells(self):
        return Range(self, 1, 1, MAX_ROWS, MAX_COLUMNS)

    @property
    def used_range(self):
        vals = self.book._sheet_values(self._ws)
        if vals is not None:
            return Range(self, *(vals.used or (1, 1, 1, 1)))
        keys = self.ws._cells.keys()
        rects = [b.rect for b in self.book._bulks.get(self._ws, ())]  # large blocks count whole
        if keys:
            col = itemgetter(1)
            with no_gc():
                rects.append((min(keys)[0], min(map(col, keys)), max(keys)[0], max(map(col, keys))))
        if not rects:
            return Range(self, 1, 1)
        return Range(self, min(r[0] for r in rects), min(r[1] for r in rects),
                     max(r[2] for r in rects), max(r[3] for r in rects))

    # -------------------------------------------------------------- sheet operations
    def activate(self):
        wb = self.book.wb
        ws = self._ws
        for w in wb._sheets:
            if hasattr(w, "sheet_view"):
                w.sheet_view.tabSelected = w is ws
        wb.active = wb._sheets.index(ws)
        if ws.sheet_state != "visible":
            ws.sheet_state = "visible"
        self.book._activated = True

    select = activate

    def clear_contents(self):
        self.used_range.clear_contents()

    def clear_formats(self):
        self.used_range.clear_formats()

    def clear(self):
        ws = self.ws
        self.book._bulks.pop(ws, None)
        with no_gc():
            ws._cells.clear()
        for mr in list(ws.merged_cells.ranges):
            ws.merged_cells.remove(mr)
        ws.data_validations.dataValidation = []
        ws.conditional_formatting = type(ws.conditional_formatting)()
        ws._hyperlinks = []

    def autofit(self, axis=None):
        self.used_range.autofit(axis)

    def delete(self):
        wb = self.book.wb
        ws = self._ws
        if len(wb.worksheets) <= 1:
            raise WorkbookError("a workbook must keep at least one visible sheet", ws.title)
        old = ws.title
        active = wb.active
        idx = wb._sheets.index(ws)
        wb.remove(ws)
        self.book._stubs.pop(ws, None)
        self.book._bulks.pop(ws, None)
        self.book._values.pop(ws, None)
        for dn in list(wb.defined_names.values()) + [d for w in wb.worksheets for d in w.defined_names.values()]:
            if dn.attr_text and _rename_in_text(dn.attr_text, old, "\x00") != dn.attr_text:
                dn.attr_text = "#REF!"
        if active is ws or active not in wb._sheets:
            Sheet(self.book, wb.worksheets[min(idx, len(wb.worksheets) - 1)]).activate()
        else:
            wb.active = wb._sheets.index(active)  # indices shifted: keep the same sheet active

    def copy(self, before=None, after=None):
        if (before or after).book is not self.book:
            raise NotImplementedError("the openpyxl engine copies sheets only within one workbook")
        book = self.book
        book._unbulk(self._ws)
        new = book.wb.copy_worksheet(self.ws)
        if self.ws in book._orig_titles:  # the copy shares the original's cached formula results
            book._orig_titles[new] = book._orig_titles[self.ws]
            book._stale(new).update(book._stale(self.ws))
        self.move_ws(new, before, after)

    def move(self, before=None, after=None):
        self.move_ws(self._ws, before, after)

    def move_ws(self, ws, before, after):
        wb = self.book.wb
        active = wb.active
        wb._sheets.remove(ws)
        index = wb._sheets.index(before._ws) if before is not None else wb._sheets.index(after._ws) + 1
        wb._sheets.insert(index, ws)
        if active in wb._sheets:
            wb.active = wb._sheets.index(active)

    @property
    def charts(self):
        return Charts(self)

    @property
    def freeze_panes(self):
        return FreezePanes(self)

    @property
    def visible(self) -> bool:
        return self._ws.sheet_state == "visible"

    @visible.setter
    def visible(self, value: bool) -> None:
        self._ws.sheet_state = "visible" if value else "hidden"

    @property
    def show_gridlines(self) -> bool:
        return self.ws.sheet_view.showGridLines is not False

    @show_gridlines.setter
    def show_gridlines(self, value: bool) -> None:
        self.ws.sheet_view.showGridLines = bool(value)

    @property
    def notes(self):
        return [Note(self, cell) for cell in self.ws._cells.values() if getattr(cell, "_comment", None)]

    def _unsupported(self, *a, **k):
        raise NotImplementedError("not supported by the openpyxl engine")

    to_html = _unsupported

    @property
    def shapes(self):
        raise NotImplementedError("Sheet.shapes is not supported by the openpyxl engine")

    tables = pictures = pivot_tables = page_setup = shapes


class FreezePanes:
    """``sheet.freeze_panes``: the given block (e.g. ``"A1"``, ``"1:1"``, ``"A:A"``) stays frozen."""

    def __init__(self, sheet: Sheet):
        self.sheet = sheet

    def freeze_at(self, frozen_range) -> None:
        r1, c1, r2, c2 = self.sheet._bounds(frozen_range)
        row = 1 if r2 == MAX_ROWS else r2 + 1
        col = 1 if c2 == MAX_COLUMNS else c2 + 1
        self.sheet.ws.freeze_panes = a1(row, col, row_absolute=False, col_absolute=False)

    def unfreeze(self) -> None:
        self.sheet.ws.freeze_panes = None


engine = Engine()
