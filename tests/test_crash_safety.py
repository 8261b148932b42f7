"""Nothing a worker saved is lost when the process dies, the disk fills or the file is busy.

A child process saves and edits records in a loop and reports each save only after `save`
returned; the test kills it with SIGKILL inside a save, at a named statement (the record row
written but not its outbox entry, COMMIT begun, the search index being flushed inside the
commit, ...: tests/kill_points.py), many times over one file, then checks the file holds
exactly what was confirmed.
"""

import json
import random

import pytest

from fieldapp.store.db import StoreError, connect
from fieldapp.store.records import RecordStore
from tests.conftest import complete_site
from tests.kill_points import Child

SAVER = r"""
import random
from fieldapp.store.db import connect
from fieldapp.store.records import RecordStore
from tests.conftest import complete_site
path, seed, pattern, nth = sys.argv[1:5]
store = RecordStore(connect(path), user="w")
rng = random.Random(int(seed))
ids = [r[0] for r in store.conn.execute("SELECT id FROM record")]
install(store.conn, pattern, nth)
while True:
    area = rng.randint(10, 900)
    if ids and rng.random() < 0.4:
        rid = rng.choice(ids)
        store.save("site", {"usable_area": area}, record_id=rid)
    else:
        rid = store.save("site", complete_site(address=f"天平路{rng.randint(1, 9999)}号",
                                               usable_area=area)).id
        ids.append(rid)
    marker(f"SAVED {rid} {area}")
"""

#: Where a save is cut: (statement it starts with, which occurrence).
SAVE_KILL_POINTS = [
    ("INSERT INTO record(", 3),           # a new record's row, nothing else yet
    ("INSERT INTO record_fts", 5),        # its search terms
    ("INSERT INTO outbox", 4),            # record written, its mutation not yet
    ("UPDATE record SET", 2),             # an edit's new content
    ("UPDATE outbox SET fields", 1),      # an edit folded into the unsent entry
    ("INSERT INTO history", 6),           # all but the history line
    ("COMMIT", 7),                        # everything written, commit begun
    (IN_COMMIT := "-- REPLACE INTO 'main'.'record_fts_data'", 3),  # inside COMMIT: the
]                                                     # search index being flushed


def test_kill_9_inside_a_save_loses_nothing_and_keeps_no_half_save(store, tmp_path):
    path = store.conn.execute("PRAGMA database_list").fetchone()[2]
    confirmed: dict[str, float] = {}  # record id → usable area the last confirmed save gave
    rng = random.Random(11)
    windows = []
    for round_, (pattern, nth) in enumerate(SAVE_KILL_POINTS):
        child = Child(SAVER, path, round_, pattern, nth + rng.randint(0, 3))
        in_transaction, hit = child.kill_at_marker()
        windows.append((hit, in_transaction))
        for line in child.lines:
            if line.startswith("SAVED "):
                _, rid, area = line.split()
                confirmed[rid] = float(area)
    # Every kill landed where it was aimed: inside a save, before its commit was done.
    # (Inside COMMIT SQLite has already left the transaction state: in_transaction is False.)
    assert windows == [(p, p != IN_COMMIT) for p, _ in SAVE_KILL_POINTS]
    assert len(confirmed) > 20, "the children never got to save anything"
    conn = connect(path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    stored = {r[0]: json.loads(r[1])["usable_area"]
              for r in conn.execute("SELECT id, data FROM record")}
    # Exactly what was confirmed: no save lost, none of the cut saves half there.
    assert stored == confirmed
    orphans = conn.execute("SELECT count(*) FROM outbox o LEFT JOIN record r ON r.id = o.record_id "
                           "WHERE r.id IS NULL").fetchone()[0]
    assert orphans == 0
    unsent = conn.execute("SELECT count(*) FROM record r WHERE NOT EXISTS "
                          "(SELECT 1 FROM outbox o WHERE o.record_id = r.id)").fetchone()[0]
    assert unsent == 0  # every record still has the mutation that will carry it to the server
    # The unsent entry carries the record's latest content (what the registry will get).
    for rid, fields in conn.execute("SELECT record_id, fields FROM outbox"):
        assert json.loads(fields).get("usable_area", stored[rid]) == stored[rid]
    no_history = conn.execute("SELECT count(*) FROM record r WHERE NOT EXISTS "
                              "(SELECT 1 FROM history h WHERE h.record_id = r.id)").fetchone()[0]
    assert no_history == 0
    for row in conn.execute("SELECT data FROM record"):
        assert json.loads(row[0])["address"].startswith("天平路")  # no half-written JSON
    # The FTS index agrees with the records.
    assert conn.execute("SELECT count(*) FROM record_fts WHERE record_fts MATCH 'bi:\"天平\"'"
                        ).fetchone()[0] == len(stored)
    conn.execute("INSERT INTO record_fts(record_fts, rank) VALUES ('integrity-check', 0)")


def test_disk_full_gives_a_clear_message_and_keeps_the_file_sound(store):
    saved = store.save("site", complete_site())
    pages = store.conn.execute("PRAGMA page_count").fetchone()[0]
    store.conn.execute(f"PRAGMA max_page_count = {pages}")
    with pytest.raises(StoreError, match="磁盘已满") as info:
        for i in range(500):
            store.save("site", complete_site(address=f"天平路{i}号", notes="很长的备注" * 300))
    assert "disk is full" in str(info.value)
    assert store.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert store.get(saved.id) is not None
    store.conn.execute("PRAGMA max_page_count = 1073741823")
    assert store.save("site", complete_site(address="衡山路1号")).id  # works again


def test_busy_database_says_so(store, tmp_path):
    path = store.conn.execute("PRAGMA database_list").fetchone()[2]
    other = connect(path)
    other.execute("PRAGMA busy_timeout = 50")
    store.conn.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StoreError, match="busy"):
            RecordStore(other, user="x").save("site", complete_site())
    finally:
        store.conn.execute("ROLLBACK")
    assert RecordStore(other, user="x").save("site", complete_site()).id


