"""Error messages on bad input, tried as a new user would (issue #13 item 9): each workbook starts from the
shipped example (workbook_templates/xlmrio_input_example.xlsx), is edited with openpyxl the way a user
edits it in Excel, and runs through the CLI. Every message names the sheet and cell (and the option) and
stderr carries exactly one line."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import openpyxl
import pytest

from xlmrio import cli
from xlmrio.excel.constraints import read_constraints, template_rows
from xlmrio.excel.layout import Grid

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "workbook_templates" / "xlmrio_input_example.xlsx"
TEMPLATE = ROOT / "workbook_templates" / "xlmrio_constraints_template.xlsx"


def _run(capsys, path: Path, *args: str) -> tuple[int, str, str]:
    code = cli.main(["run", str(path), *args, "--out", str(path.with_name("out.xlsx"))])
    out, err = capsys.readouterr()
    return code, out, err


def _one_line_error(code: int, err: str) -> str:
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def _example(tmp_path: Path, name: str, edit) -> Path:
    wb = openpyxl.load_workbook(EXAMPLE)
    edit(wb)
    path = tmp_path / name
    wb.save(path)
    return path


def _section_row(ws, heading: str) -> int:
    """First empty row under a Constraints section's header row (1-based)."""
    r = next(c.row for c in ws["A"] if c.value == heading) + 2
    while any(ws.cell(r, j).value not in (None, "") for j in range(1, 6)):
        r += 1
    return r


# --------------------------------------------------------------------------- aggregate

def test_aggregate_concordance_missing_a_sector_names_sheet_and_cell(tmp_path, capsys):
    def edit(wb):
        ws = wb.create_sheet("My groups")
        ws.append(["Sector", "Group"])
        ws.append(["M", "Goods"])                      # 'S' forgotten
    path = _example(tmp_path, "agg.xlsx", edit)
    line = _one_line_error(*_run(capsys, path, "aggregate", "--sector-concordance", "My groups")[::2])
    assert line.startswith("xlmrio: error: 'My groups'!A3: sector 'S'")    # the row where it belongs
    assert "sector_concordance" in line


def test_aggregate_region_concordance_missing_a_region(tmp_path, capsys):
    def edit(wb):
        ws = wb.create_sheet("Regions")
        ws.append(["R2", "South"])
    path = _example(tmp_path, "aggr.xlsx", edit)
    line = _one_line_error(*_run(capsys, path, "aggregate", "--region-concordance", "Regions")[::2])
    assert "'Regions'!A2: region 'R1'" in line and "region_concordance" in line


# --------------------------------------------------------------------------- update / Constraints

def test_targets_from_missing_sheet_blamed_on_its_own_cell(tmp_path, capsys):
    def edit(wb):
        ws = wb["Constraints"]
        row = next(c.row for c in ws["A"] if c.value == "targets_from")
        ws.cell(row, 2).value = "MRIO 2099"
    path = _example(tmp_path, "tf.xlsx", edit)
    line = _one_line_error(*_run(capsys, path, "update")[::2])
    assert line.startswith("xlmrio: error: 'Constraints'!B4: targets_from: no sheet or defined name called 'MRIO 2099'")
    assert "option 'table'" not in line


def test_compare_with_missing_sheet_blamed_on_its_own_cell(tmp_path, capsys):
    def edit(wb):
        ws = wb["Constraints"]
        r = _section_row(ws, "Known totals")
        ws.cell(r, 1).value, ws.cell(r, 2).value, ws.cell(r, 3).value = "R1", "M", 110.0
        row = next(c.row for c in ws["A"] if c.value == "compare_with")
        ws.cell(row, 2).value = "Truth"
    path = _example(tmp_path, "cw.xlsx", edit)
    line = _one_line_error(*_run(capsys, path, "update")[::2])
    assert "'Constraints'!B5: compare_with: no sheet or defined name called 'Truth'" in line


def _updated_table(path: Path, out_text: str):
    """The updated table read back from the output workbook (sheet named in the CLI's 'wrote' line)."""
    import xlwings as xw

    from xlmrio.excel import engine
    from xlmrio.excel.reader import read_table

    engine.use()
    names = out_text.split("wrote ", 1)[1].split(" to ")[0].split(", ")
    sheet = next(n for n in names if n not in ("Update",) and not n.endswith("satellites"))
    book = xw.Book(str(path.with_name("out.xlsx")))
    try:
        return read_table(book, {"table": sheet, "layout": "auto"}).table
    finally:
        book.close()


