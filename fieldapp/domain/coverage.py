"""15-minute life circle coverage: which scenes each grid reaches on foot, and what could fill gaps.

Pure Python over plain data (no database, no UI): grids with a centre and household count,
facilities with functions and building area, idle sites with what they could host. Per grid
it finds, for every scene, the nearest facility within the scene's walking radius (norms.toml);
rolls the result up per street and district; checks facilities that claim to be a service
complex against the national test; and, for a missing scene, ranks the nearby sites that could
host it (rules in `coverage_match`). Points are WGS-84 (records store WGS-84; see geo.py).

Speed: facilities and sites go into buckets of roughly the largest radius, so each grid looks
at the nine buckets around it instead of every record — a district of thousands of grids and
tens of thousands of records takes well under a second (`bench`).
"""

from __future__ import annotations

import math
import random
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from fieldapp.domain.catalog import scene_of
from fieldapp.domain.coverage_index import SCENE_CODES, Buckets, SceneIndex
from fieldapp.domain.coverage_match import (
    DISTANCE_POINTS,
    Fit,
    Reason,
    distance_reason,
    site_fit,
)
from fieldapp.domain.norms import Norms, load

#: Column headings short enough for a terminal table (zh, en).
SCENE_SHORT: dict[str, tuple[str, str]] = {
    "party": ("党群", "party"), "elderly": ("养老", "elder"), "childcare": ("托育", "child"),
    "meal": ("助餐", "meal"), "housekeeping": ("家政", "house"), "health": ("健康", "health"),
    "sports": ("体育", "sport"), "culture": ("文化", "cult"), "children_play": ("儿童", "play"),
    "employment": ("就业", "job"), "after_school": ("托管", "after"),
}


def _num(value) -> float | None:
    try:
        return None if value is None or isinstance(value, bool) else float(value)
    except (TypeError, ValueError):
        return None


@dataclass(slots=True)
class GridIn:
    code: str
    name: str = ""
    lat: float | None = None
    lng: float | None = None
    households: int | None = None
    parent: str | None = None
    street: str = ""  # street/town code (rolled up to), resolved by the caller
    district: str = ""


@dataclass(slots=True)
class FacilityIn:
    id: str
    grid: str
    functions: tuple[str, ...] = ()
    building_area: float | None = None
    facility_kind: str | None = None
    lat: float | None = None
    lng: float | None = None
    name: str = ""
    status: str = ""
    scenes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        self.scenes = tuple(dict.fromkeys(scene_of(f) for f in self.functions))

    @classmethod
    def from_data(cls, record_id: str, data: dict, status: str = "") -> FacilityIn:
        return cls(record_id, data.get("grid_code") or "", tuple(data.get("functions") or ()),
                   _num(data.get("building_area")), data.get("facility_kind"),
                   _num(data.get("lat")), _num(data.get("lng")), data.get("name") or "", status)


SITE_KEYS = ("candidate_functions", "usable_area", "floor_from", "accessibility", "elevator",
             "owner_consent", "authority_consent", "structure_condition", "fire_condition")


@dataclass(slots=True)
class SiteIn:
    id: str
    grid: str
    candidate_functions: tuple[str, ...] = ()
    usable_area: float | None = None
    floor_from: int | None = None
    accessibility: str | None = None
    elevator: str | None = None
    owner_consent: str | None = None
    authority_consent: str | None = None
    structure_condition: str | None = None
    fire_condition: str | None = None
    status: str = ""
    lat: float | None = None
    lng: float | None = None
    title: str = ""

    @classmethod
    def from_data(cls, record_id: str, data: dict, status: str = "") -> SiteIn:
        floor = _num(data.get("floor_from"))
        return cls(record_id, data.get("grid_code") or "",
                   tuple(data.get("candidate_functions") or ()), _num(data.get("usable_area")),
                   None if floor is None else int(floor),
                   *(data.get(k) for k in SITE_KEYS[3:]), status,
                   _num(data.get("lat")), _num(data.get("lng")), data.get("address") or "")


@dataclass(slots=True)
class GridCoverage:
    grid: GridIn
    covered: dict[str, tuple[str, float | None]]  # scene → (facility id, metres or None)
    missing: list[str]
    facility_area: float
    area_per_100: float | None  # facility m² per 100 households; None without households


@dataclass(slots=True)
class Rollup:
    code: str
    name: str
    level: str  # street or district
    grids: int = 0
    households: int = 0
    facility_area: float = 0.0  # of grids with known households, so per-100 stays honest
    covered: dict[str, int] = field(default_factory=dict)
    failing_complexes: int = 0

    @property
    def area_per_100(self) -> float | None:
        return self.facility_area / self.households * 100 if self.households else None


@dataclass(slots=True)
class ComplexCheck:
    facility: FacilityIn
    failures: list[Reason]
    advice: list[Reason]


