"""The conversion project of a site (项目清单): its stages, the rules between them, and the
facility its opening creates.

The plan runs on an annual project list (年度项目实施清单) followed "跟踪监测" until the space
opens: 已选址 → 联审中 → 联审通过 → 改造中 → 已建成 → 已开放运营, or 已终止 with a reason.
A stage is reached on a day; reaching one means every earlier stage was reached, on or before
that day, so a site cannot be under conversion before its joint review passed. Conversion also
needs what the plan asks before any work starts (both consents, structure and fire safety, the
four departments' review: `joint_review.blockers`), and opening needs an operator.

`stage_problems` checks a site's content and runs inside `validation.validate`, so the form, the
importer, the CLI and the registry all apply it; `stage_change_problems` checks a change from
one content to the next (the laptop's save and the registry's push). `facility_for` builds the
Facility record an opening creates, with an id derived from the site's: one site opens one
facility however often the opening is sent.
"""

from __future__ import annotations

import uuid
from datetime import date

from fieldapp.domain import joint_review
from fieldapp.domain.choices import PROJECT_STAGE

#: The pipeline in order; `terminated` may end it at any stage.
PIPELINE = ("selected", "reviewing", "passed", "converting", "built", "opened")
TERMINATED = "terminated"
DATED_STAGES = (*PIPELINE, TERMINATED)

#: Every field of the project section, for code that treats the project as one step
#: (it changes no workflow status and is never a revision of the surveyed content).
PROJECT_FIELDS = ("project_stage", "project_name", *(f"project_{s}_on" for s in DATED_STAGES),
                  "project_end_reason", "planned_functions", "funding_source", "project_operator",
                  "project_operating_mode", "facility_id")

# Any UUID works as a namespace; this one is fieldapp's for "the facility a site opened".
_FACILITY_NS = uuid.UUID("7f1c2d64-5b0e-4f4a-9a57-3e1c0d2b9a10")

Problem = tuple[str, str, str]  # (field, zh, en)


def date_field(stage: str) -> str:
    return f"project_{stage}_on"


def stage_label(stage: str | None, lang: str = "zh") -> str:
    return PROJECT_STAGE.label(stage, lang) if stage else ("未立项" if lang == "zh" else
                                                          "Not a project")


def parse_stage(text: str) -> str | None:
    """The stage code for a code or a label in Chinese or English (改造中, converting…)."""
    return PROJECT_STAGE.parse(text)


def reached(data: dict) -> list[str]:
    """The pipeline stages the site has reached, in order (the terminated ones included)."""
    stage = data.get("project_stage")
    if stage is None:
        return []
    if stage == TERMINATED:
        return [s for s in PIPELINE if data.get(date_field(s))]
    return list(PIPELINE[:PIPELINE.index(stage) + 1]) if stage in PIPELINE else []


def facility_id_for(site_id: str) -> str:
    """The id of the facility a site's opening creates: derived, so never two."""
    return str(uuid.uuid5(_FACILITY_NS, site_id))


def _label(stage: str) -> tuple[str, str]:
    return PROJECT_STAGE.label(stage, "zh"), PROJECT_STAGE.label(stage, "en")


