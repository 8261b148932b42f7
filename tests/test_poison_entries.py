"""Poison entries never block the queue: an entry the registry fails on (a server error, an
answer that cannot be read, a request it refuses whole) is found by splitting the batch, parked
with its reason after a few tries and retried later with backoff, while everything else goes
on. A registry that is down for everyone parks nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import OperationalError

from fieldapp.cli import main
from fieldapp.store import sync_state
from sync.server import push as server_push
from tests.conftest import complete_site
from tests.sync_helpers import laptops, registry, sqlite_only  # noqa: F401  (fixtures)

POISON = "毒药路1号"


@pytest.fixture
def poisoned(monkeypatch):
    """The registry fails (HTTP 500) on any batch holding a create with the POISON address."""
    real = server_push.Batch._create

    def failing_create(self, m):  # noqa: ANN001, ANN202
        if m.fields.get("address") == POISON:
            raise RuntimeError("a bug the registry has with this one record")
        return real(self, m)

    monkeypatch.setattr(server_push.Batch, "_create", failing_create)
    return lambda: monkeypatch.setattr(server_push.Batch, "_create", real)


def _states(store) -> dict[str, str]:
    return {e.fields.get("address", e.record_id): e.state for e in sync_state.entries(store)}


@sqlite_only
def test_a_poison_entry_is_parked_and_the_rest_goes_on(registry, laptops, poisoned):
    worker = laptops("worker")
    worker.sync()
    sites = [worker.store.save("site", complete_site(address=f"天平路{n}号")) for n in range(4)]
    bad = worker.store.save("site", complete_site(address=POISON))
    after = worker.store.save("site", complete_site(address="天平路9号"))
    first = worker.sync()
    assert first.pushed == 5 and first.errors  # everything else went through at once
    assert set(registry.records()) == {s.id for s in [*sites, after]}
    [waiting] = sync_state.entries(worker.store)
    assert waiting.record_id == bad.id and waiting.state == "pending"
    for _ in range(2):
        worker.sync()
    [parked] = sync_state.entries(worker.store)
    assert parked.state == "parked" and parked.last_error["code"] == "server_error"
    assert parked.retry_at and "HTTP 500" in parked.reason("en")
    assert "自动重试" in parked.reason("zh") and "retried automatically" in parked.reason("en")
    clean = worker.sync()
    assert not clean.errors  # a parked entry is not an error of every cycle

    later = worker.store.save("site", complete_site(address="天平路10号"))
    assert worker.sync().pushed == 1 and later.id in registry.records()

    poisoned()  # the registry is fixed; the parked entry waits for its time ...
    assert worker.sync().pushed == 0
    _go_past_retry_time(worker.store)
    assert worker.sync().pushed == 1  # ... and then goes by itself
    assert bad.id in registry.records() and not sync_state.entries(worker.store)


def _go_past_retry_time(store) -> None:
    past = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    store.conn.execute("UPDATE outbox SET retry_at = ? WHERE retry_at IS NOT NULL", (past,))
    store.conn.commit()


@sqlite_only
def test_backoff_grows_and_later_edits_of_that_record_wait(registry, laptops, poisoned):
    worker = laptops("worker")
    worker.sync()
    bad = worker.store.save("site", complete_site(address=POISON))
    for _ in range(3):
        worker.sync()
    [entry] = sync_state.entries(worker.store)
    first_wait = datetime.fromisoformat(entry.retry_at) - datetime.now(UTC)
    worker.store.save("site", {"usable_area": 99}, record_id=bad.id)
    entries = sync_state.entries(worker.store)
    assert [e.state for e in entries] == ["parked", "pending"]
    assert sync_state.held_behind(worker.store) == {entries[1].seq: entries[0].seq}
    _go_past_retry_time(worker.store)
    worker.sync()  # fails again at once: parked again, waiting longer
    entries = sync_state.entries(worker.store)
    assert [e.state for e in entries] == ["parked", "pending"]
    assert datetime.fromisoformat(entries[0].retry_at) - datetime.now(UTC) > first_wait
    assert bad.id not in registry.records()


@sqlite_only
def test_an_answer_that_cannot_be_read_parks_only_its_entry(registry, laptops, monkeypatch):
    real = server_push.Batch.apply

    def garbled(self, m):  # noqa: ANN001, ANN202
        result = real(self, m)
        if m.fields.get("address") == POISON:
            return {**result, "outcome": "maybe"}  # not a protocol outcome
        return result

    monkeypatch.setattr(server_push.Batch, "apply", garbled)
    worker = laptops("worker")
    worker.sync()
    good = [worker.store.save("site", complete_site(address=f"天平路{n}号")) for n in range(3)]
    worker.store.save("site", complete_site(address=POISON))
    for _ in range(3):
        worker.sync()
    assert all(s.id in registry.records() for s in good)
    [entry] = sync_state.entries(worker.store)
    assert entry.state == "parked" and entry.last_error["code"] == "server_error"
    assert "not understood" in entry.reason("en")


@sqlite_only
def test_a_registry_down_for_everyone_parks_nothing(registry, laptops, monkeypatch):
    worker = laptops("worker")
    worker.sync()
    for n in range(3):
        worker.store.save("site", complete_site(address=f"天平路{n}号"))

    def down(*_a, **_k):  # noqa: ANN002, ANN003, ANN202
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(server_push, "push", down)
    monkeypatch.setattr("sync.server.app.push", down)
    for _ in range(5):
        report = worker.sync()
        assert report.errors and report.offline
    assert {e.state for e in sync_state.entries(worker.store)} == {"pending"}
    assert all(e.server_failures == 0 for e in sync_state.entries(worker.store))


@sqlite_only
def test_a_batch_too_big_for_the_registry_is_split(registry, laptops):
    """500 sites with every text field full make a body over the registry's 5 MB (413)."""
    from fieldapp.domain.records import LONGTEXT, SPECS, TEXT
    from fieldapp.domain.validation import DEFAULT_MAX_LEN
    from fieldapp.store.records import Record

    worker = laptops("worker")
    worker.sync()
    wide = "𠀀"  # CJK Extension B: four bytes in UTF-8
    full = {s.name: wide * (s.max_len or DEFAULT_MAX_LEN) for s in SPECS["site"]
            if s.type in (TEXT, LONGTEXT) and not s.roles}
    records = [Record(id=f"00000000-0000-4000-8000-{n:012d}", kind="site", status="draft",
                      data={**complete_site(usable_area=100), **full,
                            "external_id": f"{n:04d}" + wide * 60,
                            "address": f"长记录路{n}号" + wide * 190})
               for n in range(500)]
    worker.store.insert_many(records)
    body = len(json.dumps([{"fields": r.data} for r in records], ensure_ascii=False)
               .encode("utf-8"))
    assert body > 5 * 1024 * 1024
    report = worker.sync()
    assert report.pushed == 500 and not report.errors and not report.rejected


@sqlite_only
def test_outbox_command_shows_parked_and_held_entries(registry, laptops, poisoned, capsys):
    worker = laptops("worker")
    worker.sync()
    bad = worker.store.save("site", complete_site(address=POISON))
    for _ in range(3):
        worker.sync()
    worker.store.save("site", {"usable_area": 99}, record_id=bad.id)
    worker.store.conn.commit()
    assert main(["--data-dir", str(worker.home), "outbox"]) == 0
    out = capsys.readouterr().out
    assert "server_error" in out or "服务器" in out
    assert "#" in out and ("等待" in out or "waiting" in out)
    assert main(["--data-dir", str(worker.home), "outbox", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["state"] == "parked" and rows[0]["retry_at"]
    assert rows[1]["held_by"] == rows[0]["seq"]
