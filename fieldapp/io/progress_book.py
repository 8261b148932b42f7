"""The pilot communities' progress (fieldapp/domain/progress.py) as an xlsx workbook: one
sheet per level (试点社区, 街镇, 区), numbers as numbers so the office can add them up."""

from __future__ import annotations

import os

from fieldapp.domain.progress import COLUMNS, Progress, Row
from fieldapp.io.tables import xlsx_row

SHEETS = (("communities", "试点社区", "Pilot communities"), ("streets", "街镇", "Streets"),
          ("districts", "区", "Districts"))


def write_progress(progress: Progress, path: str | os.PathLike, lang: str = "zh") -> int:
    """Write the workbook; returns the rows written (all sheets)."""
    from openpyxl import Workbook

    zh = lang == "zh"
    header = ["编码" if zh else "Code", "名称" if zh else "Name",
              *(z if zh else e for _, z, e in COLUMNS),
              "覆盖场景(开放前)" if zh else "Scenes covered before",
              "覆盖场景(开放后)" if zh else "Scenes covered after",
              "场景总数" if zh else "Scene cells",
              f"{progress.year}年已开放" if zh else f"Opened in {progress.year}",
              "年度计划" if zh else "Annual plan"]
    book = Workbook(write_only=True)
    written = 0
    for attr, zh_title, en_title in SHEETS:
        sheet = book.create_sheet(zh_title if zh else en_title)
        sheet.append(xlsx_row(sheet, header))
        rows: list[Row] = getattr(progress, attr)
        for r in rows:
            sheet.append(xlsx_row(sheet, [r.code, r.name, *(getattr(r, k) for k, _, _ in COLUMNS),
                                          r.covered_before, r.covered_after, r.cells,
                                          r.opened_this_year, r.target]))
            written += 1
    book.save(path)
    return written
