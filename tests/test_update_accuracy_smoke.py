"""Smoke test of bench/bench_update_accuracy.py on one real year pair (OECD CHN 2010 -> 2015).

Checks the bench's table readers against the published totals, that every method returns a
finite score, that RAS and whole-table GRAS reproduce the information they were given, that
ANAIS honours its constraints, and that RAS (which is told the true intermediate margins)
beats "keep the year-t coefficients" (told only x) on this pair.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
OECD_DIR = DATA / "ionet_china_oecd_io" / "csv" / "oecd2021"

if not OECD_DIR.is_dir():
    pytest.skip(f"shared data not found at {OECD_DIR} (needed for the real year pair)", allow_module_level=True)

sys.path.insert(0, str(REPO / "bench"))
import bench_update_accuracy as bench  # noqa: E402


@pytest.fixture(scope="module")
def pair():
    mp = pytest.MonkeyPatch()
    mp.setenv("XLMRIO_SHARED_DATA", str(DATA))
    p = next(p for p in bench.PAIRS if p.key == "oecd-chn-10-15")
    prior, true = p.load()
    mp.undo()
    return p, prior, true


def test_oecd_reader_matches_published_totals(pair):
    _, prior, _ = pair
    raw = pd.read_csv(OECD_DIR / "OECD21ed_CHN_2010.csv", dtype={"Code": str}).set_index("Code")
    ind = [f"{i:02d}" for i in range(1, 45)]
    published_x = raw.loc["OUTPUT", ind].to_numpy(float)
    assert np.abs(prior.x - published_x).max() <= 1.0           # SOURCE.md: residuals <= 0.8
    assert np.abs(prior.V[1] - raw.loc["VALU", ind].to_numpy(float)).max() <= 3.5  # <= 3.2 published
    # GDP identity of the national table: sum of primary inputs = sum of final demand (net of imports)
    assert prior.V.sum() == pytest.approx(prior.y.sum(), rel=1e-9)
    assert prior.validate().ok


@pytest.mark.parametrize("kind", ["margins", "table"])
def test_every_method_scores_finite_and_meets_its_information(pair, kind):
    _, prior, true = pair
    info = bench.make_info(true, kind)
    L_true = bench.leontief_L(true.Z, true.x)
    wape = {}
    for meth in bench.METHODS[kind]:
        est = bench.estimate(meth, prior, info)
        s = bench.score(est, true, L_true)
        assert np.isfinite(s["wape_Z"]) and np.isfinite(s["wape_L"]) and np.isfinite(s["max_rel_Z"]), meth
        wape[meth] = s
        Z = est["Z"]
        if meth == "ras":
            np.testing.assert_allclose(Z.sum(axis=1), true.Z.sum(axis=1), rtol=1e-8)
            np.testing.assert_allclose(Z.sum(axis=0), true.Z.sum(axis=0), rtol=1e-8)
            assert np.all(Z[prior.Z == 0] == 0)
        if meth == "gras_table":
            t = est["table"]
            np.testing.assert_allclose(t.Z.sum(axis=1) + t.y, true.x, rtol=1e-8)
            np.testing.assert_allclose(t.Z.sum(axis=0) + t.V.sum(axis=0), true.x, rtol=1e-8)
            np.testing.assert_allclose(bench.fd_matrix(t).sum(axis=0), bench.fd_matrix(true).sum(axis=0),
                                       rtol=1e-8, atol=1e-6 * true.x.max())
            np.testing.assert_allclose(t.V.sum(axis=1), true.V.sum(axis=1), rtol=1e-8)
        if meth.startswith("anais"):
            t = est["table"]
            np.testing.assert_allclose(t.x, true.x, rtol=1e-9)
            tol = 1e-6 * true.x.max()
            np.testing.assert_allclose(t.Z.sum(axis=1) + t.y, t.x, atol=tol)
            np.testing.assert_allclose(t.Z.sum(axis=0) + t.V.sum(axis=0), t.x, atol=tol)
            if kind == "margins" and meth != "anais_soft":  # hard FD row sums imply the true Z row sums
                np.testing.assert_allclose(Z.sum(axis=1), true.Z.sum(axis=1), atol=tol)
                np.testing.assert_allclose(Z.sum(axis=0), true.Z.sum(axis=0), atol=tol)
        if meth == "keep":
            np.testing.assert_allclose(Z / true.x[None, :], prior.Z / prior.x[None, :], rtol=1e-12, atol=1e-15)
    if kind == "margins":
        # more information should help here: RAS knows u and v, "keep A_t" only x (25.9 % vs 21.2 %)
        assert wape["ras"]["wape_Z"] < wape["keep"]["wape_Z"]
        assert wape["ras"]["wape_L"] < wape["keep"]["wape_L"]


def test_noise_is_applied_and_made_consistent(pair):
    _, _, true = pair
    rng = np.random.default_rng(1)
    info = bench.make_info(true, "margins", 0.05, rng)
    u0 = true.Z.sum(axis=1)
    dev = info.u / u0 - 1
    assert 0 < np.abs(dev).max() <= 0.05 + 1e-12
    assert info.u.sum() == pytest.approx(info.v.sum(), rel=1e-12)
    tinfo = bench.make_info(true, "table", 0.05, rng)
    assert tinfo.va.sum() == pytest.approx(tinfo.fd.sum(), rel=1e-12)


def test_markdown_tables_render(pair):
    rows = [dict(pair="oecd-chn-10-15", label="OECD", info="margins", noise=0.0, method=m, draws=1, failed=0,
                 error=None, wape_Z=1.0, wape_L=0.5, max_rel_Z=2.0, max_rel_L=0.1, seconds=0.0, rho=np.nan,
                 fallback=0) for m in bench.METHODS["margins"]]
    md = bench.tables_markdown(rows)
    assert "| OECD | exact | 1.00 / 0.50 |" in md


def test_highs_stage2_false_infeasibility_is_retried():
    """OECD JPN 2010 -> 2015 with the true margins: HiGHS' presolve declared the (feasible) stage-2
    LP infeasible; anais() now confirms without presolve and must agree with CBC."""
    from xlmrio.update import anais

    mp = pytest.MonkeyPatch()
    mp.setenv("XLMRIO_SHARED_DATA", str(DATA))
    prior, true = next(p for p in bench.PAIRS if p.key == "oecd-jpn-10-15").load()
    mp.undo()
    kw = bench.anais_information(prior, bench.make_info(true, "margins"))
    highs = anais(prior, solver="highs-ipm", **kw)
    cbc = anais(prior, solver="pulp", **kw)
    assert highs.rho == pytest.approx(cbc.rho, rel=1e-6)
    assert highs.objective == pytest.approx(cbc.objective, rel=1e-6)
