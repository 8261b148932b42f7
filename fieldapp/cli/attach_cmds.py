"""Attachment commands: attach files to a record, list them, open, fetch, remove, retry."""

from __future__ import annotations

import argparse
import json

from fieldapp.cli import CliError
from fieldapp.cli.lang import tr
from fieldapp.cli.options import choice_type, record_id
from fieldapp.context import AppContext
from fieldapp.domain.choices import ATTACHMENT_KIND, SWITCH


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("attach", help=tr("给记录添加照片或文件(离线可用)",
                                         "attach photos or documents to a record (works offline)"))
    p.add_argument("record_id", metavar="RECORD_ID", help=tr("记录编号(或前 8 位)",
                           "record id (or its first 8 characters)"))
    p.add_argument("files", nargs="+", metavar="FILE",
                   help=tr("JPEG/PNG/HEIC/WebP 照片或 PDF,≤20 MB;D:\\DCIM\\*.JPG 这样的通配符"
                           "由本程序展开(cmd 和 PowerShell 不展开)",
                           "JPEG/PNG/HEIC/WebP or PDF, ≤20 MB; patterns such as D:\\DCIM\\*.JPG "
                           "are expanded here (cmd and PowerShell do not)"))
    p.add_argument("--caption", default="", help=tr("简短说明", "a short description (说明)"))
    p.add_argument("--kind", type=choice_type(ATTACHMENT_KIND, ("附件类别", "attachment kind")),
                   metavar="KIND",
                   help=tr("照片或文件(默认:图片为照片,PDF 为文件)",
                           "photo or document (default: photo for images, document for PDF)"))
    p.add_argument("--json", action="store_true", help=tr("以 JSON 输出", "print JSON"))
    p.set_defaults(func=cmd_attach)

    p = sub.add_parser("attachments", help=tr(
        "列出记录的附件;不给记录时显示照片设置和缩小节省的空间",
        "list a record's attachments; without a record: the photo settings and what "
        "downscaling saved"),
                       description=tr("附件列表与照片设置:不给 RECORD_ID 时显示照片长边、JPEG "
                                      "质量、是否保留原图,以及照片缩小了多少",
                                      "a record's attachments; without RECORD_ID the photo "
                                      "settings (long edge, JPEG quality, originals kept) and "
                                      "how much smaller photos became"))
    p.add_argument("record_id", metavar="RECORD_ID", nargs="?")
    p.add_argument("--json", action="store_true", help=tr("以 JSON 输出", "print JSON"))
    p.add_argument("--auto-download", type=choice_type(SWITCH, ("开关", "on/off")),
                   metavar="on|off",
                   help=tr("同步时下载每个附件的文件(默认 off:需要时才下载)",
                           "fetch every attachment's file at sync (default off: on demand "
                           "only)"))
    p.add_argument("--max-edge", type=int, metavar="PX",
                   help=tr("添加时缩小照片:长边像素(默认 2000;0 表示不缩小)",
                           "make photos smaller when attached: long edge in pixels (default "
                           "2000; 0 keeps photos as they are)"))
    p.add_argument("--quality", type=int, metavar="Q", help=tr("JPEG 质量 30-95(默认 85)",
                                                             "JPEG quality 30-95 (default 85)"))
    p.add_argument("--keep-originals", type=choice_type(SWITCH, ("开关", "on/off")),
                   metavar="on|off",
                   help=tr("在本机保留缩小前的原图(默认 on)",
                           "keep the original of a downscaled photo on this laptop (default on)"))
    p.add_argument("--drop-originals", action="store_true",
                   help=tr("删除保留的原图以释放空间(仅已同步的照片)",
                           "free the disk the kept originals take (only photos already synced)"))
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("attachment", help=tr("打开、下载、删除或重发一个附件",
                                             "open, fetch, remove or retry one attachment"))
    p.add_argument("action", choices=["open", "fetch", "remove", "retry"])
    p.add_argument("attachment_id", metavar="ID", help=tr("附件编号(或前 8 位)",
                                                          "attachment id (or its first 8 chars)"))
    p.add_argument("--original", action="store_true",
                   help=tr("打开/下载缩小前的原图(保留在本机的)",
                           "open/fetch: the original of a downscaled photo (kept on this "
                           "laptop)"))
    p.set_defaults(func=cmd_one)


def _ctx(args: argparse.Namespace) -> AppContext:
    return AppContext.create(args.data_dir, args.lang)


def _record_id(store, given: str) -> str:  # noqa: ANN001
    return record_id(store, given)


def cmd_attach(args: argparse.Namespace) -> int:
    from fieldapp.store import attachments as att

    ctx = _ctx(args)
    store = ctx.open_store()
    record_id = _record_id(store, args.record_id)
    done, failed = [], []
    names = []
    for given in args.files:
        matches = expand_pattern(given)
        if matches:
            names += matches
        else:
            failed.append((given, "没有匹配的文件 / no file matches" if ctx.lang == "zh"
                           else "no file matches"))
    # Each file on its own: one unreadable file on a camera card must not stop the others.
    for name in names:
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


