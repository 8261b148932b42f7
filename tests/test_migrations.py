"""A laptop database made by the first released schema upgrades with nothing lost.

tests/fixtures/schema_v1.sqlite3 was written by schema version 1 (records, an edited record
with a sealed and an open outbox entry, history, an autosaved form draft, settings). Never
regenerate it: it stands for the laptops already in the field.
"""

import shutil
from pathlib import Path

from fieldapp.store.db import connect
from fieldapp.store.migrations import LATEST, current_version
from fieldapp.store.records import Query, RecordStore

FIXTURE = Path(__file__).parent / "fixtures" / "schema_v1.sqlite3"


def test_first_schema_upgrades_without_loss(tmp_path):
    path = tmp_path / "old.sqlite3"
    shutil.copy(FIXTURE, path)
    conn = connect(path)
    assert current_version(conn) == LATEST
    store = RecordStore(conn, user="wangfang")
    assert store.device_id == "11111111-1111-4111-8111-111111111111"
    assert conn.execute("SELECT count(*) FROM record").fetchone()[0] == 38
    assert conn.execute("SELECT count(*) FROM outbox").fetchone()[0] == 39
    assert conn.execute("SELECT count(*) FROM history").fetchone()[0] == 40
    rows = conn.execute("SELECT o.op, o.sealed FROM outbox o JOIN record r ON r.id = o.record_id "
                        "WHERE r.title = '天平路1号' ORDER BY o.seq").fetchall()
    assert [tuple(r) for r in rows] == [("create", 1), ("update", 0)]
    assert [r.data["address"] for r in store.query(Query(search="试点"))] == ["天平路1号"]
    assert store.setting("last_sync_at") == "2026-01-01T00:00:00"
    draft = conn.execute("SELECT data FROM form_draft").fetchone()
    assert "未保存的地址" in draft["data"]
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    # The upgraded file keeps working: edit the record whose outbox row is open.
    record = store.query(Query(search="试点"))[0]
    store.save("site", {"usable_area": 100}, record_id=record.id)
    assert store.get(record.id).data["usable_area"] == 100.0


def test_search_index_rebuilt_so_a_phrase_never_spans_two_words(tmp_path):
    """Migration 10 re-indexes every record: a laptop indexed by schema 9 (bigrams of all
    words side by side) found 天平路 in "天平 平路"; after it only the real one is found, and
    edits and deletes of old records keep the index sound."""
    from fieldapp.domain.search import runs
    from fieldapp.store.migrations import migrate
    from tests.conftest import complete_site

    path = tmp_path / "nine.sqlite3"
    conn = connect(path)
    store = RecordStore(conn, user="wangfang")
    from fieldapp.demo import demo_areas

    store.load_areas(demo_areas())
    real = store.save("site", complete_site(address="天平路1号"))
    near = store.save("site", complete_site(address="天平 平路"))
    gone = store.save("site", complete_site(address="天平路9号"))
    conn.execute("INSERT INTO record_fts(record_fts) VALUES ('delete-all')")
    for rid, text in conn.execute("SELECT rid, search_text FROM record").fetchall():
        words = runs(text)  # schema 9's terms: every word's bigrams in one run of tokens
        bi = " ".join(" ".join(w[i:i + 2] for i in range(len(w) - 1)) for w in words
                      if len(w) > 1)
        conn.execute("INSERT INTO record_fts(rowid, uni, bi) VALUES (?, ?, ?)",
                     (rid, " ".join(" ".join(w) for w in words), bi))
    conn.execute("PRAGMA user_version = 9")
    found = {r.id for r in store.query(Query(search="天平路"))}
    assert near.id in found  # the old index's false match
    assert migrate(conn) == list(range(10, LATEST + 1))
    assert {r.id for r in store.query(Query(search="天平路"))} == {real.id, gone.id}
    store.delete(gone.id)
    store.save("site", {"address": "衡山路2号"}, record_id=near.id)
    assert {r.id for r in store.query(Query(search="天平路"))} == {real.id}
    assert [r.id for r in store.query(Query(search="衡山"))] == [near.id]
    conn.execute("INSERT INTO record_fts(record_fts, rank) VALUES ('integrity-check', 0)")
