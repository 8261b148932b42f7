"""The support view: `fieldapp admin devices` / `admin activity` answer "did her laptop sync,
and what was waiting?", and `fieldapp doctor` on a laptop finds each problem and says what to
do, in Chinese and English. Times are shown in local time with the zone named."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sync_helpers import Laptop, laptops, registry, stale_scope  # noqa: F401

from fieldapp.cli import main
from sync import doctor
from sync.server import admin
from sync.server.db import writing
from tests.conftest import complete_site

ON_SQLITE = pytest.mark.parametrize("registry", ["sqlite"], indirect=True)


def _age_device(url: str, user: str, days: int) -> None:
    old = (datetime.now(UTC) - timedelta(days=days)).isoformat(timespec="milliseconds")
    with writing(admin.engine_for(url)) as conn:
        conn.execute(text("UPDATE device_status SET last_seen_at = :t WHERE user_name = :u"),
                     {"t": old, "u": user})


@ON_SQLITE
def test_devices_and_activity_show_who_synced_what_and_when(registry, laptops, capsys):
    url = registry.database_url
    worker = laptops("worker-laptop", user="wangfang")
    idle = laptops("old-laptop", user="zhaolei")
    laptops("never", user="sunli")  # enrolled, never synced
    assert worker.sync().ok and idle.sync().ok
    for n in (1, 2, 3):
        worker.store.save("site", complete_site(address=f"天平路{n}号"))
    assert worker.sync().ok
    worker.store.save("site", complete_site(address="天平路9号"))  # waits: reported next time
    assert worker.sync().ok
    _age_device(url, "zhaolei", 10)

    assert main(["admin", "--database-url", url, "devices"]) == 0
    out = capsys.readouterr().out
    assert "UTC+8" in out.splitlines()[0]  # local time, zone named (tests run in Shanghai)
    lines = {line.split()[0]: line for line in out.splitlines()[1:]}
    assert set(lines) == {"wangfang", "zhaolei", "sunli"}
    assert "0.1.0" in lines["wangfang"] and "从未 never" in lines["sunli"]
    assert main(["admin", "--database-url", url, "devices", "--json"]) == 0
    rows = {r["user"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["wangfang"]["queued"] == 1  # what waited when its last sync started
    assert rows["wangfang"]["last_push_at"] and rows["sunli"]["last_sync_at"] is None
    assert main(["admin", "--database-url", url, "devices", "--stale", "7d", "--json"]) == 0
    assert {r["user"] for r in json.loads(capsys.readouterr().out)} == {"zhaolei", "sunli"}
    assert main(["admin", "--database-url", url, "devices", "--user", "nobody"]) == 1
    assert "no user named nobody" in capsys.readouterr().err

    assert main(["admin", "--database-url", url, "activity", "--user", "wangfang",
                 "--since", "1d"]) == 0
    out = capsys.readouterr().out
    assert "UTC+8" in out.splitlines()[0]
    assert "推送 pushed 3 (applied 3)" in out and "推送 pushed 1 (applied 1)" in out
    assert "注册 enrolled" in out and "zhaolei" not in out
    today = datetime.now(UTC).astimezone().date().isoformat()
    assert main(["admin", "--database-url", url, "activity", "--since", today, "--json"]) == 0
    assert {r["user"] for r in json.loads(capsys.readouterr().out)} >= {"wangfang", "zhaolei"}
    assert main(["admin", "--database-url", url, "activity", "--since", "last week"]) == 1
    assert "2026-03-01" in capsys.readouterr().err


@ON_SQLITE
def test_doctor_finds_each_problem_and_says_what_to_do(registry, laptops, capsys):
    worker = laptops("w", user="wangfang")
    assert worker.sync().ok
    home = str(worker.home)
    assert main(["--data-dir", home, "doctor"]) == 0
    out = capsys.readouterr().out
    assert "数据库完好 / the database is intact" in out and "all good" in out
    assert "the credential is valid" in out and "from the registry's" in out

    # A record in a grid outside the worker's scope: the registry refuses it, it is parked.
    stale_scope(worker.store)  # the laptop itself now refuses it; let the registry say no
    worker.store.save("site", complete_site(grid_code="310101002001G01", address="外滩1号"))
    assert worker.sync().rejected
    assert main(["--data-dir", home, "doctor"]) == 1
    out = capsys.readouterr().out
    assert "1 条修改被服务器拒绝" in out and "run fieldapp outbox to see why" in out

    admin.revoke_user(registry.database_url, "wangfang", devices_only=True)
    assert main(["--data-dir", home, "doctor", "--json"]) == 1
    found = {f["check"]: f for f in json.loads(capsys.readouterr().out)}
    assert found["credential"]["level"] == "fail" and "enroll" in found["credential"]["todo_en"]
    assert "注册码" in found["credential"]["todo_zh"]

    registry.server.stop()
    try:
        assert main(["--data-dir", home, "doctor"]) == 1
        out = capsys.readouterr().out
        assert "cannot reach the registry" in out and "keep working offline" in out
    finally:
        registry.server.start()


def test_doctor_on_a_laptop_never_enrolled(tmp_path, capsys):
    Laptop("x", tmp_path / "x", "http://127.0.0.1:9").close()  # a database, no credential
    assert main(["--data-dir", str(tmp_path / "x"), "doctor"]) == 1
    out = capsys.readouterr().out
    assert "not enrolled" in out and "fieldapp enroll --server" in out


def test_clock_skew_and_full_disk_are_named_with_the_fix(monkeypatch, tmp_path):
    now = datetime.now(UTC)
    ok = doctor._clock((now - timedelta(seconds=20)).isoformat(), now, now)
    assert ok.level == "ok"
    slow = doctor._clock((now + timedelta(minutes=12)).isoformat(), now, now)
    assert slow.level == "warn" and "慢 12 分钟" in slow.found_zh
    assert "12 min behind" in slow.found_en and "UTC+8" in slow.found_en
    assert "automatic time" in slow.todo_en

    laptop = Laptop("d", tmp_path / "d", "http://127.0.0.1:9")
    try:
        monkeypatch.setattr(doctor, "MIN_FREE", 2**62)
        found = {f.check: f for f in doctor.examine(laptop.store, laptop.home,
                                                    laptop.config_dir, timeout=1)}
        assert found["disk"].level == "fail" and "free some space" in found["disk"].todo_en
    finally:
        laptop.close()
