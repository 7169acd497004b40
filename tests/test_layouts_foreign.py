"""WIOD and CEADs sheet layouts read from synthetic grids (no WIOD/CEADs xlsx in ../shared/data).

The grids mimic the published header structure and label columns (see the module docstring of
xlmrio.excel.layouts_foreign); each is written from known arrays and read back.
"""
from __future__ import annotations

import numpy as np
import pytest

from xlmrio.core.table import MRIOTable
from xlmrio.errors import WorkbookError
from xlmrio.excel.layout import Grid, table_grid
from xlmrio.excel.layouts_foreign import detect_layout, read_any_grid, read_ceads_grid, read_wiod_grid

# ---------------------------------------------------------------------- WIOD grids
COUNTRIES = ["AUS", "CHN", "RoW"]
WIOD13 = dict(codes=["AtB", "C", "15t16"],
              descs=["Agriculture, Hunting, Forestry and Fishing", "Mining and Quarrying",
                     "Food, Beverages and Tobacco"],
              fd_codes=[None] * 5, fd_c=["c37", "c38", "c39", "c41", "c42"], total=(None, "c62"),
              title="World Input-Output Table 2009")
WIOD16 = dict(codes=["A01", "B", "C10-C12"],
              descs=["Crop and animal production", "Mining and quarrying", "Manufacture of food products"],
              fd_codes=["CONS_h", "CONS_np", "CONS_g", "GFCF", "INVEN"], fd_c=["c57", "c58", "c59", "c60", "c61"],
              total=("GO", "c62"), title="World Input-Output Table in current prices")
FD_DESCS = ["Final consumption expenditure by households",
            "Final consumption expenditure by non-profit organisations serving households (NPISH)",
            "Final consumption expenditure by government", "Gross fixed capital formation",
            "Changes in inventories and valuables"]
VA = [("II_fob", "Total intermediate consumption", "r60"), ("TXSP", "taxes less subsidies on products", "r61"),
      ("EXP_adj", "Cif/ fob adjustments on exports", "r62"), ("PURR", "Direct purchases abroad by residents", "r63"),
      ("PURNR", "Purchases on the domestic territory by non-residents", "r64"),
      ("VA", "Value added at basic prices", "r65"), ("IntTTM", "International Transport Margins", "r66"),
      ("GO", "Output at basic prices", "r69")]
VA_SHARES = [0.04, -0.01, 0.02, 0.01, 0.92, 0.02]


def known_wiod(seed=1):
    rng = np.random.default_rng(seed)
    m, n, K = 3, 3, 5
    N = m * n
    Z = rng.uniform(0, 10, (N, N))
    Y = rng.uniform(0, 20, (N, m * K))
    Y[:, K - 1::K] -= 3.0  # inventory changes can be negative
    x = Z.sum(1) + Y.sum(1)
    va = x - Z.sum(0)
    V = np.array([s * va for s in VA_SHARES])
    return Z, Y, V, x


def wiod_rows(rel, Z, Y, V, x, fd_va=True):
    m, n, K = 3, 3, 5
    N = m * n
    ncol = 4 + N + m * K + 1
    blank = lambda: [None] * ncol  # noqa: E731
    r1, r2, r3, r4, r5, r6 = (blank() for _ in range(6))
    r1[0] = rel["title"]
    r3[0], r4[0] = "(industry-by-industry)", "(millions of US$)"
    for k in range(N):
        r, s = divmod(k, n)
        r3[4 + k], r4[4 + k], r5[4 + k], r6[4 + k] = rel["codes"][s], rel["descs"][s], COUNTRIES[r], f"c{s + 1}"
    for q in range(m * K):
        r, c = divmod(q, K)
        j = 4 + N + q
        r3[j], r4[j], r5[j], r6[j] = rel["fd_codes"][c], FD_DESCS[c], COUNTRIES[r], rel["fd_c"][c]
    r3[-1], r4[-1], r5[-1], r6[-1] = rel["total"][0], "Total output", "TOT", rel["total"][1]
    rows = [r1, r2, r3, r4, r5, r6]
    is16 = rel is WIOD16
    for k in range(N):
        r, s = divmod(k, n)
        rc = f"r{s + 1}" if is16 else f"c{s + 1}"
        rows.append([rel["codes"][s], rel["descs"][s], COUNTRIES[r], rc] + Z[k].tolist() + Y[k].tolist() + [x[k]])
    for d, (code, desc, rc) in enumerate(VA):
        if d == 0:
            vals = Z.sum(0)
        elif d == len(VA) - 1:
            vals = x
        else:
            vals = V[d - 1]
        fdv = [(1.5 if fd_va and d in (1, 3) else 0.0)] * (m * K)
        rows.append([code if is16 else None, desc, "TOT" if is16 else None, rc] + list(vals) + fdv + [None])
    return rows


