"""The supervisor's review queue: submitted records oldest first, counts per grid, what
changed since the last review, approve / return with a comment / bulk approve.

Decisions are ordinary saves (fieldapp.store.review), so they get history, wait in the outbox
and are checked again by the registry; a worker who opens this screen can look but any
decision is refused with the workflow's own message.
"""

from __future__ import annotations

from dataclasses import replace

from rich.cells import cell_len
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import DataTable, OptionList, Static
from textual.widgets.option_list import Option

from fieldapp import localtime
from fieldapp.domain import joint_review
from fieldapp.domain.choices import RECORD_KIND
from fieldapp.domain.records import FIELD_INDEX
from fieldapp.domain.revision import revised_fields
from fieldapp.store.records import Record
from fieldapp.store.review import (
    QueueFilter,
    approve,
    changed_since_last_review,
    counts_per_grid,
    queue,
    reopen,
    send_back,
)
from fieldapp.store.scope import ScopeError, scope_grids
from fieldapp.ui.columns import Column, fit_columns
from fieldapp.ui.format import display, fit, joint_review_line, pad
from fieldapp.ui.i18n import t
from fieldapp.ui.screens.base import BaseScreen
from fieldapp.ui.screens.dialogs import CommentModal, ConfirmModal
from fieldapp.ui.widgets.status_bar import StatusBar
from fieldapp.ui.writer import Saved, SaveFailed


class QueueLoaded(Message):
    def __init__(self, records: list[Record], counts: dict[str, int]) -> None:
        super().__init__()
        self.records, self.counts = records, counts


