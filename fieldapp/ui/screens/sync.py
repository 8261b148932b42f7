"""The sync screen: what waits to sync, what the registry refused (with its reason) and the
conflicts to resolve side by side (mine / theirs / a new value), plus "sync now".

Reading and syncing run in thread workers on their own connections; resolving a conflict is
an ordinary save on the app's store, which the next sync sends like any edit.
"""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Input, Select, Static

from fieldapp import localtime
from fieldapp.domain.records import FIELD_INDEX
from fieldapp.store import sync_state as outbox
from fieldapp.ui.i18n import t
from fieldapp.ui.screens.base import BaseScreen
from fieldapp.ui.widgets.status_bar import StatusBar
from sync import conflicts


def field_label(kind: str, name: str, lang: str) -> str:
    spec = FIELD_INDEX.get(kind, {}).get(name)
    if spec:
        return spec.label(lang)
    key = {"status": "status", "review_comment": "review_comment",
           "_deleted": "field_deleted"}.get(name)
    return t(key, lang) if key else name


class SyncLoaded(Message):
    def __init__(self, entries: list, open_conflicts: list, summary: dict) -> None:
        super().__init__()
        self.entries, self.conflicts, self.summary = entries, open_conflicts, summary


class SyncScreen(BaseScreen):
    HINTS = [("y", "sync_now"), ("r", "retry"), ("d", "discard"), ("Enter", "resolve"),
             ("Esc", "back")]
    BINDINGS = [
        Binding("y", "sync_now", show=False),
        Binding("r", "retry", show=False),
        Binding("d", "discard", show=False),
        Binding("escape", "back", show=False),
    ]

    def compose(self) -> ComposeResult:
        lang = self.lang
        with Vertical():
            yield Static(t("sync_screen", lang), classes="title")
            yield Static("", id="sync-summary")
            yield Static("", id="sync-result")
            yield Static(t("outbox_title", lang), classes="section")
            yield DataTable(id="outbox", cursor_type="row", zebra_stripes=True)
            yield Static(t("conflicts_title", lang), classes="section")
            yield DataTable(id="conflicts", cursor_type="row", zebra_stripes=True)
        yield StatusBar()

    def reload(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, group="sync-screen")
    def load(self) -> None:
        with self.app.reading() as store:
            entries = outbox.entries(store)
            items = [(c, store.get(c.record_id, include_deleted=True))
                     for c in conflicts.open_conflicts(store)]
            summary = {"user": store.setting("current_user", "") or "-",
                       "pending": sum(e.state == "pending" for e in entries),
                       "parked": sum(e.state == "parked" for e in entries),
                       "conflicts": len(items),
                       "last": localtime.show(store.setting("last_sync_at"), zone=True) or "-"}
        self.post_message(SyncLoaded(entries, items, summary))

    def on_sync_loaded(self, message: SyncLoaded) -> None:
        lang = self.lang
        self.query_one("#sync-summary", Static).update(t("sync_summary", lang, **message.summary))
        table = self.query_one("#outbox", DataTable)
        table.clear(columns=True)
        table.add_columns("#", "op", "kind", "id", "state", "reason")
        for e in message.entries:
            table.add_row(str(e.seq), e.op, e.kind, e.record_id[:8], t(f"state_{e.state}", lang),
                          e.reason(lang) if e.state == "parked" else "", key=str(e.seq))
        if not message.entries:
            table.add_row("", "", "", "", t("nothing_waiting", lang), "")
        table = self.query_one("#conflicts", DataTable)
        table.clear(columns=True)
        table.add_columns("#", "kind", "record", "fields")
        for c, record in message.conflicts:
            fields = c.describe(lang) if c.is_delete else ", ".join(
                field_label(c.kind, f, lang) for f in sorted(c.fields))
            table.add_row(str(c.id), c.kind, record.title if record else c.record_id[:8],
                          fields, key=str(c.id))
        if not message.conflicts:
            table.add_row("", "", t("no_conflicts", lang), "")

    def _selected(self, table_id: str) -> int | None:
        table = self.query_one(table_id, DataTable)
        if table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return int(key) if key and key.isdigit() else None

    def action_retry(self) -> None:
        seq = self._selected("#outbox")
        if seq is not None and outbox.retry(self.app.store, seq):
            self.load()

    def action_discard(self) -> None:
        seq = self._selected("#outbox")
        if seq is not None and outbox.discard(self.app.store, seq):
            self.load()

    @on(DataTable.RowSelected, "#conflicts")
    def _open_conflict(self, event: DataTable.RowSelected) -> None:
        key = event.row_key.value
        if key and key.isdigit():
            self.app.push_screen(ConflictScreen(int(key)), lambda _done: self.load())

    def action_sync_now(self) -> None:
        self.sync_now()

    @work(thread=True, exclusive=True, group="sync-now")
    def sync_now(self) -> None:
        from sync.client import SyncError
        from sync.engine import open_engine

        try:
            engine = open_engine(self.app.ctx)
        except SyncError as exc:
            text = exc.message(self.lang)
        else:
            try:
                report = engine.run_cycle()
            finally:
                engine.client.close()
                engine.store.conn.close()
            text = report.summary(self.lang) + "".join(f"; {e}" for e in report.errors)
        self.app.call_from_thread(self.query_one("#sync-result", Static).update,
                                  t("sync_result", self.lang, text=text))
        self.load()

    def action_back(self) -> None:
        self.app.pop_screen()


