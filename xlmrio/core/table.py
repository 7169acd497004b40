"""The MRIO table model and its validation (METHODS.md §1).

:class:`MRIOTable` is one immutable (environmentally extended) multi-regional input-output table:
labels, the monetary blocks ``Z, Y, V, x`` (+ optional exports and "other" columns) and satellite
accounts. Region-sectors are in region-major order (``k = r*n + i``), final-demand columns are
(destination region, category) in region-major order.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Iterable, Mapping, NamedTuple, Sequence

import numpy as np
import pandas as pd

from ..errors import (
    BalanceError,
    LabelError,
    NegativeFlowError,
    NonFiniteError,
    OptionError,
    OrphanEmissionsError,
    ShapeError,
)


class Satellite(NamedTuple):
    """One satellite account (e.g. CO2).

    Attributes
    ----------
    values : ndarray, shape (N,)
        Direct emissions (or other stressor) of each producing region-sector, in ``unit``.
    unit : str
        Physical unit, e.g. ``"kt CO2"``.
    hh : ndarray, shape (m*K,) or None
        Direct final-demand emissions (e.g. household fuel use) per (region, category), in ``unit``.
    """

    values: np.ndarray
    unit: str
    hh: np.ndarray | None = None


@dataclass(frozen=True)
class Finding:
    """One validation finding.

    ``severity`` is ``"error"`` (fatal), ``"warning"`` or ``"info"``; ``where`` names labels, never indices;
    ``residual`` is the size of the problem in the block's unit (0 where not applicable).
    """

    severity: str
    what: str
    where: str
    residual: float = 0.0

    def __str__(self) -> str:
        res = f" (residual {self.residual:.6g})" if self.residual else ""
        return f"{self.severity}: {self.what} at {self.where}{res}"


@dataclass
class ValidationReport:
    """Findings of :meth:`MRIOTable.validate`; ``ok`` is True when there is no error finding."""

    findings: list[Finding] = field(default_factory=list)
    max_row_residual: float = 0.0
    max_col_residual: float = 0.0
    gdp_residual: float = 0.0

    @property
    def ok(self) -> bool:
        return not any(f.severity == "error" for f in self.findings)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "warning"]

    def add(self, severity: str, what: str, where: str, residual: float = 0.0) -> None:
        self.findings.append(Finding(severity, what, where, float(residual)))

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            [(f.severity, f.what, f.where, f.residual) for f in self.findings],
            columns=["severity", "what", "where", "residual"],
        )

    def __str__(self) -> str:
        if not self.findings:
            return "table is valid: no findings"
        return "\n".join(str(f) for f in self.findings)


def _labels(name: str, values: Iterable) -> tuple[str, ...]:
    if values is None:
        raise LabelError(f"{name} labels are missing")
    labels = tuple(str(v) for v in values)
    if not labels:
        raise LabelError(f"{name} labels are empty")
    seen: set[str] = set()
    for lab in labels:
        if lab in seen:
            raise LabelError(f"duplicated {name[:-1] if name.endswith('s') else name} label {lab!r}")
        if lab.strip() == "":
            raise LabelError(f"empty {name} label")
        seen.add(lab)
    return labels


def _array(name: str, a, shape: tuple[int, ...], what: str) -> np.ndarray:
    arr = np.array(a, dtype=np.float64, copy=True)
    if arr.ndim == 2 and len(shape) == 1 and 1 in arr.shape:
        arr = arr.reshape(-1)
    if arr.shape != shape:
        raise ShapeError(f"{name} has shape {arr.shape}, expected {shape} ({what})")
    arr.setflags(write=False)
    return arr


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    if a.flags.writeable:
        a = a.copy()
        a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class MRIOTable:
    """An immutable environmentally-extended multi-regional input-output table.

    Build it with :meth:`from_arrays` or :meth:`from_frames`. Money blocks are in ``monetary_unit``;
    each satellite carries its own unit.

    Attributes
    ----------
    regions, sectors, fd_categories, va_rows : tuple of str
        Labels. The same sector list applies to every region (region-major order).
    Z : ndarray (N, N)
        Intermediate flows, seller (row) to buyer (column).
    Y : ndarray (N, m*K)
        Final demand by (destination region, category).
    V : ndarray (D, N)
        Primary inputs (value added rows).
    x : ndarray (N,)
        Total output (= total input).
    exports, other : ndarray (N,) or None
        Foreign exports and an "other / statistical discrepancy" column.
    satellites : mapping str -> :class:`Satellite`
    """

    regions: tuple[str, ...]
    sectors: tuple[str, ...]
    fd_categories: tuple[str, ...]
    va_rows: tuple[str, ...]
    Z: np.ndarray
    Y: np.ndarray
    V: np.ndarray
    x: np.ndarray
    exports: np.ndarray | None = None
    other: np.ndarray | None = None
    satellites: Mapping[str, Satellite] = field(default_factory=dict)
    monetary_unit: str = ""
    name: str = ""

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_arrays(
        cls,
        Z,
        Y,
        *,
        regions: Sequence[str],
        sectors: Sequence[str],
        fd_categories: Sequence[str],
        V=None,
        va_rows: Sequence[str] | None = None,
        x=None,
        exports=None,
        other=None,
        satellites: Mapping | None = None,
        monetary_unit: str = "",
        name: str = "",
        check: bool = True,
    ) -> "MRIOTable":
        """Build a table from numpy arrays and label lists.

        Parameters
        ----------
        Z : array (N, N)
            Intermediate flows in ``monetary_unit``; must be non-negative and finite.
        Y : array (N, m*K)
            Final demand, one column per (destination region, category), region-major. A 1-D array
            is accepted when there is one region and one category.
        regions, sectors, fd_categories : sequence of str
            Labels; ``N = len(regions) * len(sectors)``, ``K = len(fd_categories)``.
        V : array (D, N), optional
            Primary inputs. Missing: one row ``"Value added" = x' - 1'Z`` (METHODS §1.3).
        va_rows : sequence of str, optional
            Labels of the rows of ``V`` (default ``"Value added"`` or ``"VA1".."VAD"``).
        x : array (N,), optional
            Total output. Missing: ``x = Z 1 + y``. When given it is kept as is; balance residuals
            are reported by :meth:`validate`, never silently removed.
        exports, other : array (N,), optional
            Foreign exports and "other" final-demand columns (belong to the producing row).
        satellites : mapping, optional
            ``{name: (values (N,), unit)}`` or ``{name: (values, unit, hh)}`` with ``hh`` the direct
            final-demand emissions per (region, category), shape (m*K,).
        monetary_unit : str
            E.g. ``"million USD"``.
        name : str
            Free text shown in result titles, e.g. ``"WIOD 2007"``.
        check : bool
            Run the fatal checks below (default). ``False`` is for the workbook reader's collect mode
            (the Validate command), which has already reported those problems at their cells and
            still wants the table's totals and residuals; no computation should use such a table.

        Raises
        ------
        LabelError, ShapeError, NonFiniteError, NegativeFlowError, OrphanEmissionsError
            For fatal problems; the message names the labels involved.
        """
        regions = _labels("regions", regions)
        sectors = _labels("sectors", sectors)
        fd_categories = _labels("fd_categories", fd_categories)
        m, n, K = len(regions), len(sectors), len(fd_categories)
        N = m * n
        Z = _array("Z", Z, (N, N), f"{m} regions x {n} sectors")
        Y = _array("Y", Y, (N, m * K), f"one column per (region, category): {m} x {K}")
        exports = None if exports is None else _array("exports", exports, (N,), "one value per region-sector")
        other = None if other is None else _array("other", other, (N,), "one value per region-sector")
        y = Y.sum(axis=1)
        if exports is not None:
            y = y + exports
        if other is not None:
            y = y + other
        x_given = x is not None
        x = _array("x", x, (N,), "total output per region-sector") if x_given else _frozen(Z.sum(axis=1) + y)
        if V is None:
            V = (x - Z.sum(axis=0))[None, :]
            va_rows = ("Value added",) if va_rows is None else va_rows
        V = np.array(V, dtype=np.float64)
        if V.ndim == 1:
            V = V[None, :]
        if va_rows is None:
            va_rows = ("Value added",) if V.shape[0] == 1 else tuple(f"VA{d + 1}" for d in range(V.shape[0]))
        va_rows = _labels("va_rows", va_rows)
        V = _array("V", V, (len(va_rows), N), f"{len(va_rows)} primary-input rows x {N} region-sectors")
        sats = {}
        for sname, spec in (satellites or {}).items():
            sats[str(sname)] = _satellite(str(sname), spec, N, m * K)
        table = cls(
            regions=regions, sectors=sectors, fd_categories=fd_categories, va_rows=va_rows,
            Z=Z, Y=Y, V=V, x=x, exports=exports, other=other,
            satellites=MappingProxyType(sats), monetary_unit=str(monetary_unit), name=str(name),
        )
        if check:
            table._check_fatal()
        return table

    @classmethod
    def from_frames(
        cls,
        Z: pd.DataFrame,
        Y: pd.DataFrame,
        *,
        V: pd.DataFrame | None = None,
        x: pd.Series | None = None,
        exports: pd.Series | None = None,
        other: pd.Series | None = None,
        satellites: pd.DataFrame | Mapping | None = None,
        units: Mapping[str, str] | None = None,
        monetary_unit: str = "",
        name: str = "",
    ) -> "MRIOTable":
        """Build a table from DataFrames with a (region, sector) MultiIndex.

        ``Z`` has the (region, sector) MultiIndex on both axes; ``Y`` has it on the rows and
        (region, category) on the columns; ``V`` has primary-input rows and (region, sector) columns;
        ``satellites`` is a DataFrame with one row per satellite and (region, sector) columns (units
        from ``units``), or a mapping as in :meth:`from_arrays`. Row and column orders must agree;
        the regions and sectors are read from ``Z``'s index.
        """
        if not isinstance(Z.index, pd.MultiIndex) or Z.index.nlevels != 2:
            raise LabelError("Z must have a (region, sector) MultiIndex on its rows")
        regions = list(dict.fromkeys(Z.index.get_level_values(0)))
        sectors = list(dict.fromkeys(Z.index.get_level_values(1)))
        expected = pd.MultiIndex.from_product([regions, sectors])
        if not Z.index.equals(expected):
            raise LabelError("Z rows must list every (region, sector) pair in region-major order, "
                             "with the same sectors in every region")
        _same_labels("Z columns", Z.columns, Z.index)
        if not isinstance(Y.columns, pd.MultiIndex) or Y.columns.nlevels != 2:
            raise LabelError("Y must have a (region, category) MultiIndex on its columns")
        _same_labels("Y rows", Y.index, Z.index)
        cats = list(dict.fromkeys(Y.columns.get_level_values(1)))
        _same_labels("Y columns", Y.columns, pd.MultiIndex.from_product([regions, cats]))
        va_rows = None
        if V is not None:
            _same_labels("V columns", V.columns, Z.index)
            va_rows = [str(v) for v in V.index]
        sats = None
        if satellites is not None:
            if isinstance(satellites, pd.DataFrame):
                units = units or {}
                sats = {}
                for sname, row in satellites.iterrows():
                    _same_labels(f"satellite {sname!r} columns", satellites.columns, Z.index)
                    sats[str(sname)] = (row.to_numpy(float), units.get(sname, ""))
            else:
                sats = dict(satellites)
        vec = lambda s: None if s is None else np.asarray(s, dtype=float)  # noqa: E731
        return cls.from_arrays(
            Z.to_numpy(float), Y.to_numpy(float), regions=regions, sectors=sectors, fd_categories=cats,
            V=None if V is None else V.to_numpy(float), va_rows=va_rows, x=vec(x), exports=vec(exports),
            other=vec(other), satellites=sats, monetary_unit=monetary_unit, name=name,
        )

    def replace(self, **changes) -> "MRIOTable":
        """A copy with some blocks or labels replaced (re-checked). ``x=None`` re-derives x."""
        kw = dict(
            Z=self.Z, Y=self.Y, regions=self.regions, sectors=self.sectors, fd_categories=self.fd_categories,
            V=self.V, va_rows=self.va_rows, x=self.x, exports=self.exports, other=self.other,
            satellites={k: tuple(s) for k, s in self.satellites.items()},
            monetary_unit=self.monetary_unit, name=self.name,
        )
        if "x" in changes and changes["x"] is None and "V" not in changes:
            kw["V"], kw["va_rows"] = None, None
        kw.update(changes)
        Z, Y = kw.pop("Z"), kw.pop("Y")
        return MRIOTable.from_arrays(Z, Y, **kw)

    # ------------------------------------------------------------------ sizes and labels
    @property
    def m(self) -> int:
        """Number of regions."""
        return len(self.regions)

    @property
    def n(self) -> int:
        """Number of sectors per region."""
        return len(self.sectors)

    @property
    def N(self) -> int:
        """Number of region-sectors ``m*n``."""
        return self.m * self.n

    @property
    def K(self) -> int:
        """Number of final-demand categories per region."""
        return len(self.fd_categories)

    @property
    def index(self) -> pd.MultiIndex:
        """(region, sector) MultiIndex of the rows of Z."""
        return pd.MultiIndex.from_product([self.regions, self.sectors], names=["region", "sector"])

    @property
    def fd_index(self) -> pd.MultiIndex:
        """(region, category) MultiIndex of the columns of Y."""
        return pd.MultiIndex.from_product([self.regions, self.fd_categories], names=["region", "category"])

    def labels(self) -> list[str]:
        """``"region|sector"`` labels in table order."""
        return [f"{r}|{s}" for r in self.regions for s in self.sectors]

    def label(self, k: int) -> str:
        """Label ``"region|sector"`` of region-sector ``k``."""
        return f"{self.regions[k // self.n]}|{self.sectors[k % self.n]}"

    # ------------------------------------------------------------------ derived blocks
    @property
    def y(self) -> np.ndarray:
        """Total final demand by row, ``Y 1 + exports + other`` (monetary unit)."""
        y = self.Y.sum(axis=1)
        if self.exports is not None:
            y = y + self.exports
        if self.other is not None:
            y = y + self.other
        return y

    @property
    def Y_reg(self) -> np.ndarray:
        """Final demand summed over categories per destination region, shape (N, m)."""
        return self.Y.reshape(self.N, self.m, self.K).sum(axis=2)

    @property
    def driver_columns(self) -> list[str]:
        """Column labels of the driver matrix: regions, then ``EXP`` and ``OTH`` where present."""
        cols = list(self.regions)
        if self.exports is not None:
            cols.append("EXP")
        if self.other is not None:
            cols.append("OTH")
        return cols

    @property
    def Y_star(self) -> np.ndarray:
        """Driver matrix ``Y* = [Y_reg | E 1 | O]`` (N × (m + 0..2)), METHODS §1.2."""
        blocks = [self.Y_reg]
        if self.exports is not None:
            blocks.append(self.exports[:, None])
        if self.other is not None:
            blocks.append(self.other[:, None])
        return np.hstack(blocks)

    def satellite(self, name: str | None = None) -> Satellite:
        """The satellite called *name* (the only one if *name* is None)."""
        if name is None:
            if len(self.satellites) == 1:
                return next(iter(self.satellites.values()))
            if not self.satellites:
                raise OptionError("the table has no satellite account (emissions); add one to compute emissions")
            raise OptionError(f"name a satellite: the table has {', '.join(self.satellites)}")
        try:
            return self.satellites[name]
        except KeyError:
            known = ", ".join(self.satellites) or "none"
            raise OptionError(f"unknown satellite {name!r}; the table has: {known}") from None

    def satellite_name(self, name: str | None = None) -> str:
        """Resolve *name* (None -> the only satellite)."""
        if name is None:
            self.satellite(None)
            return next(iter(self.satellites))
        self.satellite(name)
        return name

    # ------------------------------------------------------------------ export
    def to_frames(self) -> dict[str, pd.DataFrame]:
        """All blocks as labelled DataFrames / Series.

        Keys: ``Z``, ``Y``, ``V``, ``x`` (Series), ``exports``/``other`` (Series, when present),
        ``satellites`` (DataFrame: satellite × region-sector), ``satellite_units`` (Series),
        ``hh`` (DataFrame: satellite × (region, category), when any satellite has one).
        """
        idx = self.index
        out: dict[str, pd.DataFrame] = {
            "Z": pd.DataFrame(self.Z, index=idx, columns=idx),
            "Y": pd.DataFrame(self.Y, index=idx, columns=self.fd_index),
            "V": pd.DataFrame(self.V, index=pd.Index(self.va_rows, name="input"), columns=idx),
            "x": pd.Series(self.x, index=idx, name="x"),
        }
        if self.exports is not None:
            out["exports"] = pd.Series(self.exports, index=idx, name="exports")
        if self.other is not None:
            out["other"] = pd.Series(self.other, index=idx, name="other")
        names = list(self.satellites)
        out["satellites"] = pd.DataFrame(
            np.array([s.values for s in self.satellites.values()]).reshape(len(names), self.N),
            index=pd.Index(names, name="satellite"), columns=idx,
        )
        out["satellite_units"] = pd.Series({k: s.unit for k, s in self.satellites.items()}, dtype=object)
        hh = {k: s.hh for k, s in self.satellites.items() if s.hh is not None}
        if hh:
            out["hh"] = pd.DataFrame(np.array(list(hh.values())), index=pd.Index(list(hh), name="satellite"),
                                     columns=self.fd_index)
        return out

    def frame(self, block: str) -> pd.DataFrame:
        """One block of :meth:`to_frames` by name."""
        frames = self.to_frames()
        if block not in frames:
            raise OptionError(f"unknown block {block!r}; choose from {', '.join(frames)}")
        return frames[block]

    # ------------------------------------------------------------------ pymrio interop
    def to_pymrio(self):
        """Convert to a ``pymrio.IOSystem`` (needs the optional ``pymrio`` extra)."""
        from .interop import to_pymrio

        return to_pymrio(self)

    @classmethod
    def from_pymrio(cls, io, *, satellites: Mapping[str, str] | None = None, **kw) -> "MRIOTable":
        """Build from a ``pymrio.IOSystem`` (needs the optional ``pymrio`` extra); see :mod:`.interop`."""
        from .interop import from_pymrio

        return from_pymrio(io, satellites=satellites, **kw)

    # ------------------------------------------------------------------ validation
    def _check_fatal(self) -> None:
        report = ValidationReport()
        self._fatal_findings(report)
        if report.errors:
            first = report.errors[0]
            exc = first_error_class(first.what)
            more = f" (and {len(report.errors) - 1} more problems)" if len(report.errors) > 1 else ""
            raise exc(f"{first.what} at {first.where}{more}", report)

    def _fatal_findings(self, report: ValidationReport) -> None:
        blocks = {"Z": self.Z, "Y": self.Y, "V": self.V, "x": self.x}
        if self.exports is not None:
            blocks["exports"] = self.exports
        if self.other is not None:
            blocks["other"] = self.other
        for sname, sat in self.satellites.items():
            blocks[f"satellite {sname}"] = sat.values
            if sat.hh is not None:
                blocks[f"final-demand emissions {sname}"] = sat.hh
        for bname, arr in blocks.items():
            bad = ~np.isfinite(arr)
            if bad.any():
                pos = np.argwhere(bad.reshape(arr.shape[0], -1) if arr.ndim > 1 else bad[:, None])[0]
                report.add("error", f"non-finite value (NaN or inf) in {bname}", self._where(bname, pos),
                           float(bad.sum()))
        if report.errors:
            return
        neg = self.Z < 0
        if neg.any():
            k, l = np.unravel_index(np.argmin(self.Z), self.Z.shape)
            report.add("error", f"negative intermediate flow in Z ({int(neg.sum())} cells)",
                       f"row {self.label(k)}, column {self.label(l)}", float(self.Z[k, l]))
        if (self.x < 0).any():
            k = int(np.argmin(self.x))
            report.add("error", "negative total output", self.label(k), float(self.x[k]))
        for sname, sat in self.satellites.items():
            orphan = (sat.values != 0) & (self.x == 0)
            if orphan.any():
                k = int(np.flatnonzero(orphan)[0])
                report.add("error", f"emissions with zero output in satellite {sname!r} "
                           f"({int(orphan.sum())} region-sectors)", self.label(k), float(sat.values[k]))
            if (sat.values < 0).any():
                k = int(np.argmin(sat.values))
                report.add("warning", f"negative value in satellite {sname!r}", self.label(k),
                           float(sat.values[k]))

    def _where(self, block: str, pos) -> str:
        i = int(pos[0])
        j = int(pos[1]) if len(pos) > 1 else 0
        if block == "Z":
            return f"row {self.label(i)}, column {self.label(j)}"
        if block == "Y":
            return f"row {self.label(i)}, column {self.regions[j // self.K]}|{self.fd_categories[j % self.K]}"
        if block == "V":
            return f"row {self.va_rows[i]}, column {self.label(j)}"
        if block.startswith("final-demand"):
            return f"{self.regions[i // self.K]}|{self.fd_categories[i % self.K]}"
        return self.label(i)

    def validate(self, rtol: float = 1e-6, atol: float | None = None, *, worst: int = 5,
                 raise_on_error: bool = True) -> ValidationReport:
        """Check the identities of METHODS §1.3 and the edge cases of §1.6.

        Parameters
        ----------
        rtol, atol : float
            A residual ``res_k`` passes when ``|res_k| <= atol + rtol*|x_k|``. ``atol`` defaults to
            ``1e-9 * max|x|`` (monetary unit).
        worst : int
            How many of the worst rows/columns to name in a balance finding.
        raise_on_error : bool
            Raise the matching :class:`~xlmrio.errors.TableError` for fatal findings (default), or
            only report them.

        Returns
        -------
        ValidationReport
            Findings with severity, what, where (labels) and residual; balance residuals beyond the
            tolerance are warnings naming the worst rows/columns (the supplied ``x`` is kept).
        """
        report = ValidationReport()
        self._fatal_findings(report)
        xmax = float(np.max(np.abs(self.x))) if self.N else 0.0
        atol = 1e-9 * xmax if atol is None else float(atol)
        tol = atol + rtol * np.abs(self.x)
        row_res = self.Z.sum(axis=1) + self.y - self.x
        col_res = self.Z.sum(axis=0) + self.V.sum(axis=0) - self.x
        report.max_row_residual = float(np.max(np.abs(row_res))) if self.N else 0.0
        report.max_col_residual = float(np.max(np.abs(col_res))) if self.N else 0.0
        report.gdp_residual = float(self.y.sum() - self.V.sum())
        for kind, res in (("row balance Z1 + y = x", row_res), ("column balance 1'Z + 1'V = x'", col_res)):
            bad = np.flatnonzero(np.abs(res) > tol)
            if bad.size:
                order = bad[np.argsort(-np.abs(res[bad]))][:worst]
                names = ", ".join(f"{self.label(k)} ({res[k]:+.6g})" for k in order)
                report.add("warning", f"{kind} fails in {bad.size} of {self.N} region-sectors "
                           f"(rtol={rtol:g}); worst: {names}", "total output x", float(np.max(np.abs(res[bad]))))
        if abs(report.gdp_residual) > atol + rtol * max(abs(self.V.sum()), 1.0):
            report.add("warning", "GDP identity sum(y) = sum(V) fails", "whole table", report.gdp_residual)
        zero = np.flatnonzero(self.x == 0)
        if zero.size:
            report.add("info", f"{zero.size} region-sectors have zero output (their A columns are 0)",
                       ", ".join(self.label(k) for k in zero[:worst]) + (" ..." if zero.size > worst else ""))
        va = self.V.sum(axis=0)
        negva = np.flatnonzero(va < -atol)
        if negva.size:
            report.add("warning", f"negative value added in {negva.size} region-sectors",
                       ", ".join(self.label(k) for k in negva[:worst]), float(va[negva].min()))
        with np.errstate(divide="ignore", invalid="ignore"):
            colsum_a = np.where(self.x > 0, self.Z.sum(axis=0) / np.where(self.x > 0, self.x, 1), 0.0)
        big = np.flatnonzero(colsum_a >= 1)
        if big.size:
            report.add("warning", f"column sums of A are >= 1 in {big.size} region-sectors",
                       ", ".join(self.label(k) for k in big[:worst]), float(colsum_a[big].max()))
        if raise_on_error and report.errors:
            first = report.errors[0]
            raise first_error_class(first.what)(f"{first.what} at {first.where}", report)
        return report

    def require_balanced(self, rtol: float = 1e-6, atol: float | None = None) -> None:
        """Raise :class:`BalanceError` when row or column balance fails (names the worst region-sectors)."""
        report = self.validate(rtol=rtol, atol=atol)
        bad = [f for f in report.warnings if "balance" in f.what]
        if bad:
            raise BalanceError("; ".join(f.what for f in bad), report)

    def __repr__(self) -> str:
        sats = ", ".join(f"{k} [{s.unit}]" for k, s in self.satellites.items()) or "none"
        name = f"{self.name!r}, " if self.name else ""
        return (f"MRIOTable({name}{self.m} regions x {self.n} sectors, {self.K} final-demand categories, "
                f"{len(self.va_rows)} primary inputs, satellites: {sats}, unit {self.monetary_unit!r})")


def first_error_class(what: str):
    """Map a fatal finding's text to its error class."""
    if what.startswith("non-finite"):
        return NonFiniteError
    if what.startswith("negative intermediate") or what.startswith("negative total"):
        return NegativeFlowError
    if what.startswith("emissions with zero output"):
        return OrphanEmissionsError
    return ShapeError


