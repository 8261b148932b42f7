"""The command line's language: Chinese by default, English with `--lang en`, FIELDAPP_LANG=en
or an English locale. Chosen once, before the parser is built, so help text is in one
language; messages about errors stay bilingual (a log read later may be read by anyone).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

LANGS = ("zh", "en")
_current = ["zh"]


def detect(argv: Sequence[str] | None = None) -> str:
    """`--lang` in argv, else FIELDAPP_LANG, else the locale (en* → en), else zh."""
    argv = list(sys.argv[1:] if argv is None else argv)
    for i, arg in enumerate(argv):
        if arg == "--":
            break
        value = None
        if arg == "--lang" and i + 1 < len(argv):
            value = argv[i + 1]
        elif arg.startswith("--lang="):
            value = arg.split("=", 1)[1]
        if value in LANGS:
            return value
    env = os.environ.get("FIELDAPP_LANG", "").strip().lower()
    if env in LANGS:
        return env
    return "en" if _locale_is_english() else "zh"


def _locale_is_english() -> bool:
    for name in ("LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"):
        value = os.environ.get(name, "")
        if value:
            return value.lower().startswith("en")
    if sys.platform == "win32":  # no locale variables on Windows: ask the system
        import locale

        try:
            name = locale.getlocale()[0] or ""
        except ValueError:
            return False
        return name.lower().startswith("english") or name.lower().startswith("en_")
    return False


def use(lang: str) -> None:
    _current[0] = lang if lang in LANGS else "zh"


def current() -> str:
    return _current[0]


def tr(zh: str, en: str) -> str:
    """The text in the command line's language."""
    return zh if _current[0] == "zh" else en