class ConflictScreen(ModalScreen[bool]):
    """One conflict, field by field: mine and theirs side by side, pick one or type a value."""

    BINDINGS = [Binding("escape", "cancel", show=False), Binding("ctrl+s", "save", show=False)]

    def __init__(self, conflict_id: int) -> None:
        super().__init__()
        self.conflict_id = conflict_id

    def compose(self) -> ComposeResult:
        lang = self.app.lang
        conflict = conflicts.get(self.app.store, self.conflict_id)
        self.conflict = conflict
        with Vertical(classes="dialog", id="conflict"):
            yield Static(t("resolve", lang), classes="dialog-title")
            with VerticalScroll():
                for name, sides in (conflict.fields.items() if conflict else []):
                    if name == "_deleted":
                        key = "deleted_here" if sides.get("mine") else "deleted_there"
                        yield Static(t(key, lang))
                    else:
                        yield Static(f"{field_label(conflict.kind, name, lang)}: "
                                     f"{t('mine', lang)} = {sides.get('mine')!r}   "
                                     f"{t('theirs', lang)} = {sides.get('theirs')!r}")
                    with Horizontal(classes="conflict-row"):
                        options = [(t("mine", lang), "mine"), (t("theirs", lang), "theirs")]
                        if name != "_deleted":
                            options.append((t("new_value", lang), "value"))
                        yield Select(options, value="theirs", allow_blank=False,
                                     id=f"choice-{name}")
                        if name != "_deleted":
                            yield Input(placeholder=t("new_value", lang), id=f"value-{name}")
            yield Static("", id="conflict-error", classes="error")
            with Horizontal():
                yield Button(t("save", lang), id="save", variant="primary")
                yield Button(t("cancel", lang), id="cancel")

    def choices(self) -> dict:
        picked: dict = {}
        for name in self.conflict.fields:
            choice = self.query_one(f"#choice-{name}", Select).value
            if choice == "value":
                picked[name] = {"value": self.query_one(f"#value-{name}", Input).value}
            else:
                picked[name] = choice
        return picked

    @on(Button.Pressed, "#save")
    def action_save(self) -> None:
        from fieldapp.domain.workflow import TransitionError
        from fieldapp.store.records import ValidationFailed

        lang = self.app.lang
        try:
            conflicts.resolve(self.app.store, self.conflict_id, self.choices())
        except (conflicts.ResolveError, TransitionError) as exc:
            self.query_one("#conflict-error", Static).update(exc.message(lang))
            return
        except ValidationFailed as exc:
            self.query_one("#conflict-error", Static).update(
                "; ".join(e.message(lang) for e in exc.errors))
            return
        self.dismiss(True)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(False)
