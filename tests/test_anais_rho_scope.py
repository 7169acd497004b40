"""ANAIS with the largest deviation bounding Z cells only (``rho_scope="Z"``, issue #14 item 3).

Independent reference: the stage-1 LP written out by hand here with scipy's linprog."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import linprog

from conftest import worked_example
from xlmrio.errors import OptionError
from xlmrio.update import anais


def _info(t0):
    """Target: final demand of R1|M doubled (a large FD change), totals and VA moved accordingly."""
    Z, Y, E, V = t0.Z.copy(), t0.Y.copy(), t0.exports.copy(), t0.V.copy()
    Y[0] *= 2.0
    x = Z.sum(1) + Y.sum(1) + E
    V = V + (x - t0.x)[None, :]          # value added absorbs the change (x = 1'Z + V) ...
    V[0, 0] -= 6.0                       # ... except that column R1|M buys 6 more inputs and
    V[0, 3] += 2.0                       # column R2|S buys 2 fewer: Z must move
    return x, V


def _stage1_by_hand(t0, x, V):
    """min rho over Z and F cells: |z - p| <= rho p for Z cells only; rows Z1 + F1 = x; columns 1'Z = x - V."""
    N = t0.N
    F0 = np.hstack([t0.Y, t0.exports[:, None]])
    q = F0.shape[1]
    nz, nf = N * N, N * q
    nv = nz + nf + 1
    A_eq, b_eq = [], []
    for k in range(N):
        r = np.zeros(nv); r[k * N:(k + 1) * N] = 1; r[nz + k * q: nz + (k + 1) * q] = 1
        A_eq.append(r); b_eq.append(x[k])
        c = np.zeros(nv); c[k:nz:N] = 1
        A_eq.append(c); b_eq.append(x[k] - V[0, k])
    A_ub, b_ub = [], []
    p = t0.Z.reshape(-1)
    for i in range(nz):
        r = np.zeros(nv); r[i] = 1; r[-1] = -p[i]; A_ub.append(r); b_ub.append(p[i])
        r = np.zeros(nv); r[i] = -1; r[-1] = -p[i]; A_ub.append(r); b_ub.append(-p[i])
    bounds = [(0, None)] * nz + [(None, None) if F0.reshape(-1)[j] < 0 else (0, None) for j in range(nf)] + [(0, None)]
    c = np.zeros(nv); c[-1] = 1
    sol = linprog(c, A_ub=np.array(A_ub), b_ub=b_ub, A_eq=np.array(A_eq), b_eq=b_eq, bounds=bounds, method="highs")
    assert sol.status == 0
    return sol.fun


def test_rho_scope_z_matches_hand_lp_and_is_smaller():
    t0 = worked_example()
    x, V = _info(t0)
    kw = dict(totals=x, known_cells={"V": V})
    full = anais(t0, **kw)
    zonly = anais(t0, rho_scope="Z", **kw)
    assert zonly.rho == pytest.approx(_stage1_by_hand(t0, x, V), abs=1e-7)
    assert zonly.rho <= full.rho + 1e-9
    T = zonly.table
    rel = np.abs(T.Z - t0.Z) / t0.Z
    assert rel.max() <= zonly.rho * (1 + 1e-6) + 1e-8
    assert np.allclose(T.Z.sum(1) + T.Y.sum(1) + T.exports, x) and np.allclose(T.Z.sum(0) + T.V.sum(0), x)
    assert zonly.rho > 0
    # final demand of R1|M has to move by more than rho: the point of the option
    f0, f1 = t0.Y[0].sum() + t0.exports[0], T.Y[0].sum() + T.exports[0]
    assert abs(f1 - f0) / f0 > zonly.rho


def test_rho_scope_checked():
    with pytest.raises(OptionError, match="rho_scope"):
        anais(worked_example(), totals=worked_example().x, rho_scope="FD")
