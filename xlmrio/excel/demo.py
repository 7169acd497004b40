"""Build the demo workbook from the bundled dataset and run every registered command on it."""
from __future__ import annotations

import datetime as _dt
import csv
from pathlib import Path

from .. import __version__
from ..datasets import DEMO_YEARS, demo as demo_table
from .layout import satellite_grid, table_grid
from .progress import report
from .registry import commands
from .report import print_setup, set_tab_color, template, templates_dir, write_layout_grid
from .settings import SETTINGS_SHEET, settings_rows

CONCORDANCE_SHEET = "Concordance"
#: regions the demo's Update knows only as a group (East Asia: China's 2002-2007 boom makes their split hard)
DEMO_GROUP = ("CHN", "JPN", "KOR+TWN")


def demo_settings() -> dict:
    return {"table": "MRIO 2007", "table_t0": "MRIO 2002", "prior": "MRIO 2002", "satellite": "CO2",
            "monetary_unit": "million USD",
            "sector_concordance": CONCORDANCE_SHEET, "top_k": 20, "eco_price": 50,
            "display_unit_emissions": "Mt"}  # results read 7,531 Mt rather than 7,531,437 kt


def nine_groups() -> list[list[str]]:
    """The 17-sector → 9-group concordance used for the Fig. 4 layout (workbook_templates)."""
    with open(templates_dir() / "concordance_9_groups.csv", encoding="utf-8") as fh:
        return [row for row in csv.reader(fh)]


def write_inputs(book) -> list[str]:
    """Input sheets of the demo workbook: About, Settings, the two tables with satellites, a concordance."""
    from .engine import add_list_validation

    first = book.sheets[0]
    first.name = "About"
    about = [
        ["xlmrio demo workbook"],
        [f"Built {_dt.date.today().isoformat()} by xlmrio {__version__} from the bundled demo dataset."],
        [None],
        ["Sheet", "What it holds"],
    ]
    for y in DEMO_YEARS:
        about.append([f"MRIO {y}", f"World input-output table {y}: 8 regions x 17 sectors, 5 final-demand "
                                   "categories, million USD, current prices (WIOD 2013 release, aggregated)"])
        about.append([f"MRIO {y} satellites", f"CO2 emissions {y} by region-sector and direct household emissions, "
                                              "kt CO2 (JRC WIOD environmental accounts, bridged)"])
    about += [
        [SETTINGS_SHEET, "Options of every command (edit the Value column; CLI flags override it)"],
        ["Constraints", "Target information of 'Update table': the 2002 table is updated to the 2007 table with "
                        f"{', '.join(DEMO_GROUP)} known only as a group (the seeds' city/province case) and "
                        "compared with the true 2007 table on the group's cells"],
        [CONCORDANCE_SHEET, "17 demo sectors -> 9 sector groups (Fig. 4 layout of the accounts)"],
        ["Contents", "The first sheet: links to every result sheet and table written by xlmrio's commands, when "
                     "and from what each was computed, key figures, a glossary and the region and sector codes"],
        ["result sheets", "Written by xlmrio's commands (marked as xlmrio's; a rerun replaces only them). Blue tabs: "
                          "results; orange: diagnostics; green: tables in input layout; grey: inputs"],
        [None],
        ["Sources", "Timmer, Dietzenbacher, Los, Stehrer & de Vries (2015), An Illustrated User Guide to the World "
                    "Input-Output Database, Review of International Economics 23: 575-605 (WIOD 2013 release)."],
        [None, "Corsatea et al. (2019), World Input-Output Database Environmental Accounts, update 2000-2016, "
               "JRC116234, doi:10.2760/024036."],
        [None, "Derivation, bridges and approximations: xlmrio/datasets/data/PROVENANCE.md."],
    ]
    first.range("A1").value = [r + [None] * (2 - len(r)) for r in about]
    first.range("A1").font.bold = True
    first.range("A1").font.size = 14
    first.range("A4:B4").font.bold = True
    first.range("A1").column_width = 22
    first.range("B1").column_width = 110
    st = book.sheets.add(SETTINGS_SHEET, after=first)
    rows = settings_rows(demo_settings())
    st.range("A1").value = rows
    st.range("A1:D1").font.bold = True
    st.range("A1:D1").color = template("styles")["header"]["fill"]
    for col, w in zip("ABCD", (22, 16, 90, 40)):
        st.range(f"{col}1").column_width = w
    from .settings import OPTIONS

    for k, o in enumerate(OPTIONS):
        if o.choices:
            add_list_validation(st, f"B{k + 2}", list(o.choices))
    last = st
    names = []
    for y in DEMO_YEARS:
        t = demo_table(y)
        sh = book.sheets.add(f"MRIO {y}", after=last)
        sh.range("A1").value = f"{t.name}: intermediate flows, final demand, value added"
        sh.range("A1").font.bold = True
        sh.range("A1").font.size = 13
        write_layout_grid(sh, 3, t.monetary_unit, table_grid(t))
        sat = book.sheets.add(f"MRIO {y} satellites", after=sh)
        sat.range("A1").value = f"{t.name}: satellite accounts (CO2 in kt; direct household emissions in the " \
                                "Households columns)"
        sat.range("A1").font.bold = True
        write_layout_grid(sat, 3, None, satellite_grid(t))
        last = sat
        names += [sh.name, sat.name]
    cons = book.sheets.add("Constraints", after=last)
    cons.range("A1").value = demo_constraints()
    cons.range("A1").column_width = 26
    cons.range("B1").column_width = 22
    cons.range("C1").column_width = 30
    cons.range("D1").column_width = 36
    for i, row in enumerate(demo_constraints()):
        if row[0] in ("Options", "Known totals", "Known cells", "Aggregates", "Coefficient bounds"):
            cons.range((i + 1, 1)).font.bold = True
            cons.range((i + 2, 1), (i + 2, 5)).color = template("styles")["header"]["fill"]
    last = cons
    conc = book.sheets.add(CONCORDANCE_SHEET, after=last)
    conc.range("A1").value = nine_groups()
    conc.range("A1:B1").font.bold = True
    conc.range("A1").column_width = 26
    conc.range("B1").column_width = 34
    _print_inputs(book, names, len(about), len(rows))
    return ["About", SETTINGS_SHEET] + names + ["Constraints", CONCORDANCE_SHEET]


