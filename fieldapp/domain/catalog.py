"""The function catalog: the service scenes a facility may offer or a site may host.

Codes and labels come from 沪府办发〔2024〕25号 (see shared/policy) and the national plan.
`group` ties concrete services to the nine scenes of the Shanghai plan, so coverage analysis
can speak of scenes while records name concrete services.
"""

from __future__ import annotations

from dataclasses import dataclass

from fieldapp.domain.choices import ChoiceSet


@dataclass(frozen=True)
class Function:
    code: str
    zh: str
    en: str
    scene: str  # code of the scene it belongs to (itself for a scene)

    def label(self, lang: str = "zh") -> str:
        return self.zh if lang == "zh" else self.en


FUNCTIONS: tuple[Function, ...] = (
    # The nine scenes named by the Shanghai plan (第六条).
    Function("party", "党群服务", "Party and community services", "party"),
    Function("elderly", "养老服务", "Elderly care", "elderly"),
    Function("childcare", "托育服务(宝宝屋)", "Childcare 0-3 (baby room)", "childcare"),
    Function("meal", "社区助餐", "Community meals", "meal"),
    Function("housekeeping", "家政便民", "Housekeeping and convenience", "housekeeping"),
    Function("health", "健康服务(卫生服务站点)", "Health services (health station)", "health"),
    Function("sports", "体育健身", "Sports and fitness", "sports"),
    Function("culture", "文化休闲", "Culture and leisure", "culture"),
    Function("children_play", "儿童游憩", "Children's play", "children_play"),
    Function("employment", "就业帮扶", "Employment support", "employment"),
    # Concrete services the plan names (第七条, 第九条), each under its scene.
    Function("after_school", "儿童托管", "After-school care", "childcare"),
    Function("dementia_care", "失能失智照护", "Care for disabled and dementia", "elderly"),
    Function("ride_hailing", "一键叫车", "One-tap ride service", "elderly"),
    Function("community_school", "社区学校办学点", "Community school site", "culture"),
    Function("culture_delivery", "文化配送", "Culture delivery", "culture"),
    Function("sports_instructor", "社会体育指导员驻点", "Sports instructor post", "sports"),
    Function("job_station", "就业服务站点", "Job service station", "employment"),
    Function("fire_station", "微型消防站", "Micro fire station", "party"),
    Function("convenience_store", "公益便利店", "Non-profit convenience store", "housekeeping"),
    Function("repair", "维修", "Repairs", "housekeeping"),
    Function("laundry", "洗衣缝补", "Laundry and mending", "housekeeping"),
    Function("recycling", "回收利用", "Recycling", "housekeeping"),
    Function("volunteer", "志愿服务", "Volunteer services", "party"),
    Function("counselling", "心理咨询", "Counselling", "health"),
)

BY_CODE: dict[str, Function] = {f.code: f for f in FUNCTIONS}
SCENES: tuple[Function, ...] = tuple(f for f in FUNCTIONS if f.scene == f.code)

#: The national guideline's core functions for a service complex (at least two of these).
COMPLEX_CORE = ("elderly", "childcare", "after_school", "meal")

#: The catalog as a choice set, so records validate and parse functions like any other enum.
FUNCTION_CHOICES = ChoiceSet("function", *((f.code, f.zh, f.en) for f in FUNCTIONS))


def scene_of(code: str) -> str:
    return BY_CODE[code].scene if code in BY_CODE else code
