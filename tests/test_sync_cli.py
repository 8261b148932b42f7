"""The sync commands end to end against the real registry: enroll, sync, outbox, conflicts,
resolve, user switch, and the demo's own registry."""

from __future__ import annotations

import io
import json
import socket
import stat
import time

from fieldapp.cli import main
from fieldapp.context import AppContext
from sync import conflicts
from tests.conftest import GRID, complete_site
from tests.sync_helpers import Laptop, laptops, registry, sqlite_only, stale_scope  # noqa: F401


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@sqlite_only
def test_enroll_sync_and_refusals_from_the_command_line(registry, tmp_path, capsys,
                                                        monkeypatch):
    home = str(tmp_path / "laptop")
    monkeypatch.setattr("sys.stdin", io.StringIO("246810\n" * 2))  # the PIN enroll asks
    token = registry.token("wangfang", "worker", "310104003")
    code, out, _ = run(capsys, "--data-dir", home, "enroll", "--server", registry.url,
                       "--token", token)
    assert code == 0 and "wangfang" in out
    cred = tmp_path / "laptop" / "config" / "credentials.json"
    assert stat.S_IMODE(cred.stat().st_mode) == 0o600
    assert stat.S_IMODE(cred.parent.stat().st_mode) == 0o700
    assert json.loads(cred.read_text())["users"]["wangfang"]["scopes"] == ["310104003"]
    # The token works once.
    code, _, err = run(capsys, "--data-dir", home, "enroll", "--server", registry.url,
                       "--token", token)
    assert code == 1 and "fieldapp:" in err

    code, out, _ = run(capsys, "--data-dir", home, "sync")
    assert code == 0 and "推送 0" in out and "pushed 0" in out  # both languages, user's first
    store = AppContext.create(home).open_store()
    assert store.user == "wangfang"
    store.save("site", complete_site())
    stale_scope(store)
    outside = store.save("site", complete_site(grid_code="310104004001G01"))
    code, out, _ = run(capsys, "--data-dir", home, "--lang", "en", "sync")
    assert code == 1  # something was rejected
    assert "pushed 1" in out and "rejected" in out and "scope" in out
    code, out, _ = run(capsys, "--data-dir", home, "outbox", "--json")
    [parked] = json.loads(out)
    assert parked["state"] == "parked" and parked["record_id"] == outside.id
    assert "范围" in parked["reason"]
    code, out, _ = run(capsys, "--data-dir", home, "outbox", "--discard", str(parked["seq"]))
    assert code == 0 and store.get(outside.id) is None
    code, out, _ = run(capsys, "--data-dir", home, "sync", "--json")
    assert code == 0 and json.loads(out)["ok"]

    registry.server.stop()
    code, out, err = run(capsys, "--data-dir", home, "sync")
    assert code == 2 and "无法连接" in err  # offline: non-zero, with the reason


@sqlite_only
def test_conflict_listed_and_resolved_from_the_command_line(registry, laptops, capsys):
    a, b = laptops("a"), laptops("b", user="zhaoli")
    for laptop in (a, b, a, b):
        laptop.sync()
    a.sync()
    site = a.store.save("site", complete_site())
    a.sync()
    b.sync()
    a.store.save("site", {"usable_area": 150}, record_id=site.id)
    b.store.save("site", {"usable_area": 180}, record_id=site.id)
    a.sync()
    b.close()
    home = str(b.home)
    code, out, _ = run(capsys, "--data-dir", home, "sync")
    assert code == 0 and "冲突 1" in out
    code, out, _ = run(capsys, "--data-dir", home, "conflicts")
    assert "usable_area" in out and "180.0" in out and "150.0" in out
    conflict_id = out.split()[0].lstrip("#")
    assert "可用面积 (usable_area)" in out  # named as people name it, and as resolve takes it
    code, _, err = run(capsys, "--data-dir", home, "resolve", conflict_id, "usable_area=maybe")
    assert code == 1 and "mine" in err
    code, _, err = run(capsys, "--data-dir", home, "resolve", conflict_id, "备注=本机")
    assert code == 1 and "可用面积 (usable_area)" in err  # not in this conflict: says which are
    code, _, err = run(capsys, "--data-dir", home, "resolve", "999", "备注=本机")
    assert code == 1 and "no open conflict #999" in err
    code, out, _ = run(capsys, "--data-dir", home, "resolve", conflict_id, "可用面积=值:200")
    assert code == 0
    code, out, _ = run(capsys, "--data-dir", home, "sync")
    assert code == 0
    assert registry.records()[site.id]["data"]["usable_area"] == 200.0
    store = AppContext.create(home).open_store()
    assert conflicts.open_count(store) == 0


