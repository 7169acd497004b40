"""The command registry: one entry per analysis, shared by the ribbon, the CLI and the tests.

A command is a function ``func(book, **options)`` taking an ``xlwings.Book``. It reads its inputs
from the book, builds every result first, and only then writes result sheets (never the inputs).
"""
from __future__ import annotations

from dataclasses import dataclass, field
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


def register(name: str, *, label: str, group: str, help: str, image: str = "TableInsert",
             options: dict | None = None):
    """Decorator adding a command function to :data:`REGISTRY`."""
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
    """All registered commands, in registration order."""
    _load_commands()
    return list(REGISTRY.values())


def _load_commands() -> None:
    # Importing the command modules registers them.
    from . import commands  # noqa: F401