def _print_inputs(book, tables: list[str], about_rows: int, settings_rows_: int) -> None:
    """Grey tabs, frozen headers and a page set-up for the demo's input sheets.

    The tables (179 columns) cannot be read at one page wide: they print as a one-page overview and
    are meant to be read on screen (select a block and print the selection for a readable excerpt).
    """
    print_setup(book.sheets["About"], about_rows, 2, header_rows=(4, 4), freeze=(5, 1))
    print_setup(book.sheets[SETTINGS_SHEET], settings_rows_, 4, header_rows=(1, 1), freeze=(2, 1))
    for name in tables:
        sh = book.sheets[name]
        sat = name.endswith("satellites")
        head = 3 if sat else 5
        last = sh.used_range.last_cell
        print_setup(sh, last.row, last.column, header_rows=(head, head + 1), freeze=(head + 2, 2))
    cons = book.sheets["Constraints"]
    print_setup(cons, cons.used_range.last_cell.row, 5, freeze=(2, 1))
    print_setup(book.sheets[CONCORDANCE_SHEET], len(nine_groups()), 2, header_rows=(1, 1), freeze=(2, 1))
    for name in ["About", SETTINGS_SHEET, *tables, "Constraints", CONCORDANCE_SHEET]:
        set_tab_color(book.sheets[name], "input")


def demo_constraints() -> list[list]:
    """Constraints sheet of the demo: the seeds' grouped-regions case (METHODS §4.6) on real data.

    MRIO 2002 is updated with ``method = auto`` to the 2007 table in which CHN, JPN and KOR+TWN are known only
    as a group (:data:`DEMO_GROUP`; every other number of 2007 is known), and the result is compared with the
    true 2007 table on the group's cells.  The group is one the accuracy benchmark measured
    (bench/bench_update_grouped.py, docs/update-accuracy.md).
    """
    from .constraints import template_rows

    rows = template_rows(demo_table(2002))
    for r in rows:
        if r[0] in ("targets_from", "compare_with"):
            r[1] = "MRIO 2007"
        elif r[0] == "grouped_regions":
            r[1] = ", ".join(DEMO_GROUP)
    return rows


def build_demo(out: str | Path, *, run: bool = True) -> Path:
    """Write the demo workbook to *out* and run every registered command on it."""
    import xlwings as xw

    from .engine import use

    use()
    out = Path(out).resolve()
    report(None, "building the demo workbook from the bundled WIOD/JRC data")
    book = xw.Book()
    write_inputs(book)
    if run:
        for cmd in commands():
            if cmd.name in ("demo",):
                continue
            report(None, f"running '{cmd.name}' ({cmd.help})")
            cmd.func(book)
    book.sheets["About"].activate()
    book.save(str(out))
    book.close()
    return out


