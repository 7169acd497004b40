"""The ribbon dispatcher: every ``MRIO`` ribbon button ends up in :func:`run`.

The add-in's VBA callback calls ``RunPython "import xlmrio.excel.dispatch as d; d.run('<tag>')"``
with the button's tag (a command name). :func:`run` looks the command up in the registry and
calls it with the calling workbook. Failures are shown as an Excel alert with one readable
message — never a Python traceback dialog; unexpected errors also write the traceback to
``<temp>/xlmrio-last-error.txt`` for support.
"""
from __future__ import annotations

import logging
import tempfile
import traceback
from pathlib import Path
from typing import Any

from ..errors import XlmrioError
from . import progress as _progress
from . import registry

logger = logging.getLogger(__name__)
ALERT_TITLE = "xlmrio"
LAST_ERROR_FILE = Path(tempfile.gettempdir()) / "xlmrio-last-error.txt"
#: The message of the last failed command (read by the xlwings Lite scripts, which cannot alert).
LAST_MESSAGE: str | None = None


def progress(book: Any, text: str | None) -> None:
    """Show ``xlmrio: <text>`` in Excel's status bar (``None`` or ``""`` gives the bar back to Excel).

    Safe to call from any command: does nothing when the book has no app (tests, openpyxl
    engine, xlwings Lite). Thin front to :mod:`xlmrio.excel.progress` (which also feeds the CLI).
    """
    if text:
        _progress.report(book, text)
    else:
        _progress.clear(book)


def alert(book: Any, message: str, *, critical: bool = True) -> None:
    """Show *message* in an Excel message box (falls back to the log when there is no Excel)."""
    try:
        book.app.alert(message, title=ALERT_TITLE, mode="critical" if critical else "info")
    except Exception:  # noqa: BLE001
        logger.error("%s", message)


def failure_message(name: str, exc: BaseException) -> str:
    """The one-paragraph text shown for a failed command."""
    if isinstance(exc, XlmrioError):
        return f"{name}: {exc}"
    return (f"{name} failed unexpectedly: {type(exc).__name__}: {exc}\n\n"
            f"Details were written to {LAST_ERROR_FILE}.")


def run_command(book: Any, name: str, **options: Any) -> bool:
    """Run command *name* on *book*; report failures with an alert.

    Returns True on success, False when the command failed (the user has been told why).
    """
    global LAST_MESSAGE
    label = name
    LAST_MESSAGE = None
    try:
        cmd = registry.get(name)
        label = cmd.label
        progress(book, f"{cmd.label}…")
        cmd.func(book, **options)
        return True
    except Exception as exc:  # noqa: BLE001 - shown to the user, never a traceback dialog
        if not isinstance(exc, XlmrioError):
            try:
                LAST_ERROR_FILE.write_text(traceback.format_exc(), encoding="utf-8")
            except OSError:
                pass
            logger.exception("command %s failed", name)
        LAST_MESSAGE = failure_message(label, exc)
        alert(book, LAST_MESSAGE)
        return False
    finally:
        progress(book, None)


def run(tag: str, book: Any = None) -> bool:
    """Entry point of the ribbon callback: run the command whose name is *tag* on the caller book.

    Parameters
    ----------
    tag : str
        The ribbon button's tag (a registered command name).
    book : xlwings.Book, optional
        Defaults to ``xlwings.Book.caller()``.
    """
    if book is None:
        import xlwings as xw

        book = xw.Book.caller()
    return run_command(book, tag)
