"""Leontief model: coefficients, a factorised I − A, the inverse and multipliers (METHODS.md §2.1–2.2).

Accounts never need the full inverse: :class:`LeontiefSolver` factorises ``I − A`` once (LU) and
solves for the few right-hand sides each result needs. ``L`` itself is formed only when asked for.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from ..errors import NonProductiveError
from .table import MRIOTable


def safe_divide(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Elementwise ``a ⊘ b``: ``a / b`` with 0 where ``b == 0`` (METHODS §0)."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    out = np.zeros(np.broadcast(a, b).shape)
    np.divide(a, b, out=out, where=(b != 0))
    return out


def coefficients(Z: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Technical coefficients ``A = Z x̂⁻¹`` (``a_kl = z_kl / x_l``, 0 where ``x_l = 0``).

    Parameters
    ----------
    Z : ndarray (N, N)
        Intermediate flows (monetary unit).
    x : ndarray (N,)
        Total output (monetary unit).

    Returns
    -------
    ndarray (N, N)
        Dimensionless input coefficients.
    """
    return safe_divide(np.asarray(Z, float), np.asarray(x, float)[None, :])


def intensities(g: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Direct intensities ``e = g ⊘ x`` (satellite unit per monetary unit)."""
    return safe_divide(g, x)


class LeontiefSolver:
    """``I − A`` factorised once; solves ``L B`` and ``B' L`` without forming ``L``.

    Parameters
    ----------
    A : ndarray (N, N)
        Technical coefficients.
    labels : sequence of str, optional
        Region-sector labels used in error messages.
    check : bool
        Verify the model is productive: ``(I − A)⁻¹ 1 ≥ 0`` (for ``A ≥ 0`` this holds exactly when
        the spectral radius of ``A`` is below 1, i.e. when ``L ≥ 0``). Raises
        :class:`~xlmrio.errors.NonProductiveError` otherwise.
    """

    def __init__(self, A: np.ndarray, labels=None, check: bool = True):
        self.A = np.asarray(A, dtype=float)
        self.N = self.A.shape[0]
        self.labels = list(labels) if labels is not None else [str(k) for k in range(self.N)]
        from scipy.linalg import lu_factor  # imported here: `import xlmrio` stays light

        IA = np.eye(self.N) - self.A
        with np.errstate(all="ignore"):
            try:
                self._lu = lu_factor(IA, check_finite=False)
            except (ValueError, np.linalg.LinAlgError) as exc:  # pragma: no cover - lu_factor rarely raises
                raise NonProductiveError(f"non-productive A: I − A cannot be factorised ({exc})") from None
        piv_diag = np.abs(np.diag(self._lu[0]))
        if self.N and (not np.all(np.isfinite(piv_diag)) or piv_diag.min() <= 1e-14 * max(piv_diag.max(), 1.0)):
            k = int(np.argmin(piv_diag))
            raise NonProductiveError(f"non-productive A: I − A is singular (near {self.labels[k]})")
        if check and self.N:
            q = self.solve(np.ones(self.N))
            if not np.all(np.isfinite(q)) or q.min() < -1e-12 * max(1.0, np.abs(q).max()):
                k = int(np.argmin(q))
                raise NonProductiveError(
                    "non-productive A: the Leontief inverse has negative entries (spectral radius of A "
                    f">= 1); total requirement of one unit of every product is {q[k]:.6g} at {self.labels[k]}")

    def solve(self, B: np.ndarray) -> np.ndarray:
        """``L B = (I − A)⁻¹ B`` for a vector or matrix ``B`` with N rows."""
        from scipy.linalg import lu_solve

        return lu_solve(self._lu, B, check_finite=False)

    def solve_left(self, B: np.ndarray) -> np.ndarray:
        """``L' B``, i.e. the transpose of ``B' L`` (e.g. ``μ = solve_left(e)`` gives ``μ' = e' L``)."""
        from scipy.linalg import lu_solve

        return lu_solve(self._lu, B, trans=1, check_finite=False)

    @cached_property
    def L(self) -> np.ndarray:
        """The full Leontief inverse ``(I − A)⁻¹`` (formed on first use; N×N)."""
        L = self.solve(np.eye(self.N))
        L[np.abs(L) < 1e-15 * max(1.0, float(np.abs(L).max(initial=0.0)))] = 0.0  # exact zero structure
        return L

    @classmethod
    def for_table(cls, table: MRIOTable, check: bool = True) -> "LeontiefSolver":
        """Solver for a table's ``A = Z x̂⁻¹``."""
        return cls(coefficients(table.Z, table.x), labels=table.labels(), check=check)


def leontief_inverse(A: np.ndarray, check: bool = True) -> np.ndarray:
    """Leontief inverse ``L = (I − A)⁻¹`` by LU (METHODS §2.1).

    Raises :class:`~xlmrio.errors.NonProductiveError` when ``I − A`` is singular or ``L`` has negative
    entries.
    """
    solver = LeontiefSolver(A, check=check)
    L = solver.L
    if check and L.size and L.min() < -1e-12:
        k, l = np.unravel_index(np.argmin(L), L.shape)
        raise NonProductiveError(f"non-productive A: L[{k},{l}] = {L[k, l]:.3g} < 0")
    return L


@dataclass(frozen=True)
class LeontiefResult:
    """Coefficients, inverse and multipliers of one table (all labelled by (region, sector)).

    Attributes
    ----------
    A : DataFrame (N, N)
        Technical coefficients (dimensionless).
    L : DataFrame (N, N)
        Leontief inverse (dimensionless: output per unit of final demand).
    multipliers : DataFrame (N, 3)
        Output multipliers ``total = 1'L``, ``own_region``, ``spillover`` (= total − own).
    va_coefficients : Series (N,)
        ``v' = 1'V x̂⁻¹`` (monetary unit per monetary unit).
    emission_multipliers : DataFrame (N, Q)
        ``μ' = e'L`` per satellite (satellite unit per monetary unit of final demand).
    intensities : DataFrame (N, Q)
        Direct intensities ``e = g ⊘ x`` per satellite.
    checks : dict
        ``max|(I−A)L − I|``, ``min L``, ``min diag L``, ``max|Ly − x|/max x``, ``max|v'L − 1|``.
    units : dict
        Satellite name -> unit of its intensity/multiplier (``"<unit> per <monetary unit>"``).
    """

    A: pd.DataFrame
    L: pd.DataFrame
    multipliers: pd.DataFrame
    va_coefficients: pd.Series
    emission_multipliers: pd.DataFrame
    intensities: pd.DataFrame
    checks: dict
    units: dict


def output_multipliers(solver: LeontiefSolver, m: int, n: int) -> np.ndarray:
    """Output multipliers as an (N, 3) array: total ``1'L``, own-region part, spill-over (§2.2)."""
    N = m * n
    G = np.kron(np.eye(m), np.ones((n, 1)))  # (N, m): region membership of each row
    RL = solver.solve_left(G)  # (N, m) = (Γ_reg L)'
    total = RL.sum(axis=1)
    own = RL[np.arange(N), np.repeat(np.arange(m), n)]
    return np.column_stack([total, own, total - own])


def leontief(table: MRIOTable) -> LeontiefResult:
    """A, L, output multipliers, VA coefficients and emission multipliers of *table* (METHODS §2.1–2.2).

    Parameters
    ----------
    table : MRIOTable

    Returns
    -------
    LeontiefResult
        With the §2.1 checks computed (they are reported, and ``NonProductiveError`` is raised
        when ``L`` has negative entries).
    """
    solver = LeontiefSolver.for_table(table)
    L = solver.L
    if L.size and L.min() < -1e-12:
        k, l = np.unravel_index(np.argmin(L), L.shape)
        raise NonProductiveError(f"non-productive A: L has a negative entry {L[k, l]:.3g} at row "
                                 f"{table.label(k)}, column {table.label(l)}")
    idx = table.index
    A = solver.A
    mult = output_multipliers(solver, table.m, table.n)
    v = safe_divide(table.V.sum(axis=0), table.x)
    names = list(table.satellites)
    E = np.column_stack([intensities(s.values, table.x) for s in table.satellites.values()]) if names \
        else np.zeros((table.N, 0))
    MU = solver.solve_left(E) if names else E
    xmax = max(float(np.abs(table.x).max(initial=0.0)), 1e-300)
    has_x = table.x > 0
    checks = {
        "max_abs_IA_L_minus_I": float(np.abs((np.eye(table.N) - A) @ L - np.eye(table.N)).max(initial=0.0)),
        "min_L": float(L.min()) if L.size else 0.0,
        "min_diag_L": float(np.diag(L).min()) if L.size else 1.0,
        "max_rel_Ly_minus_x": float(np.abs(L @ table.y - table.x).max(initial=0.0) / xmax),
        "max_abs_vL_minus_1": float(np.abs((v @ L - 1.0)[has_x]).max(initial=0.0)),
    }
    return LeontiefResult(
        A=pd.DataFrame(A, index=idx, columns=idx),
        L=pd.DataFrame(L, index=idx, columns=idx),
        multipliers=pd.DataFrame(mult, index=idx, columns=["total", "own_region", "spillover"]),
        va_coefficients=pd.Series(v, index=idx, name="va_coefficient"),
        emission_multipliers=pd.DataFrame(MU, index=idx, columns=names),
        intensities=pd.DataFrame(E, index=idx, columns=names),
        checks=checks,
        units={k: f"{s.unit} per {table.monetary_unit}".strip() for k, s in table.satellites.items()},
    )
