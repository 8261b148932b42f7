"""Supervisor commands: the review queue, approve, return with a comment, record history."""

from __future__ import annotations

import argparse
import json
import sys

from fieldapp.cli import CliError
from fieldapp.cli.lang import tr
from fieldapp.cli.options import (
    add_all_local,
    area_code,
    choice_type,
    function_type,
    record_ids,
    scope_of,
)
from fieldapp.domain.choices import RECORD_KIND


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("review", help=tr("主管审核:待审队列、通过、退回",
                                         "supervisor review: queue, approve, return"))
    rsub = p.add_subparsers(dest="review_command", metavar="ACTION", required=True)
    q = rsub.add_parser("queue", help=tr("等待审核的记录,最早提交的在前",
                                         "submitted records waiting for a decision, oldest first"))
    q.add_argument("--grid", metavar="CODE",
                   help=tr("网格、街镇或区的编码或名称", "a grid, street or district code or name"))
    q.add_argument("--author", metavar="USER", help=tr("只看此人录入的", "only this author's"))
    q.add_argument("--kind", type=choice_type(RECORD_KIND, ("记录类型", "record kind")),
                   metavar="KIND", help=tr("存量资源、设施或巡查", "site, facility or inspection"))
    q.add_argument("--function", type=function_type, metavar="FUNCTION",
                   help=tr("服务功能,如 养老、宝宝屋、助餐", "a function, e.g. elderly, 宝宝屋"))
    q.add_argument("--json", action="store_true", help=tr("以 JSON 输出", "print JSON"))
    add_all_local(q)
    q.set_defaults(func=cmd_queue)
    a = rsub.add_parser("approve", help=tr("审核通过(编号或前 8 位,可多个)",
                                           "approve records (ids or unique prefixes)"))
    a.add_argument("ids", nargs="+", metavar="ID", help=tr("记录编号", "record ids"))
    a.add_argument("--comment", help=tr("审核意见(可选)", "a comment (optional)"))
    a.set_defaults(func=cmd_approve)
    r = rsub.add_parser("return", help=tr("退回给录入人,须写意见",
                                          "return a record to its worker with a comment"))
    r.add_argument("id", metavar="ID", help=tr("记录编号", "record id"))
    r.add_argument("--comment", required=True, help=tr("退回意见(必填)", "why (required)"))
    r.set_defaults(func=cmd_return)

    j = sub.add_parser("joint-review", help=tr(
        "联审(发改、规划资源、住建、消防):不带 --dept 时列出联审表;不改变审核状态",
        "joint review (ndrc, planning, housing, fire): without --dept, print the checklist; "
        "never changes the review status"))
    j.add_argument("id", metavar="ID", help=tr("存量资源编号(或前 8 位)", "site id (or 8 chars)"))
    j.add_argument("--dept", metavar="DEPT", help=tr(
        "部门: ndrc(发改) planning(规划资源) housing(住建) fire(消防)",
        "department: ndrc, planning, housing, fire (or 发改 规划资源 住建 消防)"))
    j.add_argument("--result", metavar="RESULT", help=tr(
        "意见: 通过 有条件通过 不通过(或 pass conditional fail)",
        "result: pass, conditional, fail (or 通过 有条件通过 不通过)"))
    j.add_argument("--conditions", metavar="TEXT", help=tr("通过的条件(有条件通过时必填)",
                                                           "the conditions of a conditional pass"))
    j.add_argument("--date", metavar="D", help=tr("联审日期(默认今天)",
                                                  "review date (default today)"))
    j.add_argument("--reviewer", metavar="NAME", help=tr("审核人(默认当前用户)",
                                                        "reviewer (default: the current user)"))
    j.add_argument("--json", action="store_true", help=tr("以 JSON 输出", "print JSON"))
    j.set_defaults(func=cmd_joint_review)

    h = sub.add_parser("history", help=tr("一条记录的全部修改:谁、何时、改了什么",
                                          "every change to a record: who, when, what"))
    h.add_argument("id", metavar="ID", help=tr("记录编号(或前 8 位)", "record id (or 8 chars)"))
    h.add_argument("--json", action="store_true", help=tr("以 JSON 输出", "print JSON"))
    h.set_defaults(func=cmd_history)


