"""Industrial transfer, carbon transfer and carbon leakage between table years (METHODS.md §6).

Given the tables of two years (or a chain of consecutive years) with the same labels, the output of
every region-sector is attributed to the final demand that drives it (§6.1):

* consumption-driven ``X_c = L Y_reg`` (block ``(J, K)``: output of ``J`` for the domestic final
  demand of ``K``),
* export-driven ``X_e = L E_blk`` (``E_blk[(r,i), r] = ex_(r,i)``: output of ``J`` needed for the
  foreign exports of ``K``),
* total ``X_c + X_e`` (+ ``L O_blk`` when the tables have an "other" final-demand column).

Changes ``ΔX = X(t1) − X(t0)`` per variant give the transfer measures of §6.2 (pairwise net transfer by
sector ``N_i^{J←K}``, region and sector net transfer ``NX``, carbon transfer ``ΔC``/``NC`` with constant
coefficients ``S``, gross transfer-in shares, carbon leakage ``Λ``, own-coefficient impacts ``IE``/``IVA``,
a "level" variant with year-specific coefficients, bloc effects) and the [XWL14] output tables of §6.3.
Optional deflators (§6.4) put both years on one price basis by single deflation of producing rows.

Everything here is pure numpy/pandas; the Leontief systems are solved with the demand matrices as
right-hand sides (the inverse is never formed).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from ..errors import LabelError, OptionError, ShapeError, TableError
from .leontief import LeontiefSolver, coefficients as _coefficients, safe_divide
from .table import MRIOTable

#: Demand variants of every transfer measure (§6.1). "total" includes the "other" column if present.
VARIANTS: tuple[str, ...] = ("consumption", "export", "total")
_YEARS = ("t0", "t1")
_MEASURES_BLOC = ("net_output", "net_carbon", "IE", "IVA", "leakage")


# ---------------------------------------------------------------------------------------------- result
@dataclass(frozen=True, eq=False)
class TransferResult:
    """Industrial transfer, carbon transfer and leakage between two table years (METHODS §6).

    All frames are labelled; regions-by-regions frames have the receiving/producing region ``J`` on
    the rows and the partner (demanding) region ``K`` on the columns. Dicts keyed by variant have the
    keys of :data:`VARIANTS` (``"consumption"``, ``"export"``, ``"total"``).

    Attributes
    ----------
    regions, sectors : tuple of str
    years : tuple of str
        Display labels of the two years (table names, else ``"t0"``, ``"t1"``). Per-year dicts and
        columns below are keyed ``"t0"`` and ``"t1"``.
    monetary_unit : str
        Unit of every output quantity (ΔX, N, NX, IVA, ...).
    carbon_unit : str
        Unit of every carbon quantity (ΔC, NC, Λ, IE, emissions by driver).
    coefficients_unit : str
        Unit of ``S`` (carbon unit per monetary unit).
    price_basis : str
        ``"nominal (current prices of each year)"`` or a description of the deflation.
    notes : list of str
        Warnings and choices the user should see (missing exports, deflated VA < 0, ...).
    demand_output : dict
        ``demand_output[year][variant]`` = DataFrame (N × m) ``X^{JK}`` of year ``"t0"``/``"t1"``;
        keys ``"consumption"`` (X_c), ``"export"`` (X_e), ``"total"`` and ``"other"`` (only when an
        "other" column exists).
    delta_x : dict variant -> DataFrame (N × m)
        ``ΔX_i^{JK}`` (rows (J, i), columns K).
    directed_transfer : dict variant -> DataFrame (m × m)
        ``ΔX^{JK} = Σ_i ΔX_i^{JK}`` (diagonal = change of output for own demand).
    pairwise_net_by_sector : dict variant -> DataFrame (N × m)
        ``N_i^{J←K} = ΔX_i^{JK} − ΔX_i^{KJ}`` (rows (J, i), columns K); antisymmetric in J, K.
    pairwise_net : dict variant -> DataFrame (m × m)
        ``N^{J←K} = Σ_i N_i^{J←K}``.
    net_output_by_sector : DataFrame (N × variant)
        ``NX_i^J = Σ_{K≠J} N_i^{J←K}`` ([XWL14] Table 1).
    net_output : DataFrame (m × variant)
        ``NX^J`` ([XWL14] Table 3); positive = net inflow; columns sum to 0.
    carbon_coefficients : Series (N) or None
        ``S`` in base money (``coefficients_unit``); None when no coefficients are available.
    carbon_transfer : dict variant -> DataFrame (m × m) or None
        ``ΔC^{JK} = Σ_i S_i^J ΔX_i^{JK}``.
    pairwise_net_carbon : dict variant -> DataFrame (m × m) or None
        ``NC^{J←K} = ΔC^{JK} − ΔC^{KJ}``.
    net_carbon : DataFrame (m × variant) or None
        ``NC^J = Σ_{K≠J} NC^{J←K}``; columns sum to 0.
    leakage_by_sector : dict variant -> DataFrame (N × m) or None
        ``Λ_i^{J,K} = N_i^{J←K} (S_i^J − S_i^K)`` (rows (J, i), columns K); symmetric in J, K.
    leakage_by_variant : dict variant -> DataFrame (m × m) or None
        ``Λ^{J,K} = Σ_i Λ_i^{J,K}``.
    leakage : DataFrame (m × m) or None
        ``leakage_by_variant["total"]``.
    transfer_in, transfer_in_share : DataFrame (m × (kind, variant))
        Gross transfer-in ``In^J`` (kind ``"industry"`` in monetary unit, ``"carbon"`` in carbon unit)
        and its share of ``Σ_J In^J`` (fractions; each column sums to 1, [XWL14] Table 4).
    emissions_by_driver : DataFrame (m × (year, driver)) or None
        ``Σ_K S^J·X_c^{JK}`` ("domestic"), ``Σ_K S^J·X_e^{JK}`` ("export"), ``"other"`` when present,
        and ``"total"`` (their sum, = ``S^J·x^J`` for balanced tables) per year ([XWL14] Table 5).
    impact_emissions : DataFrame (m × variant) or None
        ``IE^J = Σ_{K≠J} Σ_i S_i^J N_i^{J←K}``; ``Σ_J IE^J`` = leakage summed over region pairs.
    impact_va : DataFrame (m × variant)
        ``IVA^J = Σ_{K≠J} Σ_i v_i^J N_i^{J←K}`` with ``v`` of ``va_year``.
    va_coefficients : Series (N)
        The ``v`` used for ``IVA`` (base money per base money).
    level_va, level_emissions : dict variant -> DataFrame (m × m)
        "Level" variant with year-specific coefficients:
        ``Σ_i [v_i^J(t1) X_i^{JK}(t1) − v_i^J(t0) X_i^{JK}(t0)]`` (same with ``e(t) = g(t) ⊘ x(t)``;
        None when a year has no satellite).
    level_impacts : DataFrame (m × (measure, variant))
        Row sums of the level matrices over partners ``K ≠ J`` (measures ``"VA"``, ``"emissions"``).
    bloc : tuple of str or None
    bloc_effects : DataFrame or None
        :meth:`bloc_summary` of ``bloc``.
    """

    regions: tuple[str, ...]
    sectors: tuple[str, ...]
    years: tuple[str, str]
    monetary_unit: str
    carbon_unit: str
    coefficients_unit: str
    price_basis: str
    notes: list[str]
    demand_output: dict
    delta_x: dict
    directed_transfer: dict
    pairwise_net_by_sector: dict
    pairwise_net: dict
    net_output_by_sector: pd.DataFrame
    net_output: pd.DataFrame
    carbon_coefficients: pd.Series | None
    carbon_transfer: dict | None
    pairwise_net_carbon: dict | None
    net_carbon: pd.DataFrame | None
    leakage_by_sector: dict | None
    leakage_by_variant: dict | None
    leakage: pd.DataFrame | None
    transfer_in: pd.DataFrame
    transfer_in_share: pd.DataFrame
    emissions_by_driver: pd.DataFrame | None
    impact_emissions: pd.DataFrame | None
    impact_va: pd.DataFrame
    va_coefficients: pd.Series
    level_va: dict
    level_emissions: dict | None
    level_impacts: pd.DataFrame
    bloc: tuple[str, ...] | None = None
    bloc_effects: pd.DataFrame | None = None
    positive_part_level: str = "pair"
    _arrays: dict = field(default_factory=dict, repr=False)

    # ------------------------------------------------------------------ conveniences
    @property
    def has_carbon(self) -> bool:
        """True when carbon coefficients were available (carbon measures are not None)."""
        return self.carbon_coefficients is not None

    @property
    def index(self) -> pd.MultiIndex:
        """(region, sector) MultiIndex."""
        return pd.MultiIndex.from_product([self.regions, self.sectors], names=["region", "sector"])

    def coefficients_by_sector(self) -> pd.DataFrame:
        """``S`` as sectors (rows) × regions (columns) ([XWL14] Table 2), in ``coefficients_unit``."""
        self._need_carbon("coefficients_by_sector")
        S = self.carbon_coefficients.to_numpy().reshape(len(self.regions), len(self.sectors))
        return pd.DataFrame(S.T, index=pd.Index(self.sectors, name="sector"),
                            columns=pd.Index(self.regions, name="region"))

    def top_coefficients(self, k: int = 3) -> pd.DataFrame:
        """Boolean sectors × regions frame flagging the ``k`` largest ``S`` of each region (Table 2)."""
        S = self.coefficients_by_sector()
        return S.rank(axis=0, ascending=False, method="first") <= k

    def top_sectors(self, k: int = 5, variant: str = "total") -> pd.DataFrame:
        """Sectors with the largest net transfer in and out per region ([XWL14] Table 1).

        Returns a long frame with columns ``region, direction ("in"/"out"), rank, sector, value``;
        ``value`` is ``NX_i^J`` for "in" (positive only) and ``−NX_i^J`` for "out" (magnitudes of
        negative values), in ``monetary_unit``.
        """
        _check_variant(variant)
        col = self.net_output_by_sector[variant]
        rows = []
        for r in self.regions:
            s = col.xs(r, level="region")
            pos = s[s > 0].sort_values(ascending=False).head(k)
            neg = (-s[s < 0]).sort_values(ascending=False).head(k)
            for direction, part in (("in", pos), ("out", neg)):
                for rank, (sec, val) in enumerate(part.items(), start=1):
                    rows.append((r, direction, rank, sec, float(val)))
        return pd.DataFrame(rows, columns=["region", "direction", "rank", "sector", "value"])

    def impacts_by_group(self, sector_groups: Mapping[str, str], variant: str = "total") -> pd.DataFrame:
        """Own-coefficient impacts ``IE^J`` and ``IVA^J`` split by sector group (METHODS §6.2, [JOZ25]).

        Parameters
        ----------
        sector_groups : mapping sector -> group
            A concordance covering every sector (e.g. services / resource-intensive manufacturing /
            other manufacturing).
        variant : {"consumption", "export", "total"}

        Returns
        -------
        DataFrame
            Regions × (measure, group) with measures ``"IE"`` (carbon unit; absent without carbon
            coefficients) and ``"IVA"`` (monetary unit). Summed over groups they give
            :attr:`impact_emissions` and :attr:`impact_va`.
        """
        from .aggregation import concordance_matrix

        _check_variant(variant)
        C, groups = concordance_matrix(self.sectors, {str(k): str(v) for k, v in sector_groups.items()
                                                      if k in self.sectors})
        m, n = len(self.regions), len(self.sectors)
        net = self.pairwise_net_by_sector[variant].to_numpy().sum(axis=1).reshape(m, n)  # Σ_K N_i^{J←K}
        coefs = {"IVA": self.va_coefficients.to_numpy().reshape(m, n)}
        if self.carbon_coefficients is not None:
            coefs = {"IE": self.carbon_coefficients.to_numpy().reshape(m, n), **coefs}
        parts = {(meas, g): (c * net) @ C[k] for meas, c in coefs.items() for k, g in enumerate(groups)}
        cols = pd.MultiIndex.from_tuples(list(parts), names=["measure", "group"])
        return pd.DataFrame(np.column_stack(list(parts.values())), index=pd.Index(self.regions, name="region"),
                            columns=cols)

    def table3(self) -> pd.DataFrame:
        """Net transfer and net carbon transfer by region and variant ([XWL14] Table 3).

        Columns (measure, variant) with measures ``"NX"`` (monetary unit) and ``"NC"`` (carbon unit).
        """
        parts = {"NX": self.net_output}
        if self.net_carbon is not None:
            parts["NC"] = self.net_carbon
        return pd.concat(parts, axis=1, names=["measure", "variant"])

    def leakage_sum(self, region: str, partners: str | Sequence[str], variant: str = "total") -> float:
        """``Σ_{K ∈ partners} Λ^{region, K}`` (carbon unit), e.g. East coast with {Central, NW, NE}."""
        self._need_carbon("leakage_sum")
        _check_variant(variant)
        region = self._region(region)
        if isinstance(partners, str):
            partners = [partners]
        partners = [self._region(p) for p in partners]
        if len(set(partners)) != len(partners):
            raise OptionError(f"partner regions are repeated: {partners}")
        lam = self.leakage_by_variant[variant]
        return float(sum(lam.loc[region, p] for p in partners if p != region))

    def bloc_summary(self, bloc: Sequence[str]) -> pd.DataFrame:
        """Internal vs external effects for a bloc ``B`` of regions (e.g. BJ, TJ, HB), summed over ``B``.

        Index (measure, scope) with measures ``net_output`` (Σ N^{J←K}), ``net_carbon`` (Σ NC^{J←K}),
        ``IE`` (Σ_i S_i^J N_i^{J←K}), ``IVA`` (Σ_i v_i^J N_i^{J←K}) and ``leakage`` (Λ^{J,K}); scope
        ``internal`` sums over ordered pairs ``J, K ∈ B`` (``leakage``: unordered pairs), ``external``
        over ``J ∈ B, K ∉ B``, ``total`` = internal + external. Columns: variants. Internal
        ``net_output``/``net_carbon`` are 0 (antisymmetry); internal ``IE`` equals internal leakage —
        the change of the bloc's emissions caused by relocation inside it.
        """
        if isinstance(bloc, str):
            bloc = [bloc]
        members = [self._region(r) for r in bloc]
        if not members or len(set(members)) != len(members):
            raise OptionError(f"a bloc needs distinct region labels, got {list(bloc)}")
        inb = np.array([r in members for r in self.regions])
        inside = np.outer(inb, inb) & ~np.eye(len(self.regions), dtype=bool)
        outside = np.outer(inb, ~inb)
        a = self._arrays
        rows: dict[tuple[str, str], list[float]] = {}
        for measure in _MEASURES_BLOC:
            key = {"net_output": "N", "net_carbon": "NC", "IE": "IEpair", "IVA": "IVApair",
                   "leakage": "LAM"}[measure]
            if key not in a:
                continue
            vals_int, vals_ext = [], []
            for v in VARIANTS:
                M = a[key][v]
                internal = float(M[inside].sum())
                if measure == "leakage":
                    internal /= 2.0  # symmetric: count each unordered pair once
                vals_int.append(internal)
                vals_ext.append(float(M[outside].sum()))
            rows[(measure, "internal")] = vals_int
            rows[(measure, "external")] = vals_ext
            rows[(measure, "total")] = [i + e for i, e in zip(vals_int, vals_ext)]
        idx = pd.MultiIndex.from_tuples(list(rows), names=["measure", "scope"])
        return pd.DataFrame(list(rows.values()), index=idx, columns=pd.Index(VARIANTS, name="variant"))

    # ------------------------------------------------------------------ helpers
    def _region(self, r: str) -> str:
        r = str(r)
        if r not in self.regions:
            raise OptionError(f"unknown region {r!r}; the tables have: {', '.join(self.regions)}")
        return r

    def _need_carbon(self, what: str) -> None:
        if self.carbon_coefficients is None:
            raise OptionError(f"{what} needs carbon coefficients: the tables have no satellite account; "
                              "pass coefficients= or a table with emissions")


# ---------------------------------------------------------------------------------------------- API
def industrial_transfer(
    t0: MRIOTable | None = None,
    t1: MRIOTable | None = None,
    satellite: str | None = None,
    coefficients_year: str = "t1",
    deflator=None,
    *,
    coefficients=None,
    chain: Sequence[MRIOTable] | None = None,
    positive_part_level: str = "pair",
    va_year: str = "t1",
    bloc: Sequence[str] | None = None,
    coefficients_unit: str | None = None,
    carbon_unit: str | None = None,
    years: Sequence[str] | None = None,
) -> "TransferResult | list[TransferResult]":
    """Industrial transfer, carbon transfer and carbon leakage from year ``t0`` to year ``t1`` (METHODS §6).

    Parameters
    ----------
    t0, t1 : MRIOTable
        Domestic (non-competitive) tables of the two years with the same regions, sectors and
        final-demand categories (else :class:`~xlmrio.errors.LabelError` naming the labels that
        differ) and the same monetary unit. Exports are the ``exports`` vector (missing ⇒ zeros and a
        note); an ``other`` column joins the total variant.
    satellite : str, optional
        Satellite that gives the carbon coefficients (the only one when None). Ignored for ``S`` when
        ``coefficients`` is given (still used for the level variant).
    coefficients_year : {"t1", "t0"}
        Year whose intensities ``S = g ⊘ x`` are held constant for both years ([XWL14] uses t1). With
        explicit ``coefficients`` it names the year whose money they are stated in (for deflation).
    deflator : optional
        Price indices for single deflation by producing row (§6.4), each a scalar, a per-sector vector
        (length n, broadcast to regions), a per region-sector vector (length N), or a Series indexed by
        sector or (region, sector). Either one index ``p`` — the price level of t1 with t0 as base
        (``p(t0) = 1``) — or a dict ``{"t0": p0, "t1": p1}`` of indices on a common base (a missing
        key means 1). None: nominal values.
    coefficients : optional
        Explicit carbon coefficients ``S`` (N-vector in table order, a Series indexed by (region,
        sector), or a ``(values, unit)`` tuple), e.g. [XWL14] Table 2 in t CO2 per 1e4 CNY.
    chain : sequence of MRIOTable, optional
        Instead of ``t0, t1``: tables of consecutive years; returns a list of results, one per
        consecutive pair (see :func:`industrial_transfer_chain`).
    positive_part_level : {"pair", "pair_sector"}
        Gross transfer-in ``In^J = Σ_{K≠J} max(N^{J←K}, 0)`` ("pair") or
        ``Σ_{K≠J} Σ_i max(N_i^{J←K}, 0)`` ("pair_sector"); same for carbon.
    va_year : {"t1", "t0"}
        Year of the VA coefficients ``v`` used by ``IVA``.
    bloc : sequence of str, optional
        Regions of a bloc whose internal vs external effects go to ``bloc_effects``.
    coefficients_unit : str, optional
        Unit of explicit ``coefficients`` (default: from the tuple, the Series' ``attrs["unit"]``,
        or ``"<satellite unit> per <monetary unit>"``).
    carbon_unit : str, optional
        Unit of carbon results; default: the satellite unit, else ``"(<coefficients_unit>) × <monetary
        unit>"`` (e.g. pass ``"1e4 t CO2"`` for 1e8 CNY × t/1e4 CNY, [XWL14]'s convention).
    years : pair of str, optional
        Display labels of the two years (default: table names, else "t0", "t1").

    Returns
    -------
    TransferResult
        (a list of them when ``chain`` is given).

    Raises
    ------
    LabelError
        The tables' labels differ.
    OptionError
        Invalid option values, unknown satellite, region or bad deflator values.
    NonProductiveError
        A year's ``I − A`` is singular or its inverse is not non-negative.
    """
    if chain is not None:
        if t0 is not None or t1 is not None:
            raise OptionError("pass either t0 and t1 or chain=[tables], not both")
        return industrial_transfer_chain(
            chain, satellite=satellite, coefficients_year=coefficients_year, deflator=deflator,
            coefficients=coefficients, positive_part_level=positive_part_level, va_year=va_year, bloc=bloc,
            coefficients_unit=coefficients_unit, carbon_unit=carbon_unit, years=years)
    if t0 is None or t1 is None:
        raise OptionError("industrial_transfer needs two tables t0 and t1 (or chain=[tables])")
    for name, t in (("t0", t0), ("t1", t1)):
        if not isinstance(t, MRIOTable):
            raise OptionError(f"{name} must be an MRIOTable, got {type(t).__name__}")
    if coefficients_year not in _YEARS:
        raise OptionError(f"coefficients_year must be 't0' or 't1', got {coefficients_year!r}")
    if va_year not in _YEARS:
        raise OptionError(f"va_year must be 't0' or 't1', got {va_year!r}")
    if positive_part_level not in ("pair", "pair_sector"):
        raise OptionError(f"positive_part_level must be 'pair' or 'pair_sector', got {positive_part_level!r}")
    check_same_labels(t0, t1, names=tuple(years) if years is not None and len(years) == 2 else ("t0", "t1"))
    tables = {"t0": t0, "t1": t1}
    p = _year_deflators(deflator, tables)
    return _compute(tables, p, satellite, coefficients_year, coefficients, positive_part_level, va_year,
                    bloc, coefficients_unit, carbon_unit, years, deflated=deflator is not None)


def industrial_transfer_chain(
    tables: Sequence[MRIOTable],
    satellite: str | None = None,
    coefficients_year: str = "t1",
    deflator=None,
    *,
    years: Sequence[str] | None = None,
    **options,
) -> list[TransferResult]:
    """:func:`industrial_transfer` for each consecutive pair of a chain of tables.

    Parameters
    ----------
    tables : sequence of MRIOTable
        At least two tables of consecutive years, all with the same labels.
    coefficients_year : {"t1", "t0"}
        Applied per pair (so with the default each period uses its later year's coefficients); pass
        ``coefficients=`` to hold one ``S`` fixed over the whole chain.
    deflator : None, dict or sequence
        Price indices on one common base: a dict ``{position or year label: p}`` (missing ⇒ 1) or a
        sequence with one entry (None, scalar, vector or Series) per table.
    years : sequence of str, optional
        One display label per table (default: table names, else "t0", "t1", ...).
    **options
        Other keywords of :func:`industrial_transfer`.

    Returns
    -------
    list of TransferResult
        ``len(tables) − 1`` results, period ``k`` from ``tables[k]`` to ``tables[k+1]``.
    """
    tables = list(tables)
    if len(tables) < 2:
        raise OptionError(f"a chain needs at least two tables, got {len(tables)}")
    labels = _chain_labels(tables, years)
    for k in range(1, len(tables)):
        check_same_labels(tables[0], tables[k], names=(labels[0], labels[k]))
    if deflator is None:
        p = [None] * len(tables)
    elif isinstance(deflator, Mapping):
        unknown = [key for key in deflator if not (key in labels or (isinstance(key, int)
                                                                      and 0 <= key < len(tables)))]
        if unknown:
            raise OptionError(f"deflator keys {unknown} name no table; use positions 0..{len(tables) - 1} "
                              f"or year labels {labels}")
        p = [deflator.get(k, deflator.get(labels[k])) for k in range(len(tables))]
    elif isinstance(deflator, (list, tuple)) and len(deflator) == len(tables):
        p = list(deflator)
    else:
        raise OptionError("for a chain, deflator must be a dict {position or year: index} or a sequence "
                          "with one price index per table")
    out = []
    for k in range(len(tables) - 1):
        d = None if deflator is None else {"t0": 1.0 if p[k] is None else p[k],
                                           "t1": 1.0 if p[k + 1] is None else p[k + 1]}
        out.append(industrial_transfer(tables[k], tables[k + 1], satellite, coefficients_year, d,
                                       years=(labels[k], labels[k + 1]), **options))
    return out


def check_same_labels(t0: MRIOTable, t1: MRIOTable, names: tuple[str, str] = ("t0", "t1")) -> None:
    """Raise :class:`LabelError` naming the labels that differ between two tables (regions, sectors,
    final-demand categories), and :class:`TableError` when their monetary units differ."""
    problems = []
    for what in ("regions", "sectors", "fd_categories"):
        a, b = getattr(t0, what), getattr(t1, what)
        if a == b:
            continue
        only0 = [x for x in a if x not in set(b)]
        only1 = [x for x in b if x not in set(a)]
        kind = {"regions": "region", "sectors": "sector", "fd_categories": "final-demand category"}[what]
        parts = []
        if only0:
            parts.append(f"only in {names[0]}: {', '.join(map(repr, only0))}")
        if only1:
            parts.append(f"only in {names[1]}: {', '.join(map(repr, only1))}")
        if not parts:
            parts.append(f"same labels in a different order ({names[0]}: {list(a)}; {names[1]}: {list(b)})")
        problems.append(f"{kind} labels differ — " + "; ".join(parts))
    if problems:
        raise LabelError(f"tables {names[0]} and {names[1]} must share labels: " + " | ".join(problems))
    u0, u1 = t0.monetary_unit.strip(), t1.monetary_unit.strip()
    if u0 and u1 and u0 != u1:
        raise TableError(f"tables {names[0]} and {names[1]} have different monetary units ({u0!r} vs {u1!r}); "
                         "convert one explicitly first")


def price_index(p, table: MRIOTable, what: str = "deflator") -> np.ndarray:
    """A price index as an N-vector in table order (§6.4).

    ``p`` may be None (all 1), a scalar, a length-n per-sector vector (broadcast to every region), a
    length-N per region-sector vector, or a Series indexed by sector or by (region, sector). Every
    entry must be finite and > 0 (:class:`OptionError` names the first bad label).
    """
    m, n, N = table.m, table.n, table.N
    if p is None:
        return np.ones(N)
    if isinstance(p, pd.Series):
        if isinstance(p.index, pd.MultiIndex):
            lookup = {tuple(map(str, k)): float(v) for k, v in p.items()}
            keys = [(r, s) for r in table.regions for s in table.sectors]
            missing = [f"{r}|{s}" for r, s in keys if (r, s) not in lookup]
            if missing:
                raise LabelError(f"{what} has no value for {', '.join(missing[:5])}"
                                 + (" ..." if len(missing) > 5 else ""))
            arr = np.array([lookup[k] for k in keys], dtype=float)
        else:
            lookup = {str(k): float(v) for k, v in p.items()}
            missing = [s for s in table.sectors if s not in lookup]
            if missing:
                raise LabelError(f"{what} has no value for sector(s) {', '.join(missing[:5])}")
            arr = np.tile(np.array([lookup[s] for s in table.sectors], dtype=float), m)
    else:
        arr = np.asarray(p, dtype=float).reshape(-1)
        if arr.size == 1:
            arr = np.full(N, float(arr[0]))
        elif arr.size == N:
            pass
        elif arr.size == n:
            arr = np.tile(arr, m)
        else:
            raise ShapeError(f"{what} has {arr.size} values; give a scalar, one per sector ({n}) or one per "
                             f"region-sector ({N})")
    bad = np.flatnonzero(~np.isfinite(arr) | (arr <= 0))
    if bad.size:
        k = int(bad[0])
        raise OptionError(f"{what} must be finite and > 0; got {arr[k]!r} at {table.label(k)}")
    return arr


# ---------------------------------------------------------------------------------------------- internals
def _chain_labels(tables, years) -> list[str]:
    if years is not None:
        years = [str(y) for y in years]
        if len(years) != len(tables):
            raise OptionError(f"years has {len(years)} labels for {len(tables)} tables")
        if len(set(years)) != len(years):
            raise OptionError(f"year labels must be distinct, got {years}")
        return years
    names = [t.name.strip() for t in tables]
    if all(names) and len(set(names)) == len(names):
        return names
    return [f"t{k}" for k in range(len(tables))]


def _year_deflators(deflator, tables: dict) -> dict | None:
    """Per-year N-vectors of price indices, or None (nominal)."""
    if deflator is None:
        return None
    if isinstance(deflator, Mapping):
        unknown = [k for k in deflator if k not in _YEARS]
        if unknown:
            raise OptionError(f"deflator keys must be 't0' and/or 't1', got {unknown}")
        return {y: price_index(deflator.get(y), tables[y], f"deflator of {y}") for y in _YEARS}
    return {"t0": np.ones(tables["t0"].N), "t1": price_index(deflator, tables["t1"], "deflator of t1")}


@dataclass
class _Year:
    """One year's (possibly deflated) arrays needed for the transfer measures."""

    X: dict          # variant (+ "other") -> (N, m)
    x: np.ndarray    # (N,)
    v: np.ndarray    # (N,) VA coefficients
    has_exports: bool
    has_other: bool


def _year_arrays(t: MRIOTable, p: np.ndarray | None, label: str, notes: list[str]) -> _Year:
    m, n, N = t.m, t.n, t.N
    Z, x, Yreg = t.Z, t.x, t.Y_reg
    ex = t.exports if t.exports is not None else np.zeros(N)
    oth = t.other
    if p is not None:
        Z = Z / p[:, None]
        x = x / p
        Yreg = Yreg / p[:, None]
        ex = ex / p
        oth = None if oth is None else oth / p
        va = x - Z.sum(axis=0)  # double-deflated value added (single row)
        neg = np.flatnonzero(va < -1e-9 * max(1.0, float(np.abs(x).max(initial=0.0))))
        if neg.size:
            notes.append(f"deflated value added of {label} is negative in {neg.size} region-sectors "
                         f"(e.g. {t.label(int(neg[0]))}); check the deflator")
    else:
        va = t.V.sum(axis=0)
    v = safe_divide(va, x)
    region_of = np.repeat(np.arange(m), n)
    E_blk = np.zeros((N, m))
    E_blk[np.arange(N), region_of] = ex
    blocks = [Yreg, E_blk]
    if oth is not None:
        O_blk = np.zeros((N, m))
        O_blk[np.arange(N), region_of] = oth
        blocks.append(O_blk)
    solver = LeontiefSolver(_coefficients(Z, x), labels=t.labels())
    sol = solver.solve(np.hstack(blocks))
    X = {"consumption": sol[:, :m], "export": sol[:, m:2 * m]}
    total = X["consumption"] + X["export"]
    if oth is not None:
        X["other"] = sol[:, 2 * m:3 * m]
        total = total + X["other"]
    X["total"] = total
    return _Year(X=X, x=np.asarray(x, float), v=v, has_exports=t.exports is not None,
                 has_other=oth is not None)


def _explicit_coefficients(coefficients, t: MRIOTable) -> tuple[np.ndarray, str | None]:
    unit = None
    if isinstance(coefficients, tuple) and len(coefficients) == 2 and isinstance(coefficients[1], str):
        coefficients, unit = coefficients
    if isinstance(coefficients, pd.DataFrame):
        raise OptionError("coefficients must be an N-vector or a Series indexed by (region, sector); for a "
                          "sectors × regions table use df.unstack() / df.T.stack()")
    if isinstance(coefficients, pd.Series):
        unit = unit or coefficients.attrs.get("unit")
        if not isinstance(coefficients.index, pd.MultiIndex):
            raise LabelError("a coefficients Series must be indexed by (region, sector)")
        lookup = {tuple(map(str, k)): float(v) for k, v in coefficients.items()}
        keys = [(r, s) for r in t.regions for s in t.sectors]
        missing = [f"{r}|{s}" for r, s in keys if (r, s) not in lookup]
        if missing:
            raise LabelError(f"coefficients have no value for {', '.join(missing[:5])}"
                             + (" ..." if len(missing) > 5 else ""))
        S = np.array([lookup[k] for k in keys], dtype=float)
    else:
        S = np.asarray(coefficients, dtype=float).reshape(-1)
        if S.size != t.N:
            raise ShapeError(f"coefficients have {S.size} values, expected one per region-sector ({t.N})")
    if not np.all(np.isfinite(S)):
        k = int(np.flatnonzero(~np.isfinite(S))[0])
        raise OptionError(f"coefficients must be finite; got {S[k]!r} at {t.label(k)}")
    return S, unit


def _resolve_satellite(tables, labels, satellite, coefficients_year, explicit: bool) -> str | None:
    """Name of the satellite used for S (when not explicit) and for the level variant, or None."""
    src = tables[coefficients_year]
    if satellite is not None:
        if not explicit:
            if satellite not in src.satellites and any(satellite in t.satellites for t in tables.values()):
                y = labels[list(tables).index(coefficients_year)]
                raise OptionError(f"table {y} (coefficients_year={coefficients_year!r}) has no satellite "
                                  f"{satellite!r}; use the other year's coefficients or pass coefficients=")
            return src.satellite_name(satellite)  # raises OptionError naming the known satellites
        if not any(satellite in t.satellites for t in tables.values()):
            known = sorted({k for t in tables.values() for k in t.satellites}) or ["none"]
            raise OptionError(f"unknown satellite {satellite!r}; the tables have: {', '.join(known)}")
        return str(satellite)
    if src.satellites:
        if explicit and len(src.satellites) > 1:
            return None
        return src.satellite_name(None)  # raises when there are several
    if not explicit and any(t.satellites for t in tables.values()):
        y = labels[list(tables).index(coefficients_year)]
        raise OptionError(f"table {y} (coefficients_year={coefficients_year!r}) has no satellite; choose the "
                          "other year or pass coefficients=")
    if explicit:
        for t in tables.values():
            if len(t.satellites) == 1:
                return next(iter(t.satellites))
    return None


def _check_variant(variant: str) -> None:
    if variant not in VARIANTS:
        raise OptionError(f"unknown variant {variant!r}; choose from {', '.join(VARIANTS)}")


def _compute(tables, p, satellite, coefficients_year, coefficients, positive_part_level, va_year, bloc,
             coefficients_unit, carbon_unit, years, deflated: bool) -> TransferResult:
    t0, t1 = tables["t0"], tables["t1"]
    m, n, N = t1.m, t1.n, t1.N
    regions, sectors = t1.regions, t1.sectors
    idx = t1.index
    reg_idx = pd.Index(regions, name="region")
    partner_idx = pd.Index(regions, name="partner")
    notes: list[str] = []
    labels = _chain_labels([t0, t1], years)
    money = t1.monetary_unit or t0.monetary_unit

    yr = {y: _year_arrays(tables[y], None if p is None else p[y], labels[i], notes)
          for i, y in enumerate(_YEARS)}

    # --- notes on exports / other
    if not yr["t0"].has_exports and not yr["t1"].has_exports:
        notes.append("the tables have no exports: the export variant is all zeros")
    elif yr["t0"].has_exports != yr["t1"].has_exports:
        missing = labels[0] if not yr["t0"].has_exports else labels[1]
        notes.append(f"table {missing} has no exports (taken as zero): the export variant compares exports "
                     "with nothing")
    has_other = yr["t0"].has_other or yr["t1"].has_other
    if has_other:
        notes.append("the 'other' final-demand column is part of the total variant only "
                     "(total = consumption + export + other)")
        for y in _YEARS:
            if "other" not in yr[y].X:
                yr[y].X["other"] = np.zeros((N, m))

    if p is None:
        price_basis = "nominal (current prices of each year)"
    else:
        price_basis = (f"deflated by producing row to the deflator's base year (single deflation; "
                       f"{labels[0]} index mean {p['t0'].mean():.6g}, {labels[1]} index mean {p['t1'].mean():.6g})")

    # --- carbon coefficients S (base money)
    S = None
    sat_unit = None
    sat_name = _resolve_satellite(tables, labels, satellite, coefficients_year, coefficients is not None)
    if coefficients is not None:
        S, unit = _explicit_coefficients(coefficients, t1)
        if coefficients_unit is None:
            coefficients_unit = unit
        if coefficients_unit is None and sat_name is not None:
            sat_unit = next(t.satellites[sat_name].unit for t in (tables[coefficients_year], t0, t1)
                            if sat_name in t.satellites)
            coefficients_unit = f"{sat_unit} per {money}".strip()
        coefficients_unit = coefficients_unit or ""
    elif sat_name is not None:
        src = tables[coefficients_year]
        if sat_name not in src.satellites:
            raise OptionError(f"table {labels[_YEARS.index(coefficients_year)]} (coefficients_year="
                              f"{coefficients_year!r}) has no satellite {sat_name!r}; pass coefficients=")
        sat = src.satellites[sat_name]
        S = safe_divide(sat.values, src.x)
        sat_unit = sat.unit
        if sat.hh is not None:
            notes.append(f"direct final-demand emissions of {sat_name!r} are not part of the transfer measures "
                         "(only emissions of production are relocated)")
        coefficients_unit = coefficients_unit or f"{sat.unit} per {money}".strip()
    else:
        notes.append("no carbon coefficients: the tables have no satellite and no coefficients= were given; "
                     "carbon measures are not computed")
    if S is not None and p is not None:
        S = p[coefficients_year] * S  # year-s money -> base money (§6.4)
    if carbon_unit is None:
        if sat_unit is not None:  # S in <satellite unit> per <monetary unit>
            carbon_unit = sat_unit
        elif S is not None:
            carbon_unit = f"({coefficients_unit}) × {money}" if coefficients_unit else ""
        else:
            carbon_unit = ""
    coefficients_unit = coefficients_unit or ""

    # --- demand-attributed output and changes
    keys_x = list(VARIANTS) + (["other"] if has_other else [])
    demand_output = {
        y: {k: pd.DataFrame(yr[y].X[k], index=idx, columns=partner_idx) for k in keys_x} for y in _YEARS}
    dX = {v: yr["t1"].X[v] - yr["t0"].X[v] for v in VARIANTS}

    A3, Nn, NC, NCi, LAM, IEp, IVAp = {}, {}, {}, {}, {}, {}, {}
    S2 = None if S is None else S.reshape(m, n)
    v_arr = yr[va_year].v
    v2 = v_arr.reshape(m, n)
    for v in VARIANTS:
        D3 = dX[v].reshape(m, n, m)              # [J, i, K]
        A = D3.transpose(0, 2, 1)                # [J, K, i] = ΔX_i^{JK}
        A3[v] = A
        Nn[v] = A - A.transpose(1, 0, 2)         # N_i^{J←K}
        IVAp[v] = np.einsum("ji,jki->jk", v2, Nn[v])
        if S2 is not None:
            dC = np.einsum("ji,jki->jk", S2, A)  # ΔC^{JK}
            NC[v] = dC - dC.T
            Ci = S2[:, None, :] * A              # S_i^J ΔX_i^{JK}
            NCi[v] = Ci - Ci.transpose(1, 0, 2)
            LAM[v] = Nn[v] * (S2[:, None, :] - S2[None, :, :])
            IEp[v] = np.einsum("ji,jki->jk", S2, Nn[v])

    def by_sector(arr3):  # [J, K, i] -> (N, m) frame rows (J, i), columns K
        return pd.DataFrame(arr3.transpose(0, 2, 1).reshape(N, m), index=idx, columns=partner_idx)

    def mm(M):
        return pd.DataFrame(M, index=reg_idx, columns=partner_idx)

    def per_region(d):
        return pd.DataFrame({v: d[v].sum(axis=1) for v in VARIANTS}, index=reg_idx).rename_axis(
            columns="variant")

    delta_x = {v: pd.DataFrame(dX[v], index=idx, columns=partner_idx) for v in VARIANTS}
    directed = {v: mm(A3[v].sum(axis=2)) for v in VARIANTS}
    pn_sector = {v: by_sector(Nn[v]) for v in VARIANTS}
    pn = {v: mm(Nn[v].sum(axis=2)) for v in VARIANTS}
    nx_sector = pd.DataFrame({v: Nn[v].sum(axis=1).reshape(N) for v in VARIANTS}, index=idx).rename_axis(
        columns="variant")
    net_output = pd.DataFrame({v: Nn[v].sum(axis=(1, 2)) for v in VARIANTS}, index=reg_idx).rename_axis(
        columns="variant")
    impact_va = per_region(IVAp)

    # --- gross transfer-in (Table 4)
    off = ~np.eye(m, dtype=bool)
    tin = {}
    for v in VARIANTS:
        if positive_part_level == "pair":
            tin[("industry", v)] = np.where(off, np.maximum(Nn[v].sum(axis=2), 0), 0).sum(axis=1)
        else:
            tin[("industry", v)] = np.maximum(Nn[v], 0).sum(axis=(1, 2))
    if S is not None:
        for v in VARIANTS:
            if positive_part_level == "pair":
                tin[("carbon", v)] = np.where(off, np.maximum(NC[v], 0), 0).sum(axis=1)
            else:
                tin[("carbon", v)] = np.maximum(NCi[v], 0).sum(axis=(1, 2))
    cols = pd.MultiIndex.from_tuples(list(tin), names=["kind", "variant"])
    transfer_in = pd.DataFrame(np.column_stack(list(tin.values())), index=reg_idx, columns=cols)
    totals = transfer_in.sum(axis=0)
    transfer_in_share = pd.DataFrame(safe_divide(transfer_in.to_numpy(), totals.to_numpy()[None, :]),
                                     index=reg_idx, columns=cols)
    zero_cols = [f"{k}/{v}" for (k, v), s in totals.items() if s == 0]
    if zero_cols:
        notes.append(f"no gross transfer-in for {', '.join(zero_cols)}: shares set to 0")

    # --- carbon frames
    carbon_transfer = pnc = net_carbon = leak_sector = leak_var = leakage = None
    emissions_by_driver = impact_emissions = None
    S_series = None
    if S is not None:
        S_series = pd.Series(S, index=idx, name="S")
        S_series.attrs["unit"] = coefficients_unit
        carbon_transfer = {v: mm(np.einsum("ji,jki->jk", S2, A3[v])) for v in VARIANTS}
        pnc = {v: mm(NC[v]) for v in VARIANTS}
        net_carbon = per_region(NC)
        leak_sector = {v: by_sector(LAM[v]) for v in VARIANTS}
        leak_var = {v: mm(LAM[v].sum(axis=2)) for v in VARIANTS}
        leakage = leak_var["total"]
        impact_emissions = per_region(IEp)
        drivers = [("domestic", "consumption"), ("export", "export")] + ([("other", "other")] if has_other else [])
        data = {}
        for y in _YEARS:
            tot = np.zeros(m)
            for dname, key in drivers:
                val = (S * yr[y].X[key].sum(axis=1)).reshape(m, n).sum(axis=1)
                data[(y, dname)] = val
                tot = tot + val
            data[(y, "total")] = tot
            direct = (S * yr[y].x).reshape(m, n).sum(axis=1)
            gap = float(np.abs(direct - tot).max(initial=0.0))
            if gap > 1e-6 * max(1.0, float(np.abs(direct).max(initial=0.0))):
                notes.append(f"{labels[_YEARS.index(y)]}: emissions by driver do not add up to S·x "
                             f"(max gap {gap:.6g} {carbon_unit}); the table is not balanced (L y ≠ x)")
        emissions_by_driver = pd.DataFrame(data, index=reg_idx)
        emissions_by_driver.columns.names = ["year", "driver"]

    # --- level variant (year-specific coefficients)
    lvl_va = {v: mm(_level(yr["t0"].v, yr["t1"].v, yr["t0"].X[v], yr["t1"].X[v], m, n)) for v in VARIANTS}
    lvl_em = None
    if sat_name is not None and all(sat_name in tables[y].satellites for y in _YEARS):
        u0, u1 = (tables[y].satellites[sat_name].unit for y in _YEARS)
        if u0 != u1:
            raise TableError(f"satellite {sat_name!r} has different units in {labels[0]} ({u0!r}) and "
                             f"{labels[1]} ({u1!r}); convert one explicitly first")
        e = {}
        for y in _YEARS:
            ey = safe_divide(tables[y].satellites[sat_name].values, tables[y].x)
            e[y] = ey if p is None else p[y] * ey
        lvl_em = {v: mm(_level(e["t0"], e["t1"], yr["t0"].X[v], yr["t1"].X[v], m, n)) for v in VARIANTS}
    elif any(t.satellites for t in (t0, t1)):
        notes.append("level emissions variant not computed: it needs the same satellite in both years")
    lvl = {("VA", v): np.where(off, lvl_va[v].to_numpy(), 0).sum(axis=1) for v in VARIANTS}
    if lvl_em is not None:
        lvl.update({("emissions", v): np.where(off, lvl_em[v].to_numpy(), 0).sum(axis=1) for v in VARIANTS})
    level_impacts = pd.DataFrame(np.column_stack(list(lvl.values())), index=reg_idx,
                                 columns=pd.MultiIndex.from_tuples(list(lvl), names=["measure", "variant"]))

    arrays = {"N": {v: Nn[v].sum(axis=2) for v in VARIANTS}, "IVApair": IVAp}
    if S is not None:
        arrays.update({"NC": NC, "IEpair": IEp, "LAM": {v: LAM[v].sum(axis=2) for v in VARIANTS}})

    result = TransferResult(
        regions=regions, sectors=sectors, years=(labels[0], labels[1]), monetary_unit=money,
        carbon_unit=carbon_unit, coefficients_unit=coefficients_unit, price_basis=price_basis, notes=notes,
        demand_output=demand_output, delta_x=delta_x, directed_transfer=directed,
        pairwise_net_by_sector=pn_sector, pairwise_net=pn, net_output_by_sector=nx_sector,
        net_output=net_output, carbon_coefficients=S_series, carbon_transfer=carbon_transfer,
        pairwise_net_carbon=pnc, net_carbon=net_carbon, leakage_by_sector=leak_sector,
        leakage_by_variant=leak_var, leakage=leakage, transfer_in=transfer_in,
        transfer_in_share=transfer_in_share, emissions_by_driver=emissions_by_driver,
        impact_emissions=impact_emissions, impact_va=impact_va,
        va_coefficients=pd.Series(v_arr, index=idx, name="v"), level_va=lvl_va, level_emissions=lvl_em,
        level_impacts=level_impacts, positive_part_level=positive_part_level, _arrays=arrays,
    )
    if bloc is not None:
        members = tuple(result._region(r) for r in ([bloc] if isinstance(bloc, str) else bloc))
        object.__setattr__(result, "bloc", members)
        object.__setattr__(result, "bloc_effects", result.bloc_summary(members))
    return result


def _level(c0: np.ndarray, c1: np.ndarray, X0: np.ndarray, X1: np.ndarray, m: int, n: int) -> np.ndarray:
    """``Σ_i [c_i^J(t1) X_i^{JK}(t1) − c_i^J(t0) X_i^{JK}(t0)]`` as an m × m array."""
    D = c1[:, None] * X1 - c0[:, None] * X0  # (N, m)
    return D.reshape(m, n, m).sum(axis=1)


__all__ = [
    "VARIANTS",
    "TransferResult",
    "industrial_transfer",
    "industrial_transfer_chain",
    "check_same_labels",
    "price_index",
]
