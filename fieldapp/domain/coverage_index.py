"""Spatial buckets for the coverage analysis: points in cells about one radius wide, so a
query looks at the 3×3 block of cells around a point instead of at every record.

Cells are plain dicts keyed by (row, column) and the hot loops work on tuples, because this
is where a district-wide recompute spends its time.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING

from fieldapp.domain.catalog import SCENES
from fieldapp.domain.geo import haversine_m
from fieldapp.domain.norms import Norms

if TYPE_CHECKING:
    from fieldapp.domain.coverage import FacilityIn

SCENE_CODES = tuple(s.code for s in SCENES)
M_PER_DEG_LAT = 111_195.0


class Buckets:
    """Points in cells a little larger than `radius_m`, so the 3×3 block around a point holds
    everything within the radius, own cell first. `max_abs_lat` is the most northern query
    point: cells are wide enough in longitude there, hence everywhere south of it."""

    ORDER = ((0, 0), (-1, 0), (1, 0), (0, -1), (0, 1), (-1, -1), (-1, 1), (1, -1), (1, 1))

    def __init__(self, radius_m: float, max_abs_lat: float) -> None:
        self.radius_m = radius_m
        cos = max(0.01, math.cos(math.radians(min(max_abs_lat, 89))))
        self.dlat = radius_m / M_PER_DEG_LAT * 1.001
        self.dlng = self.dlat / cos
        self.box_lat = radius_m / M_PER_DEG_LAT * 1.01
        self.box_lng = self.box_lat / cos
        self.cells: dict[tuple[int, int], list[tuple[float, float, object]]] = defaultdict(list)

    def key(self, lat: float, lng: float) -> tuple[int, int]:
        return int(lat // self.dlat), int(lng // self.dlng)

    def add(self, lat: float, lng: float, item) -> None:
        self.cells[(int(lat // self.dlat), int(lng // self.dlng))].append((lat, lng, item))

    def block(self, lat: float, lng: float) -> list[list[tuple[float, float, object]]]:
        """The non-empty cells around a point, its own cell first."""
        i, j = int(lat // self.dlat), int(lng // self.dlng)
        cells = self.cells
        return [c for c in (cells.get((i + di, j + dj)) for di, dj in self.ORDER) if c]

    def scan(self, lat: float, lng: float, block, first: bool) -> list[tuple[object, float]]:
        r, box_lat, box_lng, out = self.radius_m, self.box_lat, self.box_lng, []
        for cell in block:
            for p_lat, p_lng, item in cell:
                # A cheap box test first: most points in the block are outside the circle.
                if -box_lat <= p_lat - lat <= box_lat and -box_lng <= p_lng - lng <= box_lng:
                    d = haversine_m(lat, lng, p_lat, p_lng)
                    if d <= r:
                        out.append((item, d))
                        if first:
                            return out
        return out

    def within(self, lat: float, lng: float) -> list[tuple[object, float]]:
        """(item, metres) for every item within the radius."""
        return self.scan(lat, lng, self.block(lat, lng), False)


class SceneIndex:
    """Facilities in one set of cells sized by the largest radius, listed per scene inside
    each cell: one cell lookup per facility to build and one 3×3 block per grid to query.
    Written as plain loops over tuples: this is where a district-wide recompute spends its
    time."""

    def __init__(self, norms: Norms, max_abs_lat: float) -> None:
        self.radius = {sc: norms.radius(sc) for sc in SCENE_CODES}
        self.buckets = Buckets(max(self.radius.values()), max_abs_lat)
        cos = self.buckets.dlat / self.buckets.dlng
        self.boxes = [(sc, r, r / M_PER_DEG_LAT * 1.01, r / M_PER_DEG_LAT * 1.01 / cos)
                      for sc, r in self.radius.items()]

    def add_all(self, facilities: Iterable[FacilityIn]) -> None:
        b = self.buckets
        cells, dlat, dlng, radius = b.cells, b.dlat, b.dlng, self.radius
        for f in facilities:
            key = (int(f.lat // dlat), int(f.lng // dlng))
            cell = cells.get(key)
            if cell is None:
                cell = cells[key] = {}
            item = (f.lat, f.lng, f)
            for sc in f.scenes:
                if sc in radius:
                    lst = cell.get(sc)
                    if lst is None:
                        cell[sc] = [item]
                    else:
                        lst.append(item)

    def covered(self, lat: float, lng: float) -> dict[str, tuple[str, float]]:
        """Scene → (id, metres) of some facility within the scene's radius."""
        out: dict[str, tuple[str, float]] = {}
        block = self.buckets.block(lat, lng)
        if not block:
            return out
        for sc, r, box_lat, box_lng in self.boxes:
            for cell in block:
                lst = cell.get(sc)
                if lst is None:
                    continue
                for p_lat, p_lng, f in lst:
                    if -box_lat <= p_lat - lat <= box_lat and -box_lng <= p_lng - lng <= box_lng:
                        d = haversine_m(lat, lng, p_lat, p_lng)
                        if d <= r:
                            out[sc] = (f.id, d)
                            break
                if sc in out:
                    break
        return out

    def within(self, lat: float, lng: float, scene: str) -> list[tuple[object, float]]:
        r = self.radius.get(scene)
        if r is None:
            return []
        out = []
        for cell in self.buckets.block(lat, lng):
            for p_lat, p_lng, f in cell.get(scene, ()):
                d = haversine_m(lat, lng, p_lat, p_lng)
                if d <= r:
                    out.append((f, d))
        return out
