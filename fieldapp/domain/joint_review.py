"""Joint review (联审) of a site proposed for conversion, and when a site may be marked ready.

The Shanghai plan (第二条) lets stock space be converted after the development-and-reform,
planning-and-resources, housing-and-construction and fire departments have reviewed it
("经发展改革、规划资源、住房城乡建设管理、消防等部门联审后"), on the basis that structure and fire
safety are assured, and idle storefronts only "经行业主管部门和权属方同意后" — with the sector
authority's and the owner's consent. The overall verdict follows from the four departments;
`blockers` lists everything that still stands between a site and conversion, and a site with
any blocker cannot be marked ready (`ready_problems`, checked by the form, the importer and the
registry alike).
"""

from __future__ import annotations

from fieldapp.domain.choices import CONSENT, JOINT_REVIEW_RESULT
from fieldapp.i18n import BilingualError

DEPARTMENTS = (
    ("fagai", "发展改革", "Development and reform"),
    ("planning", "规划资源", "Planning and resources"),
    ("housing", "住房城乡建设管理", "Housing and construction"),
    ("fire", "消防", "Fire and rescue"),
)

#: What people type for a department (CLI --dept): the code, its names, common short forms.
DEPARTMENT_NAMES: dict[str, str] = {
    "ndrc": "fagai", "drc": "fagai", "reform": "fagai", "发改": "fagai", "发改委": "fagai",
    "planning": "planning", "规划": "planning", "规划资源局": "planning", "规资": "planning",
    "housing": "housing", "住建": "housing", "住建委": "housing", "建管": "housing",
    "fire": "fire", "消防救援": "fire", "消防救援局": "fire",
}

#: What people type for a result (CLI --result), beside the codes and the labels.
RESULT_NAMES: dict[str, str] = {
    "passed": "pass", "ok": "pass", "同意": "pass", "联审通过": "pass",
    "conditionally": "conditional", "有条件": "conditional", "有条件同意": "conditional",
    "failed": "fail", "reject": "fail", "rejected": "fail", "不同意": "fail",
    "联审不通过": "fail",
}

#: The words the plan's checklist uses for the fields of one department's review.
REVIEW_FIELDS = ("result", "conditions", "date", "reviewer")

VERDICT_LABELS = {
    "pending": ("待联审", "Pending review"),
    "pass": ("联审通过", "Passed"),
    "conditional": ("有条件通过", "Passed with conditions"),
    "fail": ("联审不通过", "Failed"),
}

#: The two consents the plan names, field → (zh, en) of who gives it.
CONSENTS = (
    ("owner_consent", "权属方", "owner"),
    ("authority_consent", "行业主管部门", "sector authority"),
)


def department(text: str) -> str | None:
    """The department code for what a person typed (ndrc, 发改, 消防, Fire and rescue…)."""
    key = str(text).strip().lower()
    for code, zh, en in DEPARTMENTS:
        if key in (code, zh, en.lower()):
            return code
    return DEPARTMENT_NAMES.get(key)


def field_name(dept: str, part: str) -> str:
    return f"jr_{dept}_{part}"


def joint_review_fields() -> tuple[str, ...]:
    return tuple(field_name(d, p) for d, _, _ in DEPARTMENTS for p in REVIEW_FIELDS)


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


def verdict_label(data: dict, lang: str = "zh") -> str:
    zh, en = VERDICT_LABELS[overall_verdict(data)]
    return zh if lang == "zh" else en


