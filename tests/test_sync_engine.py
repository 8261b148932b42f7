"""Sync engine against the real registry over loopback: convergence, conflicts, scope, clocks.

Tests of the registry's part run on SQLite and, when FIELDAPP_TEST_DATABASE_URL is set, on
PostgreSQL; tests of the laptop's own behaviour (`sqlite_only`) run on one backend.
"""

from __future__ import annotations

from fieldapp.store import sync_state as outbox
from fieldapp.store.records import Query
from sync import conflicts
from sync.engine import SyncReport
from tests.conftest import GRID, complete_site
from tests.sync_helpers import laptops, live, registry, sqlite_only, stale_scope  # noqa: F401

OTHER_GRID = "310104003002G01"  # same street as GRID
OTHER_STREET_GRID = "310104004001G01"  # 湖南路街道: outside a 310104003 worker's scope


def synced(*laptops_) -> None:
    """Sync every laptop twice, so each has pulled what the others pushed."""
    for _ in range(2):
        for laptop in laptops_:
            report = laptop.sync()
            assert not report.errors, report.errors


@sqlite_only
def test_first_sync_brings_areas_and_pushes_the_outbox(registry, laptops):
    a = laptops("a")
    assert not a.store.grid_exists(GRID)  # a fresh laptop knows no grids yet
    report = a.sync()
    assert report.ok, report.errors
    assert a.store.grid_exists(GRID)
    site = a.store.save("site", complete_site())
    report = a.sync()
    assert report.pushed == 1 and report.ok
    on_server = registry.records()[site.id]
    assert on_server["data"]["address"] == "天平路100号" and on_server["version"] == 1
    local = a.store.get(site.id)
    assert local.server_version == 1 and local.pending == 0
    assert a.store.pending_count() == 0
    assert a.store.setting("last_sync_at")


@sqlite_only
def test_a_push_answered_with_versions_moves_the_laptops_base(registry, laptops):
    """The registry answers `applied` with the version only when it stored the entry exactly
    as sent: the laptop then builds the new base itself (base + the entry's fields)."""
    a = laptops("a")
    a.sync()
    site = a.store.save("site", complete_site())
    a.store.save("site", {"notes": "同批次的第二次修改"}, record_id=site.id)  # folds into one
    other = a.store.save("site", complete_site(address="天平路7号"))
    assert a.sync().pushed == 2
    for record_id in (site.id, other.id):
        local = a.store.get(record_id)
        assert local.server_version == 1 and local.base_data == local.content()
        assert registry.records()[record_id]["version"] == 1
    a.store.save("site", {"usable_area": 99, "notes": None}, record_id=site.id)
    a.store.delete(other.id)
    assert a.sync().pushed == 2
    local = a.store.get(site.id)
    assert local.server_version == 2 and local.base_data == local.content()
    assert "notes" not in local.base_data and local.base_data["usable_area"] == 99
    assert registry.records()[site.id]["data"]["usable_area"] == 99
    gone = a.store.get(other.id, include_deleted=True)
    assert gone.deleted and gone.server_version == 2 and registry.records()[other.id]["deleted"]
    assert a.sync().pulled == 0  # its own changes coming back through the feed change nothing


def test_two_laptops_create_edit_delete_and_converge(registry, laptops):
    a, b = laptops("a"), laptops("b", user="zhaoli")
    synced(a, b)
    a1 = a.store.save("site", complete_site(address="天平路1号"))
    a2 = a.store.save("site", complete_site(address="天平路2号"))
    b1 = b.store.save("facility", {"name": "天平社区食堂", "grid_code": OTHER_GRID,
                                   "address": "天平路9号", "facility_kind": "single",
                                   "functions": ["meal"], "building_area": 200})
    synced(a, b)
    assert {a1.id, a2.id, b1.id} <= set(b.records())
    a.store.save("site", {"usable_area": 300}, record_id=a1.id)
    b.store.save("site", {"notes": "业主同意出租"}, record_id=a2.id)
    b.store.delete(b1.id)
    a.store.save("site", {"address": "天平路3号"}, record_id=a.store.save(
        "site", complete_site(address="天平路临时")).id)
    synced(a, b)
    server = live(registry.records())
    assert a.records() == b.records() == server
    assert b1.id not in server and server[a1.id]["data"]["usable_area"] == 300.0
    assert server[a2.id]["data"]["notes"] == "业主同意出租"
    assert len(server) == 3 and a.store.pending_count() == b.store.pending_count() == 0
    # The search index follows pulled records too.
    assert [r.id for r in b.store.query(Query(kind="site", search="出租"))] == [a2.id]
    assert not b.store.query(Query(kind="facility", search="食堂"))


