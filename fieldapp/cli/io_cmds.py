"""`fieldapp import` and `fieldapp export`: spreadsheets in, spreadsheets and reports out.

The work happens in `fieldapp.io`; this module parses options, draws the progress line on
stderr and turns the reports into a summary and an exit code (2 when rows were rejected).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from fieldapp.cli import CliError
from fieldapp.cli.lang import tr
from fieldapp.cli.options import (
    AtomicOutput,
    add_all_local,
    area_code,
    choice_type,
    kinds_type,
    output_file,
)
from fieldapp.domain.choices import STATUS

KIND_OF = {"sites": "site", "facilities": "facility", "inspections": "inspection"}
ROWS_REJECTED = 2  # exit code: the import ran but some rows were not saved
SHOWN_ERRORS = 20


def import_kind_type(text: str) -> str:
    """sites or facilities (存量资源, 设施): what an import may hold."""
    kind = kinds_type(text)
    if kind not in ("sites", "facilities"):
        raise argparse.ArgumentTypeError(
            f"只能导入存量资源或设施: {text!r} / only sites or facilities can be imported: "
            f"{text!r}")
    return kind


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "import", help=tr("导入 Excel/CSV 台账(fieldapp import 台账.xlsx)",
                          "import sites or facilities from an .xlsx or .csv file"),
        description=tr("导入 Excel/CSV 台账。被拒绝的行写入错误文件,改正后可再次导入;退出码 2 "
                       "表示有行被拒绝。",
                       "import an .xlsx or .csv list. Rejected rows go to an errors file to "
                       "fix and import again; exit code 2 means some rows were rejected."))
    p.add_argument("file", metavar="FILE", help=tr(".xlsx 或 .csv 文件", "an .xlsx or .csv file"))
    p.add_argument("--kind", type=import_kind_type, metavar="KIND",
                   help=tr("存量资源或设施(默认按表头判断)",
                           "sites or facilities (default: told from the column headers)"))
    p.add_argument("--all-or-nothing", action="store_true",
                   help=tr("有任何一行不合格就什么都不保存",
                           "save nothing unless every row is good"))
    p.add_argument("--errors", metavar="FILE",
                   help=tr("被拒绝的行写到哪里(默认:原文件名_errors)",
                           "where to write rejected rows (default: FILE_errors beside the input)"))
    p.add_argument("--dry-run", action="store_true",
                   help=tr("只检查每一行,不保存", "check every row, save nothing"))
    p.set_defaults(func=cmd_import)

    p = sub.add_parser(
        "export", help=tr("导出记录、导入模板或三张清单(fieldapp export -o 全部.xlsx)",
                          "export records, the import template or the three lists"),
        description=tr("把记录导出为 xlsx、csv 或 geojson(坐标为 WGS-84);--template 写导入模板;"
                       "--three-lists 写街镇或区的需求/资源/项目清单。只导出您负责范围内的记录。",
                       "export records to xlsx, csv or geojson (WGS-84 coordinates); --template "
                       "writes the import template; --three-lists writes 需求/资源/项目清单 for "
                       "a street or district. Only records in your areas are written."))
    p.add_argument("--kind", action="append", type=kinds_type, metavar="KIND",
                   help=tr("存量资源、设施或巡查(可重复;xlsx 默认三类各一页)",
                           "sites, facilities or inspections (repeatable; xlsx default: all "
                           "three, one sheet each)"))
    p.add_argument("--format", choices=["xlsx", "csv", "geojson"],
                   help=tr("默认按输出文件名判断", "default: from the output file name"))
    p.add_argument("--status", type=choice_type(STATUS, ("状态", "status")), metavar="STATUS",
                   help=tr("只导出此状态(草稿、已提交…)", "only this status (draft, submitted …)"))
    p.add_argument("--grid", metavar="CODE",
                   help=tr("网格、街镇或区的编码或名称", "a grid, street or district code or name"))
    p.add_argument("-o", "--output", metavar="FILE",
                   help=tr("输出文件 .xlsx/.csv/.geojson;- 表示标准输出(csv、geojson)",
                           "FILE.xlsx|.csv|.geojson; - for standard output (csv, geojson)"))
    add_all_local(p)
    p.add_argument("--template", metavar="FILE.xlsx",
                   help=tr("写出导入模板", "write the import template"))
    p.add_argument("--three-lists", action="store_true",
                   help=tr("写出 --area 的三张清单工作簿",
                           "write the three lists (三张清单) workbook for --area"))
    p.add_argument("--area", metavar="CODE",
                   help=tr("三张清单的街镇或区(编码或名称)",
                           "street or district (code or name) for --three-lists"))
    p.add_argument("--with-attachments", action="store_true",
                   help=tr("写成 .zip:工作簿加每条记录的照片和文件,由「附件」列链接",
                           "write a .zip: the workbook plus each record's photos and "
                           "documents, linked from an 附件 column"))
    p.set_defaults(func=cmd_export)


class ProgressLine:
    """A progress line on stderr: redrawn in place on a terminal, every 10% otherwise."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.tty = sys.stderr.isatty()
        self.last_step = -1
        self.started = time.perf_counter()
        self.drawn = False

    def __call__(self, done: int, fraction: float | None) -> None:
        rate = done / max(time.perf_counter() - self.started, 1e-6)
        if fraction is None:
            bar = ""
        else:
            filled = int(fraction * 30)
            bar = f"[{'#' * filled}{'.' * (30 - filled)}] {fraction:4.0%} "
        text = f"{self.label}: {bar}{done:,} 行/rows ({rate:,.0f}/s)"
        if self.tty:
            print(f"\r{text}", end="", file=sys.stderr, flush=True)
            self.drawn = True
        elif fraction is not None and int(fraction * 10) > self.last_step:
            self.last_step = int(fraction * 10)
            print(text, file=sys.stderr, flush=True)

    def done(self) -> None:
        if self.drawn:
            print(file=sys.stderr)


