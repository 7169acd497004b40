"""The Constraints option grouped_regions (issue #14, the seeds' city/province case, METHODS §4.6): parsed with
errors at its cell, turned into the same information as the accuracy benchmark builds
(bench/bench_update_grouped.py, written separately), refused where it cannot be used, and the proportional-split
baseline equal to a split written here with plain loops."""
from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
import xlwings as xw
from numpy.testing import assert_allclose

import xlmrio
from xlmrio.errors import WorkbookError
from xlmrio.excel import engine
from xlmrio.excel.commands.update import proportional_split
from xlmrio.excel.constraints import grouped_of, read_constraints
from xlmrio.excel.demo import DEMO_GROUP, demo_constraints, write_inputs
from xlmrio.excel.layout import Grid
from xlmrio.excel.registry import get
from test_update_command import _rows, _set_option
from conftest import worked_example

engine.use()
BENCH = Path(__file__).resolve().parents[1] / "bench"


def _option_cell(rows, key) -> str:
    return f"B{next(i for i, r in enumerate(rows) if r[0] == key) + 1}"


def test_demo_constraints_ask_for_auto_on_a_benchmarked_group():
    rows = demo_constraints()
    c = read_constraints(Grid("Constraints", rows), xlmrio.datasets.demo(2002))
    assert c.options["method"] == "auto"
    assert c.options["grouped_regions"] == list(DEMO_GROUP) == ["CHN", "JPN", "KOR+TWN"]
    assert c.options["targets_from"] == c.options["compare_with"] == "MRIO 2007"


@pytest.mark.parametrize("value,match", [
    ("R1, Atlantis", "grouped_regions: unknown region(s) 'Atlantis'; the prior table has R1, R2"),
    ("R1, R1", "grouped_regions: 'R1' listed twice"),
    ("R1", "grouped_regions: list at least two regions"),
    ("R1; R2", "unknown region(s) 'R1; R2'"),          # the separator is a comma
])
def test_grouped_regions_errors_name_the_cell(value, match):
    rows = _rows(options={"method": "auto", "grouped_regions": value})
    with pytest.raises(WorkbookError, match=match.replace("(", r"\(").replace(")", r"\)")) as ei:
        read_constraints(Grid("Constraints", rows), worked_example())
    assert str(ei.value).startswith(f"'Constraints'!{_option_cell(rows, 'grouped_regions')}:"), str(ei.value)


def test_grouped_regions_parse():
    c = read_constraints(Grid("Constraints", _rows(options={"grouped_regions": " R2 ,R1"})), worked_example())
    assert c.options["grouped_regions"] == ["R2", "R1"]


def _book_with(t, **options):
    from xlmrio.excel.layout import table_grid

    book = xw.Book()
    book.sheets[0].name = "MRIO"
    book.sheets[0]["A1"].value = table_grid(t)
    book.sheets.add("Target")["A1"].value = table_grid(t)
    book.sheets.add("Constraints")["A1"].value = _rows(options=options)
    return book


def test_grouped_regions_without_targets_from_is_an_error_at_its_cell():
    book = _book_with(worked_example(), grouped_regions="R1, R2")
    try:
        with pytest.raises(WorkbookError) as ei:
            get("update").func(book, table="MRIO")
        assert str(ei.value).startswith("'Constraints'!B3: grouped_regions needs a table"), str(ei.value)
        assert sorted(s.name for s in book.sheets) == ["Constraints", "MRIO", "Target"]     # nothing written
    finally:
        book.close()


@pytest.mark.parametrize("method", ["ras", "gras"])
def test_biproportional_refuses_grouped_regions(method):
    book = _book_with(worked_example(), method=method, targets_from="Target", grouped_regions="R1, R2")
    try:
        with pytest.raises(WorkbookError, match="cannot use the section.s. grouped_regions"):
            get("update").func(book, table="MRIO")
    finally:
        book.close()


def _bench():
    sys.path.insert(0, str(BENCH))
    try:
        import bench_update_grouped as b
    finally:
        sys.path.remove(str(BENCH))
    return b


def _demo_pair():
    return xlmrio.datasets.demo(2002), xlmrio.datasets.demo(2007)


@pytest.mark.parametrize("pair,group", [("demo", DEMO_GROUP), ("demo", ("EU", "OHI")),
                                        ("demo", ("USA", "OEM", "RoW")), ("random", ("R0", "R2"))])
