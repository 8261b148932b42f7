"""`fieldapp progress`: the pilot communities from idle space to open facilities, rolled up
per street and district, with a chart per street (fieldapp/domain/progress.py computes it)."""

from __future__ import annotations

import argparse
import json
import sys

from fieldapp.cli import CliError
from fieldapp.cli.lang import current, tr
from fieldapp.cli.options import AtomicOutput, add_all_local, area_code, output_file


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("progress", help=tr(
        "试点社区进展:发现、同意、联审通过、改造中、开放,覆盖变化,年度计划完成",
        "pilot communities' progress: found, consented, passed, converting, opened, coverage "
        "before/after, the annual plan"))
    p.add_argument("--area", metavar="CODE",
                   help=tr("区、街镇或社区的编码或名称", "a district, street or community"))
    p.add_argument("--year", type=int, metavar="YYYY", help=tr("年度(默认今年)",
                                                               "the year (default this year)"))
    p.add_argument("--json", action="store_true", help=tr("以 JSON 输出", "print JSON"))
    p.add_argument("-o", "--output", metavar="FILE.xlsx",
                   help=tr("写成 xlsx 工作簿", "write an xlsx workbook"))
    add_all_local(p)
    p.set_defaults(func=cmd_progress)


def cmd_progress(args: argparse.Namespace) -> int:
    from fieldapp.context import AppContext
    from fieldapp.store.progress_load import load_progress

    if args.year is not None and not 2000 <= args.year <= 2100:
        raise CliError(f"年度应为 2000–2100: {args.year} / the year must be 2000–2100")
    target = output_file(args.output, (".xlsx",)) if args.output else None
    store = AppContext.create(args.data_dir, args.lang).open_store()
    try:
        area = area_code(store, args.area, "area") if args.area else None
        progress = load_progress(store, area, args.year, all_local=args.all_local)
    finally:
        store.conn.close()
    lang = current()
    if progress.hidden:
        from fieldapp.domain.progress import word

        print(word("outside", lang, n=progress.hidden), file=sys.stderr)
    if target is not None:
        from fieldapp.io.progress_book import write_progress

        with AtomicOutput(target) as temp:
            n = write_progress(progress, temp, lang)
        print(tr(f"已写入 {n} 行 → {target}", f"{n} rows written → {target}"), file=sys.stderr)
    if args.json:
        print(json.dumps(progress.as_json(), ensure_ascii=False, indent=1))
    elif target is None and (progress.communities or not progress.hidden):
        print("\n".join(progress_lines(progress, lang, 100)))
    return 0


def progress_lines(progress, lang: str, width: int) -> list[str]:  # noqa: ANN001
    """The tables and a chart per street as plain text lines."""
    from fieldapp.domain import progress as P
    from fieldapp.ui.format import pad

    if not progress.communities:
        return [P.word("none", lang)]
    from rich.cells import cell_len

    head = P.headers(progress.year, lang)
    levels = (("community", progress.communities), ("street", progress.streets),
              ("district", progress.districts))
    table = [P.cells(row, progress.year, lang) for _, rows in levels for row in rows]
    widths = [max(cell_len(r[i]) for r in [head, *table]) for i in range(len(head))]
    lines: list[str] = []
    for key, rows in levels:
        lines.append(f"== {P.word(key, lang)} ==")
        lines.append(" ".join(pad(h, w) for h, w in zip(head, widths, strict=True)).rstrip())
        for row in rows:
            cells = P.cells(row, progress.year, lang)
            lines.append(" ".join(pad(c, w) for c, w in zip(cells, widths, strict=True))
                         .rstrip())
        lines.append("")
    for street in progress.streets:
        lines += _bars(P.word("funnel", lang, name=street.name), P.funnel(street, lang), width)
        lines += _bars(P.word("chart", lang, name=street.name, year=progress.year),
                       [(name, n, of) for _, name, n, of in P.bars(street)], width)
    return lines


def _bars(title: str, rows: list[tuple[str, int, int]], width: int) -> list[str]:
    from rich.cells import cell_len

    from fieldapp.ui.format import pad

    label = max((cell_len(r[0]) for r in rows), default=0)
    numbers = max((len(f"{n}/{of}") for _, n, of in rows), default=3)
    room = max(width - label - numbers - 4, 4)
    out = [title]
    for name, n, of in rows:
        bar = round(room * min(n, of) / of) if of else 0
        out.append(f"{pad(name, label)} {'█' * bar}{' ' * (room - bar)} {n}/{of}")
    out.append("")
    return out
