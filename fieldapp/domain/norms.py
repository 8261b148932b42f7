"""Coverage norms as data: the shipped `norms.toml`, a user's override file, and validation.

The figures (walking radius per scene, the service-complex test, area per 100 households,
what a site needs to host a scene) are defaults a street office may change, so they live in a
TOML file rather than in code. A user's file only needs the keys it changes; a file with a
typo or a wrong type is refused with a bilingual reason naming the key, never half-applied.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from fieldapp.domain.catalog import BY_CODE, SCENES

NORMS_FILENAME = "norms.toml"
SCENE_CODES = tuple(s.code for s in SCENES)


class NormsError(ValueError):
    """A norms file that cannot be used; `zh` and `en` say why and where."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(f"{zh} / {en}")
        self.zh, self.en = zh, en


@dataclass(frozen=True)
class SiteRule:
    """What a site needs to host one scene."""
    min_area: float = 0.0
    min_floor: int | None = None
    max_floor: int | None = None
    lift_above_floor: int | None = None
    basement_note: tuple[str, str] | None = None  # (zh, en): a fire-code limit in a basement
    source: str = ""  # where the rule comes from, shown beside it


@dataclass(frozen=True)
class Norms:
    life_circle_m: float
    radius_m: dict[str, float]
    complex_min_area: float
    complex_preferred_area: float
    complex_min_functions: int
    complex_min_core: int
    complex_core: tuple[str, ...]
    area_min_per_100: float
    area_preferred_per_100: float
    site_rules: dict[str, SiteRule] = field(default_factory=dict)
    source: str = "built-in"
    #: Where each group of figures comes from ("radius_m", "complex", "area"), shown beside it.
    sources: dict[str, str] = field(default_factory=dict)

    def radius(self, scene: str) -> float:
        return self.radius_m.get(scene, self.life_circle_m)

    def rule(self, scene: str) -> SiteRule:
        return self.site_rules.get(scene, SiteRule())


def default_text() -> str:
    return resources.files("fieldapp.domain").joinpath(NORMS_FILENAME).read_text("utf-8")


def user_path(data_dir: Path | str) -> Path:
    return Path(data_dir) / NORMS_FILENAME


def load(data_dir: Path | str | None = None) -> Norms:
    """The built-in norms, overridden by `<data_dir>/norms.toml` when that file exists."""
    base = tomllib.loads(default_text())
    source = "built-in"
    if data_dir is not None:
        path = user_path(data_dir)
        if path.exists():
            try:
                text = path.read_text("utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise NormsError(f"无法读取标准文件 {path}",
                                 f"cannot read norms file {path}: {exc}") from exc
            base = merge(base, parse_text(text, str(path)))
            source = str(path)
    return from_dict(base, source)


def parse_text(text: str, where: str = "norms.toml") -> dict:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise NormsError(f"标准文件格式错误 {where}: {exc}",
                         f"norms file is not valid TOML {where}: {exc}") from exc


def merge(base: dict, override: dict) -> dict:
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def _bad(key: str, zh: str, en: str) -> NormsError:
    return NormsError(f"标准文件中 {key} {zh}", f"norms file: {key} {en}")


def _number(table: dict, key: str, path: str, lo: float, hi: float) -> float:
    value = table.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _bad(f"{path}.{key}", "应为数字", "must be a number")
    if not lo <= value <= hi:
        raise _bad(f"{path}.{key}", f"应在 {lo:g} 到 {hi:g} 之间",
                   f"must be between {lo:g} and {hi:g}")
    return float(value)


def _text(table: dict, key: str, path: str) -> str:
    value = table.get(key, "")
    if not isinstance(value, str) or len(value) > 500:
        raise _bad(f"{path}.{key}", "应为不超过 500 字的文字",
                   "must be text of at most 500 characters")
    return value.strip()


