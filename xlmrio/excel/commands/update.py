"""Update table: the prior table updated to target-year information (auto, KRAS, ANAIS, RAS, GRAS) from the
Constraints sheet, with its accuracy against a reference table when one is named (on the group's cells when
regions are known only as a group)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ...core.grouped import proportional_split
from ...core.table import MRIOTable
from ...errors import WorkbookError
from .. import settings as st
from ..reader import read_table
from ..registry import register
from ..report import Chart, ResultSheet, Table
from .aggregate import table_sheets
from .context import Context, finish, header, open_context


def build_update(book, ctx: Context) -> list[ResultSheet]:
    from ...update import anais
    from ..constraints import grouped_of, margins_of, read_constraints
    from ..reader import sheet_grid

    s = ctx.settings
    prior_src = ctx.source
    prior = prior_src.table
    cname = s.get("constraints_sheet") or "Constraints"
    if cname not in [sh.name for sh in book.sheets]:
        raise st.option_error(s, "constraints_sheet", f"constraints sheet {cname!r} does not exist; copy the sheet "
                              "from workbook_templates/xlmrio_constraints_template.xlsx and fill it in")
    cons = read_constraints(sheet_grid(book.sheets[cname]), prior)
    opts = cons.options
    totals, known, aggs = dict(cons.totals), dict(cons.known_cells), list(cons.aggregates)
    target_src = None
    ctx.inputs |= {opts[k] for k in ("targets_from", "compare_with") if opts.get(k)}
    for key in ("targets_from", "compare_with", "reference_table"):
        _check_named_table(book, cons, cname, key)
    group = opts.get("grouped_regions") or []
    if group and not opts.get("targets_from"):
        raise WorkbookError("grouped_regions needs a table to take the numbers from: name a table sheet in the "
                            "option targets_from", cname, cons.cells.get("grouped_regions", "A1"))
    if opts.get("targets_from"):
        target_src = read_table(book, {**s, "table": opts["targets_from"], "table_file": ""})
        t_tot, t_known, t_aggs = (grouped_of(target_src.table, prior, opts["targets_from"], group) if group
                                  else margins_of(target_src.table, prior, opts["targets_from"]))
        totals = {**t_tot, **totals}
        known = {**t_known, **known}  # cells given explicitly win over the target table's
        aggs = t_aggs + aggs
    reference = None
    if opts.get("reference_table"):
        reference = _reference_regions(book, s, cons, cname, prior)
        ctx.inputs.add(opts["reference_table"])
    if not (totals or known or aggs or cons.coefficient_bounds or reference):
        raise WorkbookError("no target information: fill in 'Known totals', 'Known cells', 'Aggregates' or "
                            "'Coefficient bounds', or name a table sheet in the option targets_from", cname, "A1")
    method = opts["method"]
    money = prior.monetary_unit or "money units"
    ctx.step(f"updating {prior_src.description} with {method.upper()} ({len(totals)} known totals, "
             f"{len(aggs)} aggregates, {len(cons.coefficient_bounds)} coefficient bounds)")
    diag, why = [], ""
    if method in ("auto", "kras"):
        new, method, diag, why = _evidence_led(prior, method, totals, known, aggs, cons, reference)
    elif method == "anais":
        ctx.step("solving the ANAIS linear programmes (stage 1: largest deviation; stage 2: total deviation)")
        res = anais(prior, totals=totals or None, known_cells=known or None, aggregates=aggs or None,
                    coefficient_bounds=cons.coefficient_bounds or None, reference_regions=reference,
                    rmax_mode=opts["rmax_mode"], objective=opts["objective"], zero_policy=opts["zero_policy"],
                    prior_scaling=opts["prior_scaling"], eps_rel=float(opts["eps_rel"]),
                    eps_abs=float(opts["eps_abs"]), solver=opts["solver"], elastic=opts["elastic"] == "yes",
                    time_limit=float(opts["time_limit"]) if opts["time_limit"] not in ("", None) else None)
        new = res.table
        rel = opts["rmax_mode"] == "relative"
        diag = [("method", "ANAIS (two-stage LP)", ""), ("solver", res.solver, ""), ("status", res.status, ""),
                ("ρ*: largest deviation (stage 1)", float(res.rho),
                 f"ratio to the prior value: cells move by at most {res.rho:.1%} of their prior value" if rel
                 else f"{money} (rmax mode absolute)"),
                ("stage-2 objective", float(res.objective),
                 f"{money}: total absolute deviation from the prior" if opts["objective"] == "absolute"
                 else "sum of relative deviations (ratios)"),
                ("largest realised deviation", float(res.rho_realised), "ratio to the prior value"),
                ("time", round(float(res.seconds), 1), "s (wall clock)"),
                ("rmax mode", opts["rmax_mode"], ""), ("objective", opts["objective"], ""),
                ("prior scaling", opts["prior_scaling"],
                 "prior columns scaled to the target totals before measuring deviations"
                 if opts["prior_scaling"] == "columns" else "deviations measured from the prior as it is"),
                ("cells", _int(res.size.get("cells")), "cells of Z, Y and V"),
                ("free cells", _int(res.size.get("free_cells")), "cells the LP may change")]
    else:
        if target_src is None:
            raise WorkbookError(f"{method.upper()} needs complete margins: name a table sheet in the option "
                                "targets_from", cname, "A1")
        unused = [name for name, items in (("Known totals", cons.totals), ("Known cells", cons.known_cells),
                                           ("Aggregates", cons.aggregates),
                                           ("Coefficient bounds", cons.coefficient_bounds),
                                           ("reference_table", reference), ("grouped_regions", group)) if items]
        if unused:
            raise WorkbookError(f"{method.upper()} balances to the margins of '{opts['targets_from']}' only and "
                                f"cannot use the section(s) {', '.join(unused)}; set method to anais, or clear "
                                "those sections", cname, "A1")
        new, info = biproportional(prior, target_src.table, method)
        diag = [("method", method.upper(), "Z balanced to the target's intermediate row and column totals; final "
                                           "demand rows scaled to the target's row sums; primary inputs from the "
                                           "target (sheet Methods, §5.4–5.6)"),
                ("iterations", int(info.iterations), ""),
                ("final residual", float(info.eps), "largest relative margin residual")]
    group_note = ""
    if group:
        diag[2:2] = [("regions known only as a group", ", ".join(group), "sheet Methods, §5.11"),
                     ("group sums", len(t_aggs), "hard aggregates"),
                     ("known cells and totals", len(t_known) + len(t_tot), "off the group")]
        group_note = (f"'{opts['targets_from']}' is used as a table of {len(prior.regions) - len(group) + 1} regions "
                      f"in which {', '.join(group)} are one: every cell and total output touching no member is "
                      "given, and for the group only sums over its members (per sector: total output, sales to "
                      "and purchases from every other region-sector and final-demand column, flows among the "
                      "members, final demand and primary inputs). The split among the members is estimated "
                      "(sheet Methods, §5.11).")
    name = f"{(prior_src.sheet or prior.name)[:20]} updated"[:31]
    new = new.replace(name=name, monetary_unit=prior.monetary_unit)
    ctx.step("checking the updated table")
    rep = new.validate(rtol=1e-6, raise_on_error=False)
    balanced = not [f for f in rep.warnings if "balance" in f.what]
    diag.append(("updated table balances", "yes" if balanced else "no", "rows = columns"))
    if prior.satellites:
        new = new.replace(satellites=carry_satellites(prior, new))
    summary = pd.DataFrame({"value": [v for _, v, _ in diag], "unit / explanation": [u for _, _, u in diag]},
                           index=pd.Index([k for k, _, _ in diag], name="item"))
    tables = [Table("Table 1. Solution summary", summary, formats={"value": "general", "unit / explanation": "text"},
                    reading=why)]
    key = [("updating method", method.upper(), "")]
    if method == "anais":
        key.append(("ρ* (largest relative deviation)" if opts["rmax_mode"] == "relative" else "ρ* (largest deviation)",
                    float(res.rho), "ratio" if opts["rmax_mode"] == "relative" else money))
    if method == "anais":
        dev = res.deviations.copy().rename(columns={"prior": f"prior ({money})", "value": f"updated ({money})",
                                                    "abs_deviation": f"absolute deviation ({money})",
                                                    "rel_deviation": "relative deviation (ratio)"})
        dev.index = pd.RangeIndex(1, len(dev) + 1, name="rank")
        scaled = " (prior after column scaling to the target totals)" if opts["prior_scaling"] == "columns" else ""
        tables.append(Table(f"Table 2. Largest realised deviations from the prior{scaled}", dev,
                            formats={"*": "money", "relative deviation (ratio)": "ratio", "block": "text",
                                     "row": "text", "column": "text"},
                            reading="Relative deviation 1.5 = the cell is 150 % above (or below) its prior value; "
                                    "many cells sit exactly at ρ*, the bound of stage 1."))
        if len(res.binding):
            tables.append(Table("Table 3. Binding coefficient bounds", res.binding.set_index(res.binding.columns[0]),
                                formats={"*": "coefficient"}))
        if len(res.soft):
            tables.append(Table("Table 4. Soft aggregates", res.soft.set_index(res.soft.columns[0]),
                                formats={"*": "money", "rel_deviation": "share"}))
    compare_name = opts.get("compare_with")
    charts = []
    if compare_name and group:
        ctx.step(f"comparing the group's cells with {compare_name}")
        ref = read_table(book, {**s, "table": compare_name, "table_file": ""}).table
        acc = group_accuracy(prior, new, ref, target_src.table, group, method.upper())
        tables.append(Table(f"Table {len(tables) + 1}. Accuracy on the cells of {', '.join(group)} against "
                            f"'{compare_name}' (lower is better; sheet Methods, §5.7, §5.12)", acc,
                            formats={"*": "ratio"},
                            note=f"Scored on the group's cells only, the numbers the update had to estimate: "
                                 f"the {acc.attrs['cells']:,} Z cells in a row or column of "
                                 f"{', '.join(group)}, and the entries of L in the same places; every other cell "
                                 "was given. 'proportional split' = each group sum split by the prior's "
                                 "within-group shares (sheet Methods, §5.12): the one-line baseline, whose "
                                 "members' rows and columns do not balance. " + worst_cell(acc, method.upper(), money,
                                                                                            compare_name),
                            reading=group_reading(acc, method.upper(), balanced)))
        charts.append(Chart(f"Accuracy on the group's cells against '{compare_name}' (WAPE, %)", len(tables) - 1,
                            ["WAPE of Z (%)", "WAPE of L (%)"],
                            kind="column_clustered", x_title="updating method",
                            y_title="WAPE against the true table (%)"))
        key += [(f"WAPE of the group's Z cells against '{compare_name}'",
                 float(acc.loc[method.upper(), "WAPE of Z (%)"]), "%"),
                ("the same for the proportional split", float(acc.loc["proportional split", "WAPE of Z (%)"]), "%")]
    elif compare_name:
        ctx.step(f"comparing with {compare_name}")
        ref = read_table(book, {**s, "table": compare_name, "table_file": ""}).table
        acc = _accuracy(prior, new, ref, method)
        tables.append(Table(f"Table {len(tables) + 1}. Accuracy against '{compare_name}' "
                            "(WAPE in %, lower is better; sheet Methods, §5.7)", acc, formats={"*": "ratio"},
                            note="Every method gets the same information: total outputs, final-demand row sums and "
                                 "primary inputs of the target year. 'keep coefficients' = A of the prior with the "
                                 "target x (sheet Methods, §5.8).",
                            reading=accuracy_reading(acc, method.upper())))
        charts.append(Chart(f"Accuracy of the updated table against '{compare_name}' (WAPE, %)", len(tables) - 1,
                            ["WAPE of Z (%)", "WAPE of L (%)"], kind="column_clustered",
                            x_title="updating method", y_title="WAPE against the true table (%)"))
        key.append((f"WAPE of Z against '{compare_name}'", float(acc.loc[method.upper(), "WAPE of Z (%)"]), "%"))
    tf = opts.get("targets_from")
    information = (f" to '{tf}' with {', '.join(group)} known only as a group" if group else
                   f" to the margins of '{tf}'" if tf else "")
    h = header(ctx, "Update", "update", method=method.upper(), information=information,
                method_line=("ANAIS: stage 1 minimises the largest relative deviation ρ from the prior, stage 2 the "
                             "total deviation with ρ held (sheet Methods, §5.1–5.3)") if method == "anais" else
                ("KRAS: the table closest to the prior in GRAS's information measure that meets every item of "
                 "information (sheet Methods, §5.10)") if method == "kras" else
                f"{method.upper()}: biproportional balancing to the target margins (sheet Methods, §5.4–5.6)")
    notes = [group_note] if group_note else []
    notes.append(f"The updated table is on sheet '{name}' in xlmrio's input layout: set the option table to '{name}' "
                 "to run any command on it; its rows equal its columns (x = Z1 + y = Z'1 + v) within rtol 1e-6 when "
                 "Table 1 says it balances.")
    if prior.satellites:
        notes.append(f"Its satellites (sheet '{(name + ' satellites')[:31]}') are NOT target-year data: they are the prior "
                     "year's emission intensities times the updated output (and direct final-demand emissions per "
                     "unit of final demand times the updated final demand), sheet Methods, §5.9. Replace them with "
                     "target-year emissions when you have them.")
    else:
        notes.append("The prior has no satellite accounts, so the updated table has none: add a sheet "
                     f"'{name} satellites' before running accounts, flows or efficiency on it.")
    if group and method != "anais":
        notes.append("ANAIS, the method of the seed paper [SWZ22] (sheet Methods, §7.1), solved none of the "
                     "benchmark's grouped-regions cases with its default options (docs/update-accuracy.md): where a "
                     "group sum is positive but all its members' prior cells are zero, or a sum changes sign between "
                     "the years (inventory changes often do), its fixed zeros and signs cannot meet the sum. Set method "
                     "to anais to see its report.")
    sheets = [ResultSheet("Update", "update", h["title"], h["subtitle"], tables, notes, charts, meta=h["meta"],
                          kind="result", source=prior_src.description, key_figures=key)]
    return sheets + table_sheets(name, "update", {**h, "title": f"Updated table ({method.upper()}) from "
                                                             f"{prior_src.description}", "notes": []}, new, source=prior_src.description,
                                 satellite_title=f"Satellites of {name}: prior-year intensities × updated output "
                                                 "(not target-year data; sheet Methods, §5.9)")


def group_accuracy(prior: MRIOTable, est: MRIOTable, ref: MRIOTable, target: MRIOTable, group,
                   method: str) -> pd.DataFrame:
    """Accuracy on the group's cells of the estimate and of the proportional split (from *target*, the table the
    information came from) against *ref*: WAPE (%) of the Z cells in a member's row or column, WAPE (%) of the
    entries of L in such rows or columns, and the largest relative deviation of such a Z cell (ratio).
    ``.attrs`` holds the number of scored Z cells (``cells``) and, per row, where its largest relative deviation
    is (``worst``: row label, column label, estimate, reference value)."""
    from ...core.leontief import coefficients, leontief_inverse
    from ...update import compare

    n = prior.n
    member = np.array([prior.regions[k // n] in group for k in range(prior.N)])
    mask = member[:, None] | member[None, :]
    Zs, xs = proportional_split(prior, target, group)
    Lref = leontief_inverse(coefficients(ref.Z, ref.x))
    rows, worst = {}, {}
    labels = [f"{r}|{s}" for r in prior.regions for s in prior.sectors]
    for name, (Z, x) in ((method, (est.Z, est.x)), ("proportional split", (Zs, xs))):
        Z = np.asarray(Z)
        cz = compare(Z[mask], ref.Z[mask])
        cl = compare(leontief_inverse(coefficients(Z, np.asarray(x)))[mask], Lref[mask])
        rows[name] = [cz["wape"], cl["wape"], cz["max_rel"]]
        rel = np.zeros(Z.shape)
        on = mask & (ref.Z != 0)
        rel[on] = np.abs(Z[on] - ref.Z[on]) / np.abs(ref.Z[on])
        k, l = np.unravel_index(int(rel.argmax()), rel.shape)
        worst[name] = (labels[k], labels[l], float(Z[k, l]), float(ref.Z[k, l]),
                       bool(abs(ref.Z[k, l]) < 0.01 * np.abs(ref.Z[mask]).max()))
    out = pd.DataFrame(rows, index=["WAPE of Z (%)", "WAPE of L (%)", "largest relative deviation of Z (ratio)"]).T
    out.index.name = "method"
    out.attrs.update(cells=int(mask.sum()), worst=worst)
    return out


def worst_cell(acc: pd.DataFrame, method: str, money: str, ref_name: str) -> str:
    """Where the largest relative deviation of *method* sits, in words."""
    row, col, est, true, small = acc.attrs["worst"][method]
    return (f"{method}'s largest relative deviation is on {'a small cell, ' if small else ''}{row} → {col}: "
            f"{est:,.1f} {money} against {true:,.1f} in '{ref_name}'; WAPE weighs cells by their size.")


def group_reading(acc: pd.DataFrame, method: str, balances: bool = True) -> str:
    """One plain line comparing the update with the proportional split on the group's cells (*balances*: whether
    the updated table's rows equal its columns)."""
    z, lcol = acc.columns[0], acc.columns[1]
    a, b = acc.loc[method], acc.loc["proportional split"]

    def cmp(col, what):
        d = a[col] - b[col]
        if abs(d) < 0.05:
            return f"level with the split on {what} ({a[col]:.1f} % both)"
        return (f"{'below' if d < 0 else 'above'} the split on {what} by {abs(d):.1f} points "
                f"({a[col]:.1f} % against {b[col]:.1f} %)")

    return (f"{method} is {cmp(z, 'Z')} and {cmp(lcol, 'L')}. " + (
        f"Unlike the split, {method}'s table balances (each member's row total equals its column total), as the "
        "Leontief model needs." if balances else f"{method}'s table does not balance either (Table 1)."))


