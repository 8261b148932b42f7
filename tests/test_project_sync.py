"""The project pipeline through the registry, over real HTTP on SQLite and PostgreSQL: the
registry checks the stage rules itself, and an opening makes exactly one facility however
often it is sent (tests/test_project_laptops.py: the same between two laptops)."""

from __future__ import annotations

import uuid

from fieldapp.domain import project as P
from tests.server_support import (
    GRID,
    mutation,
    pull_all,
    push,
    registry,  # noqa: F401  (fixture)
    site,
)

READY = {**{f"jr_{d}_result": "pass" for d in ("fagai", "planning", "housing", "fire")},
         "owner_consent": "agreed", "authority_consent": "agreed"}


def approved(boss, fields: dict | None = None) -> tuple[str, int]:
    rid = str(uuid.uuid4())
    [created] = push(boss, mutation(fields=site(**READY, **(fields or {})), record_id=rid))
    assert created["outcome"] == "applied", created
    [sub] = push(boss, mutation("update", {"status": "submitted"}, rid, created["version"]))
    [ok] = push(boss, mutation("update", {"status": "approved"}, rid, sub["version"]))
    assert ok["outcome"] == "applied", ok
    return rid, ok["version"]


def step(boss, rid: str, version: int, fields: dict) -> dict:
    [result] = push(boss, mutation("update", fields, rid, version))
    return result


def facilities_of(c, rid: str) -> list[dict]:
    changes, _ = pull_all(c)
    return [ch["record"] for ch in changes if ch["record"] and ch["record"]["kind"] == "facility"
            and ch["record"]["data"].get("site_id") == rid]


def test_registry_enforces_stage_rules(registry):
    boss = registry.user("lisupervisor", "supervisor")
    worker = registry.user("wangfang")
    rid, v = approved(boss)
    # A worker may not move a project, even with a modified client.
    refused = step(worker, rid, v, {"project_stage": "selected",
                                    "project_selected_on": "2025-03-01"})
    assert refused["outcome"] == "rejected" and "only a supervisor" in refused["reason"]["message"]
    # No conversion before the joint review passed: the dates of the stages between are missing.
    refused = step(boss, rid, v, {"project_stage": "converting",
                                  "project_selected_on": "2025-03-01",
                                  "project_converting_on": "2025-03-02"})
    assert refused["outcome"] == "rejected"
    fields = {e["field"] for e in refused["reason"]["errors"]}
    assert {"project_reviewing_on", "project_passed_on"} <= fields
    # Not approved: a draft site never enters the pipeline.
    draft = str(uuid.uuid4())
    [made] = push(boss, mutation(fields=site(**READY), record_id=draft))
    refused = step(boss, draft, made["version"], {"project_stage": "selected",
                                                  "project_selected_on": "2025-03-01"})
    assert "only an approved site" in refused["reason"]["message"]
    # Opening without an operator.
    dates = {P.date_field(s): f"2025-0{i + 1}-01" for i, s in enumerate(P.PIPELINE)}
    refused = step(boss, rid, v, {"project_stage": "opened", **dates})
    assert refused["outcome"] == "rejected"
    assert "project_operator" in {e["field"] for e in refused["reason"]["errors"]}
    # A facility's link to a site is the opening's to make, never a client's.
    [fake] = push(boss, mutation(fields={"name": "冒充", "grid_code": GRID, "address": "x路1号",
                                         "facility_kind": "single", "functions": ["meal"],
                                         "building_area": 50, "site_id": rid},
                                 record_id=P.facility_id_for(rid), kind="facility"))
    assert fake["outcome"] == "rejected" and "site link" in fake["reason"]["message"]
    # A facility id on the site other than the derived one.
    refused = step(boss, rid, v, {"project_stage": "selected", "project_selected_on": "2025-01-01",
                                  "facility_id": str(uuid.uuid4())})
    assert refused["outcome"] == "rejected"


def test_opening_creates_exactly_one_facility_even_with_resends(registry):
    boss = registry.user("lisupervisor", "supervisor")
    other = registry.user("zhaoqiang", "supervisor", device_id="dev-second")
    rid, v = approved(boss, {"lat": 31.2051, "lng": 121.4432})
    for i, stage in enumerate(P.PIPELINE[:-1]):
        result = step(boss, rid, v, {"project_stage": stage,
                                     P.date_field(stage): f"2025-0{i + 1}-01"})
        assert result["outcome"] == "applied", result
        v = result["version"]
    opening = mutation("update", {"project_stage": "opened", "project_opened_on": "2025-07-01",
                                  "project_operator": "上海福苑养老服务有限公司",
                                  "project_operating_mode": "commissioned",
                                  "planned_functions": ["elderly", "meal"]}, rid, v)
    [first] = push(boss, opening)
    assert first["outcome"] == "applied", first
    assert first["record"]["data"]["facility_id"] == P.facility_id_for(rid)
    [again] = push(boss, opening)  # the answer was lost: the same batch again
    assert again["outcome"] == "already_applied"
    # Another laptop sends its own opening edit on top: still the one facility.
    [late] = push(other, mutation("update", {"project_operator": "上海福苑养老服务中心"}, rid,
                                  first["version"]))
    assert late["outcome"] == "applied", late
    made = facilities_of(boss, rid)
    assert len(made) == 1
    facility = made[0]
    assert facility["id"] == P.facility_id_for(rid) and facility["status"] == "approved"
    data = facility["data"]
    assert data["address"] == "天平路100号" and data["grid_code"] == GRID
    assert data["lat"] == 31.2051 and data["opened_on"] == "2025-07-01"
    assert data["functions"] == ["elderly", "meal"] and data["building_area"] == 120
    assert data["operator"] == "上海福苑养老服务有限公司"
    # An opening cannot be undone.
    refused = step(boss, rid, late["version"], {"project_stage": "built",
                                                "project_opened_on": None})
    assert refused["outcome"] == "rejected"
