"""`fieldapp doctor`: check this laptop and its link to the registry; say what to do."""

from __future__ import annotations

import argparse
import json

from fieldapp.cli.lang import tr


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("doctor", help=tr(
        "检查数据库、待同步队列、磁盘、登记库、凭据和时钟,并说明每个问题怎么处理",
        "check the database, outbox, disk, registry, credential and clock, and say what to "
        "do about each problem"))
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_doctor)


def cmd_doctor(args: argparse.Namespace) -> int:
    from fieldapp.context import AppContext
    from sync.doctor import examine

    ctx = AppContext.create(args.data_dir, args.lang)
    store = ctx.open_store()
    findings = examine(store, ctx.data_dir, ctx.config_dir)
    problems = [f for f in findings if f.level != "ok"]
    if args.json:
        print(json.dumps([f.as_dict() for f in findings], ensure_ascii=False))
        return 1 if problems else 0
    mark = {"ok": "√", "warn": "!", "fail": "×"}  # all three exist in GBK consoles
    for f in findings:
        print(f"{mark[f.level]} {f.found_zh} / {f.found_en}")
        if f.todo_zh:
            print(f"    → {f.todo_zh}")
            print(f"    → {f.todo_en}")
    if problems:
        print(f"发现 {len(problems)} 个问题 / {len(problems)} problem(s) found")
    else:
        print("一切正常 / all good")
    return 1 if problems else 0
