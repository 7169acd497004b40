"""The "Constraints" sheet of the Update command: target information for ANAIS / RAS / GRAS.

The sheet holds sections, each a heading cell in column A followed by a header row and data rows
up to the next section heading or the "Examples" line (blank rows inside a section are skipped, so
the template leaves room to type; any section may be left out)::

    Options
    Option          | Value
    method          | auto             (auto, kras, anais, ras, gras; auto picks the method the accuracy
                                        benchmark found best for the information given)
    targets_from    | MRIO 2007        (a table sheet: its total outputs, final-demand row sums and
                                        primary inputs become the targets)
    compare_with    | MRIO 2007        (a table sheet: report accuracy against it)
    grouped_regions | CHN, JPN, KOR+TWN (with targets_from: these regions are known only as a group, the
                                        seeds' city/province case, METHODS §4.6: every number of the
                                        targets_from table is used except the split among the group's
                                        members, which is replaced by the group's sums, see grouped_of;
                                        with compare_with, accuracy is scored on the group's cells)
    rmax_mode, objective, zero_policy, prior_scaling, solver, eps_rel, eps_abs, time_limit, elastic
    reference_table, reference_regions, reference_apply_to, reference_widen
                                       (coefficient intervals from regions of a reference table)

    Known totals
    Region | Sector | Total output

    Known cells
    Block | Row | Column | Value          (Block Z/Y/V/exports/other; Row and Column as
                                          "region|sector", "region|category" or a primary-input name)

    Aggregates
    Name | Type | Value | Member | Weight  (one row per member; Name, Type (hard/soft) and Value on the
                                          aggregate's first row; Member like "x CHN|01 Agriculture",
                                          "Z CHN|01 Agriculture / JPN|02 Mining", "Y CHN|03 Food / JPN|Households",
                                          "V Value added / CHN|01 Agriculture", "exports CHN|02 Mining")

    Coefficient bounds
    Column | Rows | Lower | Upper | Name  (Column "region|sector"; Rows one or more "region|sector"
                                          separated by ";"; Lower/Upper may be empty)
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..core.grouped import group_ids
from ..core.table import MRIOTable
from ..errors import WorkbookError
from .layout import Grid, address, value_text

SECTIONS = ("options", "known totals", "known cells", "aggregates", "coefficient bounds")
EXAMPLES = "Examples"          # a line starting with this ends the last section
ROOM = 5                        # empty rows the template leaves under each section's header
UPDATE_OPTIONS = {
    "method": ("auto", ("auto", "kras", "anais", "ras", "gras")),
    "targets_from": ("", ()),
    "compare_with": ("", ()),
    "grouped_regions": ("", ()),
    "rmax_mode": ("relative", ("relative", "absolute")),
    "objective": ("absolute", ("absolute", "relative")),
    "zero_policy": ("fixed", ("fixed", "free")),
    "prior_scaling": ("columns", ("none", "columns")),
    "solver": ("auto", ("auto", "pulp", "highs", "highs-ds", "highs-ipm", "network")),
    "eps_rel": (1e-6, ()),
    "eps_abs": (1e-9, ()),
    "time_limit": ("", ()),
    "elastic": ("yes", ("yes", "no")),
    "reference_table": ("", ()),
    "reference_regions": ("", ()),
    "reference_apply_to": ("", ()),
    "reference_widen": (0.0, ()),
}
#: what the template's "Allowed" column says for options without a fixed list of choices
ALLOWED = {
    "targets_from": "(a table sheet name)", "compare_with": "(a table sheet name)",
    "grouped_regions": "regions known only as a group, comma-separated (needs targets_from)",
    "eps_rel": "number >= 0: stage 2 keeps rho <= rho*(1 + eps_rel) + eps_abs",
    "eps_abs": "number >= 0 (units of the largest prior cell)",
    "time_limit": "seconds per LP solve (empty: no limit)",
    "reference_table": "(a table sheet name): coefficient intervals from the range of its regions' coefficients",
    "reference_regions": "regions of the reference table, comma-separated",
    "reference_apply_to": "regions of the prior whose columns get those intervals, comma-separated",
    "reference_widen": "fraction to widen the intervals by, e.g. 0.1",
}
_NUMERIC = {"eps_rel", "eps_abs", "time_limit", "reference_widen"}
_LISTS = {"reference_regions", "reference_apply_to", "grouped_regions"}


@dataclass
class Constraints:
    """Target information read from the sheet (labels checked against the prior table)."""

    options: dict = field(default_factory=lambda: {k: v[0] for k, v in UPDATE_OPTIONS.items()})
    cells: dict = field(default_factory=dict)      # option -> its value cell (for error messages)
    totals: dict = field(default_factory=dict)
    known_cells: dict = field(default_factory=dict)
    aggregates: list = field(default_factory=list)
    coefficient_bounds: list = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.totals or self.known_cells or self.aggregates or self.coefficient_bounds
                    or self.options.get("targets_from"))


def _text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def _rs(text: str, table: MRIOTable, grid: Grid, i: int, j: int, what: str = "region-sector") -> tuple[str, str]:
    r, sep, s = text.partition("|")
    r, s = r.strip(), s.strip()
    if not sep or r not in table.regions or s not in table.sectors:
        raise grid.error(i, j, f"unknown {what} {text!r}: write it as region|sector with labels of the prior table")
    return r, s


def _number(grid: Grid, i: int, j: int, what: str, allow_empty: bool = False) -> float | None:
    v = grid.get(i, j)
    if v is None or (isinstance(v, str) and v.strip() == ""):
        if allow_empty:
            return None
        raise grid.error(i, j, f"missing {what}")
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise grid.error(i, j, f"{what} must be a number, not {value_text(v)}")
    if not np.isfinite(v):
        raise grid.error(i, j, f"{what} is not finite")
    return float(v)


def _member(text: str, table: MRIOTable, grid: Grid, i: int, j: int):
    block, _, rest = text.strip().partition(" ")
    block = block.strip()
    rest = rest.strip()
    if block == "x":
        return ("x", _rs(rest, table, grid, i, j))
    if block in ("exports", "other"):
        return (block, _rs(rest, table, grid, i, j))
    row, sep, col = rest.partition("/")
    if block not in ("Z", "Y", "V") or not sep:
        raise grid.error(i, j, f"member {text!r}: write 'x region|sector', 'Z row / column', 'Y row / region|category', "
                               "'V input / region|sector', 'exports region|sector' or 'other region|sector'")
    row, col = row.strip(), col.strip()
    if block == "Z":
        return ("Z", _rs(row, table, grid, i, j), _rs(col, table, grid, i, j))
    if block == "Y":
        r, _, c = col.partition("|")
        if r.strip() not in table.regions or c.strip() not in table.fd_categories:
            raise grid.error(i, j, f"unknown final-demand column {col!r} (region|category)")
        return ("Y", _rs(row, table, grid, i, j), (r.strip(), c.strip()))
    if row not in table.va_rows:
        raise grid.error(i, j, f"unknown primary input {row!r}; the prior has {', '.join(table.va_rows)}")
    return ("V", row, _rs(col, table, grid, i, j))


def read_constraints(grid: Grid, prior: MRIOTable) -> Constraints:
    """Parse the sections of a Constraints sheet (see module docstring)."""
    from ..update import Aggregate, CoefficientBound

    out = Constraints()
    heads = {}
    stops = [grid.nrows]        # where sections end: every heading and the examples line
    for i, row in enumerate(grid.values):
        t = _text(row[0] if row else None).lower()
        if t in SECTIONS:
            if t in heads:
                raise grid.error(i, 0, f"section '{t}' appears twice")
            heads[t] = i
            stops.append(i)
        elif t.startswith(EXAMPLES.lower()):
            stops.append(i)
    if not heads:
        raise WorkbookError("no section found: the sheet needs at least one of the headings "
                            + ", ".join(s.capitalize() for s in SECTIONS), grid.sheet, "A1")

    def rows(name: str):
        if name not in heads:
            return
        start = heads[name] + 2  # skip the header row
        end = min(k for k in stops if k > heads[name])
        for i in range(start, end):
            if any(v not in (None, "") and not (isinstance(v, str) and not v.strip()) for v in grid.values[i][:6]):
                yield i

    for i in rows("options"):
        key = _text(grid.get(i, 0))
        if key not in UPDATE_OPTIONS:
            raise grid.error(i, 0, f"unknown update option {key!r}; known: {', '.join(UPDATE_OPTIONS)}")
        default, choices = UPDATE_OPTIONS[key]
        val = grid.get(i, 1)
        out.cells[key] = cell(grid, i, 1)
        if val in (None, ""):
            continue
        if key in _NUMERIC:
            num = _number(grid, i, 1, key)
            if num < 0 or (key == "time_limit" and num == 0):
                raise grid.error(i, 1, f"{key} must be {'above' if key == 'time_limit' else 'at least'} 0, not {num:g}")
            out.options[key] = num
            continue
        if key in _LISTS:
            out.options[key] = [p.strip() for p in _text(val).split(",") if p.strip()]
            if key == "grouped_regions":
                _check_group(out.options[key], prior, grid, i)
            continue
        val = _text(val)
        if choices and val not in choices:
            raise grid.error(i, 1, f"invalid value {val!r} for {key}; allowed: {', '.join(choices)}")
        out.options[key] = val
    for i in rows("known totals"):
        r, s = _text(grid.get(i, 0)), _text(grid.get(i, 1))
        lab = _rs(f"{r}|{s}", prior, grid, i, 0)
        if lab in out.totals:
            raise grid.error(i, 0, f"total output of {r}|{s} is given twice")
        val = _number(grid, i, 2, "total output")
        if val < 0:
            raise grid.error(i, 2, "total output must be >= 0")
        out.totals[lab] = val
    for i in rows("known cells"):
        block = _text(grid.get(i, 0))
        ref = _member(f"{block} {_text(grid.get(i, 1))} / {_text(grid.get(i, 2))}" if block in ("Z", "Y", "V")
                      else f"{block} {_text(grid.get(i, 1))}", prior, grid, i, 0)
        out.known_cells[ref] = _number(grid, i, 3, "cell value")
    current = None
    for i in rows("aggregates"):
        name = _text(grid.get(i, 0))
        member = _member(_text(grid.get(i, 3)), prior, grid, i, 3)
        weight = _number(grid, i, 4, "weight", allow_empty=True)
        weight = 1.0 if weight is None else weight
        if name:
            kind = _text(grid.get(i, 1)).lower() or "hard"
            if kind not in ("hard", "soft"):
                raise grid.error(i, 1, f"aggregate type must be hard or soft, not {kind!r}")
            current = {"name": name, "soft": kind == "soft", "value": _number(grid, i, 2, "aggregate value"),
                       "members": []}
            out.aggregates.append(current)
        elif current is None:
            raise grid.error(i, 0, "the first aggregate row needs a name, a type and a value")
        current["members"].append((member, weight))
    out.aggregates = [Aggregate(a["name"], a["members"], a["value"], a["soft"]) for a in out.aggregates]
    for i in rows("coefficient bounds"):
        col = _rs(_text(grid.get(i, 0)), prior, grid, i, 0)
        members = [p for p in _text(grid.get(i, 1)).split(";") if p.strip()]
        if not members:
            raise grid.error(i, 1, "list the origin rows (region|sector; separate several with ';')")
        rws = [_rs(p, prior, grid, i, 1) for p in members]
        lo = _number(grid, i, 2, "lower bound", allow_empty=True)
        hi = _number(grid, i, 3, "upper bound", allow_empty=True)
        if lo is None and hi is None:
            raise grid.error(i, 2, "give a lower and/or an upper bound")
        if lo is not None and hi is not None and lo > hi:
            raise grid.error(i, 2, f"lower bound {lo:g} exceeds upper bound {hi:g}")
        name = _text(grid.get(i, 4)) or f"a({'+'.join(f'{r}|{s}' for r, s in rws)} -> {col[0]}|{col[1]})"
        out.coefficient_bounds.append(CoefficientBound(col, rws if len(rws) > 1 else rws[0], lo, hi, name))
    return out


def _check_group(group: list[str], prior: MRIOTable, grid: Grid, i: int) -> None:
    """grouped_regions names two or more distinct regions of the prior (error at the option's value cell)."""
    unknown = [r for r in group if r not in prior.regions]
    if unknown:
        raise grid.error(i, 1, f"grouped_regions: unknown region(s) {', '.join(map(repr, unknown))}; the prior "
                               f"table has {', '.join(prior.regions)} (separate regions with commas)")
    twice = sorted({r for r in group if group.count(r) > 1})
    if twice:
        raise grid.error(i, 1, f"grouped_regions: {', '.join(map(repr, twice))} listed twice")
    if len(group) < 2:
        raise grid.error(i, 1, "grouped_regions: list at least two regions (one region alone would be known "
                               "cell by cell)")


def grouped_of(target: MRIOTable, prior: MRIOTable, name: str, group) -> tuple[dict, dict, list]:
    """Targets from a table sheet with *group*'s regions known only as a group (METHODS §4.6, the seeds'
    city/province case; sheet Methods, §5.11).

    Known: every total output and every cell of Z, final demand and primary inputs that touches no member
    of *group*.  For the group, one hard aggregate per sum of :func:`group_ids`: per sector its total
    output, its sales to each outside row/final-demand column and purchases from each outside column, the
    flows among members summed over member pairs, its final demand by category and its primary inputs.

    Returns
    -------
    (totals, known_cells, aggregates)
        In the formats of :func:`xlmrio.update.anais` (money units of the tables); aggregates are named
        like ``"CHN+JPN: Z 01 Agriculture / USA|02 Mining"``.
    """
    from ..update import Aggregate

    _same_labels(target, prior, name)
    ids = group_ids(prior, group)
    labs = [(r, s) for r in prior.regions for s in prior.sectors]
    fd = [("Y", (r, c)) for r in prior.regions for c in prior.fd_categories]
    fd += [(b, None) for b in ("exports", "other") if getattr(prior, b) is not None]
    F = np.hstack([target.Y] + [getattr(target, b)[:, None] for b in ("exports", "other")
                                if getattr(prior, b) is not None])
    gname = "+".join(group)

    def lab(k):          # a row/column label as the sum sees it: the group's for members
        r, s = labs[k]
        return f"{gname}|{s}" if r in group else f"{r}|{s}"

    def fref(k, j):
        block, col = fd[j]
        return (block, labs[k], col) if col is not None else (block, labs[k])

    def flab(j):
        block, col = fd[j]
        return block if col is None else f"{gname if col[0] in group else col[0]}|{col[1]}"

    known, members, values, names = {}, {}, {}, {}

    def put(i, ref, val, text):
        if i < 0:
            known[ref] = float(val)
            return
        members.setdefault(i, []).append(ref)
        values[i] = values.get(i, 0.0) + float(val)
        names.setdefault(i, text)

    for k in range(len(labs)):
        for l in range(len(labs)):
            put(ids["Z"][k, l], ("Z", labs[k], labs[l]), target.Z[k, l], f"Z {lab(k)} / {lab(l)}")
        for j in range(len(fd)):
            put(ids["F"][k, j], fref(k, j), F[k, j], f"final demand {lab(k)} / {flab(j)}")
    for d, va in enumerate(prior.va_rows):
        for l in range(len(labs)):
            put(ids["V"][d, l], ("V", va, labs[l]), target.V[d, l], f"{va} / {lab(l)}")
    totals = {}
    for k in range(len(labs)):
        if ids["x"][k] < 0:
            totals[labs[k]] = float(target.x[k])
        else:
            members.setdefault(ids["x"][k], []).append(("x", labs[k]))
            values[ids["x"][k]] = values.get(ids["x"][k], 0.0) + float(target.x[k])
            names.setdefault(ids["x"][k], f"total output {lab(k)}")
    aggs = [Aggregate(f"group sum: {names[i]}", members[i], values[i]) for i in sorted(members)]
    return totals, known, aggs


def _same_labels(target: MRIOTable, prior: MRIOTable, name: str) -> None:
    if target.regions != prior.regions or target.sectors != prior.sectors or target.va_rows != prior.va_rows \
            or target.fd_categories != prior.fd_categories \
            or (target.exports is None) != (prior.exports is None) or (target.other is None) != (prior.other is None):
        raise WorkbookError(f"the target table {name!r} must have the prior's regions, sectors, final-demand "
                            "categories and primary-input rows")


def margins_of(target: MRIOTable, prior: MRIOTable, name: str) -> tuple[dict, dict, list]:
    """Targets from a table sheet: totals x, primary inputs V (known cells) and final-demand row sums
    (hard aggregates) — the same information RAS/GRAS use as margins."""
    from ..update import Aggregate

    if target.regions != prior.regions or target.sectors != prior.sectors or target.va_rows != prior.va_rows \
            or target.fd_categories != prior.fd_categories:
        raise WorkbookError(f"the target table {name!r} must have the prior's regions, sectors, final-demand "
                            "categories and primary-input rows")
    labs = [(r, s) for r in prior.regions for s in prior.sectors]
    totals = dict(zip(labs, target.x.tolist()))
    known = {("V", d, lab): float(target.V[di, k]) for di, d in enumerate(prior.va_rows)
             for k, lab in enumerate(labs)}
    aggs = []
    frows = target.Y.sum(axis=1)
    for k, lab in enumerate(labs):
        members = [("Y", lab, (r, c)) for r in prior.regions for c in prior.fd_categories]
        if target.exports is not None:
            members.append(("exports", lab))
        if target.other is not None:
            members.append(("other", lab))
        val = frows[k] + (target.exports[k] if target.exports is not None else 0) + \
            (target.other[k] if target.other is not None else 0)
        aggs.append(Aggregate(f"final demand of {lab[0]}|{lab[1]}", members, float(val)))
    return totals, known, aggs


def template_rows(prior: MRIOTable | None = None) -> list[list[Any]]:
    """Rows of a Constraints sheet with every section, its header and one example row each."""
    ex_r, ex_s = (prior.regions[0], prior.sectors[0]) if prior is not None else ("R1", "M")
    ex_r2, ex_s2 = (prior.regions[-1], prior.sectors[-1]) if prior is not None else ("R2", "S")
    rows: list[list[Any]] = [["Options", None, None, None, None], ["Option", "Value", "Allowed", None, None]]
    for k, (default, choices) in UPDATE_OPTIONS.items():
        rows.append([k, default if default != "" else None, ", ".join(choices) or ALLOWED.get(k, ""), None, None])
    sections = [("Known totals", ["Region", "Sector", "Total output", None, None]),
                ("Known cells", ["Block", "Row", "Column", "Value", None]),
                ("Aggregates", ["Name", "Type", "Value", "Member", "Weight"]),
                ("Coefficient bounds", ["Column", "Rows", "Lower", "Upper", "Name"])]
    rows.append([None] * 5)
    for head, columns in sections:
        rows += [[head, None, None, None, None], columns] + [[None] * 5 for _ in range(ROOM)]
    rows += [
        [f"{EXAMPLES} (copy a row into its section above; a section ends at the next heading):", None, None, None,
         None, None],
        [ex_r, ex_s, 1234.5, None, None, "(Known totals)"],
        ["Z", f"{ex_r}|{ex_s}", f"{ex_r2}|{ex_s2}", 12.0, None, "(Known cells)"],
        ["total of two sectors", "hard", 500.0, f"x {ex_r}|{ex_s}", 1, "(Aggregates: two rows)"],
        [None, None, None, f"x {ex_r2}|{ex_s2}", 1, None],
        [f"{ex_r2}|{ex_s2}", f"{ex_r}|{ex_s}", 0.01, 0.2, None, "(Coefficient bounds)"]]
    rows = [r + [None] * (6 - len(r)) for r in rows]
    return rows


def cell(grid: Grid, i: int, j: int) -> str:
    return address(grid.row0 + i, grid.col0 + j)