def _store(args: argparse.Namespace):
    from fieldapp.cli.basic import context

    return context(args).open_store()


def cmd_import(args: argparse.Namespace) -> int:
    from fieldapp.io.importer import default_errors_path, import_file
    from fieldapp.io.tables import TableError

    lang = args.lang or "zh"
    path = Path(args.file)
    errors_path = Path(args.errors) if args.errors else default_errors_path(path)
    store = _store(args)
    progress = ProgressLine("导入 / importing")
    try:
        report = import_file(store, path, KIND_OF[args.kind] if args.kind else None,
                             all_or_nothing=args.all_or_nothing, errors_path=errors_path,
                             progress=progress, dry_run=args.dry_run)
    except TableError as exc:
        raise CliError(str(exc)) from exc
    finally:
        progress.done()
        store.conn.close()
    for error in report.errors[:SHOWN_ERRORS]:
        other = "en" if lang == "zh" else "zh"
        print(f"{error.message(lang)} / {error.en if other == 'en' else error.zh}",
              file=sys.stderr)
    if len(report.errors) > SHOWN_ERRORS:
        more = len(report.errors) - SHOWN_ERRORS
        print(f"…… 另有 {more} 处错误 / {more} more errors", file=sys.stderr)
    if report.ignored_columns:
        print("未识别的列(已忽略)/ columns not recognised (ignored): "
              + ", ".join(report.ignored_columns), file=sys.stderr)
    kind = {"site": "存量资源 sites", "facility": "设施 facilities"}.get(report.kind, report.kind)
    prefix = "检查(未保存)/ dry run: " if args.dry_run else ""
    print(f"{prefix}{kind} — {report.summary('zh')} / {report.summary('en')} "
          f"({report.rows:,} rows, {report.seconds:.1f}s)")
    if report.errors_path:
        print(f"被拒绝的行已写入 / rejected rows written to: {report.errors_path} "
              f"(改正后可再次导入 / fix them and import that file again)")
    return ROWS_REJECTED if report.rejected else 0


OUTPUT_SUFFIXES = {".xlsx": "xlsx", ".csv": "csv", ".geojson": "geojson", ".json": "geojson"}
STDOUT = "-"