def _int(v) -> int | str:
    return int(v) if v not in (None, "") else ""


def carry_satellites(prior: MRIOTable, new: MRIOTable) -> dict:
    """Satellites of an updated table from the prior's: intensities ``g⁰ ⊘ x⁰`` times the new output, and direct
    final-demand emissions per unit of their final-demand column times the new column total (0 where the prior
    level is 0). Units are kept."""
    out = {}
    y0, y1 = prior.Y.sum(axis=0), new.Y.sum(axis=0)
    for k, sat in prior.satellites.items():
        e = np.divide(sat.values, prior.x, out=np.zeros_like(prior.x, dtype=float), where=prior.x != 0)
        hh = None
        if sat.hh is not None:
            h = np.divide(sat.hh, y0, out=np.zeros_like(y0, dtype=float), where=y0 != 0)
            hh = h * y1
        out[k] = (e * new.x, sat.unit, hh)
    return out


def accuracy_reading(acc: pd.DataFrame, method: str) -> str:
    """One plain line: which method the accuracy table favours, and by how much."""
    z, lcol = "WAPE of Z (%)", "WAPE of L (%)"
    best_z, best_l = acc[z].idxmin(), acc[lcol].idxmin()
    ties = [m for m in acc.index if m != best_z and abs(acc.loc[m, z] - acc.loc[best_z, z]) <= 1e-9]
    best_txt = " and ".join([best_z] + ties)
    txt = (f"The table favours {best_txt}: lowest WAPE of Z ({acc.loc[best_z, z]:.1f} %)"
           + (f" and of L ({acc.loc[best_l, lcol]:.1f} %)" if best_l in [best_z] + ties else
              f"; lowest WAPE of L: {best_l} ({acc.loc[best_l, lcol]:.1f} %)"))
    if method not in [best_z] + ties:
        txt += (f"; {method} is {acc.loc[method, z] - acc.loc[best_z, z]:.1f} points above on Z. With complete "
                "target margins RAS/GRAS use exactly this information, while ANAIS is built for partial or "
                "uncertain information")
    return txt + "."


