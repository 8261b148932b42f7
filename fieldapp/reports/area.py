"""The area report: a street's or district's picture for the people it reports to.

Counts by status and stage, a map of facilities with their walking radii and the idle sites,
coverage per grid and scene, the gaps with their best candidate sites, and the three lists
(需求/资源/项目清单), with charts where people would rather look than read. Only records in
the user's areas appear (the one scope rule); facilities just across the area's edge count
for coverage, as in `fieldapp coverage`, but are not named.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from fieldapp.domain.areas import LEVEL_LABELS
from fieldapp.domain.catalog import BY_CODE, scene_of
from fieldapp.domain.choices import PROJECT_STAGE, RECORD_KIND, STATUS
from fieldapp.domain.coverage import SCENE_CODES, SCENE_SHORT, analyse
from fieldapp.domain.mapview import SCENE_COLOURS, STATUS_COLOURS, layers_from
from fieldapp.domain.project import DATED_STAGES
from fieldapp.reports.document import ACCENT, Progress, ReportPDF, save_pdf
from fieldapp.reports.drawing import bar_chart, draw_map
from fieldapp.store.records import RecordStore

#: Where a site stands on its way to an open facility: review, then the project pipeline
#: (fieldapp/domain/project.py).
STAGES = (
    ("found", "已发现待审核", "Found, in review"),
    ("approved", "已审核未立项", "Approved, not yet a project"),
    *((code, PROJECT_STAGE.label(code, "zh"), PROJECT_STAGE.label(code, "en"))
      for code in DATED_STAGES),
)
STAGE_COLOURS = ((150, 150, 150), (30, 110, 200), (120, 160, 220), (230, 150, 0),
                 (0, 150, 90), (200, 120, 40), (0, 110, 60), (0, 80, 40), (200, 30, 30))

WORDS = {
    "title": ("{name} 社区嵌入式服务设施报告", "{name}: community embedded service facilities"),
    "sub": ("{level} {code} · 网格 {grids} 个 · 服务半径标准: {norms}",
            "{level} {code} · {grids} grids · walking radii: {norms}"),
    "built_in": ("内置", "built-in"),
    "overview": ("一、概况", "1. Overview"),
    "figures": ("主要数字", "Key figures"),
    "by_status": ("按审核状态", "By review status"),
    "by_stage": ("存量资源推进阶段", "Sites by stage"),
    "map": ("二、分布图", "2. Map"),
    "map_note": ("设施按服务场景着色,圆圈为其步行服务半径;方块为存量资源,按审核状态着色;"
                 "十字为网格中心。另有 {n} 条记录无坐标,未在图上(见下表)。",
                 "Facilities coloured by scene, circles their walking radius; squares are idle "
                 "sites by review status; crosses are grid centres. {n} records have no "
                 "coordinates and are not on the map (listed below)."),
    "unplaced": ("无坐标的记录", "Records without coordinates"),
    "coverage": ("三、15分钟生活圈覆盖", "3. 15-minute life circle coverage"),
    "covered_chart": ("覆盖的网格数(共 {n} 个)", "Grids covered (of {n})"),
    "grid": ("网格", "Grid"), "hh": ("户数", "Households"), "per100": ("㎡/百户", "m²/100 hh"),
    "gaps": ("四、服务缺口与最佳候选存量资源", "4. Gaps and the best candidate sites"),
    "gaps_for": ("只列 {fn}", "{fn} only"),
    "scene": ("缺少场景", "Missing"), "best": ("最佳候选", "Best candidate"),
    "score": ("得分", "Score"), "distance": ("距离", "Distance"), "why": ("理由", "Why"),
    "none_near": ("附近无可承载的存量资源", "no idle site nearby could host it"),
    "no_gaps": ("没有服务缺口。", "No gaps."),
    "lists": ("五、三张清单", "5. The three lists"),
    "lists_note": ("完整清单(全部行和列)见 fieldapp export --three-lists 导出的工作簿。",
                   "Every row and column: the workbook from fieldapp export --three-lists."),
    "lists_cut": ("只印出前 {shown} 行,共 {n} 行。", "The first {shown} of {n} rows."),
    "empty": ("(无)", "(none)"),
    "facilities": ("服务设施", "Facilities"), "sites": ("存量资源", "Sites"),
    "inspections": ("巡查", "Inspections"),
    "grids_n": ("网格", "Grids"), "households": ("户数", "Households"),
    "gaps_n": ("缺口(网格×场景)", "Gaps (grid × scene)"),
    "complex_bad": ("不达标综合体", "Complexes failing the test"),
    "no_coverage": ("覆盖分析未能运行: {e}", "The coverage analysis could not run: {e}"),
}

#: Columns of the three lists printed on the page (the workbook has them all).
LIST_COLUMNS = {
    "需求清单": (["网格", "类别", "缺少的服务场景 / 问题", "涉及对象", "检查日期", "说明"],
             [34, 18, 90, 60, 22, 45]),
    "资源清单": (["网格", "地址", "资源类型", "可用面积", "所在楼层", "权属方", "权属方意见",
              "结构安全", "消防安全", "可承载功能", "状态"],
             [28, 52, 18, 16, 12, 36, 18, 14, 14, 40, 18]),
    "项目清单": (["网格", "项目名称", "地址", "项目阶段", "阶段日期", "规划功能", "资金来源",
              "运营主体"],
             [28, 40, 50, 22, 20, 50, 40, 40]),
}


#: Rows of each list printed: the report is for reading; the workbook holds every row.
LIST_ROWS = 300


class AreaReportError(ValueError):
    pass


@dataclass
class AreaReport:
    path: str
    area: str
    area_name: str
    pages: int = 0
    grids: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    gaps: int = 0
    seconds: float = 0.0

    def summary(self, lang: str = "zh") -> str:
        if lang == "zh":
            return (f"{self.area_name}({self.area})报告,网格 {self.grids} 个,缺口 {self.gaps} 处,"
                    f"{self.pages} 页 → {self.path}")
        return (f"report of {self.area_name} ({self.area}): {self.grids} grids, {self.gaps} "
                f"gaps, {self.pages} pages → {self.path}")


def w(key: str, lang: str, **kw: Any) -> str:
    zh, en = WORDS[key]
    return (zh if lang == "zh" else en).format(**kw)


def default_area(store: RecordStore) -> str:
    """The user's own area when their scope is one area code."""
    from fieldapp.store.scope import own_area

    area = own_area(store)
    if area is not None:
        return area
    raise AreaReportError("请给出街镇或区编码,例如 fieldapp report area 310104003 -o 报告.pdf / "
                          "give a street or district code, e.g. fieldapp report area 310104003 "
                          "-o report.pdf")


