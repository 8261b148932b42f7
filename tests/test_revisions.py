"""Revisions of approved records: the rule (fieldapp/domain/revision.py), the laptop's store,
and the registry over real HTTP (SQLite and PostgreSQL): a revision is reviewed again, and
until then every report and export of approved records reads the last approved values, on
this laptop and on every other after sync."""

from __future__ import annotations

import csv
import uuid

import pytest

from fieldapp.domain.revision import (
    is_revision,
    revised_fields,
    snapshot_after,
    status_after_edit,
)
from fieldapp.domain.workflow import TransitionError, check_transition
from fieldapp.io.exporter import export_records, iter_records
from fieldapp.io.reports import three_list_rows
from fieldapp.store.coverage_load import load_inputs
from fieldapp.store.review import approve, queue, reopen, send_back
from tests.conftest import GRID, complete_site
from tests.sync_helpers import laptops, registry  # noqa: F401  (fixtures)

APPROVED = complete_site()
STREET = GRID[:9]


# -- the rule ----------------------------------------------------------------------------------
def test_an_approved_record_edited_goes_back_to_the_queue_as_a_revision():
    assert status_after_edit("approved", "approved", {"owner_phone"}) == "submitted"
    assert status_after_edit("approved", "draft", {"owner_phone"}) == "submitted"
    # The joint-review step is not a revision: the status stays.
    assert status_after_edit("approved", "approved", {"jr_fire_result"}) == "approved"
    assert status_after_edit("submitted", "submitted", {"jr_fire_result"}) == "submitted"
    assert status_after_edit("returned", "submitted", {"owner_phone"}) == "submitted"
    assert is_revision("approved", "submitted", {"owner_phone", "status"})
    assert not is_revision("approved", "submitted", {"status"})  # an undone approval
    # Anyone who may edit may revise; only a supervisor undoes an approval.
    check_transition("approved", "submitted", "worker", revision=True)
    with pytest.raises(TransitionError) as refused:
        check_transition("approved", "submitted", "worker")
    assert "网格员" in refused.value.zh and "「已通过」" in refused.value.zh
    assert "worker" not in refused.value.zh and "approved" not in refused.value.zh
    assert "a grid worker cannot" in refused.value.en


def test_the_approved_values_follow_approvals_not_revisions():
    old = {**APPROVED, "owner_phone": "13800000000"}
    new = {**old, "owner_phone": "13911111111"}
    kept = snapshot_after("approved", "submitted", None, old, new, {"owner_phone"})
    assert kept == old  # a revision keeps what was approved
    assert snapshot_after("submitted", "returned", kept, new, new, {"status"}) == old
    assert snapshot_after("submitted", "approved", kept, new, new, {"status"}) == new
    # A joint-review result saved during the revision is the supervisor's, shown at once.
    jr = {**new, "jr_fire_result": "pass"}
    assert snapshot_after("submitted", "submitted", kept, new, jr,
                          {"jr_fire_result"})["jr_fire_result"] == "pass"
    # An approval undone (no change of content) leaves the approved lists.
    assert snapshot_after("approved", "submitted", old, old, old, {"status"}) is None
    assert snapshot_after("approved", "returned", old, old, old, {"status"}) is None
    assert revised_fields(old, jr) == ["owner_phone"]
    assert revised_fields(None, new) == []


# -- the laptop --------------------------------------------------------------------------------
def _approved_site(store, **overrides):
    store.role = "supervisor"
    site = store.save("site", complete_site(**overrides), status="submitted")
    approve(store, [site.id])
    return store.get(site.id)