def _check_named_table(book, cons, cname: str, key: str) -> None:
    """A Constraints option naming a table (targets_from, compare_with, reference_table) must name a
    sheet or defined name of the workbook; else the error is at that option's cell."""
    want = cons.options.get(key)
    if not want:
        return
    sheets = [sh.name for sh in book.sheets]
    if want in sheets or want in {nm.name for nm in book.names}:
        return
    raise WorkbookError(f"{key}: no sheet or defined name called {want!r}; sheets: {', '.join(sheets)}",
                        cname, cons.cells.get(key, "A1"))


def _evidence_led(prior: MRIOTable, method: str, totals, known, aggs, cons, reference):
    """KRAS, or the method ``auto`` picks from the information (xlmrio.update.update): returns the table,
    the method that ran and the summary rows, among them which method ran and why."""
    from ...update import update as run_update

    res = run_update(prior, method=method, totals=totals or None, known_cells=known or None,
                     aggregates=aggs or None, coefficient_bounds=cons.coefficient_bounds or None,
                     reference_regions=reference)
    k = res.result
    ran = {"gras": "GRAS (computed by KRAS, which equals GRAS on margins)", "kras": "KRAS"}.get(res.method,
                                                                                              res.method.upper())
    if method == "auto":
        ran += " (picked by auto)"
        short = "margins only" if res.method in ("ras", "gras") else "flow information"
    cite = "sheet Methods, §5.10" + (", §5.13"
                                      if method == "auto" and res.method == "kras" and aggs else "")
    diag = [("method", ran, cite),
            ("why this method", short if method == "auto" else "chosen in the options",
             "see below" if method == "auto" else ""),
            ("iterations", int(k.iterations), "Newton steps"),
            ("largest relative residual of the hard items", float(k.max_residual), "ratio"),
            ("conflicting soft items (|ε/se| > 3)", len(k.conflicts), "items"),
            ("cells given a new prior (zero or sign pattern could not meet an item)", len(k.seeded), "cells"),
            ("time", round(float(k.seconds), 1), "s (wall clock)")]
    why = (f"Why {res.method.upper()}: {res.reason.rstrip('.')} (the accuracy benchmark, docs/update-accuracy.md "
           "of xlmrio)." if method == "auto" else "")
    return res.table, res.method, diag, why