@sqlite_only
def test_team_laptop_switches_between_enrolled_users(registry, tmp_path, capsys):
    laptop = Laptop("team", tmp_path / "team", registry.url)
    laptop.enroll(registry.token("wangfang", "worker", "310104003"))
    laptop.enroll(registry.token("lisupervisor", "supervisor", "310104"))
    laptop.close()
    home = str(tmp_path / "team")
    code, out, _ = run(capsys, "--data-dir", home, "user", "list")
    assert "* lisupervisor" in out and "  wangfang" in out
    code, out, _ = run(capsys, "--data-dir", home, "user", "switch", "wangfang")
    assert code == 0
    store = AppContext.create(home).open_store()
    assert store.user == "wangfang" and store.role == "worker"
    code, _, err = run(capsys, "--data-dir", home, "user", "switch", "nobody")
    assert code == 1 and "nobody" in err
    assert run(capsys, "--data-dir", home, "sync")[0] == 0
    site = store.save("site", complete_site(grid_code=GRID))
    assert run(capsys, "--data-dir", home, "sync")[0] == 0
    assert registry.records()[site.id]["data"]["grid_code"] == GRID
    # Each user has their own cursor (their scopes differ).
    keys = {r[0] for r in store.conn.execute("SELECT key FROM setting WHERE key LIKE 'sync_c%'")}
    assert keys == {"sync_cursor:wangfang"}


def test_demo_registry_makes_sync_work_with_no_setup(tmp_path, capsys):
    from sync.background import BackgroundSync
    from sync.demo_registry import start_in_background

    home = tmp_path / "demo"
    code, out, _ = run(capsys, "--data-dir", str(home), "demo", "--no-open", "--records", "150")
    assert code == 0
    starting = start_in_background(home)
    ctx = AppContext.create(str(home))
    states: list[str] = []
    syncing = BackgroundSync(ctx, lambda status, **_: states.append(status),
                             enroll_check_every=0.2)
    syncing.start()
    try:
        deadline = time.monotonic() + 60
        while "online" not in states:
            assert time.monotonic() < deadline, (states, starting.error, syncing.engine and
                                                 syncing.engine.last_report)
            time.sleep(0.05)
        store = ctx.open_store()
        assert store.user == "wangfang" and store.pending_count() == 0
        site = store.save("site", complete_site())  # a save syncs at once, no command needed
        while not store.get(site.id).server_version:
            assert time.monotonic() < deadline, (states, syncing.engine.last_report)
            time.sleep(0.05)
    finally:
        syncing.stop()
        starting.stop()
    code, out, _ = run(capsys, "--data-dir", str(home), "user", "list")
    assert "wangfang" in out and "lisupervisor" in out
    # The demo's users are sealed under the demo PIN the dialog shows; it opened unlocked as
    # wangfang (synced above), and switching to the supervisor still asks for the PIN.
    from sync import credentials

    users = credentials.load(home / "config")["users"]
    assert all(credentials.sealed(e) and e["demo_pin"] == "123456" for e in users.values())
    assert credentials.needs_pin(home / "config", "lisupervisor")

    # The next start finds last run's port taken: the registry moves, and background sync
    # (opened at once, as the app does) must follow it rather than stay offline.
    old_port = starting.registry.port
    with socket.socket() as squatter:
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # past TIME_WAIT
        squatter.bind(("127.0.0.1", old_port))
        starting = start_in_background(home)
        assert starting.registry.port != old_port
        states.clear()
        syncing = BackgroundSync(ctx, lambda status, **_: states.append(status),
                                 enroll_check_every=0.2)
        starting.on_ready = syncing.poke
        syncing.start()
        try:
            deadline = time.monotonic() + 30
            while "online" not in states:
                assert time.monotonic() < deadline, (states, starting.error)
                time.sleep(0.05)
        finally:
            syncing.stop()
            starting.stop()
