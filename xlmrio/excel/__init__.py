"""The Excel layer: command functions on ``xlwings.Book``, the openpyxl engine, UDFs and the ribbon."""