def test_typing_a_total_into_the_example_constraints_row_works(tmp_path, capsys):
    """The example's Constraints sheet leaves one empty row under 'Region | Sector | Total output'; a total
    typed there used to read the next heading as data ('unknown region-sector Known cells|')."""
    def edit(wb):
        ws = wb["Constraints"]
        r = _section_row(ws, "Known totals")
        ws.cell(r, 1).value, ws.cell(r, 2).value, ws.cell(r, 3).value = "R1", "M", 110.0
    path = _example(tmp_path, "tot.xlsx", edit)
    code, out, err = _run(capsys, path, "update")
    assert code == 0, err
    t = _updated_table(path, out)
    assert t.x[0] == pytest.approx(110.0, rel=1e-6)


def test_constraints_template_instructions_work(tmp_path, capsys):
    """The regenerated template (ROOM empty rows per section): type a total into the first empty row of
    'Known totals' and copy the coefficient-bound example row into 'Coefficient bounds'; the update
    honours both (checked on the result, not on the solver's report)."""
    def edit(wb):
        del wb["Constraints"]
        ws = wb.create_sheet("Constraints")
        for row in openpyxl.load_workbook(TEMPLATE)["Constraints"].iter_rows(values_only=True):
            ws.append(list(row))
        r = _section_row(ws, "Known totals")
        ws.cell(r, 1).value, ws.cell(r, 2).value, ws.cell(r, 3).value = "R1", "M", 110.0
        example = next(c.row for c in ws["F"] if c.value == "(Coefficient bounds)")
        target = _section_row(ws, "Coefficient bounds")
        for j in range(1, 6):                        # copy A:E of the example row
            ws.cell(target, j).value = ws.cell(example, j).value
        ws.cell(target, 4).value = 0.05                # then adapted: the prior's 4/60 = 0.067 must fall
    path = _example(tmp_path, "tmpl.xlsx", edit)
    code, out, err = _run(capsys, path, "update")
    assert code == 0, err
    t = _updated_table(path, out)
    assert t.x[0] == pytest.approx(110.0, rel=1e-6)
    idx = list(t.index)
    k, l = idx.index(("R1", "M")), idx.index(("R2", "S"))
    assert 0.01 - 1e-7 <= t.Z[k, l] / t.x[l] <= 0.05 + 1e-7


def test_checked_in_constraints_template_is_current_and_has_room():
    wb = openpyxl.load_workbook(TEMPLATE)
    rows = [list(r) for r in wb["Constraints"].iter_rows(values_only=True)]
    expected = template_rows()
    assert rows == expected, "regenerate: python scripts/build_templates.py (constraints template only)"
    for heading in ("Known totals", "Known cells", "Aggregates", "Coefficient bounds"):
        i = next(k for k, r in enumerate(rows) if r[0] == heading)
        assert all(v is None for r in rows[i + 2:i + 4] for v in r), heading   # room to type


def test_blank_rows_inside_a_section_are_skipped_and_examples_are_not_read():
    from test_update_command import worked_example

    rows = template_rows()
    i = next(k for k, r in enumerate(rows) if r[0] == "Known totals")
    rows[i + 4][:3] = ["R2", "S", 70.0]                # third empty row, two blank rows above it
    c = read_constraints(Grid("Constraints", rows), worked_example())
    assert c.totals == {("R2", "S"): 70.0}
    assert not c.coefficient_bounds and not c.known_cells and not c.aggregates   # examples ignored


# --------------------------------------------------------------------------- overflow, transfer

def test_huge_value_gives_one_stderr_line_without_numpy_warnings(tmp_path):
    def edit(wb):
        wb["MRIO"]["C7"] = 1e308
        wb["MRIO"]["D7"] = 1e308                       # their row sum overflows to inf
    path = _example(tmp_path, "big.xlsx", edit)
    env = {k: v for k, v in __import__("os").environ.items()}
    env["PYTHONPATH"] = str(ROOT) + (":" + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    res = subprocess.run([sys.executable, "-m", "xlmrio", "run", str(path), "accounts", "--out",
                          str(tmp_path / "o.xlsx")], capture_output=True, text=True, env=env, timeout=300)
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "RuntimeWarning" not in res.stderr, res.stderr
    assert lines[0].startswith("xlmrio: error: 'MRIO'!")


def test_transfer_with_differing_sector_labels_names_cells_and_table_t0(tmp_path, capsys):
    def edit(wb):
        for name in ("MRIO", "MRIO satellites"):
            copy = wb.copy_worksheet(wb[name])
            copy.title = name.replace("MRIO", "MRIO 2000")
        t0 = wb["MRIO 2000"]
        for row in t0.iter_rows():
            for c in row:
                if c.value == "S" and c.column <= 8:
                    c.value = "Services"                 # renamed in the earlier year
        for c in wb["MRIO 2000 satellites"][2]:
            if c.value == "S":
                c.value = "Services"
    path = _example(tmp_path, "tr.xlsx", edit)
    line = _one_line_error(*_run(capsys, path, "transfer", "--table-t0", "MRIO 2000")[::2])
    assert "'MRIO 2000'!" in line and "'MRIO'!" in line and "'Services'" in line and "'S'" in line
    assert "table_t0" in line
