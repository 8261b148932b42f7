"""`fieldapp coverage` (15-minute life circle gaps and candidate sites) and `fieldapp geo`
(GCJ-02 ⇄ WGS-84 conversion of one point)."""

from __future__ import annotations

import argparse
import json
import unicodedata

from fieldapp.cli import CliError
from fieldapp.cli.lang import tr
from fieldapp.cli.options import add_all_local, area_code, function_type, non_negative_int, scope_of

MARK_YES, MARK_NO = "✓", "✗"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("coverage", help=tr(
        "15分钟生活圈:哪些网格缺哪些服务,哪些存量资源可以补缺",
        "15-minute life circle: which grids lack which services, and idle sites that could "
        "fill the gap"))
    p.add_argument("--area", metavar="CODE",
                   help=tr("区、街镇、居委或网格(编码或名称)",
                           "a district, street, community or grid (code or name)"))
    p.add_argument("--function", type=function_type, metavar="FUNCTION",
                   help=tr("列出缺少此功能的网格和排序后的候选资源(如 养老、宝宝屋、助餐)",
                           "list grids lacking this function and ranked candidate sites "
                           "(e.g. elderly, childcare, meal)"))
    p.add_argument("--limit", type=non_negative_int, default=5, metavar="N",
                   help=tr("每个网格列出几处候选(默认 5)",
                           "candidate sites shown per grid (default 5)"))
    p.add_argument("--json", action="store_true",
                   help=tr("以 JSON 输出全部结果", "print the whole result as JSON"))
    p.add_argument("--norms", action="store_true",
                   help=tr("显示标准文件在哪里、用的是哪一份",
                           "print where the norms file is and which one is in use"))
    p.add_argument("--init-norms", action="store_true",
                   help=tr("在数据文件夹写一份可编辑的标准文件",
                           "write an editable copy of the norms into the data folder"))
    add_all_local(p)
    p.set_defaults(func=cmd_coverage)

    p = sub.add_parser("geo", help=tr("把一个点在 GCJ-02(高德/腾讯)和 WGS-84 之间换算",
                                      "convert a point between GCJ-02 (Amap/Tencent) and WGS-84"))
    p.add_argument("direction", choices=["gcj2wgs", "wgs2gcj"],
                   help=tr("gcj2wgs: 高德/腾讯 → GPS;wgs2gcj: 反向",
                           "gcj2wgs: Amap/Tencent → GPS; wgs2gcj: the other way"))
    p.add_argument("lat", type=float, metavar="LAT", help=tr("纬度", "latitude"))
    p.add_argument("lng", type=float, metavar="LNG", help=tr("经度", "longitude"))
    p.set_defaults(func=cmd_geo)


def cmd_geo(args: argparse.Namespace) -> int:
    from fieldapp.domain.geo import gcj02_to_wgs84, haversine_m, in_shanghai, wgs84_to_gcj02

    if not (-90 <= args.lat <= 90 and -180 <= args.lng <= 180):
        raise CliError("纬度应在 -90..90,经度在 -180..180 / latitude must be -90..90, "
                       "longitude -180..180 (give LAT first, then LNG)")
    convert = gcj02_to_wgs84 if args.direction == "gcj2wgs" else wgs84_to_gcj02
    lat, lng = convert(args.lat, args.lng)
    print(f"{lat:.7f} {lng:.7f}")
    shift = haversine_m(args.lat, args.lng, lat, lng)
    note = "" if in_shanghai(args.lat, args.lng) else " (不在上海范围 / outside Shanghai)"
    import sys

    print(f"偏移 / shift: {shift:.1f} m{note}", file=sys.stderr)
    return 0


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


