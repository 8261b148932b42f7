"""Scripting verbs: `fieldapp new`, `fieldapp edit` and `fieldapp show` — records from the
command line with the form's own rules.

`FIELD=VALUE` takes a field's name or its Chinese or English label (`备注=…`, `notes=…`);
values go through the importer's cell reading (full-width digits, 120㎡, 2024年3月5日, labels or
codes, 养老服务、社区助餐) and the save goes through `RecordStore.save`: the same validation as
the form, an outbox entry and a history entry. A point typed with 坐标系=GCJ-02 is converted to
WGS-84 once, as in the form.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date

from fieldapp.cli import CliError
from fieldapp.cli.lang import tr
from fieldapp.cli.options import add_all_local, record_id, scope_of

KINDS = {"site": "site", "sites": "site", "存量资源": "site", "facility": "facility",
         "facilities": "facility", "设施": "facility", "inspection": "inspection",
         "inspections": "inspection", "巡查": "inspection"}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("new", help=tr(
        "新建记录: fieldapp new site 地址=天平路100号 网格=… [--submit]",
        "create a record: fieldapp new site address=… [--submit]"))
    p.add_argument("kind", type=kind_type, metavar="site|facility|inspection",
                   help=tr("存量资源、设施或巡查", "site, facility or inspection"))
    p.add_argument("values", nargs="*", metavar="FIELD=VALUE",
                   help=tr("字段名或中英文标签=值,如 可用面积=120㎡ 备注=临街",
                           "field name or label = value, e.g. usable_area=120 notes=…"))
    p.add_argument("--submit", action="store_true",
                   help=tr("保存并提交审核(必须完整)",
                           "save and submit for review (must be complete)"))
    p.add_argument("--json", action="store_true", help=tr("以 JSON 输出保存的记录",
                                                          "print the saved record as JSON"))
    p.set_defaults(func=cmd_new)

    p = sub.add_parser("edit", help=tr("修改记录: fieldapp edit 3f2a9c1e 备注=已复核 [--submit]",
                                       "change a record: fieldapp edit ID FIELD=VALUE… [--submit]"))
    p.add_argument("id", metavar="ID", help=tr("记录编号(list 显示的前 8 位即可)",
                                               "record id (the 8 characters list shows will do)"))
    p.add_argument("values", nargs="*", metavar="FIELD=VALUE",
                   help=tr("字段=值;字段= 清空该字段", "FIELD=VALUE; FIELD= clears the field"))
    p.add_argument("--submit", action="store_true",
                   help=tr("保存并提交审核", "save and submit for review"))
    p.add_argument("--json", action="store_true", help=tr("以 JSON 输出保存的记录",
                                                          "print the saved record as JSON"))
    p.set_defaults(func=cmd_edit)

    p = sub.add_parser("show", help=tr("显示一条记录的全部字段", "print every field of a record"))
    p.add_argument("id", metavar="ID",
                   help=tr("记录编号(或前 8 位)", "record id (or 8 characters)"))
    p.add_argument("--json", action="store_true")
    add_all_local(p)
    p.set_defaults(func=cmd_show)


def kind_type(text: str) -> str:
    kind = KINDS.get(text.strip().lower())
    if kind is None:
        raise argparse.ArgumentTypeError(
            f"记录类型应为 site(存量资源)、facility(设施)或 inspection(巡查): {text!r} / the kind "
            f"must be site, facility or inspection: {text!r}")
    return kind


def _store(args: argparse.Namespace):  # noqa: ANN202
    from fieldapp.context import AppContext

    ctx = AppContext.create(args.data_dir, args.lang)
    return ctx, ctx.open_store()


def parse_values(store, kind: str, pairs: list[str]) -> dict:  # noqa: ANN001
    """{field name: value} from FIELD=VALUE arguments, each read as the importer reads a cell;
    every problem is reported at once, naming the field and what is expected."""
    from fieldapp.cli.options import area_code
    from fieldapp.domain.names import field_hint, resolve_field
    from fieldapp.domain.records import GRID, REF
    from fieldapp.io.importer import normalise_cell

    values: dict = {}
    problems: list[str] = []
    for pair in pairs:
        name, sep, text = pair.partition("=")
        if not sep or not name.strip():
            problems.append(f"应为 字段=值,如 备注=临街门面: {pair!r} / expected FIELD=VALUE, "
                            f"e.g. notes=…: {pair!r}")
            continue
        spec = resolve_field(kind, name)
        if spec is None:
            problems.append(f"没有字段「{name}」(如 {field_hint(kind, 'zh')}) / no field {name!r} "
                            f"(e.g. {field_hint(kind, 'en')})")
            continue
        if spec.name in values:
            problems.append(f"「{spec.zh}」给了两次 / {spec.name} given twice")
            continue
        if spec.type in (REF, GRID) and text.strip():
            try:  # ids as list shows them; grids in any case, or by name
                values[spec.name] = record_id(store, text) if spec.type == REF else \
                    area_code(store, text)
            except CliError as exc:
                problems.append(f"{spec.zh} / {spec.en}: {exc}")
            continue
        value, reason = normalise_cell(spec, text)
        if reason:
            problems.append(f"{reason[0]} / {reason[1]}")
        else:
            values[spec.name] = value
    if problems:
        raise CliError("; ".join(problems))
    return values


def _inspection_defaults(store, values: dict) -> dict:  # noqa: ANN001
    """What the form fills in for an inspection: the target's kind and grid, today, the user."""
    target = store.get(values["target_id"]) if values.get("target_id") else None
    preset = {"inspected_on": date.today().isoformat(), "inspector": store.user or None}
    if target is not None:
        preset.update(target_kind=target.kind, grid_code=target.grid_code)
    return {**{k: v for k, v in preset.items() if v is not None}, **values}