def _reference_regions(book, s: dict, cons, cname: str, prior: MRIOTable):
    """ReferenceRegions from the Constraints options (errors at the option's cell)."""
    from ...update import ReferenceRegions

    opts, cells = cons.options, cons.cells
    ref = read_table(book, {**s, "table": opts["reference_table"], "table_file": ""}).table
    regions, apply_to = opts.get("reference_regions") or [], opts.get("reference_apply_to") or []
    for key, labels, table, what in (("reference_regions", regions, ref, "reference table"),
                                     ("reference_apply_to", apply_to, prior, "prior table")):
        if not labels:
            raise WorkbookError(f"{key} is empty: list regions of the {what}, comma-separated", cname,
                                cells.get(key, "A1"))
        unknown = [r for r in labels if r not in table.regions]
        if unknown:
            raise WorkbookError(f"{key}: unknown region(s) {', '.join(map(repr, unknown))}; the {what} has "
                                f"{', '.join(table.regions)}", cname, cells.get(key, "A1"))
    if tuple(ref.sectors) != tuple(prior.sectors):
        raise WorkbookError(f"the reference table '{opts['reference_table']}' must have the prior's sectors",
                            cname, cells.get("reference_table", "A1"))
    return ReferenceRegions(table=ref, regions=regions, apply_to=apply_to, widen=float(opts["reference_widen"]))


