"""Which idle sites could host a missing scene, and why each ranks where it does.

Pure rules over plain data: a site is a candidate for a scene when one of its candidate
functions belongs to that scene. Hard rules (unsafe structure or fire safety, too small, a
floor the scene may not use, a lift that cannot be added) exclude it; everything else —
consent, condition, accessibility, distance, review status — adds or takes points, and each
addition is kept as a bilingual reason so a supervisor can see why one site beats another.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fieldapp.domain.catalog import BY_CODE, scene_of
from fieldapp.domain.choices import CONDITION, CONSENT
from fieldapp.domain.norms import Norms


@dataclass(frozen=True, slots=True)
class Reason:
    zh: str
    en: str
    points: int = 0

    def text(self, lang: str = "zh") -> str:
        words = self.zh if lang == "zh" else self.en
        return f"{words} ({self.points:+d})" if self.points else words


@dataclass(slots=True)
class Fit:
    """A site's suitability for one scene, before distance (the same for every grid)."""
    eligible: bool
    score: int
    reasons: list[Reason] = field(default_factory=list)


def _label(code: str, lang: str) -> str:
    f = BY_CODE.get(code)
    return f.label(lang) if f else code


# Points per answer. Owner consent weighs most: without it nothing can be built.
OWNER_POINTS = {"agreed": 30, "negotiating": 12, "not_asked": 0, "refused": -50}
AUTHORITY_POINTS = {"agreed": 15, "negotiating": 6, "not_asked": 0, "refused": -30}
CONDITION_POINTS = {"good": 10, "fair": 5, "needs_work": -10, "unknown": -5}
ACCESS_POINTS = {"full": 6, "partial": 2, "none": -6, "unknown": -2}
STATUS_POINTS = {"approved": 5, "submitted": 0, "draft": 0, "returned": -5}
DISTANCE_POINTS = 10  # at the grid centre; falls to 0 at the scene's radius


def site_fit(site, scene: str, norms: Norms) -> Fit | None:
    """None when the site does not offer the scene at all; otherwise its fit, ranked or not."""
    matched = [c for c in site.candidate_functions if scene_of(c) == scene]
    if not matched:
        return None
    rule = norms.rule(scene)
    reasons: list[Reason] = []
    names_zh = "、".join(_label(c, "zh") for c in matched)
    names_en = ", ".join(_label(c, "en") for c in matched)
    reasons.append(Reason(f"可承载: {names_zh}", f"can host: {names_en}", 10))
    excluded: list[Reason] = []

    for what_zh, what_en, value in (("结构", "structure", site.structure_condition),
                                    ("消防", "fire safety", site.fire_condition)):
        code = value or "unknown"
        if code == "unsafe":
            excluded.append(Reason(f"{what_zh}不合格", f"{what_en} unsafe"))
        else:
            reasons.append(Reason(f"{what_zh}{CONDITION.label(code, 'zh')}",
                                  f"{what_en} {CONDITION.label(code, 'en').lower()}",
                                  CONDITION_POINTS.get(code, 0)))

    area = site.usable_area
    if area is None:
        excluded.append(Reason("面积未填", "area not given"))
    elif area < rule.min_area:
        excluded.append(Reason(f"面积 {area:g}㎡ 不足 {rule.min_area:g}㎡",
                               f"area {area:g} m² below {rule.min_area:g} m²"))
    elif rule.min_area and area >= 2 * rule.min_area:
        reasons.append(Reason(f"面积充足 {area:g}㎡", f"ample area {area:g} m²", 10))
    else:
        reasons.append(Reason(f"面积满足 {area:g}㎡", f"area sufficient {area:g} m²", 5))

    excluded += _floor_rules(site, rule, scene, reasons)

    access = site.accessibility or "unknown"
    access_zh = {"full": "无障碍完善", "partial": "部分无障碍", "none": "无无障碍设施",
                 "unknown": "无障碍未查"}.get(access, access)
    reasons.append(Reason(access_zh, f"accessibility: {access}", ACCESS_POINTS.get(access, 0)))

    for who_zh, who_en, value, table in (
            ("权属方", "owner", site.owner_consent, OWNER_POINTS),
            ("主管部门", "authority", site.authority_consent, AUTHORITY_POINTS)):
        code = value or "not_asked"
        reasons.append(Reason(f"{who_zh}{CONSENT.label(code, 'zh')}",
                              f"{who_en} {CONSENT.label(code, 'en').lower()}",
                              table.get(code, 0)))

    status_points = STATUS_POINTS.get(site.status or "", 0)
    if status_points:
        reasons.append(Reason({"approved": "已审核通过", "returned": "被退回待修改"}[site.status],
                              {"approved": "approved", "returned": "returned for changes"}[
                                  site.status], status_points))
    if excluded:
        return Fit(False, 0, excluded)
    return Fit(True, sum(r.points for r in reasons), reasons)