def test_same_field_conflict_is_kept_and_resolved_as_an_ordinary_edit(registry, laptops):
    a, b = laptops("a"), laptops("b", user="zhaoli")
    synced(a, b)
    site = a.store.save("site", complete_site())
    synced(a, b)
    a.store.save("site", {"usable_area": 150, "notes": "A 的备注"}, record_id=site.id)
    b.store.save("site", {"usable_area": 180}, record_id=site.id)
    assert a.sync().pushed == 1
    report = b.sync()
    assert report.conflicts == 1 and report.ok
    [conflict] = conflicts.open_conflicts(b.store)
    assert conflict.fields == {"usable_area": {"mine": 180.0, "theirs": 150.0}}
    # Until resolved the laptop shows the registry's value, with the other side's merge.
    local = b.store.get(site.id)
    assert local.data["usable_area"] == 150.0 and local.data["notes"] == "A 的备注"
    assert b.store.pending_count() == 0
    conflicts.resolve(b.store, conflict.id, {"usable_area": "mine"})
    assert conflicts.open_count(b.store) == 0
    assert b.sync().pushed == 1  # based on the server's version: no second conflict
    a.sync()
    assert registry.records()[site.id]["data"]["usable_area"] == 180.0
    assert a.records() == b.records() == live(registry.records())


def test_different_fields_merge_without_conflict(registry, laptops):
    a, b = laptops("a"), laptops("b", user="zhaoli")
    synced(a, b)
    site = a.store.save("site", complete_site())
    synced(a, b)
    a.store.save("site", {"usable_area": 150}, record_id=site.id)
    b.store.save("site", {"owner_contact": "李先生"}, record_id=site.id)
    synced(a, b)
    assert conflicts.open_count(a.store) == conflicts.open_count(b.store) == 0
    merged = registry.records()[site.id]["data"]
    assert merged["usable_area"] == 150.0 and merged["owner_contact"] == "李先生"
    assert a.records() == b.records() == live(registry.records())


@sqlite_only
def test_pull_keeps_unpushed_local_fields(registry, laptops):
    a, b = laptops("a"), laptops("b", user="zhaoli")
    synced(a, b)
    site = a.store.save("site", complete_site())
    synced(a, b)
    a.store.save("site", {"usable_area": 222}, record_id=site.id)  # not pushed yet
    b.store.save("site", {"usable_area": 333, "notes": "B 改了"}, record_id=site.id)
    b.sync()
    a.engine.pull(SyncReport())
    local = a.store.get(site.id)
    assert local.data["usable_area"] == 222.0  # the unpushed edit survives the pull
    assert local.data["notes"] == "B 改了"  # the rest is taken from the registry
    assert local.pending == 1


def test_edit_against_remote_delete_keeps_the_edit_as_a_new_record(registry, laptops):
    a, b = laptops("a"), laptops("b", user="zhaoli")
    synced(a, b)
    site = a.store.save("site", complete_site())
    synced(a, b)
    a.store.delete(site.id)
    b.store.save("site", {"notes": "B 在 A 删除后修改"}, record_id=site.id)
    a.sync()
    report = b.sync()
    assert report.conflicts == 1
    [conflict] = conflicts.open_conflicts(b.store)
    assert conflict.fields["_deleted"] == {"mine": False, "theirs": True}
    assert b.store.get(site.id) is None  # the registry's delete shows until resolved
    new_id = conflicts.resolve(b.store, conflict.id, {"_deleted": "mine"})
    synced(b, a)
    server = registry.records()
    assert server[site.id]["deleted"]  # never resurrected under its old id
    assert server[new_id]["data"]["notes"] == "B 在 A 删除后修改"
    assert a.records() == b.records() == live(server)


def test_delete_against_remote_edit_is_offered_and_can_be_confirmed(registry, laptops):
    a, b = laptops("a"), laptops("b", user="zhaoli")
    synced(a, b)
    site = a.store.save("site", complete_site())
    synced(a, b)
    a.store.save("site", {"notes": "A 修改"}, record_id=site.id)
    b.store.delete(site.id)
    a.sync()
    assert b.sync().conflicts == 1
    [conflict] = conflicts.open_conflicts(b.store)
    assert conflict.fields["_deleted"] == {"mine": True, "theirs": False}
    assert b.store.get(site.id).data["notes"] == "A 修改"  # back, with the other edit
    conflicts.resolve(b.store, conflict.id, {"_deleted": "mine"})
    synced(b, a)
    assert registry.records()[site.id]["deleted"]
    assert site.id not in a.records() and site.id not in b.records()