def _exported(store, path) -> list[dict]:
    export_records(store, path, kinds=["site"], status="approved", all_local=True)
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def test_a_worker_revises_an_approved_site_and_reports_keep_the_approved_values(store,
                                                                                tmp_path):
    site = _approved_site(store, owner_phone="13800000000")
    assert site.approved == site.data
    store.role = "worker"
    revised = store.save("site", {"owner_phone": "13911111111", "usable_area": 80},
                         record_id=site.id, status="draft")  # either save key
    assert revised.status == "submitted" and revised.approved["owner_phone"] == "13800000000"
    assert [r.id for r in queue(store)] == [site.id]
    assert revised_fields(revised.approved, revised.data) == ["usable_area", "owner_phone"]
    # Every view of approved records reads the approved values.
    [row] = _exported(store, tmp_path / "a.csv")
    assert "13800000000" in row.values() and "13911111111" not in row.values()
    [view] = list(iter_records(store, "site", status="approved", all_local=True))
    assert view.status == "approved" and view.data["usable_area"] == 120
    lists, _ = three_list_rows(store, STREET, {GRID})
    [_, resource] = lists["资源清单"]
    assert "13911111111" not in resource and 120 in resource and 80 not in resource
    [found] = [s for s in load_inputs(store.conn, None, 1000).sites if s.id == site.id]
    assert found.status == "approved" and found.usable_area == 120
    # Returning the revision keeps the approved values; history shows both steps.
    store.role = "supervisor"
    send_back(store, site.id, "面积请核实")
    back = store.get(site.id)
    assert back.status == "returned" and back.approved["usable_area"] == 120
    assert ["13800000000" in r.values() for r in _exported(store, tmp_path / "b.csv")] == [True]
    actions = [h["action"] for h in store.history(site.id)]
    assert actions[-2:] == ["revised", "returned"]
    # Fixed, resubmitted and approved: now the new values are the approved ones.
    store.role = "worker"
    store.save("site", {"usable_area": 85}, record_id=site.id, status="submitted")
    store.role = "supervisor"
    approve(store, [site.id])
    done = store.get(site.id)
    assert done.approved == done.data and done.approved["usable_area"] == 85
    [row] = _exported(store, tmp_path / "c.csv")
    assert "13911111111" in row.values()


def test_undoing_an_approval_takes_the_record_out_of_the_approved_lists(store):
    site = _approved_site(store)
    reopen(store, [site.id])
    assert store.get(site.id).approved is None
    assert list(iter_records(store, "site", status="approved", all_local=True)) == []


def test_a_joint_review_save_keeps_status_and_queue_place(store):
    store.role = "supervisor"
    first = store.save("site", complete_site(), status="submitted")
    second = store.save("site", complete_site(address="天平路102号"), status="submitted")
    assert [r.id for r in queue(store)] == [first.id, second.id]
    saved = store.save("site", {"jr_fire_result": "pass"}, record_id=first.id)
    assert saved.status == "submitted"
    assert [r.id for r in queue(store)] == [first.id, second.id]
    approved = _approved_site(store, address="天平路104号")
    after = store.save("site", {"jr_planning_result": "conditional",
                                "jr_planning_conditions": "增设无障碍坡道"}, record_id=approved.id)
    assert after.status == "approved" and after.approved["jr_planning_result"] == "conditional"


# -- the registry, over HTTP, and another laptop -----------------------------------------------
def synced(*laptops_) -> None:
    for _ in range(2):
        for laptop in laptops_:
            assert not laptop.sync().errors


def test_a_revision_never_reaches_approved_exports_on_another_laptop(registry, laptops,
                                                                     tmp_path):
    worker = laptops("worker")
    boss = laptops("boss", user="lisupervisor", role="supervisor", scopes="310104")
    office = laptops("office", user="zhaostreet", role="supervisor", scopes="310104")
    synced(worker, boss, office)
    site = worker.store.save("site", complete_site(owner_phone="13800000000"),
                             status="submitted")
    synced(worker, boss)
    approve(boss.store, [site.id])
    synced(boss, worker, office)
    assert office.store.get(site.id).approved["owner_phone"] == "13800000000"

    # The worker corrects the phone number of the approved site: a revision.
    revised = worker.store.save("site", {"owner_phone": "13911111111"}, record_id=site.id)
    assert revised.status == "submitted"
    synced(worker, boss, office)
    server = registry.records()[site.id]
    assert server["status"] == "submitted" and server["data"]["owner_phone"] == "13911111111"
    here = office.store.get(site.id)
    assert here.status == "submitted" and here.data["owner_phone"] == "13911111111"
    assert here.approved["owner_phone"] == "13800000000"
    [row] = _exported(office.store, tmp_path / "office.csv")
    assert "13800000000" in row.values() and "13911111111" not in row.values()
    assert [r.id for r in queue(boss.store)] == [site.id]
    history = [h["action"] for h in office.store.history(site.id)]
    assert "revise" in history and "approve" in history

    # Returned: still the approved values everywhere; approved: the new ones.
    send_back(boss.store, site.id, "请核实电话")
    synced(boss, office)
    assert office.store.get(site.id).approved["owner_phone"] == "13800000000"
    worker.sync()
    worker.store.save("site", {}, record_id=site.id, status="submitted")
    synced(worker, boss)
    approve(boss.store, [site.id])
    synced(boss, office)
    [row] = _exported(office.store, tmp_path / "office2.csv")
    assert "13911111111" in row.values()


