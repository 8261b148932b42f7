"""Nothing a worker saved is lost when the process dies, the disk fills or the file is busy.

A child process saves records in a loop and reports each id only after `save` returned; the
test kills it with SIGKILL at random moments, many times, then checks the file.
"""

import json
import os
import random
import signal
import subprocess
import sys
import time

import pytest

from fieldapp.store.db import StoreError, connect
from fieldapp.store.records import RecordStore
from tests.conftest import complete_site

CHILD = r"""
import sys, random
from fieldapp.store.db import connect
from fieldapp.store.records import RecordStore
from tests.conftest import complete_site
store = RecordStore(connect(sys.argv[1]), user="w")
rng = random.Random(int(sys.argv[2]))
ids = []
while True:
    if ids and rng.random() < 0.3:
        rid = rng.choice(ids)
        store.save("site", {"usable_area": rng.randint(10, 900)}, record_id=rid)
    else:
        rid = store.save("site", complete_site(address=f"天平路{rng.randint(1, 9999)}号")).id
        ids.append(rid)
    print(rid, flush=True)
"""


def test_kill_9_at_random_points_loses_nothing(store, tmp_path):
    path = store.conn.execute("PRAGMA database_list").fetchone()[2]
    confirmed: set[str] = set()
    rng = random.Random(11)
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    for round_ in range(8):
        child = subprocess.Popen([sys.executable, "-c", CHILD, path, str(round_)],
                                 stdout=subprocess.PIPE, text=True, env=env)
        time.sleep(0.6 + rng.random() * 0.8)
        child.send_signal(signal.SIGKILL)
        out, _ = child.communicate()
        confirmed.update(line.strip() for line in out.splitlines() if line.strip())
    assert len(confirmed) > 20, "the child never got to save anything"
    conn = connect(path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    stored = {r[0] for r in conn.execute("SELECT id FROM record")}
    assert confirmed <= stored
    orphans = conn.execute("SELECT count(*) FROM outbox o LEFT JOIN record r ON r.id = o.record_id "
                           "WHERE r.id IS NULL").fetchone()[0]
    assert orphans == 0
    unsent = conn.execute("SELECT count(*) FROM record r WHERE NOT EXISTS "
                          "(SELECT 1 FROM outbox o WHERE o.record_id = r.id)").fetchone()[0]
    assert unsent == 0  # every record still has the mutation that will carry it to the server
    for row in conn.execute("SELECT data FROM record"):
        assert json.loads(row[0])["address"].startswith("天平路")  # no half-written JSON
    # The FTS index agrees with the records.
    assert conn.execute("SELECT count(*) FROM record_fts WHERE record_fts MATCH 'bi:\"天平\"'"
                        ).fetchone()[0] == len(stored)


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


def test_import_killed_midway_then_run_again_gives_each_row_once(tmp_path):
    """`fieldapp import` killed with SIGKILL at random points; running it again finishes the
    job: every row once (the external id is the key), file sound, outbox matches records."""
    from fieldapp.demo import demo_areas
    from fieldapp.io.bench import write_sites_csv

    rows = 6000
    csv_path = tmp_path / "sites.csv"
    write_sites_csv(csv_path, rows)
    home = tmp_path / "laptop"
    home.mkdir()
    store = RecordStore(connect(home / "fieldapp.sqlite3"), user="w")
    store.load_areas(demo_areas())
    store.conn.close()
    command = [sys.executable, "-m", "fieldapp", "--data-dir", str(home), "import",
               str(csv_path), "--kind", "sites"]
    rng = random.Random(5)
    seen = []
    for _ in range(4):
        child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # Early enough that the first run is cut short even on a faster machine.
        time.sleep(0.7 + rng.random() * 0.5)
        child.send_signal(signal.SIGKILL)
        child.wait()
        check = connect(home / "fieldapp.sqlite3")
        seen.append(check.execute("SELECT count(*) FROM record").fetchone()[0])
        check.close()
    assert seen[0] < rows, seen  # the first run really was cut short
    finish = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert finish.returncode == 0, finish.stderr
    conn = connect(home / "fieldapp.sqlite3")
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("SELECT count(*) FROM record").fetchone()[0] == rows
    assert conn.execute(
        "SELECT count(DISTINCT json_extract(data, '$.external_id')) FROM record").fetchone()[0] \
        == rows
    assert conn.execute("SELECT count(*) FROM outbox").fetchone()[0] == rows
