"""The project pipeline on the laptop: moving a site's project to a stage, the facility its
opening creates, and the list of projects (fieldapp/domain/project.py owns the rules).

Moving a project is a save of the site like any other (validated, in the outbox, in history);
the registry checks the same rules. The facility an opening creates is the registry's to make
(it builds it from the opened site, with the derived id, so resends never make two): the
laptop writes its own copy with that id and no outbox entry, so coverage and lists count it at
once, and the registry's copy replaces it at the next sync.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

from fieldapp.domain import project as P
from fieldapp.domain.records import FIELD_INDEX, title_of
from fieldapp.domain.revision import content_fields
from fieldapp.domain.validation import FieldError, forbidden_fields
from fieldapp.store.db import transaction
from fieldapp.store.records import Record, RecordStore, ValidationFailed, utcnow
from fieldapp.store.scope import user_scope


@dataclass
class Moved:
    site: Record
    facility: Record | None  # the facility the opening created (None for any other stage)


def advance(store: RecordStore, site_id: str, stage: str, on: date | str | None = None,
            changes: dict | None = None) -> Moved:
    """Move the site's project to `stage` (on `on`, default today) with `changes` to other
    fields; raises ValidationFailed with every rule broken, TransitionError for a role that
    may not. Opening also creates the facility."""
    site = store.get(site_id)
    if site is None:
        raise ValidationFailed([FieldError("project_stage", "找不到该存量资源",
                                           "no such site on this laptop")])
    if site.kind != "site":  # an existing facility is not "no such site"
        raise ValidationFailed([FieldError("project_stage",
                                           "项目只针对存量资源,这是一条设施或巡查记录",
                                           "a project is for sites only: this is a facility "
                                           "or an inspection")])
    changes = dict(changes or {})
    denied = forbidden_fields("site", ["project_stage", *changes], store.role)
    if denied:
        raise ValidationFailed(denied)
    surveyed = content_fields(changes)
    if surveyed:
        # A change of the survey's content would make the site a revision, back in the
        # queue and out of the pipeline, while the command said the project moved on.
        raise ValidationFailed([FieldError(
            name, f"推进项目不修改调查内容:{_label(name)} 请用 fieldapp edit 修改"
                  "(作为修订重新送审)",
            f"moving a project does not change the surveyed content: change {_label(name, 'en')} "
            "with fieldapp edit (a revision, reviewed again)") for name in sorted(surveyed)])
    problems = P.stage_change_problems(site.data, {"project_stage": stage}, site.status)
    if problems:
        raise ValidationFailed([FieldError(*p) for p in problems])
    if stage == "opened":
        changes.setdefault("facility_id", P.facility_id_for(site.id))
    new = P.advance(site.data, stage, on, **changes)
    raw = {k: v for k, v in new.items() if site.data.get(k) != v}
    saved = store.save("site", raw, record_id=site.id)
    facility = open_facility(store, saved) if saved.data.get("project_stage") == "opened" \
        else None
    return Moved(saved, facility)


def _label(name: str, lang: str = "zh") -> str:
    spec = FIELD_INDEX["site"].get(name)
    return spec.label(lang) if spec else name


def open_facility(store: RecordStore, site: Record) -> Record:
    """The facility of an opened site: the laptop's copy when it has none yet (see above)."""
    facility_id = P.facility_id_for(site.id)
    with transaction(store.conn):
        row = store.conn.execute("SELECT * FROM record WHERE id = ?", (facility_id,)).fetchone()
        if row is not None:
            return Record.from_row(row)
        from fieldapp.store.coverage_load import load_norms

        norms = load_norms(store)
        data = P.facility_for(site.id, site.data, _complex_test(norms))
        now = utcnow()
        record = Record(id=facility_id, kind="facility", status="approved", data=data,
                        grid_code=data.get("grid_code"), title=title_of("facility", data),
                        created_at=now, updated_at=now, author=store.user,
                        device_id=store.device_id)
        record.rid = store.write_row(record, None)
        store.conn.execute(
            "INSERT INTO history(record_id, at, who, device_id, action, changes, comment) "
            "VALUES (?,?,?,?,?,?,?)",
            (facility_id, now, store.user, store.device_id, "create",
             json.dumps({"site_id": [None, site.id]}), None))
        return record


def _complex_test(norms):  # noqa: ANN001, ANN202
    from fieldapp.domain.coverage import FacilityIn, passes_complex

    def test(functions: list[str], area: float | None) -> bool:
        probe = FacilityIn("", "", tuple(functions), area, "complex")
        return passes_complex(probe, norms)
    return test


@dataclass
class ProjectRow:
    id: str
    grid_code: str
    address: str
    name: str
    stage: str
    stage_on: str | None
    data: dict

    def as_json(self) -> dict:
        d = self.data
        return {"id": self.id, "grid_code": self.grid_code, "address": self.address,
                "name": self.name, "stage": self.stage, "stage_on": self.stage_on,
                "dates": {s: d.get(P.date_field(s)) for s in P.DATED_STAGES
                          if d.get(P.date_field(s))},
                "planned_functions": d.get("planned_functions") or [],
                "funding_source": d.get("funding_source") or [],
                "operator": d.get("project_operator"),
                "operating_mode": d.get("project_operating_mode"),
                "end_reason": d.get("project_end_reason"), "facility_id": d.get("facility_id")}


def projects(store: RecordStore, grids: set[str] | None = None, stage: str | None = None,
             all_local: bool = False) -> list[ProjectRow]:
    """Sites in the pipeline, in the user's scope (and in `grids` when given), by stage then
    address."""
    where = ["kind = 'site'", "deleted = 0", "json_extract(data, '$.project_stage') IS NOT NULL"]
    scope_sql, params = user_scope(store, all_local=all_local).where("grid_code")
    where.append(scope_sql)
    if grids is not None:
        where.append("grid_code IN (SELECT value FROM json_each(?))")
        params.append(json.dumps(sorted(grids)))
    if stage is not None:
        where.append("json_extract(data, '$.project_stage') = ?")
        params.append(stage)
    rows = []
    for rid, grid, data_json in store.conn.execute(
            f"SELECT id, grid_code, data FROM record WHERE {' AND '.join(where)}", params):
        data = json.loads(data_json)
        st = data["project_stage"]
        rows.append(ProjectRow(rid, grid or "", data.get("address") or "",
                               data.get("project_name") or "", st,
                               data.get(P.date_field(st)), data))
    order = {s: i for i, s in enumerate(P.DATED_STAGES)}
    rows.sort(key=lambda r: (order.get(r.stage, 99), r.grid_code, r.address))
    return rows