def test_read_only_file_is_refused_clearly(store, tmp_path):
    store.save("site", complete_site())
    path = store.conn.execute("PRAGMA database_list").fetchone()[2]
    import sqlite3

    ro = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
    ro.row_factory = sqlite3.Row
    with pytest.raises(StoreError, match="read-only"):
        RecordStore(ro, user="x", device_id="d").save("site", complete_site())


IMPORTER = r"""
import fieldapp.store.db as db
_connect = db.connect
def connect(*args, **kwargs):
    conn = _connect(*args, **kwargs)
    install(conn, sys.argv[3], sys.argv[4])
    return conn
db.connect = connect
from fieldapp.cli import main
code = main(["--data-dir", sys.argv[1], "import", sys.argv[2], "--kind", "sites"])
marker(f"EXIT {code}")
"""


def test_import_killed_midway_then_run_again_gives_each_row_once(tmp_path):
    """`fieldapp import` killed with SIGKILL inside a batch, three times; running it again
    finishes the job: every row once (the external id is the key), file sound, outbox matches
    records. Each kill is aimed at a row's statement in a batch of 2,000 rows, so the rows
    stored afterwards say exactly which batches committed."""
    from fieldapp.demo import demo_areas
    from fieldapp.io.bench import write_sites_csv
    from fieldapp.io.importer import BATCH_ROWS

    rows = 3 * BATCH_ROWS
    csv_path = tmp_path / "sites.csv"
    write_sites_csv(csv_path, rows)
    home = tmp_path / "laptop"
    home.mkdir()
    store = RecordStore(connect(home / "fieldapp.sqlite3"), user="w")
    store.load_areas(demo_areas())
    store.conn.close()
    half = BATCH_ROWS // 2
    kills = [  # (statement, its nth occurrence in that run, rows stored after the kill)
        ("INSERT INTO record(rid", BATCH_ROWS + half, BATCH_ROWS),  # mid second batch
        ("INSERT INTO outbox", half, BATCH_ROWS),  # again: the rerun's first new batch
        ("INSERT INTO history", BATCH_ROWS + half, 2 * BATCH_ROWS),  # its second one
    ]
    seen = []
    for pattern, nth, _ in kills:
        child = Child(IMPORTER, home, csv_path, pattern, nth)
        in_transaction, hit = child.kill_at_marker(timeout=240)
        assert (hit, in_transaction) == (pattern, True)
        check = connect(home / "fieldapp.sqlite3")
        seen.append(check.execute("SELECT count(*) FROM record").fetchone()[0])
        check.close()
    # Each kill landed mid-import and mid-batch: the batches before it whole, that one gone.
    assert seen == [after for _, _, after in kills]
    finish = Child(IMPORTER, home, csv_path, "", 0)
    assert finish.finish() == 0 and finish.lines[-1] == "EXIT 0", finish.lines[-3:]
    conn = connect(home / "fieldapp.sqlite3")
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("SELECT count(*) FROM record").fetchone()[0] == rows
    assert conn.execute(
        "SELECT count(DISTINCT json_extract(data, '$.external_id')) FROM record").fetchone()[0] \
        == rows
    assert conn.execute("SELECT count(*) FROM outbox").fetchone()[0] == rows
    assert conn.execute("SELECT count(*) FROM history").fetchone()[0] == rows
