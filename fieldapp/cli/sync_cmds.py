"""Sync commands: enroll, sync (once or --watch), conflicts and resolve, outbox, user."""

from __future__ import annotations

import argparse
import json
import sys

from fieldapp.cli import CliError
from fieldapp.cli.lang import tr
from fieldapp.cli.options import positive_seconds
from fieldapp.context import AppContext


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("enroll", help=tr("用一次性注册码把本机登记到登记库",
                                         "enroll this laptop with a registry (one-time token)"))
    p.add_argument("--server", required=True, metavar="URL",
                   help=tr("登记库地址,如 http://10.0.0.5:8765", "e.g. http://10.0.0.5:8765"))
    p.add_argument("--token", required=True,
                   help=tr("管理员用 fieldapp admin add-user 给出的注册码",
                           "the token from `fieldapp admin add-user`"))
    p.add_argument("--device-name", metavar="NAME",
                   help=tr("设备名(默认:本机名称)", "default: this computer's name"))
    p.set_defaults(func=cmd_enroll)

    p = sub.add_parser("sync", help=tr("同步一次:推送本机修改,拉取登记库的修改",
                                       "push local changes and pull the registry's (one cycle)"))
    p.add_argument("--watch", action="store_true",
                   help=tr("持续同步(离线时退避),直到 Ctrl-C",
                           "keep syncing, with backoff while offline, until Ctrl-C"))
    p.add_argument("--interval", type=positive_seconds, default=60.0, metavar="S",
                   help=tr("--watch 时每轮间隔秒数(默认 60)",
                           "seconds between cycles with --watch (default 60)"))
    p.add_argument("--json", action="store_true", help=tr("以 JSON 输出", "print JSON"))
    p.set_defaults(func=cmd_sync)

    p = sub.add_parser("conflicts", help=tr("列出待解决的冲突", "list conflicts waiting to be "
                                                                "resolved"))
    p.add_argument("--json", action="store_true", help=tr("以 JSON 输出", "print JSON"))
    p.set_defaults(func=cmd_conflicts)

    p = sub.add_parser("resolve", help=tr("解决冲突: fieldapp resolve 3 备注=本机 面积=值:120",
                                          "resolve a conflict: FIELD=mine|theirs|value:TEXT"))
    p.add_argument("conflict_id", type=int, metavar="ID",
                   help=tr("冲突编号(fieldapp conflicts 列出)", "conflict number (see conflicts)"))
    p.add_argument("choices", nargs="*", metavar="FIELD=CHOICE",
                   help=tr("字段(名称或中英文标签)=本机|对方|值:文字",
                           "field (name or label)=mine|theirs|value:TEXT"))
    p.add_argument("--default", type=side_type, default="theirs", metavar="SIDE",
                   help=tr("未列出的字段取哪一方(默认 对方)",
                           "for fields not named (default theirs)"))
    p.set_defaults(func=cmd_resolve)

    p = sub.add_parser("outbox", help=tr("待同步的内容;重发或放弃被拒的条目",
                                         "what waits to sync; retry or discard refused entries"))
    p.add_argument("--retry", type=int, metavar="SEQ",
                   help=tr("重新发送一条被拒的条目", "send a parked entry again"))
    p.add_argument("--discard", type=int, metavar="SEQ",
                   help=tr("放弃一条被拒的条目", "give up a parked entry"))
    p.add_argument("--json", action="store_true", help=tr("以 JSON 输出", "print JSON"))
    p.set_defaults(func=cmd_outbox)

    p = sub.add_parser("user", help=tr("本机登记的用户(团队共用电脑)",
                                       "users enrolled on this laptop"))
    user_sub = p.add_subparsers(dest="user_command", metavar="ACTION", required=True)
    q = user_sub.add_parser("list", help=tr("列出登记的用户(* 为当前用户)",
                                            "list enrolled users (* marks the current one)"))
    q.set_defaults(func=cmd_user_list)
    q = user_sub.add_parser("switch", help=tr("切换当前用户", "make NAME the current user"))
    q.add_argument("name", metavar="NAME")
    q.set_defaults(func=cmd_user_switch)


def _ctx(args: argparse.Namespace) -> AppContext:
    return AppContext.create(args.data_dir, args.lang)


def _lang(args: argparse.Namespace) -> str:
    return args.lang or "zh"


def _fail(exc) -> CliError:
    return CliError(exc.message("zh"))


def cmd_enroll(args: argparse.Namespace) -> int:
    from fieldapp.cli.pin import read_pin
    from sync import credentials
    from sync.client import SyncError

    ctx = _ctx(args)
    store = ctx.open_store()
    # Each user on a laptop sets a PIN: their credential is stored sealed under it.
    pin = read_pin("新用户 / new user", confirm=True)
    try:
        entry = credentials.enroll(ctx.config_dir, store, args.server, args.token,
                                   args.device_name, pin=pin)
    except SyncError as exc:
        raise _fail(exc) from exc
    print(f"已登记 / enrolled: {entry['user']} ({entry['role']}, "
          f"{','.join(entry['scopes'])}) → {entry['server']}")
    return 0


