"""Basic commands: open the app, make the demo, status, list."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace

from fieldapp.cli.lang import tr
from fieldapp.cli.options import (
    add_all_local,
    area_code,
    choice_type,
    function_type,
    hidden_note,
    kinds_type,
    non_negative_int,
    positive_int,
    scope_of,
)
from fieldapp.context import AppContext
from fieldapp.domain.choices import STATUS
from fieldapp.domain.records import KINDS


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help=tr("生成演示数据并打开程序(fieldapp demo)",
                                       "make a demo data folder and open the app on it"))
    p.add_argument("--records", type=non_negative_int, default=2000, metavar="N",
                   help=tr("生成多少条记录(默认 2000;可试 100000)",
                           "how many records to make (default 2000; try 100000)"))
    p.add_argument("--no-open", action="store_true",
                   help=tr("只准备数据,不打开程序", "only prepare the data"))
    p.add_argument("--reset", action="store_true",
                   help=tr("先删除旧的演示数据", "remove the old demo data first"))
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("status", help=tr("本机记录按类型和状态计数,及待同步数量(fieldapp status)",
                                         "counts of local records by type and status"))
    p.add_argument("--json", action="store_true", help=tr("以 JSON 输出", "print JSON"))
    add_all_local(p)
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("list", help=tr("列出记录(fieldapp list sites --status 已提交)",
                                       "print matching records"))
    p.add_argument("kind", type=kinds_type, metavar="sites|facilities|inspections",
                   help=tr("存量资源、设施或巡查", "sites, facilities or inspections"))
    p.add_argument("--search", metavar="TEXT",
                   help=tr("搜索地址、权属方、名称、备注(一两个字也可)",
                           "search address, owner, name, notes (one or two characters work)"))
    p.add_argument("--grid", metavar="CODE",
                   help=tr("网格、街镇或区的编码或名称", "a grid, street or district code or name"))
    p.add_argument("--status", type=choice_type(STATUS, ("状态", "status")), metavar="STATUS",
                   help=tr("草稿、已提交、已退回或已通过(也可写 draft 等)",
                           "draft, submitted, returned or approved (or 草稿 …)"))
    p.add_argument("--function", type=function_type, metavar="FUNCTION",
                   help=tr("服务功能,如 养老、宝宝屋、助餐(养老也找失能失智照护)",
                           "a function, e.g. elderly, 宝宝屋 (a scene finds its services too)"))
    p.add_argument("--limit", type=positive_int, default=50, metavar="N",
                   help=tr("最多列出 N 条(默认 50)", "at most N records (default 50)"))
    p.add_argument("--json", action="store_true", help=tr("以 JSON 输出", "print JSON"))
    add_all_local(p)
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("tui", help=tr("打开程序(与不带命令相同)",
                                      "open the app (the same as no command)"))
    p.set_defaults(func=cmd_open)


KIND_OF = {"sites": "site", "facilities": "facility", "inspections": "inspection"}


def context(args: argparse.Namespace) -> AppContext:
    return AppContext.create(args.data_dir, args.lang)


def cmd_open(args: argparse.Namespace, registry=None) -> int:  # noqa: ANN001
    """Run the app; exit code 1 if it stopped on an error (Textual has printed why)."""
    from fieldapp.ui.app import FieldApp
    from sync.background import BackgroundSync

    ctx = context(args)
    app = FieldApp(ctx)
    from fieldapp.ui.plain import apply_plain, wants_plain

    if wants_plain(getattr(args, "plain", False), app.store.setting("borders")):
        apply_plain(app)
    # Waits until the laptop is enrolled; the app restarts it when the user is switched.
    app.background = BackgroundSync(ctx, app.set_sync_status)
    if registry is not None:
        registry.on_ready = app.poke_sync  # wake sync out of its offline backoff at once
    app.background.start()
    try:
        app.run()
    finally:
        app.background.stop()
    return app.return_code or 0


def demo_dir(args: argparse.Namespace):
    from pathlib import Path

    from fieldapp import paths

    if args.data_dir:
        return Path(args.data_dir)
    return paths.data_dir() / "demo"


def cmd_demo(args: argparse.Namespace) -> int:
    from fieldapp.cli import CliError
    from fieldapp.compat.files import remove_tree
    from fieldapp.demo import populate

    folder = demo_dir(args)
    if args.reset and folder.exists():
        try:  # on Windows an antivirus scan or another fieldapp may hold the database
            remove_tree(folder)
        except OSError as exc:
            raise CliError(f"无法删除旧的演示数据(文件被其他程序占用?请关闭 fieldapp 后重试)/ "
                           f"cannot remove the old demo data (is a file open in another "
                           f"program? close fieldapp and retry): {exc}") from exc
    args.data_dir = str(folder)
    ctx = context(args)
    store = ctx.open_store()
    if store.count_all() == 0:
        store.set_setting("current_user", "wangfang")
        store.set_setting("role:wangfang", "worker")
        store.user = "wangfang"
        n = populate(store, max(0, args.records))
        print(f"演示数据已生成 / demo data ready: {n} records in {folder}", file=sys.stderr)
    else:
        print(f"使用已有演示数据 / using existing demo data in {folder} (--reset to remake)",
              file=sys.stderr)
    store.conn.close()
    if args.no_open:
        print(folder)
        return 0
    from sync.demo_registry import start_in_background

    registry = start_in_background(folder)  # sync works with no setup; never blocks the app
    try:
        return cmd_open(args, registry)
    finally:
        registry.stop()
        if registry.error:
            print(f"演示同步服务器未启动 / the demo registry did not start: {registry.error}",
                  file=sys.stderr)


def cmd_status(args: argparse.Namespace) -> int:
    store = context(args).open_store()
    scope = scope_of(store, args)
    counts = store.counts_by_kind(scope.grids)
    pending = store.pending_count()
    from fieldapp.store.attachments import counts as attachment_counts

    files = attachment_counts(store)
    hidden = 0
    if scope.limited:
        every = store.counts_by_kind()
        hidden = sum(sum(v.values()) for v in every.values()) - \
            sum(sum(v.values()) for v in counts.values())
    if args.json:
        print(json.dumps({"records": counts, "outbox_pending": pending, "attachments": files,
                          "scope": list(scope.areas) if scope.limited else None,
                          "outside_scope": hidden}, ensure_ascii=False))
        return 0
    from fieldapp.domain.choices import RECORD_KIND
    from fieldapp.io.exporter import text_width

    lang = args.lang or "zh"
    zh = lang == "zh"
    rows = [(RECORD_KIND.label(kind, lang), sum(counts.get(kind, {}).values()),
             ", ".join(f"{STATUS.label(s, lang)} {counts.get(kind, {}).get(s, 0)}"
                       for s in STATUS.codes())) for kind in KINDS]
    rows.append(("待同步" if zh else "Outbox", pending, "等待发送到登记库" if zh else
                 "waiting to go to the registry"))
    rows.append(("附件" if zh else "Attachments", files["total"],
                 f"待上传 {files['to_upload']}, 未下载 {files['not_fetched']}" if zh else
                 f"to upload {files['to_upload']}, not fetched {files['not_fetched']}"))
    width = max(text_width(r[0]) for r in rows) + 2
    for label, n, detail in rows:
        print(f"{label}{' ' * (width - text_width(label))}{n:>7,}  ({detail})")
    note = hidden_note(scope, hidden)
    if note:
        print(note, file=sys.stderr)
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from fieldapp.store.records import Query

    store = context(args).open_store()
    kind = KIND_OF[args.kind]  # kinds_type gives the plural
    if args.function and kind == "inspection":
        from fieldapp.cli import CliError

        raise CliError("巡查记录没有服务功能,--function 只用于存量资源和设施 / inspections have "
                       "no functions: --function is for sites and facilities")
    scope = scope_of(store, args)
    grid = area_code(store, args.grid) if args.grid else None
    query = Query(kind=kind, search=args.search, grid_code=grid, status=args.status,
                  function=args.function, scope=scope.grids)
    records = store.query(query, limit=args.limit)
    if args.json:
        print(json.dumps([{"id": r.id, "kind": r.kind, "status": r.status, "grid_code": r.grid_code,
                           "updated_at": r.updated_at, "data": r.data} for r in records],
                         ensure_ascii=False, indent=1))
    else:
        from fieldapp import localtime

        for r in records:
            print(f"{r.id[:8]}  {r.grid_code or '':<16} "
                  f"{STATUS.label(r.status, args.lang or 'zh'):<4} "
                  f"{localtime.show(r.updated_at, date_only=True)}  {r.title}")
    sys.stdout.flush()
    if len(records) == args.limit:
        total = store.count(query)
        if total > len(records):
            print(f"显示 {len(records):,} / {total:,} 条,--limit 查看更多 / showing "
                  f"{len(records):,} of {total:,}: --limit shows more", file=sys.stderr)
    if scope.limited:
        hidden = store.count(replace(query, scope=None)) - store.count(query)
        note = hidden_note(scope, hidden)
        if note:
            print(note, file=sys.stderr)
    return 0
