"""The supervisor's review queue: submitted records oldest first, counts per grid, what
changed since the last review, approve / return with a comment / bulk approve.

Decisions are ordinary saves (fieldapp.store.review), so they get history, wait in the outbox
and are checked again by the registry; a worker who opens this screen can look but any
decision is refused with the workflow's own message.
"""

from __future__ import annotations

from dataclasses import replace

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import DataTable, OptionList, Static
from textual.widgets.option_list import Option

from fieldapp.domain.choices import RECORD_KIND
from fieldapp.domain.records import FIELD_INDEX
from fieldapp.store.records import Record
from fieldapp.store.review import (
    QueueFilter,
    approve,
    changed_since_last_review,
    counts_per_grid,
    queue,
    send_back,
)
from fieldapp.store.scope import ScopeError, scope_grids
from fieldapp.ui.format import display, fit, pad, short_time
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
    DEFAULT_CSS = """
    ReviewScreen #review-body { height: 1fr; }
    ReviewScreen #review-grids { width: 36; }
    ReviewScreen #review-queue { height: 2fr; }
    ReviewScreen #review-changes { height: 1fr; border-top: solid $primary; padding: 0 1; }
    """
    BINDINGS = [
        Binding("escape", "back", show=False),
        Binding("a", "approve", show=False),
        Binding("r", "send_back", show=False),
        Binding("space", "toggle", show=False),
        Binding("A", "bulk_approve", show=False),
        Binding("k", "cycle_kind", show=False),
        Binding("o", "open", show=False),
    ]
    HINTS = [("a", "review_approve"), ("r", "review_return"), ("␣", "review_select"),
             ("A", "review_bulk"), ("k", "review_kind"), ("o", "open"), ("esc", "back")]

    def __init__(self) -> None:
        super().__init__()
        self.filter = QueueFilter()
        self.records: list[Record] = []
        self.selected: set[str] = set()

    def key_hints(self) -> list[tuple[str, str]]:
        return self.HINTS

    def compose(self) -> ComposeResult:
        lang = self.lang
        yield Static(t("rq_title", lang), classes="screen-title", id="review-title")
        with Horizontal(id="review-body"):
            with Vertical(id="review-grids"):
                yield Static(t("rq_grids", lang), classes="section-title")
                yield OptionList(id="review-grid-list")
            with Vertical():
                # Columns are made with the table, so a recompose (Ctrl+L) rebuilds them too.
                table = DataTable(id="review-queue", cursor_type="row", zebra_stripes=True)
                table.add_column("✓", key="sel", width=1)
                for key in ("col_kind", "col_grid", "col_author", "col_submitted", "col_title"):
                    table.add_column(t(key, lang), key=key)
                yield table
                yield Static("", id="review-changes")
        yield StatusBar()

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
            grids.add_option(Option(f"{pad(self.app.grid_name(code) or code, 24)} {n:>4}",
                                    id=code))
        table = self.query_one("#review-queue", DataTable)
        table.clear()
        for r in self.records:
            table.add_row("●" if r.id in self.selected else "",
                          RECORD_KIND.label(r.kind, lang), r.grid_code or "", r.author or "",
                          short_time(r.updated_at), fit(r.title, 40), key=r.id)
        title = t("rq_title", lang) + (f" — {RECORD_KIND.label(self.filter.kind, lang)}"
                                    if self.filter.kind else "")
        self.query_one("#review-title", Static).update(title)
        if not self.records:
            self.query_one("#review-changes", Static).update(t("rq_empty", lang))
        else:
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
        changes = changed_since_last_review(self.app.store, record.id)
        reviewed = any(h["action"] in ("approved", "returned")
                       for h in self.app.store.history(record.id))
        lines = [f"[b]{t('rq_changed' if reviewed else 'rq_never', lang)}[/b]"]
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
        """Queue a decision on the app's writer; `decided` / `refused` show the answer."""
        self.app.write(job, what=what, reply_to=self)

    @on(Saved)
    def decided(self, message: Saved) -> None:
        if message.what == "approve":
            self.notify(t("rq_approved_n", self.lang, n=len(message.result)))
        elif message.what == "return":
            self.notify(t("rq_returned", self.lang))
        else:
            return
        self.load()

    @on(SaveFailed)
    def refused(self, message: SaveFailed) -> None:
        if message.what in ("approve", "return"):
            message.stop()
            self.notify(message.reason(self.lang), severity="error", timeout=10)
            self.load()

    def action_approve(self) -> None:
        record = self.current()
        if record is not None:
            record_id = record.id
            self._decide(lambda store: approve(store, [record_id]), "approve")

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