def _print_report(report, lang: str, as_json: bool) -> None:
    if as_json:
        from dataclasses import asdict

        print(json.dumps({**asdict(report), "ok": report.ok}, ensure_ascii=False))
        return
    if report.busy:
        print("另一个同步正在进行,请稍后 / another sync is running: try again shortly",
              file=sys.stderr)
        return
    print(_both(report.summary("zh"), report.summary("en"), lang))
    for r in report.rejected:
        reason = _both(r["reason_zh"], r["reason_en"], lang)
        print(f"  被拒 / rejected  #{r['seq']} {r['op']} {r['record_id'][:8]}: {reason}")
    if report.replayed:
        print(f"  登记库已从备份恢复,重新发送了 {report.replayed} 条已同步的修改 / the registry "
              f"was restored from a backup: {report.replayed} synced change(s) sent again")
    for r in report.replay_refused:
        print(f"  重新发送被拒 / refused when sent again {r}", file=sys.stderr)
    for e in report.errors:
        print(f"  {e}", file=sys.stderr)


def _both(zh: str, en: str, lang: str) -> str:
    """Both languages, the user's first: a summary is often read out to someone else."""
    if zh == en:
        return zh
    return f"{zh} / {en}" if lang == "zh" else f"{en} / {zh}"


def cmd_sync(args: argparse.Namespace) -> int:
    from fieldapp.cli.pin import unlock
    from sync.client import SyncError
    from sync.engine import open_engine

    ctx = _ctx(args)
    unlock(ctx.config_dir)
    try:
        engine = open_engine(ctx)
    except SyncError as exc:
        raise _fail(exc) from exc
    lang = _lang(args)
    if not args.watch:
        with engine.client:
            report = engine.run_cycle()
        _print_report(report, lang, args.json)
        return 0 if report.ok else (2 if report.offline else 1)

    import threading

    stop = threading.Event()

    def quiet_unless_something_happened(report) -> None:  # noqa: ANN001
        # A log line per idle minute would bury the ones that matter (systemd, cron).
        if (report.pushed or report.pulled or report.conflicts or report.rejected
                or report.errors or report.evicted):
            if not args.json:
                from fieldapp import localtime

                print(localtime.show(report.finished_at, seconds=True, zone=True), end="  ")
            _print_report(report, lang, args.json)
            sys.stdout.flush()

    try:
        engine.run_forever(stop, interval=args.interval,
                           on_report=quiet_unless_something_happened)
    except KeyboardInterrupt:
        stop.set()
    finally:
        engine.client.close()
    last = engine.last_report
    return 0 if last is None or not last.fatal else 1


def cmd_conflicts(args: argparse.Namespace) -> int:
    from sync import conflicts

    store = _ctx(args).open_store()
    items = conflicts.open_conflicts(store)
    if args.json:
        print(json.dumps([{"id": c.id, "record_id": c.record_id, "kind": c.kind,
                           "fields": c.fields, "server_version": c.server_version,
                           "created_at": c.created_at} for c in items], ensure_ascii=False))
        return 0
    lang = _lang(args)
    if not items:
        print("没有待解决的冲突 / no conflicts")
    for c in items:
        record = store.get(c.record_id, include_deleted=True)
        title = record.title if record else ""
        print(f"#{c.id}  {c.kind:<10} {c.record_id[:8]}  {title}  — {c.describe(lang)}")
        if not c.is_delete:
            for name, sides in c.fields.items():
                print(f"      {_label(c.kind, name, lang)}: 本机/mine={sides.get('mine')!r}  "
                      f"对方/theirs={sides.get('theirs')!r}")
    return 0


def _label(kind: str, name: str, lang: str) -> str:
    """A conflict's field as people name it, with the name `resolve` also takes."""
    from fieldapp.domain.records import FIELD_INDEX

    spec = FIELD_INDEX.get(kind, {}).get(name)
    return f"{spec.label(lang)} ({name})" if spec else name


#: What people write for each side ("mine", "本机" …); a new value is `value:` or `值:`.
SIDES = {"mine": "mine", "本机": "mine", "我的": "mine", "theirs": "theirs", "对方": "theirs",
         "他们的": "theirs", "登记库": "theirs"}
VALUE_PREFIXES = ("value:", "值:", "值：", "新值:", "新值：")


def side_type(text: str) -> str:
    side = SIDES.get(text.strip().lower())
    if side is None:
        raise argparse.ArgumentTypeError(f"应为 mine(本机)或 theirs(对方): {text!r} / expected "
                                         f"mine or theirs: {text!r}")
    return side


