"""The workbook commands: one module per ribbon button, each with ``build_<name>(ctx)`` (the result
sheets, built before anything is written) and ``<name>(book, **options)`` registered for the ribbon,
the CLI and the tests. What they share is in :mod:`.context`. :data:`..registry.CATALOGUE` is the one
list of commands (name, module, ribbon order); :func:`..registry.commands` imports the modules it names.
"""
from .settings_help import write_settings_sheet  # noqa: F401  (the demo builder writes a Settings sheet)
