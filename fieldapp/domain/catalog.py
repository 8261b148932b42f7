"""The function catalog: the service scenes a facility may offer or a site may host.

Codes and labels come from 沪府办发〔2024〕25号 (see shared/policy) and the national plan.
`scene` ties concrete services to the scenes of the Shanghai plan, so coverage analysis can
speak of scenes while records name concrete services. Each function also lists the other
words the plan and street offices use for it (`aliases`: 宝宝屋, 卫生服务站点, 助餐, ...), and
`GROUPS` the words that name several scenes at once (养老托育, 一老一小); `resolve_function`
turns any of them into codes. 宝宝屋 (care for ages 0–3) and 儿童托管 (after-school care) are
different scenes: one does not cover the other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from fieldapp.domain.choices import ChoiceSet


@dataclass(frozen=True)
class Function:
    code: str
    zh: str
    en: str
    scene: str  # code of the scene it belongs to (itself for a scene)
    aliases: tuple[str, ...] = ()  # other names people write for it, Chinese or English

    def label(self, lang: str = "zh") -> str:
        return self.zh if lang == "zh" else self.en


FUNCTIONS: tuple[Function, ...] = (
    # The scenes named by the Shanghai plan (第六条), with 儿童托管 kept apart from 托育.
    Function("party", "党群服务", "Party and community services", "party",
             ("党群", "党群服务中心", "党群服务站", "党群阵地", "新时代文明实践中心", "party")),
    Function("elderly", "养老服务", "Elderly care", "elderly",
             ("养老", "社区养老", "嵌入式养老", "社区嵌入式养老", "长者照护", "长者照护之家",
              "日间照料", "日间照料中心", "养老服务站", "为老服务", "综合为老服务中心",
              "elderly")),
    Function("childcare", "托育服务(宝宝屋)", "Childcare 0-3 (baby room)", "childcare",
             ("托育", "宝宝屋", "托育服务", "社区托育", "社区托育宝宝屋", "托育宝宝屋",
              "嵌入式托育", "托育点", "婴幼儿托育", "婴幼儿照护", "0-3岁托育", "0-3岁婴幼儿照护",
              "baby room", "childcare")),
    Function("meal", "社区助餐", "Community meals", "meal",
             ("助餐", "社区食堂", "长者食堂", "社区长者食堂", "老年助餐", "助餐点", "助餐服务点",
              "老年助餐服务点", "就餐助餐", "就餐助餐场所", "meals")),
    Function("housekeeping", "家政便民", "Housekeeping and convenience", "housekeeping",
             ("家政", "家政服务", "便民服务", "housekeeping")),
    Function("health", "健康服务(卫生服务站点)", "Health services (health station)", "health",
             ("健康服务", "健康", "卫生服务站点", "卫生服务站", "社区卫生服务站", "卫生站",
              "卫生服务", "社区卫生服务中心", "卫生服务中心",
              # what the plan says a health point offers (第七条): 诊疗、配药、中医、康复、健康管理
              "基本诊疗", "诊疗", "配药", "中医", "康复", "健康管理",
              "health station", "health")),
    Function("sports", "体育健身", "Sports and fitness", "sports",
             ("体育", "健身", "市民健身驿站", "sports")),
    Function("culture", "文化休闲", "Culture and leisure", "culture",
             ("文化", "睦邻中心", "基层综合性文化服务中心", "综合文化活动室", "culture")),
    Function("children_play", "儿童游憩", "Children's play", "children_play",
             ("儿童游乐", "儿童活动", "儿童游戏")),
    Function("employment", "就业帮扶", "Employment support", "employment",
             ("就业", "就业援助", "employment")),
    Function("after_school", "儿童托管", "After-school care", "after_school",
             ("托管", "课后托管", "学龄儿童托管", "小学生托管", "爱心暑托班", "暑托班")),
    # Concrete services the plan names (第七条, 第九条), each under its scene.
    Function("dementia_care", "失能失智照护", "Care for disabled and dementia", "elderly",
             ("失能失智", "失能照护", "失智照护", "认知症照护", "失能失智老人照护",
              "失能失智老人专业照护", "失能失智老人", "专业照护")),
    Function("ride_hailing", "一键叫车", "One-tap ride service", "elderly", ("叫车",)),
    Function("community_school", "社区学校办学点", "Community school site", "culture",
             ("社区学校", "办学点", "流动课程")),
    Function("culture_delivery", "文化配送", "Culture delivery", "culture",
             ("家门口文化配送",)),
    Function("sports_instructor", "社会体育指导员驻点", "Sports instructor post", "sports",
             ("社会体育指导员", "体育指导员", "体育指导员驻点")),
    Function("job_station", "就业服务站点", "Job service station", "employment",
             ("就业服务站", "社区就业服务站点", "就业服务")),
    Function("fire_station", "微型消防站", "Micro fire station", "party",
             ("社区微型消防站", "微型消防")),
    Function("convenience_store", "公益便利店", "Non-profit convenience store", "housekeeping",
             ("便利店",)),
    Function("repair", "维修", "Repairs", "housekeeping", ("维修服务",)),
    Function("laundry", "洗衣缝补", "Laundry and mending", "housekeeping", ("洗衣", "缝补")),
    Function("recycling", "回收利用", "Recycling", "housekeeping", ("回收",)),
    Function("volunteer", "志愿服务", "Volunteer services", "party"),
    # 第六条 lists it among the shared spaces; street offices run it from the 党群服务中心.
    Function("disability_aid", "帮困助残", "Help for the needy and disabled", "party",
             ("助残", "帮困")),
    Function("counselling", "心理咨询", "Counselling", "health"),
)

#: Words the plan uses for several scenes at once (养老托育 = elderly care and childcare).
GROUPS: dict[str, tuple[str, ...]] = {
    "养老托育": ("elderly", "childcare"),
    "一老一小": ("elderly", "childcare"),
    "托育托管": ("childcare", "after_school"),
    "文体": ("culture", "sports"),
    "文体活动": ("culture", "sports"),
    "群众文体": ("culture", "sports"),
    "儿童": ("childcare", "after_school", "children_play"),
    "照护": ("elderly", "childcare"),
    "医养结合": ("elderly", "health"),
    "elderly care and childcare": ("elderly", "childcare"),
}

BY_CODE: dict[str, Function] = {f.code: f for f in FUNCTIONS}
SCENES: tuple[Function, ...] = tuple(f for f in FUNCTIONS if f.scene == f.code)

#: The national guideline's core scenes for a service complex (at least two of these).
COMPLEX_CORE = ("elderly", "childcare", "after_school", "meal")


def _key(text: str) -> str:
    """What two spellings of one name share: half-width, lower case, no spaces or brackets."""
    from fieldapp.domain.normalize import halfwidth

    text = halfwidth(str(text)).lower()
    return re.sub(r"[\s()（）「」\"'“”]+", "", text)


def _index() -> dict[str, tuple[str, ...]]:
    index: dict[str, list[str]] = {}

    def add(word: str, codes: tuple[str, ...]) -> None:
        found = index.setdefault(_key(word), [])
        found.extend(c for c in codes if c not in found)

    for f in FUNCTIONS:  # codes and labels first: they are never ambiguous
        for word in (f.code, f.zh, f.en):
            index[_key(word)] = [f.code]
    labels = set(index)
    for f in FUNCTIONS:
        for word in f.aliases:
            if _key(word) not in labels:
                add(word, (f.code,))
    for word, codes in GROUPS.items():
        add(word, codes)
    return {k: tuple(v) for k, v in index.items()}


_NAMES = _index()


def _variants(key: str) -> tuple[str, ...]:
    """The key, then without the 社区 / 服务 people add to any name (社区助餐服务 = 助餐)."""
    out = [key]
    if key.startswith("社区") and len(key) > 2:
        out.append(key[2:])
    for k in tuple(out):
        if k.endswith("服务") and len(k) > 2:
            out.append(k[:-2])
    return tuple(out)


def resolve_function(text: str) -> list[str]:
    """The function codes a person's word means: one code for a code, label or alias
    (宝宝屋 → childcare), several for a word naming several scenes (养老托育 → elderly,
    childcare), none for a word the catalog does not know."""
    for key in _variants(_key(text)):
        if key in _NAMES:
            return list(_NAMES[key])
    return []


def codes_in_scene(code: str) -> tuple[str, ...]:
    """What a filter for `code` finds: a scene takes in its concrete services (养老 finds
    失能失智照护 too, as coverage counts it); a concrete service only itself."""
    if code in BY_CODE and BY_CODE[code].scene == code:
        return tuple(f.code for f in FUNCTIONS if f.scene == code)
    return (code,)


def describe(codes: list[str], lang: str = "zh") -> str:
    """`养老服务(elderly)、托育服务(宝宝屋)(childcare)`: the choices an ambiguous word offers."""
    sep = "、" if lang == "zh" else ", "
    return sep.join(f"{BY_CODE[c].label(lang)} ({c})" for c in codes if c in BY_CODE)


class FunctionChoices(ChoiceSet):
    """The catalog as a choice set: parses codes, labels, the plan's own words and groups."""

    def resolve(self, text: str) -> list[str]:
        return resolve_function(text)

    def parse(self, text: str) -> str | None:
        codes = resolve_function(text)
        return codes[0] if len(codes) == 1 else None


