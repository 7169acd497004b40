"""Monte Carlo footprints and year series (#15): the core, its execution locally and on Dask, the errors."""
from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import xlmrio
import xlmrio.core.uncertainty as cu
from xlmrio.core.accounts import accounts
from xlmrio.core.efficiency import efficiency
from xlmrio.core.table import MRIOTable
from xlmrio.datasets import demo
from xlmrio.errors import OptionError, SchedulerError, XlmrioError
from xlmrio.uncertainty import monte_carlo, series
from conftest import worked_example


@pytest.fixture(scope="module")
def t2007():
    return demo(2007)


# ---------------------------------------------------------------------- deterministic limit
@pytest.mark.parametrize("basis", ["total", "domestic"])
def test_zero_rsd_reproduces_the_deterministic_accounts_exactly(t2007, basis):
    r = monte_carlo(t2007, "CO2", draws=3, rsd=0.0, basis=basis)
    a = accounts(t2007, "CO2", basis=basis)
    for d in range(3):
        assert_array_equal(r.values[d, 0], a.pba.to_numpy())
        assert_array_equal(r.values[d, 1], a.cba.to_numpy()[: t2007.m])
        assert_array_equal(r.values[d, 2], a.nei.to_numpy())
    s = r.summary
    assert_array_equal(s[("pba", "p50")], a.pba.to_numpy())
    assert (s.xs("sd", axis=1, level="stat").abs() <= 1e-15 * a.pba.abs().max()).all().all()  # mean's rounding
    # the inefficient-flow share of every draw is the efficiency command's share
    assert_allclose(r.share_ineff, efficiency(t2007, "CO2", basis=basis).share_ineff, rtol=1e-12)
    assert (r.p_orientation["P(class holds)"] == 1).all()
    assert_array_equal(r.point["orientation"], a.summary()["orientation"])


def test_zero_rsd_with_exports_column_worked_example():
    t = worked_example()
    r = monte_carlo(t, draws=2, rsd={"Z": 0, "Y": 0, "satellite": 0})
    a = accounts(t)
    assert_array_equal(r.values[1, 1], a.cba.to_numpy()[:2])
    assert_array_equal(r.values[1, 2], a.nei.to_numpy())


# ---------------------------------------------------------------------- the perturbation
def test_lognormal_factor_has_mean_one_sd_rsd_and_keeps_signs_and_zeros():
    base = np.array([[2.0, -3.0, 0.0]])
    blk = cu._Block("Y", base, 0.3)
    rng = np.random.default_rng(7)
    draws = np.array([blk.draw(rng)[0] for _ in range(20000)])
    f = draws[:, :2] / base[0, :2]
    assert (draws[:, 0] > 0).all() and (draws[:, 1] < 0).all() and (draws[:, 2] == 0).all()
    # mean 1 and sd 0.3 of a log-normal factor; standard errors 0.3/sqrt(20000) ~ 0.002
    assert_allclose(f.mean(axis=0), 1.0, atol=0.01)
    assert_allclose(f.std(axis=0), 0.3, atol=0.01)


def test_default_rsd_follows_the_documented_power_law():
    v = np.array([0.0, 1.0, 10.0, 100.0, 1e4, 1e7])   # median of the non-zero values: 100
    r = cu.default_rsd(v)
    assert r[0] == 0
    assert_allclose(r[3], 0.10)                        # a median-sized cell: 10 %
    assert_allclose(r[2], 0.10 * 10 ** 0.3)            # 10x smaller: ~20 %
    assert_allclose(r[1], 0.10 * 100 ** 0.3)           # 100x smaller: ~40 %
    assert_allclose(r[4], 0.10 * 100 ** -0.3)          # 100x larger: ~2.5 %
    assert r[5] == 0.02                                # floor