def _floor_rules(site, rule, scene: str, reasons: list[Reason]) -> list[Reason]:
    """Floor and lift rules; returns exclusions, appends scored reasons."""
    floor = site.floor_from
    scene_zh, scene_en = _label(scene, "zh"), _label(scene, "en").lower()
    if floor is None:
        if rule.min_floor is not None or rule.max_floor is not None or rule.lift_above_floor:
            reasons.append(Reason("楼层未填", "floor not given", -5))
        return []
    source = f" ({rule.source})" if rule.source else ""
    if rule.min_floor is not None and floor < rule.min_floor:
        if floor < 1 and rule.min_floor >= 1:
            return [Reason(f"地下室不可用于{scene_zh}{source}",
                           f"a basement cannot host {scene_en}{source}")]
        if floor < 1:
            return [Reason(f"{scene_zh}只能设在地下 {-rule.min_floor} 层及以上,此处地下 {-floor} 层"
                           f"{source}", f"{scene_en} only down to basement level "
                           f"{-rule.min_floor}, this is basement level {-floor}{source}")]
        return [Reason(f"{floor} 层低于 {rule.min_floor} 层",
                       f"floor {floor} below {rule.min_floor}")]
    if rule.max_floor is not None and floor > rule.max_floor:
        return [Reason(f"{scene_zh}只能在 {rule.max_floor} 层及以下,此处 {floor} 层{source}",
                       f"{scene_en} only up to floor {rule.max_floor}, this is floor {floor}"
                       f"{source}")]
    if floor < 1 and rule.basement_note:
        # Allowed in a basement, with the fire code's limits: a supervisor must check them.
        reasons.append(Reason(f"地下 {-floor} 层: {rule.basement_note[0]}{source}",
                              f"basement level {-floor}: {rule.basement_note[1]}{source}", -5))
    if rule.lift_above_floor is None:
        return []
    if floor <= rule.lift_above_floor:
        reasons.append(Reason(f"位于 {floor} 层,无需电梯", f"floor {floor}, no lift needed", 5))
        return []
    lift = site.elevator or "unknown"
    if lift == "infeasible":
        return [Reason(f"{floor} 层且不可加装电梯", f"floor {floor} and no lift can be added")]
    if lift == "present":
        reasons.append(Reason(f"{floor} 层,已有电梯", f"floor {floor}, has a lift", 0))
    elif lift == "feasible":
        reasons.append(Reason(f"{floor} 层,需加装电梯", f"floor {floor}, lift must be added", -10))
    else:
        reasons.append(Reason(f"{floor} 层,电梯情况未查", f"floor {floor}, lift not checked", -15))
    return []


def distance_reason(distance_m: float | None, radius_m: float) -> Reason:
    if distance_m is None:
        return Reason("无坐标,按同网格计", "no coordinates, counted as in this grid", 0)
    points = round(DISTANCE_POINTS * max(0.0, 1 - distance_m / radius_m))
    return Reason(f"距网格中心 {distance_m:.0f} 米", f"{distance_m:.0f} m from the grid centre",
                  points)
