"""A record's photos and documents: the list (name, kind, size, caption, sync state), adding
one with a file picker that starts in the Pictures folder, opening with the system viewer
(fetched from the registry first when this laptop has only the metadata), and removing.

Adding and removing go through the app's writer (off the UI thread, one write at a time);
reads and fetches run in thread workers, so a 20 MB photo off a slow card never freezes the
screen.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, DirectoryTree, Input, Static

from fieldapp.domain.attachment_types import EXTENSIONS, human_size
from fieldapp.store import attachments as att
from fieldapp.store.db import connect
from fieldapp.store.records import RecordStore
from fieldapp.ui.i18n import t
from fieldapp.ui.screens.base import BaseScreen
from fieldapp.ui.widgets.status_bar import StatusBar
from fieldapp.ui.writer import Saved, SaveFailed


def start_folder() -> Path:
    """The user's Pictures folder when it exists, else home: where camera imports land."""
    import platformdirs

    pictures = Path(platformdirs.user_pictures_dir())
    return pictures if pictures.is_dir() else Path.home()


class MediaTree(DirectoryTree):
    """Folders and the files that can be attached; hidden entries left out."""

    def filter_paths(self, paths: Iterable[Path]) -> Iterable[Path]:
        out = []
        for path in paths:
            if path.name.startswith("."):
                continue
            try:
                if path.is_dir() or path.suffix.lower() in EXTENSIONS:
                    out.append(path)
            except OSError:  # an unreadable entry on a camera card: skip it, keep browsing
                continue
        return out


