"""`fieldapp project`: the pipeline of sites chosen for conversion (项目清单), listed and moved
stage by stage; `fieldapp/domain/project.py` holds the rules, `fieldapp/store/projects.py` the
saving."""

from __future__ import annotations

import argparse
import json
import sys

from fieldapp.cli import CliError
from fieldapp.cli.lang import current, tr
from fieldapp.cli.options import add_all_local, area_code, choice_type, record_id
from fieldapp.domain.choices import PROJECT_STAGE

STAGE_HELP = ("已选址 联审中 联审通过 改造中 已建成 已开放运营 已终止(或 selected reviewing passed "
              "converting built opened terminated)",
              "selected, reviewing, passed, converting, built, opened, terminated (or the "
              "Chinese labels)")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("project", help=tr("项目清单:选定改造的存量资源从选址到开放运营",
                                          "the project pipeline: chosen sites from selection "
                                          "to opening"))
    psub = p.add_subparsers(dest="project_command", metavar="ACTION", required=True)
    stage = choice_type(PROJECT_STAGE, ("项目阶段", "project stage"))
    q = psub.add_parser("list", help=tr("列出项目及其阶段", "list projects and their stages"))
    q.add_argument("--area", metavar="CODE",
                   help=tr("网格、街镇或区的编码或名称", "a grid, street or district code or name"))
    q.add_argument("--stage", type=stage, metavar="S", help=tr(*STAGE_HELP))
    q.add_argument("--json", action="store_true", help=tr("以 JSON 输出", "print JSON"))
    add_all_local(q)
    q.set_defaults(func=cmd_list)
    a = psub.add_parser("advance", help=tr(
        "把项目推进到某一阶段,可同时填写 字段=值(如 运营主体=…)",
        "move a project to a stage, with FIELD=VALUE for other fields (e.g. operator=…)"))
    a.add_argument("--stage", type=stage, required=True, metavar="S", help=tr(*STAGE_HELP))
    a.add_argument("--date", metavar="D", help=tr("到达该阶段的日期(默认今天)",
                                                  "the day it reached the stage (default today)"))
    # One positional list: argparse cannot take FIELD=VALUE after options otherwise.
    a.add_argument("values", nargs="+", metavar="ID [FIELD=VALUE]",
                   help=tr("存量资源编号(或前 8 位),然后其他字段,如 资金来源=专项债券 运营主体=…",
                           "the site id (or 8 chars), then other fields, e.g. "
                           "funding_source=special_bonds operator=…"))
    a.add_argument("--json", action="store_true", help=tr("以 JSON 输出", "print JSON"))
    a.set_defaults(func=cmd_advance)


def _store(args: argparse.Namespace):  # noqa: ANN202
    from fieldapp.context import AppContext

    return AppContext.create(args.data_dir, args.lang).open_store()


def _day(text: str | None) -> str | None:
    if text is None:
        return None
    from fieldapp.domain.normalize import parse_date

    parsed = parse_date(text)
    if parsed is None:
        raise CliError(f"日期应写作 2025-03-05 或 2025年3月5日: {text!r} / a date is written "
                       f"like 2025-03-05: {text!r}")
    return parsed.isoformat()


def _with_pin(args: argparse.Namespace, store) -> None:  # noqa: ANN001
    from fieldapp.cli.pin import for_decision
    from fieldapp.context import AppContext

    for_decision(AppContext.create(args.data_dir, args.lang).config_dir, store.user)


def cmd_advance(args: argparse.Namespace) -> int:
    from fieldapp.cli.record_cmds import parse_values
    from fieldapp.domain.project import stage_label
    from fieldapp.domain.workflow import TransitionError
    from fieldapp.store.projects import advance
    from fieldapp.store.records import ValidationFailed

    store = _store(args)
    try:
        site_id = record_id(store, args.values[0])
        values = parse_values(store, "site", args.values[1:])
        _with_pin(args, store)  # a project stage is the supervisor's step
        try:
            moved = advance(store, site_id, args.stage, _day(args.date), values)
        except ValidationFailed as exc:
            raise CliError("; ".join(f"{e.zh} / {e.en}" for e in exc.errors)) from exc
        except TransitionError as exc:
            raise CliError(str(exc)) from exc
        site = moved.site
        if args.json:
            from fieldapp.store.projects import projects

            row = next(r for r in projects(store, {site.grid_code}, all_local=True)
                       if r.id == site.id)
            print(json.dumps({**row.as_json(), "facility_created": moved.facility.id
                              if moved.facility else None}, ensure_ascii=False, indent=1))
        else:
            print(site.id)
        stage = site.data["project_stage"]
        print(f"已推进到「{stage_label(stage)}」/ moved to {stage_label(stage, 'en')}: "
              f"{site.title};下次同步时发送 / sent with the next sync", file=sys.stderr)
        if moved.facility is not None:
            print(f"已建立设施 {moved.facility.id[:8]}「{moved.facility.title}」/ facility "
                  f"{moved.facility.id[:8]} created", file=sys.stderr)
    finally:
        store.conn.close()
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from fieldapp.domain.project import stage_label
    from fieldapp.store.projects import projects

    store = _store(args)
    try:
        grids = None
        if args.area:
            code = area_code(store, args.area, "area")
            grids = set(store.area_codes_below(code)) | {code}
        rows = projects(store, grids, args.stage, all_local=args.all_local)
        if args.json:
            print(json.dumps([r.as_json() for r in rows], ensure_ascii=False, indent=1))
            return 0
        lang = current()
        if not rows:
            print(tr("没有项目", "no projects"), file=sys.stderr)
            return 0
        for r in rows:
            print(f"{r.id[:8]}  {stage_label(r.stage, lang):<8}  {r.stage_on or '':<10}  "
                  f"{r.grid_code}  {r.name or r.address}")
        print(tr(f"共 {len(rows)} 个项目", f"{len(rows)} projects"), file=sys.stderr)
    finally:
        store.conn.close()
    return 0
