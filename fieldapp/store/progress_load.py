"""Loading the pilot communities' progress from the local store (fieldapp/domain/progress.py
computes it): areas with their pilot flag and annual target, the sites of pilot communities in
the user's scope, and the coverage of their grids with and without the facilities the project
pipeline opened."""

from __future__ import annotations

import json
from datetime import date

from fieldapp.domain.coverage import SCENE_CODES, analyse
from fieldapp.domain.progress import AreaIn, Progress, SiteFacts, compute
from fieldapp.store.coverage_load import load_inputs, load_norms
from fieldapp.store.records import RecordStore
from fieldapp.store.scope import user_scope


def load_progress(store: RecordStore, area: str | None = None, year: int | None = None,
                  all_local: bool = False) -> Progress:
    """Progress of the pilot communities at or below `area` (every one when None) in the
    user's scope, for `year` (default this year)."""
    year = year or date.today().year
    rows = store.conn.execute(
        "SELECT code, name, level, parent_code, pilot, annual_target FROM area").fetchall()
    parent_of = {r[0]: r[3] for r in rows}

    def inside(code: str) -> bool:
        for _ in range(10):  # a cycle in bad reference data must not hang
            if code == area:
                return True
            code = parent_of.get(code) or ""
        return False

    flagged = {r[0] for r in rows if r[4]}

    def pilot(code: str) -> bool:
        """`admin set-pilot` takes a street too: its communities are then the pilots (a
        street's flag alone counted nothing)."""
        for _ in range(10):
            if code in flagged:
                return True
            code = parent_of.get(code) or ""
        return False

    scope = user_scope(store, all_local=all_local).grids
    # Pilot communities outside the user's areas are not listed (the scope rule): a
    # supervisor of 徐汇 saw every 黄浦 community at 0 found, 0 opened, and the plan summed them.
    seen = None if scope is None else {parent_of.get(g) for g in scope}
    wanted = [(code, name, level, parent,
               (pilot(code) if level == "community" else bool(flag))
               and (area is None or inside(code)), target)
              for code, name, level, parent, flag, target in rows]
    areas = [AreaIn(code, name, level, parent,
                    is_pilot and (seen is None or level != "community" or code in seen), target)
             for code, name, level, parent, is_pilot, target in wanted]
    hidden = sum(1 for (_, _, level, _, is_pilot, _), a in zip(wanted, areas, strict=True)
                 if level == "community" and is_pilot and not a.pilot)
    pilots = {a.code for a in areas if a.pilot and a.level == "community"}
    grids = {a.code for a in areas if a.level == "grid" and a.parent_code in pilots}
    if scope is not None:
        grids &= scope
    # A pilot community outside the scope shows nothing of its grids.
    areas = [a if a.level != "grid" or a.code in grids else
             AreaIn(a.code, a.name, a.level, None) for a in areas]
    sites = []
    if grids:
        rows = store.conn.execute(
            "SELECT grid_code, data FROM record WHERE kind = 'site' AND deleted = 0 "
            "AND grid_code IN (SELECT value FROM json_each(?))", (json.dumps(sorted(grids)),))
        sites = [SiteFacts(grid, json.loads(data)) for grid, data in rows]
    progress = compute(areas, sites, _covered(store, grids), len(SCENE_CODES), year)
    progress.hidden = hidden
    return progress


def _covered(store: RecordStore, grids: set[str]) -> dict[str, tuple[int, int]]:
    """grid → (scenes covered without the pipeline's facilities, scenes covered with them)."""
    if not grids:
        return {}
    norms = load_norms(store)
    reach = max([norms.life_circle_m, *norms.radius_m.values()])
    inputs = load_inputs(store, None, reach, frozenset(grids))
    opened = {row[0] for row in store.conn.execute(
        "SELECT id FROM record WHERE kind = 'facility' AND deleted = 0 "
        "AND json_extract(data, '$.site_id') IS NOT NULL")}
    after = analyse(inputs.grids, inputs.facilities, inputs.sites, norms, inputs.names)
    before = analyse(inputs.grids, [f for f in inputs.facilities if f.id not in opened],
                     inputs.sites, norms, inputs.names)
    counts = {g.grid.code: [len(g.covered), 0] for g in before.grids}
    for g in after.grids:
        counts.setdefault(g.grid.code, [0, 0])[1] = len(g.covered)
    return {code: (b, a) for code, (b, a) in counts.items()}
