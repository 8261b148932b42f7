"""`fieldapp settings`: show or change the preferences kept in the data folder."""

from __future__ import annotations

import argparse

from fieldapp.cli import CliError
from fieldapp.cli.lang import tr
from fieldapp.context import AppContext
from fieldapp.i18n import Msg

#: setting → (allowed values, default, what it is)
SETTINGS = {
    "borders": (("auto", "plain", "box"), "auto", Msg(
        "边框样式:auto 按终端自动选择,plain 纯 ASCII(旧版控制台),box 线框字符",
        "border style: auto picks by terminal, plain is ASCII (legacy console), box uses "
        "box-drawing characters")),
    "lang": (("zh", "en"), "zh", Msg("界面语言", "interface language")),
}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("settings", help=tr("查看或修改设置(borders 边框、lang 语言)",
                                           "show or change a setting (borders, lang)"))
    p.add_argument("name", nargs="?", choices=sorted(SETTINGS), metavar="NAME",
                   help="borders | lang")
    p.add_argument("value", nargs="?", metavar="VALUE")
    p.set_defaults(func=cmd_settings)


def cmd_settings(args: argparse.Namespace) -> int:
    from fieldapp.store.db import transaction

    ctx = AppContext.create(args.data_dir, args.lang)
    store = ctx.open_store()
    try:
        names = [args.name] if args.name else sorted(SETTINGS)
        if args.value is not None:
            allowed = SETTINGS[args.name][0]
            if args.value not in allowed:
                raise CliError(f"{args.name} 只能是 / must be one of: {' | '.join(allowed)} "
                               f"(不是 / not {args.value!r})")
            with transaction(store.conn):
                store.set_setting(args.name, args.value)
        for name in names:
            allowed, default, about = SETTINGS[name]
            value = store.setting(name) or default
            print(f"{name} = {value}    ({' | '.join(allowed)}; {about(ctx.lang)})")
    finally:
        store.conn.close()
    return 0
