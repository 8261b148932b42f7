"""Joint review (联审) of a site proposed for conversion, and when a site may be marked ready.

The Shanghai plan (第二条) lets stock space be converted after the development-and-reform,
planning-and-resources, housing-and-construction and fire departments have reviewed it, on
the basis that structure and fire safety are assured. The overall verdict follows from the
four; a site whose structure or fire check failed cannot be marked ready.
"""

from __future__ import annotations

DEPARTMENTS = (
    ("fagai", "发展改革", "Development and reform"),
    ("planning", "规划资源", "Planning and resources"),
    ("housing", "住房城乡建设管理", "Housing and construction"),
    ("fire", "消防", "Fire and rescue"),
)

VERDICT_LABELS = {
    "pending": ("待联审", "Pending review"),
    "pass": ("联审通过", "Passed"),
    "conditional": ("有条件通过", "Passed with conditions"),
    "fail": ("联审不通过", "Failed"),
}


def results(data: dict) -> dict[str, str | None]:
    return {code: data.get(f"jr_{code}_result") for code, _, _ in DEPARTMENTS}


def overall_verdict(data: dict) -> str:
    """fail if any department failed; pending until all four answered; else pass/conditional."""
    found = results(data).values()
    if "fail" in found:
        return "fail"
    if None in found:
        return "pending"
    return "conditional" if "conditional" in found else "pass"


def ready_problems(data: dict) -> list[tuple[str, str, str]]:
    """(field, zh, en) for each reason the site may not be marked ready for conversion."""
    if not data.get("conversion_ready"):
        return []
    problems = []
    for field, zh, en in (("structure_condition", "结构安全", "structural condition"),
                          ("fire_condition", "消防安全", "fire safety")):
        if data.get(field) == "unsafe":
            problems.append(("conversion_ready", f"{zh}不合格,不能标记为可实施改造",
                             f"{en} failed: cannot be marked ready"))
    for code, zh, en in DEPARTMENTS:
        result = data.get(f"jr_{code}_result")
        if result is None:
            problems.append(("conversion_ready", f"{zh}尚未联审", f"{en} has not reviewed it"))
        elif result == "fail":
            problems.append(("conversion_ready", f"{zh}联审不通过", f"{en} review failed"))
        elif result == "conditional" and not data.get(f"jr_{code}_conditions"):
            problems.append((f"jr_{code}_conditions", f"{zh}: 有条件通过需写明条件",
                             f"{en}: a conditional pass needs its conditions"))
    return problems
