"""Settings and Help: the Settings sheet with every option, and a sheet listing commands and options."""
from __future__ import annotations

import pandas as pd

from .. import settings as st
from ..registry import register
from ..report import ResultSheet, Table, meta_line, write_results


def write_settings_sheet(book, values: dict | None = None) -> str:
    """Create the Settings sheet with every option, its default, description and a drop-down list, or add the
    options an existing Settings sheet lacks (existing values are never changed)."""
    from ..engine import add_list_validation
    from ..report import template

    names = [s.name for s in book.sheets]
    rows = st.settings_rows(values)
    if st.SETTINGS_SHEET not in names:
        sheet = book.sheets.add(st.SETTINGS_SHEET, before=book.sheets[0])
        sheet.range("A1").value = rows
        start = 2
        todo = list(enumerate(st.OPTIONS))
    else:
        sheet = book.sheets[st.SETTINGS_SHEET]
        st.read_settings(book)  # report a malformed sheet before touching it
        have = {str(r[0]).strip() for r in (sheet.used_range.options(ndim=2).value or []) if r and r[0]}
        missing = [(k, o) for k, o in enumerate(st.OPTIONS) if o.name not in have]
        last = sheet.used_range.last_cell.row
        if missing:
            sheet.range((last + 1, 1)).value = [rows[k + 1] for k, _ in missing]
        start = last + 1
        todo = [(start - 2 + i, o) for i, (_, o) in enumerate(missing)]
    sheet.range("A1:D1").font.bold = True
    sheet.range("A1:D1").color = template("styles")["header"]["fill"]
    for col, w in zip("ABCD", (22, 16, 90, 40)):
        sheet.range(f"{col}1").column_width = w
    for k, o in todo:
        if o.choices:
            add_list_validation(sheet, f"B{k + 2}", list(o.choices))
    if start == 2:  # a new sheet: frozen header, landscape page set-up
        from ..report import print_setup

        print_setup(sheet, len(rows), 4, header_rows=(1, 1), freeze=(2, 1))
    return sheet.name


@register("settings")
def settings(book, **options) -> list[str]:
    return [write_settings_sheet(book, st.resolve(None, options) if options else None)]


def build_help() -> list[ResultSheet]:
    from ..registry import commands

    cmds = pd.DataFrame([(c.label, c.group, c.help) for c in commands()], columns=["button", "ribbon group", "what it does"],
                        index=pd.Index([c.name for c in commands()], name="command"))
    opts = pd.DataFrame([(_default_cell(o), ", ".join(o.choices), o.help)
                         for o in st.OPTIONS], columns=["default", "allowed values", "description"],
                        index=pd.Index([o.name for o in st.OPTIONS], name="option"))
    return [ResultSheet("xlmrio help", "help", "xlmrio: commands and options",
                        "Every command reads the table named in the Settings sheet and writes its own result sheets; "
                        "inputs are never changed", [
                            Table("Commands", cmds, formats={"*": "text"}),
                            Table("Options of the Settings sheet", opts, formats={"*": "text", "default": "general"}),
                        ], ["Without Excel: xlmrio run WORKBOOK COMMAND [--option value ...]; xlmrio --help.",
                            "Input layout: workbook_templates/xlmrio_input_template.xlsx; the filled example "
                            "xlmrio_input_example.xlsx; the Update table constraints: "
                            "xlmrio_constraints_template.xlsx.",
                            "Formulas, notation and references: the sheet Methods, written with the results of any "
                            "command."], meta=meta_line("help"), kind="result", source="xlmrio's command registry",
                        key_figures=[("commands", len(cmds), ""), ("options", len(opts), "")])]


def _default_cell(o: st.Option):
    """An option's default as a cell value: numbers stay numbers, yes/no for switches, '' for none."""
    if o.default in ("", None):
        return ""
    if o.kind == "bool":
        return "yes" if o.default else "no"
    if isinstance(o.default, (int, float)):
        return o.default
    return str(o.default)


@register("help")
def help_(book, **options) -> list[str]:
    return write_results(book, build_help())
