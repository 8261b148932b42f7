"""Push and pull semantics of the registry (PROTOCOL.md): idempotency, conflicts and merges,
delete against edit, workflow and validation, paging, tombstones, evictions and areas."""

from __future__ import annotations

from server_support import (
    DISTRICT,
    GRID,
    GRID_OTHER_STREET,
    GRID_SAME_STREET,
    OTHER_STREET,
    STREET,
    mutation,
    pull_all,
    push,
    registry,
    site,
)
from sqlalchemy import func, select

from fieldapp.domain.areas import Area
from sync.server import admin
from sync.server.admin import engine_for

__all__ = ["registry"]


def counts(url: str) -> dict[str, int]:
    with engine_for(url).connect() as conn:
        return {t: conn.execute(select(func.count()).select_from(
            __import__("sqlalchemy").table(t))).scalar_one()
            for t in ("record", "history", "change_feed", "applied_mutation")}


def create(c, **fields) -> dict:  # noqa: ANN001
    result = push(c, mutation(fields=site(**fields)))[0]
    assert result["outcome"] == "applied", result
    return result["record"]


def update(c, record: dict, base: int | None = None, **fields) -> dict:  # noqa: ANN001
    return push(c, mutation("update", fields, record["id"],
                            record["version"] if base is None else base))[0]


def test_same_batch_twice_changes_nothing(registry):
    c = registry.user("wangfang")
    first = mutation()
    batch = [first, mutation("update", {"address": "天平路102号"}, first["record_id"], 1),
             mutation()]
    results = push(c, *batch)
    assert [r["outcome"] for r in results] == ["applied"] * 3
    before = counts(registry.url)
    again = push(c, *batch)
    assert [r["outcome"] for r in again] == ["already_applied"] * 3
    assert [r["version"] for r in again] == [r["version"] for r in results]
    assert again[1]["record"]["data"]["address"] == "天平路102号"
    assert counts(registry.url) == before
    reused = dict(first, fields=site(address="别的地址"))
    r = push(c, reused)[0]
    assert r["outcome"] == "rejected" and r["reason"]["code"] == "mutation_id_reused"


def test_applied_carries_the_record_only_when_the_laptop_does_not_know_it(registry):
    a, b = registry.user("wangfang"), registry.user("zhaoli", device_id="dev-b")
    first = mutation()
    [r] = push(a, first, fill=False)
    assert r == {"mutation_id": first["mutation_id"], "outcome": "applied", "version": 1}
    [r] = push(a, mutation("update", {"notes": "复核"}, first["record_id"], 1), fill=False)
    assert r["version"] == 2 and "record" not in r
    push(b, mutation("update", {"owner_contact": "张先生"}, first["record_id"], 2), fill=False)
    # Someone else changed it since the laptop's base: the merged record comes back whole.
    [r] = push(a, mutation("update", {"notes": "再复核"}, first["record_id"], 2), fill=False)
    assert r["version"] == 4 and r["record"]["data"]["owner_contact"] == "张先生"
    # Stored other than sent (text for a number, converted): whole too.
    [r] = push(a, mutation("update", {"usable_area": "95"}, first["record_id"], 4), fill=False)
    assert r["record"]["data"]["usable_area"] == 95.0
    # The stored answer repeats the first one, version only as well.
    [again] = push(a, first, fill=False)
    assert again["outcome"] == "already_applied" and again["version"] == 1
    assert "record" not in again


def test_conflicting_field_keeps_server_value_and_others_merge(registry):
    a = registry.user("a")
    b = registry.user("b")
    rec = create(a)
    assert update(b, rec, address="天平路200号")["outcome"] == "applied"  # version 2
    r = update(a, rec, base=1, address="天平路300号", owner_name="个人业主")
    assert r["outcome"] == "conflict" and r["version"] == 3
    assert r["conflicts"] == {"address": {"mine": "天平路300号", "theirs": "天平路200号"}}
    assert r["record"]["data"]["address"] == "天平路200号"
    assert r["record"]["data"]["owner_name"] == "个人业主"
    resolved = update(a, r["record"], address="天平路300号")
    assert resolved["outcome"] == "applied" and resolved["version"] == 4


