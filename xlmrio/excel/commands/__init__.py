"""The workbook commands: one module per ribbon button, each with ``build_<name>(ctx)`` (the result
sheets, built before anything is written) and ``<name>(book, **options)`` registered for the ribbon,
the CLI and the tests. What they share is in :mod:`.context`; :mod:`..registry` is the one list of
commands, filled by importing the modules below.
"""
# the import order is the ribbon's button order
from . import validate, leontief, accounts, flows, efficiency, aggregate, transfer, update, uncertainty, series, settings_help  # noqa: F401,I001
from .settings_help import write_settings_sheet  # noqa: F401  (the demo builder writes a Settings sheet)