def blockers(data: dict) -> list[tuple[str, str, str]]:
    """(field, zh, en) for everything that stands between the site and conversion: each
    consent not yet "agreed", a failed structure or fire check, each department that has not
    reviewed it or failed it, a conditional pass without its conditions."""
    problems = []
    for field, zh, en in CONSENTS:
        value = data.get(field)
        if value != "agreed":
            now_zh = CONSENT.label(value, "zh") if value else "未填"
            now_en = CONSENT.label(value, "en").lower() if value else "not given"
            problems.append((field, f"{zh}尚未同意(现为「{now_zh}」)",
                             f"the {en} has not agreed (now: {now_en})"))
    for field, zh, en in (("structure_condition", "结构安全", "structural condition"),
                          ("fire_condition", "消防安全", "fire safety")):
        if data.get(field) == "unsafe":
            problems.append((field, f"{zh}不合格", f"{en} failed"))
    for code, zh, en in DEPARTMENTS:
        result = data.get(f"jr_{code}_result")
        if result is None:
            problems.append((f"jr_{code}_result", f"{zh}尚未联审", f"{en} has not reviewed it"))
        elif result == "fail":
            problems.append((f"jr_{code}_result", f"{zh}联审不通过", f"{en} review failed"))
        elif result == "conditional" and not data.get(f"jr_{code}_conditions"):
            problems.append((f"jr_{code}_conditions", f"{zh}: 有条件通过需写明条件",
                             f"{en}: a conditional pass needs its conditions"))
    return problems


def ready_problems(data: dict) -> list[tuple[str, str, str]]:
    """(field, zh, en) for each reason the site may not be marked ready for conversion:
    the blockers, each saying it stops 可实施改造. Empty unless `conversion_ready` is set."""
    if not data.get("conversion_ready"):
        return []
    problems = []
    for field, zh, en in blockers(data):
        if field.endswith("_conditions"):
            problems.append((field, zh, en))  # the fix is in that field, not in the flag
        else:
            problems.append(("conversion_ready", f"{zh},不能标记为可实施改造",
                             f"{en}: cannot be marked ready for conversion"))
    return problems


class JointReviewInputError(BilingualError, ValueError):
    """A department or result nobody can read, with what is expected, in both languages."""


def result(text: str) -> str | None:
    """The result code for what a person typed (pass, 通过, 有条件通过, 不通过…)."""
    key = str(text).strip()
    return JOINT_REVIEW_RESULT.parse(key) or RESULT_NAMES.get(key.lower())


def entry(dept_text: str, result_text: str, conditions: str | None = None,
          on: str | None = None, reviewer: str | None = None) -> dict:
    """The fields one department's result fills (jr_<dept>_result, …), from what a person
    typed; raises JointReviewInputError naming what is expected. Date and reviewer are kept as
    given (validation checks them with the record)."""
    dept = department(dept_text)
    if dept is None:
        raise JointReviewInputError(
            f"联审部门应为 发改、规划资源、住建、消防(或 ndrc planning housing fire): "
            f"{dept_text!r}",
            f"the department is one of ndrc, planning, housing, fire (or 发改 规划资源 住建 消防): "
            f"{dept_text!r}")
    code = result(result_text)
    if code is None:
        raise JointReviewInputError(
            f"联审意见应为 通过、有条件通过、不通过(或 pass conditional fail): {result_text!r}",
            f"the result is one of pass, conditional, fail (or 通过 有条件通过 不通过): "
            f"{result_text!r}")
    fields: dict = {field_name(dept, "result"): code}
    if conditions is not None:
        fields[field_name(dept, "conditions")] = conditions
    if on is not None:
        fields[field_name(dept, "date")] = on
    if reviewer is not None:
        fields[field_name(dept, "reviewer")] = reviewer
    return fields


def department_label(code: str, lang: str = "zh") -> str:
    for dept, zh, en in DEPARTMENTS:
        if dept == code:
            return zh if lang == "zh" else en
    return code


def checklist(data: dict, lang: str = "zh") -> list[dict]:
    """One row per department: its label, result (code and label), conditions, date and
    reviewer, as the CLI prints it and the detail screen shows it."""
    rows = []
    for code, _, _ in DEPARTMENTS:
        found = data.get(field_name(code, "result"))
        rows.append({"department": code, "label": department_label(code, lang),
                     "result": found,
                     "result_label": JOINT_REVIEW_RESULT.label(found, lang) if found else None,
                     "conditions": data.get(field_name(code, "conditions")),
                     "date": data.get(field_name(code, "date")),
                     "reviewer": data.get(field_name(code, "reviewer"))})
    return rows
