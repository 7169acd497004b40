"""Monte Carlo uncertainty of emission accounts: perturbation, one draw, and the summary (pure numpy).

Each draw multiplies every non-zero cell of ``Z``, ``Y`` (incl. exports / other) and the satellite
(incl. direct final-demand emissions) by an independent log-normal factor with mean 1 and standard
deviation ``rsd`` (the cell's relative standard deviation):

    f = exp(μ + σ ε),  ε ~ N(0, 1),  σ² = ln(1 + rsd²),  μ = −σ²/2   ⇒  E f = 1,  sd f = rsd.

The factor is positive, so signs are preserved (an inventory draw-down stays negative) and zero cells
stay zero. Total output follows the perturbed rows: ``x_d = x + Δ(Z 1) + Δy`` (the table's own
balance residual is kept, so a zero rsd reproduces the deterministic accounts exactly); value added
is the residual. With ``rebalance="ras"`` the perturbed ``Z`` is first RAS-scaled back to the
unperturbed intermediate row and column totals, i.e. the totals are treated as known and only the
distribution of the flows within them is uncertain.

Default rsd (size dependence after Lenzen, Wood & Wiedmann 2010, *Economic Systems Research* 22(1):
smaller cells are less reliable, the relative error falling with a power of the cell's size)::

    rsd(v) = clip(a · (|v| / v_med)^(−b), lo, hi),  a = 0.10, b = 0.30, lo = 0.02, hi = 1.0,

with ``v_med`` the median of the block's non-zero absolute values: a median-sized cell has 10 %,
a cell 10× smaller 20 %, 100× smaller 40 %, 1000× larger 1.3 % → 2 % (floor). The power-law form
is the paper's; the constants are xlmrio's defaults (the paper fits its own to UK data), so pass
``rsd`` explicitly when better information exists.

Draw ``i`` uses the generator ``default_rng(SeedSequence(seed, spawn_key=(i,)))`` — the ``i``-th
child of ``SeedSequence(seed).spawn`` — so results do not depend on how draws are split over
threads or Dask workers.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import numpy as np
import pandas as pd

from ..errors import OptionError
from .efficiency import classify
from .leontief import LeontiefSolver, coefficients, intensities
from .table import MRIOTable

BLOCKS = ("Z", "Y", "satellite")
MEASURES = ("pba", "cba", "nei")
STATS = ("mean", "sd", "p2.5", "p50", "p97.5")
REBALANCE = ("none", "ras")
#: constants of the default size-dependent rsd (see the module docstring)
DEFAULT_RSD = {"a": 0.10, "b": 0.30, "lo": 0.02, "hi": 1.0}
_ORIENT_TOL = 1e-9


def default_rsd(values: np.ndarray, *, a: float = 0.10, b: float = 0.30, lo: float = 0.02,
                hi: float = 1.0) -> np.ndarray:
    """Size-dependent relative standard deviation of each cell (dimensionless; 0 for zero cells).

    ``rsd = clip(a · (|v| / median of the non-zero |v|)^(−b), lo, hi)`` — see the module docstring.
    """
    v = np.abs(np.asarray(values, float))
    nz = v > 0
    out = np.zeros(v.shape)
    if nz.any():
        ref = float(np.median(v[nz]))
        out[nz] = np.clip(a * (v[nz] / ref) ** (-b), lo, hi)
    return out


def lognormal_params(rsd: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(μ, σ)`` of the log of a factor with mean 1 and standard deviation ``rsd``."""
    s2 = np.log1p(np.square(np.asarray(rsd, float)))
    return -0.5 * s2, np.sqrt(s2)


