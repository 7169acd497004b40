"""Progress feedback for long commands: Excel's status bar and any listeners (the CLI prints)."""
from __future__ import annotations

import time
from typing import Callable

_listeners: list[Callable[[str], None]] = []


def add_listener(func: Callable[[str], None]) -> None:
    """Call *func(message)* on every progress message (the CLI registers a printer)."""
    if func not in _listeners:
        _listeners.append(func)


def remove_listener(func: Callable[[str], None]) -> None:
    if func in _listeners:
        _listeners.remove(func)


def report(book, message: str) -> None:
    """Show *message* in Excel's status bar (when there is an app) and tell the listeners."""
    if book is not None:
        try:
            book.app.status_bar = f"xlmrio: {message}"
        except Exception:  # noqa: BLE001 - engines without a status bar
            pass
    for f in list(_listeners):
        f(message)


def clear(book) -> None:
    """Give the status bar back to Excel."""
    if book is not None:
        try:
            book.app.status_bar = False
        except Exception:  # noqa: BLE001
            pass


class Steps:
    """``with Steps(book, "accounts") as step: step("reading table")`` — timed progress messages."""

    def __init__(self, book, command: str):
        self.book, self.command, self.t0 = book, command, time.perf_counter()

    def __call__(self, message: str) -> None:
        report(self.book, f"{self.command}: {message} ({time.perf_counter() - self.t0:.1f} s)")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        clear(self.book)
        return False
