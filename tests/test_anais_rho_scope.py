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


# ---------------------------------------------------------------- rho_scope="blocks" (one bound per block)

def _blocks_by_hand(t0, x, V):
    """Stage 1 and 2 of rho_scope="blocks" written out with linprog over Z and F cells (V known).

    Stage 1: min rho_Z + rho_FD with |z - p| <= rho_Z p (Z cells), |f - p| <= rho_FD |p| (F cells);
    rows Z1 + F1 = x; columns 1'Z = x - V.  Stage 2: rho_b held at their optimum (1 + 1e-6), minimise
    sum |v - p| (split into d+ and d-)."""
    N = t0.N
    F0 = np.hstack([t0.Y, t0.exports[:, None]])
    q = F0.shape[1]
    nz, nf = N * N, N * q
    p = np.concatenate([t0.Z.reshape(-1), F0.reshape(-1)])
    nc = nz + nf
    blk = np.r_[np.zeros(nz, int), np.ones(nf, int)]

    def balance(nv, off=0, sign=1.0):
        A_eq, b_eq = [], []
        for k in range(N):
            r = np.zeros(nv); r[off + k * N: off + (k + 1) * N] = sign; r[off + nz + k * q: off + nz + (k + 1) * q] = sign
            A_eq.append(r); b_eq.append(x[k])
            c = np.zeros(nv); c[off + k:off + nz:N] = sign
            A_eq.append(c); b_eq.append(x[k] - V[0, k])
        return A_eq, b_eq

    # stage 1: variables [v (nc) | rho_Z | rho_FD]
    nv = nc + 2
    A_eq, b_eq = balance(nv)
    A_ub, b_ub = [], []
    for i in range(nc):
        r = np.zeros(nv); r[i] = 1; r[nc + blk[i]] = -abs(p[i]); A_ub.append(r); b_ub.append(p[i])
        r = np.zeros(nv); r[i] = -1; r[nc + blk[i]] = -abs(p[i]); A_ub.append(r); b_ub.append(-p[i])
    bounds = [(0, None) if pi > 0 else (None, 0) if pi < 0 else (0, 0) for pi in p] + [(0, None)] * 2
    c = np.zeros(nv); c[nc:] = 1
    s1 = linprog(c, A_ub=np.array(A_ub), b_ub=b_ub, A_eq=np.array(A_eq), b_eq=b_eq, bounds=bounds, method="highs")
    assert s1.status == 0
    rho = s1.x[nc:]
    # stage 2: variables [v (nc) | d+ (nc) | d- (nc)], v - d+ + d- = p, d+ + d- <= rho_b |p|
    nv = 3 * nc
    A_eq, b_eq = balance(nv)
    for i in range(nc):
        r = np.zeros(nv); r[i] = 1; r[nc + i] = -1; r[2 * nc + i] = 1; A_eq.append(r); b_eq.append(p[i])
    A_ub, b_ub = [], []
    for i in range(nc):
        r = np.zeros(nv); r[nc + i] = 1; r[2 * nc + i] = 1; A_ub.append(r)
        b_ub.append((rho[blk[i]] * (1 + 1e-6) + 1e-9) * abs(p[i]))
    c = np.r_[np.zeros(nc), np.ones(2 * nc)]
    s2 = linprog(c, A_ub=np.array(A_ub), b_ub=b_ub, A_eq=np.array(A_eq), b_eq=b_eq,
                 bounds=bounds[:nc] + [(0, None)] * (2 * nc), method="highs")
    assert s2.status == 0
    return rho, s2.fun


def test_rho_scope_blocks_matches_hand_lp():
    t0 = worked_example()
    x, V = _info(t0)
    kw = dict(totals=x, known_cells={"V": V})
    res = anais(t0, rho_scope="blocks", **kw)
    rho, total_dev = _blocks_by_hand(t0, x, V)
    assert res.rho_blocks["Z"] + res.rho_blocks["FD"] == pytest.approx(rho.sum(), abs=1e-7)
    assert res.rho_blocks["VA"] == 0.0                      # every V cell is known: nothing to bound
    assert res.rho == pytest.approx(max(res.rho_blocks.values()))
    assert res.objective == pytest.approx(total_dev, rel=1e-6, abs=1e-6)
    T = res.table
    relZ = np.abs(T.Z - t0.Z) / t0.Z
    F0 = np.hstack([t0.Y, t0.exports[:, None]])
    F1 = np.hstack([T.Y, T.exports[:, None]])
    relF = np.abs(F1 - F0)[F0 != 0] / np.abs(F0[F0 != 0])
    assert relZ.max() <= res.rho_blocks["Z"] * (1 + 1e-6) + 1e-6     # the post-check's tolerance (§4.5)
    assert relF.max() <= res.rho_blocks["FD"] * (1 + 1e-6) + 1e-6
    assert np.allclose(T.Z.sum(1) + T.Y.sum(1) + T.exports, x) and np.allclose(T.Z.sum(0) + T.V.sum(0), x)
    # the doubled final demand sets rho_FD; the bound on Z is far below the one shared rho of the default
    # and no below the Z-only optimum (rho_scope="Z" minimises rho_Z alone)
    assert res.rho_blocks["FD"] > res.rho_blocks["Z"]
    assert anais(t0, rho_scope="Z", **kw).rho - 1e-7 <= res.rho_blocks["Z"] < anais(t0, **kw).rho


def test_rho_scope_blocks_soft_aggregate_in_its_block():
    """A soft aggregate over final-demand cells is bounded by rho_FD, not rho_Z."""
    from xlmrio.update import Aggregate

    t0 = worked_example()
    x, V = _info(t0)
    lab = t0.labels()
    fd = [("Y", lab[0], (t0.regions[0], t0.fd_categories[0]))]
    val = float(t0.Y[0, 0]) * 1.5
    res = anais(t0, rho_scope="blocks", totals=x, known_cells={"V": V},
                aggregates=[Aggregate("FD soft", fd, val, soft=True)])
    assert res.soft["r"].iloc[0] <= res.rho_blocks["FD"] * (1 + 1e-6) + 1e-6
    from xlmrio.core.anais import build_problem

    P = build_problem(t0, rho_scope="blocks", totals=x, known_cells={"V": V},
                      aggregates=[Aggregate("FD soft", fd, val, soft=True),
                                  Aggregate("mixed", fd + [("Z", lab[0], lab[1])], val, soft=True)])
    assert P.soft_rho().tolist() == [1, 0]                   # FD members -> rho_FD; members in two blocks -> rho_Z
