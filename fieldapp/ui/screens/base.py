"""What every full screen shares: its key hints for the status bar, and redrawing itself in
the other language when the user switches (now, or when it next comes to the front)."""

from __future__ import annotations

from textual import events
from textual.screen import Screen


class BaseScreen(Screen):
    #: (key as shown, i18n key of what it does) for the status bar.
    HINTS: list[tuple[str, str]] = []

    def __init__(self) -> None:
        super().__init__()
        self.shown_lang = ""

    @property
    def lang(self) -> str:
        return self.app.lang

    #: Below this many columns the screen gets the `-narrow` class (app.tcss lays it out
    #: for 80×24: filters on two rows, side panels folded away).
    NARROW = 100

    def on_resize(self, event: events.Resize) -> None:
        self.set_class(event.size.width < self.NARROW, "-narrow")

    def key_hints(self) -> list[tuple[str, str]]:
        return self.HINTS

    def reload(self) -> None:
        """Fetch this screen's data again (after a change elsewhere or a language switch)."""

    async def relabel(self) -> None:
        self.before_relabel()
        self.shown_lang = self.lang
        await self.recompose()
        self.reload()

    def before_relabel(self) -> None:
        """Keep what the user typed before the widgets are rebuilt."""

    def on_key(self, event: events.Key) -> None:
        if getattr(self.app, "search_pending", False) and event.is_printable \
                and event.character:
            self.app.search_typed += event.character
            event.stop()
            event.prevent_default()

    async def on_screen_resume(self, event: events.ScreenResume) -> None:
        if not self.shown_lang:  # first time in front
            self.shown_lang = self.lang
            self.reload()
        elif self.shown_lang != self.lang:
            await self.relabel()
        else:
            self.reload()