def write_input_template(path: str | Path, *, filled: bool) -> Path:
    """xlmrio's input layout as a workbook: the empty template or the filled example (2 regions × 2 sectors worked example).

    Sheets: ``Instructions``, ``MRIO`` (the table), ``MRIO satellites``, ``Settings``. The empty template
    has the labels of a 2-region x 2-sector table and blank numeric cells to overwrite (insert rows and
    columns for a larger table, keeping the header cells 'Region' and 'Sector').
    """
    import numpy as np
    import xlwings as xw

    from ..core.table import MRIOTable
    from .engine import use

    use()
    Z = np.array([[10, 8, 12, 4], [6, 4, 2, 3], [8, 4, 20, 6], [2, 6, 4, 5]], float)
    Y = np.array([[30, 16], [50, 5], [14, 48], [3, 36]], float)
    t = MRIOTable.from_arrays(Z, Y, regions=["R1", "R2"], sectors=["M", "S"], fd_categories=["FD"],
                              exports=[20, 10, 20, 4], satellites={"CO2": ([50, 8, 120, 6], "t")},
                              monetary_unit="MU", name="worked example (2 regions × 2 sectors)")
    grid, sat = table_grid(t), satellite_grid(t)
    if not filled:
        grid = [[None if isinstance(v, float) else v for v in row] for row in grid]
        sat = [[None if isinstance(v, float) else v for v in row] for row in sat]
    book = xw.Book()
    ins = book.sheets[0]
    ins.name = "Instructions"
    lines = [
        ["xlmrio input layout" + (" — filled example (2 regions × 2 sectors worked example of the xlmrio tests)" if filled else " — template")],
        ["Sheet 'MRIO': header row 1 = buying region / destination region / Exports / Other / Total output; "
         "header row 2 = buying sector / final-demand category."],
        ["Rows: one per (region, sector), the same sectors in every region, region by region; then rows whose "
         "column A reads 'Primary input' (value added, taxes, imported inputs ...) and an optional 'Total' row."],
        ["Exports, Other and Total output columns are optional; without Total output, x = Z1 + y is derived."],
        ["Sheet 'MRIO satellites': one row per satellite with its unit; optional final-demand columns hold direct "
         "final-demand emissions (e.g. household fuel use)."],
        ["Empty cells in numeric blocks are errors unless the Settings option allow_empty_cells is yes."],
        ["Run a command from the MRIO ribbon tab, or: xlmrio run this.xlsx accounts"],
    ]
    ins.range("A1").value = lines
    ins.range("A1").font.bold = True
    ins.range("A1").column_width = 120
    sh = book.sheets.add("MRIO", after=ins)
    sh.range("A1").value = t.name if filled else "Your table"
    sh.range("A1").font.bold = True
    write_layout_grid(sh, 3, t.monetary_unit if filled else "", grid)
    ss = book.sheets.add("MRIO satellites", after=sh)
    write_layout_grid(ss, 1, None, sat)
    cs = book.sheets.add("Constraints", after=ss)
    from .constraints import template_rows

    cs.range("A1").value = template_rows(t)
    cs.range("A1").column_width = 26
    from .commands import write_settings_sheet

    write_settings_sheet(book, {"table": "MRIO"})          # every option, descriptions, drop-down lists
    print_setup(ins, len(lines), 1, freeze=(2, 0))
    for sheet, head in ((sh, 3), (ss, 1)):
        last = sheet.used_range.last_cell
        print_setup(sheet, last.row, last.column, header_rows=(head, head + 1), freeze=(head + 2, 2))
    print_setup(cs, cs.used_range.last_cell.row, 5, freeze=(2, 1))
    for sheet in book.sheets:
        set_tab_color(sheet, "input")
    path = Path(path)
    book.save(str(path))
    book.close()
    return path


def write_constraints_template(path: str | Path) -> Path:
    """The Constraints sheet of 'Update table' on its own (every section, with examples)."""
    import xlwings as xw

    from .constraints import template_rows
    from .engine import use

    use()
    book = xw.Book()
    sh = book.sheets[0]
    sh.name = "Constraints"
    rows = template_rows()
    sh.range("A1").value = rows
    for i, row in enumerate(rows):
        if row[0] in ("Options", "Known totals", "Known cells", "Aggregates", "Coefficient bounds"):
            sh.range((i + 1, 1)).font.bold = True
            sh.range((i + 2, 1), (i + 2, 5)).color = template("styles")["header"]["fill"]
    for col, w in zip("ABCDE", (26, 22, 30, 36, 10)):
        sh.range(f"{col}1").column_width = w
    print_setup(sh, len(rows), 5, freeze=(2, 1))
    set_tab_color(sh, "input")
    path = Path(path)
    book.save(str(path))
    book.close()
    return path