def wiod_grid(rel=WIOD13, seed=1, row0=1, col0=1, sheet="WIOT"):
    Z, Y, V, x = known_wiod(seed)
    return Grid(sheet, wiod_rows(rel, Z, Y, V, x), row0, col0), (Z, Y, V, x)


@pytest.mark.parametrize("rel", [WIOD13, WIOD16], ids=["2013", "2016"])
def test_wiod_round_trip(rel):
    grid, (Z, Y, V, x) = wiod_grid(rel)
    t = read_wiod_grid(grid)
    assert t.regions == tuple(COUNTRIES)
    assert t.sectors == tuple(rel["codes"])
    assert t.fd_categories == tuple(rel["fd_codes"] if rel is WIOD16 else rel["fd_c"])
    assert t.va_rows == tuple(d for _, d, _ in VA[1:-1])
    np.testing.assert_array_equal(t.Z, Z)
    np.testing.assert_array_equal(t.Y, Y)
    np.testing.assert_array_equal(t.V, V)
    np.testing.assert_array_equal(t.x, x)
    assert t.exports is None and t.other is None
    assert t.monetary_unit == "millions of US$"
    assert t.name == "WIOT"
    # identities of the source table hold in what was read (row and column balance)
    np.testing.assert_allclose(t.Z.sum(1) + t.Y.sum(1), t.x, rtol=1e-12)
    np.testing.assert_allclose(t.Z.sum(0) + t.V.sum(0), t.x, rtol=1e-12)


def test_wiod_sector_label_options():
    grid, _ = wiod_grid(WIOD13)
    assert read_wiod_grid(grid, sector_labels="name").sectors == tuple(WIOD13["descs"])
    assert read_wiod_grid(grid, sector_labels="ccode").sectors == ("c1", "c2", "c3")


def test_wiod_without_total_column_uses_output_row():
    grid, (Z, Y, V, x) = wiod_grid(WIOD16)
    for row in grid.values:
        row.pop()  # drop the c62 / GO column
    t = read_wiod_grid(grid)
    np.testing.assert_array_equal(t.x, x)


def test_wiod_text_in_z_names_cell():
    grid, _ = wiod_grid(WIOD13)
    grid.values[7][6] = "n/a"  # 2nd industry row (sheet row 8), 3rd Z column (G)
    with pytest.raises(WorkbookError) as ei:
        read_wiod_grid(grid)
    assert ei.value.cell == "G8" and ei.value.sheet == "WIOT"
    assert 'text "n/a"' in str(ei.value)


def test_wiod_wrong_country_in_header_names_cell():
    grid, _ = wiod_grid(WIOD16)
    grid.values[4][7] = "XXX"  # country row (sheet row 5), 4th Z column (H) = CHN|A01
    with pytest.raises(WorkbookError) as ei:
        read_wiod_grid(grid)
    assert ei.value.cell == "H5"
    assert "XXX" in str(ei.value) and "CHN" in str(ei.value)


def test_wiod_unknown_country_in_final_demand_header():
    grid, _ = wiod_grid(WIOD13)
    grid.values[4][4 + 9 + 6] = "DEU"  # final-demand column 7 (CHN, 2nd category) -> column T
    with pytest.raises(WorkbookError) as ei:
        read_wiod_grid(grid)
    assert ei.value.cell == "T5" and "DEU" in str(ei.value)


def test_wiod_output_row_mismatch_names_cell_and_offsets():
    grid, (Z, Y, V, x) = wiod_grid(WIOD13, row0=3, col0=2)
    out = len(grid.values) - 1
    grid.values[out][4 + 2] *= 1.01  # output of AUS|15t16 off by 1 %
    with pytest.raises(WorkbookError) as ei:
        read_wiod_grid(grid)
    # grid starts at B3: the output row is sheet row 3 + out, the 3rd Z column is column 2 + 4 + 2 = H
    assert ei.value.cell == f"H{3 + out}"
    assert "AUS|15t16" in str(ei.value)
    t = read_wiod_grid(grid, rtol=0.02)  # loosened tolerance: accepted, x from the total column
    np.testing.assert_array_equal(t.x, x)


