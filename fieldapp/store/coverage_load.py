"""Loading coverage-analysis inputs for an area from the local store, and where its norms live.

Reads only the fields the analysis needs, straight out of the records' JSON with one
`json_extract` per row (a JSON array of the wanted paths), so a district of tens of
thousands of records loads without decoding every record's full content.
"""

from __future__ import annotations

import json
import math
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from fieldapp.domain import norms as norms_mod
from fieldapp.domain.coverage import Analysis, FacilityIn, GridIn, SiteIn, analyse

FACILITY_PATHS = ("name", "functions", "building_area", "facility_kind", "lat", "lng")
SITE_PATHS = ("address", "candidate_functions", "usable_area", "floor_from", "accessibility",
              "elevator", "owner_consent", "authority_consent", "structure_condition",
              "fire_condition", "lat", "lng")

#: How far from its grid's centre a record may lie and still be found as a neighbour.
NEIGHBOUR_SLACK_M = 3000.0

_GRIDS_BELOW = """WITH RECURSIVE sub(code, level) AS (
    SELECT code, level FROM area WHERE code = ?
    UNION ALL SELECT a.code, a.level FROM area a JOIN sub ON a.parent_code = sub.code)
  SELECT code FROM sub WHERE level = 'grid'"""


@dataclass
class CoverageInputs:
    grids: list[GridIn]
    facilities: list[FacilityIn]
    sites: list[SiteIn]
    names: dict[str, str]  # area code → name, for every area (roll-up labels)
    levels: dict[str, str]  # area code → level


def _conn(store) -> sqlite3.Connection:
    return store.conn if hasattr(store, "conn") else store


def database_file(store) -> Path | None:
    """The store's database file (None for an in-memory database)."""
    for row in _conn(store).execute("PRAGMA database_list"):
        if row[1] == "main" and row[2]:
            return Path(row[2])
    return None


def data_dir_of(store) -> Path | None:
    """The folder holding the store's database file, where its norms.toml may be."""
    path = database_file(store)
    return path.parent if path else None


def load_norms(store) -> norms_mod.Norms:
    """Norms for this store: the built-in file overridden by `<data dir>/norms.toml`."""
    return norms_mod.load(data_dir_of(store))


