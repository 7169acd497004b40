"""The command registry: one entry per analysis, shared by the ribbon, the CLI and the tests.

A command is a function ``func(book, **options)`` taking an ``xlwings.Book``. It reads its inputs
from the book, builds every result first, and only then writes result sheets (never the inputs).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from importlib import import_module
from typing import Any, Callable

from ..errors import OptionError

#: Ribbon groups, in the order they appear on the "MRIO" tab.
GROUPS = ("Table", "Accounts", "Update", "Transfer", "Settings/Help")


@dataclass(frozen=True)
class Command:
    """One registered command.

    Attributes
    ----------
    name : str
        Machine name, used by the CLI (``xlmrio run BOOK name``) and as the ribbon button tag.
    label : str
        Button label (short, title case).
    group : str
        Ribbon group, one of :data:`GROUPS`.
    help : str
        One-line description (CLI ``--help`` and ribbon screentip).
    image : str
        ``imageMso`` icon name for the ribbon button.
    func : callable
        ``func(book, **options)``.
    options : dict
        Option name -> one-line help, for the CLI and the settings sheet.
    """

    name: str
    label: str
    group: str
    help: str
    image: str
    func: Callable[..., Any]
    options: dict = field(default_factory=dict)


REGISTRY: dict[str, Command] = {}


#: Every command's metadata, in the ribbon's button order: name -> (module under
#: :mod:`xlmrio.excel.commands`, label, group, image, help). Declared here, not in the command
#: modules, so that listing the commands (``xlmrio --help``) imports neither them nor pandas.
CATALOGUE: dict[str, tuple[str, str, str, str, str]] = {
    "validate": ("validate", "Validate", "Table", "AcceptInvitation",
                 "Check the table: balance identities, labels, negative flows, orphan emissions"),
    "leontief": ("leontief", "Leontief", "Table", "FunctionWizard",
                 "Technical coefficients A, Leontief inverse L, output, VA and emission multipliers"),
    "accounts": ("accounts", "Accounts", "Accounts", "ChartTypeBarInsertGallery",
                 "Production- vs consumption-based emissions by region and sector, driver matrix, net embodied inflow"),
    "flows": ("flows", "Embodied flows", "Accounts", "DiagramRadialInsertClassic",
              "Embodied-emission flows F between regions and sectors, net inflow, top flows for network charts"),
    "efficiency": ("efficiency", "Efficiency", "Accounts", "ChartTrendline",
                   "Emission intensity, production/consumer orientation, inefficient supply-chain shares"),
    "aggregate": ("aggregate", "Aggregate", "Table", "GroupBy",
                  "Aggregate the table with sector/region concordance sheets into a new table sheet"),
    "transfer": ("transfer", "Transfer & leakage", "Transfer", "ArrowsMoreMenu",
                 "Industrial transfer, carbon transfer and carbon leakage between two table years (table_t0 -> table)"),
    "update": ("update", "Update table", "Update", "TableSharePointListsRefreshList",
               ("Update the prior table to target-year information (ANAIS, RAS, GRAS, KRAS or auto) from the "
                "Constraints sheet")),
    "uncertainty": ("uncertainty", "Uncertainty", "Accounts", "ChartErrorBars",
                    ("Monte Carlo intervals of PBA, CBA and NEI, probability of each region's production/consumption "
                     "class and of the inefficient-flow share (local threads or a Dask scheduler)")),
    "series": ("series", "Series", "Accounts", "ChartTypeLineInsertGallery",
               ("PBA, CBA, NEI and embodied trade of several tables (years) side by side, with line charts "
                "(local threads or a Dask scheduler)")),
    "settings": ("settings_help", "Settings", "Settings/Help", "PropertySheet",
                 "Create the Settings sheet (defaults, descriptions, drop-down lists) or add missing options to it"),
    "help": ("settings_help", "Help", "Settings/Help", "Help",
             "Write a sheet listing the commands and every option with its default and description"),
}


def register(name: str, *, options: dict | None = None):
    """Decorator adding a command function to :data:`REGISTRY`, with its metadata from :data:`CATALOGUE`."""
    if name not in CATALOGUE:
        raise ValueError(f"command {name!r} is not declared in registry.CATALOGUE")
    _module, label, group, image, help = CATALOGUE[name]
    if group not in GROUPS:
        raise ValueError(f"unknown ribbon group {group!r}; use one of {GROUPS}")

    def deco(func):
        REGISTRY[name] = Command(name, label, group, help, image, func, dict(options or {}))
        return func

    return deco


def get(name: str) -> Command:
    """Return the command called *name*, or raise :class:`OptionError` listing the known ones."""
    _load_commands()
    try:
        return REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(REGISTRY)) or "(none)"
        raise OptionError(f"unknown command {name!r}; known commands: {known}") from None


def commands() -> list[Command]:
    """All registered commands, in the ribbon's order (:data:`CATALOGUE`)."""
    _load_commands()
    return [REGISTRY[name] for name in CATALOGUE if name in REGISTRY]


def listing() -> list[tuple[str, str]]:
    """(name, one-line help) of every command, without importing the command modules."""
    return [(name, meta[4]) for name, meta in CATALOGUE.items()]


def _load_commands() -> None:
    """Import the command modules named in :data:`CATALOGUE`; importing a module registers its commands."""
    for module in dict.fromkeys(meta[0] for meta in CATALOGUE.values()):
        import_module(f"{__package__}.commands.{module}")
