"""Administrative areas: district (区) → street/town (街镇) → community (居委) → grid (网格).

Districts are the 16 real ones with their GB/T 2260 codes. Streets, communities and grids are
reference data loaded from CSV (`fieldapp admin load-areas`) or made by the demo; grid codes
are opaque strings, prefixed by the parent street's code where known (see shared/domain.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from fieldapp.domain import safe_text

LEVELS = ("district", "street", "community", "grid")
LEVEL_LABELS = {
    "district": ("区", "District"),
    "street": ("街镇", "Street/town"),
    "community": ("居委", "Community"),
    "grid": ("网格", "Grid"),
}

DISTRICTS: dict[str, str] = {
    "310101": "黄浦区",
    "310104": "徐汇区",
    "310105": "长宁区",
    "310106": "静安区",
    "310107": "普陀区",
    "310109": "虹口区",
    "310110": "杨浦区",
    "310112": "闵行区",
    "310113": "宝山区",
    "310114": "嘉定区",
    "310115": "浦东新区",
    "310116": "金山区",
    "310117": "松江区",
    "310118": "青浦区",
    "310120": "奉贤区",
    "310151": "崇明区",
}


@dataclass(frozen=True)
class Area:
    code: str
    name: str
    level: str
    parent_code: str | None = None
    lat: float | None = None  # centre, WGS-84
    lng: float | None = None
    households: int | None = None  # for coverage per 100 households, when known
    boundary: str | None = None  # grid outline, JSON rings (grid_shapes.py); registry-loaded
    # A pilot community (率先…先行先试) and its annual plan of facilities to open; None in a
    # loaded file means "not given" (the registry keeps what it had).
    pilot: bool | None = None
    annual_target: int | None = None

    def as_dict(self) -> dict:
        return {
            "code": self.code,
            "name": self.name,
            "level": self.level,
            "parent_code": self.parent_code,
            "lat": self.lat,
            "lng": self.lng,
            "households": self.households,
            "pilot": bool(self.pilot),
            "annual_target": self.annual_target,
        }


def district_areas() -> list[Area]:
    return [Area(code, name, "district") for code, name in DISTRICTS.items()]


def validate_area(area: Area, known_codes: set[str]) -> list[str]:
    """Problems with one area row (for load-areas); empty when it is fine."""
    problems = []
    if area.level not in LEVELS:
        problems.append(f"level must be one of {', '.join(LEVELS)}")
    if not area.code or len(area.code) > 40:
        problems.append("code must be 1-40 characters")
    if not area.name or len(area.name) > 60:
        problems.append("name must be 1-60 characters")
    for what, text in (("code", area.code), ("name", area.name)):
        if text and not safe_text.is_clean(text):
            problems.append(f"{what} holds control characters or bidi overrides")
    if area.level == "district":
        if area.parent_code:
            problems.append("a district has no parent")
    elif area.parent_code not in known_codes:
        problems.append(f"parent {area.parent_code!r} is unknown")
    return problems
