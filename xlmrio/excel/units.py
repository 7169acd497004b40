"""Display units: show emissions in t/kt/Mt/Gt and money in thousand/million/billion/trillion units.

Only what a result sheet shows is rescaled (tables and chart data alike); the computation always runs in the
table's own units. Intensities, multipliers and coefficients (ratios of two units) are never rescaled.
"""
from __future__ import annotations

EMISSION_SCALES = {"t": 1.0, "kt": 1e3, "Mt": 1e6, "Gt": 1e9}
MONEY_SCALES = {"thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12}
AS_TABLE = "as table"


class Scale:
    """Rescale values from one unit to another by an exact power-of-ten ratio.

    ``Scale(1000.0, "Mt CO2", divide=True)`` divides by 1000, so values in Mt are exactly the values in kt
    divided by 1000 (no rounding from multiplying by 0.001).
    """

    def __init__(self, ratio: float = 1.0, unit: str = "", divide: bool = False):
        self.ratio, self.unit, self.divide = ratio, unit, divide

    def __call__(self, values):
        """*values* (number, array, Series or DataFrame) in the display unit."""
        if self.ratio == 1.0:
            return values
        return values / self.ratio if self.divide else values * self.ratio

    @property
    def identity(self) -> bool:
        return self.ratio == 1.0


def _split(unit: str, table: dict, numbers: bool) -> tuple[float, str] | None:
    """(size of the unit's leading magnitude word or number, the rest) or None."""
    head, _, rest = unit.strip().partition(" ")
    if head in table:
        return table[head], rest
    if not numbers:
        return None
    try:
        size = float(head)
    except ValueError:
        return None
    return (size, rest) if size > 0 and rest else None


def display_scale(unit: str, target: str, kind: str) -> Scale:
    """The :class:`Scale` from *unit* (e.g. ``"kt CO2"``, ``"million USD"``, ``"1e4 CNY"``) to *target*
    (``"Mt"``, ``"billion"`` …; ``"as table"`` or empty: no change).

    Parameters
    ----------
    unit : str
        The unit of the values as the table states it.
    target : str
        A key of :data:`EMISSION_SCALES` (*kind* ``"emissions"``) or :data:`MONEY_SCALES` (``"money"``).
    kind : str
        ``"emissions"`` or ``"money"``.

    Raises
    ------
    ValueError
        When *unit* does not start with a magnitude this can convert (the message says what it needs).
    """
    if not target or target == AS_TABLE:
        return Scale(1.0, unit)
    table = EMISSION_SCALES if kind == "emissions" else MONEY_SCALES
    parsed = _split(unit, table, numbers=kind == "money")
    if parsed is None:
        need = "t, kt, Mt or Gt" if kind == "emissions" else "a number or thousand/million/billion/trillion"
        raise ValueError(f"cannot show {kind} in {target}: the unit {unit!r} must start with {need}")
    size, rest = parsed
    new_unit = f"{target} {rest}".strip()
    to = table[target]
    if to >= size:
        return Scale(to / size, new_unit, divide=True)
    return Scale(size / to, new_unit, divide=False)
