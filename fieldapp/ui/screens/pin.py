"""The PIN dialog: asks a user's PIN on a team laptop before switching to them, before a
supervisor's decision when the PIN has been idle 15 minutes, and when the app opens on a
user whose credential is still locked. The PIN is checked here (sync.credentials.unlock:
five wrong ones lock the user for a while); the dialog closes True only once it opened."""

from __future__ import annotations

from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label

from fieldapp.ui.i18n import t


class PinModal(ModalScreen[bool]):
    DEFAULT_CSS = """
    PinModal { align: center middle; }
    PinModal > Vertical { width: 60; height: auto; padding: 1 2; border: thick $warning;
                          background: $surface; }
    PinModal #pin-error { color: $error; }
    """
    BINDINGS = [Binding("escape", "cancel", show=False)]

    def __init__(self, lang: str, config_dir: Path, user: str, why: str = "pin_why_act",
                 demo_pin: str | None = None) -> None:
        super().__init__()
        self.lang, self.config_dir, self.user = lang, Path(config_dir), user
        self.why, self.demo_pin = why, demo_pin

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(t("pin_title", self.lang, name=self.user))
            yield Label(t(self.why, self.lang, name=self.user))
            if self.demo_pin:
                yield Label(t("pin_demo", self.lang, pin=self.demo_pin), id="pin-demo")
            yield Input(password=True, id="pin", max_length=32)
            yield Label("", id="pin-error")
            with Horizontal():
                yield Button(t("ok", self.lang), id="ok", variant="primary")
                yield Button(t("pin_cancel", self.lang), id="cancel")

    @on(Input.Submitted)
    @on(Button.Pressed, "#ok")
    def ok(self) -> None:
        from sync.credentials import PinRefused, unlock

        box = self.query_one("#pin", Input)
        try:
            unlock(self.config_dir, self.user, box.value)
        except PinRefused as exc:
            box.value = ""
            self.query_one("#pin-error", Label).update(exc.msg.text(self.lang))
            return
        self.dismiss(True)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(False)
