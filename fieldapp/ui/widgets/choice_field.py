"""A one-line choice control: shows the chosen label; ←/→ step through the choices, Enter
opens a picker with a filter box (type part of a grid name or code), Delete clears.

Used instead of Textual's Select because a form has a dozen choice fields and each Select
builds its whole drop-down up front, which made the site form take seconds to open; this is
one widget per field, and the picker is built only when opened.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Input, OptionList
from textual.widgets.option_list import Option

from fieldapp.ui.format import fit


class ChoicePicker(ModalScreen[Any]):
    """The list of choices with a filter box; dismisses with a code, or None to keep as is."""

    BINDINGS = [Binding("escape", "cancel", show=False),
                Binding("down", "to_list", show=False)]
    DEFAULT_CSS = """
    ChoicePicker { align: center middle; }
    ChoicePicker > Vertical { width: 70; height: auto; max-height: 80%;
                              border: thick $accent; background: $surface; }
    ChoicePicker OptionList { height: auto; max-height: 20; }
    """

    def __init__(self, title: str, options: list[tuple[str, Any]], current: Any,
                 resolve: Callable[[str], list] | None = None) -> None:
        super().__init__()
        self.title_text = title
        self.options = options
        self.current = current
        self.resolve = resolve  # other names for choices (宝宝屋 → childcare), if any
        self.shown: list[tuple[str, Any]] = options

    def compose(self) -> ComposeResult:
        with Vertical():
            filter_box = Input(placeholder=self.title_text, id="picker-filter")
            filter_box.display = len(self.options) > 8
            yield filter_box
            yield OptionList(id="picker-list")

    def on_mount(self) -> None:
        self._fill("")
        if len(self.options) > 8:
            self.query_one("#picker-filter").focus()
        else:
            self.query_one(OptionList).focus()

    def _fill(self, text: str) -> None:
        needle = text.strip().lower()
        named = set(self.resolve(text) if self.resolve and needle else ())
        self.shown = [(label, code) for label, code in self.options
                      if not needle or needle in label.lower() or needle in str(code).lower()
                      or code in named]
        options = self.query_one(OptionList)
        options.clear_options()
        options.add_options([Option(label) for label, _ in self.shown])
        codes = [code for _, code in self.shown]
        if self.shown:
            options.highlighted = codes.index(self.current) if self.current in codes else 0

    @on(Input.Changed, "#picker-filter")
    def _filter(self, event: Input.Changed) -> None:
        self._fill(event.value)

    @on(Input.Submitted, "#picker-filter")
    def _take_first(self) -> None:
        options = self.query_one(OptionList)
        if self.shown:
            self.dismiss(self.shown[options.highlighted or 0][1])

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.shown[event.option_index][1])

    def action_to_list(self) -> None:
        self.query_one(OptionList).focus()

    def action_cancel(self) -> None:
        self.dismiss(None)


class ChoiceField(Widget, can_focus=True):
    BINDINGS = [
        Binding("enter,space", "pick", show=False),
        Binding("right", "step(1)", show=False),
        Binding("left", "step(-1)", show=False),
        Binding("delete,backspace", "clear", show=False),
    ]
    DEFAULT_CSS = """
    ChoiceField { height: 1; width: 1fr; background: $boost; padding: 0; }
    ChoiceField:focus { background: $accent 30%; text-style: bold; }
    ChoiceField.-disabled-look { color: $text-muted; }
    """

    value: reactive[Any] = reactive(None, init=False)

    class Changed(Message):
        def __init__(self, choice: ChoiceField, value: Any) -> None:
            super().__init__()
            self.choice = choice
            self.value = value

        @property
        def control(self) -> ChoiceField:
            return self.choice

    def __init__(self, options: list[tuple[str, Any]], value: Any = None, *, prompt: str = "",
                 title: str = "", id: str | None = None, disabled: bool = False,
                 resolve: Callable[[str], list] | None = None) -> None:
        super().__init__(id=id, disabled=disabled)
        self.options = options
        self.resolve = resolve
        self.prompt = prompt
        self.picker_title = title or prompt
        self.set_reactive(ChoiceField.value, value)

    def label_of(self, value: Any) -> str | None:
        for label, code in self.options:
            if code == value:
                return label
        return None if value is None else str(value)

    def render(self) -> Text:
        label = self.label_of(self.value)
        width = max(4, self.size.width - 4)
        if label is None:
            return Text(fit(self.prompt, width) + " ▾", style="italic dim")
        return Text(fit(label.strip(), width) + " ▾")

    def watch_value(self, value: Any) -> None:
        self.post_message(self.Changed(self, value))

    def action_pick(self) -> None:
        def chosen(code: Any) -> None:
            if code is not None:
                self.value = code
        self.app.push_screen(ChoicePicker(self.picker_title, self.options, self.value,
                                          self.resolve), chosen)

    def action_step(self, step: int) -> None:
        codes = [code for _, code in self.options]
        if not codes:
            return
        index = codes.index(self.value) if self.value in codes else (-1 if step > 0 else 0)
        self.value = codes[(index + step) % len(codes)]

    def action_clear(self) -> None:
        self.value = None

    def on_click(self) -> None:
        self.action_pick()