def load_inputs(store, area_code: str | None = None, reach_m: float = 1000.0,
                within: frozenset[str] | None = None) -> CoverageInputs:
    """Grids at or below `area_code` (every grid when None) and in `within` (the user's
    scope; None: no limit), the sites and facilities recorded in them, and those recorded
    elsewhere but within `reach_m` of those grids: a facility across the street boundary
    still serves the grids along it."""
    conn = _conn(store)
    areas = conn.execute(
        "SELECT code, name, level, parent_code, lat, lng, households FROM area").fetchall()
    names = {a[0]: a[1] for a in areas}
    levels = {a[0]: a[2] for a in areas}
    parent = {a[0]: a[3] for a in areas}
    if area_code is not None and area_code not in names:
        raise LookupError(area_code)

    def ancestor(code: str, level: str) -> str:
        seen = 0
        while code and seen < 10:  # a cycle in bad reference data must not hang the app
            if levels.get(code) == level:
                return code
            code, seen = parent.get(code) or "", seen + 1
        return ""

    wanted: set[str] | None = None
    if area_code is not None:
        wanted = {r[0] for r in conn.execute(_GRIDS_BELOW, (area_code,))}
    if within is not None:
        wanted = set(within) if wanted is None else wanted & within
    grids = [GridIn(code, name, lat, lng, households, parent_code,
                    ancestor(code, "street"), ancestor(code, "district"))
             for code, name, level, parent_code, lat, lng, households in areas
             if level == "grid" and (wanted is None or code in wanted)]

    where, params = "r.deleted = 0 AND r.kind = ?", []
    box = None
    if wanted is not None:
        # Neighbouring grids whose centre lies near the area: their records may serve its
        # grids. Choosing them by grid keeps the query on the grid index instead of reading
        # every record's coordinates; a record more than NEIGHBOUR_SLACK_M from its own
        # grid's centre is not expected.
        box = _box([(g.lat, g.lng) for g in grids if g.lat is not None and g.lng is not None],
                   reach_m)
        scope = set(wanted or ())
        if box is not None:
            outer = _box([(box[0], box[2]), (box[1], box[3])], NEIGHBOUR_SLACK_M)
            scope |= {code for code, _n, level, _p, lat, lng, _h in areas
                      if level == "grid" and lat is not None and lng is not None
                      and outer[0] <= lat <= outer[1] and outer[2] <= lng <= outer[3]}
        where += " AND r.grid_code IN (SELECT value FROM json_each(?))"
        params = [json.dumps(sorted(scope))]

    def keep(grid_code, lat, lng) -> bool:
        if wanted is None or grid_code in wanted:
            return True
        return (box is not None and lat is not None and lng is not None
                and box[0] <= lat <= box[1] and box[2] <= lng <= box[3])

    facilities: list[FacilityIn] = []
    sites: list[SiteIn] = []
    # Values come straight from validated records, so they are trusted to have the right
    # JSON types; building the objects positionally is most of the load time saved.
    for kind, paths in (("facility", FACILITY_PATHS), ("site", SITE_PATHS)):
        expr = ", ".join(f"'$.{p}'" for p in paths)
        # Without ANALYZE statistics SQLite prefers the (kind, deleted) index and reads every
        # record of the kind; for an area the grid index reads only the grids asked for.
        source = "record r INDEXED BY record_grid" if wanted is not None else "record r"
        rows = conn.execute(
            # A revision under review counts as last approved (fieldapp/domain/revision.py).
            f"SELECT r.id, CASE WHEN r.approved_data IS NULL THEN r.status ELSE 'approved' END, "
            f"r.grid_code, json_extract(coalesce(r.approved_data, r.data), {expr}) "
            f"FROM {source} WHERE {where}", [kind, *params])
        loads = json.loads
        if kind == "facility":
            for rid, status, grid_code, values in rows:
                name, functions, area, fkind, lat, lng = loads(values)
                if not keep(grid_code, lat, lng):
                    continue
                facilities.append(FacilityIn(rid, grid_code or "", tuple(functions or ()), area,
                                             fkind, lat, lng, name or "", status))
        else:
            for rid, status, grid_code, values in rows:
                (address, functions, area, floor, access, lift, owner, authority, structure,
                 fire, lat, lng) = loads(values)
                if not keep(grid_code, lat, lng):
                    continue
                sites.append(SiteIn(rid, grid_code or "", tuple(functions or ()), area,
                                    None if floor is None else int(floor), access, lift, owner,
                                    authority, structure, fire, status, lat, lng,
                                    address or ""))
    return CoverageInputs(grids, facilities, sites, names, levels)


def _box(points: list[tuple[float, float]], margin_m: float
         ) -> tuple[float, float, float, float] | None:
    """(lat min, lat max, lng min, lng max) around the points, `margin_m` wider each way."""
    if not points:
        return None
    lats, lngs = [p[0] for p in points], [p[1] for p in points]
    margin_lat = margin_m * 1.05 / 111_195.0
    margin_lng = margin_lat / math.cos(math.radians(min(89.0, max(map(abs, lats)))))
    return (min(lats) - margin_lat, max(lats) + margin_lat,
            min(lngs) - margin_lng, max(lngs) + margin_lng)


def analyse_store(store, area_code: str | None = None,
                  norms: norms_mod.Norms | None = None,
                  within: frozenset[str] | None = None) -> Analysis:
    """Coverage of the grids at or below `area_code` that lie in `within` (the grids of the
    user's scope, `user_scope(store).grids`; None: every grid on the laptop)."""
    norms = norms or load_norms(store)
    reach = max([norms.life_circle_m, *norms.radius_m.values()])
    inputs = load_inputs(store, area_code, reach, within)
    return analyse(inputs.grids, inputs.facilities, inputs.sites, norms, inputs.names)