def test_wiod_industry_order_error():
    grid, _ = wiod_grid(WIOD13)
    grid.values[6 + 4][0] = "AtB"  # CHN's 2nd industry row says AtB again (sheet row 11, column A)
    with pytest.raises(WorkbookError) as ei:
        read_wiod_grid(grid)
    assert ei.value.cell == "A11"


def test_wiod_negative_z_names_cell():
    grid, _ = wiod_grid(WIOD16)
    grid.values[6][4] = -1.0
    with pytest.raises(WorkbookError) as ei:
        read_wiod_grid(grid)
    assert ei.value.cell == "E7" and "negative" in str(ei.value)


def test_wiod_no_header():
    with pytest.raises(WorkbookError) as ei:
        read_wiod_grid(Grid("S", [["x", 1.0], [None, 2.0]]))
    assert ei.value.cell == "A1"


# ---------------------------------------------------------------------- CEADs grids
PROVINCES = ["Beijing", "Tianjin", "Hebei"]
SECTORS = [("01", "Agriculture"), ("02", "Coal mining"), ("03", "Food and tobacco")]
FD = [("FU101", "Rural household consumption"), ("FU102", "Urban household consumption"),
      ("FU103", "Government consumption"), ("FU201", "Fixed capital formation"), ("FU202", "Changes in inventories")]
VA_CEADS = [("VA001", "Compensation of employees"), ("VA002", "Net taxes on production"),
            ("VA003", "Depreciation of fixed capital"), ("VA004", "Operating surplus")]


def known_ceads(seed=2, competitive=False):
    rng = np.random.default_rng(seed)
    m, n, K = 3, 3, 5
    N = m * n
    Z = rng.uniform(0, 10, (N, N))
    Y = rng.uniform(0, 20, (N, m * K))
    E = rng.uniform(0, 30, N)
    O = rng.uniform(-2, 2, N)
    imp = rng.uniform(1, 15, N)  # imports: a column (competitive) or a row (non-competitive)
    if competitive:
        x = Z.sum(1) + Y.sum(1) + E + O - imp
        va = x - Z.sum(0)
    else:
        x = Z.sum(1) + Y.sum(1) + E + O
        va = x - Z.sum(0) - imp
    assert (va > 0).all() and (x > 0).all()
    V = np.array([s * va for s in (0.5, 0.15, 0.15, 0.2)])
    co2 = rng.uniform(0, 1, N)
    return dict(Z=Z, Y=Y, E=E, O=O, imp=imp, x=x, V=V, co2=co2)


def ceads_grid(k, competitive=False, float_codes=False, im_sign=-1.0, sheet="Table_2017_English Version"):
    m, n, K = 3, 3, 5
    N = m * n
    tail = [("TFU", "Total Final Use"), ("ERR", "Errors"), ("GO", "Gross Output"),
            (None, "Proportion of errors in gross output (less than 5%)"), (None, "Gross Output Check")]
    head_tail = [("EX", "Export")] + ([("IM", "Import")] if competitive else []) + tail
    ncol = 3 + N + 1 + m * K + len(head_tail)
    blank = lambda: [None] * ncol  # noqa: E731
    title, prov, names, codes = blank(), blank(), blank(), blank()
    title[0] = "China multi-regional input-output table 2017 (10,000 yuan)"
    code = (lambda s: float(int(s))) if float_codes else (lambda s: s)
    for q in range(N):
        r, s = divmod(q, n)
        if s == 0:
            prov[3 + q] = PROVINCES[r]
        names[3 + q], codes[3 + q] = SECTORS[s][1], code(SECTORS[s][0])
    names[3 + N] = "Total intermediate use"
    for q in range(m * K):
        r, c = divmod(q, K)
        j = 3 + N + 1 + q
        if c == 0:
            prov[j] = PROVINCES[r]
        codes[j], names[j] = FD[c]
    for t, (c, nm) in enumerate(head_tail):
        codes[3 + N + 1 + m * K + t], names[3 + N + 1 + m * K + t] = c, nm
    rows = [title, prov, names, codes]
    for q in range(N):
        r, s = divmod(q, n)
        tfu = k["Y"][q].sum() + k["E"][q]
        extra = [k["E"][q]] + ([im_sign * k["imp"][q]] if competitive else []) + [tfu, k["O"][q], k["x"][q], 0.0, 0.0]
        rows.append([PROVINCES[r] if s == 0 else None, SECTORS[s][1], code(SECTORS[s][0])] + k["Z"][q].tolist()
                    + [k["Z"][q].sum()] + k["Y"][q].tolist() + extra)
    pad = [None] * (ncol - 3 - N)
    below = [] if competitive else [("IM", "Imports", k["imp"])]
    below += [("TII", "Total Intermediate Input", k["Z"].sum(0) + (0 if competitive else k["imp"]))]
    below += [(c, nm, k["V"][d]) for d, (c, nm) in enumerate(VA_CEADS)]
    below += [("TVA", "Total Value Added", k["V"].sum(0)), ("TI", "Total Input", k["x"]),
              (None, "Gross Input", k["x"])]
    for c, nm, vals in below:
        rows.append([None, nm, c] + list(vals) + pad)
    rows.append(blank())
    rows.append([None, "CO2 (Mt)", None] + k["co2"].tolist() + pad)
    return Grid(sheet, rows)


