"""The bottom bar: the current screen's keys on the left; online/offline, items waiting to
sync and the current user on the right.

It replaces Textual's Footer because binding descriptions there are fixed per class, and the
keys must follow the language switch.
"""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from fieldapp import localtime
from fieldapp.ui.i18n import t

_STATE_STYLE = {"online": "bold green", "offline": "bold yellow", "syncing": "bold cyan",
                "sync_error": "bold red"}


class StatusBar(Static):
    DEFAULT_CSS = """
    StatusBar { dock: bottom; height: 1; background: $panel; color: $text; }
    """

    def on_mount(self) -> None:
        for name in ("sync_status", "pending", "conflicts", "last_sync_at", "lang"):
            self.watch(self.app, name, self._changed, init=False)

    def _changed(self, _value: object) -> None:
        self.refresh()

    def render(self) -> Table:
        app = self.app
        lang = app.lang
        keys = Text()
        hints = getattr(self.screen, "key_hints", None)
        for key, label in (hints() if hints else []):
            keys.append(f" {key} ", style="bold reverse")
            keys.append(f" {t(label, lang)}  ")
        state = app.sync_status if app.sync_status in _STATE_STYLE else "offline"
        status = Text()
        status.append(f" ● {t(state, lang)} ", style=_STATE_STYLE[state])
        status.append(f"│ {t('waiting_sync', lang)} {app.pending} ")
        if app.conflicts:
            status.append(f"│ {t('conflicts_n', lang)} {app.conflicts} ", style="bold red")
        if app.last_sync_at:
            status.append(f"│ {t('last_sync', lang)} {localtime.show_short(app.last_sync_at)} ")
        user = app.store.user or t("no_user", lang)
        status.append(f"│ {t('user', lang)} {user} ")
        grid = Table.grid(expand=True)
        grid.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
        grid.add_column(justify="right", no_wrap=True)
        grid.add_row(keys, status)
        return grid
