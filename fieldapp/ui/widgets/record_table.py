"""A table of ONE page of records of one kind; the screen fetches pages from SQLite.

Columns are the kind's `listed` fields (from `SPECS`) plus status and last update. Holding a
single page (100 rows) keeps the table instant at any store size: Textual's DataTable keeps
every row it is given and measures every cell.
"""

from __future__ import annotations

from rich.text import Text
from textual.message import Message
from textual.widgets import DataTable

from fieldapp import localtime
from fieldapp.domain.records import SPECS, FieldSpec
from fieldapp.store.records import Record
from fieldapp.ui.format import display, fit, status_label
from fieldapp.ui.i18n import t

PAGE_SIZE = 100

#: Cell widths by field name; CJK text is cut to these with an ellipsis.
WIDTHS = {"grid_code": 16, "address": 30, "name": 24, "source_type": 12, "facility_kind": 14,
          "usable_area": 11, "building_area": 11, "target_kind": 8, "inspected_on": 10}


#: Returned records stand out: they need the worker's attention.
STATUS_STYLE = {"draft": "dim", "submitted": "cyan", "returned": "bold red", "approved": "green"}


def listed_specs(kind: str) -> list[FieldSpec]:
    return [spec for spec in SPECS[kind] if spec.listed]


class RecordTable(DataTable):
    def __init__(self, kind: str, lang: str, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self.kind = kind
        self.lang = lang
        self.specs = listed_specs(kind)

    def on_mount(self) -> None:
        self._add_columns()

    def _add_columns(self) -> None:
        for spec in self.specs:
            self.add_column(spec.label(self.lang), width=WIDTHS.get(spec.name, 12), key=spec.name)
        self.add_column(t("status", self.lang), width=9, key="status")
        self.add_column(t("updated", self.lang), width=10, key="updated")

    def row_cells(self, record: Record) -> list[str | Text]:
        cells = [fit(display(spec, record.data.get(spec.name), self.lang),
                     WIDTHS.get(spec.name, 12)) for spec in self.specs]
        cells.append(Text(status_label(record.status, self.lang),
                          style=STATUS_STYLE.get(record.status, "")))
        cells.append(localtime.show(record.updated_at, date_only=True))
        return cells

    def show(self, records: list[Record], cursor_row: int = 0) -> None:
        self.clear()
        for record in records:
            self.add_row(*self.row_cells(record), key=record.id)
        if records:
            self.move_cursor(row=min(cursor_row, len(records) - 1))

    def selected_id(self) -> str | None:
        if not self.row_count:
            return None
        row_key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        return row_key.value


class EdgeTable(RecordTable):
    """A RecordTable that asks for the next/previous page when the cursor runs off an end."""

    class PageEdge(Message):
        def __init__(self, step: int) -> None:
            super().__init__()
            self.step = step

    def action_cursor_down(self) -> None:
        if self.row_count and self.cursor_row >= self.row_count - 1:
            self.post_message(self.PageEdge(+1))
        else:
            super().action_cursor_down()

    def action_cursor_up(self) -> None:
        if self.row_count and self.cursor_row == 0:
            self.post_message(self.PageEdge(-1))
        else:
            super().action_cursor_up()