def test_ceads_noncompetitive_round_trip():
    k = known_ceads()
    t = read_ceads_grid(ceads_grid(k))
    assert t.regions == tuple(PROVINCES)
    assert t.sectors == tuple(s for _, s in SECTORS)
    assert t.fd_categories == tuple(nm for _, nm in FD)
    assert t.va_rows == ("Imports",) + tuple(nm for _, nm in VA_CEADS)
    np.testing.assert_array_equal(t.Z, k["Z"])
    np.testing.assert_array_equal(t.Y, k["Y"])
    np.testing.assert_array_equal(t.exports, k["E"])
    np.testing.assert_array_equal(t.other, k["O"])
    np.testing.assert_array_equal(t.V, np.vstack([k["imp"], k["V"]]))
    np.testing.assert_array_equal(t.x, k["x"])
    np.testing.assert_array_equal(t.satellites["CO2"].values, k["co2"])
    assert t.satellites["CO2"].unit == "Mt"
    assert t.monetary_unit == "10k CNY"
    np.testing.assert_allclose(t.Z.sum(1) + t.y, t.x, rtol=1e-12)
    np.testing.assert_allclose(t.Z.sum(0) + t.V.sum(0), t.x, rtol=1e-12)


def test_ceads_float_codes_and_code_labels():
    k = known_ceads()
    t = read_ceads_grid(ceads_grid(k, float_codes=True), sector_labels="code")
    assert t.sectors == ("01", "02", "03")
    np.testing.assert_array_equal(t.Z, k["Z"])


@pytest.mark.parametrize("im_sign", [-1.0, 1.0], ids=["negative", "positive"])
def test_ceads_competitive_imports_converted(im_sign):
    k = known_ceads(seed=3, competitive=True)
    notes: list[str] = []
    t = read_ceads_grid(ceads_grid(k, competitive=True, im_sign=im_sign), notes=notes)
    # METHODS §1.4 computed here: delta = (x - ex) / (x + m - ex)
    delta = (k["x"] - k["E"]) / (k["x"] + k["imp"] - k["E"])
    np.testing.assert_allclose(t.Z, delta[:, None] * k["Z"], rtol=1e-12)
    np.testing.assert_allclose(t.Y, delta[:, None] * k["Y"], rtol=1e-12)
    np.testing.assert_allclose(t.other, delta * k["O"], rtol=1e-12)
    np.testing.assert_array_equal(t.exports, k["E"])
    np.testing.assert_array_equal(t.x, k["x"])
    assert t.va_rows[-1] == "Imported inputs"
    np.testing.assert_allclose(t.V[-1], ((1 - delta)[:, None] * k["Z"]).sum(0), rtol=1e-12)
    # the domestic table balances exactly, by rows and by columns
    np.testing.assert_allclose(t.Z.sum(1) + t.y, t.x, rtol=1e-12)
    np.testing.assert_allclose(t.Z.sum(0) + t.V.sum(0), t.x, rtol=1e-12)
    assert notes == []