class ReviewScreen(BaseScreen):
    # The queue, not the grid panel beside it: ↓ and a/r act on records from the start.
    AUTO_FOCUS = "#review-queue"
    DEFAULT_CSS = """
    ReviewScreen #review-body { height: 1fr; }
    ReviewScreen #review-grids { width: 34; }
    ReviewScreen.-narrow #review-grids { display: none; }
    ReviewScreen.-narrow.-grids #review-grids { display: block; width: 30; }
    ReviewScreen #review-queue { height: 2fr; }
    ReviewScreen #review-changes { height: 1fr; border-top: solid $primary; padding: 0 1; }
    """
    BINDINGS = [
        Binding("escape", "back", show=False),
        Binding("a", "approve", show=False),
        Binding("u", "undo", show=False),
        Binding("r", "send_back", show=False),
        Binding("space", "toggle", show=False),
        Binding("A", "bulk_approve", show=False),
        Binding("k", "cycle_kind", show=False),
        Binding("g", "toggle_grids", show=False),
        Binding("o", "open", show=False),
    ]
    HINTS = [("a", "review_approve"), ("r", "review_return"), ("u", "undo"),
             ("␣", "review_select"), ("A", "review_bulk"), ("k", "review_kind"),
             ("g", "rq_by_grid"), ("o", "open"), ("Esc", "back")]

    def __init__(self) -> None:
        super().__init__()
        self.filter = QueueFilter()
        self.records: list[Record] = []
        self.selected: set[str] = set()
        self.last_approved: list[str] = []  # what `u` puts back in the queue
        self._columns_for = -1
        self._widths: dict[str, int] = {}

    def key_hints(self) -> list[tuple[str, str]]:
        return self.HINTS

    def compose(self) -> ComposeResult:
        lang = self.lang
        self._columns_for = -1  # a new table (Ctrl+L rebuilds the screen) needs its columns
        yield Static(t("rq_title", lang), classes="screen-title", id="review-title")
        with Horizontal(id="review-body"):
            with Vertical(id="review-grids"):
                yield Static(t("rq_grids", lang), classes="section-title")
                yield OptionList(id="review-grid-list")
            with Vertical():
                yield DataTable(id="review-queue", cursor_type="row", zebra_stripes=True)
                yield Static("", id="review-changes")
        yield StatusBar()

    def queue_columns(self) -> list[Column]:
        lang = self.lang
        kinds = max(cell_len(RECORD_KIND.label(k, lang)) for k in ("site", "facility",
                                                                   "inspection"))
        return [Column("sel", "✓", 1), Column("col_kind", t("col_kind", lang), kinds),
                Column("col_grid", t("col_grid", lang), 20, drop=3),
                Column("col_author", t("col_author", lang), 10, drop=4),
                Column("col_submitted", t("col_submitted", lang), 11, drop=2),
                Column("col_title", t("col_title", lang), 30, flex=True, least=14)]

    def on_resize(self, event) -> None:  # noqa: ANN001
        super().on_resize(event)
        self.call_after_refresh(self._fill_table)

    def _fill_table(self) -> None:
        """(Re)build the queue's columns for the width it has, then its rows."""
        table = self.query_one("#review-queue", DataTable)
        width = table.size.width
        if not width:
            return
        cursor = table.cursor_row
        if width != self._columns_for:
            self._columns_for = width
            table.clear(columns=True)
            self._widths = {}
            for column, cells in fit_columns(self.queue_columns(), width - 2):
                table.add_column(column.label, key=column.key, width=cells)
                self._widths[column.key] = cells
        else:
            table.clear()
        keys = [c.key.value for c in table.ordered_columns]
        lang = self.lang
        for r in self.records:
            cells = {"sel": "●" if r.id in self.selected else "",
                     "col_kind": RECORD_KIND.label(r.kind, lang),
                     "col_grid": self.app.grid_name(r.grid_code) or r.grid_code or "",
                     "col_author": r.author or "",
                     "col_submitted": localtime.show_short(r.queued_at or r.updated_at),
                     "col_title": self._title(r)}
            table.add_row(*(fit(cells[k], self._widths[k]) for k in keys), key=r.id)
        if self.records:
            table.move_cursor(row=min(cursor, len(self.records) - 1))

    def _title(self, r: Record) -> str:
        """The title, marked 修订 for a revision and with the joint review's verdict."""
        lang = self.lang
        mark = f"[{t('revision_mark', lang)}] " if r.approved is not None else ""
        verdict = ""
        if r.kind == "site" and any(joint_review.results(r.data).values()):
            verdict = f" · {joint_review.verdict_label(r.data, lang)}"
        return f"{mark}{r.title}{verdict}"

    def reload(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, group="review")
    def load(self) -> None:
        with self.app.reading() as store:
            # Only what this supervisor may decide: records of other areas that happen to be
            # on the laptop would be refused by the registry anyway.
            try:
                grids = scope_grids(store)
            except ScopeError:
                grids = None
            wanted = replace(self.filter, grids=frozenset(grids) if grids is not None else None)
            records = queue(store, wanted, limit=500)
            counts = counts_per_grid(store, replace(wanted, grid_code=None))
        self.post_message(QueueLoaded(records, counts))

    @on(QueueLoaded)
    def show(self, message: QueueLoaded) -> None:
        lang = self.lang
        self.records = message.records
        self.selected &= {r.id for r in self.records}
        grids = self.query_one("#review-grid-list", OptionList)
        grids.clear_options()
        total = sum(message.counts.values())
        grids.add_option(Option(f"{t('all_grids', lang)}  ({total})", id="*"))
        for code, n in message.counts.items():
            grids.add_option(Option(f"{pad(self.app.grid_name(code) or code, 22)} {n:>4}",
                                    id=code))
        self._fill_table()
        title = t("rq_title", lang) + (f" — {RECORD_KIND.label(self.filter.kind, lang)}"
                                    if self.filter.kind else "")
        self.query_one("#review-title", Static).update(title)
        if not self.records:
            self.query_one("#review-changes", Static).update(t("rq_empty", lang))
        else:
            table = self.query_one("#review-queue", DataTable)
            self.show_changes(self.records[min(table.cursor_row, len(self.records) - 1)])

    def current(self) -> Record | None:
        table = self.query_one("#review-queue", DataTable)
        if not self.records or table.cursor_row >= len(self.records):
            return None
        return self.records[table.cursor_row]

    @on(DataTable.RowHighlighted, "#review-queue")
    def highlighted(self, event: DataTable.RowHighlighted) -> None:
        record = self.current()
        if record is not None:
            self.show_changes(record)

    def show_changes(self, record: Record) -> None:
        lang = self.lang
        if record.approved is not None:
            # A revision: what changed since the values that are approved now.
            changes = {k: [record.approved.get(k), record.data.get(k)]
                       for k in revised_fields(record.approved, record.data)}
            reviewed, heading = True, "rq_revision"
        else:
            changes = changed_since_last_review(self.app.store, record.id)
            reviewed = any(h["action"] in ("approved", "returned", "approve", "return")
                           for h in self.app.store.history(record.id))
            heading = "rq_changed" if reviewed else "rq_never"
        lines = [f"[b]{t(heading, lang)}[/b]"]
        if record.kind == "site":
            lines.append(joint_review_line(record.data, lang))
        specs = FIELD_INDEX[record.kind]
        for name, (old, new) in list(changes.items())[:12]:
            spec = specs.get(name)
            label = spec.label(lang) if spec else name
            before, after = ((display(spec, old, lang), display(spec, new, lang)) if spec
                             else (str(old), str(new)))
            if reviewed:
                lines.append(f"[yellow]{label}[/]: {fit(before, 20)} → {fit(after, 30)}")
            else:
                lines.append(f"{label}: {fit(after, 50)}")
        if record.review_comment:
            lines.append(f"« {record.review_comment} »")
        self.query_one("#review-changes", Static).update("\n".join(lines))

    @on(OptionList.OptionSelected, "#review-grid-list")
    def pick_grid(self, event: OptionList.OptionSelected) -> None:
        code = event.option.id
        self.filter = QueueFilter(None if code == "*" else code, kind=self.filter.kind)
        self.load()

    # -- decisions --------------------------------------------------------------------------
    def _decide(self, job, what: str) -> None:  # noqa: ANN001
        """Queue a decision on the app's writer; `decided` / `refused` show the answer. A
        decision needs the supervisor's PIN when it has been idle 15 minutes."""
        self.app.with_pin(self.app.store.user,
                          lambda: self.app.write(job, what=what, reply_to=self))

    @on(Saved)
    def decided(self, message: Saved) -> None:
        if message.what == "approve":
            self.last_approved = [r.id for r in message.result]
            self.notify(t("rq_approved_undo", self.lang, n=len(message.result)))
        elif message.what == "reopen":
            self.last_approved = []
            self.notify(t("rq_reopened_n", self.lang, n=len(message.result)))
        elif message.what == "return":
            self.notify(t("rq_returned", self.lang))
        else:
            return
        self.load()

    @on(SaveFailed)
    def refused(self, message: SaveFailed) -> None:
        if message.what in ("approve", "return", "reopen"):
            message.stop()
            self.notify(message.reason(self.lang), severity="error", timeout=10)
            self.load()

    def action_approve(self) -> None:
        record = self.current()
        if record is not None:
            record_id = record.id
            self._decide(lambda store: approve(store, [record_id]), "approve")

    def action_undo(self) -> None:
        """Put the last approval (one record or a bulk) back in the queue."""
        ids = list(self.last_approved)
        if ids:
            self._decide(lambda store: reopen(store, ids), "reopen")

    def action_toggle_grids(self) -> None:
        self.toggle_class("-grids")

    def action_send_back(self) -> None:
        record = self.current()
        if record is None:
            return

        def done(comment: str | None) -> None:
            if comment is not None:
                self._decide(lambda store: send_back(store, record.id, comment), "return")

        self.app.push_screen(CommentModal(self.lang, t("rq_comment_title", self.lang)), done)

    def action_toggle(self) -> None:
        record = self.current()
        if record is None:
            return
        self.selected ^= {record.id}
        table = self.query_one("#review-queue", DataTable)
        table.update_cell(record.id, "sel", "●" if record.id in self.selected else "")
        table.action_cursor_down()

    def action_bulk_approve(self) -> None:
        ids = [r.id for r in self.records if r.id in self.selected]
        if not ids:
            return

        def done(yes: bool | None) -> None:
            if yes:
                self._decide(lambda store: approve(store, ids), "approve")
                self.selected.clear()

        self.app.push_screen(
            ConfirmModal(self.lang, t("rq_confirm_bulk", self.lang, n=len(ids))), done)

    def action_cycle_kind(self) -> None:
        kinds = [None, "site", "facility", "inspection"]
        nxt = kinds[(kinds.index(self.filter.kind) + 1) % len(kinds)]
        self.filter = QueueFilter(self.filter.grid_code, kind=nxt)
        self.load()

    def action_open(self) -> None:
        record = self.current()
        if record is not None:
            self.app.open_detail(record.id)

    def action_back(self) -> None:
        self.app.pop_screen()
