"""KRAS on real year pairs (issue #14): with margins only it equals RAS (OECD CHN 2010->2015, NBS
2017->2018); the grouped-regions bench
information is met exactly and the result beats keep-A on the group's cells.  Skips without
../shared/data (or $XLMRIO_SHARED_DATA)."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest

from xlmrio.core import ras as R
from xlmrio.core.kras import kras

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("XLMRIO_SHARED_DATA") or REPO.parent / "shared" / "data")
if not (DATA / "ionet_china_oecd_io").is_dir():
    pytest.skip(f"shared data not found at {DATA} (needed for the real year pairs)", allow_module_level=True)

sys.path.insert(0, str(REPO / "bench"))
import bench_update_accuracy as acc  # noqa: E402
import bench_update_grouped as grp  # noqa: E402

pytestmark = pytest.mark.shared_data


def _load(key):
    mp = pytest.MonkeyPatch()
    mp.setenv("XLMRIO_SHARED_DATA", str(DATA))
    try:
        return next(p for p in acc.PAIRS if p.key == key).load()
    finally:
        mp.undo()


@pytest.mark.parametrize("key", ["oecd-chn-10-15", "nbs-17-18"])
def test_margins_only_equals_ras(key):
    prior, true = _load(key)
    known = {"Y": true.Y, "V": true.V}
    for name in ("exports", "other"):
        if getattr(prior, name) is not None:
            known[name] = getattr(true, name)
    res = kras(prior, totals=true.x, known_cells=known)
    F = acc.fd_matrix(true)
    Zr = R.ras(np.asarray(prior.Z), true.x - F.sum(1), true.x - true.V.sum(0)).Z
    assert np.abs(res.table.Z - Zr).max() <= 1e-7 * Zr.max()
    assert len(res.seeded) == 0


def test_grouped_information_is_met_and_beats_keep_a():
    prior, true = grp._demo()
    group = ("EU", "OHI")
    info = grp.grouped_information(prior, true, group)
    res = kras(prior, **info)
    T = res.table
    Zid, _Fid, _Vid, xid = grp.group_partition(prior, group)
    for ids, est, tru in ((Zid, T.Z, true.Z), (xid, T.x, true.x)):
        m = ids >= 0
        n = ids.max() + 1
        assert np.allclose(np.bincount(ids[m], est[m], n), np.bincount(ids[m], tru[m], n),
                           rtol=1e-7, atol=1e-6 * true.x.max())
        assert np.allclose(est[~m], tru[~m], rtol=1e-9, atol=1e-9 * true.x.max())
    assert np.allclose(T.Z.sum(1) + T.Y.sum(1), T.x, rtol=1e-8) and np.allclose(T.Z.sum(0) + T.V.sum(0), T.x, rtol=1e-8)
    in_g = np.array([prior.regions[k // prior.n] in group for k in range(prior.N)])
    mask = in_g[:, None] | in_g[None, :]
    from xlmrio.core.leontief import coefficients
    from xlmrio.update import compare

    _, x_split = grp.proportional_split(prior, true, group)
    keep = coefficients(prior.Z, prior.x) * x_split[None, :]
    assert compare(T.Z[mask], true.Z[mask])["wape"] < compare(keep[mask], true.Z[mask])["wape"]