def stage_of(status: str, data: dict) -> str:
    """The site's project stage; before it is a project, whether it passed review."""
    if data.get("project_stage"):
        return data["project_stage"]
    return "approved" if status == "approved" else "found"


def write_area_report(store: RecordStore, area: str | None, path: str | os.PathLike, *,
                      function: str | None = None, lang: str = "zh",
                      progress: Progress | None = None) -> AreaReport:
    import time

    from fieldapp.io.reports import three_list_rows
    from fieldapp.store.coverage_load import load_inputs, load_norms
    from fieldapp.store.scope import scope_grids

    started = time.perf_counter()

    def step(fraction: float, what: str) -> None:
        if progress:
            progress(fraction, what)

    area = area or default_area(store)
    row = store.conn.execute("SELECT name, level FROM area WHERE code = ?", (area,)).fetchone()
    if row is None:
        raise AreaReportError(f"找不到区域编码 / unknown area code: {area}")
    if function is not None and function not in BY_CODE:
        raise AreaReportError(f"未知功能 / unknown function: {function} (e.g. elderly, "
                              f"childcare, meal)")
    only_scene = scene_of(function) if function else None
    grids = set(store.area_codes_below(area))
    allowed = scope_grids(store)
    if allowed is not None:
        grids &= allowed
    if not grids:
        raise AreaReportError(f"该区域不在你的范围内 / this area is outside your areas: {area}")
    name, level = row[0], row[1]
    report = AreaReport(str(path), area, name)

    step(0.05, "coverage")
    norms = load_norms(store)
    reach = max([norms.life_circle_m, *norms.radius_m.values()])
    inputs = load_inputs(store, area, reach)
    analysis = analyse(inputs.grids, inputs.facilities, inputs.sites, norms, inputs.names)
    shown = [g for g in analysis.grids if g.grid.code in grids]
    report.grids = len(shown)
    pdf = ReportPDF(w("title", lang, name=name), lang, subtitle=f"{name} {area}")

    step(0.15, "counts")
    counts = _counts(store, grids)
    stages = _stages(store, grids)
    pdf.add_page()
    level_label = LEVEL_LABELS.get(level, (level, level))[0 if lang == "zh" else 1]
    pdf.h1(w("title", lang, name=name), w(
        "sub", lang, level=level_label, code=area, grids=len(shown),
        norms=w("built_in", lang) if norms.source == "built-in" else norms.source))
    gaps = [(g, s) for g in shown for s in SCENE_CODES if s in g.missing
            and (only_scene is None or s == only_scene)]
    report.gaps = len(gaps)
    _overview(pdf, lang, counts, stages, shown, gaps, analysis)

    step(0.25, "map")
    layers = layers_from(inputs.grids, inputs.facilities, inputs.sites,
                         _boundaries(store, grids), grid_codes=grids)
    pdf.add_page()
    pdf.h2(w("map", lang))
    pdf.note(w("map_note", lang, n=len(layers.unplaced)))
    pdf.ln(1)
    draw_map(pdf, layers, 150, norms.radius, lang, only_scene)
    if layers.unplaced:
        pdf.h3(w("unplaced", lang))
        rows = [[RECORD_KIND.label(p.kind, lang), p.label, STATUS.label(p.status, lang)
                 if p.status else "", p.id[:8]] for p in layers.unplaced[:200]]
        pdf.grid_table(["", w("grid", lang), "", "ID"], rows, [24, 110, 24, 24])

    step(0.35, "coverage")
    pdf.add_page()
    pdf.h2(w("coverage", lang))
    i = 0 if lang == "zh" else 1
    covered = Counter(s for g in shown for s in g.covered)
    bar_chart(pdf, w("covered_chart", lang, n=len(shown)),
              [(BY_CODE[s].label(lang) if lang == "zh" else SCENE_SHORT[s][1], covered[s],
                SCENE_COLOURS[s]) for s in SCENE_CODES], pdf.content_width, maximum=len(shown))
    pdf.ln(4)
    headers = [w("grid", lang), w("hh", lang), w("per100", lang),
               *(SCENE_SHORT[s][i] for s in SCENE_CODES)]
    rows = []
    for g in sorted(shown, key=lambda c: c.grid.code):
        per100 = "-" if g.area_per_100 is None else f"{g.area_per_100:.1f}"
        rows.append([g.grid.name or g.grid.code, g.grid.households or "-", per100,
                     *("✓" if s in g.covered else "×" for s in SCENE_CODES)])
    scene_width = min(9.8, (pdf.content_width - 84) / len(SCENE_CODES))
    pdf.grid_table(headers, rows, [52, 16, 16, *([scene_width] * len(SCENE_CODES))], size=7.5,
                   align=["LEFT", "RIGHT", "RIGHT", *(["CENTER"] * len(SCENE_CODES))])

    step(0.5, "gaps")
    pdf.add_page()
    pdf.h2(w("gaps", lang))
    if only_scene:
        pdf.note(w("gaps_for", lang, fn=BY_CODE[only_scene].label(lang)))
    _gaps(pdf, analysis, gaps, grids, lang)

    step(0.65, "lists")
    lists, _ok = three_list_rows(store, area, grids, analysis=analysis, limit=LIST_ROWS)
    sites = sum(n for (kind, _), n in counts.items() if kind == "site")
    totals = {"需求清单": len(lists["需求清单"]) - 1,
              "资源清单": sites - sum(stages.get(c, 0) for c in DATED_STAGES),
              "项目清单": sum(stages.get(c, 0) for c in DATED_STAGES)}
    pdf.add_page(orientation="L")
    pdf.h2(w("lists", lang))
    pdf.note(w("lists_note", lang))
    for title, table in lists.items():
        pdf.h3(f"{title}({totals[title]})")
        wanted, widths = LIST_COLUMNS[title]
        index = [table[0].index(h) for h in wanted if h in table[0]]
        body = [[_cell(r[k]) for k in index] for r in table[1:LIST_ROWS + 1]]
        if body:
            pdf.grid_table([table[0][k] for k in index], body, widths[:len(index)], size=7,
                           max_lines=2)
            if totals[title] > len(body):
                pdf.note(w("lists_cut", lang, shown=len(body), n=totals[title]))
        else:
            pdf.note(w("empty", lang))
        pdf.ln(3)

    step(0.9, "PDF")
    save_pdf(pdf, path)
    report.pages = pdf.pages_count
    report.counts = {f"{k}:{s}": n for (k, s), n in counts.items()}
    report.seconds = time.perf_counter() - started
    step(1.0, "")
    return report


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _grid_filter(grids: set[str]) -> tuple[str, list]:
    return "grid_code IN (SELECT value FROM json_each(?))", [json.dumps(sorted(grids))]


