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

from .core.accounts import AccountsResult, accounts
from .core.aggregation import aggregate, aggregate_result, concordance_matrix, noncompetitive
from .core.efficiency import EfficiencyResult, correlation_table, eco_compensation, efficiency, orientation
from .core.flows import aggregate_flows, embodied_flows, net_inflow_from_flows, top_flows
from .core.leontief import LeontiefResult, LeontiefSolver, coefficients, leontief, leontief_inverse
from .core.table import Finding, MRIOTable, Satellite, ValidationReport
from .errors import XlmrioError

__version__ = "0.1.0"

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


def __getattr__(name):  # lazy sub-modules keep `import xlmrio` light
    if name in _LAZY:
        return import_module(_LAZY[name])
    if name in _LAZY_FUNCS:
        return getattr(import_module(_LAZY_FUNCS[name]), name)
    if name == "industrial_transfer":
        return import_module("xlmrio.core.transfer").industrial_transfer
    raise AttributeError(f"module 'xlmrio' has no attribute {name!r}")
