"""Attachment commands: attach files to a record, list them, open, fetch, remove, retry."""

from __future__ import annotations

import argparse
import json

from fieldapp.cli import CliError
from fieldapp.context import AppContext


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("attach", help="attach photos or documents to a record (works offline)")
    p.add_argument("record_id", metavar="RECORD_ID", help="record id (or its first 8 characters)")
    p.add_argument("files", nargs="+", metavar="FILE", help="JPEG/PNG/HEIC/WebP or PDF, ≤20 MB")
    p.add_argument("--caption", default="", help="a short description (说明)")
    p.add_argument("--kind", choices=["photo", "document"],
                   help="default: photo for images, document for PDF")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_attach)

    p = sub.add_parser("attachments", help="list a record's attachments")
    p.add_argument("record_id", metavar="RECORD_ID", nargs="?")
    p.add_argument("--json", action="store_true")
    p.add_argument("--auto-download", choices=["on", "off"],
                   help="fetch every attachment's file at sync (default off: on demand only)")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("attachment", help="open, fetch, remove or retry one attachment")
    p.add_argument("action", choices=["open", "fetch", "remove", "retry"])
    p.add_argument("attachment_id", metavar="ID", help="attachment id (or its first 8 chars)")
    p.set_defaults(func=cmd_one)


def _ctx(args: argparse.Namespace) -> AppContext:
    return AppContext.create(args.data_dir, args.lang)


def _record_id(store, given: str) -> str:  # noqa: ANN001
    rows = store.conn.execute("SELECT id FROM record WHERE deleted = 0 AND (id = ? OR id LIKE ?) "
                              "LIMIT 2", (given, given + "%" if len(given) >= 6 else given)
                              ).fetchall()
    if len(rows) != 1:
        raise CliError(f"没有这条记录(或编号不唯一)/ no such record (or the id is ambiguous): "
                       f"{given}")
    return rows[0][0]


def cmd_attach(args: argparse.Namespace) -> int:
    from fieldapp.store import attachments as att

    ctx = _ctx(args)
    store = ctx.open_store()
    record_id = _record_id(store, args.record_id)
    done, failed = [], []
    # Each file on its own: one unreadable file on a camera card must not stop the others.
    for name in args.files:
        try:
            done.append(att.attach(store, record_id, name, caption=args.caption,
                                   kind=args.kind, data_dir=ctx.data_dir))
        except att.AttachmentError as exc:
            failed.append((name, exc.message(ctx.lang)))
    if args.json:
        print(json.dumps({"attached": [a.wire() for a in done],
                          "failed": [{"file": f, "reason": r} for f, r in failed]},
                         ensure_ascii=False))
    else:
        for a in done:
            print(f"{a.id[:8]}  {a.kind:8}  {_size(a.size):>8}  {a.name}")
    if failed:
        for name, reason in failed:
            print(f"fieldapp: {name}: {reason}", file=__import__("sys").stderr)
        return 1
    return 0


def _size(n: int) -> str:
    from fieldapp.domain.attachment_types import human_size

    return human_size(n)


def cmd_list(args: argparse.Namespace) -> int:
    from fieldapp.store import attachments as att
    from fieldapp.store.db import transaction
    from sync.attachment_sync import AUTO_DOWNLOAD

    ctx = _ctx(args)
    store = ctx.open_store()
    if args.auto_download:
        with transaction(store.conn):
            store.set_setting(AUTO_DOWNLOAD, "1" if args.auto_download == "on" else "0")
        print(f"附件自动下载 / auto-download: {args.auto_download}")
        if not args.record_id:
            return 0
    if not args.record_id:
        raise CliError("请给出记录编号 / give a record id")
    items = att.list_for(store, _record_id(store, args.record_id))
    if args.json:
        print(json.dumps([{**a.wire(), "state": a.state, "has_content": a.has_content,
                           "error": a.last_error} for a in items], ensure_ascii=False))
        return 0
    if not items:
        print("没有附件 / no attachments")
    for a in items:
        print(f"{a.id[:8]}  {a.kind:8}  {_size(a.size):>8}  {a.sync_label(ctx.lang):6}  "
              f"{a.name}  {a.caption}")
        if a.last_error:
            print(f"          {a.last_error.get('message_zh', '')} / "
                  f"{a.last_error.get('message', '')}")
    return 0


def cmd_one(args: argparse.Namespace) -> int:
    from fieldapp.store import attachments as att

    ctx = _ctx(args)
    store = ctx.open_store()
    try:
        item = att.require(store, args.attachment_id)
        if args.action == "remove":
            att.remove(store, item.id, ctx.data_dir)
            print(f"已删除 / removed: {item.name}")
            return 0
        if args.action == "retry":
            att.set_error(store, item.id, None)
            print(f"下次同步将重新上传 / will be sent again at the next sync: {item.name}")
            return 0
        path = att.blob_path(ctx.data_dir, item.sha256)
        if not path.exists():
            path = _fetch(ctx, item.id)
        if args.action == "fetch":
            print(path)
            return 0
        if not att.open_with_viewer(path):
            print(path)  # no desktop here: the path is what a user can act on
        return 0
    except att.AttachmentError as exc:
        raise CliError(exc.message(ctx.lang)) from exc


def _fetch(ctx: AppContext, attachment_id: str):  # noqa: ANN202
    from fieldapp.cli.sync_cmds import open_engine
    from sync import attachment_sync
    from sync.client import SyncError

    try:
        engine = open_engine(ctx)
        with engine.client:
            return attachment_sync.download(engine.store, engine.client, attachment_id,
                                            ctx.data_dir)
    except SyncError as exc:
        raise CliError(f"无法下载附件 / cannot fetch the attachment: {exc.message('zh')}") \
            from exc