def _save(store, kind: str, values: dict, record_id_: str | None, submit: bool):  # noqa: ANN001, ANN202
    from fieldapp.domain.geo import normalise_coordinates
    from fieldapp.domain.workflow import TransitionError
    from fieldapp.store.records import ValidationFailed

    values = normalise_coordinates(values)  # a GCJ-02 point becomes WGS-84, once
    try:
        return store.save(kind, values, record_id=record_id_,
                          status="submitted" if submit else None)
    except ValidationFailed as exc:
        raise CliError("; ".join(f"{e.zh} / {e.en}" for e in exc.errors)) from exc
    except TransitionError as exc:
        raise CliError(str(exc)) from exc


def _report(store, record, args: argparse.Namespace, created: bool) -> None:  # noqa: ANN001
    from fieldapp.domain.choices import STATUS

    if args.json:
        print(json.dumps(as_json(store, record), ensure_ascii=False, indent=1))
    else:
        print(record.id)
    what = ("已新建" if created else "已保存") + f"({STATUS.label(record.status, 'zh')})"
    what_en = ("created" if created else "saved") + f" ({STATUS.label(record.status, 'en')})"
    if record.approved is not None and record.status != "approved":
        # A revision: reports keep the approved values until it is approved again.
        what += ",修订待审核,报表仍用原通过内容"
        what_en += ", a revision to review; reports keep the approved values"
    print(f"{what} / {what_en}: {record.title or record.id[:8]};下次同步时发送 / sent with the "
          f"next sync", file=sys.stderr)
    same = [r for r in store.find_by_address(record.kind, record.data.get("address") or "",
                                             exclude_id=record.id,
                                             grid_code=record.grid_code)] if created else []
    if same:
        print(f"注意:同一网格已有此地址的记录 {same[0].id[:8]} / note: record {same[0].id[:8]} "
              f"has the same address in this grid", file=sys.stderr)


def cmd_new(args: argparse.Namespace) -> int:
    _ctx, store = _store(args)
    try:
        values = parse_values(store, args.kind, args.values)
        if args.kind == "inspection":
            values = _inspection_defaults(store, values)
        if not values:
            raise CliError("请给出至少一个 字段=值,如 地址=天平路100号 / give at least one "
                           "FIELD=VALUE, e.g. address=…")
        record = _save(store, args.kind, values, None, args.submit)
        _report(store, record, args, created=True)
    finally:
        store.conn.close()
    return 0


