"""`fieldapp report ledger|area`: printable PDF reports (台账 and an area's report)."""

from __future__ import annotations

import argparse
import sys

from fieldapp.cli import CliError
from fieldapp.cli.lang import tr
from fieldapp.cli.options import area_code, function_type, output_file, record_ids


def _pdf_path(text: str) -> str:
    if not text.lower().endswith(".pdf"):
        raise CliError(f"报告是 PDF 文件,请用 -o 文件名.pdf / the report is a PDF: give -o "
                       f"FILE.pdf (not {text!r})")
    output_file(text, (".pdf",), make_folder=True)  # not a folder, a folder we may write in
    return text


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help=tr("打印用 PDF 报告:记录台账或区域报告",
                                         "printable PDF reports: a record ledger or an area "
                                         "report"),
                       description="打印用 PDF 报告 / printable PDF reports with Chinese text "
                                   "embedded (they print on any machine). ledger: every field, "
                                   "joint review, history and photos of records; area: a "
                                   "street's or district's counts, map, coverage, gaps and the "
                                   "three lists.")
    kinds = p.add_subparsers(dest="report", metavar="REPORT", required=True)
    ledger = kinds.add_parser("ledger", help=tr("台账:每条记录一页,附照片",
                                                "ledger: one record per page, with its photos"))
    ledger.add_argument("ids", nargs="+", metavar="ID", help="record ids (or 8-character "
                                                             "prefixes)")
    ledger.add_argument("-o", "--output", metavar="FILE.pdf", required=True)
    ledger.set_defaults(func=cmd_ledger)
    area = kinds.add_parser("area", help=tr("区域报告:数量、地图、覆盖、缺口、清单",
                                            "an area's report: counts, map, coverage, gaps, "
                                            "lists"))
    area.add_argument("area", metavar="AREA", nargs="?",
                      help="street or district: code or name, e.g. 310104003 or 天平路街道 "
                           "(default: your own area)")
    area.add_argument("-o", "--output", metavar="FILE.pdf", required=True)
    area.add_argument("--function", metavar="FUNCTION", type=function_type,
                      help="gaps of this function only (code or name: elderly, 养老, 宝宝屋)")
    area.set_defaults(func=cmd_area)


class _Progress:
    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.last = -1

    def __call__(self, fraction: float, what: str) -> None:
        step = int(fraction * 10)
        if self.tty:
            print(f"\r报告 / report: {fraction:4.0%} {what[:30]:30}", end="", file=sys.stderr,
                  flush=True)
        elif step > self.last:
            self.last = step
            print(f"报告 / report: {fraction:4.0%}", file=sys.stderr, flush=True)

    def done(self) -> None:
        if self.tty:
            print(file=sys.stderr)


def _context(args: argparse.Namespace):
    from fieldapp.cli.basic import context

    return context(args)


def cmd_ledger(args: argparse.Namespace) -> int:
    from fieldapp.reports.ledger import LedgerError, write_ledger
    from fieldapp.store.scope import ScopeError

    ctx = _context(args)
    store = ctx.open_store()
    progress = _Progress()
    try:
        report = write_ledger(store, record_ids(store, args.ids), _pdf_path(args.output),
                              lang=ctx.lang or "zh",
                              data_dir=ctx.data_dir, progress=progress)
    except (LedgerError, ScopeError, OSError) as exc:
        raise CliError(str(exc)) from exc
    finally:
        progress.done()
        store.conn.close()
    print(f"已生成 / written: {report.summary(ctx.lang or 'zh')}")
    if report.missing_photos:
        print(f"注意 / note: {report.missing_photos} 个附件未下载,未印出 / attachments not on "
              f"this laptop were left out (fieldapp attachment fetch ID)", file=sys.stderr)
    return 0


def cmd_area(args: argparse.Namespace) -> int:
    from fieldapp.reports.area import AreaReportError, write_area_report
    from fieldapp.store.scope import ScopeError

    ctx = _context(args)
    store = ctx.open_store()
    progress = _Progress()
    try:
        area = area_code(store, args.area, "area") if args.area else None
        report = write_area_report(store, area, _pdf_path(args.output), function=args.function,
                                   lang=ctx.lang or "zh", progress=progress)
    except (AreaReportError, ScopeError, OSError) as exc:
        raise CliError(str(exc)) from exc
    finally:
        progress.done()
        store.conn.close()
    print(f"已生成 / written: {report.summary(ctx.lang or 'zh')}")
    return 0
