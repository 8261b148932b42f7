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


#: argparse's own words (usage, headings, its refusals) in Chinese; refusals stay bilingual,
#: as every error is. Keys are argparse's English format strings (gettext msgids).
ARGPARSE_ZH = {
    "usage: ": "用法: ",
    "positional arguments": "位置参数",
    "options": "选项",
    "optional arguments": "选项",
    "show this help message and exit": "显示帮助并退出",
    "show program's version number and exit": "显示版本号并退出",
    "the following arguments are required: %s": "缺少必需的参数 / the following arguments are "
                                                 "required: %s",
    "unrecognized arguments: %s": "无法识别的参数 / unrecognized arguments: %s",
    "invalid choice: %(value)r (choose from %(choices)s)":
        "无效的选项 / invalid choice: %(value)r (可选 / choose from %(choices)s)",
    "argument %(argument_name)s: %(message)s": "参数 %(argument_name)s: %(message)s",
    "expected one argument": "需要一个值 / expected one argument",
    "expected at least one argument": "至少需要一个值 / expected at least one argument",
    "expected at most one argument": "最多一个值 / expected at most one argument",
    "invalid %(type)s value: %(value)r": "无效的 %(type)s 值 / invalid %(type)s value: "
                                         "%(value)r",
    "ambiguous option: %(option)s could match %(matches)s":
        "选项不明确 / ambiguous option: %(option)s could match %(matches)s",
    "not allowed with argument %s": "不能与参数 %s 同用 / not allowed with argument %s",
    "one of the arguments %s is required": "需要以下参数之一 / one of the arguments %s is "
                                           "required",
    "ignored explicit argument %r": "多余的值 / ignored explicit argument %r",
    "unknown parser %(parser_name)r (choices: %(choices)s)":
        "未知命令 / unknown command %(parser_name)r (可选 / choices: %(choices)s)",
}


def localise_argparse() -> None:
    """Make argparse speak the command line's language (it looks its words up through
    gettext at the moment it prints them, so setting its `_` is enough)."""
    import argparse
    import gettext

    if _current[0] == "zh":
        argparse._ = lambda text: ARGPARSE_ZH.get(text) or gettext.gettext(text)
    else:
        argparse._ = gettext.gettext
