"""Progress of the pilot communities (率先在120个左右社区开展…先行先试) from idle space to open
facilities, rolled up per street and district, for `fieldapp progress` and the progress screen.

Per pilot community: the sites found, those with both consents, those that passed the joint
review, those under conversion and those open (the project pipeline, fieldapp/domain/project.py);
the service scenes covered within their walking radius in its grids before and after the
facilities the pipeline opened; the facilities opened this year against the annual plan. A
street or district adds up its pilot communities; its plan is its own target when one is set,
otherwise the sum of its pilot communities' targets.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from fieldapp.domain import joint_review

#: The counted columns, in order, with their labels (zh, en).
COLUMNS = (
    ("sites", "已发现", "Found"),
    ("consented", "双方同意", "Consented"),
    ("passed", "联审通过", "Passed"),
    ("converting", "改造中", "Converting"),
    ("opened", "已开放", "Opened"),
)


@dataclass(frozen=True)
class AreaIn:
    code: str
    name: str
    level: str
    parent_code: str | None
    pilot: bool = False
    annual_target: int | None = None


@dataclass(frozen=True)
class SiteFacts:
    grid: str
    data: dict  # the site's content (consents, joint review, project)


@dataclass
class Row:
    code: str
    name: str
    level: str
    sites: int = 0
    consented: int = 0
    passed: int = 0
    converting: int = 0
    opened: int = 0
    cells: int = 0  # grids × scenes: what "all covered" would be
    covered_before: int = 0
    covered_after: int = 0
    opened_this_year: int = 0
    target: int | None = None
    children: list[Row] = field(default_factory=list)

    def add(self, other: Row) -> None:
        for key in ("sites", "consented", "passed", "converting", "opened", "cells",
                    "covered_before", "covered_after", "opened_this_year"):
            setattr(self, key, getattr(self, key) + getattr(other, key))

    def as_json(self) -> dict:
        out = {k: getattr(self, k) for k in ("code", "name", "level", "sites", "consented",
                                             "passed", "converting", "opened", "cells",
                                             "covered_before", "covered_after",
                                             "opened_this_year", "target")}
        if self.children:
            out["communities" if self.level == "street" else "streets"] = [
                c.code for c in self.children]
        return out


@dataclass
class Progress:
    year: int
    communities: list[Row]
    streets: list[Row]
    districts: list[Row]
    #: Pilot communities left out because they lie outside the user's areas (--all-local).
    hidden: int = 0

    def as_json(self) -> dict:
        return {"year": self.year, "communities": [r.as_json() for r in self.communities],
                "streets": [r.as_json() for r in self.streets],
                "districts": [r.as_json() for r in self.districts]}


def site_counts(data: dict) -> dict[str, bool]:
    """Which columns a site counts in (a site that went further counts in the earlier ones)."""
    from fieldapp.domain.project import reached

    steps = reached(data)
    consented = all(data.get(f) == "agreed" for f, _, _ in joint_review.CONSENTS)
    passed = "passed" in steps or joint_review.overall_verdict(data) in ("pass", "conditional")
    stage = data.get("project_stage")
    return {"sites": True, "consented": consented, "passed": passed,
            # Built and not yet open is still the conversion project's (it counted nowhere:
            # a street with one built site showed 改造中 0, 已开放 0).
            "converting": stage in ("converting", "built"),
            "opened": stage == "opened"}


def compute(areas: Iterable[AreaIn], sites: Iterable[SiteFacts],
            covered: dict[str, tuple[int, int]], scenes: int, year: int) -> Progress:
    """The progress table. `covered` is grid → (scenes covered before, after) the facilities
    the pipeline opened; `scenes` how many scenes a grid can have covered."""
    areas = list(areas)
    by_code = {a.code: a for a in areas}
    community_of: dict[str, str] = {}
    for a in areas:
        if a.level == "grid" and a.parent_code in by_code:
            community_of[a.code] = a.parent_code
    rows = {a.code: Row(a.code, a.name, a.level, target=a.annual_target)
            for a in areas if a.level == "community" and a.pilot}
    for grid, community in community_of.items():
        row = rows.get(community)
        if row is None:
            continue
        before, after = covered.get(grid, (0, 0))
        row.cells += scenes
        row.covered_before += before
        row.covered_after += after
    for s in sites:
        row = rows.get(community_of.get(s.grid, ""))
        if row is None:
            continue
        for key, counts in site_counts(s.data).items():
            setattr(row, key, getattr(row, key) + int(counts))
        opened_on = s.data.get("project_opened_on") or ""
        if s.data.get("project_stage") == "opened" and opened_on.startswith(f"{year:04d}-"):
            row.opened_this_year += 1
    communities = sorted(rows.values(), key=lambda r: r.code)
    streets = _roll(communities, by_code, "street")
    districts = _roll(streets, by_code, "district")
    return Progress(year, communities, streets, districts)


def _roll(rows: list[Row], areas: dict[str, AreaIn], level: str) -> list[Row]:
    out: dict[str, Row] = {}
    for row in rows:
        parent = _up(row.code, areas, level)
        if parent is None:
            continue
        area = areas[parent]
        total = out.setdefault(parent, Row(parent, area.name, level, target=None))
        total.add(row)
        total.children.append(row)
    for code, total in out.items():
        own = areas[code].annual_target
        targets = [c.target for c in total.children if c.target is not None]
        total.target = own if own is not None else (sum(targets) if targets else None)
    return sorted(out.values(), key=lambda r: r.code)


def _up(code: str, areas: dict[str, AreaIn], level: str) -> str | None:
    seen = 0
    while code in areas and seen < 10:  # a cycle in bad reference data must not hang
        if areas[code].level == level:
            return code
        code, seen = areas[code].parent_code or "", seen + 1
    return None


def bars(row: Row) -> list[tuple[str, str, int, int]]:
    """The chart of a street or district: each pilot community's (code, name, opened this
    year, plan), the plan defaulting to what it opened when it has none."""
    return [(c.code, c.name, c.opened_this_year,
             c.target if c.target is not None else c.opened_this_year) for c in row.children]


# -- text (the CLI and the screen print the same table) ------------------------------------
WORDS = {
    "area": ("地区", "Area"),
    "covered": ("覆盖 前→后", "Covered before→after"),
    "year": ("{year}年开放/计划", "{year} open/plan"),
    "community": ("试点社区", "Pilot communities"),
    "street": ("街镇合计", "Streets"),
    "district": ("区合计", "Districts"),
    "none": ("没有试点社区:用 fieldapp admin set-pilot 社区编码 标记",
             "no pilot communities: flag them with fieldapp admin set-pilot CODE"),
    "outside": ("另有 {n} 个试点社区不在您的负责范围,--all-local 查看",
                "{n} more pilot communities lie outside your areas: --all-local shows them"),
    "outside_here": ("您的负责范围内没有试点社区(另有 {n} 个在别处)",
                     "no pilot community in your areas ({n} elsewhere)"),
    "chart": ("{name}: 各试点社区{year}年开放 / 计划", "{name}: opened in {year} / plan, "
                                                       "per pilot community"),
    "funnel": ("{name}: 从发现到开放", "{name}: from found to open"),
}


def word(key: str, lang: str, **kw: object) -> str:
    zh, en = WORDS[key]
    return (zh if lang == "zh" else en).format(**kw)


def cells(row: Row, year: int, lang: str) -> list[str]:
    """One table row as text: name, the five counts, coverage before→after, year/plan."""
    plan = "-" if row.target is None else str(row.target)
    return [row.name, *(str(getattr(row, key)) for key, _, _ in COLUMNS),
            f"{row.covered_before}→{row.covered_after}/{row.cells}",
            f"{row.opened_this_year}/{plan}"]


def headers(year: int, lang: str) -> list[str]:
    return [word("area", lang), *(zh if lang == "zh" else en for _, zh, en in COLUMNS),
            word("covered", lang), word("year", lang, year=year)]


def funnel(row: Row, lang: str) -> list[tuple[str, int, int]]:
    """A street's way from found to open: each column as n of the sites found."""
    return [(zh if lang == "zh" else en, getattr(row, key), row.sites)
            for key, zh, en in COLUMNS]
