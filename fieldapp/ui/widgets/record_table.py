"""The records list: ONE page of records of one kind, drawn line by line (only what is visible).

The screen fetches pages from SQLite; this widget holds the page's rows as ready-made text and
draws the visible lines on demand (Textual's line API), so a new page or a keystroke's result
costs a refresh of the visible lines, not a re-layout: Textual's DataTable measured every cell
and re-laid out the whole table for each page, most of a keystroke's 300 ms.

Columns are the kind's `listed` fields (from `SPECS`) plus status and last update, fitted to
the width (fieldapp.ui.columns): labels are never cut; when the terminal is narrow the least
needed columns are left out and the address or name gives up its extra room first.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from fieldapp import localtime
from fieldapp.domain.records import SPECS, FieldSpec
from fieldapp.store.records import Record
from fieldapp.ui.columns import Column, fit_columns
from fieldapp.ui.format import display, pad, status_label
from fieldapp.ui.i18n import t

PAGE_SIZE = 100
PADDING = 1  # cells on each side of a cell

#: Returned records stand out: they need the worker's attention.
STATUS_STYLE = {"draft": "dim", "submitted": "cyan", "returned": "bold red", "approved": "green"}
#: What a column's values usually need, and which go first when the terminal is narrow.
WANT = {"grid_code": 18, "address": 30, "name": 24, "usable_area": 9, "building_area": 9,
        "inspected_on": 10}
CHOICE_MAX = 16  # a choice column is as wide as its longest label, up to this
DROP = {"updated": 5, "usable_area": 4, "building_area": 4, "inspected_on": 4,
        "source_type": 3, "facility_kind": 3, "target_kind": 3, "address": 2, "grid_code": 1}
FLEX = {"site": "address", "facility": "name", "inspection": "grid_code"}


def listed_specs(kind: str) -> list[FieldSpec]:
    return [spec for spec in SPECS[kind] if spec.listed]


@dataclass
class Row:
    id: str
    cells: dict[str, str]  # column key → the value as shown, before fitting
    status: str


class RecordTable(ScrollView, can_focus=True):
    """One page of records; ↑/↓ move, Enter opens, running off an end asks for a page."""

    BINDINGS = [
        Binding("up", "cursor_up", show=False),
        Binding("down", "cursor_down", show=False),
        Binding("pageup", "page_up", show=False),
        Binding("pagedown", "page_down", show=False),
        Binding("home", "first", show=False),
        Binding("end", "last", show=False),
        Binding("enter", "select", show=False),
    ]
    COMPONENT_CLASSES = {"record-table--header", "record-table--cursor",
                         "record-table--even", "record-table--odd"}
    DEFAULT_CSS = """
    RecordTable { background: $surface; }
    RecordTable > .record-table--header { text-style: bold; background: $panel; }
    RecordTable > .record-table--cursor { background: $block-cursor-background;
                                          color: $block-cursor-foreground; text-style: bold; }
    RecordTable:blur > .record-table--cursor { background: $block-cursor-blurred-background;
                                               text-style: none; }
    RecordTable > .record-table--odd { background: $surface-lighten-1 20%; }
    RecordTable > .record-table--even { background: $surface; }
    """

    cursor_row: reactive[int] = reactive(0, init=False)

    class RowHighlighted(Message):
        def __init__(self, table: RecordTable, record_id: str | None) -> None:
            super().__init__()
            self.table, self.record_id = table, record_id

    class RowSelected(Message):
        def __init__(self, table: RecordTable, record_id: str) -> None:
            super().__init__()
            self.table, self.record_id = table, record_id

    class PageEdge(Message):
        def __init__(self, step: int) -> None:
            super().__init__()
            self.step = step

    def __init__(self, kind: str, lang: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.kind = kind
        self.lang = lang
        self.specs = listed_specs(kind)
        self.rows: list[Row] = []
        self.layout_cols: list[tuple[Column, int]] = []
        self._laid_out_for = -1

    # -- columns ----------------------------------------------------------------------------
    def all_columns(self) -> list[Column]:
        flex = FLEX.get(self.kind)
        cols = [Column(s.name, s.label(self.lang), self._want(s), DROP.get(s.name, 3),
                       flex=s.name == flex, least=14) for s in self.specs]
        statuses = max(cell_len(status_label(code, self.lang)) for code in STATUS_STYLE)
        cols.append(Column("status", t("status", self.lang), statuses))
        cols.append(Column("updated", t("updated", self.lang), 10, DROP["updated"]))
        return cols

    def _want(self, spec: FieldSpec) -> int:
        if spec.choices:
            return min(CHOICE_MAX, max(cell_len(c.label(self.lang)) for c in spec.choices))
        return WANT.get(spec.name, 12)

    @property
    def columns(self) -> list[Column]:
        """The columns shown now, in order."""
        return [c for c, _ in self.layout_cols]

    def _lay_out(self) -> None:
        width = self.scrollable_content_region.width or self.size.width
        if width == self._laid_out_for:
            return
        self._laid_out_for = width
        self.layout_cols = fit_columns(self.all_columns(), max(width - 1, 20), 2 * PADDING)

    def on_resize(self, event: events.Resize) -> None:
        self._lay_out()
        self.refresh()

    # -- data -------------------------------------------------------------------------------
    def _row(self, record: Record) -> Row:
        cells = {}
        for spec in self.specs:
            value = record.data.get(spec.name)
            if spec.name == "grid_code" and value:
                name = getattr(self.app, "grid_name", lambda _c: "")(value)
                cells[spec.name] = name or str(value)
            else:
                cells[spec.name] = display(spec, value, self.lang)
        cells["status"] = status_label(record.status, self.lang)
        cells["updated"] = localtime.show(record.updated_at, date_only=True)
        return Row(record.id, cells, record.status)

    def show(self, records: list[Record], cursor_row: int = 0) -> None:
        """Show a page; the cursor goes to `cursor_row` (kept inside the page)."""
        self.rows = [self._row(r) for r in records]
        self.virtual_size = Size(self.size.width, len(self.rows) + 1)
        self.set_reactive(RecordTable.cursor_row, 0)
        self.move_cursor(min(cursor_row, max(len(self.rows) - 1, 0)))
        self.refresh()

    @property
    def row_count(self) -> int:
        return len(self.rows)

    def selected_id(self) -> str | None:
        if not self.rows:
            return None
        return self.rows[min(self.cursor_row, len(self.rows) - 1)].id

    def cell(self, row: int, key: str) -> str:
        """What a cell shows (before fitting), for tests and screen readers."""
        return self.rows[row].cells.get(key, "")

    # -- drawing ----------------------------------------------------------------------------
    def _line(self, texts: list[tuple[str, Style]], base: Style) -> Strip:
        segments = []
        for (_column, width), (text, style) in zip(self.layout_cols, texts, strict=True):
            segments.append(Segment(" " * PADDING + pad(text, width) + " " * PADDING,
                                    base + style))
        return Strip(segments)

    def render_line(self, y: int) -> Strip:
        if not self.layout_cols:
            self._lay_out()
        width = self.size.width
        scroll_x, scroll_y = self.scroll_offset
        if y == 0:
            style = self.get_component_rich_style("record-table--header")
            strip = self._line([(c.label, Style()) for c, _ in self.layout_cols], style)
            return strip.extend_cell_length(width, style).crop(scroll_x, scroll_x + width)
        index = scroll_y + y - 1
        if index >= len(self.rows):
            return Strip.blank(width, self.rich_style)
        row = self.rows[index]
        if index == self.cursor_row:
            base = self.get_component_rich_style("record-table--cursor")
        else:
            base = self.get_component_rich_style(
                "record-table--odd" if index % 2 else "record-table--even")
        texts = []
        for column, _ in self.layout_cols:
            style = Style()
            if column.key == "status" and index != self.cursor_row:
                style = Style.parse(STATUS_STYLE.get(row.status, "") or "none")
            texts.append((row.cells.get(column.key, ""), style))
        strip = self._line(texts, base)
        return strip.extend_cell_length(width, base).crop(scroll_x, scroll_x + width)

    # -- cursor -----------------------------------------------------------------------------
    def move_cursor(self, row: int) -> None:
        if not self.rows:
            return
        row = max(0, min(row, len(self.rows) - 1))
        self.cursor_row = row  # repaints the visible lines, nothing is laid out again
        self._scroll_to_cursor()
        self.post_message(self.RowHighlighted(self, self.rows[row].id))

    def _scroll_to_cursor(self) -> None:
        visible = max(self.size.height - 1, 1)  # lines under the header
        top = self.scroll_offset.y
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=False, immediate=True)
        elif self.cursor_row >= top + visible:
            self.scroll_to(y=self.cursor_row - visible + 1, animate=False, immediate=True)

    def action_cursor_down(self) -> None:
        if self.rows and self.cursor_row >= len(self.rows) - 1:
            self.post_message(self.PageEdge(+1))
        else:
            self.move_cursor(self.cursor_row + 1)

    def action_cursor_up(self) -> None:
        if self.rows and self.cursor_row == 0:
            self.post_message(self.PageEdge(-1))
        else:
            self.move_cursor(self.cursor_row - 1)

    def action_page_down(self) -> None:
        self.move_cursor(self.cursor_row + max(self.size.height - 2, 1))

    def action_page_up(self) -> None:
        self.move_cursor(self.cursor_row - max(self.size.height - 2, 1))

    def action_first(self) -> None:
        self.move_cursor(0)

    def action_last(self) -> None:
        self.move_cursor(len(self.rows) - 1)

    def action_select(self) -> None:
        record_id = self.selected_id()
        if record_id is not None:
            self.post_message(self.RowSelected(self, record_id))

    def on_click(self, event: events.Click) -> None:
        index = self.scroll_offset.y + event.y - 1
        if event.y >= 1 and 0 <= index < len(self.rows):
            if index == self.cursor_row and event.chain > 1:
                self.action_select()
            self.move_cursor(index)


#: The name the list screen and tests know it by.
EdgeTable = RecordTable
