"""The policy's three lists (三张清单) for a street or district as one workbook.

需求清单 (needs): per grid, the scenes missing within walking distance (the coverage
analysis, `fieldapp.store.coverage_load.analyse_store`) and the open issues found by
inspections; if the analysis cannot run, the sheet says so and lists the issues only.
资源清单 (resources): the candidate sites not in the project pipeline, with area, condition and
consent.
项目清单 (projects): the project pipeline, each site's stage and the day it reached each one,
planned functions, funding, operator.
Only records in the user's scope appear.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fieldapp.domain.catalog import BY_CODE, SCENES
from fieldapp.domain.choices import CHECK_RESULT, PROJECT_STAGE, STATUS
from fieldapp.domain.project import DATED_STAGES, date_field
from fieldapp.domain.records import FIELD_INDEX
from fieldapp.io.exporter import column_widths, display_value, iter_records, scope_grids
from fieldapp.io.tables import TableError, xlsx_row
from fieldapp.store.records import RecordStore

CHECKS = ("structure", "fire_safety", "accessibility", "elevator", "equipment", "cleanliness")


@dataclass
class ThreeListsReport:
    path: str
    area: str
    area_name: str
    counts: dict[str, int] = field(default_factory=dict)  # sheet → rows
    coverage: bool = True  # False when the coverage analysis could not run

    def summary(self, lang: str = "zh") -> str:
        rows = ", ".join(f"{k} {v}" for k, v in self.counts.items())
        return f"{self.area_name} ({self.area}): {rows} → {self.path}"


class _Areas:
    """Names and parents of areas, to label grids with their community, street and district."""

    def __init__(self, store: RecordStore) -> None:
        self.rows = {r["code"]: r for r in store.conn.execute("SELECT * FROM area")}

    def name(self, code: str | None) -> str:
        row = self.rows.get(code or "")
        return row["name"] if row else (code or "")

    def up(self, code: str, level: str) -> str:
        row = self.rows.get(code)
        while row is not None and row["level"] != level:
            row = self.rows.get(row["parent_code"] or "")
        return row["code"] if row is not None else ""


def _labels(codes: list[str] | None) -> str:
    return "、".join(BY_CODE[c].zh if c in BY_CODE else c for c in codes or [])


def _value(kind: str, data: dict, name: str) -> Any:
    return display_value(FIELD_INDEX[kind][name], data.get(name), typed=True)


def write_three_lists(store: RecordStore, path: str | os.PathLike, area: str) -> ThreeListsReport:
    """Write 需求清单, 资源清单 and 项目清单 for the grids below `area` (a street or district)."""
    areas = _Areas(store)
    if area not in areas.rows:
        raise TableError(f"找不到区域编码 / unknown area code: {area}")
    grids = set(store.area_codes_below(area))
    allowed = scope_grids(store)
    if allowed is not None:
        grids &= allowed
    report = ThreeListsReport(str(Path(path)), area, areas.name(area))

    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheets, report.coverage = three_list_rows(store, area, grids, areas)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        from openpyxl.utils import get_column_letter

        sheet.freeze_panes = "A2"
        for index, width in enumerate(column_widths(rows[:200]), start=1):
            sheet.column_dimensions[get_column_letter(index)].width = width
        for row in rows:
            sheet.append(xlsx_row(sheet, row))
        report.counts[title] = len(rows) - 1
    book.save(path)
    return report


def three_list_rows(store: RecordStore, area: str, grids: set[str],
                    areas: _Areas | None = None, analysis=None, limit: int | None = None,
                    ) -> tuple[dict[str, list[list]], bool]:
    """The three lists as rows (a header row first) for the `grids` below `area`, and whether
    the coverage analysis ran; the workbook above and the PDF area report print these.
    `limit` stops the resources and projects lists after that many rows (the PDF prints the
    first rows and counts the rest itself)."""
    areas = areas or _Areas(store)
    needs, coverage_ok = _needs(store, areas, area, grids, analysis)
    return {"需求清单": needs, "资源清单": _resources(store, areas, grids, limit),
            "项目清单": _projects(store, areas, grids, limit)}, coverage_ok


def _where(areas: _Areas, grid: str) -> list[str]:
    return [areas.name(areas.up(grid, "street")), areas.name(areas.up(grid, "community")),
            grid, areas.name(grid)]


WHERE = ["街镇", "居委", "网格编码", "网格"]


def _needs(store: RecordStore, areas: _Areas, area: str, grids: set[str], analysis=None
           ) -> tuple[list[list], bool]:
    rows: list[list] = [[*WHERE, "类别", "缺少的服务场景 / 问题", "涉及对象", "检查日期", "说明"]]
    coverage_ok = True
    try:
        missing = _missing_scenes(store, area, grids, analysis)
    except Exception as exc:  # noqa: BLE001 - a broken analysis must not cost the other lists
        missing, coverage_ok = {}, False
        rows.append(["", "", "", "", "说明", "覆盖分析未能运行,本表只列出巡查发现的问题",
                     "", "", f"coverage analysis failed: {exc}"])
    for grid in sorted(missing):
        if missing[grid]:
            scenes = "、".join(BY_CODE[s].zh for s in missing[grid])
            rows.append([*_where(areas, grid), "服务缺口", scenes, "", "",
                         "步行范围内没有提供这些场景的设施"])
    titles: dict[str, str] = {}
    for record in iter_records(store, "inspection", grids=grids):
        data = record.data
        failed = [FIELD_INDEX["inspection"][c].zh for c in CHECKS if data.get(c) == "issue"]
        if not (data.get("open_issues") or data.get("follow_up_needed") or failed):
            continue
        target = data.get("target_id") or ""
        if target not in titles:
            found = store.get(target) if target else None
            titles[target] = found.title if found else target
        issue = data.get("open_issues") or ("、".join(failed) + " " +
                                            CHECK_RESULT.label("issue", "zh"))
        rows.append([*_where(areas, record.grid_code or ""), "巡查问题", issue, titles[target],
                     data.get("inspected_on"), "需要跟进" if data.get("follow_up_needed") else ""])
    return rows, coverage_ok


def _missing_scenes(store: RecordStore, area: str, grids: set[str], analysis=None
                    ) -> dict[str, list[str]]:
    # The analysis takes in facilities just over the area's edge: they serve its grids too.
    # Only the grids in scope are reported, so no record outside the scope is named.
    from fieldapp.store.coverage_load import analyse_store

    analysis = analysis or analyse_store(store, area)
    order = [s.code for s in SCENES]
    return {g.grid.code: sorted(g.missing, key=order.index) for g in analysis.grids
            if g.grid.code in grids}


def _resources(store: RecordStore, areas: _Areas, grids: set[str],
               limit: int | None = None) -> list[list]:
    names = ("address", "source_type", "usable_area", "floor_from", "owner_name",
             "ownership_type", "owner_consent", "authority_consent", "structure_condition",
             "fire_condition", "candidate_functions")
    specs = FIELD_INDEX["site"]
    rows: list[list] = [[*WHERE, *(specs[n].zh for n in names), "状态", "记录ID"]]
    for record in iter_records(store, "site", grids=grids):
        if limit is not None and len(rows) > limit:
            break
        record = record.approved_view()  # a revision under review: as last approved
        if record.data.get("project_stage"):
            continue  # in the project pipeline: the 项目清单 lists it
        rows.append([*_where(areas, record.grid_code or ""),
                     *(_value("site", record.data, n) for n in names),
                     STATUS.label(record.status, "zh"), record.id])
    return rows


def _projects(store: RecordStore, areas: _Areas, grids: set[str],
              limit: int | None = None) -> list[list]:
    """The project pipeline (fieldapp/domain/project.py): every site with a project stage."""
    specs = FIELD_INDEX["site"]
    dates = [date_field(s) for s in DATED_STAGES]
    rows: list[list] = [[*WHERE, "项目名称", "地址", "项目阶段", "阶段日期",
                         *(specs[d].zh for d in dates), "规划功能", "服务场景", "资金来源",
                         "运营主体", "运营方式", "终止原因", "可用面积", "设施编号", "记录ID"]]
    for record in iter_records(store, "site", grids=grids):
        record = record.approved_view()  # a revision under review: as last approved
        data = record.data
        stage = data.get("project_stage")
        if stage is None:
            continue
        if limit is not None and len(rows) > limit:
            break
        functions = data.get("planned_functions") or data.get("candidate_functions") or []
        scenes = list(dict.fromkeys(BY_CODE[f].scene for f in functions if f in BY_CODE))
        rows.append([*_where(areas, record.grid_code or ""), data.get("project_name") or "",
                     data.get("address"), PROJECT_STAGE.label(stage, "zh"),
                     data.get(date_field(stage)), *(data.get(d) for d in dates),
                     _labels(functions), _labels(scenes),
                     _value("site", data, "funding_source"), data.get("project_operator"),
                     _value("site", data, "project_operating_mode"),
                     data.get("project_end_reason"), data.get("usable_area"),
                     data.get("facility_id") or "", record.id])
    return rows