class FilePickerModal(ModalScreen[tuple[str, str] | None]):
    """Dismisses (path, caption) or None. The path can be picked in the tree or typed."""

    BINDINGS = [Binding("escape", "cancel", show=False)]
    DEFAULT_CSS = """
    FilePickerModal #att-picker { width: 90%; max-width: 110; height: 80%; }
    FilePickerModal #att-tree { height: 1fr; border: round $panel; }
    """

    def __init__(self, lang: str, folder: Path | None = None) -> None:
        super().__init__()
        self.lang = lang
        self.folder = folder or start_folder()

    def compose(self) -> ComposeResult:
        lang = self.lang
        with Vertical(classes="dialog", id="att-picker"):
            yield Static(t("att_pick_title", lang), classes="dialog-title")
            yield MediaTree(str(self.folder), id="att-tree")
            yield Input(placeholder=t("att_path", lang), id="att-path")
            yield Input(placeholder=t("att_caption", lang), id="att-caption", max_length=500)
            with Horizontal(classes="buttons"):
                yield Button(t("att_add", lang), variant="primary", id="att-ok")
                yield Button(t("cancel", lang), id="att-cancel")

    @on(DirectoryTree.FileSelected)
    def _picked(self, event: DirectoryTree.FileSelected) -> None:
        self.query_one("#att-path", Input).value = str(event.path)
        self.query_one("#att-caption", Input).focus()

    @on(Button.Pressed, "#att-ok")
    @on(Input.Submitted)
    def _ok(self) -> None:
        path = self.query_one("#att-path", Input).value.strip()
        if path:
            self.dismiss((path, self.query_one("#att-caption", Input).value.strip()))

    @on(Button.Pressed, "#att-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


@dataclass
class AttachmentsLoaded(Message):
    items: list[att.Attachment]
    note: str = ""


class AttachmentsScreen(BaseScreen):
    HINTS = [("n", "att_add"), ("o", "open"), ("d", "att_remove"), ("Esc", "back")]
    BINDINGS = [
        Binding("n", "add", show=False),
        Binding("o", "open", show=False),
        Binding("enter", "open", show=False),
        Binding("d", "remove", show=False),
        Binding("escape", "back", show=False),
    ]
    DEFAULT_CSS = """
    AttachmentsScreen #att-main { height: 1fr; margin: 1 2 0 2; }
    AttachmentsScreen #att-table { width: 1fr; height: 1fr; }
    AttachmentsScreen #att-preview { width: 42; height: 1fr; padding: 0 0 0 2; }
    AttachmentsScreen #att-message { height: auto; padding: 0 2; }
    AttachmentsScreen #att-message.-error { color: $error; text-style: bold; }
    """

    def __init__(self, record_id: str, title: str = "") -> None:
        super().__init__()
        self.record_id = record_id
        self.record_title = title
        self.items: list[att.Attachment] = []

    def compose(self) -> ComposeResult:
        lang = self.lang
        yield Static(f"{t('attachments', lang)} · {self.record_title}", id="att-title",
                     classes="screen-title")
        table = DataTable(id="att-table", cursor_type="row", zebra_stripes=True)
        table.add_columns(t("att_name", lang), t("att_kind", lang), t("att_size", lang),
                          t("att_caption", lang), t("att_state", lang))
        with Horizontal(id="att-main"):
            yield table
            yield Static("", id="att-preview")
        yield Static("", id="att-message")
        yield StatusBar()

    def reload(self) -> None:
        self.load()

    def _store(self) -> RecordStore:
        # Workers run in threads: each gets its own connection (sqlite3 rule).
        main = self.app.store
        return RecordStore(connect(self.app.ctx.database_path), main.user, main.role,
                           main.device_id)

    @work(thread=True, exclusive=True, group="attachments")
    def load(self, note: str = "") -> None:
        with self.app.reading() as store:
            items = att.list_for(store, self.record_id)
        self.post_message(AttachmentsLoaded(items, note))

    @on(AttachmentsLoaded)
    def show(self, message: AttachmentsLoaded) -> None:
        lang = self.lang
        self.items = message.items
        table = self.query_one("#att-table", DataTable)
        table.clear()
        for a in self.items:
            table.add_row(a.name, t(f"att_{a.kind}", lang), human_size(a.size), a.caption,
                          a.sync_label(lang), key=a.id)
        # A reload (the picker closing resumes this screen) must not wipe the answer to the
        # last action, e.g. why a file was refused.
        if message.note or not self.items:
            self.say(message.note or t("att_none", lang))

    def say(self, text: str, error: bool = False) -> None:
        line = self.query_one("#att-message", Static)
        line.update(text)
        line.set_class(error, "-error")

    def _selected(self) -> att.Attachment | None:
        table = self.query_one("#att-table", DataTable)
        if not self.items or table.cursor_row is None or table.cursor_row >= len(self.items):
            return None
        return self.items[table.cursor_row]

    # -- actions ------------------------------------------------------------------------------
    def action_add(self) -> None:
        def chosen(result: tuple[str, str] | None) -> None:
            if result:
                self.add_file(*result)

        self.app.push_screen(FilePickerModal(self.lang), chosen)

    def add_file(self, path: str, caption: str) -> None:
        record_id, data_dir = self.record_id, self.app.ctx.data_dir
        self.app.write(lambda store: att.attach(store, record_id, path, caption=caption,
                                                data_dir=data_dir),
                       what="attach", reply_to=self)

    @on(Saved)
    def _written(self, message: Saved) -> None:
        if message.what == "attach":
            item = message.result
            note = t("att_added", self.lang, name=item.name)
            if item.downscaled:  # the user sees what was sent: the smaller copy
                note += " · " + item.resize_note(self.lang)
            self.load(note)
        elif message.what == "detach":
            self.load(t("att_removed", self.lang, name=message.result))

    @on(SaveFailed)
    def _refused(self, message: SaveFailed) -> None:
        if message.what in ("attach", "detach"):
            message.stop()  # said on this screen, where the user is looking
            self.say(message.reason(self.lang), True)
            self.load()

    @on(DataTable.RowSelected)
    def _row_chosen(self) -> None:
        self.action_open()

    @on(DataTable.RowHighlighted)
    def _row_highlighted(self) -> None:
        item = self._selected()
        if item is not None:
            self.preview(item)
            if item.downscaled:
                self.say(item.resize_note(self.lang))

    @work(thread=True, exclusive=True, group="attachments-preview")
    def preview(self, item: att.Attachment) -> None:
        from fieldapp.ui.widgets.photo_preview import render

        path = att.blob_path(self.app.ctx.data_dir, item.sha256)
        box = self.query_one("#att-preview", Static)
        picture = None
        if item.mime.startswith("image/") and path.exists():
            picture = render(path, max(box.size.width - 2, 8), max(box.size.height, 4))
        if picture is None:
            note = t("att_no_preview", self.lang) if path.exists() else t(
                "att_not_fetched", self.lang)
            picture = f"{item.name}\n{human_size(item.size)}\n\n{note}"
        self.app.call_from_thread(box.update, picture)

    def action_open(self) -> None:
        item = self._selected()
        if item is not None:
            self.open_item(item)

    @work(thread=True, group="attachments-open")
    def open_item(self, item: att.Attachment) -> None:
        path = att.blob_path(self.app.ctx.data_dir, item.sha256)
        if not path.exists():
            self.app.call_from_thread(self.say, t("att_fetching", self.lang))
            try:
                path = self._fetch(item)
            except Exception as exc:  # offline, refused, damaged: say why, keep the screen
                text = exc.message(self.lang) if hasattr(exc, "message") else str(exc)
                self.app.call_from_thread(self.say, text, True)
                return
            self.load()
        try:
            copy = att.open_in_viewer(self.app.ctx.data_dir, item)
        except att.AttachmentError as exc:  # no program for it: say so, keep the app
            self.app.call_from_thread(self.say, exc.message(self.lang), True)
            return
        except Exception as exc:  # noqa: BLE001  (a worker's error would close the app)
            self.app.call_from_thread(self.say, f"{type(exc).__name__}: {exc}", True)
            return
        if copy is not None:
            self.app.call_from_thread(self.say, t("att_at", self.lang, path=str(copy)))

    def _fetch(self, item: att.Attachment) -> Path:
        from sync import attachment_sync, credentials

        store = self._store()
        try:
            client = credentials.client_for(self.app.ctx.config_dir, store.user or None)
            with client:
                return attachment_sync.download(store, client, item.id, self.app.ctx.data_dir)
        finally:
            store.conn.close()

    def action_remove(self) -> None:
        item = self._selected()
        if item is not None:
            self.remove_item(item)

    def remove_item(self, item: att.Attachment) -> None:
        data_dir = self.app.ctx.data_dir

        def remove(store):  # noqa: ANN001 - on the writer thread
            att.remove(store, item.id, data_dir)
            return item.name

        self.app.write(remove, what="detach", reply_to=self)

    def action_back(self) -> None:
        self.dismiss()
