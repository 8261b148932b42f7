"""What a map of an area shows and how points land on it: plain Python for the TUI's map
screen and the PDF area report alike.

`MapLayers` holds grid centres (and boundaries where the area data has them), facilities with
their scenes and idle sites with their status, from the coverage inputs. `Frame` is a local
flat projection (metres east and north of a centre; at the size of a district the error is
far below a pixel) mapped onto a box of any units, keeping the aspect true.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from fieldapp.domain.coverage import FacilityIn, GridIn, SiteIn

METRES_PER_DEG_LAT = 111_195.0

#: One colour per scene (PDF RGB; the TUI maps them to terminal colours), in SCENE_CODES order.
SCENE_COLOURS: dict[str, tuple[int, int, int]] = {
    "party": (200, 30, 30), "elderly": (230, 120, 0), "childcare": (210, 60, 160),
    "meal": (150, 100, 20), "housekeeping": (90, 90, 90), "health": (0, 150, 90),
    "sports": (30, 110, 200), "culture": (120, 60, 190), "children_play": (0, 160, 170),
    "employment": (100, 130, 30), "after_school": (240, 80, 110),
}
STATUS_COLOURS: dict[str, tuple[int, int, int]] = {
    "draft": (150, 150, 150), "submitted": (30, 110, 200), "returned": (200, 30, 30),
    "approved": (0, 150, 60),
}


@dataclass
class MapPoint:
    id: str
    kind: str  # facility / site / grid
    lat: float
    lng: float
    label: str
    scene: str = ""  # a facility's first scene (its colour)
    status: str = ""
    scenes: tuple[str, ...] = ()


@dataclass
class MapLayers:
    grids: list[MapPoint] = field(default_factory=list)
    facilities: list[MapPoint] = field(default_factory=list)
    sites: list[MapPoint] = field(default_factory=list)
    boundaries: dict[str, list[list[tuple[float, float]]]] = field(default_factory=dict)
    unplaced: list[MapPoint] = field(default_factory=list)  # records without coordinates

    def points(self) -> list[MapPoint]:
        return [*self.grids, *self.facilities, *self.sites]

    def bounds(self) -> tuple[float, float, float, float] | None:
        """(lat min, lat max, lng min, lng max) of everything placed, boundaries included."""
        lats = [p.lat for p in self.points()]
        lngs = [p.lng for p in self.points()]
        for rings in self.boundaries.values():
            for ring in rings:
                lats += [lat for lat, _ in ring]
                lngs += [lng for _, lng in ring]
        if not lats:
            return None
        return min(lats), max(lats), min(lngs), max(lngs)


def layers_from(grids: list[GridIn], facilities: list[FacilityIn], sites: list[SiteIn],
                boundaries: dict | None = None, grid_codes: set[str] | None = None
                ) -> MapLayers:
    """Map layers from coverage inputs; `grid_codes` limits the records (e.g. to a scope)
    and the grids drawn. Records without a point go to `unplaced`."""
    layers = MapLayers(boundaries={c: r for c, r in (boundaries or {}).items()
                                   if grid_codes is None or c in grid_codes})
    for g in grids:
        if grid_codes is not None and g.code not in grid_codes:
            continue
        if g.lat is not None and g.lng is not None:
            layers.grids.append(MapPoint(g.code, "grid", g.lat, g.lng, g.name or g.code))
    for f in facilities:
        if grid_codes is not None and f.grid not in grid_codes:
            continue
        point = MapPoint(f.id, "facility", f.lat or 0.0, f.lng or 0.0, f.name or f.id[:8],
                         f.scenes[0] if f.scenes else "", f.status, f.scenes)
        (layers.facilities if f.lat is not None and f.lng is not None
         else layers.unplaced).append(point)
    for s in sites:
        if grid_codes is not None and s.grid not in grid_codes:
            continue
        point = MapPoint(s.id, "site", s.lat or 0.0, s.lng or 0.0, s.title or s.id[:8],
                         status=s.status)
        (layers.sites if s.lat is not None and s.lng is not None
         else layers.unplaced).append(point)
    return layers


@dataclass
class Frame:
    """A view: centre, metres per box unit, and the box it is drawn in (width, height in the
    box's own units, y growing downwards as on screens and pages)."""

    lat: float
    lng: float
    metres_per_unit: float
    width: float
    height: float
    aspect: float = 1.0  # box units: height of one y unit / width of one x unit

    @classmethod
    def fit(cls, bounds: tuple[float, float, float, float], width: float, height: float,
            aspect: float = 1.0, margin: float = 0.05) -> Frame:
        lat_min, lat_max, lng_min, lng_max = bounds
        lat, lng = (lat_min + lat_max) / 2, (lng_min + lng_max) / 2
        east = (lng_max - lng_min) * METRES_PER_DEG_LAT * math.cos(math.radians(lat))
        north = (lat_max - lat_min) * METRES_PER_DEG_LAT
        east, north = max(east, 200.0), max(north, 200.0)
        scale = max(east / width, north / (height * aspect)) * (1 + 2 * margin)
        return cls(lat, lng, scale, width, height, aspect)

    def to_box(self, lat: float, lng: float) -> tuple[float, float]:
        east = (lng - self.lng) * METRES_PER_DEG_LAT * math.cos(math.radians(self.lat))
        north = (lat - self.lat) * METRES_PER_DEG_LAT
        return (self.width / 2 + east / self.metres_per_unit,
                self.height / 2 - north / (self.metres_per_unit * self.aspect))

    def to_geo(self, x: float, y: float) -> tuple[float, float]:
        east = (x - self.width / 2) * self.metres_per_unit
        north = (self.height / 2 - y) * self.metres_per_unit * self.aspect
        return (self.lat + north / METRES_PER_DEG_LAT,
                self.lng + east / (METRES_PER_DEG_LAT * math.cos(math.radians(self.lat))))

    def metres(self, units: float) -> float:
        return units * self.metres_per_unit

    def units(self, metres: float) -> float:
        return metres / self.metres_per_unit

    def zoomed(self, factor: float) -> Frame:
        """Closer (factor > 1) or farther, about the centre; between 5 m and 200 km a unit."""
        scale = min(200_000.0, max(5.0, self.metres_per_unit / factor))
        return Frame(self.lat, self.lng, scale, self.width, self.height, self.aspect)

    def panned(self, dx: float, dy: float) -> Frame:
        """Moved by a fraction of the box (dx right, dy down)."""
        lat, lng = self.to_geo(self.width / 2 + dx * self.width,
                               self.height / 2 + dy * self.height)
        return Frame(lat, lng, self.metres_per_unit, self.width, self.height, self.aspect)

    def resized(self, width: float, height: float) -> Frame:
        return Frame(self.lat, self.lng, self.metres_per_unit, width, height, self.aspect)


def nearest(points: list[MapPoint], lat: float, lng: float,
            max_m: float | None = None) -> tuple[MapPoint, float] | None:
    """The point nearest to (lat, lng) by flat distance, and how far it is in metres."""
    best, best_d = None, math.inf
    k = math.cos(math.radians(lat))
    for p in points:
        d = math.hypot((p.lat - lat), (p.lng - lng) * k) * METRES_PER_DEG_LAT
        if d < best_d:
            best, best_d = p, d
    if best is None or (max_m is not None and best_d > max_m):
        return None
    return best, best_d


#: Bucket sizes (metres) of the point index, finest first, each twice the one before.
LEVELS_M = tuple(25.0 * 2 ** i for i in range(10))  # 25 m … 12.8 km
_PRIORITY = {"facility": 3, "site": 2, "grid": 1}


class PointIndex:
    """Points by metres east/north of an origin, bucketed at several sizes so that a view
    looks at what it can show, not at every point: close in, every point of the buckets in
    view; farther out, one point per bucket of about a cell (a facility before a site before
    a grid centre), since a terminal cell shows one mark anyway. Built once off the UI
    thread."""

    def __init__(self, points: list[MapPoint], origin: tuple[float, float]) -> None:
        self.origin = origin
        self.k = METRES_PER_DEG_LAT * math.cos(math.radians(origin[0]))
        self.count = len(points)
        placed = [(*self.metres(p.lat, p.lng), p) for p in points]
        size = LEVELS_M[0]
        every: dict[tuple[int, int], list[tuple[float, float, MapPoint]]] = {}
        for item in placed:
            every.setdefault((int(item[0] // size), int(item[1] // size)), []).append(item)
        for bucket in every.values():  # drawn last on top: facilities over sites over grids
            bucket.sort(key=lambda item: _PRIORITY.get(item[2].kind, 0))
        self.every = every
        self.levels: list[dict[tuple[int, int], list[tuple[float, float, MapPoint]]]] = []
        for size in LEVELS_M:
            level: dict[tuple[int, int], list[tuple[float, float, MapPoint]]] = {}
            for item in placed:
                key = (int(item[0] // size), int(item[1] // size))
                kept = level.get(key)
                if kept is None or _PRIORITY.get(item[2].kind, 0) > \
                        _PRIORITY.get(kept[0][2].kind, 0):
                    level[key] = [item]
            self.levels.append(level)

    def metres(self, lat: float, lng: float) -> tuple[float, float]:
        return ((lng - self.origin[1]) * self.k, (lat - self.origin[0]) * METRES_PER_DEG_LAT)

    def visible(self, e_min: float, e_max: float, n_min: float, n_max: float,
                metres_per_cell: float) -> list[tuple[float, float, MapPoint]]:
        """Points to draw in the box (metres) at `metres_per_cell` (a cell is that wide and
        twice that tall): every point when buckets are smaller than half a cell, else one
        per bucket of the coarsest size that fits in a cell."""
        if 2 * metres_per_cell < LEVELS_M[0]:
            size, level = LEVELS_M[0], self.every
        else:
            index = max(i for i, size in enumerate(LEVELS_M)
                        if size <= 2 * metres_per_cell or i == 0)
            size, level = LEVELS_M[index], self.levels[index]
        x0, x1 = int(e_min // size), int(e_max // size)
        y0, y1 = int(n_min // size), int(n_max // size)
        out: list[tuple[float, float, MapPoint]] = []
        if (x1 - x0 + 1) * (y1 - y0 + 1) < len(level):
            for x in range(x0, x1 + 1):
                for y in range(y0, y1 + 1):
                    bucket = level.get((x, y))
                    if bucket:
                        out += bucket
        else:
            for (x, y), bucket in level.items():
                if x0 <= x <= x1 and y0 <= y <= y1:
                    out += bucket
        return out

    def near(self, lat: float, lng: float, max_m: float) -> tuple[MapPoint, float] | None:
        """The nearest point within `max_m` (facilities and sites before grid centres when
        as near), looking only at the buckets around."""
        e, n = self.metres(lat, lng)
        best, best_key = None, None
        for item in self.visible(e - max_m, e + max_m, n - max_m, n + max_m, 0.0):
            d = math.hypot(item[0] - e, item[1] - n)
            if d > max_m:
                continue
            key = (round(d, 1), -_PRIORITY.get(item[2].kind, 0))
            if best_key is None or key < best_key:
                best, best_key = (item[2], d), key
        return best