def _satellite(name: str, spec, N: int, mK: int) -> Satellite:
    if isinstance(spec, Satellite):
        values, unit, hh = spec
    elif isinstance(spec, (tuple, list)) and len(spec) in (2, 3) and isinstance(spec[1], str):
        values, unit = spec[0], spec[1]
        hh = spec[2] if len(spec) == 3 else None
    else:
        raise ShapeError(f"satellite {name!r} must be given as (values, unit) or (values, unit, hh)")
    values = _array(f"satellite {name!r}", values, (N,), "one value per region-sector")
    hh = None if hh is None else _array(f"final-demand emissions of {name!r}", hh, (mK,),
                                         "one value per (region, category)")
    return Satellite(values, str(unit), hh)


def _same_labels(what: str, got: pd.Index, expected: pd.Index) -> None:
    g = [tuple(map(str, t)) if isinstance(t, tuple) else str(t) for t in got]
    e = [tuple(map(str, t)) if isinstance(t, tuple) else str(t) for t in expected]
    if g != e:
        missing = [lab for lab in e if lab not in set(g)]
        extra = [lab for lab in g if lab not in set(e)]
        detail = []
        if missing:
            detail.append(f"missing {missing[:3]}")
        if extra:
            detail.append(f"unexpected {extra[:3]}")
        if not detail:
            detail.append("same labels in a different order")
        raise LabelError(f"{what} do not match the (region, sector) labels of Z: " + "; ".join(detail))