def _parse_choice(text: str, kind: str, fields: dict) -> tuple[str, object]:
    """`备注=mine`, `notes=本机`, `联系电话=value:13800000000` → (field name, choice)."""
    from fieldapp.domain.names import resolve_field

    name, sep, choice = text.partition("=")
    if not sep or not name:
        raise CliError(f"应为 字段=mine|theirs|value:文字(如 备注=本机)/ expected "
                       f"FIELD=mine|theirs|value:TEXT (e.g. notes=mine), got {text!r}")
    if name not in fields:
        spec = resolve_field(kind, name)
        if spec is None or spec.name not in fields:
            named = "、".join(_label(kind, f, "zh") for f in fields)
            raise CliError(f"冲突中没有字段「{name}」,可选: {named} / {name!r} is not a field of "
                           f"this conflict; it has: {', '.join(fields)}")
        name = spec.name
    side = SIDES.get(choice.strip().lower())
    if side:
        return name, side
    for prefix in VALUE_PREFIXES:
        if choice.startswith(prefix):
            return name, {"value": choice[len(prefix):]}
    raise CliError(f"{name}: 请选择 mine(本机)、theirs(对方)或 value:文字 / choose mine, "
                   f"theirs or value:TEXT, got {choice!r}")


def cmd_resolve(args: argparse.Namespace) -> int:
    from fieldapp.domain.workflow import TransitionError
    from fieldapp.store.records import ValidationFailed
    from sync import conflicts

    store = _ctx(args).open_store()
    conflict = conflicts.get(store, args.conflict_id)
    if conflict is None or conflict.resolved_at:
        raise CliError(f"没有编号为 {args.conflict_id} 的待解决冲突(fieldapp conflicts 列出)/ no "
                       f"open conflict #{args.conflict_id} (fieldapp conflicts lists them)")
    choices = dict(_parse_choice(c, conflict.kind, conflict.fields) for c in args.choices)
    try:
        saved = conflicts.resolve(store, args.conflict_id, choices, default=args.default)
    except (conflicts.ResolveError, TransitionError) as exc:
        raise CliError(f"{exc.zh} / {exc.en}") from exc
    except ValidationFailed as exc:
        raise CliError("; ".join(f"{e.zh} / {e.en}" for e in exc.errors)) from exc
    print(f"已解决 / resolved #{args.conflict_id}" + (f" → {saved[:8]}" if saved else "")
          + ";下次同步时发送 / sent with the next sync")
    return 0


def cmd_outbox(args: argparse.Namespace) -> int:
    from fieldapp.store import sync_state as outbox

    store = _ctx(args).open_store()
    if args.retry is not None or args.discard is not None:
        seq = args.retry if args.retry is not None else args.discard
        done = outbox.retry(store, seq) if args.retry is not None else outbox.discard(store, seq)
        if not done:
            raise CliError(f"没有编号为 {seq} 的被拒条目 / no parked entry #{seq}")
        print(f"#{seq}: " + ("将重新发送 / will be sent again" if args.retry is not None
                             else "已放弃 / discarded"))
        return 0
    items = outbox.entries(store)
    held = outbox.held_behind(store)
    lang = _lang(args)
    if args.json:
        print(json.dumps([{"seq": e.seq, "record_id": e.record_id, "op": e.op,
                           "state": e.state, "attempts": e.attempts, "author": e.author,
                           "reason": e.reason(lang) if e.state == "parked" else None,
                           "code": (e.last_error or {}).get("code") if e.state == "parked"
                           else None,
                           "retry_at": e.retry_at if e.state == "parked" else None,
                           "held_by": held.get(e.seq)}
                          for e in items], ensure_ascii=False))
        return 0
    if not items:
        print("没有待同步的内容 / nothing waits to sync")
    for e in items:
        state = {"pending": "待发送/pending", "parked": "被拒/parked"}[e.state]
        if e.state == "parked" and e.retry_at:
            state = "暂停/paused"  # the registry failed on it: it goes again by itself
        line = f"#{e.seq:<6} {e.op:<7} {e.kind:<10} {e.record_id[:8]}  {state}"
        if e.seq in held:
            line += f"  等待 #{held[e.seq]} / waiting for #{held[e.seq]}"
        print(line + (f"  {_both(e.reason('zh'), e.reason('en'), lang)}"
                      if e.state == "parked" else ""))
    return 0


def cmd_user_list(args: argparse.Namespace) -> int:
    from sync import credentials

    ctx = _ctx(args)
    current, entries = credentials.users(ctx.config_dir)
    if not entries:
        print("本机没有登记的用户 / no users enrolled on this laptop")
    for e in entries:
        mark = "*" if e["user"] == current else " "
        print(f"{mark} {e['user']:<16} {e['role']:<11} {','.join(e['scopes']):<20} "
              f"{e['server']}")
    return 0


def cmd_user_switch(args: argparse.Namespace) -> int:
    from fieldapp.cli.pin import for_decision
    from sync import credentials
    from sync.client import SyncError

    ctx = _ctx(args)
    if args.name in {e["user"] for e in credentials.users(ctx.config_dir)[1]}:
        for_decision(ctx.config_dir, args.name)  # a worker cannot become the supervisor
    try:
        entry = credentials.switch(ctx.config_dir, ctx.open_store(), args.name)
    except SyncError as exc:
        raise _fail(exc) from exc
    print(f"当前用户 / current user: {entry['user']} ({entry['role']})")
    return 0
