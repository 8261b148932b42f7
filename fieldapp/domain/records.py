"""The one definition of each record type: its fields, their types, choices, limits and labels.

The form, the local store, the importer/exporter, the wire format and the server all read
`SPECS`; nothing else lists a record's fields. A record's content is a plain dict keyed by
field name holding JSON values (str, int, float, bool, list of codes, ISO date strings).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fieldapp.domain import choices as C
from fieldapp.domain.catalog import FUNCTION_CHOICES
from fieldapp.i18n import Msg

# Field types. Each maps to one JSON type on the wire.
TEXT, LONGTEXT, INT, FLOAT, DATE, CHOICE, MULTI, BOOL, PHONE, GRID, REF = (
    "text", "longtext", "int", "float", "date", "choice", "multi", "bool", "phone", "grid", "ref",
)


@dataclass(frozen=True)
class FieldSpec:
    name: str
    type: str
    zh: str
    en: str
    section: str
    required: bool = False  # required to submit; a draft may leave it empty
    choices: C.ChoiceSet | None = None
    min: float | None = None
    max: float | None = None
    max_len: int | None = None
    unit: str = ""
    listed: bool = False  # shown as a column in lists and exports first
    aliases: tuple[str, ...] = field(default=())  # other header names seen in spreadsheets
    roles: tuple[str, ...] = ()  # roles that may change it; empty means anyone who may edit

    def label(self, lang: str = "zh") -> str:
        return self.zh if lang == "zh" else self.en


#: Form sections in order, each with its heading.
SECTIONS: dict[str, Msg] = {k: Msg(*v) for k, v in {
    "location": ("位置", "Location"),
    "space": ("空间", "Space"),
    "ownership": ("权属与意见", "Ownership and consent"),
    "condition": ("安全与条件", "Safety and condition"),
    "use": ("功能", "Functions"),
    "operation": ("运营", "Operation"),
    "check": ("检查项", "Checklist"),
    "joint_review": ("联审", "Joint review"),
    "project": ("项目", "Project"),
    "notes": ("备注", "Notes"),
}.items()}


def _location(listed_address: bool = True) -> list[FieldSpec]:
    return [
        FieldSpec("grid_code", GRID, "网格", "Grid", "location", required=True, listed=True,
                  aliases=("网格编码", "网格代码", "grid")),
        FieldSpec("address", TEXT, "地址", "Address", "location", required=True, max_len=200,
                  listed=listed_address, aliases=("详细地址", "门牌地址")),
    ]


def _coordinates() -> list[FieldSpec]:
    return [
        FieldSpec("lat", FLOAT, "纬度", "Latitude", "location", min=30.6, max=31.95,
                  aliases=("latitude",)),
        FieldSpec("lng", FLOAT, "经度", "Longitude", "location", min=120.8, max=122.25,
                  aliases=("longitude", "lon")),
        FieldSpec("coord_system", CHOICE, "坐标系(录入时)", "Coordinates entered as", "location",
                  choices=C.COORD_SYSTEM, aliases=("坐标系", "坐标类型", "coordinate system")),
    ]


def _joint_review() -> list[FieldSpec]:
    """联审: one result, conditions, date and reviewer per department; supervisors only."""
    from fieldapp.domain.joint_review import DEPARTMENTS

    reviewers = ("supervisor", "admin")
    specs = []
    for code, zh, en in DEPARTMENTS:
        specs += [
            FieldSpec(f"jr_{code}_result", CHOICE, f"{zh}意见", f"{en}: result", "joint_review",
                      choices=C.JOINT_REVIEW_RESULT, roles=reviewers),
            FieldSpec(f"jr_{code}_conditions", TEXT, f"{zh}条件", f"{en}: conditions",
                      "joint_review", max_len=300, roles=reviewers),
            FieldSpec(f"jr_{code}_date", DATE, f"{zh}日期", f"{en}: date", "joint_review",
                      roles=reviewers),
            FieldSpec(f"jr_{code}_reviewer", TEXT, f"{zh}审核人", f"{en}: reviewer",
                      "joint_review", max_len=50, roles=reviewers),
        ]
    specs.append(FieldSpec("conversion_ready", BOOL, "可实施改造", "Ready for conversion",
                           "joint_review", roles=reviewers))
    return specs


def _project() -> list[FieldSpec]:
    """The conversion project (项目清单): stage, the day each stage was reached, funding and
    operation. Street and district staff keep it: supervisors and admins only."""
    from fieldapp.domain.project import DATED_STAGES

    staff = ("supervisor", "admin")
    specs = [
        FieldSpec("project_stage", CHOICE, "项目阶段", "Project stage", "project",
                  choices=C.PROJECT_STAGE, roles=staff, aliases=("阶段", "stage")),
        FieldSpec("project_name", TEXT, "项目名称", "Project name", "project", max_len=100,
                  roles=staff),
    ]
    specs += [FieldSpec(f"project_{code}_on", DATE, f"{C.PROJECT_STAGE.label(code)}日期",
                        f"{C.PROJECT_STAGE.label(code, 'en')}: date", "project", roles=staff)
              for code in DATED_STAGES]
    specs += [
        FieldSpec("project_end_reason", TEXT, "终止原因", "Reason for termination", "project",
                  max_len=300, roles=staff),
        FieldSpec("planned_functions", MULTI, "规划功能", "Planned functions", "project",
                  choices=FUNCTION_CHOICES, roles=staff, aliases=("计划功能",)),
        FieldSpec("funding_source", MULTI, "资金来源", "Funding source", "project",
                  choices=C.FUNDING_SOURCE, roles=staff),
        FieldSpec("project_operator", TEXT, "运营主体", "Operator", "project", max_len=100,
                  roles=staff, aliases=("运营方",)),
        FieldSpec("project_operating_mode", CHOICE, "运营方式", "Operating mode", "project",
                  choices=C.OPERATING_MODE, roles=staff),
        FieldSpec("facility_id", REF, "设施编号", "Facility id", "project", roles=staff),
    ]
    return specs


SITE_FIELDS: tuple[FieldSpec, ...] = (
    *_location(),
    FieldSpec("building_unit", TEXT, "楼栋/单元/室", "Building / unit", "location", max_len=100),
    FieldSpec("external_id", TEXT, "外部编号", "External id", "location", max_len=64,
              aliases=("编号", "序号id")),
    *_coordinates(),
    FieldSpec("source_type", CHOICE, "资源类型", "Source type", "space", required=True,
              choices=C.SOURCE_TYPE, listed=True, aliases=("类型", "房屋类型")),
    FieldSpec("floor_from", INT, "所在楼层", "Floor", "space", required=True, min=-5, max=60,
              aliases=("楼层",)),
    FieldSpec("floor_to", INT, "至楼层", "To floor", "space", min=-5, max=60),
    FieldSpec("usable_area", FLOAT, "可用面积", "Usable area", "space", required=True,
              min=5, max=50000, unit="㎡", listed=True,
              aliases=("面积", "使用面积", "可使用面积", "area")),
    # Gross floor area is a different figure (walls, shared parts): never read as usable area.
    FieldSpec("gross_floor_area", FLOAT, "建筑面积", "Gross floor area", "space",
              min=5, max=50000, unit="㎡", aliases=("gross area",)),
    FieldSpec("street_frontage", BOOL, "是否临街", "Street frontage", "space"),
    FieldSpec("idle_since", DATE, "闲置起始日期", "Idle since", "space", aliases=("闲置时间",)),
    FieldSpec("current_use", TEXT, "现状用途", "Current use", "space", max_len=100),
    FieldSpec("ownership_type", CHOICE, "权属性质", "Ownership type", "ownership", required=True,
              choices=C.OWNERSHIP_TYPE),
    FieldSpec("owner_name", TEXT, "权属方", "Owner", "ownership", required=True, max_len=100,
              aliases=("产权人", "产权单位")),
    FieldSpec("owner_contact", TEXT, "联系人", "Owner contact", "ownership", max_len=50),
    FieldSpec("owner_phone", PHONE, "联系电话", "Owner phone", "ownership",
              aliases=("电话", "手机")),
    FieldSpec("owner_consent", CHOICE, "权属方意见", "Owner consent", "ownership",
              required=True, choices=C.CONSENT),
    FieldSpec("authority_consent", CHOICE, "行业主管部门意见", "Sector authority consent",
              "ownership", choices=C.CONSENT),
    # The plan lets conversion go ahead "可暂不改变规划性质、土地权属": two separate facts.
    FieldSpec("land_use_unchanged", BOOL, "不改变规划性质", "Planned land use unchanged",
              "ownership", aliases=("规划性质不变",)),
    FieldSpec("land_tenure_unchanged", BOOL, "不改变土地权属", "Land tenure unchanged",
              "ownership", aliases=("土地权属不变",)),
    FieldSpec("structure_condition", CHOICE, "结构安全", "Structural condition", "condition",
              required=True, choices=C.CONDITION),
    FieldSpec("fire_condition", CHOICE, "消防安全", "Fire safety", "condition", required=True,
              choices=C.CONDITION),
    FieldSpec("accessibility", CHOICE, "无障碍", "Accessibility", "condition",
              choices=C.ACCESSIBILITY),
    FieldSpec("elevator", CHOICE, "电梯", "Lift", "condition", choices=C.ELEVATOR),
    FieldSpec("candidate_functions", MULTI, "可承载功能", "Candidate functions", "use",
              required=True, choices=FUNCTION_CHOICES, aliases=("拟用功能", "功能")),
    *_joint_review(),
    *_project(),
    FieldSpec("notes", LONGTEXT, "备注", "Notes", "notes", max_len=2000),
)

FACILITY_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("name", TEXT, "设施名称", "Name", "location", required=True, max_len=100,
              listed=True, aliases=("名称",)),
    *_location(),
    FieldSpec("external_id", TEXT, "外部编号", "External id", "location", max_len=64),
    *_coordinates(),
    FieldSpec("facility_kind", CHOICE, "设施类型", "Facility kind", "space", required=True,
              choices=C.FACILITY_KIND, listed=True),
    FieldSpec("functions", MULTI, "服务功能", "Functions", "use", required=True,
              choices=FUNCTION_CHOICES, aliases=("功能",)),
    FieldSpec("building_area", FLOAT, "建筑面积", "Building area", "space", required=True,
              min=5, max=50000, unit="㎡", listed=True, aliases=("面积",)),
    FieldSpec("operator", TEXT, "运营主体", "Operator", "operation", max_len=100),
    FieldSpec("operating_mode", CHOICE, "运营方式", "Operating mode", "operation",
              choices=C.OPERATING_MODE),
    FieldSpec("opening_hours", TEXT, "开放时间", "Opening hours", "operation", max_len=100),
    FieldSpec("staggered_use", BOOL, "错时使用", "Staggered use", "operation"),
    FieldSpec("multi_function_hall", BOOL, "多功能厅", "Multi-function hall", "operation"),
    FieldSpec("support", MULTI, "获得支持", "Support received", "operation",
              choices=C.SUPPORT),
    # Coverage counts a facility from the day it opened; a project's opening fills both.
    FieldSpec("opened_on", DATE, "开放日期", "Opened on", "operation",
              aliases=("开业日期", "开放时间(日期)")),
    FieldSpec("site_id", REF, "来源存量资源", "From site", "operation"),
    FieldSpec("notes", LONGTEXT, "备注", "Notes", "notes", max_len=2000),
)

_CHECKS = (
    ("structure", "结构", "Structure"),
    ("fire_safety", "消防", "Fire safety"),
    ("accessibility", "无障碍", "Accessibility"),
    ("elevator", "电梯", "Lift"),
    ("equipment", "设施设备", "Equipment"),
    ("cleanliness", "环境卫生", "Cleanliness"),
)

INSPECTION_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("target_kind", CHOICE, "对象类型", "Target kind", "location", required=True,
              choices=C.TARGET_KIND, listed=True),
    FieldSpec("target_id", REF, "对象编号", "Target id", "location", required=True),
    FieldSpec("grid_code", GRID, "网格", "Grid", "location", required=True, listed=True),
    FieldSpec("inspected_on", DATE, "检查日期", "Inspected on", "location", required=True,
              listed=True),
    FieldSpec("inspector", TEXT, "检查人", "Inspector", "location", required=True, max_len=50),
    *(FieldSpec(code, CHOICE, zh, en, "check", required=True, choices=C.CHECK_RESULT)
      for code, zh, en in _CHECKS),
    FieldSpec("open_issues", LONGTEXT, "存在问题", "Open issues", "check", max_len=2000),
    FieldSpec("follow_up_needed", BOOL, "需要跟进", "Follow-up needed", "check"),
    FieldSpec("notes", LONGTEXT, "备注", "Notes", "notes", max_len=2000),
)

SPECS: dict[str, tuple[FieldSpec, ...]] = {
    "site": SITE_FIELDS,
    "facility": FACILITY_FIELDS,
    "inspection": INSPECTION_FIELDS,
}
KINDS = tuple(SPECS)
FIELD_INDEX: dict[str, dict[str, FieldSpec]] = {
    kind: {f.name: f for f in specs} for kind, specs in SPECS.items()
}

#: Fields whose text is searchable, per kind (address, owner, name, notes, ...).
SEARCH_FIELDS: dict[str, tuple[str, ...]] = {
    "site": ("address", "building_unit", "owner_name", "owner_contact", "current_use", "notes",
             "external_id"),
    "facility": ("name", "address", "operator", "notes", "external_id"),
    "inspection": ("inspector", "open_issues", "notes"),
}


def title_of(kind: str, data: dict) -> str:
    """The line that names a record in lists: a facility's name, otherwise its address."""
    if kind == "facility":
        return str(data.get("name") or data.get("address") or "")
    if kind == "inspection":
        return str(data.get("inspected_on") or "")
    return str(data.get("address") or "")
