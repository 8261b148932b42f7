"""Sync through a faulty network and a faulty server: exactly once on the registry, nothing
lost on the laptops, the pull cursor never ahead of committed data."""

from __future__ import annotations

import random
import sqlite3
import threading
import time
from collections import Counter

import pytest

from fieldapp.store.db import connect
from fieldapp.store.records import RecordStore
from fieldapp.store.sync_state import cursor_key
from sync import conflicts
from sync.client import RegistryClient, UpgradeRequired
from sync.server import admin
from tests.conftest import GRID, complete_site
from tests.faultproxy import FaultProxy
from tests.kill_points import Child
from tests.sync_helpers import (  # noqa: F401  (fixtures)
    ServerThread,
    bulk_sites,
    laptops,
    live,
    registry,
    server_count,
    sqlite_only,
)

GRIDS = [GRID, "310104003002G01", "310104003003G02"]


def wait_until(condition, what: str, timeout: float = 60.0) -> None:
    """Poll `condition` until it holds; fail saying `what` did not happen."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.02)
FAULTS = {"pass": 4, "drop_before": 1, "drop_after": 1, "delay": 1, "truncate": 1, "reset": 1}


def _duplicates(database_url: str) -> int:
    """History entries that share a mutation id: a mutation applied more than once."""
    from sqlalchemy import text

    from sync.server.db import reading

    with reading(admin.engine_for(database_url)) as conn:
        return conn.execute(text(
            "SELECT count(*) FROM (SELECT mutation_id FROM history GROUP BY mutation_id "
            "HAVING count(*) > 1) d")).scalar_one()


def _random_step(rng: random.Random, laptop, mine: dict[str, dict | None]) -> None:
    """One user action on the laptop, recorded in `mine` (record id → last content or None)."""
    alive = [k for k, v in mine.items() if v is not None]
    roll = rng.random()
    if roll < 0.35 or not alive:
        record = laptop.store.save("site", complete_site(
            grid_code=rng.choice(GRIDS), address=f"天平路{rng.randint(1, 999)}号",
            usable_area=rng.randint(20, 900)))
    elif roll < 0.85:
        record = laptop.store.save("site", {"usable_area": rng.randint(20, 900),
                                            "notes": f"第{rng.randint(1, 99999)}次修改"},
                                   record_id=rng.choice(alive))
    else:
        victim = rng.choice(alive)
        laptop.store.delete(victim)
        mine[victim] = None
        return
    mine[record.id] = record.data


def test_many_cycles_through_a_faulty_network_apply_each_change_exactly_once(registry, laptops):
    rng = random.Random(20241129)
    a, b = laptops("a"), laptops("b", user="zhaoli")
    owned: dict[str, dict[str, dict | None]] = {"a": {}, "b": {}}
    proxies = {}
    for laptop, seed in ((a, 1), (b, 2)):
        laptop.sync()
        proxies[laptop.name] = FaultProxy(registry.server.port, seed=seed, weights=FAULTS,
                                          delay=0.05).__enter__()
        laptop.connect_engine(proxies[laptop.name].url, timeout=3)
    failed = 0
    for _ in range(120):
        laptop = rng.choice((a, b))
        for _ in range(rng.randint(0, 3)):
            _random_step(rng, laptop, owned[laptop.name])
        report = laptop.sync()
        failed += bool(report.errors)
        assert not report.rejected and not report.conflicts
    # Then the network heals; everything converges.
    for laptop in (a, b):
        proxies[laptop.name].set_weights(**{"pass": 1})
    for _ in range(2):
        for laptop in (a, b):
            assert laptop.sync().ok
    server = registry.records()
    for mine in owned.values():
        for record_id, content in mine.items():
            if content is None:  # deleted, or never left the laptop before it was deleted
                assert record_id not in server or server[record_id]["deleted"]
            else:
                assert server[record_id]["data"] == content
    assert a.records() == b.records() == live(server)
    assert _duplicates(registry.database_url) == 0
    assert server_count(registry.database_url, "record") == len(server)
    faults = sum(p.counts[m] for p in proxies.values() for m in FAULTS if m != "pass")
    assert failed >= 10 and faults >= 30, (failed, faults)  # the faults really happened
    for p in proxies.values():
        p.close()


def count_answers(engine) -> Counter:
    """Count the registry's answers (applied, already_applied, ...) the engine receives."""
    seen: Counter = Counter()
    send = engine._send

    def counting(batch):  # noqa: ANN001, ANN202
        results = send(batch)
        seen.update(r.outcome for r in results)
        return results

    engine._send = counting
    return seen