@dataclass(slots=True)
class Candidate:
    site: SiteIn
    scene: str
    eligible: bool
    score: int
    distance_m: float | None
    reasons: list[Reason]

    def reason(self, lang: str = "zh") -> str:
        return ("; " if lang == "en" else ";").join(r.text(lang) for r in self.reasons)


def _has_point(x) -> bool:
    return x.lat is not None and x.lng is not None


@dataclass
class Analysis:
    norms: Norms
    grids: list[GridCoverage]
    streets: list[Rollup]
    districts: list[Rollup]
    complexes: list[ComplexCheck]  # facilities claiming to be a complex that fail the test
    sites: list[SiteIn]
    names: dict[str, str]
    max_lat: float = 31.0
    facility_index: SceneIndex | None = None
    _by_code: dict[str, GridCoverage] = field(default_factory=dict)
    _site_buckets: dict[str, Buckets] = field(default_factory=dict)
    _sites_by_grid: dict[str, list[SiteIn]] | None = None
    _fit_cache: dict[tuple[str, str], Fit | None] = field(default_factory=dict)

    @property
    def by_code(self) -> dict[str, GridCoverage]:
        if len(self._by_code) != len(self.grids):
            self._by_code = {g.grid.code: g for g in self.grids}
        return self._by_code

    def lacking(self, scene: str) -> list[GridCoverage]:
        scene = scene_of(scene)
        return [g for g in self.grids if scene in g.missing]

    def nearest(self, grid_code: str, scene: str) -> list[tuple[FacilityIn, float]]:
        """Facilities offering the scene within its radius of the grid centre, nearest first."""
        g = self.by_code.get(grid_code)
        if g is None or self.facility_index is None or not _has_point(g.grid):
            return []
        found = self.facility_index.within(g.grid.lat, g.grid.lng, scene_of(scene))
        return sorted(found, key=lambda p: p[1])

    def fit(self, site: SiteIn, scene: str) -> Fit | None:
        key = (site.id, scene)
        if key not in self._fit_cache:
            self._fit_cache[key] = site_fit(site, scene, self.norms)
        return self._fit_cache[key]

    def _sites_for(self, scene: str) -> Buckets:
        """Buckets of the sites that offer the scene at all, built on first use."""
        if scene not in self._site_buckets:
            b = Buckets(self.norms.radius(scene), self.max_lat)
            for s in self.sites:
                if _has_point(s) and any(scene_of(c) == scene for c in s.candidate_functions):
                    b.add(s.lat, s.lng, s)
            self._site_buckets[scene] = b
        return self._site_buckets[scene]

    def candidates(self, grid_code: str, scene: str, include_excluded: bool = False
                   ) -> list[Candidate]:
        """Sites within the scene's radius of the grid centre (or in the grid, when either has
        no coordinates) that could host the scene: best first, excluded ones last."""
        scene = scene_of(scene)
        cov = self.by_code.get(grid_code)
        if cov is None:
            return []
        grid = cov.grid
        radius = self.norms.radius(scene)
        pairs: list[tuple[SiteIn, float | None]] = []
        if _has_point(grid):
            pairs += self._sites_for(scene).within(grid.lat, grid.lng)
        if self._sites_by_grid is None:
            self._sites_by_grid = defaultdict(list)
            for s in self.sites:
                self._sites_by_grid[s.grid].append(s)
        pairs += [(s, None) for s in self._sites_by_grid.get(grid_code, ())
                  if not (_has_point(s) and _has_point(grid))]
        out = []
        for site, d in pairs:
            fit = self.fit(site, scene)
            if fit is None or (not fit.eligible and not include_excluded):
                continue
            if fit.eligible:
                near = distance_reason(d, radius)
                out.append(Candidate(site, scene, True, fit.score + near.points, d,
                                     [*fit.reasons, near]))
            else:
                out.append(Candidate(site, scene, False, 0, d, list(fit.reasons)))
        out.sort(key=lambda c: (not c.eligible, -c.score,
                                c.distance_m if c.distance_m is not None else 1e9, c.site.id))
        return out

    def best_candidate(self, grid_code: str, scene: str,
                       allowed: set[str] | None = None) -> Candidate | None:
        """The first of `candidates()` (sites in `allowed` grids only, when given), found
        without building and sorting every candidate: a district report asks this for each
        of hundreds of gaps."""
        scene = scene_of(scene)
        cov = self.by_code.get(grid_code)
        if cov is None:
            return None
        grid, radius = cov.grid, self.norms.radius(scene)
        pairs: list[tuple[SiteIn, float | None]] = []
        if _has_point(grid):
            pairs += self._sites_for(scene).within(grid.lat, grid.lng)
        if self._sites_by_grid is None:
            self._sites_by_grid = defaultdict(list)
            for s in self.sites:
                self._sites_by_grid[s.grid].append(s)
        pairs += [(s, None) for s in self._sites_by_grid.get(grid_code, ())
                  if not (_has_point(s) and _has_point(grid))]
        best, best_key = None, None
        for site, d in pairs:
            if allowed is not None and site.grid not in allowed:
                continue
            fit = self.fit(site, scene)
            if fit is None or not fit.eligible:
                continue
            near = 0 if d is None else round(DISTANCE_POINTS * max(0.0, 1 - d / radius))
            key = (-(fit.score + near), d if d is not None else 1e9, site.id)
            if best_key is None or key < best_key:
                best, best_key = (site, d, fit), key
        if best is None:
            return None
        site, d, fit = best
        near_reason = distance_reason(d, radius)
        return Candidate(site, scene, True, fit.score + near_reason.points, d,
                         [*fit.reasons, near_reason])

    def match(self, scene: str) -> dict[str, list[Candidate]]:
        """For every grid lacking the scene, its ranked eligible candidate sites."""
        return {g.grid.code: self.candidates(g.grid.code, scene) for g in self.lacking(scene)}