def test_same_device_and_same_value_never_conflict(registry):
    a = registry.user("a")
    b = registry.user("b")
    rec = create(a)
    assert update(a, rec, base=1, address="一号")["outcome"] == "applied"
    # Its answer was lost: the laptop still thinks base is 1. Its own change is no conflict.
    assert update(a, rec, base=1, address="二号")["outcome"] == "applied"
    assert update(b, rec, base=3, notes="已核实")["outcome"] == "applied"
    same = update(a, rec, base=3, notes="已核实", usable_area=80)
    assert same["outcome"] == "applied" and same["record"]["data"]["usable_area"] == 80.0


def test_delete_against_edit_and_edit_against_delete(registry):
    a = registry.user("a")
    b = registry.user("b")
    rec = create(a)
    assert update(b, rec, notes="乙改过")["outcome"] == "applied"
    r = push(a, mutation("delete", {}, rec["id"], 1))[0]
    assert r["outcome"] == "conflict" and r["conflicts"] == {
        "_deleted": {"mine": True, "theirs": False}}
    assert r["record"]["deleted"] is False
    gone = push(b, mutation("delete", {}, rec["id"], 2))[0]
    assert gone["outcome"] == "applied" and gone["record"]["deleted"] is True
    r = update(a, rec, base=2, notes="甲也改")
    assert r["outcome"] == "conflict" and r["conflicts"]["_deleted"] == {"mine": False,
                                                                       "theirs": True}
    assert r["version"] == gone["version"]


def test_workflow_rules_on_the_server(registry):
    worker = registry.user("worker")
    boss = registry.user("boss", "supervisor", DISTRICT)
    draft = create(worker, owner_consent=None)
    r = update(worker, draft, status="submitted")
    assert r["outcome"] == "rejected" and r["reason"]["code"] == "invalid"
    assert any(e["field"] == "owner_consent" and "提交前必须填写" in e["zh"]
               for e in r["reason"]["errors"])
    submitted = update(worker, draft, status="submitted", owner_consent="agreed")
    assert submitted["outcome"] == "applied"
    rec = submitted["record"]
    r = update(worker, rec, status="approved")
    assert r["outcome"] == "rejected" and r["reason"]["message_zh"] == "只有主管可以审核通过"
    assert update(worker, rec, notes="提交后再改")["reason"]["code"] == "workflow"
    assert update(boss, rec, status="returned")["reason"]["code"] == "workflow"  # no comment
    back = update(boss, rec, status="returned", review_comment="请补充照片")
    assert back["outcome"] == "applied" and back["record"]["review_comment"] == "请补充照片"
    history = boss.get(f"/api/v1/records/{rec['id']}/history").json()["history"]
    assert [h["action"] for h in history] == ["create", "submit", "return"]
    assert history[-1]["comment"] == "请补充照片" and history[-1]["who"] == "boss"
    assert history[1]["changes"]["status"] == ["draft", "submitted"]


def test_pull_pages_in_seq_order_with_history_and_areas(registry):
    c = registry.user("wangfang")
    ids = {create(c, address=f"天平路{n}号")["id"] for n in range(25)}
    pages, cursor = [], None
    while True:
        params = {"limit": 10, **({"cursor": cursor} if cursor else {})}
        page = c.get("/api/v1/pull", params=params).json()
        pages.append(page)
        cursor = page["cursor"]
        if not page["more"]:
            break
    assert [len(p["changes"]) for p in pages] == [10, 10, 5]
    seqs = [ch["seq"] for p in pages for ch in p["changes"]]
    assert seqs == sorted(seqs) and len(set(seqs)) == 25
    assert {ch["record_id"] for p in pages for ch in p["changes"]} == ids
    assert all(ch["op"] == "upsert" for p in pages for ch in p["changes"])
    assert len(pages[0]["areas"]) == 302 and not pages[1]["areas"]
    assert sum(len(p["history"]) for p in pages) == 25
    head = c.get("/api/v1/pull", params={"cursor": cursor}).json()
    assert head["changes"] == [] and head["cursor"] == cursor and head["more"] is False