def test_ceads_competitive_imports_as_other():
    k = known_ceads(seed=3, competitive=True)
    t = read_ceads_grid(ceads_grid(k, competitive=True), imports="other")
    np.testing.assert_array_equal(t.Z, k["Z"])
    np.testing.assert_allclose(t.other, k["O"] - k["imp"], rtol=1e-12)
    np.testing.assert_allclose(t.Z.sum(1) + t.y, t.x, rtol=1e-12)
    assert "Imported inputs" not in t.va_rows


def test_ceads_text_in_final_demand_names_cell():
    k = known_ceads()
    grid = ceads_grid(k)
    grid.values[4 + 2][3 + 9 + 1 + 4] = "#N/A"  # 3rd data row (sheet row 7), 5th FD column (index 17 -> R)
    with pytest.raises(WorkbookError) as ei:
        read_ceads_grid(grid)
    assert ei.value.cell == "R7" and "#N/A" in str(ei.value)


def test_ceads_wrong_province_in_header_names_cell():
    k = known_ceads()
    grid = ceads_grid(k)
    grid.values[1][3 + 3] = "Shanxi"  # province row (sheet row 2) above Tianjin's first Z column (G)
    with pytest.raises(WorkbookError) as ei:
        read_ceads_grid(grid)
    assert ei.value.cell == "G2" and "Shanxi" in str(ei.value)


def test_ceads_unknown_province_in_final_demand():
    k = known_ceads()
    grid = ceads_grid(k)
    grid.values[1][3 + 9 + 1 + 5] = "Shanxi"  # Tianjin's first FD column (index 18 -> S)
    with pytest.raises(WorkbookError) as ei:
        read_ceads_grid(grid)
    assert ei.value.cell == "S2"


def test_ceads_total_input_mismatch_names_cell():
    k = known_ceads()
    grid = ceads_grid(k)
    ti = next(i for i, r in enumerate(grid.values) if r[2] == "TI")
    grid.values[ti][3 + 4] += 5.0  # Tianjin|Coal mining (column H)
    with pytest.raises(WorkbookError) as ei:
        read_ceads_grid(grid)
    assert ei.value.cell == f"H{ti + 1}" and "Tianjin|Coal mining" in str(ei.value)


def test_ceads_missing_sector_row_names_cell():
    k = known_ceads()
    grid = ceads_grid(k)
    grid.values[4 + 4][2] = "03"  # Tianjin lists code 03 where 02 belongs (sheet row 9, column C)
    with pytest.raises(WorkbookError) as ei:
        read_ceads_grid(grid)
    assert ei.value.cell == "C9"


# ---------------------------------------------------------------------- detection and dispatch
def test_detect_layout_each():
    k = known_ceads()
    assert detect_layout(wiod_grid(WIOD13)[0]) == "wiod"
    assert detect_layout(wiod_grid(WIOD16)[0]) == "wiod"
    assert detect_layout(ceads_grid(k)) == "ceads"
    assert detect_layout(ceads_grid(k, float_codes=True)) == "ceads"
    Z, Y, V, x = known_wiod()
    t = MRIOTable.from_arrays(Z, Y, regions=COUNTRIES, sectors=["c1", "c2", "c3"], fd_categories=list("abcde"),
                              V=V, va_rows=[f"v{d}" for d in range(6)], x=x)
    assert detect_layout(Grid("MRIO", table_grid(t))) == "xlmrio"  # xlmrio wins over c1, c2 sector labels
    with pytest.raises(WorkbookError) as ei:
        detect_layout(Grid("Notes", [["hello", None], [None, 3.0]], row0=4, col0=3))
    assert ei.value.cell == "C4"


def test_read_any_grid_dispatch():
    Z, Y, V, x = known_wiod()
    t = MRIOTable.from_arrays(Z, Y, regions=COUNTRIES, sectors=["A", "B", "C"], fd_categories=list("abcde"),
                              V=V, va_rows=[f"v{d}" for d in range(6)], x=x)
    back = read_any_grid(Grid("MRIO", table_grid(t)))
    np.testing.assert_array_equal(back.Z, Z)
    np.testing.assert_array_equal(back.V, V)
    w = read_any_grid(wiod_grid(WIOD16)[0], sector_labels="name")
    assert w.sectors == tuple(WIOD16["descs"])
    k = known_ceads()
    c = read_any_grid(ceads_grid(k), layout="ceads")
    np.testing.assert_array_equal(c.x, k["x"])
    with pytest.raises(WorkbookError):
        read_any_grid(ceads_grid(k), layout="eora")
