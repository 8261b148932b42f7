"""A yes/no answer that reads the same ticked or not: `[✓] 是`, `[ ] 否`, or `[ ] 未填`.

Textual's Checkbox shows its state only by the colour of an X (the same glyph ticked or not),
and its focus style hid the label. Here the state is in the text itself, so it survives a
monochrome terminal, --plain and a screenshot; an unanswered question stays unanswered (None)
until someone answers it, rather than reading as "no".
"""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

from fieldapp.ui.i18n import t


class YesNo(Widget, can_focus=True):
    BINDINGS = [
        Binding("space,enter", "toggle", show=False),
        Binding("y", "answer(True)", show=False),
        Binding("n", "answer(False)", show=False),
        Binding("delete,backspace", "answer(None)", show=False),
    ]
    DEFAULT_CSS = """
    YesNo { height: 1; width: 1fr; background: $boost; }
    YesNo:focus { background: $accent 30%; text-style: bold; }
    """

    value: reactive[bool | None] = reactive(None, init=False)

    class Changed(Message):
        def __init__(self, yes_no: YesNo, value: bool | None) -> None:
            super().__init__()
            self.yes_no, self.value = yes_no, value

        @property
        def control(self) -> YesNo:
            return self.yes_no

    def __init__(self, value: bool | None, lang: str, *, id: str | None = None,
                 disabled: bool = False) -> None:
        super().__init__(id=id, disabled=disabled)
        self.lang = lang
        self.set_reactive(YesNo.value, value)

    def render(self) -> Text:
        if self.value is None:
            return Text(f"[ ] {t('unanswered', self.lang)}", style="italic dim")
        if self.value:
            return Text.assemble(("[✓] ", "bold green"), t("yes", self.lang))
        return Text(f"[ ] {t('no', self.lang)}")

    def watch_value(self, value: bool | None) -> None:
        self.post_message(self.Changed(self, value))

    def action_toggle(self) -> None:
        self.value = not self.value

    def action_answer(self, value: bool | None) -> None:
        self.value = value

    def on_click(self) -> None:
        self.action_toggle()
