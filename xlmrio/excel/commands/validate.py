"""Validate: the table's balance identities, labels, negative flows and orphan emissions."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..registry import register
from ..report import ResultSheet, Table
from .context import Context, finish, header, open_context


def build_validate(ctx: Context) -> list[ResultSheet]:
    t = ctx.table
    rtol = float(ctx.settings.get("balance_rtol", 1e-6))
    rep = t.validate(rtol=rtol, raise_on_error=False)
    summary = pd.DataFrame({"value": [
        t.m, t.n, t.K, len(t.va_rows), ", ".join(f"{k} [{s.unit}]" for k, s in t.satellites.items()) or "none",
        t.monetary_unit or "(not given)", float(t.x.sum()), float(t.y.sum()), float(t.V.sum()),
        rep.max_row_residual, rep.max_col_residual, rep.gdp_residual, rtol,
        "OK" if rep.ok and not rep.warnings else ("problems found" if not rep.ok else "warnings")]},
        index=pd.Index(["regions", "sectors", "final-demand categories per region", "primary-input rows",
                        "satellites", "monetary unit", "total output", "total final demand", "total primary inputs",
                        "max |row residual|", "max |column residual|", "GDP residual sum(y) - sum(V)",
                        "relative tolerance", "verdict"], name="check"))
    findings = rep.to_frame()[["severity", "where", "residual", "what"]]
    if findings.empty:
        findings = pd.DataFrame([("info", "whole table", 0.0, "no findings: every identity holds within the tolerance")],
                                columns=["severity", "where", "residual", "what"])
    findings.index = pd.RangeIndex(1, len(findings) + 1, name="#")
    row_res = t.Z.sum(1) + t.y - t.x
    col_res = t.Z.sum(0) + t.V.sum(0) - t.x
    by_region = pd.DataFrame({
        "total output": t.x.reshape(t.m, t.n).sum(1),
        "value added": t.V.sum(0).reshape(t.m, t.n).sum(1),
        "final demand (rows)": t.y.reshape(t.m, t.n).sum(1),
        "max |row residual|": np.abs(row_res).reshape(t.m, t.n).max(1),
        "max |column residual|": np.abs(col_res).reshape(t.m, t.n).max(1),
    }, index=pd.Index(t.regions, name="region"))
    h = header(ctx, "Validate", "validate")
    return [ResultSheet("Validate", "validate", h["title"], h["subtitle"], [
        Table("Table 1. Summary", summary, formats={"value": "general"}),
        Table("Table 2. Findings", findings, formats={"residual": "residual"}),
        Table(f"Table 3. Totals and residuals by region ({t.monetary_unit or 'money unit'})", by_region,
              formats={"*": "money", "max |row residual|": "residual", "max |column residual|": "residual"}),
    ], h["notes"], meta=h["meta"])]


@register("validate", label="Validate", group="Table", image="AcceptInvitation",
          help="Check the table: balance identities, labels, negative flows, orphan emissions")
def validate(book, **options) -> list[str]:
    ctx = open_context(book, options, "validate")
    with ctx.step:
        return finish(book, ctx, build_validate(ctx))
