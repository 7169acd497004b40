"""Many-table runs: Monte Carlo footprints (:func:`monte_carlo`) and year series (:func:`series`).

Both run locally on threads by default (numpy/LAPACK release the GIL; in one thread under xlwings Lite's
Pyodide, which has none) or on a Dask cluster:
``client=`` takes a ``dask.distributed.Client`` or a scheduler address ``"tcp://host:port"``.
Dask is optional (``pip install "xlmrio[dask]"``) and imported only when a client is used. See
docs/dask.md for a LocalCluster, ``dask scheduler`` + ``dask worker`` by hand, and dask-jobqueue.

The maths is in :mod:`xlmrio.core.uncertainty` (perturbation, one draw, the summary) and
:mod:`xlmrio.core.series`.
"""
from __future__ import annotations

import math
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Callable, Iterable, Mapping

import numpy as np
import pandas as pd

from .core.series import table_measures
from .core.table import MRIOTable
from .core.uncertainty import MonteCarloResult, default_rsd, evaluate, make_plan, run_draws
from .errors import OptionError, SchedulerError

__all__ = ["monte_carlo", "series", "MonteCarloResult", "default_rsd", "connect", "SCHEDULER_TIMEOUT"]

#: seconds to wait for a Dask scheduler named by address before giving up
SCHEDULER_TIMEOUT = 10.0

Progress = Callable[[int, int, float], None]  # (done, total, seconds elapsed)


# ---------------------------------------------------------------------- execution
def connect(client, timeout: float | None = None):
    """``(client, owned)`` for *client*: None (run locally), a ``distributed.Client``, or an address.

    An address is connected with *timeout* seconds; an unreachable one raises
    :class:`~xlmrio.errors.SchedulerError` naming it. ``owned`` is True when the client was made here
    (and must be closed by the caller).
    """
    if client is None or (isinstance(client, str) and not client.strip()):
        return None, False
    if not isinstance(client, str):
        if not hasattr(client, "submit"):
            raise OptionError(f"client must be a dask.distributed.Client or a scheduler address, not {client!r}")
        return client, False
    address = client.strip()
    timeout = SCHEDULER_TIMEOUT if timeout is None else float(timeout)
    try:
        from distributed import Client
    except ImportError:
        raise OptionError(f"running on the Dask scheduler {address!r} needs Dask: pip install \"xlmrio[dask]\"") \
            from None
    try:
        return Client(address, timeout=f"{timeout}s", set_as_default=False), True
    except Exception as exc:  # noqa: BLE001 - OSError/TimeoutError/ValueError: all mean "cannot use it"
        why = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise SchedulerError(f"cannot reach the Dask scheduler at {address!r} within {timeout:g} s "
                             f"({why}); start it with 'dask scheduler' or clear the scheduler setting "
                             "to run locally") from None


def _workers(client) -> int:
    if client is None:
        return max(1, os.cpu_count() or 1)
    try:
        return max(1, sum(w.get("nthreads", 1) for w in client.scheduler_info()["workers"].values()))
    except Exception:  # noqa: BLE001
        return 1


def _map(func, items: list, *, client, threads: int | None = None, shared=None, scatter: bool = False):
    """Yield ``func(shared, item)`` for every item as it completes (threads, or Dask tasks; with
    *scatter* the shared object is sent to every worker once, not with every task)."""
    if client is None:
        n = max(1, min(threads or _workers(None), len(items)))
        if n == 1 or sys.platform == "emscripten":   # one thread, or Pyodide (xlwings Lite) which has none
            for it in items:
                yield func(shared, it)
            return
        with ThreadPoolExecutor(max_workers=n) as ex:
            futs = [ex.submit(func, shared, it) for it in items]
            for f in as_completed(futs):
                yield f.result()
        return
    from distributed import as_completed as das_completed

    if scatter:
        shared = client.scatter(shared, broadcast=True)
    futs = [client.submit(func, shared, it, pure=False) for it in items]
    try:
        for f in das_completed(futs):
            yield f.result()
    finally:
        for f in futs:
            f.cancel()


def _chunk_draws(plan, seed_chunk):
    seed, chunk = seed_chunk
    return run_draws(plan, seed, chunk)


