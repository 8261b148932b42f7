"""The bottom bar: the current screen's keys on the left; online/offline, items waiting to
sync, open conflicts, the last sync and the current user on the right.

It replaces Textual's Footer because binding descriptions there are fixed per class, and the
keys must follow the language switch. A key hint is shown whole or not at all (never "新建存…"):
when the bar is narrow, the way back (Esc) and help (?) are kept and the other hints are
dropped from the end; the right-hand side shortens itself first.
"""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from fieldapp import localtime
from fieldapp.ui.i18n import t

_STATE_STYLE = {"online": "bold green", "offline": "bold yellow", "syncing": "bold cyan",
                "sync_error": "bold red", "locked": "bold magenta"}
#: Keys that are always shown when the screen has them: how to go back, and where help is.
ESSENTIAL = {"Esc", "?", "F1"}


def hint_text(key: str, label: str) -> Text:
    text = Text()
    text.append(f" {key} ", style="bold reverse")
    text.append(f" {label} ")
    return text


def fit_hints(hints: list[tuple[str, str]], width: int) -> Text:
    """As many whole hints as fit in `width` cells, essential ones first, in screen order."""
    pieces = [(key, hint_text(key, label)) for key, label in hints]
    room = width
    chosen: set[int] = set()
    for index, (key, piece) in enumerate(pieces):
        if key in ESSENTIAL and piece.cell_len <= room:
            chosen.add(index)
            room -= piece.cell_len
    for index, (_key, piece) in enumerate(pieces):
        if index not in chosen and piece.cell_len <= room:
            chosen.add(index)
            room -= piece.cell_len
    out = Text(no_wrap=True, overflow="crop")
    for index, (_, piece) in enumerate(pieces):
        if index in chosen:
            out.append_text(piece)
    return out


class StatusBar(Static):
    DEFAULT_CSS = """
    StatusBar { dock: bottom; height: 1; background: $panel; color: $text; }
    """

    def on_mount(self) -> None:
        for name in ("sync_status", "pending", "conflicts", "last_sync_at", "lang"):
            if hasattr(self.app, name):
                self.watch(self.app, name, self._changed, init=False)

    def _changed(self, _value: object) -> None:
        self.refresh()

    def on_resize(self) -> None:
        self.refresh()

    def state_text(self, lang: str, compact: bool) -> Text:
        app = self.app
        status = Text(no_wrap=True)
        if not hasattr(app, "sync_status"):
            return status  # a screen shown outside the field app (tests, tools)
        state = app.sync_status if app.sync_status in _STATE_STYLE else "offline"
        status.append(f" ● {t(state, lang)} ", style=_STATE_STYLE[state])
        if compact:
            status.append(f"│ {t('waiting_n', lang, n=app.pending)} ")
        else:
            status.append(f"│ {t('waiting_sync', lang)} {app.pending} ")
        if app.conflicts:
            status.append(f"│ {t('conflicts_n', lang)} {app.conflicts} ", style="bold red")
        if app.last_sync_at and not compact:
            status.append(f"│ {t('last_sync', lang)} "
                          f"{localtime.show_short(app.last_sync_at)} ")
        user = app.store.user or t("no_user", lang)
        status.append(f"│ {user} " if compact else f"│ {t('user', lang)} {user} ")
        return status

    def render(self) -> Table:
        lang = getattr(self.app, "lang", "zh")
        width = self.size.width or 80
        status = self.state_text(lang, compact=width < 100)
        hints = getattr(self.screen, "key_hints", None)
        labelled = [(key, t(label, lang)) for key, label in (hints() if hints else [])]
        keys = fit_hints(labelled, max(0, width - status.cell_len - 1))
        grid = Table.grid(expand=True)
        grid.add_column(ratio=1, no_wrap=True, overflow="crop")
        grid.add_column(justify="right", no_wrap=True)
        grid.add_row(keys, status)
        return grid