def test_lost_answer_then_server_restart_resends_the_batch_and_doubles_nothing(registry,
                                                                              laptops):
    """The registry commits the third batch, its answer is lost (the proxy drops it), and the
    registry restarts before the laptop comes back: the laptop must send that batch again,
    and the registry must know every mutation in it (it applied them): answered "already
    applied", each once. Without the registry's idempotency lookup this fails."""
    a = laptops("a", user="admin1", role="admin", scopes="*")
    a.sync()
    bulk_sites(a.store, 500)
    pending = a.store.pending_count()
    with FaultProxy(registry.server.port) as proxy:
        proxy.plan("/api/v1/push", ["pass", "pass", "drop_after"])
        a.connect_engine(proxy.url, push_limit=100, timeout=10)
        answers = count_answers(a.engine)
        report = a.sync()
        assert report.offline and report.pushed == 200, report  # two batches acknowledged
        assert proxy.by_path[("/api/v1/push", "drop_after")] == 1
        registry.server.stop()
        # The lost answer's batch was committed: 300 mutations applied, 200 acknowledged.
        assert server_count(registry.database_url, "applied_mutation") == 300
        assert a.store.pending_count() == pending - 200
        registry.server.start()  # same port, same database
        report = a.sync()
    assert report.ok, report
    assert answers["already_applied"] == 100  # the whole lost batch, sent again
    assert answers["applied"] == pending - 100  # the lost answers never came
    assert a.store.pending_count() == 0
    assert server_count(registry.database_url, "record") == pending
    assert server_count(registry.database_url, "applied_mutation") == pending
    assert _duplicates(registry.database_url) == 0


PULLER = r"""
from pathlib import Path
from tests.sync_helpers import Laptop
from sync.engine import SyncReport
laptop = Laptop("puller", Path(sys.argv[1]), "")
laptop.connect_engine(pull_limit=25)
install(laptop.store.conn, sys.argv[2], sys.argv[3])
laptop.engine.pull(SyncReport())
marker("PULLED")
"""


@sqlite_only
def test_client_killed_mid_pull_never_has_a_cursor_ahead_of_its_data(registry, laptops):
    """A laptop pulling pages of 25 is killed mid-page (records of page 11 being written,
    its cursor not yet), then again as a later page commits: each time the cursor it kept
    covers only what it holds, and a new sync completes the pull."""
    from sqlalchemy import text

    from sync.server.db import reading

    writer = laptops("writer", user="admin1", role="admin", scopes="*")
    writer.sync()
    bulk_sites(writer.store, 800)
    assert writer.sync().ok
    puller = laptops("puller", user="admin2", role="admin", scopes="*")
    home = puller.home
    puller.close()
    kills = [("INSERT INTO record(rid", 10 * 25 + 7, 250),  # page 11 half written
             ("COMMIT", 4, 250 + 3 * 25)]  # the 4th page of the next run committing
    for pattern, nth, held in kills:
        child = Child(PULLER, home, pattern, nth)
        assert child.kill_at_marker() == (True, pattern)
        store = RecordStore(connect(home / "fieldapp.sqlite3"), user="admin2")
        cursor = store.setting(cursor_key("admin2"))
        seq = int(cursor.rpartition(":")[2])
        local = {r[0] for r in store.conn.execute("SELECT id FROM record")}
        store.conn.close()
        with reading(admin.engine_for(registry.database_url)) as conn:
            covered = {r[0] for r in conn.execute(text(
                "SELECT record_id FROM change_feed WHERE seq <= :s"), {"s": seq})}
        assert covered == local  # the cursor claims exactly what is here, never more
        assert len(local) == held  # killed mid-pull, where it was aimed
    puller.store = RecordStore(connect(home / "fieldapp.sqlite3"), user="admin2")
    puller.connect_engine()
    assert puller.sync().ok
    assert puller.records() == live(registry.records())
    assert len(puller.records()) == 800


@sqlite_only
def test_revoked_credential_and_old_protocol_are_clear_errors(registry, laptops):
    a = laptops("a")
    a.sync()
    a.store.save("site", complete_site())
    with RegistryClient(registry.url, "x") as client:
        client._http.headers["X-Fieldapp-Protocol"] = "0"
        with pytest.raises(UpgradeRequired) as info:
            client.me()
    assert "升级" in info.value.zh and "fieldapp" in info.value.en
    admin.revoke_user(registry.database_url, "wangfang")
    report = a.sync()
    assert report.fatal and not report.offline
    assert "fieldapp enroll" in report.errors[0] and "撤销" in report.errors[0]
    assert a.store.pending_count() == 1  # nothing lost: it waits for a new enrollment


@sqlite_only
def test_watch_loop_backs_off_while_offline_and_syncs_at_once_when_poked(registry, laptops):
    from sync.engine import next_delay

    rng = random.Random(3)
    delays = [next_delay(n, 2.0, 60.0, rng) for n in range(1, 9)]
    for n, delay in enumerate(delays, start=1):
        ceiling = min(60.0, 2.0 * 2 ** (n - 1))  # doubles per failure up to the cap
        assert ceiling / 2 <= delay <= ceiling
    assert len(set(delays)) == len(delays)  # jittered: laptops do not retry in step
    a = laptops("a")
    a.sync()
    registry.server.stop()
    reports, stop = [], threading.Event()
    thread = threading.Thread(target=a.engine.run_forever, args=(stop,), kwargs={
        "interval": 30, "base_backoff": 0.2, "max_backoff": 0.4, "on_report": reports.append})
    thread.start()
    wait_until(lambda: len(reports) >= 3, "three offline cycles")
    assert all(r.offline for r in reports[:3])
    registry.server.start()
    wait_until(lambda: not reports[-1].offline, "a cycle after the registry came back")
    # Online now: the next cycle is 30 s away unless a save pokes the engine.
    seen = len(reports)
    a.engine.poke()
    wait_until(lambda: len(reports) > seen, "poke did not start a cycle")
    stop.set()
    thread.join(5)
    assert not thread.is_alive()


