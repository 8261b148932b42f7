"""The local store on a real SQLite file: round trips, outbox, history, Chinese search."""

import json
import sqlite3

import pytest

from fieldapp.demo import populate
from fieldapp.domain.workflow import TransitionError
from fieldapp.store.db import connect
from fieldapp.store.migrations import LATEST, current_version, migrate
from fieldapp.store.records import Query, RecordStore, ValidationFailed
from tests.conftest import GRID, complete_site


def test_save_and_read_back(store):
    saved = store.save("site", complete_site())
    again = store.get(saved.id)
    assert again.data["usable_area"] == 120.0
    assert again.status == "draft" and again.author == "wangfang"
    outbox = store.conn.execute("SELECT * FROM outbox").fetchall()
    assert len(outbox) == 1 and outbox[0]["op"] == "create"
    assert json.loads(outbox[0]["fields"])["address"] == "天平路100号"
    assert [h["action"] for h in store.history(saved.id)] == ["create"]


def test_edits_fold_into_the_unsent_outbox_entry_but_not_a_sealed_one(store):
    saved = store.save("site", complete_site())
    store.save("site", {"usable_area": 130}, record_id=saved.id)
    assert store.conn.execute("SELECT count(*) FROM outbox").fetchone()[0] == 1
    store.conn.execute("UPDATE outbox SET sealed = 1")
    store.save("site", {"usable_area": 140}, record_id=saved.id)
    rows = store.conn.execute("SELECT op, fields FROM outbox ORDER BY seq").fetchall()
    assert [r["op"] for r in rows] == ["create", "update"]
    assert json.loads(rows[1]["fields"]) == {"usable_area": 140.0}
    history = store.history(saved.id)
    assert history[-1]["action"] == "edit"
    assert json.loads(history[-1]["changes"]) == {"usable_area": [130.0, 140.0]}


def test_unchanged_save_writes_nothing(store):
    saved = store.save("site", complete_site())
    store.save("site", {"address": "天平路100号"}, record_id=saved.id)
    assert len(store.history(saved.id)) == 1


def test_invalid_save_writes_nothing(store):
    with pytest.raises(ValidationFailed) as info:
        store.save("site", complete_site(usable_area=-3))
    assert info.value.errors[0].field == "usable_area"
    assert store.count_all() == 0
    assert store.conn.execute("SELECT count(*) FROM outbox").fetchone()[0] == 0


def test_workflow_rules(store):
    saved = store.save("site", {"grid_code": GRID, "address": "天平路1号"})
    with pytest.raises(ValidationFailed):
        store.save("site", {}, record_id=saved.id, status="submitted")
    done = store.save("site", complete_site(address="天平路1号"), record_id=saved.id,
                      status="submitted")
    assert done.status == "submitted"
    with pytest.raises(TransitionError):
        store.save("site", {}, record_id=saved.id, status="approved")
    store.role = "supervisor"
    with pytest.raises(TransitionError):
        store.save("site", {}, record_id=saved.id, status="returned")  # no comment
    returned = store.save("site", {}, record_id=saved.id, status="returned", comment="请补充电话")
    assert returned.review_comment == "请补充电话"


def test_delete_of_unsent_record_leaves_nothing_to_sync(store):
    saved = store.save("site", complete_site())
    store.delete(saved.id)
    assert store.get(saved.id) is None
    assert store.pending_count() == 0


def test_delete_of_synced_record_is_a_tombstone(store):
    saved = store.save("site", complete_site())
    store.conn.execute("DELETE FROM outbox")
    store.conn.execute("UPDATE record SET server_version = 3")
    store.delete(saved.id)
    assert store.get(saved.id) is None and store.get(saved.id, include_deleted=True).deleted
    row = store.conn.execute("SELECT op, base_version FROM outbox").fetchone()
    assert (row["op"], row["base_version"]) == ("delete", 3)
    assert store.query(Query(search="天平路")) == []