# ---------------------------------------------------------------------- Monte Carlo
def monte_carlo(table: MRIOTable, satellite: str | None = None, *, draws: int = 1000, rsd=None, seed: int = 0,
                client=None, rebalance: str = "none", basis: str = "total", threads: int | None = None,
                chunk: int | None = None, progress: Progress | None = None,
                timeout: float | None = None) -> MonteCarloResult:
    """Monte Carlo uncertainty of PBA, CBA, NEI, orientation and the inefficient-flow share.

    Parameters
    ----------
    table : MRIOTable
    satellite : str, optional
        Satellite name (may be omitted when the table has exactly one).
    draws : int
        Number of perturbed tables (>= 2).
    rsd : None, float, or mapping {"Z", "Y", "satellite"} -> float or array
        Relative standard deviations (dimensionless, >= 0; 0.1 = 10 %). ``None``: the size-dependent
        default of :func:`xlmrio.core.uncertainty.default_rsd` (after Lenzen et al. 2010).
    seed : int
        Seed (>= 0); draw ``i`` uses child ``i`` of ``SeedSequence(seed)``, so results are identical
        however the draws are split (threads, any number of Dask workers).
    client : None, dask.distributed.Client or str
        None: local threads. A client or a scheduler address ``"tcp://host:port"`` (connected with a
        :data:`SCHEDULER_TIMEOUT` s timeout): the draws run as Dask tasks.
    rebalance : {"none", "ras"}
        "none": x follows the perturbed rows. "ras": each perturbed Z is RAS-scaled back to the
        unperturbed intermediate row/column totals first (slower).
    basis : {"total", "domestic"}
        Basis of NEI and so of the orientation classes.
    threads : int, optional
        Local threads (default: the number of CPUs).
    chunk : int, optional
        Draws per task (default: about four tasks per worker thread).
    progress : callable, optional
        ``progress(draws_done, draws, seconds_elapsed)`` after every finished task.
    timeout : float, optional
        Seconds to wait for a scheduler given by address (default :data:`SCHEDULER_TIMEOUT`), then
        :class:`~xlmrio.errors.SchedulerError`.

    Returns
    -------
    MonteCarloResult
        ``.summary`` (region × (measure, stat)), ``.p_net_exporter``, ``.p_orientation``,
        ``.share_summary``; ``.values`` keeps 3·m floats per draw (PBA, CBA, NEI), nothing larger.
    """
    if isinstance(draws, bool) or not isinstance(draws, (int, np.integer)) or draws < 2:
        raise OptionError(f"draws must be a whole number >= 2, not {draws!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise OptionError(f"seed must be a whole number >= 0, not {seed!r}")
    if isinstance(rsd, (int, float)) and not isinstance(rsd, bool) and not (math.isfinite(rsd) and rsd >= 0):
        raise OptionError(f"rsd must be >= 0 (a relative standard deviation, e.g. 0.1 for 10 %), not {rsd!r}")
    name = table.satellite_name(satellite)
    plan = make_plan(table, name, rsd, rebalance=rebalance, basis=basis)
    pba, cba, nei, share0 = evaluate(plan, plan.Z.base, plan.Y.base, plan.sat.base, plan.x0)
    point = pd.DataFrame({"pba": pba, "cba": cba, "nei": nei}, index=pd.Index(table.regions, name="region"))
    client, owned = connect(client, timeout)
    try:
        nworkers = threads or _workers(client)
        size = chunk or max(1, math.ceil(draws / (4 * nworkers)))
        chunks = [(int(seed), range(a, min(a + size, draws))) for a in range(0, draws, size)]
        values = np.empty((draws, 3, table.m))
        share = np.empty(draws)
        done, t0 = 0, time.perf_counter()
        for idx, vals, sh in _map(_chunk_draws, chunks, client=client, threads=threads, shared=plan, scatter=True):
            values[idx], share[idx] = vals, sh
            done += idx.size
            if progress:
                progress(done, draws, time.perf_counter() - t0)
    finally:
        if owned:
            client.close()
    from .core.efficiency import orientation

    point["orientation"] = orientation(point["nei"], point["pba"]).to_numpy()
    return MonteCarloResult(
        satellite=name, unit=table.satellites[name].unit, regions=list(table.regions), draws=int(draws),
        seed=int(seed), point=point, values=values, share_ineff=share, point_share=share0,
        rsd={"Z": plan.Z.mean_rsd, "Y": plan.Y.mean_rsd, "satellite": plan.sat.mean_rsd},
        rebalance=plan.rebalance, basis=basis)


# ---------------------------------------------------------------------- year series
def _one_table(satellite, item):
    year, spec = item
    table = spec() if callable(spec) else spec
    if not isinstance(table, MRIOTable):
        raise OptionError(f"series: the table for {year!r} is a {type(table).__name__}, not an MRIOTable")
    df = table_measures(table, satellite)
    df.insert(0, "year", year)
    return df


def series(tables: Mapping | Iterable, satellite: str | None = None, *, client=None,
           threads: int | None = None, progress: Progress | None = None,
           timeout: float | None = None) -> pd.DataFrame:
    """Accounts and embodied flows of many tables (e.g. years) as one tidy frame.

    Parameters
    ----------
    tables : mapping or iterable of (key, table)
        ``{year: MRIOTable}``, or ``{year: loader}`` with a loader a zero-argument callable returning
        an MRIOTable (run where the task runs, e.g. ``functools.partial(xlmrio.datasets.wiod, 2005,
        co2=True)``), or pairs ``(year, table_or_loader)``.
    satellite : str, optional
        Satellite name (may be omitted when each table has exactly one).
    client : None, dask.distributed.Client or str
        As in :func:`monte_carlo`: one task per table.
    threads : int, optional
        Local threads (default: the number of CPUs, at most the number of tables).
    progress : callable, optional
        ``progress(tables_done, tables, seconds_elapsed)``.
    timeout : float
        As in :func:`monte_carlo`.

    Returns
    -------
    DataFrame
        Columns ``year, region, measure, value, unit`` (measures of
        :data:`xlmrio.core.series.MEASURES`), sorted by year in the given order, then region, measure.
    """
    items = list(tables.items()) if isinstance(tables, Mapping) else [tuple(p) for p in tables]
    if not items:
        raise OptionError("series needs at least one table")
    keys = [k for k, _ in items]
    if len(set(keys)) != len(keys):
        raise OptionError(f"series: repeated table keys {sorted({k for k in keys if keys.count(k) > 1})}")
    client, owned = connect(client, timeout)
    parts: dict = {}
    try:
        t0 = time.perf_counter()
        for df in _map(_one_table, items, client=client, threads=threads, shared=satellite):
            parts[df["year"].iloc[0]] = df
            if progress:
                progress(len(parts), len(items), time.perf_counter() - t0)
    finally:
        if owned:
            client.close()
    return pd.concat([parts[k] for k in keys], ignore_index=True)


def series_wide(tidy: pd.DataFrame, measure: str) -> pd.DataFrame:
    """One measure of a :func:`series` frame as year × region."""
    sub = tidy[tidy["measure"] == measure]
    years = list(dict.fromkeys(sub["year"]))
    regions = list(dict.fromkeys(sub["region"]))
    return sub.pivot(index="year", columns="region", values="value").reindex(index=years, columns=regions)