@sqlite_only
def test_rejected_mutation_is_parked_with_reason_and_others_go_through(registry, laptops):
    a = laptops("a")
    a.sync()
    stale_scope(a.store)
    outside = a.store.save("site", complete_site(grid_code=OTHER_STREET_GRID))
    inside = a.store.save("site", complete_site(address="天平路5号"))
    report = a.sync()
    assert report.pushed == 1 and len(report.rejected) == 1 and not report.ok
    rejected = report.rejected[0]
    assert rejected["record_id"] == outside.id
    assert "范围" in rejected["reason_zh"] and "scope" in rejected["reason_en"]
    assert inside.id in registry.records() and outside.id not in registry.records()
    [parked] = outbox.entries(a.store, "parked")
    assert parked.record_id == outside.id
    assert not a.sync().rejected  # parked entries are not sent again and again
    # Editing the record (moving it into scope) sends the whole record again.
    a.store.save("site", {"grid_code": GRID}, record_id=outside.id)
    report = a.sync()
    assert report.pushed == 1 and report.ok
    assert registry.records()[outside.id]["data"]["grid_code"] == GRID
    assert not outbox.entries(a.store)


@sqlite_only
def test_discarding_a_parked_create_removes_the_record(registry, laptops):
    a = laptops("a")
    a.sync()
    stale_scope(a.store)
    outside = a.store.save("site", complete_site(grid_code=OTHER_STREET_GRID))
    a.sync()
    [parked] = outbox.entries(a.store, "parked")
    assert outbox.discard(a.store, parked.seq)
    assert a.store.get(outside.id) is None and not outbox.entries(a.store)


def test_record_moved_out_of_scope_is_evicted(registry, laptops):
    a = laptops("a")
    boss = laptops("boss", user="lisupervisor", role="supervisor", scopes="310104")
    synced(a, boss)
    site = a.store.save("site", complete_site())
    synced(a, boss)
    boss.store.save("site", {"grid_code": OTHER_STREET_GRID}, record_id=site.id)
    synced(boss, a)
    assert site.id in boss.records()
    assert a.store.get(site.id, include_deleted=True) is None  # gone from the worker's laptop
    assert not a.store.history(site.id)


def test_record_moved_out_of_scope_keeps_the_workers_unpushed_edit(registry, laptops):
    """A supervisor moves a record to another street while its worker edits it offline: the
    registry refuses the edit (out of scope), and the record that leaves the worker's scope
    stays on the laptop with the parked edit and its reason, nothing dropped unseen."""
    a = laptops("a")
    boss = laptops("boss", user="lisupervisor", role="supervisor", scopes="310104")
    synced(a, boss)
    site = a.store.save("site", complete_site())
    synced(a, boss)
    boss.store.save("site", {"grid_code": OTHER_STREET_GRID}, record_id=site.id)
    a.store.save("site", {"notes": "门口有台阶"}, record_id=site.id)  # offline, meanwhile
    synced(boss)
    report = a.sync()
    assert report.evicted == 0 and [r["record_id"] for r in report.rejected] == [site.id]
    assert a.store.get(site.id).data["notes"] == "门口有台阶"
    [parked] = outbox.entries(a.store, "parked")
    assert parked.record_id == site.id and parked.last_error["code"] == "out_of_scope"


@sqlite_only
def test_wrong_clock_changes_nothing_in_ordering(registry, laptops, monkeypatch):
    import fieldapp.store.records as records_module

    a, b = laptops("a"), laptops("b", user="zhaoli")
    synced(a, b)
    site = a.store.save("site", complete_site())
    synced(a, b)
    real = records_module.utcnow
    # Laptop A's clock is ten years ahead: its edit comes first in server order anyway.
    monkeypatch.setattr(records_module, "utcnow", lambda: "2036-01-01T00:00:00.000+00:00")
    a.store.save("site", {"notes": "A 钟快十年"}, record_id=site.id)
    monkeypatch.setattr(records_module, "utcnow", real)
    a.sync()
    b.sync()
    b.store.save("site", {"notes": "B 后改"}, record_id=site.id)
    synced(b, a)
    assert registry.records()[site.id]["data"]["notes"] == "B 后改"
    assert conflicts.open_count(a.store) == conflicts.open_count(b.store) == 0
    assert a.records() == b.records() == live(registry.records())