def _counts(store: RecordStore, grids: set[str]) -> Counter:
    where, params = _grid_filter(grids)
    # A revision under review still counts as approved (its last approved values stand).
    rows = store.conn.execute(
        f"SELECT kind, CASE WHEN approved_data IS NULL THEN status ELSE 'approved' END AS s, "
        f"count(*) FROM record INDEXED BY record_home_counts "
        f"WHERE deleted = 0 AND {where} GROUP BY kind, s", params)
    return Counter({(kind, status): n for kind, status, n in rows})


def _stages(store: RecordStore, grids: set[str]) -> Counter:
    where, params = _grid_filter(grids)
    # A revision under review stands at its last approved values (domain/revision.py).
    rows = store.conn.execute(
        f"SELECT CASE WHEN approved_data IS NULL THEN status ELSE 'approved' END, "
        f"json_extract(coalesce(approved_data, data), '$.project_stage') FROM record "
        f"WHERE deleted = 0 AND kind = 'site' AND {where}", params)
    return Counter(stage_of(status, {"project_stage": stage}) for status, stage in rows)


def _boundaries(store: RecordStore, grids: set[str]) -> dict:
    """Grid polygons where the area data has them (`area.boundary`, GeoJSON rings)."""
    columns = {r[1] for r in store.conn.execute("PRAGMA table_info(area)")}
    if "boundary" not in columns:
        return {}
    from fieldapp.domain.grid_shapes import rings_of

    where, params = "code IN (SELECT value FROM json_each(?))", [json.dumps(sorted(grids))]
    return {code: rings_of(raw) for code, raw in store.conn.execute(
        f"SELECT code, boundary FROM area WHERE boundary IS NOT NULL AND {where}", params)}


