"""The sync screen: what waits to sync, what the registry refused (with its reason) and the
conflicts to resolve side by side (mine / theirs / a new value), plus "sync now".

Reading and syncing run in thread workers on their own connections; retry, discard and a
resolution go through the app's writer like any save, and the next sync sends them.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Input, RadioButton, RadioSet, Static

from fieldapp import localtime
from fieldapp.domain.choices import RECORD_KIND
from fieldapp.domain.records import FIELD_INDEX
from fieldapp.store import lookups
from fieldapp.store import sync_state as outbox
from fieldapp.ui.format import display, fit, status_label
from fieldapp.ui.i18n import t
from fieldapp.ui.screens.base import BaseScreen
from fieldapp.ui.screens.dialogs import ConfirmModal
from fieldapp.ui.widgets.status_bar import StatusBar
from fieldapp.ui.writer import Saved, SaveFailed
from sync import conflicts

#: Entries listed at most; the summary counts them all.
SHOWN_ENTRIES = 500
OPS = {"create": "act_create", "update": "act_edit", "delete": "act_delete"}


def field_label(kind: str, name: str, lang: str) -> str:
    spec = FIELD_INDEX.get(kind, {}).get(name)
    if spec:
        return spec.label(lang)
    key = {"status": "status", "review_comment": "review_comment",
           "_deleted": "field_deleted"}.get(name)
    return t(key, lang) if key else name


def field_value(kind: str, name: str, value: Any, lang: str) -> str:
    """A conflicting value as a person reads it (labels, units), "—" for nothing."""
    spec = FIELD_INDEX.get(kind, {}).get(name)
    if name == "status" and value:
        text = status_label(str(value), lang)
    elif spec is not None:
        text = display(spec, value, lang)
    else:
        text = "" if value is None else str(value)
    return text or "—"


class SyncLoaded(Message):
    def __init__(self, entries: list, titles: dict[str, str], open_conflicts: list,
                 summary: dict) -> None:
        super().__init__()
        self.entries, self.titles = entries, titles
        self.conflicts, self.summary = open_conflicts, summary


class SyncScreen(BaseScreen):
    HINTS = [("y", "sync_now"), ("r", "retry"), ("d", "discard"), ("⏎", "resolve"),
             ("Tab", "next_table"), ("Esc", "back")]
    BINDINGS = [
        Binding("y", "sync_now", show=False),
        Binding("r", "retry", show=False),
        Binding("d", "discard", show=False),
        Binding("escape", "back", show=False),
    ]
    DEFAULT_CSS = """
    SyncScreen #outbox { height: 1fr; }
    SyncScreen #conflicts { height: 1fr; }
    SyncScreen #sync-summary, SyncScreen #sync-result { height: auto; padding: 0 1; }
    """

    def compose(self) -> ComposeResult:
        lang = self.lang
        yield Static(t("sync_screen", lang), classes="screen-title")
        yield Static("", id="sync-summary")
        yield Static("", id="sync-result")
        yield Static(t("outbox_title", lang), classes="section-title")
        outbox_table = DataTable(id="outbox", cursor_type="row", zebra_stripes=True)
        for key, width in (("col_seq", 5), ("col_op", 6), ("col_kind", 8), ("col_record", 24),
                           ("col_state", 6), ("col_reason", None)):
            outbox_table.add_column(t(key, lang), key=key, width=width)
        yield outbox_table
        yield Static(t("conflicts_title", lang), classes="section-title")
        conflict_table = DataTable(id="conflicts", cursor_type="row", zebra_stripes=True)
        for key, width in (("col_seq", 5), ("col_kind", 8), ("col_record", 30),
                           ("col_fields", None)):
            conflict_table.add_column(t(key, lang), key=key, width=width)
        yield conflict_table
        yield StatusBar()

    def reload(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, group="sync-screen")
    def load(self) -> None:
        with self.app.reading() as store:
            entries = outbox.entries(store)
            items = [(c, store.get(c.record_id, include_deleted=True))
                     for c in conflicts.open_conflicts(store)]
            shown = entries[:SHOWN_ENTRIES]
            titles = lookups.titles(store.conn, list({e.record_id for e in shown}))
            summary = {"user": store.setting("current_user", "") or "-",
                       "pending": sum(e.state == "pending" for e in entries),
                       "parked": sum(e.state == "parked" for e in entries),
                       "conflicts": len(items),
                       "last": localtime.show(store.setting("last_sync_at"), zone=True)
                       or t("never_synced", self.lang)}
        self.post_message(SyncLoaded(shown, titles, items, summary))

    def on_sync_loaded(self, message: SyncLoaded) -> None:
        lang = self.lang
        self.query_one("#sync-summary", Static).update(t("sync_summary", lang, **message.summary))
        table = self.query_one("#outbox", DataTable)
        table.clear()
        for e in message.entries:
            title = message.titles.get(e.record_id) or e.record_id[:8]
            state = Text(t(f"state_{e.state}", lang),
                         style="bold red" if e.state == "parked" else "")
            table.add_row(str(e.seq), t(OPS.get(e.op, "act_edit"), lang),
                          RECORD_KIND.label(e.kind, lang), fit(title, 24), state,
                          e.reason(lang) if e.state == "parked" else "", key=str(e.seq))
        if not message.entries:
            table.add_row("", "", "", t("nothing_waiting", lang), "", "")
        table = self.query_one("#conflicts", DataTable)
        table.clear()
        self.conflict_items = {str(c.id): (c, record) for c, record in message.conflicts}
        for c, record in message.conflicts:
            fields = c.describe(lang) if c.is_delete else "、".join(
                field_label(c.kind, f, lang) for f in sorted(c.fields))
            table.add_row(str(c.id), RECORD_KIND.label(c.kind, lang),
                          fit(record.title if record else c.record_id[:8], 30),
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
        if seq is not None:
            self.app.write(lambda store: outbox.retry(store, seq), what="retry", reply_to=self)

    def action_discard(self) -> None:
        seq = self._selected("#outbox")
        if seq is None:
            return

        def answer(yes: bool | None) -> None:
            if yes:
                self.app.write(lambda store: outbox.discard(store, seq), what="discard",
                               reply_to=self)

        self.app.push_screen(ConfirmModal(self.lang, t("discard_confirm", self.lang, seq=seq)),
                             answer)

    @on(Saved)
    def _written(self, message: Saved) -> None:
        if message.what in ("retry", "discard", "resolve"):
            self.load()

    @on(DataTable.RowSelected, "#conflicts")
    def _open_conflict(self, event: DataTable.RowSelected) -> None:
        item = getattr(self, "conflict_items", {}).get(event.row_key.value or "")
        if item is not None:
            self.app.push_screen(ConflictScreen(*item), lambda _done: self.load())

    def action_sync_now(self) -> None:
        self.query_one("#sync-result", Static).update(t("syncing", self.lang) + "…")
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
    """One conflict, field by field: this laptop's value and the registry's, each shown as a
    person reads it; pick one, or type a new value (typing picks "new value")."""

    BINDINGS = [Binding("escape", "cancel", show=False),
                Binding("ctrl+s", "save", show=False, priority=True)]
    DEFAULT_CSS = """
    ConflictScreen #conflict { width: 100%; max-width: 100; height: auto; max-height: 100%; }
    ConflictScreen #conflict-fields { height: auto; max-height: 1fr; }
    ConflictScreen .conflict-field { height: auto; margin: 0 0 1 0; }
    ConflictScreen .conflict-label { text-style: bold; }
    ConflictScreen RadioSet { width: 1fr; height: auto; border: none; padding: 0; }
    ConflictScreen .conflict-value-row { height: 1; }
    ConflictScreen .conflict-value-row Input { width: 1fr; }
    ConflictScreen #conflict-error { color: $error; height: auto; }
    """

    def __init__(self, conflict: conflicts.Conflict, record=None) -> None:  # noqa: ANN001
        super().__init__()
        self.conflict = conflict
        self.record = record

    def compose(self) -> ComposeResult:
        lang = self.app.lang
        c = self.conflict
        title = self.record.title if self.record else c.record_id[:8]
        with Vertical(classes="dialog", id="conflict"):
            yield Static(f"{t('resolve', lang)} · {RECORD_KIND.label(c.kind, lang)} · "
                         f"{fit(title, 40)}", classes="dialog-title")
            with VerticalScroll(id="conflict-fields"):
                for name, sides in c.fields.items():
                    with Vertical(classes="conflict-field"):
                        if name == conflicts.DELETED:
                            key = "deleted_here" if sides.get("mine") else "deleted_there"
                            yield Static(t(key, lang), classes="conflict-label")
                            yield RadioSet(RadioButton(t("keep_mine", lang), id="mine"),
                                           RadioButton(t("take_theirs", lang), id="theirs"),
                                           id=f"choice-{name}")
                            continue
                        yield Static(field_label(c.kind, name, lang), classes="conflict-label")
                        mine = field_value(c.kind, name, sides.get("mine"), lang)
                        theirs = field_value(c.kind, name, sides.get("theirs"), lang)
                        yield RadioSet(
                            RadioButton(f"{t('mine', lang)}: {mine}", id="mine"),
                            RadioButton(f"{t('theirs', lang)}: {theirs}", id="theirs"),
                            RadioButton(t("new_value", lang), id="value"),
                            id=f"choice-{name}")
                        with Horizontal(classes="conflict-value-row"):
                            yield Input(placeholder=t("new_value_hint", lang),
                                        id=f"value-{name}", compact=True)
            yield Static(t("choose_each", lang), id="conflict-error")
            with Horizontal(classes="buttons"):
                yield Button(t("save", lang), id="save", variant="primary")
                yield Button(t("cancel", lang), id="cancel")

    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        """Typing a value means "use this value": pick it, so it is never silently ignored."""
        name = (event.input.id or "").removeprefix("value-")
        if event.value.strip():
            self.query_one(f"#choice-{name} #value", RadioButton).value = True

    def choices(self) -> dict | None:
        """{field: "mine" | "theirs" | {"value": v}}, or None while a field has no choice."""
        picked: dict = {}
        for name in self.conflict.fields:
            pressed = self.query_one(f"#choice-{name}", RadioSet).pressed_button
            if pressed is None:
                return None
            if pressed.id == "value":
                picked[name] = {"value": self.query_one(f"#value-{name}", Input).value}
            else:
                picked[name] = pressed.id
        return picked

    @on(Button.Pressed, "#save")
    def action_save(self) -> None:
        picked = self.choices()
        error = self.query_one("#conflict-error", Static)
        if picked is None:
            error.update(t("choose_each", self.app.lang))
            error.add_class("-error")
            return
        conflict_id = self.conflict.id
        self.app.write(lambda store: conflicts.resolve(store, conflict_id, picked),
                       what="resolve", reply_to=self)

    @on(Saved)
    def _resolved(self, message: Saved) -> None:
        if message.what == "resolve":
            self.dismiss(True)

    @on(SaveFailed)
    def _refused(self, message: SaveFailed) -> None:
        if message.what == "resolve":
            message.stop()  # shown here; the dialog stays open to try again
            self.query_one("#conflict-error", Static).update(message.reason(self.app.lang))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(False)
