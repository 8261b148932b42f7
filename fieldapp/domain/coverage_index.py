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
    """Facilities bucketed per walking radius: scenes sharing a radius share one set of cells
    about that radius wide, with a list per scene inside each cell. Finding the nearest
    facility of a scene visits the 3×3 block around a point nearest cell first and stops at
    the first cell that cannot hold anything nearer. Written as plain loops over tuples:
    this is where a district-wide recompute spends its time."""

    def __init__(self, norms: Norms, max_abs_lat: float) -> None:
        self.radius = {sc: norms.radius(sc) for sc in SCENE_CODES}
        self.groups: list[tuple[Buckets, list[tuple[str, float, float]]]] = []
        for r in sorted(set(self.radius.values())):
            buckets = Buckets(r, max_abs_lat)
            scenes = [(sc, r, (r * 1.001 / M_PER_DEG_LAT) ** 2)
                      for sc, radius in self.radius.items() if radius == r]
            self.groups.append((buckets, scenes))
        self.group_of = {sc: b for b, scenes in self.groups for sc, _r, _b in scenes}

    def add_all(self, facilities: Iterable[FacilityIn]) -> None:
        radius = self.radius
        for b, _scenes in self.groups:
            cells, dlat, dlng, r = b.cells, b.dlat, b.dlng, b.radius_m
            for f in facilities:
                wanted = [sc for sc in f.scenes if radius.get(sc) == r]
                if not wanted:
                    continue
                key = (int(f.lat // dlat), int(f.lng // dlng))
                cell = cells.get(key)
                if cell is None:
                    cell = cells[key] = {}
                item = (f.lat, f.lng, f)
                for sc in wanted:
                    lst = cell.get(sc)
                    if lst is None:
                        cell[sc] = [item]
                    else:
                        lst.append(item)

    def covered(self, lat: float, lng: float) -> dict[str, tuple[str, float]]:
        """Scene → (id, metres) of the nearest facility within the scene's radius.

        Candidates are ranked by a flat-earth distance (exact to centimetres at these radii,
        and cheap); the winner is measured with haversine.
        """
        out: dict[str, tuple[str, float]] = {}
        kx = math.cos(math.radians(lat))
        for b, scenes in self.groups:
            dlat, dlng, cells = b.dlat, b.dlng, b.cells
            i, j = int(lat // dlat), int(lng // dlng)
            near = []  # (lower bound of the squared distance to the cell, cell)
            for di, dj in Buckets.ORDER:
                cell = cells.get((i + di, j + dj))
                if not cell:
                    continue
                gy = 0.0 if di == 0 else (lat - i * dlat if di < 0 else (i + 1) * dlat - lat)
                gx = 0.0 if dj == 0 else (lng - j * dlng if dj < 0 else (j + 1) * dlng - lng) * kx
                near.append((gy * gy + gx * gx, cell))
            if not near:
                continue
            near.sort(key=lambda pair: pair[0])
            for sc, r, limit in scenes:
                best, best_f = limit, None
                for bound, cell in near:
                    if bound > best:
                        break
                    lst = cell.get(sc)
                    if lst is None:
                        continue
                    for p_lat, p_lng, f in lst:
                        dy = p_lat - lat
                        dx = (p_lng - lng) * kx
                        d2 = dx * dx + dy * dy
                        # Ties go to the smaller id: the answer never depends on load order.
                        if d2 < best or (d2 == best and best_f is not None and f.id < best_f.id):
                            best, best_f = d2, f
                if best_f is not None:
                    d = haversine_m(lat, lng, best_f.lat, best_f.lng)
                    if d <= r:
                        out[sc] = (best_f.id, d)
        return out

    def within(self, lat: float, lng: float, scene: str) -> list[tuple[object, float]]:
        r = self.radius.get(scene)
        if r is None:
            return []
        out = []
        for cell in self.group_of[scene].block(lat, lng):
            for p_lat, p_lng, f in cell.get(scene, ()):
                d = haversine_m(lat, lng, p_lat, p_lng)
                if d <= r:
                    out.append((f, d))
        return out
