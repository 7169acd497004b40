"""Validate: every problem of the table as a row — severity, cell, what is wrong, how to fix it.

Validate is the one command that reads a bad table anyway: the reader runs in collect mode
(:class:`~xlmrio.excel.layout.Problems`), lists each cell it could read past (reading it as 0) and
only refuses a table it cannot read at all (no ``Region | Sector`` header, labels out of order ...).
The table's identities (balances, GDP, value added, A's column sums) are added as findings at the
cells they concern. Every other command refuses the same table with the first error's message.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ...core.table import MRIOTable
from .. import settings as st
from ..layout import CellFinding, TableLayout
from ..progress import Steps
from ..reader import read_table
from ..registry import register
from ..report import ResultSheet, Table
from .context import Context, finish, header

SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}
FINDING_COLUMNS = ["severity", "what is wrong", "how to fix", "value"]
PER_KIND = 25  # findings listed per kind of problem; one more row counts the rest


def open_validate_context(book, options: dict) -> Context:
    """Settings and the table read in collect mode: problems become findings instead of errors."""
    step = Steps(book, "validate")
    step("reading settings")
    settings = st.resolve(book, options)
    step("reading the table (listing every problem)")
    source = read_table(book, settings, collect=True)
    step(f"read {source.table.m} regions x {source.table.n} sectors from {source.description}; "
         f"{len(source.findings)} finding(s) while reading")
    return Context(settings, source, step)


def identity_findings(t: MRIOTable, layout: TableLayout | None, rtol: float) -> list[CellFinding]:
    """Findings about the table as a whole, at the cells they concern: value added < 0, column sums of
    A >= 1, zero output, the GDP identity (balances against Total output are the reader's findings).

    Without a layout (WIOD/CEADs tables) the table's own validation findings are listed by their
    labels, but for negative flows and non-finite numbers, which the reader reported at their cells."""
    if layout is None:
        rep = t.validate(rtol=rtol, raise_on_error=False)
        return [CellFinding(f.severity, t.name, "", f"{f.what} at {f.where}", "", f.residual) for f in rep.findings
                if not f.what.startswith(("negative intermediate flow", "non-finite"))]
    out: list[CellFinding] = []
    first, zc = layout.first_row, layout.z_col
    atol = 1e-9 * float(np.abs(t.x).max(initial=0.0))

    def each(severity: str, ks: np.ndarray, cell, what, fix: str, value=lambda k: 0.0) -> None:
        """One finding per region-sector in *ks* (at most PER_KIND, then one line counting the rest)."""
        for k in ks[:PER_KIND]:
            out.append(CellFinding(severity, layout.sheet, layout.addr(*cell(k)), what(k), fix, float(value(k))))
        if ks.size > PER_KIND:
            out.append(CellFinding(severity, layout.sheet, "", f"{ks.size - PER_KIND} more: {what(ks[PER_KIND])}",
                                   fix, count=ks.size - PER_KIND))

    va = t.V.sum(axis=0)
    va_row = layout.va_rows[0] if layout.va_labels else None
    each("warning", np.flatnonzero(va < -atol),
         lambda k: (va_row, zc + k) if va_row is not None else (first + k, layout.x_col or layout.header[1]),
         lambda k: f"negative value added {va[k]:.6g} of {t.label(k)}",
         "check the inputs of this column: it buys more than it produces", lambda k: va[k])
    with np.errstate(divide="ignore", invalid="ignore"):
        colsum_a = np.where(t.x > 0, t.Z.sum(axis=0) / np.where(t.x > 0, t.x, 1), 0.0)
    each("warning", np.flatnonzero(colsum_a >= 1), lambda k: (layout.header[0], zc + k),
         lambda k: f"column sum of A {colsum_a[k]:.6g} >= 1 for {t.label(k)}",
         "intermediate inputs exceed output: check this column of Z and its total output", lambda k: colsum_a[k])
    each("info", np.flatnonzero(t.x == 0), lambda k: (first + k, layout.header[1]),
         lambda k: f"{t.label(k)} has zero output (its A column is 0)",
         "nothing to fix if the sector does not exist in this region")
    gdp = float(t.y.sum() - t.V.sum())
    if abs(gdp) > atol + rtol * max(abs(float(t.V.sum())), 1.0):
        out.append(CellFinding("warning", layout.sheet, layout.addr(*layout.header),
                               f"GDP identity sum(final demand) = sum(primary inputs) fails by {gdp:.6g}",
                               "the table is not balanced: see the balance findings", gdp))
    return out


def findings_frame(findings: list[CellFinding]) -> pd.DataFrame:
    """One row per finding, errors first, labelled by its cell ('Sheet'!C5): severity, what is wrong,
    how to fix it, and the cell's number or difference where there is one."""
    rows = sorted(findings, key=lambda f: SEVERITY_ORDER.get(f.severity, 3))
    if not rows:
        rows = [CellFinding("info", "", "", "no findings: every cell is a number and every identity holds within "
                                            "the tolerance")]
    return pd.DataFrame([(f.severity, f.what, f.fix or "", f.value if f.value else None) for f in rows],
                        columns=FINDING_COLUMNS,
                        index=pd.Index([f.address if f.cell else (f"'{f.sheet}'" if f.sheet else "whole table")
                                        for f in rows], name="cell"))


def _count(findings: list[CellFinding], severity: str) -> int:
    """How many findings of *severity*, the counted '<n> more' lines included."""
    return sum(f.count for f in findings if f.severity == severity)


def build_validate(ctx: Context) -> list[ResultSheet]:
    t, src = ctx.table, ctx.source
    rtol = float(ctx.settings.get("balance_rtol", 1e-6))
    rep = t.validate(rtol=rtol, raise_on_error=False)
    findings = list(src.findings) + identity_findings(t, src.layout, rtol)
    n_err, n_warn, n_info = (_count(findings, s) for s in ("error", "warning", "info"))
    ctx.step(f"found {n_err} error(s), {n_warn} warning(s), {n_info} note(s)")
    verdict = "problems found" if n_err else "warnings" if n_warn else "OK"
    unit = t.monetary_unit or "money unit"
    summary = pd.DataFrame({"value": [
        verdict, t.monetary_unit or "(not given)",
        ", ".join(f"{k} [{s.unit}]" for k, s in t.satellites.items()) or "none", src.description]},
        index=pd.Index(["verdict", "monetary unit", "satellites", "read from"], name="check"))
    size = pd.DataFrame({"count": [t.m, t.n, t.K, len(t.va_rows), t.N, len(t.satellites), n_err, n_warn, n_info]},
                        index=pd.Index(["regions", "sectors", "categories per region",
                                        "primary-input rows", "region-sectors", "satellites", "errors", "warnings",
                                        "notes"], name="item"))
    totals = pd.DataFrame({"value": [float(t.x.sum()), float(t.y.sum()), float(t.V.sum())]},
                          index=pd.Index(["total output", "total final demand",
                                          "total primary inputs"], name="total"))
    residuals = pd.DataFrame({"value": [rep.max_row_residual, rep.max_col_residual, rep.gdp_residual, rtol]},
                             index=pd.Index(["max |Z1 + y - x|", "max |1'Z + 1'V - x'|",
                                             "GDP: sum(y) - sum(V)", "tolerance (balance_rtol)"],
                                            name="identity"))
    row_res = t.Z.sum(1) + t.y - t.x
    col_res = t.Z.sum(0) + t.V.sum(0) - t.x
    by_region = pd.DataFrame({
        "total output": t.x.reshape(t.m, t.n).sum(1),
        "value added": t.V.sum(0).reshape(t.m, t.n).sum(1),
        "final demand (rows)": t.y.reshape(t.m, t.n).sum(1),
        "max |row residual|": np.abs(row_res).reshape(t.m, t.n).max(1),
        "max |column residual|": np.abs(col_res).reshape(t.m, t.n).max(1),
    }, index=pd.Index(t.regions, name="region"))
    read_as_zero = "; cells with an error finding were read as 0 for these figures" if n_err else ""
    reading = (f"{n_err} error(s), {n_warn} warning(s), {n_info} note(s). "
               + ("Every other command refuses this table until the errors are fixed." if n_err else
                  "Commands run on this table." if n_warn else "The table is ready for every command."))
    h = header(ctx, "Validate", "validate")
    text = {c: "text" for c in FINDING_COLUMNS}
    return [ResultSheet("Validate", "validate", h["title"], h["subtitle"], [
        Table("Table 1. Summary", summary, formats={"value": "text"}, reading=reading),
        Table("Table 2. Findings, errors first", findings_frame(findings), formats={**text, "value": "residual"},
              note="value: the cell's number, or the difference of a balance, in the block's unit"),
        Table("Table 3. Size and number of findings", size, formats={"count": "count"}),
        Table(f"Table 4. Totals ({unit})", totals, formats={"value": "money"},
              note="total final demand includes exports and other final uses" + read_as_zero),
        Table(f"Table 5. Balance residuals ({unit}; tolerance relative)", residuals, formats={"value": "residual"}),
        Table(f"Table 6. Totals and residuals by region ({unit})", by_region,
              formats={"*": "money", "max |row residual|": "residual", "max |column residual|": "residual"}),
    ], h["notes"], meta=h["meta"], kind="diagnostics", source=src.description,
        key_figures=[("errors", n_err, ""), ("warnings", n_warn, ""),
                     ("max |row residual|", rep.max_row_residual, unit)])]


@register("validate")
def validate(book, **options) -> list[str]:
    ctx = open_validate_context(book, options)
    with ctx.step:
        return finish(book, ctx, build_validate(ctx))
