"""The Update command with method 'auto' and 'kras' (issue #14): the method that ran and why is on the
sheet; on the demo's margins auto runs GRAS, whose Z equals RAS's on the same margins (xlmrio.core.ras)."""
from __future__ import annotations

import pytest
import xlwings as xw
from numpy.testing import assert_allclose

import xlmrio
from xlmrio.core import ras as R
from xlmrio.excel import engine
from xlmrio.excel.demo import write_inputs
from xlmrio.excel.reader import read_table
from xlmrio.excel.registry import get
from xlmrio.excel.settings import resolve
from test_update_command import _set_option

engine.use()


@pytest.fixture(scope="module")
def demo_book():
    """The demo's inputs with margins only (the grouped-regions option cleared)."""
    book = xw.Book()
    write_inputs(book)
    _set_option(book, "grouped_regions", None)
    yield book
    book.close()


def _run(book, method):
    _set_option(book, "method", method)
    try:
        get("update").func(book)
        new = read_table(book, resolve(book, {"table": "MRIO 2002 updated"})).table
        cells = book.sheets["Update"].used_range.options(ndim=2).value
    finally:
        _set_option(book, "method", "auto")
    return new, cells


@pytest.mark.parametrize("method", ["auto", "kras"])
def test_auto_and_kras_on_the_demo_margins(demo_book, method):
    new, cells = _run(demo_book, method)
    t0, t1 = xlmrio.datasets.demo(2002), xlmrio.datasets.demo(2007)
    Zr = R.ras(t0.Z, t1.x - t1.y, t1.x - t1.V.sum(axis=0)).Z
    assert_allclose(new.Z, Zr, rtol=1e-6, atol=1e-6 * Zr.max())
    assert_allclose(new.x, t1.x, rtol=1e-8)
    rows: dict = {}
    for r in cells:          # Table 1 (solution summary) comes first; keep the first value of a key
        if r and isinstance(r[0], str):
            rows.setdefault(r[0], r[1])
    if method == "auto":
        assert rows["method"].startswith("GRAS") and rows["method"].endswith("(picked by auto)")
        assert rows["why this method"] == "margins only"
        line = next(r[0] for r in cells if isinstance(r[0], str) and r[0].startswith("Why GRAS: "))
        assert "margins" in line and "RAS/GRAS" in line and "docs/update-accuracy.md" in line
    else:
        assert rows["method"] == "KRAS" and rows["why this method"] == "chosen in the options"
    assert float(rows["largest relative residual of the hard items"]) < 1e-6
    assert any(isinstance(r[0], str) and "Accuracy against" in r[0] for r in cells)