def test_information_equals_the_benchmarks(pair, group):
    """grouped_of (dict form, named sums) gives exactly the information of the benchmark's separately written
    grouped_information (array form): the same known cells and totals, the same group sums.  The random pair
    has exports and 'other' columns, the demo has neither."""
    t0, t1 = _demo_pair() if pair == "demo" else _random_pair()
    totals, known, aggs = grouped_of(t1, t0, "MRIO 2007", list(group))
    ref = _bench().grouped_information(t0, t1, group)
    labs = [(r, s) for r in t0.regions for s in t0.sectors]
    assert totals == {labs[k]: v for k, v in enumerate(ref["totals"]) if np.isfinite(v)}
    want = {}
    for block, arr in ref["known_cells"].items():
        for idx in zip(*np.nonzero(np.isfinite(arr))):
            if block == "Z":
                want[("Z", labs[idx[0]], labs[idx[1]])] = arr[idx]
            elif block == "Y":
                k, j = idx
                want[("Y", labs[k], (t0.regions[j // t0.K], t0.fd_categories[j % t0.K]))] = arr[idx]
            elif block == "V":
                want[("V", t0.va_rows[idx[0]], labs[idx[1]])] = arr[idx]
            else:
                want[(block, labs[idx[0]])] = arr[idx]
    assert known == want
    def text(ref):        # the benchmark writes a region-sector as "r|s", grouped_of as (r, s)
        return repr(tuple(f"{p[0]}|{p[1]}" if isinstance(p, tuple) and p[1] in t0.sectors else p for p in ref))

    mine = sorted((sorted(map(text, g.members)), g.value) for g in aggs)
    theirs = sorted((sorted(map(text, g.members)), g.value) for g in ref["aggregates"])
    assert [m for m, _ in mine] == [m for m, _ in theirs]
    assert_allclose([v for _, v in mine], [v for _, v in theirs], rtol=1e-12)
    assert not any(g.soft for g in aggs) and all(g.name.startswith("group sum: ") for g in aggs)


def split_by_loops(prior, truth, group):
    """The proportional split written with dictionaries: cells touching the group keyed by their labels with
    each member region replaced by 'G'; each key's true sum shared by the prior's cells (evenly if all 0)."""
    labs = [(r, s) for r in prior.regions for s in prior.sectors]
    key = [("G", s) if r in group else (r, s) for r, s in labs]
    Z = np.array(truth.Z, dtype=float)
    x = np.array(truth.x, dtype=float)
    cells, tsum, psum = defaultdict(list), defaultdict(float), defaultdict(float)
    for k in range(len(labs)):
        for l in range(len(labs)):
            if key[k][0] == "G" or key[l][0] == "G":
                kk = ("Z", key[k], key[l])
                cells[kk].append((k, l))
                tsum[kk] += truth.Z[k, l]
                psum[kk] += prior.Z[k, l]
        if key[k][0] == "G":
            kk = ("x", key[k])
            cells[kk].append((k,))
            tsum[kk] += truth.x[k]
            psum[kk] += prior.x[k]
    for kk, where in cells.items():
        for c in where:
            share = (prior.Z[c] if kk[0] == "Z" else prior.x[c]) / psum[kk] if psum[kk] else 1 / len(where)
            (Z if kk[0] == "Z" else x)[c] = tsum[kk] * share
    return Z, x


@pytest.mark.parametrize("group", [DEMO_GROUP, ("EU", "OHI")])
def test_proportional_split_equals_a_split_written_with_loops(group):
    t0, t1 = xlmrio.datasets.demo(2002), xlmrio.datasets.demo(2007)
    Z, x = proportional_split(t0, t1, list(group))
    Zl, xl = split_by_loops(t0, t1, group)
    assert_allclose(Z, Zl, rtol=1e-12, atol=1e-9)
    assert_allclose(x, xl, rtol=1e-12)
    # the split meets every group sum but its members' rows and columns do not balance
    member = np.array([r in group for r in t0.regions for _ in t0.sectors])
    assert_allclose(x[~member], t1.x[~member], rtol=0)
    gap = np.abs(Z.sum(axis=1) + t1.y - x)[member]      # row identity x = Z1 + y with the true final demand
    assert gap.max() > 1e-3 * x[member].max()


def test_zero_prior_group_sum_is_split_evenly():
    t = worked_example()
    Z0 = t.Z.copy()
    Z0[[0, 0, 2, 2], [0, 2, 0, 2]] = 0.0                # every M -> M flow of the group is zero in the prior
    prior, truth = t.replace(Z=Z0), t
    Z, _ = proportional_split(prior, truth, ["R1", "R2"])
    Zl, _ = split_by_loops(prior, truth, ("R1", "R2"))
    assert_allclose(Z, Zl, rtol=1e-12)
    assert_allclose(Z[[0, 0, 2, 2], [0, 2, 0, 2]], truth.Z[[0, 0, 2, 2], [0, 2, 0, 2]].sum() / 4)


def test_demo_inputs_run_the_grouped_case_with_anais_refused_plainly():
    """With method anais the grouped demo case is infeasible (docs/update-accuracy.md), and the error is one
    readable message; nothing is written."""
    from xlmrio.errors import XlmrioError

    book = xw.Book()
    try:
        write_inputs(book)
        _set_option(book, "method", "anais")
        before = [s.name for s in book.sheets]
        with pytest.raises(XlmrioError) as ei:
            get("update").func(book)
        assert "\n" not in str(ei.value) and len(str(ei.value)) < 2000
        assert [s.name for s in book.sheets] == before
    finally:
        book.close()


def test_cli_unknown_grouped_region_is_one_line_naming_the_cell(tmp_path, capsys):
    """As a user meets it: the shipped example, grouped_regions typed with a region the table lacks."""
    import openpyxl

    from xlmrio import cli

    wb = openpyxl.load_workbook(Path(__file__).resolve().parents[1] / "workbook_templates"
                                / "xlmrio_input_example.xlsx")
    ws = wb["Constraints"]
    row = next(c.row for c in ws["A"] if c.value == "grouped_regions")
    ws.cell(row, 2).value = "R1, R3"
    path = tmp_path / "grouped.xlsx"
    wb.save(path)
    code = cli.main(["run", str(path), "update", "--out", str(tmp_path / "out.xlsx")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1, err
    assert f"'Constraints'!B{row}: grouped_regions: unknown region(s) 'R3'" in err[0]
    assert not (tmp_path / "out.xlsx").exists()


def _random_pair():
    from conftest import random_mrio

    kw = dict(exports=True, other=True)
    return random_mrio(np.random.default_rng(1), 4, 3, **kw), random_mrio(np.random.default_rng(2), 4, 3, **kw)


def test_grouped_update_through_the_workbook_meets_the_information():
    """Prior and target sheets with exports and 'other' columns: auto runs KRAS, every number off the group is
    the target's, the group's sums are kept, and the accuracy table scores the group's cells."""
    from xlmrio.excel.layout import table_grid
    from xlmrio.excel.reader import read_table
    from xlmrio.excel.settings import resolve

    t0, t1 = _random_pair()
    book = xw.Book()
    try:
        book.sheets[0].name = "MRIO"
        book.sheets[0]["A1"].value = table_grid(t0)
        book.sheets.add("Target")["A1"].value = table_grid(t1)
        book.sheets.add("Constraints")["A1"].value = _rows(options={"targets_from": "Target", "compare_with": "Target",
                                                                    "grouped_regions": "R0, R2"})
        assert get("update").func(book, table="MRIO")[0] == "Update"
        new = read_table(book, resolve(book, {"table": "MRIO updated"})).table
        cells = book.sheets["Update"].used_range.options(ndim=2).value
    finally:
        book.close()
    rows: dict = {}
    for r in cells:                         # Table 1 first; keep a key's first value
        if r and isinstance(r[0], str):
            rows.setdefault(r[0], r[1])
    assert rows["method"] == "KRAS (picked by auto)" and rows["regions known only as a group"] == "R0, R2"
    member = np.array([r in ("R0", "R2") for r in t0.regions for _ in t0.sectors])
    on = member[:, None] | member[None, :]
    assert_allclose(new.Z[~on], t1.Z[~on], rtol=1e-6, atol=1e-6)
    assert_allclose(new.exports[~member], t1.exports[~member], rtol=1e-6)
    assert_allclose(new.other[~member], t1.other[~member], rtol=1e-6, atol=1e-6)
    n = t0.n
    for M in ("exports", "other"):
        got, want = getattr(new, M)[member].reshape(2, n).sum(0), getattr(t1, M)[member].reshape(2, n).sum(0)
        assert_allclose(got, want, rtol=1e-6, atol=1e-6)
    assert_allclose(new.x[member].reshape(2, n).sum(0), t1.x[member].reshape(2, n).sum(0), rtol=1e-6)
    assert any(isinstance(r[0], str) and r[0].startswith("Table 2. Accuracy on the cells of R0, R2") for r in cells)
