"""Update table: the prior table updated to target-year information (ANAIS, RAS, GRAS) from the Constraints
sheet, with its accuracy against a reference table when one is named."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ...core.table import MRIOTable
from ...errors import WorkbookError
from .. import settings as st
from ..reader import read_table
from ..registry import register
from ..report import ResultSheet, Table
from .aggregate import table_sheets
from .context import Context, finish, header, open_context


def build_update(book, ctx: Context) -> list[ResultSheet]:
    from ...update import anais
    from ..constraints import margins_of, read_constraints
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
    if opts.get("targets_from"):
        target_src = read_table(book, {**s, "table": opts["targets_from"], "table_file": ""})
        t_tot, t_known, t_aggs = margins_of(target_src.table, prior, opts["targets_from"])
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
    ctx.step(f"updating {prior_src.description} with {method.upper()} ({len(totals)} known totals, "
             f"{len(aggs)} aggregates, {len(cons.coefficient_bounds)} coefficient bounds)")
    diag = []
    if method in ("auto", "kras"):
        new, method, diag = _evidence_led(prior, method, totals, known, aggs, cons, reference)
    elif method == "anais":
        ctx.step("solving the ANAIS linear programmes (stage 1: largest deviation; stage 2: total deviation)")
        res = anais(prior, totals=totals or None, known_cells=known or None, aggregates=aggs or None,
                    coefficient_bounds=cons.coefficient_bounds or None, reference_regions=reference,
                    rmax_mode=opts["rmax_mode"], objective=opts["objective"], zero_policy=opts["zero_policy"],
                    prior_scaling=opts["prior_scaling"], eps_rel=float(opts["eps_rel"]),
                    eps_abs=float(opts["eps_abs"]), solver=opts["solver"], elastic=opts["elastic"] == "yes",
                    time_limit=float(opts["time_limit"]) if opts["time_limit"] not in ("", None) else None)
        new = res.table
        money = prior.monetary_unit or "money units"
        rho_txt = (f"{res.rho:.6g} ({res.rho:.1%} of the prior value)" if opts["rmax_mode"] == "relative"
                   else f"{res.rho:,.6g} {money}")
        obj_txt = (f"{res.objective:,.6g} {money} (total absolute deviation)" if opts["objective"] == "absolute"
                   else f"{res.objective:.6g} (sum of relative deviations)")
        diag = [("method", "ANAIS (two-stage LP)"), ("solver", res.solver), ("status", res.status),
                ("ρ*: largest deviation (stage 1)", rho_txt), ("stage-2 objective", obj_txt),
                ("largest realised deviation", f"{res.rho_realised:.6g}"), ("time", f"{res.seconds:.1f} s"),
                ("rmax mode / objective", f"{opts['rmax_mode']} / {opts['objective']}"),
                ("prior scaling", opts["prior_scaling"]),
                ("cells / free cells", f"{res.size.get('cells', '')} / {res.size.get('free_cells', '')}")]
    else:
        if target_src is None:
            raise WorkbookError(f"{method.upper()} needs complete margins: name a table sheet in the option "
                                "targets_from", cname, "A1")
        unused = [name for name, items in (("Known totals", cons.totals), ("Known cells", cons.known_cells),
                                           ("Aggregates", cons.aggregates),
                                           ("Coefficient bounds", cons.coefficient_bounds),
                                           ("reference_table", reference)) if items]
        if unused:
            raise WorkbookError(f"{method.upper()} balances to the margins of '{opts['targets_from']}' only and "
                                f"cannot use the section(s) {', '.join(unused)}; set method to anais, or clear "
                                "those sections", cname, "A1")
        new, info = biproportional(prior, target_src.table, method)
        diag = [("method", f"{method.upper()} on Z with the target's intermediate row and column totals; final "
                           "demand rows scaled to the target's row sums; primary inputs from the target"),
                ("iterations", info.iterations), ("final residual", info.eps)]
    name = f"{(prior_src.sheet or prior.name)[:20]} updated"[:31]
    new = new.replace(name=name, monetary_unit=prior.monetary_unit)
    ctx.step("checking the updated table")
    rep = new.validate(rtol=1e-6, raise_on_error=False)
    diag.append(("updated table balances (rtol 1e-6)", "yes" if not [f for f in rep.warnings if "balance" in f.what]
                 else "no"))
    tables = [Table("Table 1. Solution summary", pd.DataFrame({"value": [v for _, v in diag]},
                                                              index=pd.Index([k for k, _ in diag], name="item")),
                    formats={"value": "general"})]
    if method == "anais":
        dev = res.deviations.copy()
        dev.index = pd.Index([f"#{k}" for k in range(1, len(dev) + 1)], name="rank")
        scaled = " (prior after column scaling to the target totals)" if opts["prior_scaling"] == "columns" else ""
        tables.append(Table(f"Table 2. Largest realised deviations from the prior{scaled}", dev,
                            formats={"prior": "money", "value": "money", "abs_deviation": "money",
                                     "rel_deviation": "share", "block": "text", "row": "text", "column": "text"}))
        if len(res.binding):
            tables.append(Table("Table 3. Binding coefficient bounds", res.binding.set_index(res.binding.columns[0]),
                                formats={"*": "coefficient"}))
        if len(res.soft):
            tables.append(Table("Table 4. Soft aggregates", res.soft.set_index(res.soft.columns[0]),
                                formats={"*": "money", "rel_deviation": "share"}))
    compare_name = opts.get("compare_with")
    if compare_name:
        ctx.step(f"comparing with {compare_name}")
        ref = read_table(book, {**s, "table": compare_name, "table_file": ""}).table
        tables.append(Table(f"Accuracy against '{compare_name}' (WAPE in %, METHODS §5.3)",
                            _accuracy(prior, new, ref, method), formats={"*": "ratio"},
                            note="Every method gets the same information: total outputs, final-demand row sums and "
                                 "primary inputs of the target year. 'keep coefficients' = A of the prior with the "
                                 "target x."))
    h = header(ctx, "Update", "update", method=method.upper(),
                method_line=("ANAIS: stage 1 minimises the largest relative deviation ρ from the prior, stage 2 the "
                             "total deviation with ρ held (METHODS §4)") if method == "anais" else
                ("KRAS: the table closest to the prior in GRAS's information measure that meets every item of "
                 "information (METHODS §5.4)") if method == "kras" else
                f"{method.upper()}: biproportional balancing to the target margins (METHODS §5)")
    notes = [f"The updated table is on sheet '{name}' in xlmrio's input layout, so every command can read it "
             "(set the option table to that sheet).",
             "Satellite accounts are not carried over: they belong to the prior year."]
    sheets = [ResultSheet("Update", "update", h["title"], h["subtitle"], tables, notes, meta=h["meta"])]
    return sheets + table_sheets(name, "update", {**h, "title": f"Updated table ({method.upper()}) from "
                                                             f"{prior_src.description}", "notes": []}, new)


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
    diag = [("method", ran), ("why this method", res.reason if method == "auto" else "chosen in the options"),
            ("iterations", k.iterations), ("largest relative residual of the hard items", f"{k.max_residual:.3g}"),
            ("conflicting soft items (|ε/se| > 3)", len(k.conflicts)),
            ("cells given a new prior (sign or zero pattern could not meet an item)", len(k.seeded)),
            ("time", f"{k.seconds:.1f} s")]
    return res.table, res.method, diag


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


@register("update", label="Update table", group="Update", image="TableSharePointListsRefreshList",
          help="Update the prior table to target-year information (ANAIS, RAS, GRAS) from the Constraints sheet")
def update(book, **options) -> list[str]:
    settings = st.resolve(book, options)
    prior_opt = settings.get("prior") or settings.get("table_t0") or settings.get("table")
    ctx = open_context(book, {**options, "table": prior_opt} if prior_opt else options, "update")
    with ctx.step:
        return finish(book, ctx, build_update(book, ctx))