def test_each_draw_equals_accounts_of_the_perturbed_table_built_independently(t2007):
    """Rebuild draw i by hand (same generator, same block order) as an MRIOTable and run accounts()/efficiency()."""
    rsd = {"Z": 0.2, "Y": 0.15, "satellite": 0.1}
    r = monte_carlo(t2007, "CO2", draws=3, rsd=rsd, seed=11, threads=1)
    t = t2007
    for i in range(3):
        rng = cu.draw_rng(11, i)
        N, mK = t.N, t.m * t.K

        def pert(a, s):
            a = np.asarray(a, float)
            out = a.copy().reshape(-1)
            nz = np.flatnonzero(out != 0)
            s2 = np.log1p(s * s)
            out[nz] *= np.exp(-s2 / 2 + np.sqrt(s2) * rng.standard_normal(nz.size))
            return out.reshape(a.shape)

        Z = pert(t.Z, 0.2)
        Y = pert(t.Y, 0.15)                         # the demo has no exports/other columns
        sat = pert(np.concatenate([t.satellites["CO2"].values, t.satellites["CO2"].hh]), 0.1)
        x = t.x + (Z.sum(axis=1) - t.Z.sum(axis=1)) + (Y.sum(axis=1) - t.Y.sum(axis=1))
        td = MRIOTable.from_arrays(Z, Y, regions=t.regions, sectors=t.sectors, fd_categories=t.fd_categories,
                                   x=x, satellites={"CO2": (sat[:N], "kt", sat[N:N + mK])})
        a = accounts(td, "CO2")
        assert_allclose(r.values[i, 0], a.pba, rtol=1e-10)
        assert_allclose(r.values[i, 1], a.cba.to_numpy()[: t.m], rtol=1e-10)
        assert_allclose(r.values[i, 2], a.nei, rtol=1e-9, atol=1e-6)
        assert_allclose(r.share_ineff[i], efficiency(td, "CO2").share_ineff, rtol=1e-10)


def test_ras_rebalancing_keeps_the_intermediate_totals(monkeypatch, t2007):
    seen = []
    real = cu.evaluate
    monkeypatch.setattr(cu, "evaluate", lambda plan, Z, Y, s, x: seen.append((Z, x)) or real(plan, Z, Y, s, x))
    monte_carlo(t2007, "CO2", draws=2, rsd={"Z": 0.3, "Y": 0.0, "satellite": 0.0}, rebalance="ras", threads=1)
    Z, x = seen[-1]
    assert not np.allclose(Z, t2007.Z)                 # the flows moved ...
    assert_allclose(Z.sum(axis=1), t2007.Z.sum(axis=1), rtol=1e-8)   # ... within the same totals
    assert_allclose(Z.sum(axis=0), t2007.Z.sum(axis=0), rtol=1e-8)
    assert_allclose(x, t2007.x, rtol=1e-8)


# ---------------------------------------------------------------------- summary and reproducibility
def test_summary_shape_intervals_cover_the_point_estimate(t2007):
    r = monte_carlo(t2007, "CO2", draws=120, seed=3)
    s = r.summary
    assert list(s.index) == list(t2007.regions)
    assert set(s.columns.get_level_values("measure")) == {"pba", "cba", "nei"}
    assert list(dict.fromkeys(s.columns.get_level_values("stat"))) == ["mean", "sd", "p2.5", "p50", "p97.5"]
    for meas in ("pba", "cba", "nei"):
        pt = r.point[meas]
        assert (s[(meas, "p2.5")] <= pt).all() and (pt <= s[(meas, "p97.5")]).all(), meas
        assert (s[(meas, "sd")] > 0).all()
        # the summary is the plain statistics of the kept per-draw values
        j = cu.MEASURES.index(meas)
        assert_allclose(s[(meas, "p50")], np.median(r.values[:, j, :], axis=0))
        assert_allclose(s[(meas, "sd")], np.std(r.values[:, j, :], axis=0, ddof=1))
    assert_allclose(r.p_net_exporter, (r.values[:, 0] > r.values[:, 1]).mean(axis=0))
    ss = r.share_summary
    assert ss["p2.5"] <= r.point_share <= ss["p97.5"]
    assert 0 < ss["sd"] < 0.1
    p = r.p_orientation
    assert_allclose(p["P(production)"] + p["P(consumption)"], 1.0)   # no balanced region in the demo
    # memory: only 3·m floats and one share per draw are kept
    assert r.values.shape == (120, 3, t2007.m) and r.share_ineff.shape == (120,)