@sqlite_only
def test_conflict_whose_answer_was_lost_still_reaches_the_user(registry, laptops):
    a, b = laptops("a"), laptops("b", user="zhaoli")
    for laptop in (a, b, a, b):
        laptop.sync()
    site = a.store.save("site", complete_site())
    a.sync()
    b.sync()
    a.store.save("site", {"usable_area": 150}, record_id=site.id)
    b.store.save("site", {"usable_area": 180}, record_id=site.id)
    a.sync()
    with FaultProxy(registry.server.port) as proxy:
        proxy.plan("/api/v1/push", ["drop_after"])
        b.connect_engine(proxy.url, timeout=3)
        assert b.sync().offline  # the registry decided "conflict"; B never heard it
        assert proxy.by_path[("/api/v1/push", "drop_after")] == 1
    b.connect_engine()
    answers = count_answers(b.engine)
    report = b.sync()  # the resend is answered "already applied" with the first answer
    assert answers == {"already_applied": 1}
    assert report.conflicts == 1 and report.pushed == 0
    [conflict] = conflicts.open_conflicts(b.store)
    assert conflict.fields["usable_area"] == {"mine": 180.0, "theirs": 150.0}


def test_concurrent_writers_while_a_laptop_pulls_skip_nothing(registry, laptops):
    from sqlalchemy import text

    from sync.server.db import reading

    writers = [laptops(f"w{i}", user=f"writer{i}") for i in range(3)]
    puller = laptops("p", user="reader")
    for laptop in (*writers, puller):
        laptop.sync()
        laptop.connect_engine(push_limit=3, pull_limit=7)
    errors: list[str] = []

    checked = threading.Condition()
    checks = overlapping = 0

    def write(laptop, seed: int) -> None:
        rng = random.Random(seed)
        mine: list[str] = []
        try:
            for step in range(25):
                if step == 10:  # mid-way, let the puller check at least three times
                    with checked:
                        checked.wait_for(lambda: overlapping >= 3, timeout=120)
                if mine and rng.random() < 0.5:
                    laptop.store.save("site", {"usable_area": rng.randint(20, 900)},
                                      record_id=rng.choice(mine))
                else:
                    mine.append(laptop.store.save("site", complete_site(
                        grid_code=rng.choice(GRIDS))).id)
                report = laptop.sync()
                if report.errors:
                    errors.extend(report.errors)
        except Exception as exc:  # noqa: BLE001
            errors.append(repr(exc))

    threads = [threading.Thread(target=write, args=(w, i)) for i, w in enumerate(writers)]
    for t in threads:
        t.start()
    engine = admin.engine_for(registry.database_url)
    while any(t.is_alive() for t in threads) or not checks:
        writing = any(t.is_alive() for t in threads)
        assert puller.sync().ok
        seq = int(puller.store.setting(cursor_key("reader")).rpartition(":")[2])
        with reading(engine) as conn:
            expected = dict(conn.execute(text(
                "SELECT record_id, max(version) FROM history WHERE seq <= :s "
                "GROUP BY record_id"), {"s": seq}).all())
        local = dict(puller.store.conn.execute("SELECT id, server_version FROM record"))
        # Whatever the cursor covers is here, at least at that version: nothing skipped.
        assert all(local.get(rid, 0) >= version for rid, version in expected.items())
        with checked:
            checks += 1
            overlapping += writing  # pulled while the writers were mid-way
            checked.notify_all()
    for t in threads:
        t.join()
    assert not errors, errors[:3]
    assert puller.sync().ok
    assert puller.records() == live(registry.records())
    assert overlapping >= 3 and len(puller.records()) >= 30


@sqlite_only
def test_watch_loop_survives_a_local_database_error(registry, laptops):
    a = laptops("a")
    calls = []
    original = a.engine._cycle

    def flaky(report):  # noqa: ANN001, ANN202
        calls.append(1)
        if len(calls) == 1:
            raise sqlite3.OperationalError("database is locked")
        return original(report)

    a.engine._cycle = flaky
    reports, stop = [], threading.Event()
    thread = threading.Thread(target=a.engine.run_forever, args=(stop,), kwargs={
        "interval": 30, "base_backoff": 0.05, "max_backoff": 0.1, "on_report": reports.append})
    thread.start()
    wait_until(lambda: len(reports) >= 2, "a cycle after the failed one")
    stop.set()
    thread.join(5)
    assert "locked" in reports[0].errors[0] and reports[1].ok
