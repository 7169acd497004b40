"""Each validation finding and error type, triggered by a purpose-made bad table; messages name labels."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import xlmrio
from xlmrio import errors
from xlmrio.core.table import MRIOTable
from conftest import E0, G0, V0, X0, Y0, Z0, worked_example

KW = dict(regions=["R1", "R2"], sectors=["M", "S"], fd_categories=["FD"])


def test_shape_mismatch_names_block():
    with pytest.raises(errors.ShapeError, match=r"Y has shape \(4, 3\)"):
        MRIOTable.from_arrays(Z0, np.ones((4, 3)), **KW)
    with pytest.raises(errors.ShapeError, match="Z has shape"):
        MRIOTable.from_arrays(Z0[:3], Y0, **KW)


def test_duplicate_and_missing_labels():
    with pytest.raises(errors.LabelError, match="duplicated region label 'R1'"):
        MRIOTable.from_arrays(Z0, Y0, regions=["R1", "R1"], sectors=["M", "S"], fd_categories=["FD"])
    with pytest.raises(errors.LabelError, match="sectors labels are missing"):
        MRIOTable.from_arrays(Z0, Y0, regions=["R1", "R2"], sectors=None, fd_categories=["FD"])


def test_nan_names_cell():
    Z = Z0.copy()
    Z[2, 1] = np.nan
    with pytest.raises(errors.NonFiniteError, match=r"row R2\|M, column R1\|S"):
        MRIOTable.from_arrays(Z, Y0, **KW)
    Y = Y0.copy()
    Y[3, 1] = np.inf
    with pytest.raises(errors.NonFiniteError, match=r"row R2\|S, column R2\|FD"):
        MRIOTable.from_arrays(Z0, Y, **KW)


def test_negative_z():
    Z = Z0.copy()
    Z[1, 3] = -2
    with pytest.raises(errors.NegativeFlowError, match=r"row R1\|S, column R2\|S") as ei:
        MRIOTable.from_arrays(Z, Y0, **KW)
    assert not ei.value.report.ok
    assert ei.value.report.errors[0].residual == -2


def test_orphan_emissions():
    Z = Z0.copy()
    Z[3, :] = 0
    Y = Y0.copy()
    Y[3, :] = 0
    Z[:, 3] = 0
    with pytest.raises(errors.OrphanEmissionsError, match=r"R2\|S"):
        MRIOTable.from_arrays(Z, Y, **KW, satellites={"CO2": (G0, "t")})


def test_non_productive():
    # every unit of output needs 1.5 units of inputs: A column sums > 1, L would be negative
    Z = np.array([[15.0, 0, 0, 0], [0, 15, 0, 0], [0, 0, 15, 0], [0, 0, 0, 15]])
    t = MRIOTable.from_arrays(Z, Y0, **KW, x=[10, 10, 10, 10])
    rep = t.validate(raise_on_error=False)
    assert any("column sums of A are >= 1" in f.what for f in rep.warnings)
    with pytest.raises(errors.NonProductiveError, match="non-productive"):
        xlmrio.leontief(t)
    with pytest.raises(errors.NonProductiveError):
        xlmrio.accounts(t.replace(satellites={"CO2": (G0, "t")}))


@pytest.mark.filterwarnings("ignore::scipy.linalg.LinAlgWarning")
def test_singular():
    Z = np.array([[10.0, 0, 0, 0], [0, 5, 0, 0], [0, 0, 5, 0], [0, 0, 0, 5]])
    t = MRIOTable.from_arrays(Z, Y0, **KW, x=[10, 10, 10, 10])  # A[0,0] = 1
    with pytest.raises(errors.NonProductiveError, match=r"singular.*R1\|M"):
        xlmrio.leontief(t)


def test_balance_residuals_reported_with_worst_rows():
    x = X0.copy()
    x[2] += 0.5
    t = worked_example(x=x)
    rep = t.validate()
    assert rep.ok
    bal = [f for f in rep.warnings if "row balance" in f.what]
    assert bal and "R2|M (-0.5)" in bal[0].what
    assert rep.max_row_residual == pytest.approx(0.5)
    # loosened tolerance: no finding, x kept as supplied
    assert not [f for f in t.validate(rtol=1e-2).warnings if "balance" in f.what]
    assert t.x[2] == 120.5
    with pytest.raises(errors.BalanceError, match="R2\\|M"):
        t.require_balanced()


def test_negative_value_added_warns():
    t = worked_example(V=np.array([[74, 58, 82, -1]]), x=None)
    rep = t.validate(raise_on_error=False)
    assert any("negative value added" in f.what and "R2|S" in f.where for f in rep.warnings)


def test_zero_output_info_and_zero_column():
    Z = Z0.copy()
    Z[3, :] = 0
    Z[:, 3] = 0
    Y = Y0.copy()
    Y[3, :] = 0
    t = MRIOTable.from_arrays(Z, Y, **KW, satellites={"CO2": (np.array([50, 8, 120, 0.0]), "t")})
    rep = t.validate()
    assert any("zero output" in f.what and "R2|S" in f.where for f in rep.findings)
    A = xlmrio.leontief(t).A.to_numpy()
    assert (A[:, 3] == 0).all()


def test_unknown_satellite_option_error(t0):
    with pytest.raises(errors.OptionError, match="unknown satellite 'NOx'; the table has: CO2"):
        xlmrio.accounts(t0, "NOx")


def test_immutable(t0):
    with pytest.raises(ValueError):
        t0.Z[0, 0] = 1
    with pytest.raises(Exception):
        t0.name = "x"


def test_from_frames_and_to_frames_round_trip(t0):
    fr = t0.to_frames()
    t = MRIOTable.from_frames(fr["Z"], fr["Y"], V=fr["V"], x=fr["x"], exports=fr["exports"],
                              satellites=fr["satellites"], units={"CO2": "t"}, monetary_unit="MU")
    np.testing.assert_array_equal(t.Z, t0.Z)
    np.testing.assert_array_equal(t.Y, t0.Y)
    np.testing.assert_array_equal(t.exports, E0)
    assert t.satellites["CO2"].unit == "t"
    bad = fr["Z"].copy()
    bad.columns = pd.MultiIndex.from_tuples([("R1", "M"), ("R1", "S"), ("R2", "S"), ("R2", "M")])
    with pytest.raises(errors.LabelError, match="Z columns"):
        MRIOTable.from_frames(bad, fr["Y"])


def test_x_derived_when_missing():
    t = MRIOTable.from_arrays(Z0, Y0, **KW, exports=E0)
    np.testing.assert_allclose(t.x, X0)
    np.testing.assert_allclose(t.V[0], V0)
    assert t.va_rows == ("Value added",)