#: The catalog as a choice set, so records validate and parse functions like any other enum.
FUNCTION_CHOICES = FunctionChoices("function", *((f.code, f.zh, f.en) for f in FUNCTIONS))


def scene_of(code: str) -> str:
    return BY_CODE[code].scene if code in BY_CODE else code


class FunctionNameError(ValueError):
    """A word that names no function, or several; `codes` holds the several."""

    def __init__(self, zh: str, en: str, codes: list[str]) -> None:
        super().__init__(f"{zh} / {en}")
        self.zh, self.en, self.codes = zh, en, codes


def one_function(text: str) -> str:
    """The one function code `text` names (a filter, a single choice); FunctionNameError
    listing the choices when it names several, or saying what is expected when none."""
    codes = resolve_function(text)
    if len(codes) == 1:
        return codes[0]
    if codes:
        raise FunctionNameError(f"「{text}」可指多个功能: {describe(codes, 'zh')},请选其中一个",
                                f"{text!r} may mean several functions: {describe(codes, 'en')};"
                                " choose one", codes)
    examples = "、".join(f.zh for f in SCENES[:6])
    raise FunctionNameError(
        f"未知功能「{text}」: 请写功能代码、中文或英文名称(如 {examples}、宝宝屋、助餐)",
        f"unknown function {text!r}: give a code, a Chinese or an English name "
        f"(e.g. elderly, childcare, 宝宝屋, 助餐)", [])