def expand_pattern(given: str) -> list[str]:
    """`given` itself when it names a file (or has no wildcard), else the files its pattern
    matches, sorted. cmd and PowerShell hand `D:\\DCIM\\*.JPG` over unexpanded; a POSIX shell
    has already expanded it and leaves a pattern only when nothing matched."""
    import glob
    import os

    if os.path.exists(given) or not any(char in given for char in "*?["):
        return [given]
    expanded = os.path.expanduser(given)
    return sorted(path for path in glob.glob(expanded) if os.path.isfile(path))


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
    changes = (args.max_edge, args.quality, args.keep_originals)
    if any(c is not None for c in changes) or args.drop_originals:
        _photo_settings(ctx, store, args)
        if not args.record_id:
            return 0
    if not args.record_id:
        return _overview(ctx, store, args.json)
    items = att.list_for(store, _record_id(store, args.record_id))
    if args.json:
        print(json.dumps([{**a.wire(), "state": a.state, "has_content": a.has_content,
                           "error": a.last_error, "original_size": a.original_size,
                           "original_pixels": a.original_pixels, "pixels": a.pixels,
                           "original_kept": a.original_sha256 is not None}
                          for a in items], ensure_ascii=False))
        return 0
    if not items:
        print("没有附件 / no attachments")
    for a in items:
        print(f"{a.id[:8]}  {a.kind:8}  {_size(a.size):>8}  {a.sync_label(ctx.lang):6}  "
              f"{a.name}  {a.caption}")
        if a.downscaled:
            print(f"          {a.resize_note(ctx.lang)}")
        if a.last_error:
            print(f"          {a.last_error.get('message_zh', '')} / "
                  f"{a.last_error.get('message', '')}")
    return 0


def _photo_settings(ctx: AppContext, store, args: argparse.Namespace) -> None:
    from fieldapp.store import attachments as att
    from fieldapp.store import photos
    from fieldapp.store.db import transaction

    try:
        with transaction(store.conn):
            setting = photos.save_settings(
                store, max_edge=args.max_edge, quality=args.quality,
                keep_original=None if args.keep_originals is None
                else args.keep_originals == "on")
    except ValueError as exc:
        raise CliError(str(exc)) from exc
    print(f"照片 / photos: {setting.describe('zh')} / {setting.describe('en')}")
    if args.drop_originals:
        n, freed = att.drop_originals(store, ctx.data_dir)
        print(f"已删除 {n} 张已同步照片的原图,释放 {_size(freed)} / dropped the originals of "
              f"{n} synced photos, {_size(freed)} freed")


def _overview(ctx: AppContext, store, as_json: bool) -> int:
    """The photo settings and what they did, for `fieldapp attachments` alone."""
    from fieldapp.store import attachments as att
    from fieldapp.store import photos

    setting = photos.settings(store)
    counts = {**att.counts(store), **att.photo_counts(store)}
    heic = photos.heic_supported()
    if as_json:
        print(json.dumps({"max_edge": setting.max_edge, "quality": setting.quality,
                          "keep_original": setting.keep_original, "heic_decoder": heic,
                          **counts}, ensure_ascii=False))
        return 0
    lang = ctx.lang
    print(f"照片 / photos: {setting.describe('zh')} / {setting.describe('en')}")
    print("HEIC: " + ("可解码,一样缩小 / decoded and made smaller like the others" if heic else
                      "本机无法解码,按原样保存 / cannot be decoded here: stored as they are"))
    print(f"附件 {counts['total']} 个,待上传 {counts['to_upload']},未下载 "
          f"{counts['not_fetched']} / {counts['total']} attachments, {counts['to_upload']} to "
          f"upload, {counts['not_fetched']} not fetched")
    if counts["downscaled"]:
        before, after = counts["bytes_before"], counts["bytes_after"]
        saved = 1 - after / before if before else 0
        text = (f"已缩小 {counts['downscaled']} 张照片:{_size(before)} → {_size(after)}"
                f"(省 {saved:.0%}),原图在本机 {counts['originals_kept']} 张"
                if lang == "zh" else
                f"{counts['downscaled']} photos made smaller: {_size(before)} → {_size(after)} "
                f"({saved:.0%} saved); {counts['originals_kept']} originals kept here")
        print(text)
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
            if not item.last_error:
                waiting = item.state == "local"
                raise CliError(
                    f"{item.name} 没有被拒绝,无需重发"
                    + (":它会随下次同步上传" if waiting else ":登记库已有此文件")
                    + f" / {item.name} was not refused, so there is nothing to retry"
                    + (": it goes with the next sync" if waiting
                       else ": the registry already has it"))
            att.set_error(store, item.id, None)
            print(f"下次同步将重新上传 / will be sent again at the next sync: {item.name}")
            return 0
        if args.original:
            path = att.original_path(item, ctx.data_dir)
            if path is None:
                raise CliError("本机没有这张照片的原图(未缩小,或原图未保留)/ this laptop has no "
                               "original of this photo (not downscaled, or not kept)")
        else:
            path = att.blob_path(ctx.data_dir, item.sha256)
        if not path.exists():
            path = _fetch(ctx, item.id)
        if args.action == "fetch":
            print(path)
            return 0
        copy = att.open_in_viewer(ctx.data_dir, item, original=args.original)
        if copy is not None:
            print(copy)  # no desktop here: the path is what a user can act on
        return 0
    except att.AttachmentError as exc:
        raise CliError(exc.message(ctx.lang)) from exc


def _fetch(ctx: AppContext, attachment_id: str):  # noqa: ANN202
    from fieldapp.cli.pin import unlock
    from sync import attachment_sync
    from sync.client import SyncError
    from sync.engine import open_engine

    unlock(ctx.config_dir)
    try:
        engine = open_engine(ctx)
        with engine.client:
            return attachment_sync.download(engine.store, engine.client, attachment_id,
                                            ctx.data_dir)
    except SyncError as exc:
        raise CliError(f"无法下载附件 / cannot fetch the attachment: {exc.message('zh')}") \
            from exc