def test_tombstones_evictions_and_scope_change(registry):
    worker = registry.user("worker", "worker", STREET)
    other = registry.user("other", "worker", OTHER_STREET)
    boss = registry.user("boss", "supervisor", DISTRICT)
    keep, move, drop = (create(worker, grid_code=GRID) for _ in range(3))
    _, cursor = pull_all(worker)
    _, other_cursor = pull_all(other)
    assert push(worker, mutation("delete", {}, drop["id"], 1))[0]["outcome"] == "applied"
    moved = update(boss, move, grid_code=GRID_OTHER_STREET)
    assert moved["outcome"] == "applied"
    assert update(worker, keep, grid_code=GRID_SAME_STREET)["outcome"] == "applied"
    changes, cursor = pull_all(worker, cursor)
    ops = {ch["record_id"]: ch["op"] for ch in changes}
    assert ops == {drop["id"]: "delete", move["id"]: "evict", keep["id"]: "upsert"}
    tomb = next(ch for ch in changes if ch["op"] == "delete")
    assert tomb["record"]["deleted"] is True
    assert next(ch for ch in changes if ch["op"] == "evict")["record"] is None
    seen, _ = pull_all(other, other_cursor)
    assert [(ch["record_id"], ch["op"]) for ch in seen] == [(move["id"], "upsert")]
    # The worker's own push to the record that left them is refused by scope.
    r = update(worker, moved["record"], notes="还想改")
    assert r["outcome"] == "rejected" and r["reason"]["code"] == "out_of_scope"
    # Scopes changed: an old cursor restarts from zero (and sees everything in the new scope).
    admin.add_user(registry.url, "worker", "worker", f"{STREET},{OTHER_STREET}")
    everything, _ = pull_all(worker, cursor)
    assert {ch["record_id"] for ch in everything} == {keep["id"], move["id"], drop["id"]}


def test_changed_areas_follow_the_cursor(registry):
    c = registry.user("wangfang")
    _, cursor = pull_all(c)
    new_grid = Area(f"{STREET}001G09", "天平路第一9号网格", "grid", f"{STREET}001")
    assert admin.load_areas(registry.url, [new_grid]) == 1
    page = c.get("/api/v1/pull", params={"cursor": cursor}).json()
    assert [a["code"] for a in page["areas"]] == [new_grid.code]
    assert create(c, grid_code=new_grid.code)["grid_code"] == new_grid.code
    again = c.get("/api/v1/pull", params={"cursor": page["cursor"]}).json()
    assert again["areas"] == [] and len(again["changes"]) == 1


def test_records_read_within_scope_only(registry):
    worker = registry.user("worker", "worker", STREET)
    other = registry.user("other", "worker", OTHER_STREET)
    rec = create(worker)
    assert worker.get(f"/api/v1/records/{rec['id']}").json()["data"]["address"] == "天平路100号"
    r = other.get(f"/api/v1/records/{rec['id']}")
    assert r.status_code == 403 and r.json()["error"] == "out_of_scope" and r.json()["message_zh"]
    assert "天平路" not in r.text
    theirs = create(other, grid_code=GRID_OTHER_STREET)
    city = registry.user("city", "admin", "*")
    changes, _ = pull_all(city)
    assert {ch["record_id"] for ch in changes} == {rec["id"], theirs["id"]}
    assert city.get(f"/api/v1/records/{theirs['id']}").status_code == 200


def test_joint_review_fields_are_for_supervisors_only(registry):
    worker = registry.user("w")
    boss = registry.user("boss", role="supervisor")
    rec = create(worker)
    r = update(worker, rec, jr_fire_result="pass")
    assert r["outcome"] == "rejected"
    assert r["reason"]["errors"][0]["field"] == "jr_fire_result"
    assert "only a supervisor" in r["reason"]["errors"][0]["en"]
    done = update(boss, rec, jr_fire_result="pass", jr_fire_reviewer="消防 王")
    assert done["outcome"] == "applied", done
    # The worker may still edit the fields that are theirs.
    assert update(worker, done["record"], notes="已复核")["outcome"] == "applied"
