"""Defined names (``book.names`` / ``sheet.names``) for the openpyxl engine."""
from __future__ import annotations

import numbers
import re

from openpyxl.workbook.defined_name import DefinedName
from xlwings import base_classes

from ._util import parse_address, quote_sheet, split_sheet_ref

_NAME_RE = re.compile(r"[A-Za-z_\\\u00C0-\uFFFF][\w.\\\u00C0-\uFFFF]*")
_REF_LIKE_RE = re.compile(r"([A-Za-z]{1,3}[0-9]{1,7}|[Rr][0-9]*[Cc]?[0-9]*|[Cc][0-9]*)")


def check_name(name: str) -> None:
    """Raise ``ValueError`` unless ``name`` is a valid Excel defined name."""
    if not isinstance(name, str) or not name or len(name) > 255 or not _NAME_RE.fullmatch(name) \
            or _REF_LIKE_RE.fullmatch(name) or name.upper() in ("TRUE", "FALSE"):
        raise ValueError(f"{name!r} is not a valid Excel name (letters, digits, '_' and '.', "
                         "starting with a letter or '_', and not a cell reference)")


def find_worksheet(wb, title: str):
    low = title.casefold()
    for ws in wb.worksheets:
        if ws.title.casefold() == low:
            return ws
    return None


class Name(base_classes.Name):
    """One defined name; ``ws`` is the owning worksheet of a sheet-scoped name (else ``None``)."""

    def __init__(self, book, dn: DefinedName, ws=None):
        self.book = book
        self.dn = dn
        self.ws = ws

    @property
    def api(self) -> DefinedName:
        return self.dn

    def _container(self):
        return self.ws.defined_names if self.ws is not None else self.book.wb.defined_names

    def delete(self) -> None:
        self._container().pop(self.dn.name, None)

    @property
    def name(self) -> str:
        if self.ws is not None:
            return f"{quote_sheet(self.ws.title)}!{self.dn.name}"
        return self.dn.name

    @name.setter
    def name(self, value: str) -> None:
        value = value.split("!")[-1]
        check_name(value)
        container = self._container()
        container.pop(self.dn.name, None)
        self.dn.name = value
        container[value] = self.dn

    @property
    def refers_to(self) -> str:
        return "=" + (self.dn.attr_text or "")

    @refers_to.setter
    def refers_to(self, value: str) -> None:
        self.dn.attr_text = str(value).lstrip("=")

    @property
    def refers_to_range(self):
        from ._core import Sheet
        from ._range import Range

        text = self.dn.attr_text or ""
        sheet_name, address = split_sheet_ref(text)
        ws = self.ws if sheet_name is None else find_worksheet(self.book.wb, sheet_name)
        bounds = parse_address(address) if ws is not None else None
        if bounds is None:
            raise ValueError(f"name {self.name!r} does not refer to a single range: ={text}")
        return Range(Sheet(self.book, ws), *bounds)

    def __repr__(self) -> str:
        return f"<openpyxl Name {self.name!r}: {self.refers_to}>"


class Names(base_classes.Names):
    """Workbook names (``ws=None``: global and all sheet-scoped ones) or one sheet's names."""

    def __init__(self, book, ws=None):
        self.book = book
        self.ws = ws

    @property
    def api(self):
        return self.ws.defined_names if self.ws is not None else self.book.wb.defined_names

    def _all(self) -> list[Name]:
        out = []
        if self.ws is None:
            out += [Name(self.book, dn) for dn in self.book.wb.defined_names.values()]
            for ws in self.book.wb.worksheets:
                out += [Name(self.book, dn, ws) for dn in ws.defined_names.values()]
        else:
            out += [Name(self.book, dn, self.ws) for dn in self.ws.defined_names.values()]
        out.sort(key=lambda n: n.name.casefold())
        return out

    def __call__(self, name_or_index):
        if isinstance(name_or_index, numbers.Number):
            names = self._all()
            if not 1 <= name_or_index <= len(names):
                raise IndexError(name_or_index)
            return names[int(name_or_index) - 1]
        found = self._find(str(name_or_index))
        if found is None:
            raise KeyError(name_or_index)
        return found

    def _find(self, key: str) -> Name | None:
        low = key.casefold()
        if "!" in key:
            sheet_name, plain = key.rsplit("!", 1)
            sheet_name = sheet_name.strip("'").replace("''", "'")
            ws = find_worksheet(self.book.wb, sheet_name)
            if ws is None:
                return None
            for dn in ws.defined_names.values():
                if dn.name.casefold() == plain.casefold():
                    return Name(self.book, dn, ws)
            return None
        if self.ws is not None:
            for dn in self.ws.defined_names.values():
                if dn.name.casefold() == low:
                    return Name(self.book, dn, self.ws)
            return None
        for dn in self.book.wb.defined_names.values():
            if dn.name.casefold() == low:
                return Name(self.book, dn)
        hits = [n for n in self._all() if n.ws is not None and n.dn.name.casefold() == low]
        return hits[0] if len(hits) == 1 else None

    def contains(self, name_or_index) -> bool:
        if isinstance(name_or_index, numbers.Number):
            return 1 <= name_or_index <= len(self)
        return self._find(str(name_or_index)) is not None

    def __len__(self) -> int:
        return len(self._all())

    def __iter__(self):
        return iter(self._all())

    def add(self, name: str, refers_to: str) -> Name:
        ws = self.ws
        if "!" in name:
            sheet_name, name = name.rsplit("!", 1)
            ws = find_worksheet(self.book.wb, sheet_name.strip("'").replace("''", "'"))
            if ws is None:
                raise ValueError(f"no sheet {sheet_name!r} for the sheet-scoped name {name!r}")
        check_name(name)
        container = ws.defined_names if ws is not None else self.book.wb.defined_names
        for key in [k for k in container if k.casefold() == name.casefold()]:
            del container[key]
        dn = DefinedName(name, attr_text=str(refers_to).lstrip("="))
        container[name] = dn
        return Name(self.book, dn, ws)

    def resolve_range(self, key: str, ws):
        """Bounds of the name ``key`` if it refers to a single block on worksheet ``ws``."""
        for scope in (Names(self.book, ws), Names(self.book, None)):
            found = scope._find(key)
            if found is not None:
                rng = found.refers_to_range
                if rng.sheet._ws is not ws:
                    raise ValueError(f"name {key!r} refers to sheet {rng.sheet.name!r}, not {ws.title!r}")
                return rng.bounds
        return None