def draw_rng(seed: int, i: int) -> np.random.Generator:
    """The generator of draw ``i``: child ``i`` of ``SeedSequence(seed)`` (independent of chunking)."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(int(i),)))


class _Block:
    """One perturbed block: base values, the non-zero cells and their log-normal parameters."""

    def __init__(self, name: str, base: np.ndarray, rsd):
        self.base = np.asarray(base, float)
        if rsd is None:
            r = default_rsd(self.base, **DEFAULT_RSD)
        else:
            r = np.asarray(rsd, float)
            if r.ndim and r.shape != self.base.shape:
                try:
                    r = np.broadcast_to(r, self.base.shape)
                except ValueError:
                    raise OptionError(f"rsd of {name} has shape {r.shape}; the block has shape "
                                      f"{self.base.shape}") from None
            if not np.all(np.isfinite(r)) or np.any(r < 0):
                raise OptionError(f"rsd of {name} must be finite and >= 0 (a relative standard deviation, "
                                  f"e.g. 0.1 for 10 %); got {float(np.nanmin(r)) if r.size else r}")
            r = np.broadcast_to(r, self.base.shape)
        flat = self.base.reshape(-1)
        rflat = np.asarray(r, float).reshape(-1)
        self.cells = np.flatnonzero((flat != 0) & (rflat > 0))
        self.mu, self.sigma = lognormal_params(rflat[self.cells])
        self.mean_rsd = float(rflat[flat != 0].mean()) if (flat != 0).any() else 0.0

    def draw(self, rng: np.random.Generator) -> np.ndarray:
        if not self.cells.size:
            return self.base
        out = self.base.copy()
        flat = out.reshape(-1)
        flat[self.cells] *= np.exp(self.mu + self.sigma * rng.standard_normal(self.cells.size))
        return out


@dataclass
class Plan:
    """Everything that does not change between draws of one table (built once, shipped to workers).

    Attributes
    ----------
    m, n, K : int
        Regions, sectors, final-demand categories.
    Z, Y, sat : _Block
        ``Z`` (N×N), the driver block ``[Y | exports | other]`` (N×(mK+q)) and ``[g | hh]`` (N + mK).
    x0 : ndarray (N,)
        Unperturbed total output; ``rows0`` the unperturbed ``Z 1 + y``.
    """

    m: int
    n: int
    K: int
    q: int
    Z: _Block
    Y: _Block
    sat: _Block
    x0: np.ndarray
    rows0: np.ndarray
    zrow0: np.ndarray
    zcol0: np.ndarray
    rebalance: str
    labels: list
    basis: str = "total"


def make_plan(table: MRIOTable, satellite: str, rsd=None, *, rebalance: str = "none",
              basis: str = "total") -> Plan:
    """Pre-compute the per-table part of every draw.

    Parameters
    ----------
    table : MRIOTable
    satellite : str
    rsd : None, float, or mapping {"Z", "Y", "satellite"} -> float or array
        Relative standard deviations (dimensionless). ``None`` (or a block missing from the mapping):
        the size-dependent default. Arrays have the block's shape: Z (N, N); Y (N, m·K + q) with
        exports and other as the last columns; satellite (N + m·K,) with the direct final-demand
        emissions last.
    rebalance : {"none", "ras"}
    basis : {"total", "domestic"}
        Basis of NEI (and so of the orientation classes).
    """
    if rebalance in (None, False):
        rebalance = "none"
    if rebalance not in REBALANCE:
        raise OptionError(f"rebalance must be one of {REBALANCE}, not {rebalance!r}")
    if basis not in ("total", "domestic"):
        raise OptionError(f"basis must be 'total' or 'domestic', not {basis!r}")
    if isinstance(rsd, Mapping):
        unknown = set(rsd) - set(BLOCKS)
        if unknown:
            raise OptionError(f"rsd names unknown block(s) {sorted(unknown)}; use {BLOCKS}")
        per = {b: rsd.get(b) for b in BLOCKS}
    else:
        per = {b: rsd for b in BLOCKS}
    name = table.satellite_name(satellite)
    s = table.satellites[name]
    extra = [c for c in (table.exports, table.other) if c is not None]
    Yfull = np.column_stack([table.Y, *extra]) if extra else np.asarray(table.Y)
    hh = np.zeros(table.m * table.K) if s.hh is None else np.asarray(s.hh, float)
    Z = _Block("Z", table.Z, per["Z"])
    return Plan(m=table.m, n=table.n, K=table.K, q=len(extra), Z=Z, Y=_Block("Y", Yfull, per["Y"]),
                sat=_Block("satellite", np.concatenate([s.values, hh]), per["satellite"]),
                x0=np.asarray(table.x, float), rows0=table.Z.sum(axis=1) + Yfull.sum(axis=1),
                zrow0=table.Z.sum(axis=1), zcol0=table.Z.sum(axis=0), rebalance=rebalance,
                labels=table.labels(), basis=basis)


def evaluate(plan: Plan, Z: np.ndarray, Yfull: np.ndarray, satv: np.ndarray, x: np.ndarray):
    """Accounts of one (perturbed) table: ``(pba, cba, nei)`` over the m regions and the inefficient share.

    The arithmetic is that of :func:`xlmrio.core.accounts.accounts` (same solver, same order), so an
    unperturbed table gives bit-identical PBA/CBA/NEI.
    """
    m, n, K, N = plan.m, plan.n, plan.K, plan.m * plan.n
    solver = LeontiefSolver(coefficients(Z, x), labels=plan.labels)
    g, hh_cells = satv[:N], satv[N:]
    e = intensities(g, x)
    Yreg = Yfull[:, : m * K].reshape(N, m, K).sum(axis=2)
    Ystar = np.column_stack([Yreg, Yfull[:, m * K:]]) if plan.q else Yreg
    Mx = e[:, None] * solver.solve(Ystar)
    T = Mx.reshape(m, n, -1).sum(axis=1)
    hh = hh_cells.reshape(m, K).sum(axis=1)
    pba = T.sum(axis=1) + hh
    cba = T.sum(axis=0)
    cba[:m] += hh
    if plan.basis == "total":
        nei = pba - cba[:m]
    else:
        Tr = T[:, :m]
        nei = Tr.sum(axis=1) - np.diag(Tr) - (Tr.sum(axis=0) - np.diag(Tr))
    # inefficient-flow share (METHODS §3, average mode, flow basis T, all regions): ι_r = PBA_r / X_r
    X = x.reshape(m, n).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        iota = np.where(X > 0, pba / X, np.nan)
    off = ~np.eye(m, dtype=bool)
    flows = T[:, :m][off]
    ip = np.broadcast_to(iota[:, None], (m, m))[off]
    ic = np.broadcast_to(iota[None, :], (m, m))[off]
    keep = flows >= 0
    cls = classify(ip[keep], ic[keep])
    v = flows[keep]
    tot = v[cls != "unclassified"].sum()
    share = float(v[cls == "inefficient"].sum() / tot) if tot else float("nan")
    return pba, cba[:m], nei, share


def one_draw(plan: Plan, rng: np.random.Generator):
    """Perturb the table with *rng* and evaluate it (see :func:`evaluate`)."""
    Z = plan.Z.draw(rng)
    Yd = plan.Y.draw(rng)
    satv = plan.sat.draw(rng)
    if plan.rebalance == "ras":
        from .ras import ras

        Z = ras(Z, plan.zrow0, plan.zcol0, rescale="columns", tol=1e-9).Z
    x = plan.x0 + (Z.sum(axis=1) + Yd.sum(axis=1) - plan.rows0)
    return evaluate(plan, Z, Yd, satv, x)


def run_draws(plan: Plan, seed: int, indices) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draws *indices* of a run: ``(indices, values (k, 3, m), share (k,))`` — only these small
    arrays leave the worker; the perturbed tables are dropped after each draw."""
    idx = np.asarray(list(indices), dtype=np.int64)
    vals = np.empty((idx.size, 3, plan.m))
    share = np.empty(idx.size)
    for k, i in enumerate(idx):
        pba, cba, nei, sh = one_draw(plan, draw_rng(seed, i))
        vals[k, 0], vals[k, 1], vals[k, 2] = pba, cba, nei
        share[k] = sh
    return idx, vals, share


