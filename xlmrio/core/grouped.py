"""Regions known only as a group (METHODS §4.6, the seeds' city/province case): which group sum each cell
belongs to, and the one-line baseline that splits each sum by the prior's within-group shares."""
from __future__ import annotations

import numpy as np

from .table import MRIOTable


def group_ids(table: MRIOTable, group) -> dict[str, np.ndarray]:
    """Which group sum each cell of the grouped-regions information belongs to (METHODS §4.6).

    Every row and column of a member region of *group* is replaced by the group's row or column of the
    same sector (final-demand columns: of the same category); cells with the same pair of replaced labels
    form one sum.  Cells touching no member are known one by one (id -1).

    Parameters
    ----------
    table : MRIOTable
        Gives the labels (regions, sectors, final-demand categories, primary inputs).
    group : sequence of str
        Regions known only as a group.

    Returns
    -------
    dict
        ``"Z"`` (N, N), ``"F"`` (N, q) for the final-demand columns ``Y``, exports, other in that
        order, ``"V"`` (D, N) and ``"x"`` (N,): integer ids of the sums, -1 for a known cell.
    """
    N, n, K, m = table.N, table.n, table.K, table.m
    member = np.array([table.regions[k // n] in group for k in range(N)])
    row = np.where(member, np.arange(N) % n, N + np.arange(N))       # sector code, or the row itself
    q = m * K + (table.exports is not None) + (table.other is not None)
    fcol = np.array([j % K if j < m * K and table.regions[j // K] in group else K + j for j in range(q)])
    fmember = np.array([j < m * K and table.regions[j // K] in group for j in range(q)])
    ids: dict = {}

    def number(keys, touches):
        out = np.full(touches.shape, -1)
        for idx in zip(*np.nonzero(touches)):
            out[idx] = ids.setdefault(keys(*idx), len(ids))
        return out

    D = len(table.va_rows)
    return {"Z": number(lambda k, l: ("Z", row[k], row[l]), member[:, None] | member[None, :]),
            "F": number(lambda k, j: ("F", row[k], fcol[j]), member[:, None] | fmember[None, :]),
            "V": number(lambda d, l: ("V", d, row[l]), np.broadcast_to(member, (D, N))),
            "x": number(lambda k: ("x", row[k]), member)}


def split_by_prior(prior: np.ndarray, target: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Cells with id -1 from *target*; each group sum of *target* (cells sharing an id >= 0) split over its
    cells by the shares of *prior* (evenly where the prior's cells of the sum are all zero).

    All three arrays have the same shape; values in the tables' units.
    """
    out = np.where(ids < 0, target, 0.0)
    m = ids >= 0
    g, p = ids[m], prior[m]
    n = int(ids.max(initial=-1)) + 1
    psum = np.bincount(g, weights=p, minlength=n)[g]
    share = np.where(psum != 0, p / np.where(psum != 0, psum, 1.0), 1.0 / np.bincount(g, minlength=n)[g])
    out[m] = np.bincount(g, weights=target[m], minlength=n)[g] * share
    return out


def proportional_split(prior: MRIOTable, target: MRIOTable, group) -> tuple[np.ndarray, np.ndarray]:
    """The proportional split of the grouped-regions case (sheet Methods, §5.12): every cell and total output
    touching no member from *target*; each group sum of :func:`group_ids` split over its members by the
    prior's shares.

    Returns
    -------
    (Z, x)
        Intermediate flows (N, N) and total outputs (N,), money units of the tables.  Members' rows and
        columns do not balance in general.
    """
    ids = group_ids(prior, group)
    return split_by_prior(prior.Z, target.Z, ids["Z"]), split_by_prior(prior.x, target.x, ids["x"])
