"""The command palette (Ctrl+P): every main action by name, in the current language with the
other language beside it, so either can be typed."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from fieldapp.i18n import other_lang
from fieldapp.ui.i18n import t

#: (i18n key of the name, app action method without "action_").
ACTIONS = [
    ("new_site", "new_site"), ("new_facility", "new_facility"), ("search", "search"),
    ("sites", "sites"), ("facilities", "facilities"), ("home", "home"),
    ("coverage", "coverage"), ("progress", "progress"), ("map", "map"),
    ("report_area", "report_area"),
    ("review", "review"), ("sync_screen", "sync_screen"),
    ("switch_lang", "switch_lang"), ("unlock_sync", "unlock_sync"), ("help", "help"),
]


class FieldCommands(Provider):
    def _commands(self) -> list[tuple[str, str]]:
        lang = self.app.lang
        other = other_lang(lang)
        commands = [(f"{t(key, lang)} ({t(key, other)})", action) for key, action in ACTIONS]
        current = self.app.store.user
        commands += [(f"{t('switch_user_to', lang, name=name)} "
                      f"({t('switch_user_to', other, name=name)})",
                      f"switch_user:{name}")
                     for name in self.app.enrolled_users() if name != current]
        return commands

    def _run(self, action: str) -> None:
        action, _, argument = action.partition(":")
        method = getattr(self.app, f"action_{action}")
        method(argument) if argument else method()

    async def discover(self) -> Hits:
        for name, action in self._commands():
            yield DiscoveryHit(name, partial(self._run, action))

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, action in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), partial(self._run, action), text=name)