def orientation_codes(nei: np.ndarray, pba: np.ndarray, tol: float = _ORIENT_TOL) -> np.ndarray:
    """+1 production-, −1 consumption-oriented, 0 balanced (as :func:`xlmrio.core.efficiency.orientation`)."""
    lim = tol * np.abs(pba)
    return np.where(nei > lim, 1, np.where(nei < -lim, -1, 0))


_ORIENT_NAMES = {1: "production", -1: "consumption", 0: "balanced"}


@dataclass(frozen=True)
class MonteCarloResult:
    """Outcome of :func:`xlmrio.uncertainty.monte_carlo`.

    Attributes
    ----------
    satellite, unit : str
        Satellite and its unit (every emission figure is in ``unit``).
    regions : list of str
    draws, seed : int
    point : DataFrame (m, 3)
        Deterministic ``pba``, ``cba``, ``nei`` of the unperturbed table, with ``orientation``.
    values : ndarray (draws, 3, m)
        Per-draw PBA, CBA, NEI by region (the only per-draw data kept: 3·m floats a draw).
    share_ineff : ndarray (draws,)
        Per-draw inefficient-flow share (dimensionless, 0..1).
    point_share : float
        Inefficient-flow share of the unperturbed table.
    rsd : dict
        Block -> mean rsd of its non-zero cells (a description of what was drawn).
    rebalance, basis : str
    """

    satellite: str
    unit: str
    regions: list
    draws: int
    seed: int
    point: pd.DataFrame
    values: np.ndarray
    share_ineff: np.ndarray
    point_share: float
    rsd: dict = field(default_factory=dict)
    rebalance: str = "none"
    basis: str = "total"

    @property
    def summary(self) -> pd.DataFrame:
        """One row per region, columns ``(measure, stat)``: measure in pba/cba/nei, stat in
        mean/sd/p2.5/p50/p97.5 (sd with ddof=1; percentiles linear-interpolated over the draws)."""
        cols, data = [], []
        for j, meas in enumerate(MEASURES):
            v = self.values[:, j, :]
            q = np.percentile(v, [2.5, 50.0, 97.5], axis=0)
            for stat, arr in zip(STATS, (v.mean(axis=0), v.std(axis=0, ddof=1), q[0], q[1], q[2])):
                cols.append((meas, stat))
                data.append(arr)
        return pd.DataFrame(np.column_stack(data), index=pd.Index(self.regions, name="region"),
                            columns=pd.MultiIndex.from_tuples(cols, names=["measure", "stat"]))

    @property
    def p_net_exporter(self) -> pd.Series:
        """Share of draws in which the region is a net exporter of emissions (PBA > CBA)."""
        return pd.Series((self.values[:, 0, :] > self.values[:, 1, :]).mean(axis=0),
                         index=pd.Index(self.regions, name="region"), name="P(PBA > CBA)")

    @property
    def orientation_draws(self) -> np.ndarray:
        """(draws, m) orientation codes: +1 production, −1 consumption, 0 balanced."""
        return orientation_codes(self.values[:, 2, :], self.values[:, 0, :])

    @property
    def p_orientation(self) -> pd.DataFrame:
        """Per region: the point-estimate orientation, P(production), P(consumption) and P(class holds)."""
        codes = self.orientation_draws
        pt = orientation_codes(self.point["nei"].to_numpy(), self.point["pba"].to_numpy())
        return pd.DataFrame({
            "orientation": [_ORIENT_NAMES[int(c)] for c in pt],
            "P(production)": (codes == 1).mean(axis=0),
            "P(consumption)": (codes == -1).mean(axis=0),
            "P(class holds)": (codes == pt[None, :]).mean(axis=0),
        }, index=pd.Index(self.regions, name="region"))

    @property
    def share_summary(self) -> pd.Series:
        """Distribution of the inefficient-flow share: point, mean, sd, p2.5, p50, p97.5, P(share > 0.5)."""
        s = self.share_ineff[np.isfinite(self.share_ineff)]
        q = np.percentile(s, [2.5, 50.0, 97.5]) if s.size else [np.nan] * 3
        return pd.Series({"point": self.point_share, "mean": s.mean() if s.size else np.nan,
                          "sd": s.std(ddof=1) if s.size > 1 else np.nan, "p2.5": q[0], "p50": q[1],
                          "p97.5": q[2], "P(share > 0.5)": (s > 0.5).mean() if s.size else np.nan},
                         name="inefficient-flow share")