def _overview(pdf: ReportPDF, lang: str, counts: Counter, stages: Counter, shown, gaps,
              analysis) -> None:
    pdf.h2(w("overview", lang))
    households = sum(g.grid.households or 0 for g in shown)
    figures = [
        (w("grids_n", lang), str(len(shown))),
        (w("households", lang), f"{households:,}" if households else "-"),
        (w("facilities", lang), str(sum(n for (k, _), n in counts.items() if k == "facility"))),
        (w("sites", lang), str(sum(n for (k, _), n in counts.items() if k == "site"))),
        (w("inspections", lang),
         str(sum(n for (k, _), n in counts.items() if k == "inspection"))),
        (w("gaps_n", lang), str(len(gaps))),
        (w("complex_bad", lang), str(sum(1 for c in analysis.complexes
                                          if c.facility.grid in {g.grid.code for g in shown}))),
    ]
    pdf.fields(figures)
    pdf.ln(3)
    pdf.h3(w("by_status", lang))
    rows = []
    for kind in ("site", "facility", "inspection"):
        rows.append([RECORD_KIND.label(kind, lang),
                     *(str(counts.get((kind, s), 0)) for s in STATUS.codes()),
                     str(sum(n for (k, _), n in counts.items() if k == kind))])
    total = "合计" if lang == "zh" else "Total"
    pdf.grid_table(["", *(STATUS.label(s, lang) for s in STATUS.codes()), total], rows,
                   [40, *([28] * len(STATUS.codes())), 30],
                   align=["LEFT", *(["RIGHT"] * (len(STATUS.codes()) + 1))])
    pdf.ln(4)
    half = (pdf.content_width - 8) / 2
    top = pdf.get_y()
    used = bar_chart(pdf, f"{w('sites', lang)} · {w('by_status', lang)}",
                     [(STATUS.label(s, lang), counts.get(("site", s), 0),
                       STATUS_COLOURS.get(s, ACCENT)) for s in STATUS.codes()], half)
    pdf.set_y(top)
    used2 = bar_chart(pdf, w("by_stage", lang),
                      [(zh if lang == "zh" else en, stages.get(code, 0), colour)
                       for (code, zh, en), colour in zip(STAGES, STAGE_COLOURS, strict=True)],
                      half, x=pdf.l_margin + half + 8)
    pdf.set_y(top + max(used, used2) + 2)


def _gaps(pdf: ReportPDF, analysis, gaps, grids: set[str], lang: str) -> None:
    if not gaps:
        pdf.paragraph(w("no_gaps", lang))
        return
    rows = []
    for cov, scene in gaps:
        best = analysis.best_candidate(cov.grid.code, scene, grids)
        name = cov.grid.name or cov.grid.code
        if best is None:
            rows.append([name, BY_CODE[scene].label(lang), w("none_near", lang), "", "", ""])
            continue
        where = "-" if best.distance_m is None else f"{best.distance_m:.0f} m"
        rows.append([name, BY_CODE[scene].label(lang), best.site.title or best.site.id[:8],
                     f"{best.score:+d}", where, best.reason(lang)])
    pdf.grid_table([w(k, lang) for k in ("grid", "scene", "best", "score", "distance", "why")],
                   rows, [32, 22, 38, 11, 14, 65], size=7.5)