def cmd_export(args: argparse.Namespace) -> int:
    from fieldapp.io.exporter import ScopeError, export_records
    from fieldapp.io.tables import TableError

    kinds = [KIND_OF[k] for k in dict.fromkeys(args.kind or [])]
    try:
        if args.template:
            from fieldapp.io.template import write_template

            target = output_file(args.template, (".xlsx",))
            name = target.name.lower()
            kind = kinds[0] if kinds else (
                "facility" if "facilit" in name or "设施" in name else "site")
            if kind not in ("site", "facility"):
                raise CliError("模板只有存量资源和设施两种 / templates exist for sites and "
                               "facilities only")
            with AtomicOutput(target) as temp:
                write_template(temp, kind)
            print(f"模板已写入 / template written: {args.template}")
            return 0
        if not args.output:
            raise CliError("请用 -o 指定输出文件(-o - 写到标准输出)/ give the output file with "
                           "-o FILE (-o - for standard output)")
        to_stdout = args.output == STDOUT
        if args.three_lists:
            target = None if to_stdout else output_file(args.output, (".xlsx",))
            if to_stdout:
                raise CliError("三张清单是 xlsx 工作簿,请用 -o 文件名.xlsx / the three lists are "
                               "an xlsx workbook: give -o FILE.xlsx")
            fmt = "xlsx"
        elif to_stdout:
            target, fmt = None, args.format or "csv"
            if fmt == "xlsx" or args.with_attachments:
                raise CliError("xlsx 和 zip 不能写到标准输出,请用 --format csv 或 geojson / xlsx "
                               "and zip cannot go to standard output: use --format csv or "
                               "geojson")
        elif args.with_attachments:
            target, fmt = output_file(args.output, (".zip",)), args.format or "xlsx"
        else:
            target = output_file(args.output, tuple(OUTPUT_SUFFIXES))
            fmt = OUTPUT_SUFFIXES[target.suffix.lower()]
            if args.format and args.format != fmt:
                raise CliError(f"--format {args.format} 与文件名 {target.name} 不符 / --format "
                               f"{args.format} does not match the file name {target.name}")
        store = _store(args)
        try:
            grid = area_code(store, args.grid) if args.grid else None
            if args.three_lists:
                from fieldapp.io.reports import write_three_lists

                if not args.area:
                    raise CliError("三张清单需要 --area 街镇或区编码 / --three-lists needs "
                                   "--area CODE (a street or district)")
                area = area_code(store, args.area, "area")
                with AtomicOutput(target) as temp:
                    report = write_three_lists(store, temp, area)
                report.path = str(target)
            else:
                if not kinds:
                    kinds = ["site", "facility", "inspection"] if fmt == "xlsx" else ["site"]
                progress = ProgressLine("导出 / exporting")
                try:
                    if args.with_attachments:  # the bundle names its workbook after the zip
                        from fieldapp.io.bundle import export_with_attachments

                        report = export_with_attachments(
                            store, target, kinds=kinds, format=fmt, status=args.status,
                            grid=grid, progress=progress, all_local=args.all_local)
                    else:
                        with AtomicOutput(target) as temp:
                            report = export_records(store, temp, kinds=kinds, format=fmt,
                                                    status=args.status, grid=grid,
                                                    progress=progress, all_local=args.all_local)
                            if to_stdout:
                                _copy_to_stdout(temp)
                finally:
                    progress.done()
                report.path = "stdout" if to_stdout else str(target)
        finally:
            store.conn.close()
    except (TableError, ScopeError) as exc:
        raise CliError(str(exc)) from exc
    except OSError as exc:
        raise CliError(f"无法写入 / cannot write {exc.filename or args.output}: "
                       f"{exc.strerror or exc}") from exc
    print(f"已导出 / exported: {report.summary(args.lang or 'zh')}",
          file=sys.stderr if to_stdout else sys.stdout)
    return 0


def _copy_to_stdout(path: Path) -> None:
    import shutil

    sys.stdout.flush()
    with open(path, "rb") as source:
        shutil.copyfileobj(source, sys.stdout.buffer)
    sys.stdout.buffer.flush()