def test_same_seed_same_draws_however_they_are_split(t2007):
    a = monte_carlo(t2007, "CO2", draws=10, seed=5, threads=1, chunk=10)
    b = monte_carlo(t2007, "CO2", draws=10, seed=5, threads=2, chunk=3)
    c = monte_carlo(t2007, "CO2", draws=12, seed=5, threads=2, chunk=4)
    assert_array_equal(a.values, b.values)
    assert_array_equal(a.values, c.values[:10])        # draw i does not depend on how many draws there are
    d = monte_carlo(t2007, "CO2", draws=10, seed=6, threads=1)
    assert not np.array_equal(a.values, d.values)


def test_progress_reports_every_draw(t2007):
    seen = []
    monte_carlo(t2007, "CO2", draws=6, chunk=2, threads=1, progress=lambda d, n, s: seen.append((d, n)))
    assert seen == [(2, 6), (4, 6), (6, 6)]


# ---------------------------------------------------------------------- Dask
def test_identical_summaries_locally_and_on_a_two_process_local_cluster(t2007):
    distributed = pytest.importorskip("distributed", reason="dask[distributed] is in the test extra")
    local = monte_carlo(t2007, "CO2", draws=8, seed=9)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=50) as cluster, distributed.Client(cluster) as client:
        remote = monte_carlo(t2007, "CO2", draws=8, seed=9, client=client, chunk=2)
        assert len(client.scheduler_info()["workers"]) == 2
        ser = series({2002: demo(2002), 2007: t2007}, "CO2", client=client)
    pd.testing.assert_frame_equal(local.summary, remote.summary, check_exact=True)
    assert_array_equal(local.values, remote.values)
    assert_array_equal(local.share_ineff, remote.share_ineff)
    pd.testing.assert_frame_equal(ser, series({2002: demo(2002), 2007: t2007}, "CO2"), check_exact=True)


# ---------------------------------------------------------------------- series
def test_series_over_the_demo_years_equals_two_accounts_calls(t2007):
    t2002 = demo(2002)
    df = series({2002: t2002, 2007: lambda: demo(2007)}, "CO2")
    assert list(df.columns) == ["year", "region", "measure", "value", "unit"]
    assert list(dict.fromkeys(df["year"])) == [2002, 2007]
    for year, t in ((2002, t2002), (2007, t2007)):
        a = accounts(t, "CO2")
        sub = df[df["year"] == year].pivot(index="region", columns="measure", values="value").reindex(t.regions)
        assert_array_equal(sub["pba"], a.pba.to_numpy())
        assert_array_equal(sub["cba"], a.cba.to_numpy()[: t.m])
        assert_array_equal(sub["nei_total"], a.nei_total.to_numpy())
        assert_array_equal(sub["nei_domestic"], a.nei_domestic.to_numpy())
        # identity: NEI (total) = embodied exports - embodied imports
        assert_allclose(sub["embodied_exports"] - sub["embodied_imports"], sub["nei_total"], rtol=1e-9,
                        atol=1e-6 * a.pba.abs().max())
        assert_allclose(sub["output"], t.x.reshape(t.m, t.n).sum(axis=1))
    assert set(df.loc[df["measure"] == "pba", "unit"]) == {"kt CO2"}


def test_series_accepts_pairs_and_the_top_level_names():
    t = worked_example()
    df = xlmrio.series([("a", t), ("b", t)])
    assert list(dict.fromkeys(df["year"])) == ["a", "b"]
    assert xlmrio.monte_carlo is monte_carlo