def _core_scenes(f: FacilityIn, norms: Norms) -> list[str]:
    """The facility's scenes among the core ones: 失能失智照护 counts as elderly care here as
    it does in coverage."""
    core = {scene_of(c) for c in norms.complex_core}
    return [s for s in f.scenes if s in core]


def passes_complex(f: FacilityIn, norms: Norms) -> bool:
    """The national test counts scenes, not services: 助餐 + 长者食堂 is one function."""
    return ((f.building_area or 0.0) >= norms.complex_min_area
            and len(f.scenes) >= norms.complex_min_functions
            and len(_core_scenes(f, norms)) >= norms.complex_min_core)


def check_complex(f: FacilityIn, norms: Norms) -> ComplexCheck:
    failures, advice = [], []
    area = f.building_area or 0.0
    if area < norms.complex_min_area:
        failures.append(Reason(f"建筑面积 {area:g}㎡ 不足 {norms.complex_min_area:g}㎡",
                               f"building area {area:g} m² below {norms.complex_min_area:g} m²"))
    elif area < norms.complex_preferred_area:
        advice.append(Reason(f"建筑面积宜达到 {norms.complex_preferred_area:g}㎡",
                             f"building area should reach {norms.complex_preferred_area:g} m²"))
    n = len(f.scenes)
    if n < norms.complex_min_functions:
        failures.append(Reason(f"仅 {n} 类服务场景,少于 {norms.complex_min_functions} 类",
                               f"only {n} service scenes, fewer than "
                               f"{norms.complex_min_functions}"))
    core = _core_scenes(f, norms)
    if len(core) < norms.complex_min_core:
        failures.append(Reason(
            f"养老、托育、儿童托管、助餐中仅有 {len(core)} 项,少于 {norms.complex_min_core} 项",
            f"only {len(core)} of elderly/childcare/after-school/meal, "
            f"fewer than {norms.complex_min_core}"))
    return ComplexCheck(f, failures, advice)


def analyse(grids: Iterable[GridIn], facilities: Iterable[FacilityIn],
            sites: Iterable[SiteIn] = (), norms: Norms | None = None,
            names: dict[str, str] | None = None) -> Analysis:
    """Coverage of every grid, roll-ups, failing complexes; candidate sites on demand."""
    norms = norms or load()
    grids, facilities, sites = list(grids), list(facilities), list(sites)
    max_lat = _max_lat(grids)  # grids are the query points
    index = SceneIndex(norms, max_lat)
    unplaced: dict[str, list[FacilityIn]] = defaultdict(list)  # facilities without a point
    area_by_grid: dict[str, float] = defaultdict(float)
    placed = []
    for f in facilities:
        area_by_grid[f.grid] += f.building_area or 0.0
        if f.lat is None or f.lng is None:
            unplaced[f.grid].append(f)
        else:
            placed.append(f)
    index.add_all(placed)

    results = []
    pointless = {g.code for g in grids if g.lat is None or g.lng is None}
    # A grid without a centre can only count what is recorded in it, placed or not.
    for f in facilities:
        if f.grid in pointless and f.lat is not None and f.lng is not None:
            unplaced[f.grid].append(f)
    for g in grids:
        covered: dict[str, tuple[str, float | None]] = (
            {} if g.lat is None or g.lng is None else index.covered(g.lat, g.lng))
        for f in unplaced.get(g.code, ()):
            for scene in f.scenes:
                covered.setdefault(scene, (f.id, None))  # no point to measure: its own grid
        area = area_by_grid.get(g.code, 0.0)
        per_100 = area / g.households * 100 if g.households else None
        results.append(GridCoverage(g, covered, [s for s in SCENE_CODES if s not in covered],
                                    area, per_100))

    in_scope = {g.code for g in grids}  # facilities nearby but outside the area serve, not count
    failing = [check_complex(f, norms) for f in facilities
               if f.facility_kind == "complex" and f.grid in in_scope
               and not passes_complex(f, norms)]
    names = names or {}
    streets = _rollup(results, "street", names, failing)
    districts = _rollup(results, "district", names, failing)
    return Analysis(norms, results, streets, districts, failing, sites, names, max_lat, index)