def test_chinese_search_one_two_three_characters(store):
    store.save("site", complete_site(address="天平路100号", notes="适合养老服务"))
    store.save("site", complete_site(address="衡山路8号", owner_name="上海托育服务中心"))
    store.save("site", complete_site(address="建国西路5弄", notes="门面房临街"))
    store.save("facility", {"name": "天平社区养老院", "grid_code": GRID, "address": "天平路9号"})

    def found(text, kind="site"):
        return sorted(r.data["address"] for r in store.query(Query(kind=kind, search=text)))

    assert found("养老") == ["天平路100号"]
    assert found("托育") == ["衡山路8号"]
    assert found("门面") == ["建国西路5弄"]
    assert found("养") == ["天平路100号"]
    assert found("天平路") == ["天平路100号"]
    assert found("路") == ["天平路100号", "建国西路5弄", "衡山路8号"]
    assert found("养老院") == []  # phrase: 养老服务 does not contain 养老院
    assert found("养老院", "facility") == ["天平路9号"]
    assert found("１００") == ["天平路100号"]  # full-width digits
    assert found("天平 100") == ["天平路100号"]  # every word must match
    assert store.count(Query(search="路")) == 3


def test_search_follows_edits(store):
    saved = store.save("site", complete_site(notes="养老"))
    store.save("site", {"notes": "托育"}, record_id=saved.id)
    assert store.query(Query(search="养老")) == []
    assert [r.id for r in store.query(Query(search="托育"))] == [saved.id]


def test_filters_and_area_below(store):
    populate(store, 600)
    street = "310104003"
    in_street = store.query(Query(grid_code=street), limit=1000)
    assert in_street and all(r.grid_code.startswith(street) for r in in_street)
    drafts = store.query(Query(status="draft"), limit=1000)
    assert drafts and all(r.status == "draft" for r in drafts)
    elderly = store.query(Query(function="elderly"), limit=1000)
    assert elderly and all("elderly" in r.data["candidate_functions"] for r in elderly)
    storefronts = store.query(Query(source_type="storefront"), limit=1000)
    assert storefronts and all(r.data["source_type"] == "storefront" for r in storefronts)
    assert store.count(Query(status="draft")) == len(drafts)


def test_migrations_are_idempotent_and_refuse_newer_files(tmp_path):
    conn = connect(tmp_path / "a.sqlite3")
    assert current_version(conn) == LATEST
    assert migrate(conn) == []
    conn.execute(f"PRAGMA user_version = {LATEST + 1}")
    conn.close()
    with pytest.raises(Exception, match="newer"):
        connect(tmp_path / "a.sqlite3")


def test_integrity_after_many_saves(store):
    for i in range(50):
        store.save("site", complete_site(address=f"天平路{i}号"))
    assert store.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert store.conn.execute(
        "SELECT count(*) FROM outbox o LEFT JOIN record r ON r.id = o.record_id "
        "WHERE r.id IS NULL").fetchone()[0] == 0


def test_two_connections_see_each_others_writes(tmp_path):
    a = RecordStore(connect(tmp_path / "x.sqlite3"), user="a")
    b = RecordStore(connect(tmp_path / "x.sqlite3"), user="b")
    a.conn.execute("INSERT INTO area(code, name, level) VALUES (?, 'g', 'grid')", (GRID,))
    saved = a.save("site", {"grid_code": GRID, "address": "天平路1号"})
    assert b.get(saved.id).data["address"] == "天平路1号"
    assert isinstance(a.conn, sqlite3.Connection)


def test_finding_a_records_open_outbox_entry_uses_the_record_index(store):
    from fieldapp.store.records import OPEN_ENTRY_SQL

    plan = " ".join(row[3] for row in store.conn.execute(f"EXPLAIN QUERY PLAN {OPEN_ENTRY_SQL}",
                                                         ("x",)))
    assert "outbox_record" in plan, plan  # not a scan of every pending entry


def test_search_results_come_in_the_order_the_list_says(store):
    """The list's header says "by last update": with a search term too, for common words (many
    matches, read off the update-order index) and rare ones (few matches, sorted)."""
    import fieldapp.store.records as records_module
    from fieldapp.store.records import Query

    saved = [store.save("site", complete_site(address=f"衡山路{n}号", usable_area=60 + n))
             for n in range(12)]
    for record in saved[:6]:  # touched again: now the most recently updated
        store.save("site", {"notes": "复核"}, record_id=record.id)
    for few in (2000, 3):  # the sorted path, then the index-walking path
        original = records_module.RecordStore._many_matches
        records_module.RecordStore._many_matches = (
            lambda self, e, few=few, original=original: original(self, e, few))
        try:
            for descending in (True, False):
                rows = store.query(Query(kind="site", search="衡山", descending=descending),
                                   limit=20)
                stamps = [r.updated_at for r in rows]
                assert len(rows) == 12
                assert stamps == sorted(stamps, reverse=descending)
        finally:
            records_module.RecordStore._many_matches = original
