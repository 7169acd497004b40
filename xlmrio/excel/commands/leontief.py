"""Leontief: technical coefficients A, the Leontief inverse L and output, VA and emission multipliers."""
from __future__ import annotations

import pandas as pd

from ...core.leontief import leontief as _leontief
from ..registry import register
from ..report import Chart, ResultSheet, Table
from .context import Context, finish, header, labels_frame, open_context

FULL_MATRIX_LIMIT = 300  # write A and L in full up to this many region-sectors


def build_leontief(ctx: Context) -> list[ResultSheet]:
    t = ctx.table
    ctx.step("factorising I - A and forming L")
    r = _leontief(t)
    money = t.monetary_unit or "money unit"
    data = {"output multiplier": r.multipliers["total"], "own-region part": r.multipliers["own_region"],
            "spill-over part": r.multipliers["spillover"], "VA coefficient": r.va_coefficients}
    fmts = {"output multiplier": "multiplier", "own-region part": "multiplier", "spill-over part": "multiplier",
            "VA coefficient": "coefficient"}
    for name in t.satellites:
        unit = r.units[name]
        data[f"{name} intensity e ({unit})"] = r.intensities[name]
        data[f"{name} multiplier μ ({unit})"] = r.emission_multipliers[name]
        fmts[f"{name} intensity e ({unit})"] = "intensity"
        fmts[f"{name} multiplier μ ({unit})"] = "intensity"
    mult = labels_frame(t, data)
    checks = pd.DataFrame({"value": list(r.checks.values())}, index=pd.Index([
        "max |(I − A)L − I|", "min L (must be ≥ 0)", "min diag L (must be ≥ 1)", "max |Ly − x| / max x",
        "max |v'L − 1|"], name="check"))
    tables = [Table(f"Table 1. Multipliers by region-sector ({money} per {money}; emissions per {money})", mult,
                    formats=fmts),
              Table("Table 2. Checks (sheet Methods, §2.2)", checks, formats={"value": "residual"},
                    reading="Residuals near 0 (e.g. 1E-15) mean L solves the model to machine precision.")]
    notes = list(header(ctx, "Leontief", "leontief", satellite=", ".join(t.satellites),
                         unit=", ".join(s.unit for s in t.satellites.values()))["notes"])
    if t.N > FULL_MATRIX_LIMIT:
        notes.append(f"A and L ({t.N} x {t.N}) are not written in full above {FULL_MATRIX_LIMIT} region-sectors; "
                     "use the MRIO_LEONTIEF worksheet function or the Python API for them.")
    h = header(ctx, "Leontief", "leontief")
    by_region = r.multipliers.groupby(level="region", sort=False).mean()
    by_region.columns = ["mean output multiplier", "mean own-region part", "mean spill-over part"]
    tables.insert(1, Table("Table 1b. Mean output multipliers by region", by_region, formats={"*": "multiplier"}))
    charts = [Chart("Mean output multipliers: own region and spill-over", 1,
                    ["mean own-region part", "mean spill-over part"], kind="column_stacked",
                    x_title="region", y_title=f"output per unit of final demand ({money} per {money})")]
    om = r.multipliers["total"]
    key = [("mean output multiplier", float(om.mean()), f"{money} per {money}"),
           (f"largest output multiplier: {' | '.join(map(str, om.idxmax()))}", float(om.max()),
            f"{money} per {money}")]
    for name in t.satellites:
        mu = r.emission_multipliers[name]
        key.append((f"largest {name} multiplier μ: {' | '.join(map(str, mu.idxmax()))}", float(mu.max()),
                    r.units[name]))
    sheets = [ResultSheet("Leontief", "leontief", h["title"], h["subtitle"], tables, notes, charts, meta=h["meta"],
                          kind="result", source=ctx.source.description, key_figures=key)]
    if t.N <= FULL_MATRIX_LIMIT and ctx.settings.get("full_matrices", "sheets") == "sheets":
        # the full N x N matrices on sheets of their own, so the Leontief sheet prints in a few pages
        for name, title, m in (("Leontief A", "Technical coefficients A = Z x̂⁻¹", r.A),
                               ("Leontief L", "Leontief inverse L = (I − A)⁻¹", r.L)):
            sheets.append(ResultSheet(name, "leontief", f"{title}: {ctx.source.description}", h["subtitle"],
                                      [Table(f"Table 1. {title} ({money} per {money})", m,
                                             formats={"*": "coefficient"})],
                                      meta=h["meta"], kind="table", source=ctx.source.description))
    return sheets


@register("leontief")
def leontief(book, **options) -> list[str]:
    ctx = open_context(book, options, "leontief")
    with ctx.step:
        return finish(book, ctx, build_leontief(ctx))