def _fmt_area(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def cmd_coverage(args: argparse.Namespace) -> int:
    from fieldapp.context import AppContext
    from fieldapp.domain import norms as N

    ctx = AppContext.create(args.data_dir, args.lang)
    lang = ctx.lang
    if args.norms or args.init_norms:
        return _norms_info(ctx.data_dir, args.init_norms)
    from fieldapp.domain.catalog import scene_of
    from fieldapp.store.coverage_load import analyse_store

    scene = scene_of(args.function) if args.function else None
    store = ctx.open_store()
    lang = ctx.lang
    try:
        area = area_code(store, args.area, "area") if args.area else None
        scope = scope_of(store, args)
        result = analyse_store(store, area, N.load(ctx.data_dir), within=scope.grids)
    except N.NormsError as exc:
        raise CliError(str(exc)) from exc
    finally:
        store.conn.close()
    if not result.grids and scope.limited:
        raise CliError(f"{area} 不在您的负责范围 ({','.join(scope.areas)}),--all-local 查看 / "
                       f"{area} is outside your areas ({','.join(scope.areas)}): --all-local "
                       f"shows it")
    if args.json:
        print(json.dumps(as_json(result, scene, args.limit), ensure_ascii=False, indent=1))
        return 0
    if scene:
        _print_function(result, scene, lang, max(0, args.limit))
    else:
        _print_table(result, lang)
    return 0


def _norms_info(data_dir, init: bool) -> int:
    from fieldapp.domain import norms as N
    from fieldapp.domain.catalog import BY_CODE

    path = N.user_path(data_dir)
    if init:
        try:
            N.write_copy(data_dir)
        except N.NormsError as exc:
            raise CliError(str(exc)) from exc
        print(path)
        return 0
    print(path)
    try:
        norms = N.load(data_dir)
    except N.NormsError as exc:
        raise CliError(str(exc)) from exc
    if path.exists():
        print("使用此文件 / in use")
    else:
        print("文件不存在,使用内置标准 (--init-norms 生成可编辑副本) / not there: the built-in "
              "norms are used (--init-norms writes a copy to edit)")
    radii = ", ".join(f"{s} {norms.radius(s):g}" for s in BY_CODE if BY_CODE[s].scene == s)
    print(f"步行半径 / walking radius (m): {radii}; life circle {norms.life_circle_m:g}"
          + _source(norms.sources.get("radius_m")))
    print(f"综合体 / complex: ≥ {norms.complex_min_area:g} m² "
          f"(宜 / preferably {norms.complex_preferred_area:g}), ≥ {norms.complex_min_functions} "
          f"scenes (场景), ≥ {norms.complex_min_core} of {', '.join(norms.complex_core)}"
          + _source(norms.sources.get("complex")))
    print(f"面积 / area: ≥ {norms.area_min_per_100:g} m² per 100 households "
          f"(宜 / preferably {norms.area_preferred_per_100:g})"
          + _source(norms.sources.get("area")))
    print("场地要求 / what a site needs (floor 1 = ground, -1 = first basement level):")
    for scene, rule in norms.site_rules.items():
        floors = ("any floor" if rule.min_floor is None and rule.max_floor is None else
                  f"floors {'' if rule.min_floor is None else rule.min_floor}.."
                  f"{'' if rule.max_floor is None else rule.max_floor}")
        print(f"  {scene:<14} ≥ {rule.min_area:g} m², {floors}"
              + (f"; {rule.basement_note[0]}" if rule.basement_note else "")
              + _source(rule.source))
    return 0


def _source(text: str | None) -> str:
    """Where a rule comes from, beside it; a rule without one says so."""
    return f"  [{text}]" if text else "  [出处未写 / no source given]"


def _print_table(result, lang: str) -> None:
    from fieldapp.domain.coverage import SCENE_CODES, SCENE_SHORT

    i = 0 if lang == "zh" else 1
    heads = [SCENE_SHORT[s][i] for s in SCENE_CODES]
    name_w = max([_width(g.grid.name) for g in result.grids] + [8])
    print(_pad("网格" if lang == "zh" else "grid", 18) + _pad("", name_w + 1)
          + _pad("户数" if lang == "zh" else "hh", 7) + _pad("㎡/百户" if i == 0 else "m2/100", 8)
          + " ".join(_pad(h, 6) for h in heads))
    for g in result.grids:
        marks = [MARK_YES if s in g.covered else MARK_NO for s in SCENE_CODES]
        print(_pad(g.grid.code, 18) + _pad(g.grid.name, name_w + 1)
              + _pad(str(g.grid.households or "-"), 7) + _pad(_fmt_area(g.area_per_100), 8)
              + " ".join(_pad(m, 6) for m in marks))
    print()
    for ru in result.streets:
        cells = " ".join(f"{SCENE_SHORT[s][i]}{ru.covered[s]}/{ru.grids}" for s in SCENE_CODES)
        print(f"{ru.name} ({ru.code}): {cells}  ㎡/百户 {_fmt_area(ru.area_per_100)}"
              if i == 0 else
              f"{ru.name} ({ru.code}): {cells}  m2/100hh {_fmt_area(ru.area_per_100)}")
    if result.complexes:
        print()
        print("不达标的综合体:" if i == 0 else "Complexes failing the test:")
        for c in result.complexes:
            why = (";" if i == 0 else "; ").join(r.text(lang) for r in c.failures)
            print(f"  {c.facility.name or c.facility.id[:8]} [{c.facility.grid}] {why}")


def _print_function(result, scene: str, lang: str, limit: int) -> None:
    from fieldapp.domain.catalog import BY_CODE

    label = BY_CODE[scene].label(lang)
    radius = result.norms.radius(scene)
    lacking = result.lacking(scene)
    if lang == "zh":
        print(f"{label}: {len(lacking)}/{len(result.grids)} 个网格在 {radius:g} 米内没有设施")
    else:
        print(f"{label}: {len(lacking)} of {len(result.grids)} grids have no facility "
              f"within {radius:g} m")
    for g in lacking:
        ranked = result.candidates(g.grid.code, scene, include_excluded=True)
        eligible = [c for c in ranked if c.eligible]
        excluded = len(ranked) - len(eligible)
        print(f"\n{MARK_NO} {g.grid.code} {g.grid.name}")
        if not eligible:
            print("   附近没有可承载的存量资源" if lang == "zh"
                  else "   no idle site nearby could host it")
        for n, c in enumerate(eligible[:limit], 1):
            where = "-" if c.distance_m is None else f"{c.distance_m:.0f}m"
            print(f"   {n}. [{c.score:+d}] {c.site.title or c.site.id[:8]} ({c.site.id[:8]}, "
                  f"{where})")
            print(f"      {c.reason(lang)}")
        if excluded:
            print(f"   另有 {excluded} 处不符合条件已排除" if lang == "zh"
                  else f"   {excluded} more excluded by the rules")


def as_json(result, scene: str | None = None, limit: int = 5) -> dict:
    def reasons(rs):
        return [{"zh": r.zh, "en": r.en, "points": r.points} for r in rs]

    def rollup(ru):
        return {"code": ru.code, "name": ru.name, "level": ru.level, "grids": ru.grids,
                "households": ru.households, "facility_area": ru.facility_area,
                "area_per_100_households": ru.area_per_100, "covered_grids": ru.covered,
                "failing_complexes": ru.failing_complexes}

    out = {
        "norms": result.norms.source,
        "grids": [{"code": g.grid.code, "name": g.grid.name, "street": g.grid.street,
                   "district": g.grid.district, "households": g.grid.households,
                   "facility_area": g.facility_area, "area_per_100_households": g.area_per_100,
                   "covered": {s: {"facility_id": fid, "distance_m": d}
                               for s, (fid, d) in g.covered.items()},
                   "missing": g.missing} for g in result.grids],
        "streets": [rollup(r) for r in result.streets],
        "districts": [rollup(r) for r in result.districts],
        "failing_complexes": [{"id": c.facility.id, "name": c.facility.name,
                               "grid": c.facility.grid, "failures": reasons(c.failures),
                               "advice": reasons(c.advice)} for c in result.complexes],
    }
    if scene:
        out["function"] = scene
        out["radius_m"] = result.norms.radius(scene)
        out["candidates"] = {
            code: [{"site_id": c.site.id, "title": c.site.title, "score": c.score,
                    "distance_m": c.distance_m, "reasons": reasons(c.reasons)}
                   for c in ranked[:limit]]
            for code, ranked in result.match(scene).items()}
    return out
