"""Uncertainty: Monte Carlo intervals of PBA, CBA and NEI, and how sure the production/consumption
classification and the inefficient-flow share are (:func:`xlmrio.uncertainty.monte_carlo`)."""
from __future__ import annotations

import pandas as pd

from ...errors import OptionError
from ..registry import register
from ..report import Chart, ResultSheet, Table
from .. import settings as st
from .context import Context, display, display_note, finish, header, open_context, satellite_of

_MEASURE = {"pba": "PBA", "cba": "CBA", "nei": "NEI"}
_STAT = {"mean": "mean", "sd": "sd", "p2.5": "2.5th percentile", "p50": "median", "p97.5": "97.5th percentile"}


def progress_line(done: int, total: int, elapsed: float, what: str = "draws") -> str:
    """``"120/500 draws, 3.1 s, about 9.8 s left"`` (time left from the mean time per item so far)."""
    left = elapsed / done * (total - done) if done else float("nan")
    return f"{done}/{total} {what}, {elapsed:.1f} s, about {left:.1f} s left"


def run_options(ctx: Context) -> dict:
    """Monte Carlo options from the settings, with an error at the option's cell for a bad one."""
    s = ctx.settings
    draws = s.get("mc_draws", 500)
    if draws < 2:
        raise st.option_error(s, "mc_draws", f"mc_draws must be at least 2 (a spread needs two draws), not {draws}")
    rsd = s.get("mc_rsd")
    return {"draws": int(draws), "rsd": None if rsd in ("", None) else float(rsd), "seed": int(s.get("mc_seed", 1)),
            "rebalance": s.get("mc_rebalance", "none"), "client": s.get("scheduler") or None,
            "basis": s.get("basis", "total")}


def build_uncertainty(ctx: Context) -> list[ResultSheet]:
    from ...uncertainty import monte_carlo

    t = ctx.table
    sat = satellite_of(ctx)
    opts = run_options(ctx)
    where = opts["client"] or "local threads"
    ctx.step(f"{opts['draws']} Monte Carlo draws on {where}")
    try:
        r = monte_carlo(t, sat, **opts, progress=lambda d, n, s: ctx.step(progress_line(d, n, s)))
    except OptionError as exc:
        opt = "scheduler" if "scheduler" in str(exc) or "Dask" in str(exc) else "mc_rsd"
        raise st.option_error(ctx.settings, opt, str(exc)) from None
    ds = display(ctx, r.unit, "emissions")   # option display_unit_emissions; the draws run in the table's unit
    unit = ds.unit
    summ = ds(r.summary)
    tab = summ.copy()
    for meas in reversed(list(_MEASURE)):
        tab.insert(list(tab.columns).index((meas, "mean")), (meas, "point"), ds(r.point[meas]))
    order = ["point", "mean", "sd", "p2.5", "p50", "p97.5"]
    tab = tab[[(m, s) for m in _MEASURE for s in order]]
    tab.columns = pd.MultiIndex.from_tuples([(f"{_MEASURE[m]} ({unit})", _STAT.get(s, s)) for m, s in tab.columns],
                                            names=["measure", "statistic"])
    prob = r.p_orientation.join(r.p_net_exporter)
    prob = prob[["orientation", "P(PBA > CBA)", "P(production)", "P(consumption)", "P(class holds)"]]
    prob = prob.rename(columns={"orientation": f"orientation ({r.basis} basis, point estimate)"})
    sh = r.share_summary.rename({"p2.5": "2.5th percentile", "p50": "median", "p97.5": "97.5th percentile",
                                 "point": "point estimate"}).to_frame("inefficient-flow share")
    sh.index.name = "statistic"
    tables = [
        Table(f"Table 1. {sat} accounts by region: point estimate and Monte Carlo distribution over {r.draws} draws "
              f"({unit})", tab, formats={"*": "emissions"},
              reading="Read the 2.5th and 97.5th percentile columns as the 95 % interval of each account."),
        Table("Table 2. How sure is the production/consumption classification? Share of draws", prob,
              formats={"*": "share", f"orientation ({r.basis} basis, point estimate)": "text"},
              reading="P(class holds) is the share of draws in which the region keeps its point-estimate class."),
        Table("Table 3. Inefficient-flow share (flow basis T, all regions): distribution over the draws", sh,
              formats={"*": "share"}),
    ]
    regions = list(t.regions)
    data = pd.DataFrame(index=pd.Index(regions, name="region"))
    bars = {}
    for meas in ("pba", "cba"):
        med = f"{_MEASURE[meas]} median"
        data[med] = summ[(meas, "p50")]
        data[f"{_MEASURE[meas]}: median − 2.5th percentile"] = summ[(meas, "p50")] - summ[(meas, "p2.5")]
        data[f"{_MEASURE[meas]}: 97.5th percentile − median"] = summ[(meas, "p97.5")] - summ[(meas, "p50")]
        bars[med] = (f"{_MEASURE[meas]}: median − 2.5th percentile", f"{_MEASURE[meas]}: 97.5th percentile − median")
    charts = [Chart(f"PBA and CBA by region with 95 % intervals ({unit})", 0, list(bars), data=data,
                    rows=regions, x_title="region", y_title=f"emissions ({unit})", error_bars=bars)]
    h = header(ctx, "Uncertainty", "uncertainty", satellite=sat, basis=r.basis, basis_label=f"NEI {r.basis}",
               draws=r.draws, seed=r.seed)
    rsd_txt = ("size-dependent default after Lenzen et al. (2010): rsd = clip(0.10·(|v|/median|v|)^−0.30, 2 %, "
               "100 %) per cell" if opts["rsd"] is None else f"{opts['rsd']:.3g} for every cell")
    notes = h["notes"] + [
        f"Relative standard deviation: {rsd_txt}; mean over the non-zero cells: Z {r.rsd['Z']:.1%}, "
        f"Y {r.rsd['Y']:.1%}, satellite {r.rsd['satellite']:.1%}.",
        f"Seed {r.seed}; rebalancing: {r.rebalance}; computed on {where}.",
        "The chart shows the median of PBA and CBA by region; its error bars run from the 2.5th to the 97.5th "
        "percentile (the 95 % interval of Table 1).",
    ]
    notes += display_note(ds, r.unit)
    return [ResultSheet("Uncertainty", "uncertainty", h["title"], h["subtitle"], tables, notes, charts,
                        meta=h["meta"], source=ctx.source.description,
                        key_figures=[("draws", r.draws, ""),
                                     ("inefficient-flow share, 95 % interval",
                                      f"{r.share_summary['p2.5']:.1%} – {r.share_summary['p97.5']:.1%}", "")])]


@register("uncertainty")
def uncertainty(book, **options) -> list[str]:
    ctx = open_context(book, options, "uncertainty")
    with ctx.step:
        return finish(book, ctx, build_uncertainty(ctx))
