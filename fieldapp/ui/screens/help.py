"""The help screen: every key, by where it works."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from fieldapp.ui.i18n import t

#: (section, [(keys, i18n key)]) — the keys the screens bind.
KEYS = [
    ("help_global", [("F1 / ?", "help"), ("Ctrl+P", "help_palette"), ("h", "home"),
                     ("s", "sites"), ("f", "facilities"), ("n", "new_site"), ("/", "search"),
                     ("c", "coverage"), ("j", "progress"), ("v", "review"), ("F5", "sync_screen"),
                     ("Ctrl+L", "switch_lang"),
                     ("Ctrl+Q", "quit")]),
    ("help_list", [("↑ ↓", "help_move"), ("Enter", "help_open_row"), ("[  ]", "page_keys"),
                   ("o", "sort_dir"), ("x", "clear_filters"), ("n", "new"),
                   ("g", "map"), ("Esc", "back")]),
    ("help_form", [("Tab / Shift+Tab", "help_move"), ("Ctrl+S", "save_draft"),
                   ("F9", "submit"), ("Space", "help_multi"), ("Esc", "back")]),
    ("help_detail", [("e", "edit"), ("l", "jr_title"), ("i", "record_inspection"),
                     ("o", "open_target"), ("a", "attachments"), ("g", "map"),
                     ("p", "report_ledger"), ("Esc", "back")]),
]


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,f1,question_mark,q", "close", show=False)]

    def __init__(self, lang: str) -> None:
        super().__init__()
        self.lang = lang

    def compose(self) -> ComposeResult:
        lang = self.lang
        table = Table(box=None, show_header=False, pad_edge=False)
        table.add_column(style="bold", no_wrap=True)
        table.add_column()
        for section, keys in KEYS:
            table.add_row(Text(t(section, lang), style="underline"), "")
            for key, what in keys:
                table.add_row(key, t(what, lang))
            table.add_row("", "")
        with Vertical(classes="dialog", id="help"):
            yield Static(t("help_title", lang), classes="dialog-title")
            with VerticalScroll(id="help-keys"):
                yield Static(table)
            yield Static(t("help_footer", lang), classes="dim")

    def action_close(self) -> None:
        self.dismiss()