def test_series_with_the_wiod_loader_equals_accounts():
    from conftest import shared_data
    from functools import partial

    shared_data("wiod2013_bquast")
    shared_data("jrc_wiod_co2_2000_2016")
    df = series({2005: partial(xlmrio.datasets.wiod, 2005, co2=True)}, "CO2", threads=1)
    a = accounts(xlmrio.datasets.wiod(2005, co2=True), "CO2")
    pba = df[df["measure"] == "pba"].set_index("region")["value"].reindex(a.pba.index)
    assert_array_equal(pba, a.pba.to_numpy())


# ---------------------------------------------------------------------- errors
@pytest.mark.parametrize("rsd", [-0.1, {"Z": -1.0}, {"Z": np.full((136, 136), -0.2)}, float("nan")])
def test_negative_rsd_is_a_clear_error(t2007, rsd):
    with pytest.raises(OptionError, match="rsd"):
        monte_carlo(t2007, "CO2", draws=4, rsd=rsd)


@pytest.mark.parametrize("draws", [1, 0, -5, 2.5, True])
def test_fewer_than_two_draws_is_a_clear_error(t2007, draws):
    with pytest.raises(OptionError, match="draws must be a whole number >= 2"):
        monte_carlo(t2007, "CO2", draws=draws)


def test_other_bad_options(t2007):
    with pytest.raises(OptionError, match="unknown block"):
        monte_carlo(t2007, "CO2", draws=2, rsd={"V": 0.1})
    with pytest.raises(OptionError, match="shape"):
        monte_carlo(t2007, "CO2", draws=2, rsd={"Z": np.ones(3)})
    with pytest.raises(OptionError, match="rebalance"):
        monte_carlo(t2007, "CO2", draws=2, rebalance="gras!")
    with pytest.raises(OptionError, match="seed"):
        monte_carlo(t2007, "CO2", draws=2, seed=-1)
    with pytest.raises(OptionError, match="client"):
        monte_carlo(t2007, "CO2", draws=2, client=42)
    with pytest.raises(OptionError, match="at least one table"):
        series({})


def test_unreachable_scheduler_fails_fast_naming_the_address(t2007):
    pytest.importorskip("distributed", reason="dask[distributed] is in the test extra")
    t0 = time.perf_counter()
    with pytest.raises(SchedulerError, match=r"tcp://127\.0\.0\.1:9.*within 1 s") as exc:
        monte_carlo(t2007, "CO2", draws=4, client="tcp://127.0.0.1:9", timeout=1)
    assert time.perf_counter() - t0 < 8
    assert isinstance(exc.value, XlmrioError)
    with pytest.raises(SchedulerError, match="tcp://127.0.0.1:9"):
        series({2007: t2007}, "CO2", client="tcp://127.0.0.1:9", timeout=1)


def test_runs_without_threads_as_under_pyodide(monkeypatch, t2007):
    """xlwings Lite (Pyodide) has no threads: the draws then run in the calling thread, same numbers."""
    import xlmrio.uncertainty as xu

    ref = monte_carlo(t2007, "CO2", draws=4, seed=5, threads=2, chunk=1)

    def no_threads(*a, **k):
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr(xu.sys, "platform", "emscripten")
    monkeypatch.setattr(xu, "ThreadPoolExecutor", no_threads)
    r = monte_carlo(t2007, "CO2", draws=4, seed=5, threads=2, chunk=1)
    assert_array_equal(r.values, ref.values)


def test_local_runs_never_import_dask():
    """The core, the add-in's commands and local runs work without Dask (xlwings Lite has none)."""
    import subprocess
    import sys

    code = ("import sys, xlmrio, xlmrio.excel.commands\n"
            "r = xlmrio.uncertainty.monte_carlo(xlmrio.datasets.demo(2007), 'CO2', draws=2)\n"
            "xlmrio.series({1: xlmrio.datasets.demo(2002)}, 'CO2')\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