def biproportional(prior: MRIOTable, target: MRIOTable, method: str):
    """RAS/GRAS update with the same information ANAIS gets from a target table: Z balanced to the target's
    intermediate row sums ``u = x − y`` and column sums ``v = x − 1'V``; final-demand rows scaled to the
    target's row sums; ``V`` and ``x`` from the target. Returns ``(table, BalanceResult)``."""
    from ...update import gras_result, ras_result

    y_t = target.y
    u = target.x - y_t
    v = target.x - target.V.sum(axis=0)
    res = (ras_result if method == "ras" else gras_result)(prior.Z, u, v)
    blocks = [prior.Y] + [b[:, None] for b in (prior.exports, prior.other) if b is not None]
    F0 = np.hstack(blocks)
    f0 = F0.sum(axis=1)
    scale = np.divide(y_t, f0, out=np.zeros_like(y_t), where=f0 != 0)
    F = F0 * scale[:, None]
    flat = f0 == 0
    F[flat] = (y_t[flat] / F0.shape[1])[:, None]  # no prior pattern: spread evenly
    k = prior.Y.shape[1]
    rest = iter(range(k, F.shape[1]))
    exports = F[:, next(rest)] if prior.exports is not None else None
    other = F[:, next(rest)] if prior.other is not None else None
    new = prior.replace(Z=res.Z, Y=F[:, :k], V=target.V, x=target.x, exports=exports, other=other, satellites={})
    return new, res