def cmd_edit(args: argparse.Namespace) -> int:
    _ctx, store = _store(args)
    try:
        existing = store.get(record_id(store, args.id))
        values = parse_values(store, existing.kind, args.values)
        if not values and not args.submit:
            raise CliError("没有要修改的字段:请给出 字段=值 或 --submit / nothing to change: "
                           "give FIELD=VALUE or --submit")
        record = _save(store, existing.kind, values, existing.id, args.submit)
        _report(store, record, args, created=False)
    finally:
        store.conn.close()
    return 0


def as_json(store, record) -> dict:  # noqa: ANN001
    from fieldapp.domain.revision import revised_fields

    return {"id": record.id, "kind": record.kind, "status": record.status,
            "grid_code": record.grid_code, "title": record.title,
            "review_comment": record.review_comment, "author": record.author,
            "created_at": record.created_at, "updated_at": record.updated_at,
            "server_version": record.server_version, "pending_sync": record.pending,
            "data": record.data, "approved": record.approved,
            "revised_fields": revised_fields(record.approved, record.data)}


def cmd_show(args: argparse.Namespace) -> int:
    ctx, store = _store(args)
    try:
        record = store.get(record_id(store, args.id))
        scope = scope_of(store, args)
        if not scope.allows(record.grid_code):
            raise CliError(f"记录 {record.id[:8]} 在网格 {record.grid_code},不在您的负责范围 "
                           f"({','.join(scope.areas)}),--all-local 查看 / record {record.id[:8]} "
                           f"is in grid {record.grid_code}, outside your areas: --all-local "
                           f"shows it")
        if args.json:
            print(json.dumps(as_json(store, record), ensure_ascii=False, indent=1))
        else:
            for line in describe(store, record, ctx.lang):
                print(line)
    finally:
        store.conn.close()
    return 0


def describe(store, record, lang: str) -> list[str]:  # noqa: ANN001
    """Every filled field by section, labels and choices in `lang`, times in local time."""
    from fieldapp import localtime
    from fieldapp.domain.choices import RECORD_KIND, STATUS
    from fieldapp.domain.records import SECTIONS, SPECS
    from fieldapp.io.exporter import display_value, text_width

    def pad(text: str, width: int) -> str:
        return text + " " * max(0, width - text_width(text))

    zh = lang == "zh"
    grid_name = store.conn.execute("SELECT name FROM area WHERE code = ?",
                                   (record.grid_code,)).fetchone()
    lines = [f"{RECORD_KIND.label(record.kind, lang)}  {record.id}",
             f"{'状态' if zh else 'Status'}: {STATUS.label(record.status, lang)}"
             + (f"  « {record.review_comment} »" if record.review_comment else ""),
             f"{'网格' if zh else 'Grid'}: {record.grid_code or '-'}"
             + (f" {grid_name[0]}" if grid_name else ""),
             f"{'录入人' if zh else 'Author'}: {record.author or '-'}   "
             f"{'更新于' if zh else 'Updated'} {localtime.show(record.updated_at, zone=True)}   "
             f"{'创建于' if zh else 'Created'} {localtime.show(record.created_at, zone=True)}",
             f"{'待同步' if zh else 'Waiting to sync'}: {record.pending}"]
    section = None
    specs = [s for s in SPECS[record.kind] if record.data.get(s.name) not in (None, "", [])]
    width = max([text_width(s.label(lang)) for s in specs] + [8])
    for spec in specs:
        if spec.section != section:
            section = spec.section
            lines.append(f"[{SECTIONS[section][0 if zh else 1]}]")
        value = record.data[spec.name]
        shown = display_value(spec, value) if zh else _english(spec, value)
        lines.append(f"  {pad(spec.label(lang), width)}  {shown}{spec.unit}")
    return lines


def _english(spec, value) -> str:  # noqa: ANN001
    from fieldapp.domain.records import BOOL, CHOICE, MULTI
    from fieldapp.io.exporter import display_value

    if spec.type == CHOICE and spec.choices:
        return spec.choices.label(value, "en")
    if spec.type == MULTI and spec.choices:
        return ", ".join(spec.choices.label(v, "en") for v in value)
    if spec.type == BOOL:
        return "yes" if value else "no"
    return str(display_value(spec, value))