def test_the_registry_makes_a_revision_of_a_content_change_sent_as_approved(registry,
                                                                            laptops):
    """A modified client that keeps an approved record approved while changing it: the
    registry decides the status by the same rule and tells the laptop."""
    worker = laptops("worker")
    boss = laptops("boss", user="lisupervisor", role="supervisor", scopes="310104")
    synced(worker, boss)
    site = worker.store.save("site", complete_site(), status="submitted")
    synced(worker, boss)
    approve(boss.store, [site.id])
    synced(boss, worker)
    # Without a change of content a worker cannot take the approval back.
    [refused] = worker.engine.client.push([{
        "mutation_id": str(uuid.uuid4()), "record_id": site.id, "kind": "site",
        "op": "update", "base_version": 2, "fields": {"status": "submitted"}}])
    assert refused.outcome == "rejected" and refused.reason.code == "workflow"
    assert "网格员" in refused.reason.message_zh and "submitted" not in refused.reason.message_zh
    [answer] = worker.engine.client.push([{
        "mutation_id": str(uuid.uuid4()), "record_id": site.id, "kind": "site",
        "op": "update", "base_version": 2, "fields": {"usable_area": 99, "status": "approved"}}])
    assert answer.outcome == "applied" and answer.record.status == "submitted"
    assert answer.record.approved["usable_area"] == 120
    assert registry.records()[site.id]["status"] == "submitted"


def test_a_joint_review_save_is_no_resubmission_on_the_registry(registry, laptops):
    """The joint review travels as its fields only: an approved site stays approved on every
    laptop, a submitted one keeps its place in the queue, and a worker's revision made at
    the same time meets no conflict. A worker cannot write it (the registry refuses)."""
    from fieldapp.store.review import save_joint_review

    worker = laptops("worker")
    boss = laptops("boss", user="lisupervisor", role="supervisor", scopes="310104")
    office = laptops("office", user="zhaostreet", role="supervisor", scopes="310104")
    synced(worker, boss, office)
    first = worker.store.save("site", complete_site(), status="submitted")
    second = worker.store.save("site", complete_site(address="天平路102号"), status="submitted")
    approved = worker.store.save("site", complete_site(address="天平路104号"),
                                 status="submitted")
    synced(worker, boss)
    approve(boss.store, [approved.id])
    synced(boss, worker, office)

    save_joint_review(boss.store, first.id, {"jr_fire_result": "pass"})
    save_joint_review(boss.store, approved.id, {"jr_planning_result": "conditional",
                                                "jr_planning_conditions": "增设无障碍坡道"})
    worker.store.save("site", {"owner_phone": "13911111111"}, record_id=approved.id)
    synced(boss, worker, office)
    assert not boss.store.conn.execute("SELECT count(*) FROM conflict").fetchone()[0]
    assert [r.id for r in queue(office.store)] == [first.id, second.id, approved.id]
    server = registry.records()
    assert server[first.id]["status"] == "submitted"
    # The worker's phone correction is the revision; the joint review rides along, approved.
    here = office.store.get(approved.id)
    assert here.status == "submitted" and here.data["owner_phone"] == "13911111111"
    assert here.approved["jr_planning_result"] == "conditional"
    assert "owner_phone" not in here.approved
    history = [h["action"] for h in office.store.history(approved.id)]
    assert history == ["create", "approve", "update", "revise"]  # the review is no step

    # A worker cannot write it, even with a modified client: the registry refuses.
    [refused] = worker.engine.client.push([{
        "mutation_id": str(uuid.uuid4()), "record_id": first.id, "kind": "site",
        "op": "update", "base_version": server[first.id]["version"],
        "fields": {"jr_fire_result": "fail"}}])
    assert refused.outcome == "rejected"
    assert refused.reason.errors[0].field == "jr_fire_result"
    assert registry.records()[first.id]["data"]["jr_fire_result"] == "pass"