def test_deleted_record_is_not_resurrected_by_a_laptop_offline_for_weeks(registry, laptops):
    a, b = laptops("a"), laptops("b", user="zhaoli")
    synced(a, b)
    kept = a.store.save("site", complete_site(address="天平路7号"))
    gone = a.store.save("site", complete_site(address="天平路8号"))
    synced(a, b)
    # B goes offline for weeks, edits one record and keeps an old copy of the other.
    b.store.save("site", {"notes": "离线时修改"}, record_id=gone.id)
    a.store.delete(gone.id)
    a.store.delete(kept.id)
    for _ in range(3):
        a.sync()
    report = b.sync()
    server = registry.records()
    assert server[gone.id]["deleted"] and server[kept.id]["deleted"]
    assert kept.id not in b.records() and gone.id not in b.records()
    assert report.conflicts == 1  # the offline edit is not lost: it waits as a conflict
    [conflict] = conflicts.open_conflicts(b.store)
    assert conflict.record_id == gone.id and conflict.mine["notes"] == "离线时修改"
    conflicts.resolve(b.store, conflict.id, {"_deleted": "theirs"})
    synced(b)
    assert registry.records()[gone.id]["deleted"]
    assert b.store.conn.execute("SELECT count(*) FROM outbox").fetchone()[0] == 0


@sqlite_only
def test_review_decision_reaches_the_worker(registry, laptops):
    a = laptops("a")
    boss = laptops("boss", user="lisupervisor", role="supervisor", scopes="310104")
    synced(a, boss)
    site = a.store.save("site", complete_site(), status="submitted")
    synced(a, boss)
    boss.store.save("site", {}, record_id=site.id, status="returned", comment="请补充照片")
    synced(boss, a)
    local = a.store.get(site.id)
    assert local.status == "returned" and local.review_comment == "请补充照片"
    actions = [h["action"] for h in a.store.history(site.id)]
    assert "create" in actions and "return" in actions


@sqlite_only
def test_two_processes_never_run_a_cycle_at_once(registry, laptops):
    from fieldapp.compat.locking import FileLock

    a = laptops("a")
    lock_path = a.home / "fieldapp.sqlite3.sync-lock"
    with FileLock(lock_path) as held:  # as if `fieldapp sync` ran in another process
        assert held
        report = a.sync()
        assert report.busy and not report.ok and report.pushed == 0
    assert a.sync().ok


@sqlite_only
def test_discarding_a_parked_edit_restores_the_registry_copy(registry, laptops):
    a = laptops("a")
    a.sync()
    site = a.store.save("site", complete_site(notes="原备注"))
    a.sync()
    # Moving it to another street is refused by scope; the laptop keeps the edit, parked.
    stale_scope(a.store)
    a.store.save("site", {"grid_code": OTHER_STREET_GRID, "notes": "搬走"}, record_id=site.id)
    report = a.sync()
    assert len(report.rejected) == 1
    assert a.store.get(site.id).grid_code == OTHER_STREET_GRID
    [parked] = outbox.entries(a.store, "parked")
    assert outbox.discard(a.store, parked.seq)
    back = a.store.get(site.id)
    assert back.grid_code == GRID and back.data["notes"] == "原备注" and back.pending == 0
    assert [r.id for r in a.store.query(Query(kind="site", search="原备注"))] == [site.id]
    assert a.sync().ok and a.records() == live(registry.records())


@sqlite_only
def test_conflict_after_pulling_first_shows_the_registry_value(registry, laptops):
    a, b = laptops("a"), laptops("b", user="zhaoli")
    synced(a, b)
    site = a.store.save("site", complete_site())
    synced(a, b)
    a.store.save("site", {"usable_area": 150}, record_id=site.id)
    b.store.save("site", {"usable_area": 180}, record_id=site.id)
    a.sync()
    b.engine.pull(SyncReport())  # B is at A's version now, its own value kept
    assert b.store.get(site.id).data["usable_area"] == 180.0
    assert b.sync().conflicts == 1
    assert b.store.get(site.id).data["usable_area"] == 150.0  # the registry's, until resolved
    [conflict] = conflicts.open_conflicts(b.store)
    conflicts.resolve(b.store, conflict.id, {"usable_area": "theirs"})
    synced(a, b)
    assert a.records() == b.records() == live(registry.records())
