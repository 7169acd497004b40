"""Interoperability with pymrio (optional extra ``xlmrio[pymrio]``).

pymrio's parsers read EXIOBASE, OECD ICIO, Eora, WIOD …; :func:`from_pymrio` brings such a system to
xlmrio, :func:`to_pymrio` goes back. pymrio is imported only inside these functions.
"""
from __future__ import annotations

from typing import Mapping

import numpy as np
import pandas as pd

from ..errors import OptionError, XlmrioError
from .table import MRIOTable


def _require_pymrio():
    try:
        import pymrio  # noqa: F401
    except ImportError:  # pragma: no cover - depends on the environment
        raise XlmrioError("pymrio is not installed: pip install 'xlmrio[pymrio]'") from None
    return pymrio


def _stressor_name(key) -> str:
    return " / ".join(map(str, key)) if isinstance(key, tuple) else str(key)


def from_pymrio(io, *, satellites: Mapping[str, str] | None = None, va_extension: str | None = "factor_inputs",
                monetary_unit: str | None = None, name: str | None = None) -> MRIOTable:
    """Build an :class:`MRIOTable` from a ``pymrio.IOSystem``.

    Parameters
    ----------
    io : pymrio.IOSystem
        Needs ``Z`` and ``Y``; ``x`` is used when present, else ``x = Z1 + Y1``.
    satellites : mapping, optional
        ``{xlmrio name: "<extension name>:<stressor>"}`` choosing the satellites; by default every
        stressor row of every extension except *va_extension*, named ``"<stressor>"`` (MultiIndex
        stressor keys are joined with ``" / "``) and prefixed by the extension name on clashes.
        Direct final-demand emissions (``F_Y``) become the satellite's ``hh`` vector.
    va_extension : str or None
        Extension whose ``F`` rows are the primary inputs ``V`` (pymrio's ``factor_inputs``). Missing:
        ``V`` is the balancing row.
    """
    _require_pymrio()
    if io.Z is None or io.Y is None:
        raise OptionError("the pymrio system needs Z and Y (call io.calc_system() or load it fully)")
    Z = io.Z
    Y = io.Y
    regions = list(dict.fromkeys(Z.index.get_level_values(0)))
    sectors = list(dict.fromkeys(Z.index.get_level_values(1)))
    cats = list(dict.fromkeys(Y.columns.get_level_values(1)))
    Y = Y.reindex(columns=pd.MultiIndex.from_product([regions, cats]), fill_value=0.0)
    x = None
    if getattr(io, "x", None) is not None:
        x = np.asarray(io.x).reshape(-1)
    V = va_rows = None
    sats: dict[str, tuple] = {}
    wanted = None if satellites is None else {v: k for k, v in satellites.items()}
    for attr in io.get_extensions():
        ext = getattr(io, attr)
        ename = attr
        F = ext.F
        if F is None:
            continue
        if va_extension is not None and va_extension in (attr, ext.name):
            V = F.reindex(columns=Z.index).to_numpy(float)
            va_rows = [_stressor_name(k) for k in F.index]
            continue
        units = ext.unit
        FY = getattr(ext, "F_Y", None)
        for key in F.index:
            sname = _stressor_name(key)
            full = f"{ename}:{sname}"
            if wanted is not None:
                if full not in wanted:
                    continue
                out = wanted[full]
            else:
                out = sname if sname not in sats else full
            unit = ""
            if units is not None and key in units.index:
                unit = str(units.loc[key].iloc[0])
            hh = None
            if FY is not None and key in FY.index:
                hh = FY.loc[key].reindex(pd.MultiIndex.from_product([regions, cats]), fill_value=0.0).to_numpy(float)
            sats[out] = (F.loc[key].reindex(Z.index).to_numpy(float), unit, hh)
    if wanted is not None:
        missing = [k for k in wanted if wanted[k] not in sats]
        if missing:
            raise OptionError(f"pymrio system has no stressor {missing[0]!r}")
    if monetary_unit is None:
        monetary_unit = ""
        if getattr(io, "unit", None) is not None and len(io.unit):
            monetary_unit = str(io.unit.iloc[0, 0])
    return MRIOTable.from_arrays(
        Z.to_numpy(float), Y.to_numpy(float), regions=regions, sectors=sectors, fd_categories=cats,
        V=V, va_rows=va_rows, x=x, satellites=sats, monetary_unit=monetary_unit,
        name=name if name is not None else str(getattr(io, "name", "") or ""),
    )


def to_pymrio(table: MRIOTable, *, extension_name: str = "satellites"):
    """Convert to a ``pymrio.IOSystem`` with ``Z, Y, x`` and one extension holding every satellite.

    ``V`` becomes the ``factor_inputs`` extension. pymrio has no exports vector: exports and "other"
    become final-demand categories ``"Exports"``/``"Other"`` of the *producing* region, so pymrio counts
    them in that region's footprint where xlmrio reports the pseudo-regions ``EXP``/``OTH``.
    """
    pymrio = _require_pymrio()
    idx = table.index
    Y = pd.DataFrame(table.Y, index=idx, columns=table.fd_index)
    for vec, cat in ((table.exports, "Exports"), (table.other, "Other")):
        if vec is None:
            continue
        for r in table.regions:
            col = np.where(idx.get_level_values(0) == r, vec, 0.0)
            Y[(r, cat)] = col
    cats = list(table.fd_categories) + [c for v, c in ((table.exports, "Exports"), (table.other, "Other"))
                                         if v is not None]
    Y = Y.reindex(columns=pd.MultiIndex.from_product([table.regions, cats], names=["region", "category"]))
    unit = pd.DataFrame({"unit": [table.monetary_unit] * table.N}, index=idx)
    io = pymrio.IOSystem(Z=pd.DataFrame(table.Z, index=idx, columns=idx), Y=Y,
                         x=pd.DataFrame({"indout": table.x}, index=idx), unit=unit, name=table.name or "xlmrio")
    fi = pymrio.Extension(name="factor_inputs", F=pd.DataFrame(table.V, index=pd.Index(table.va_rows,
                          name="inputtype"), columns=idx),
                          unit=pd.DataFrame({"unit": [table.monetary_unit] * len(table.va_rows)},
                                            index=pd.Index(table.va_rows, name="inputtype")))
    setattr(io, "factor_inputs", fi)
    if table.satellites:
        names = list(table.satellites)
        sidx = pd.Index(names, name="stressor")
        F = pd.DataFrame(np.array([s.values for s in table.satellites.values()]), index=sidx, columns=idx)
        FY = pd.DataFrame(0.0, index=sidx, columns=Y.columns)
        for k, s in table.satellites.items():
            if s.hh is not None:
                FY.loc[k, list(table.fd_index)] = s.hh
        ext = pymrio.Extension(name=extension_name, F=F, F_Y=FY,
                               unit=pd.DataFrame({"unit": [s.unit for s in table.satellites.values()]}, index=sidx))
        setattr(io, extension_name, ext)
    return io
