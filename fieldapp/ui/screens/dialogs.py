"""Modal questions: restore an autosaved form, the possible-duplicate warning, yes/no, and a
required comment."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from fieldapp.store.records import Record
from fieldapp.ui.format import fit, short_time, status_label
from fieldapp.ui.i18n import t


class RestoreDraftModal(ModalScreen[bool]):
    """Dismisses True to restore the kept input, False to discard it.

    Escape restores: throwing away what someone typed takes the explicit button.
    """

    BINDINGS = [Binding("escape", "restore", show=False)]

    def __init__(self, lang: str, saved_at: str) -> None:
        super().__init__()
        self.lang = lang
        self.saved_at = saved_at

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(t("restore_title", self.lang), classes="dialog-title")
            yield Static(t("restore_body", self.lang, when=short_time(self.saved_at)))
            with Horizontal(classes="buttons"):
                yield Button(t("restore", self.lang), variant="primary", id="restore")
                yield Button(t("discard", self.lang), id="discard")

    @on(Button.Pressed, "#restore")
    def action_restore(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#discard")
    def _discard(self) -> None:
        self.dismiss(False)


class DuplicateModal(ModalScreen[tuple[str, str | None]]):
    """Lists records that look like the one being saved.

    Dismisses ("open", id), ("save", None) or ("cancel", None).
    """

    BINDINGS = [Binding("escape", "cancel", show=False)]

    def __init__(self, lang: str, matches: list[tuple[Record, float | None]]) -> None:
        super().__init__()
        self.lang = lang
        self.matches = matches

    def compose(self) -> ComposeResult:
        lang = self.lang
        options = []
        for record, metres in self.matches:
            why = (t("dup_same_address", lang) if metres is None
                   else t("dup_distance", lang, m=f"{metres:.0f}"))
            text = (f"{fit(record.title, 32)}  {record.grid_code or ''}  "
                    f"{status_label(record.status, lang)}  ({why})")
            options.append(Option(text, id=record.id))
        with Vertical(classes="dialog"):
            yield Static(t("dup_title", lang), classes="dialog-title")
            yield Static(t("dup_body", lang))
            yield OptionList(*options, id="dup-list")
            with Horizontal(classes="buttons"):
                yield Button(t("dup_open", lang), id="open")
                yield Button(t("dup_save", lang), variant="warning", id="save")
                yield Button(t("cancel", lang), id="cancel")

    def _open_highlighted(self) -> None:
        options = self.query_one("#dup-list", OptionList)
        index = options.highlighted if options.highlighted is not None else 0
        self.dismiss(("open", self.matches[index][0].id))

    @on(OptionList.OptionSelected)
    def _chosen(self) -> None:
        self._open_highlighted()

    @on(Button.Pressed, "#open")
    def _open(self) -> None:
        self._open_highlighted()

    @on(Button.Pressed, "#save")
    def _save(self) -> None:
        self.dismiss(("save", None))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(("cancel", None))


class CommentModal(ModalScreen[str | None]):
    """Ask for the comment a returned record must carry."""

    DEFAULT_CSS = """
    CommentModal { align: center middle; }
    CommentModal > Vertical { width: 70; height: auto; padding: 1 2; border: thick $warning;
                              background: $surface; }
    """
    BINDINGS = [Binding("escape", "cancel", show=False)]

    def __init__(self, lang: str, prompt: str) -> None:
        super().__init__()
        self.lang, self.prompt = lang, prompt

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.prompt)
            yield Input(id="comment")
            with Horizontal():
                yield Button(t("ok", self.lang), id="ok", variant="primary")
                yield Button(t("cancel", self.lang), id="cancel")

    @on(Input.Submitted)
    @on(Button.Pressed, "#ok")
    def ok(self) -> None:
        self.dismiss(self.query_one("#comment", Input).value)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmModal(ModalScreen[bool]):
    DEFAULT_CSS = """
    ConfirmModal { align: center middle; }
    ConfirmModal > Vertical { width: 50; height: auto; padding: 1 2; border: thick $primary;
                              background: $surface; }
    """
    BINDINGS = [Binding("escape", "cancel", show=False), Binding("enter", "ok", show=False)]

    def __init__(self, lang: str, question: str) -> None:
        super().__init__()
        self.lang, self.question = lang, question

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.question)
            with Horizontal():
                yield Button(t("ok", self.lang), id="ok", variant="primary")
                yield Button(t("cancel", self.lang), id="cancel")

    @on(Button.Pressed, "#ok")
    def action_ok(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(False)