def _accuracy(prior: MRIOTable, est: MRIOTable, ref: MRIOTable, method: str) -> pd.DataFrame:
    """WAPE of Z and L of the estimate and of the benchmark methods against a reference table."""
    from ...core.leontief import coefficients, leontief_inverse
    from ...update import compare

    cand = {method.upper(): est}
    for m in ("ras", "gras"):
        if m != method:
            cand[m.upper()] = biproportional(prior, ref, m)[0]
    A0 = coefficients(prior.Z, prior.x)
    cand["keep coefficients"] = prior.replace(Z=A0 * ref.x[None, :], x=ref.x, V=None, satellites={})
    Lref = leontief_inverse(coefficients(ref.Z, ref.x))
    rows = {}
    for name, t in cand.items():
        cz = compare(t.Z, ref.Z)
        cl = compare(leontief_inverse(coefficients(t.Z, t.x)), Lref)
        rows[name] = [cz["wape"], cz["max_rel"], cl["wape"]]
    out = pd.DataFrame(rows, index=["WAPE of Z (%)", "max relative deviation of Z (ratio)", "WAPE of L (%)"]).T
    out.index.name = "method"
    return out


@register("update")
def update(book, **options) -> list[str]:
    settings = st.resolve(book, options)
    prior_opt = settings.get("prior") or settings.get("table_t0") or settings.get("table")
    ctx = open_context(book, {**options, "table": prior_opt} if prior_opt else options, "update")
    with ctx.step:
        return finish(book, ctx, build_update(book, ctx))
