"""The "Methods" sheet: the formulas the commands use, from the methods text shipped with xlmrio
(``workbook_templates/methods.md``, installed as ``xlmrio/templates/methods.md``).

Every result sheet cites it as "sheet Methods, §…", so a reader of the workbook has what the citation names.
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import pandas as pd

from ...errors import WorkbookError
from ..report import ResultSheet, Table, meta_line, templates_dir

METHODS_SHEET = "Methods"
_SPLIT = re.compile(r"(?<!\\)\|")


def methods_path() -> Path:
    """The methods text installed with xlmrio."""
    return templates_dir() / "methods.md"


@lru_cache(maxsize=1)
def methods_sections() -> tuple[tuple[str, tuple[tuple[str, str, str], ...]], ...]:
    """``(heading, ((§, formula, meaning), ...))`` per ``## `` section of the methods text.

    Raises
    ------
    WorkbookError
        When the text is missing from the installation.
    """
    try:
        text = methods_path().read_text(encoding="utf-8")
    except FileNotFoundError:
        raise WorkbookError("methods.md is missing from the xlmrio installation") from None
    sections: list[tuple[str, list]] = []
    for line in text.splitlines():
        if line.startswith("## "):
            sections.append((line[3:].strip(), []))
        elif line.startswith("| §") and sections:
            cells = [c.strip().replace("\\|", "|") for c in _SPLIT.split(line.strip().strip("|"))]
            if len(cells) == 3 and cells[0] != "§":  # not the header row
                sections[-1][1].append(tuple(cells))
    return tuple((h, tuple(rows)) for h, rows in sections if rows)


def glossary() -> list[tuple[str, str]]:
    """``(term, meaning)`` of the glossary section of the methods text (e.g. for a contents sheet)."""
    return [(term, meaning) for heading, rows in methods_sections() if heading.endswith("Glossary")
            for _, term, meaning in rows]


def has_section(ref: str) -> bool:
    """True when the methods text has the row ``ref`` (e.g. ``"§2.6"``)."""
    return any(r[0] == ref for _, rows in methods_sections() for r in rows)


def build_methods() -> ResultSheet:
    """The Methods sheet: one table per section (§ | formula | meaning)."""
    tables = []
    for heading, rows in methods_sections():
        frame = pd.DataFrame([r[1:] for r in rows], columns=["formula", "meaning"],
                             index=pd.Index([r[0] for r in rows], name="§"))
        tables.append(Table(heading, frame, formats={"*": "text"}))
    return ResultSheet(METHODS_SHEET, "methods", "Methods: the formulas behind the result sheets",
                       "Notation, formulas, sign conventions and references; result sheets cite it as "
                       "'sheet Methods, §…'", tables,
                       ["Installed with xlmrio as xlmrio/templates/methods.md (the same text)."],
                       meta=meta_line("methods"), kind="result", source="xlmrio methods text")
