"""xlmrio — environmentally-extended multi-regional input-output (EE-MRIO) analysis for Excel.

The public Python API (pure numerical core, no Excel needed)::

    import xlmrio
    t = xlmrio.datasets.demo(2007)                 # an MRIOTable
    lr = xlmrio.leontief(t)                        # A, L, multipliers
    acc = xlmrio.accounts(t, "CO2")                # PBA, CBA, driver matrix T, NEI
    F = xlmrio.embodied_flows(t, "CO2")            # F = ê(L − I)x̂
    edges = xlmrio.top_flows(F, top_k=20)
    eff = xlmrio.efficiency(t, "CO2")
    small = xlmrio.aggregate(t, sector_map={...})
    tr = xlmrio.industrial_transfer(t0, t1, "CO2")
    upd = xlmrio.update.anais(prior, totals=...)

Every deliberate failure is an :class:`XlmrioError`.
"""
from __future__ import annotations

from importlib import import_module

__version__ = "0.1.0"

#: Public name -> module defining it; imported on first use, so ``import xlmrio`` (and ``xlmrio --help``)
#: does not pay for pandas, scipy... before a name is used.
_NAMES = {
    "AccountsResult": "xlmrio.core.accounts", "accounts": "xlmrio.core.accounts",
    "aggregate": "xlmrio.core.aggregation", "aggregate_result": "xlmrio.core.aggregation",
    "concordance_matrix": "xlmrio.core.aggregation", "noncompetitive": "xlmrio.core.aggregation",
    "EfficiencyResult": "xlmrio.core.efficiency", "correlation_table": "xlmrio.core.efficiency",
    "eco_compensation": "xlmrio.core.efficiency", "efficiency": "xlmrio.core.efficiency",
    "orientation": "xlmrio.core.efficiency",
    "aggregate_flows": "xlmrio.core.flows", "embodied_flows": "xlmrio.core.flows",
    "net_inflow_from_flows": "xlmrio.core.flows", "top_flows": "xlmrio.core.flows",
    "LeontiefResult": "xlmrio.core.leontief", "LeontiefSolver": "xlmrio.core.leontief",
    "coefficients": "xlmrio.core.leontief", "leontief": "xlmrio.core.leontief",
    "leontief_inverse": "xlmrio.core.leontief",
    "Finding": "xlmrio.core.table", "MRIOTable": "xlmrio.core.table", "Satellite": "xlmrio.core.table",
    "ValidationReport": "xlmrio.core.table",
    "XlmrioError": "xlmrio.errors",
    "industrial_transfer": "xlmrio.core.transfer",
}

__all__ = [
    "MRIOTable", "Satellite", "ValidationReport", "Finding", "XlmrioError",
    "leontief", "LeontiefResult", "LeontiefSolver", "coefficients", "leontief_inverse",
    "accounts", "AccountsResult", "embodied_flows", "aggregate_flows", "net_inflow_from_flows", "top_flows",
    "efficiency", "EfficiencyResult", "orientation", "eco_compensation", "correlation_table",
    "aggregate", "aggregate_result", "concordance_matrix", "noncompetitive",
    "industrial_transfer", "update", "datasets", "uncertainty", "monte_carlo", "series", "__version__",
]

_LAZY = {"update": "xlmrio.update", "datasets": "xlmrio.datasets", "errors": "xlmrio.errors",
         "uncertainty": "xlmrio.uncertainty"}
#: functions loaded on first use (Dask, when used at all, only when a client is given)
_LAZY_FUNCS = {"monte_carlo": "xlmrio.uncertainty", "series": "xlmrio.uncertainty"}


def __getattr__(name):  # lazy names and sub-modules keep `import xlmrio` light
    if name in _NAMES:
        value = getattr(import_module(_NAMES[name]), name)
        globals()[name] = value
        return value
    if name in _LAZY:
        return import_module(_LAZY[name])
    if name in _LAZY_FUNCS:
        return getattr(import_module(_LAZY_FUNCS[name]), name)
    raise AttributeError(f"module 'xlmrio' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
