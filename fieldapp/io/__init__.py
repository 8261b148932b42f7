"""Spreadsheets in and reports out: import of CSV/xlsx lists, export to xlsx/CSV/GeoJSON,
the import template and the three-lists workbook (三张清单).

Plain Python, no Textual: the CLI calls these directly and the TUI calls them from a thread
worker with a progress callback. Field lists always come from `fieldapp.domain.records.SPECS`.
"""

from __future__ import annotations

from fieldapp.io.exporter import ExportReport, export_records, scope_grids
from fieldapp.io.importer import ImportReport, RowError, import_file
from fieldapp.io.reports import ThreeListsReport, write_three_lists
from fieldapp.io.template import write_template

__all__ = [
    "ExportReport", "ImportReport", "RowError", "ThreeListsReport", "export_records",
    "import_file", "scope_grids", "write_template", "write_three_lists",
]