def _store(args):
    from fieldapp.context import AppContext

    return AppContext.create(args.data_dir, args.lang).open_store()


def _with_pin(args, store) -> None:
    """A decision is the supervisor's: their PIN first when their credential is sealed."""
    from fieldapp.cli.pin import for_decision
    from fieldapp.context import AppContext

    for_decision(AppContext.create(args.data_dir, args.lang).config_dir, store.user)


def _ids(store, ids: list[str]) -> list[str]:
    return record_ids(store, ids)


def _decide(action):
    from fieldapp.domain.workflow import TransitionError
    from fieldapp.store.records import ValidationFailed

    try:
        return action()
    except TransitionError as exc:
        raise CliError(f"{exc.zh} / {exc.en}") from exc
    except ValidationFailed as exc:
        raise CliError("; ".join(f"{e.zh} / {e.en}" for e in exc.errors)) from exc


def cmd_queue(args) -> int:
    from fieldapp.store.review import QueueFilter, counts_per_grid, queue

    store = _store(args)
    scope = scope_of(store, args)
    grid = area_code(store, args.grid) if args.grid else None
    f = QueueFilter(grid, args.author, args.kind, args.function, grids=scope.grids)
    records = queue(store, f, limit=500)
    from fieldapp.domain import joint_review as jr
    from fieldapp.domain.revision import revised_fields

    def verdict(r) -> str | None:  # noqa: ANN001
        return jr.overall_verdict(r.data) if r.kind == "site" else None

    if args.json:
        print(json.dumps([{"id": r.id, "kind": r.kind, "grid_code": r.grid_code,
                           "author": r.author, "updated_at": r.updated_at,
                           "queued_at": r.queued_at, "title": r.title,
                           "revision": r.approved is not None,
                           "revised_fields": revised_fields(r.approved, r.data),
                           "joint_review": verdict(r)}
                          for r in records], ensure_ascii=False, indent=1))
        return 0
    from fieldapp import localtime
    from fieldapp.i18n import Msg

    lang = args.lang or "zh"
    for grid, n in counts_per_grid(store, f).items():
        print(f"{grid:<18} {n:>5}")
    print()
    for r in records:
        mark = Msg("[修订] ", "[revision] ")(lang) if r.approved is not None else ""
        review = f"  · {jr.verdict_label(r.data, lang)}" if verdict(r) else ""
        print(f"{r.id[:8]}  {RECORD_KIND.label(r.kind, lang):<4} {r.grid_code or '':<16} "
              f"{r.author or '':<12} {localtime.show(r.queued_at or r.updated_at, date_only=True)}"
              f"  {mark}{r.title}{review}")
    return 0


def cmd_approve(args) -> int:
    from fieldapp.store.review import approve

    store = _store(args)
    ids = _ids(store, args.ids)
    _with_pin(args, store)
    done = _decide(lambda: approve(store, ids, args.comment))
    print(f"已通过 / approved: {len(done)}")
    return 0


def cmd_return(args) -> int:
    from fieldapp.store.review import send_back

    store = _store(args)
    record_id = _ids(store, [args.id])[0]
    _with_pin(args, store)
    _decide(lambda: send_back(store, record_id, args.comment))
    print("已退回 / returned")
    return 0


def cmd_history(args) -> int:
    store = _store(args)
    record_id = _ids(store, [args.id])[0]
    entries = [dict(h) for h in store.history(record_id)]
    if args.json:
        print(json.dumps(entries, ensure_ascii=False, indent=1))
        return 0
    from fieldapp import localtime
    from fieldapp.domain.records import FIELD_INDEX
    from fieldapp.ui.format import action_label

    lang = args.lang or "zh"
    record = store.get(record_id)
    fields = FIELD_INDEX.get(record.kind, {}) if record else {}
    print(("时间" if lang == "zh" else "time") + f" ({localtime.zone_label()})")
    for h in entries:
        changes = json.loads(h["changes"] or "{}")
        named = ", ".join(fields[c].label(lang) if c in fields else c for c in changes
                          if c not in ("status", "review_comment"))
        print(f"{localtime.show(h['at'], seconds=True)}  {h['who'] or '':<12} "
              f"{action_label(h['action'], lang):<6} {named[:60]}"
              f"{'  « ' + h['comment'] + ' »' if h['comment'] else ''}")
    return 0