def stage_problems(data: dict) -> list[Problem]:
    """(field, zh, en) for each rule the site's project content breaks; empty when none."""
    stage = data.get("project_stage")
    dated = [s for s in DATED_STAGES if data.get(date_field(s))]
    if stage is None:
        if dated or data.get("facility_id"):
            return [("project_stage", "填写了项目日期但未填项目阶段",
                     "project dates are filled in but the project stage is not")]
        return []
    problems: list[Problem] = []
    zh, en = _label(stage)
    if stage == TERMINATED:
        if not data.get(date_field(TERMINATED)):
            problems.append((date_field(TERMINATED), "已终止: 需填写终止日期",
                             "Terminated: the date it was terminated is required"))
        if not data.get("project_end_reason"):
            problems.append(("project_end_reason", "已终止: 需写明终止原因",
                             "Terminated: the reason is required"))
        if data.get("project_opened_on") or data.get("facility_id"):
            problems.append(("project_stage", "已开放运营的项目不能终止",
                             "an open facility's project cannot be terminated"))
        steps = reached(data)
    else:
        steps = reached(data)
        for later in PIPELINE[len(steps):] + (TERMINATED,):
            if data.get(date_field(later)):
                lz, le = _label(later)
                problems.append((date_field(later), f"{zh}: 尚未到「{lz}」,不应有该日期",
                                 f"{en}: not yet {le}, so that date must be empty"))
    previous: tuple[str, str] | None = None
    for step in steps:
        day = data.get(date_field(step))
        sz, se = _label(step)
        if not day:
            problems.append((date_field(step), f"{zh}: 需先经过「{sz}」并填写其日期",
                             f"{en}: the project must first reach {se} (its date is missing)"))
            continue
        if previous and day < previous[1]:
            pz, pe = _label(previous[0])
            problems.append((date_field(step), f"「{sz}」日期不能早于「{pz}」日期",
                             f"the {se} date cannot be before the {pe} date"))
        previous = (step, day)
    if stage == TERMINATED and previous and data.get(date_field(TERMINATED), "9") < previous[1]:
        problems.append((date_field(TERMINATED), "终止日期不能早于上一阶段日期",
                         "the termination date cannot be before the last stage's date"))
    if "passed" in steps:
        verdict = joint_review.overall_verdict(data)
        if verdict not in ("pass", "conditional"):
            vz, ve = joint_review.VERDICT_LABELS[verdict]
            problems.append(("project_stage", f"「联审通过」需四个部门联审通过(现为「{vz}」)",
                             f"Joint review passed needs all four departments' pass "
                             f"(now: {ve.lower()})"))
    if "converting" in steps:
        for _field, bz, be in joint_review.blockers(data):
            problems.append(("project_stage", f"不能进入「改造中」: {bz}",
                             f"cannot start conversion: {be}"))
    if "opened" in steps and not data.get("project_operator"):
        problems.append(("project_operator", "已开放运营: 需填写运营主体",
                         "Open and operating: the operator is required"))
    if "opened" in steps and not (data.get("planned_functions")
                                  or data.get("candidate_functions")):
        problems.append(("planned_functions", "已开放运营: 需填写规划功能",
                         "Open and operating: the planned functions are required"))
    return problems


def stage_change_problems(old: dict, new: dict, old_status: str | None = None) -> list[Problem]:
    """Rules on a change of the project, beyond what the new content must satisfy: only an
    approved site enters or moves in the pipeline, and an opening is never undone."""
    before, after = old.get("project_stage"), new.get("project_stage")
    if before == after:
        return []
    problems: list[Problem] = []
    if old_status is not None and old_status != "approved":
        problems.append(("project_stage", "只有已通过审核的存量资源可以推进项目",
                         "only an approved site can move in the project pipeline"))
    if before == "opened":
        problems.append(("project_stage", "已开放运营的项目不能退回或终止",
                         "an open facility's project cannot go back or be terminated"))
    return problems


def advance(data: dict, stage: str, on: date | str | None = None, **changes: object) -> dict:
    """The site's content after moving its project to `stage` (on `on`, default today), with
    other project fields changed as given. A step back clears the dates after `stage`; the
    dates already reached are kept. `stage_problems` says whether the result may be saved."""
    day = (on or date.today())
    day = day.isoformat() if isinstance(day, date) else str(day)
    new = {**data, **changes, "project_stage": stage}
    if stage != TERMINATED:
        for later in (*PIPELINE[PIPELINE.index(stage) + 1:], TERMINATED):
            new[date_field(later)] = None
        if "project_end_reason" not in changes:
            new["project_end_reason"] = None
    if data.get("project_stage") != stage or on is not None or not new.get(date_field(stage)):
        new[date_field(stage)] = day
    return new


def facility_for(site_id: str, site: dict, complex_test=None) -> dict:  # noqa: ANN001
    """The Facility record an opening creates: the site's address, coordinates, grid, area and
    functions, the project's operator, and the links both ways (`site_id`; the site keeps
    `facility_id`). `complex_test(functions, area)` says whether it counts as a 综合体."""
    functions = list(site.get("planned_functions") or site.get("candidate_functions") or [])
    area = site.get("gross_floor_area") or site.get("usable_area")
    kind = "complex" if complex_test is not None and complex_test(functions, area) else "single"
    facility = {
        "name": site.get("project_name") or site.get("address"),
        "grid_code": site.get("grid_code"),
        "address": site.get("address"),
        "lat": site.get("lat"), "lng": site.get("lng"),
        "coord_system": site.get("coord_system"),
        "facility_kind": kind,
        "functions": functions,
        "building_area": area,
        "operator": site.get("project_operator"),
        "operating_mode": site.get("project_operating_mode"),
        "opened_on": site.get(date_field("opened")),
        "site_id": site_id,
    }
    return {k: v for k, v in facility.items() if v is not None}


def default_complex_test(functions: list[str], area: float | None) -> bool:
    """The 综合体 test of the built-in norms (coverage.passes_complex)."""
    from fieldapp.domain import norms as norms_mod
    from fieldapp.domain.coverage import FacilityIn, passes_complex

    probe = FacilityIn("", "", tuple(functions), area, "complex", None, None, "", "approved")
    return passes_complex(probe, norms_mod.load(None))