def _max_lat(items) -> float:
    return max((abs(x.lat) for x in items if _has_point(x)), default=31.0) + 0.1


def _rollup(results: list[GridCoverage], level: str, names: dict[str, str],
            failing: list[ComplexCheck]) -> list[Rollup]:
    rollups: dict[str, Rollup] = {}
    code_of_grid = {}
    for r in results:
        code = getattr(r.grid, level) or ""
        code_of_grid[r.grid.code] = code
        ru = rollups.get(code)
        if ru is None:
            ru = rollups[code] = Rollup(code, names.get(code, code), level,
                                        covered={s: 0 for s in SCENE_CODES})
        ru.grids += 1
        if r.grid.households:
            ru.households += r.grid.households
            ru.facility_area += r.facility_area
        for scene in r.covered:
            if scene in ru.covered:
                ru.covered[scene] += 1
    for c in failing:
        code = code_of_grid.get(c.facility.grid)
        if code in rollups:
            rollups[code].failing_complexes += 1
    return sorted(rollups.values(), key=lambda r: r.code)


def synthetic(n_grids: int, n_facilities: int, n_sites: int | None = None, seed: int = 1
              ) -> tuple[list[GridIn], list[FacilityIn], list[SiteIn]]:
    """A made-up district: grids on a lattice ~450 m apart, records scattered among them."""
    rng = random.Random(seed)
    side = max(1, math.ceil(math.sqrt(n_grids)))
    step = 0.004
    grids = [GridIn(f"G{i:05d}", f"网格{i}", 31.1 + (i // side) * step,
                    121.3 + (i % side) * step * 1.15, rng.randint(500, 3000),
                    street=f"S{(i // side) // 10:03d}", district="D1")
             for i in range(n_grids)]
    scenes = list(SCENE_CODES)

    def spot():
        g = rng.choice(grids)
        return g, g.lat + rng.uniform(-0.003, 0.003), g.lng + rng.uniform(-0.003, 0.003)

    facilities = []
    for i in range(n_facilities):
        g, lat, lng = spot()
        kind = "complex" if rng.random() < 0.2 else "single"
        fns = tuple(rng.sample(scenes, 3 if kind == "complex" else 1))
        facilities.append(FacilityIn(f"F{i}", g.code, fns, float(rng.choice([80, 300, 700])),
                                     kind, lat, lng))
    sites = []
    for i in range(n_facilities if n_sites is None else n_sites):
        g, lat, lng = spot()
        sites.append(SiteIn(
            f"S{i}", g.code, tuple(rng.sample(scenes, 2)), float(rng.choice([40, 120, 400])),
            rng.choice([-1, 1, 1, 2, 3]), rng.choice(["full", "partial", "none"]),
            rng.choice(["present", "feasible", "infeasible"]),
            rng.choice(["agreed", "negotiating", "refused"]), rng.choice(["agreed", "not_asked"]),
            rng.choice(["good", "fair", "unsafe"]), rng.choice(["good", "fair"]),
            rng.choice(["draft", "approved"]), lat, lng))
    return grids, facilities, sites


def bench(n_grids: int = 2000, n_facilities: int = 10_000, n_sites: int = 10_000,
          scene: str = "elderly", repeat: int = 3) -> dict[str, float]:
    """Best-of-`repeat` milliseconds for analysing a synthetic district and matching one scene.

    `*_cpu_ms` is process time: on a shared machine it says what the work costs, while the
    wall-clock figure also counts time spent waiting for a core.
    """
    grids, facilities, sites = synthetic(n_grids, n_facilities, n_sites)
    norms = load()
    best = {"analyse_ms": float("inf"), "analyse_cpu_ms": float("inf"),
            "match_ms": float("inf"), "match_cpu_ms": float("inf")}
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        result = analyse(grids, facilities, sites, norms)
        w1, c1 = time.perf_counter(), time.process_time()
        matched = result.match(scene)
        w2, c2 = time.perf_counter(), time.process_time()
        for key, value in (("analyse_ms", w1 - w0), ("analyse_cpu_ms", c1 - c0),
                           ("match_ms", w2 - w1), ("match_cpu_ms", c2 - c1)):
            best[key] = min(best[key], round(value * 1000, 1))
    return {"grids": n_grids, "facilities": n_facilities, "sites": n_sites, **best,
            "grids_lacking": len(matched)}
