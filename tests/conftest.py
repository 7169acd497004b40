"""Shared fixtures: the METHODS.md §8 worked example and a random balanced MRIO generator."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from xlmrio.core.table import MRIOTable

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def shared_data(*parts: str) -> Path:
    """Path inside ../shared/data; skips the calling test (with the reason) when it is absent."""
    p = SHARED_DATA.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"raw data not available: {p} (../shared/data is absent on this machine)")
    return p


# METHODS.md §8.1 (year t0)
Z0 = np.array([[10, 8, 12, 4], [6, 4, 2, 3], [8, 4, 20, 6], [2, 6, 4, 5]], float)
Y0 = np.array([[30, 16], [50, 5], [14, 48], [3, 36]], float)
E0 = np.array([20, 10, 20, 4], float)
X0 = np.array([100, 80, 120, 60], float)
V0 = np.array([74, 58, 82, 42], float)
G0 = np.array([50, 8, 120, 6], float)


def worked_example(**kw) -> MRIOTable:
    args = dict(regions=["R1", "R2"], sectors=["M", "S"], fd_categories=["FD"], V=V0[None, :], x=X0,
                exports=E0, satellites={"CO2": (G0, "t")}, monetary_unit="MU", name="worked example t0")
    args.update(kw)
    return MRIOTable.from_arrays(Z0, Y0, **args)


@pytest.fixture
def t0() -> MRIOTable:
    return worked_example()


def random_mrio(rng: np.random.Generator, m: int, n: int, K: int = 2, *, exports: bool = True,
                other: bool = False, negative_inventory: bool = True, hh: bool = False,
                sparsity: float = 0.2) -> MRIOTable:
    """A random balanced MRIO: A with column sums <= 0.8, y > 0 per row, x = (I - A)^-1 y, Z = A x̂."""
    N = m * n
    A = rng.uniform(0, 1, (N, N)) * (rng.uniform(size=(N, N)) > sparsity)
    A *= rng.uniform(0.1, 0.8, N)[None, :] / np.maximum(A.sum(0), 1e-12)[None, :]
    Y = rng.uniform(1, 20, (N, m * K))
    if negative_inventory and K >= 2:
        Y[:, K - 1 :: K] = rng.uniform(-2, 1, (N, m))  # last category = inventory change, may be negative
    E = rng.uniform(0, 10, N) if exports else None
    O = rng.uniform(-1, 1, N) if other else None
    y = Y.sum(1) + (E if E is not None else 0) + (O if O is not None else 0)
    Y[:, 0] += np.maximum(1.0 - y, 0.0)  # every row has positive final demand
    y = Y.sum(1) + (E if E is not None else 0) + (O if O is not None else 0)
    x = np.linalg.solve(np.eye(N) - A, y)
    Z = A * x[None, :]
    g = rng.uniform(0, 5, N) * (rng.uniform(size=N) > 0.1)
    sat = (g, "t", rng.uniform(0, 3, m * K)) if hh else (g, "t")
    return MRIOTable.from_arrays(
        Z, Y, regions=[f"R{i}" for i in range(m)], sectors=[f"S{j}" for j in range(n)],
        fd_categories=[f"C{c}" for c in range(K)], exports=E, other=O, satellites={"CO2": sat},
        monetary_unit="MU")