def cmd_joint_review(args) -> int:
    """Print a site's joint-review checklist, or save one department's result (a
    supervisor's step: the status and queue place stay as they are)."""
    from fieldapp.domain import joint_review as jr

    store = _store(args)
    lang = args.lang or "zh"
    record_id = _ids(store, [args.id])[0]
    record = store.get(record_id)
    if record is None or record.kind != "site":
        raise CliError("联审只针对存量资源 / joint review is for sites only")
    if args.dept is None:
        if args.result or args.conditions or args.date or args.reviewer:
            raise CliError("请用 --dept 指明部门(ndrc planning housing fire)/ name the "
                           "department with --dept (ndrc, planning, housing, fire)")
    else:
        if args.result is None:
            raise CliError("请用 --result 给出意见(通过 有条件通过 不通过)/ give the result "
                           "with --result (pass, conditional, fail)")
        from fieldapp.cli.project_cmds import _day
        from fieldapp.localtime import today

        try:
            fields = jr.entry(args.dept, args.result, args.conditions,
                              _day(args.date) or today().isoformat(),
                              args.reviewer or store.user or None)
        except jr.JointReviewInputError as exc:
            raise CliError(str(exc)) from exc
        result_field = next(k for k in fields if k.endswith("_result"))
        kept = fields.get(result_field[:-len("_result")] + "_conditions",
                          record.data.get(result_field[:-len("_result")] + "_conditions"))
        if fields[result_field] == "conditional" and not (kept or "").strip():
            # --help says so; it was saved and only listed later as blocking conversion.
            raise CliError("有条件通过需用 --conditions 写明条件 / a conditional pass needs its "
                           "conditions: --conditions TEXT")
        from fieldapp.store.review import save_joint_review

        _with_pin(args, store)
        record = _decide(lambda: save_joint_review(store, record_id, fields))
        print("联审已保存,审核状态不变,下次同步时发送 / joint review saved, review status "
              "unchanged, sent with the next sync", file=sys.stderr)
    _print_checklist(record, lang, args.json)
    return 0


def _print_checklist(record, lang: str, as_json: bool) -> None:  # noqa: ANN001
    from fieldapp.domain import joint_review as jr
    from fieldapp.domain.choices import STATUS
    from fieldapp.i18n import Msg

    rows = jr.checklist(record.data, lang)
    verdict = jr.overall_verdict(record.data)
    blocking = jr.blockers(record.data)
    if as_json:
        print(json.dumps({"id": record.id, "status": record.status, "departments": rows,
                          "verdict": verdict, "verdict_label": jr.verdict_label(record.data, lang),
                          "conversion_ready": bool(record.data.get("conversion_ready")),
                          "blockers": [{"field": f, "zh": zh, "en": en}
                                       for f, zh, en in blocking]},
                         ensure_ascii=False, indent=1))
        return
    from rich.cells import cell_len

    print(f"{record.id[:8]}  {record.title}  ({STATUS.label(record.status, lang)})")
    width = max(cell_len(r["label"]) for r in rows) + 2
    for r in rows:
        label = r["label"] + " " * (width - cell_len(r["label"]))
        parts = [r["result_label"] or Msg("待联审", "not reviewed")(lang)]
        parts += [p for p in (r["date"], r["reviewer"]) if p]
        if r["conditions"]:
            parts.append(Msg("条件: ", "conditions: ")(lang) + r["conditions"])
        print(f"  {label}{' · '.join(parts)}")
    print(Msg("联审结论: ", "Verdict: ")(lang) + jr.verdict_label(record.data, lang))
    if blocking:
        print(Msg("改造前尚需:", "Before conversion:")(lang))
        for _, zh, en in blocking:
            print(f"  - {Msg(zh, en)(lang)}")
    else:
        print(Msg("可实施改造的条件均已满足", "Nothing blocks conversion")(lang))