def _only(table: object, allowed: set[str] | tuple[str, ...], path: str) -> dict:
    if not isinstance(table, dict):
        raise _bad(path, "应为一个表 [..]", "must be a table [..]")
    unknown = sorted(set(table) - set(allowed))
    if unknown:
        raise _bad(f"{path}.{unknown[0]}", "不是已知的项(拼写错误?)",
                   "is not a known key (a typo?)")
    return table


def from_dict(raw: dict, source: str = "built-in") -> Norms:
    """Checked norms from parsed TOML; raises NormsError naming the first bad key."""
    _only(raw, {"version", "life_circle_m", "radius_m", "complex", "area", "site"}, "norms")
    if raw.get("version", 1) != 1:
        raise _bad("version", "只支持 1", "must be 1")
    life = _number(raw, "life_circle_m", "norms", 100, 5000)
    radius_table = _only(raw.get("radius_m", {}), (*SCENE_CODES, "source"), "radius_m")
    radius = {k: _number(radius_table, k, "radius_m", 50, 5000)
              for k in radius_table if k != "source"}
    cx = _only(raw.get("complex", {}), {"min_building_area", "preferred_building_area",
                                        "min_functions", "min_core_functions",
                                        "core_functions", "source"}, "complex")
    core = cx.get("core_functions")
    if not isinstance(core, list) or not core or not all(isinstance(c, str) for c in core):
        raise _bad("complex.core_functions", "应为功能代码列表", "must be a list of function codes")
    unknown = [c for c in core if c not in BY_CODE]
    if unknown:
        raise _bad("complex.core_functions", f"含未知功能 {unknown[0]}",
                   f"has an unknown function {unknown[0]}")
    area = _only(raw.get("area", {}), {"min_per_100_households",
                                       "preferred_per_100_households", "source"}, "area")
    sources = {name: _text(table, "source", name)
               for name, table in (("radius_m", radius_table), ("complex", cx), ("area", area))}
    rules = {}
    for scene, table in _only(raw.get("site", {}), SCENE_CODES, "site").items():
        path = f"site.{scene}"
        _only(table, {"min_area", "min_floor", "max_floor", "lift_above_floor",
                      "basement_note", "basement_note_en", "source"}, path)
        texts = {k: _text(table, k, path) for k in ("basement_note", "basement_note_en",
                                                     "source")}
        floors = {k: int(_number(table, k, path, -5, 60)) if k in table else None
                  for k in ("min_floor", "max_floor", "lift_above_floor")}
        if (floors["min_floor"] is not None and floors["max_floor"] is not None
                and floors["min_floor"] > floors["max_floor"]):
            raise _bad(f"{path}.min_floor", "大于 max_floor", "is above max_floor")
        note = texts["basement_note"] or texts["basement_note_en"]
        rules[scene] = SiteRule(
            min_area=_number(table, "min_area", path, 0, 50000) if "min_area" in table else 0.0,
            **floors, source=texts["source"],
            basement_note=(texts["basement_note"] or note, texts["basement_note_en"] or note)
            if note else None)
    return Norms(
        life_circle_m=life, radius_m=radius,
        complex_min_area=_number(cx, "min_building_area", "complex", 0, 50000),
        complex_preferred_area=_number(cx, "preferred_building_area", "complex", 0, 50000),
        complex_min_functions=int(_number(cx, "min_functions", "complex", 1, 30)),
        complex_min_core=int(_number(cx, "min_core_functions", "complex", 0, len(core))),
        complex_core=tuple(core),
        area_min_per_100=_number(area, "min_per_100_households", "area", 0, 10000),
        area_preferred_per_100=_number(area, "preferred_per_100_households", "area", 0, 10000),
        site_rules=rules, source=source, sources=sources,
    )


def write_copy(data_dir: Path | str) -> Path:
    """Write the built-in norms to `<data_dir>/norms.toml` for editing; never overwrites."""
    path = user_path(data_dir)
    if path.exists():
        raise NormsError(f"标准文件已存在,未覆盖: {path}",
                         f"norms file already exists, not overwritten: {path}")
    path.write_text(default_text(), encoding="utf-8")
    return path