def test_the_registry_refuses_ready_for_conversion_without_both_consents(registry, laptops):
    """The consent rule of the form and the importer (joint_review.ready_problems) holds on
    the registry too, for a modified client that skips the laptop's check."""
    worker = laptops("worker")
    boss = laptops("boss", user="lisupervisor", role="supervisor", scopes="310104")
    synced(worker, boss)
    site = worker.store.save("site", complete_site(owner_consent="refused",
                                                   authority_consent="negotiating"),
                             status="submitted")
    synced(worker, boss)
    passed = {f"jr_{d}_result": "pass" for d in ("fagai", "planning", "housing", "fire")}
    [answer] = boss.engine.client.push([{
        "mutation_id": str(uuid.uuid4()), "record_id": site.id, "kind": "site",
        "op": "update", "base_version": 1, "fields": {**passed, "conversion_ready": True}}])
    assert answer.outcome == "rejected" and answer.reason.code == "invalid"
    zh = " ".join(e.zh for e in answer.reason.errors)
    en = " ".join(e.en for e in answer.reason.errors)
    assert "权属方尚未同意(现为「不同意」)" in zh and "行业主管部门尚未同意(现为「协商中」)" in zh
    assert "the owner has not agreed (now: refused)" in en and "sector authority" in en
    assert "conversion_ready" not in registry.records()[site.id]["data"]


def test_an_imported_correction_of_an_approved_site_is_a_revision(store, tmp_path):
    """A worker's spreadsheet round trip (export, correct, import) revises an approved site
    as the form does, instead of being refused; approved exports keep the old values."""
    from fieldapp.io.importer import import_file

    site = _approved_site(store)
    store.role = "worker"
    path = tmp_path / "sites.csv"
    export_records(store, path, kinds=["site"], all_local=True)
    with open(path, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    column = rows[0].index("可用面积(㎡)") if "可用面积(㎡)" in rows[0] else next(
        i for i, h in enumerate(rows[0]) if h.startswith("可用面积"))
    rows[1][column] = "88"
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        csv.writer(f).writerows(rows)
    report = import_file(store, path)
    assert (report.updated, report.rejected) == (1, 0), report.errors
    revised = store.get(site.id)
    assert revised.status == "submitted" and revised.data["usable_area"] == 88
    [row] = _exported(store, tmp_path / "approved.csv")
    assert row[rows[0][column]] == "120"


def test_cli_edit_of_an_approved_site_says_it_is_a_revision(store, tmp_path, capsys):
    import json

    from fieldapp.cli import main

    site = _approved_site(store)
    store.set_setting("current_user", "wangfang")
    store.set_setting("role:wangfang", "worker")
    home = ["--data-dir", str(tmp_path)]
    assert main([*home, "edit", site.id[:8], "联系电话=13911112222", "--json"]) == 0
    out = capsys.readouterr()
    shown = json.loads(out.out)
    assert shown["status"] == "submitted" and shown["revised_fields"] == ["owner_phone"]
    assert "修订待审核" in out.err and "a revision to review" in out.err


def test_an_approved_record_without_a_snapshot_still_counts_as_approved(store):
    """A row written approved by a path that gave no snapshot (a facility an opening
    created, an older copy) is read at its own values."""
    site = _approved_site(store)
    store.conn.execute("UPDATE record SET approved_data = NULL WHERE id = ?", (site.id,))
    [view] = list(iter_records(store, "site", status="approved", all_local=True))
    assert view.id == site.id and view.data["usable_area"] == 120
    again = store.save("site", {"jr_fire_result": "pass"}, record_id=site.id)
    assert again.status == "approved" and again.approved == again.data
