"""Outbox coalescing never merges away a workflow step or a comment, and the laptop refuses
what the registry would refuse: every decision made offline reaches the registry as made."""

from __future__ import annotations

import json

import pytest

from fieldapp.domain.workflow import TransitionError
from fieldapp.store.records import RecordStore
from fieldapp.store.review import approve, send_back
from tests.conftest import complete_site
from tests.sync_helpers import laptops, registry, sqlite_only  # noqa: F401  (fixtures)


def server_actions(database_url: str, record_id: str) -> list[str]:
    from sqlalchemy import text

    from sync.server import admin

    with admin.engine_for(database_url).connect() as conn:
        return [r[0] for r in conn.execute(text(
            "SELECT action FROM history WHERE record_id = :r ORDER BY version"),
            {"r": record_id})]


def outbox(store: RecordStore, record_id: str) -> list[dict]:
    return [{"op": r["op"], **json.loads(r["fields"])} for r in store.conn.execute(
        "SELECT op, fields FROM outbox WHERE record_id = ? ORDER BY seq", (record_id,))]


def test_returning_with_an_empty_comment_is_refused_locally(store: RecordStore):
    site = store.save("site", complete_site(), status="submitted")
    store.role = "supervisor"
    send_back(store, site.id, "请补充权属方联系电话")
    for empty in ("", "   ", "\x00"):
        with pytest.raises(TransitionError) as err:
            send_back(store, site.id, empty)
        assert "comment" in err.value.en and "意见" in err.value.zh
    assert store.get(site.id).review_comment == "请补充权属方联系电话"
    assert [e.get("review_comment") for e in outbox(store, site.id)][-1] == "请补充权属方联系电话"


def test_each_decision_keeps_its_own_outbox_entry(store: RecordStore):
    store.role = "supervisor"
    site = store.save("site", complete_site())
    store.save("site", {"usable_area": 130}, record_id=site.id)  # content: folds into create
    store.save("site", {}, record_id=site.id, status="submitted")
    approve(store, [site.id])
    send_back(store, site.id, "面积与现场不符")
    send_back(store, site.id, "面积与现场不符,请复核")
    entries = outbox(store, site.id)
    assert [e["op"] for e in entries] == ["create", "update", "update", "update", "update"]
    assert entries[0]["status"] == "draft" and entries[0]["usable_area"] == 130
    assert [e.get("status") for e in entries[1:]] == ["submitted", "approved", "returned", None]
    assert entries[3]["review_comment"] == "面积与现场不符"
    assert entries[4] == {"op": "update", "review_comment": "面积与现场不符,请复核"}


def test_content_edits_still_fold_into_one_entry(store: RecordStore):
    site = store.save("site", complete_site())
    for area in (121, 122, 123):
        store.save("site", {"usable_area": area}, record_id=site.id)
    assert len(outbox(store, site.id)) == 1
    store.save("site", {}, record_id=site.id, status="submitted")
    store.save("site", {}, record_id=site.id, status="draft")  # withdrawn
    store.save("site", {"usable_area": 124}, record_id=site.id)
    store.save("site", {"usable_area": 125}, record_id=site.id)
    entries = outbox(store, site.id)
    assert [e.get("status") for e in entries] == ["draft", "submitted", "draft", None]
    assert entries[-1]["usable_area"] == 125


@sqlite_only
def test_offline_create_and_approve_reach_the_registry_as_valid_steps(registry, laptops):
    boss = laptops("boss", user="lisupervisor", role="supervisor", scopes="310104")
    boss.sync()
    site = boss.store.save("site", complete_site())
    boss.store.save("site", {}, record_id=site.id, status="submitted")
    approve(boss.store, [site.id])
    report = boss.sync()
    assert report.ok and not report.rejected, report.rejected
    server = registry.records()[site.id]
    assert server["status"] == "approved" and server["version"] == 3
    assert server_actions(registry.database_url, site.id) == ["create", "submit", "approve"]


@sqlite_only
def test_two_returns_before_sync_both_reach_the_worker(registry, laptops):
    worker = laptops("worker")
    boss = laptops("boss", user="lisupervisor", role="supervisor", scopes="310104")
    worker.sync()
    site = worker.store.save("site", complete_site(), status="submitted")
    worker.sync()
    boss.sync()
    send_back(boss.store, site.id, "请补充…")
    send_back(boss.store, site.id, "请补充权属方联系电话")
    report = boss.sync()
    assert report.ok, report.rejected
    worker.sync()
    back = worker.store.get(site.id)
    assert back.status == "returned" and back.review_comment == "请补充权属方联系电话"
    assert server_actions(registry.database_url, site.id) == ["create", "return", "update"]
