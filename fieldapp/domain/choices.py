"""The closed lists (enums) every record field may choose from, with Chinese and English labels.

A choice set maps a stable code (what is stored and sent on the wire) to its labels. Codes never
change once released; labels may.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Choice:
    code: str
    zh: str
    en: str

    def label(self, lang: str = "zh") -> str:
        return self.zh if lang == "zh" else self.en


class ChoiceSet:
    """An ordered set of choices, looked up by code or by either label (for imports)."""

    def __init__(self, name: str, *choices: tuple[str, str, str],
                 aliases: dict[str, tuple[str, ...]] | None = None) -> None:
        self.name = name
        self.choices = tuple(Choice(*c) for c in choices)
        self._by_code = {c.code: c for c in self.choices}
        self._by_any: dict[str, str] = {}
        for c in self.choices:
            for key in (c.code, c.zh, c.en):
                self._by_any[key.strip().lower()] = c.code
        # Other words people write for a choice (GCJ-02, 高德 …); never shadow a label.
        for code, words in (aliases or {}).items():
            for word in words:
                self._by_any.setdefault(word.strip().lower(), code)

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    def __iter__(self):
        return iter(self.choices)

    def codes(self) -> list[str]:
        return [c.code for c in self.choices]

    def label(self, code: str | None, lang: str = "zh") -> str:
        if code is None:
            return ""
        choice = self._by_code.get(code)
        return choice.label(lang) if choice else str(code)

    def parse(self, text: str) -> str | None:
        """Code for a code or a label in either language; None when nothing matches."""
        return self._by_any.get(str(text).strip().lower())

    def resolve(self, text: str) -> list[str]:
        """Every code `text` may mean: one, none, or several when a word names several
        choices (the function catalog's 养老托育). Subclasses with aliases override it."""
        code = self.parse(text)
        return [] if code is None else [code]

    def read_words(self, text: str) -> tuple[list[str], list[str]]:
        """(codes, words nothing matched) for a cell or a typed line naming several choices.

        One reading for the form, `FIELD=VALUE` and the importer: pieces between 、,;/ and
        line breaks (not inside brackets) are tried whole, so "Elderly care" and
        "托育服务(宝宝屋)" stay one name; a piece that is no name is read as a name with
        details in brackets ("卫生服务站点(诊疗、配药)"), else word by word, longest run first.
        """
        codes: list[str] = []
        unknown: list[str] = []
        for piece in _pieces(text):
            self._read_piece(piece, codes, unknown)
        return codes, unknown

    def _read_piece(self, piece: str, codes: list[str], unknown: list[str]) -> None:
        found = self.resolve(piece)
        if found:
            codes.extend(c for c in found if c not in codes)
            return
        bracket = re.fullmatch(r"([^(（\[【]+)[(（\[【](.*)[)）\]】]", piece)
        if bracket:
            self._read_piece(bracket.group(1).strip(), codes, unknown)
            for inner in _pieces(bracket.group(2)):
                inner = re.sub(r"^(含有|包括|包含|含)", "", inner).strip()
                if inner:
                    self._read_piece(inner, codes, unknown)
            return
        if len(parts := re.split(r"[和及与]", piece)) > 1 and all(p.strip() for p in parts):
            for part in parts:  # 康复和健康管理
                self._read_piece(part.strip(), codes, unknown)
            return
        words = piece.split()
        if len(words) == 1:
            unknown.append(piece)
            return
        i = 0
        while i < len(words):
            # Longest run first, at most a few words: English labels are short.
            for j in range(min(len(words), i + _MAX_WORDS), i, -1):
                found = self.resolve(" ".join(words[i:j]))
                if found:
                    codes.extend(c for c in found if c not in codes)
                    i = j
                    break
            else:
                unknown.append(words[i])
                i += 1


_MAX_WORDS = 5
_SEPARATORS = ",，、;；/\n"


def _pieces(text: str) -> list[str]:
    """`text` cut at separators outside brackets, pieces stripped, empty ones dropped."""
    pieces, current, depth = [], [], 0
    for ch in str(text):
        if ch in "(（[【":
            depth += 1
        elif ch in ")）]】":
            depth = max(0, depth - 1)
        if ch in _SEPARATORS and depth == 0:
            pieces.append("".join(current))
            current = []
        else:
            current.append(ch)
    pieces.append("".join(current))
    return [p.strip() for p in pieces if p.strip()]


STATUS = ChoiceSet(
    "status",
    ("draft", "草稿", "Draft"),
    ("submitted", "已提交", "Submitted"),
    ("returned", "已退回", "Returned"),
    ("approved", "已通过", "Approved"),
)

SOURCE_TYPE = ChoiceSet(
    "source_type",
    ("storefront", "闲置门面房", "Idle storefront"),
    ("community", "社区用房", "Community building"),
    ("commercial", "商业用房", "Commercial building"),
    ("office", "办公用房", "Office building"),
    ("industrial", "工业用房", "Industrial building"),
    ("warehouse", "仓储用房", "Warehouse building"),
    ("other", "其他", "Other"),
)

OWNERSHIP_TYPE = ChoiceSet(
    "ownership_type",
    ("state", "国有", "State-owned"),
    ("collective", "集体", "Collective"),
    ("public_institution", "事业单位", "Public institution"),
    ("private", "私有/企业", "Private / company"),
    ("other", "其他", "Other"),
)

CONSENT = ChoiceSet(
    "consent",
    ("not_asked", "未征询", "Not asked"),
    ("negotiating", "协商中", "Negotiating"),
    ("agreed", "已同意", "Agreed"),
    ("refused", "不同意", "Refused"),
)

CONDITION = ChoiceSet(
    "condition",
    ("unknown", "未查", "Not checked"),
    ("good", "良好", "Good"),
    ("fair", "一般", "Fair"),
    ("needs_work", "需整改", "Needs work"),
    ("unsafe", "不合格", "Unsafe"),
)

ACCESSIBILITY = ChoiceSet(
    "accessibility",
    ("unknown", "未查", "Not checked"),
    ("full", "无障碍完善", "Fully accessible"),
    ("partial", "部分无障碍", "Partly accessible"),
    ("none", "无无障碍设施", "Not accessible"),
)

ELEVATOR = ChoiceSet(
    "elevator",
    ("unknown", "未查", "Not checked"),
    ("present", "已有电梯", "Has a lift"),
    ("feasible", "可加装", "Lift can be added"),
    ("infeasible", "不可加装", "Lift cannot be added"),
    ("not_needed", "不需要(首层)", "Not needed (ground floor)"),
)

FACILITY_KIND = ChoiceSet(
    "facility_kind",
    ("complex", "综合体", "Service complex"),
    ("single", "单一功能设施", "Single-function facility"),
)

OPERATING_MODE = ChoiceSet(
    "operating_mode",
    ("self", "自营", "Self-operated"),
    ("commissioned", "委托运营", "Commissioned"),
    ("chain", "连锁托管", "Chain / managed"),
)

#: The pipeline of a site chosen for conversion (fieldapp/domain/project.py owns its rules).
PROJECT_STAGE = ChoiceSet(
    "project_stage",
    ("selected", "已选址", "Site selected"),
    ("reviewing", "联审中", "In joint review"),
    ("passed", "联审通过", "Joint review passed"),
    ("converting", "改造中", "Under conversion"),
    ("built", "已建成", "Built"),
    ("opened", "已开放运营", "Open and operating"),
    ("terminated", "已终止", "Terminated"),
    aliases={"selected": ("选址", "已选定"), "reviewing": ("联审",), "passed": ("通过联审",),
             "converting": ("改造", "在建", "施工中", "under construction"),
             "built": ("建成", "竣工"), "opened": ("开放", "运营", "已开放", "open", "opening"),
             "terminated": ("终止", "terminate")},
)

FUNDING_SOURCE = ChoiceSet(
    "funding_source",
    ("special_bonds", "专项债券", "Special-purpose bonds"),
    ("central_budget", "中央预算内投资", "Central budget investment"),
    ("practical_projects", "为民办实事项目", "Practical projects for the people"),
    ("district_finance", "区级财政", "District finance"),
    ("social_capital", "社会资本", "Private capital"),
    ("other", "其他", "Other"),
    aliases={"special_bonds": ("专项债",), "central_budget": ("中央预算内",),
             "practical_projects": ("实事项目", "民心工程"), "district_finance": ("区财政",)},
)

SUPPORT = ChoiceSet(
    "support",
    ("construction_subsidy", "建设补助", "Construction subsidy"),
    ("operating_subsidy", "运营补贴", "Operating subsidy"),
    ("rent_reduction", "租金减免", "Rent reduction"),
    ("utility_discount", "水电气优惠", "Utility discount"),
)

COORD_SYSTEM = ChoiceSet(
    "coord_system",
    ("wgs84", "WGS-84 (GPS)", "WGS-84 (GPS)"),
    ("gcj02", "GCJ-02 (高德/腾讯)", "GCJ-02 (Amap/Tencent)"),
    aliases={"wgs84": ("WGS-84", "WGS 84", "GPS", "wgs-84"),
             "gcj02": ("GCJ-02", "GCJ 02", "高德", "腾讯", "火星坐标", "Amap", "Tencent",
                       "GCJ-02 (高德)", "高德/腾讯")},
)

TARGET_KIND = ChoiceSet(
    "target_kind",
    ("site", "存量资源", "Site"),
    ("facility", "设施", "Facility"),
)

CHECK_RESULT = ChoiceSet(
    "check_result",
    ("ok", "合格", "OK"),
    ("issue", "有问题", "Issue found"),
    ("na", "不适用", "Not applicable"),
)

RECORD_KIND = ChoiceSet(
    "kind",
    ("site", "存量资源", "Site"),
    ("facility", "设施", "Facility"),
    ("inspection", "巡查", "Inspection"),
)

JOINT_REVIEW_RESULT = ChoiceSet(
    "joint_review_result",
    ("pass", "通过", "Pass"),
    ("conditional", "有条件通过", "Pass with conditions"),
    ("fail", "不通过", "Fail"),
)

ROLE = ChoiceSet(
    "role",
    ("worker", "网格员", "Grid worker"),
    ("supervisor", "主管", "Supervisor"),
    ("admin", "管理员", "Administrator"),
    aliases={"worker": ("worker", "采集员"), "supervisor": ("审核员", "街道")},
)

ATTACHMENT_KIND = ChoiceSet(
    "attachment_kind",
    ("photo", "照片", "Photo"),
    ("document", "文件", "Document"),
    aliases={"document": ("文档", "PDF")},
)

SWITCH = ChoiceSet(
    "switch",
    ("on", "开", "On"),
    ("off", "关", "Off"),
    aliases={"on": ("是", "打开", "开启", "yes", "true", "1"),
             "off": ("否", "关闭", "no", "false", "0")},
)
