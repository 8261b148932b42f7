"""Per-user PIN on a laptop (issue 16): the credential is sealed at rest under the PIN
(scrypt + AES-GCM), usable only where the PIN was entered; switching user and a supervisor's
decision need that user's PIN (again after 15 minutes idle); five wrong PINs lock the user;
a forgotten PIN means enrolling again, and queued entries go with the user. On a team laptop
(Pilot) a worker cannot switch to the supervisor without the supervisor's PIN."""

from __future__ import annotations

import io
import json

import pytest
from textual.widgets import Input, Label

from fieldapp.cli import main
from fieldapp.context import AppContext
from fieldapp.store.db import connect
from fieldapp.store.records import RecordStore
from sync import credentials, vault
from sync.engine import open_engine
from tests.conftest import complete_site
from tests.sync_helpers import registry, sqlite_only  # noqa: F401
from tests.ui_support import make_app, wait_until

WORKER_PIN, BOSS_PIN = "246810", "135790"


def team_laptop(registry, home):  # noqa: ANN001, ANN201
    """A laptop with a worker and a supervisor enrolled, each with a PIN; the worker current,
    and a new process (nothing unlocked)."""
    home.mkdir(parents=True, exist_ok=True)
    store = RecordStore(connect(home / "fieldapp.sqlite3"))
    config = home / "config"
    credentials.enroll(config, store, registry.url,
                       registry.token("lisupervisor", "supervisor", "310104"), pin=BOSS_PIN)
    credentials.enroll(config, store, registry.url,
                       registry.token("wangfang", "worker", "310104003"), pin=WORKER_PIN)
    store.conn.close()
    vault.SESSION.forget()
    return config


@sqlite_only
def test_credential_is_sealed_at_rest_and_sync_waits_for_the_pin(registry, tmp_path):
    config = team_laptop(registry, tmp_path / "team")
    stored = (config / "credentials.json").read_text(encoding="utf-8")
    entry = json.loads(stored)["users"]["wangfang"]
    assert "credential" not in entry and entry["sealed"]["kdf"] == "scrypt"
    ctx = AppContext.create(str(tmp_path / "team"))
    with pytest.raises(credentials.Locked):  # background sync waits (retriable)
        open_engine(ctx)
    assert credentials.Locked.retriable
    with pytest.raises(credentials.PinRefused):
        credentials.unlock(config, "wangfang", BOSS_PIN)  # another user's PIN
    credential = credentials.unlock(config, "wangfang", WORKER_PIN)["credential"]
    assert credential not in stored  # not in clear anywhere in the file
    engine = open_engine(ctx)
    with engine.client:
        assert engine.run_cycle().ok
    # The sealed credential opens for its own user only.
    boss = json.loads(stored)["users"]["lisupervisor"]["sealed"]
    with pytest.raises(vault.PinError):
        vault.open_sealed(boss, BOSS_PIN, "wangfang")


@sqlite_only
def test_five_wrong_pins_lock_the_user_for_a_while(registry, tmp_path):
    config = team_laptop(registry, tmp_path / "team")
    for left in (4, 3, 2, 1):
        with pytest.raises(credentials.PinRefused) as wrong:
            credentials.unlock(config, "lisupervisor", "000000")
        assert wrong.value.left == left
    with pytest.raises(credentials.PinRefused) as locked:
        credentials.unlock(config, "lisupervisor", "000000")
    assert locked.value.until
    # Locked: even the right PIN is refused, also in a new process (kept in the file).
    vault.SESSION.forget()
    with pytest.raises(credentials.PinRefused):
        credentials.unlock(config, "lisupervisor", BOSS_PIN)
    later = locked.value.until + 1
    assert credentials.unlock(config, "lisupervisor", BOSS_PIN, now=later)["credential"]


def test_full_width_digits_open_and_a_pin_that_cannot_be_one_costs_no_try(tmp_path):
    """A Chinese input method types １２３４５６: it was a wrong PIN (and a try gone), as were
    spaces around it; a PIN too short to be one (a typo) also cost one of the five tries."""
    sealed = vault.seal("secret", "１３５７９０", "li")  # sealed as ASCII
    assert vault.open_sealed(sealed, "135790", "li") == "secret"
    assert vault.open_sealed(sealed, " １３５７９０ ", "li") == "secret"
    config = tmp_path / "config"
    config.mkdir()
    (config / "credentials.json").write_text(json.dumps({"current": "li", "users": {"li": {
        "user": "li", "role": "supervisor", "scopes": ["310104"], "server": "http://x",
        "sealed": sealed}}}), encoding="utf-8")
    vault.SESSION.forget()
    for typo in ("12", "1357-9", ""):
        with pytest.raises(credentials.PinRefused) as refused:
            credentials.unlock(config, "li", typo)
        assert "6-32" in refused.value.msg.en
    assert "pin_failures" not in credentials.load(config)["users"]["li"]
    assert credentials.unlock(config, "li", "１３５７９０")["credential"] == "secret"
    vault.SESSION.forget()


@sqlite_only
def test_switching_needs_the_pin_and_asks_again_after_15_idle_minutes(registry, tmp_path):
    config = team_laptop(registry, tmp_path / "team")
    store = RecordStore(connect(tmp_path / "team" / "fieldapp.sqlite3"))
    with pytest.raises(credentials.PinRefused):
        credentials.switch(config, store, "lisupervisor")
    with pytest.raises(credentials.PinRefused):
        credentials.switch(config, store, "lisupervisor", WORKER_PIN)
    assert store.setting("current_user") == "wangfang"
    credentials.switch(config, store, "lisupervisor", BOSS_PIN)
    assert store.user == "lisupervisor"
    assert not credentials.needs_pin(config, "lisupervisor")  # just used
    key = credentials.session_key(config, credentials.load(config)["users"]["lisupervisor"])
    vault.SESSION.idle_since(key, vault.IDLE_SECONDS + 1)
    assert credentials.needs_pin(config, "lisupervisor")
    # Idle, but still unlocked for sync: background sync goes on.
    assert credentials.unlocked(config, "lisupervisor")
    store.conn.close()


@sqlite_only
def test_forgotten_pin_means_enrolling_again_and_queued_work_goes_with_the_user(registry,
                                                                                tmp_path):
    home = tmp_path / "team"
    config = team_laptop(registry, home)
    credentials.unlock(config, "wangfang", WORKER_PIN)
    ctx = AppContext.create(str(home))
    engine = open_engine(ctx)
    with engine.client:
        engine.run_cycle()  # the areas
    site = engine.store.save("site", complete_site())
    vault.SESSION.forget()  # closed; the PIN is forgotten
    store = RecordStore(connect(home / "fieldapp.sqlite3"))
    credentials.enroll(config, store, registry.url,
                       registry.token("wangfang", "worker", "310104003"), pin="975310")
    engine = open_engine(ctx)
    with engine.client:
        assert engine.run_cycle().ok
    assert registry.records()[site.id]["data"]["address"] == site.data["address"]
    store.conn.close()


@sqlite_only
def test_command_line_switch_and_decisions_need_the_pin(registry, tmp_path, capsys,
                                                        monkeypatch):
    home = str(tmp_path / "team")
    team_laptop(registry, tmp_path / "team")
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert main(["--data-dir", home, "user", "switch", "lisupervisor"]) == 1
    assert "PIN" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{WORKER_PIN}\n"))
    assert main(["--data-dir", home, "user", "switch", "lisupervisor"]) == 1
    assert "4" in capsys.readouterr().err  # wrong PIN: four more tries
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{BOSS_PIN}\n"))
    assert main(["--data-dir", home, "user", "switch", "lisupervisor"]) == 0
    store = AppContext.create(home).open_store()
    assert store.user == "lisupervisor"
    assert main(["--data-dir", home, "sync"]) == 0  # unlocked here: brings the areas
    vault.SESSION.forget()  # the next command is a new process
    record = store.save("site", complete_site(), status="submitted")
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert main(["--data-dir", home, "review", "approve", record.id[:8]]) == 1
    assert store.get(record.id).status == "submitted"
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{BOSS_PIN}\n"))
    assert main(["--data-dir", home, "review", "approve", record.id[:8]]) == 0
    assert store.get(record.id).status == "approved"
    # The joint review (联审) is the supervisor's step too.
    vault.SESSION.forget()
    other = store.save("site", complete_site(address="天平路9号"), status="submitted")
    joint = ["--data-dir", home, "joint-review", other.id[:8], "--dept", "fire", "--result",
             "pass"]
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert main(joint) == 1
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{BOSS_PIN}\n"))
    assert main(joint) == 0


@sqlite_only
async def test_worker_cannot_switch_to_the_supervisor_without_the_pin(registry, tmp_path):
    home = tmp_path / "team"
    config = team_laptop(registry, home)
    credentials.unlock(config, "wangfang", WORKER_PIN)  # the worker opened the app
    app = make_app(home)
    async with app.run_test(size=(120, 40)) as pilot:
        from fieldapp.ui.screens.pin import PinModal

        await pilot.pause()
        assert not isinstance(app.screen, PinModal)  # the worker is unlocked
        app.action_switch_user("lisupervisor")
        await wait_until(pilot, lambda: isinstance(app.screen, PinModal)
                         and bool(app.screen.query("#pin")))
        for digit in WORKER_PIN:  # the worker tries their own PIN
            await pilot.press(digit)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, PinModal)
        assert "4" in str(app.screen.query_one("#pin-error", Label).render())
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, PinModal)
        assert app.store.user == "wangfang"
        assert AppContext.create(str(home)).open_store().user == "wangfang"
        # With the supervisor's PIN the switch happens.
        app.action_switch_user("lisupervisor")
        await wait_until(pilot, lambda: isinstance(app.screen, PinModal)
                         and bool(app.screen.query("#pin")))
        app.screen.query_one("#pin", Input).value = BOSS_PIN
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.store.user == "lisupervisor")


@sqlite_only
async def test_a_decision_after_15_idle_minutes_asks_the_supervisors_pin(registry, tmp_path):
    from fieldapp.ui.screens.pin import PinModal
    from fieldapp.ui.screens.review import ReviewScreen

    home = tmp_path / "team"
    config = team_laptop(registry, home)
    store = RecordStore(connect(home / "fieldapp.sqlite3"))
    credentials.switch(config, store, "lisupervisor", BOSS_PIN)
    engine = open_engine(AppContext.create(str(home)))
    with engine.client:
        engine.run_cycle()  # the areas
    record = engine.store.save("site", complete_site(), status="submitted")
    key = credentials.session_key(config, credentials.load(config)["users"]["lisupervisor"])
    vault.SESSION.idle_since(key, vault.IDLE_SECONDS + 60)  # lunch
    app = make_app(home)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("v")
        await wait_until(pilot, lambda: isinstance(app.screen, ReviewScreen)
                         and bool(app.screen.records))
        await pilot.press("a")
        await wait_until(pilot, lambda: isinstance(app.screen, PinModal)
                         and bool(app.screen.query("#pin")))
        await pilot.press("escape")
        await pilot.pause()
        assert store.get(record.id).status == "submitted"  # no PIN, no decision
        await pilot.press("a")
        await wait_until(pilot, lambda: isinstance(app.screen, PinModal)
                         and bool(app.screen.query("#pin")))
        app.screen.query_one("#pin", Input).value = BOSS_PIN
        await pilot.press("enter")
        await wait_until(pilot, lambda: store.get(record.id).status == "approved")
    store.conn.close()


@sqlite_only
async def test_sync_waits_while_locked_and_runs_once_the_pin_is_entered(registry, tmp_path):
    from fieldapp.ui.screens.pin import PinModal
    from sync.background import BackgroundSync

    home = tmp_path / "team"
    team_laptop(registry, home)  # a new process: the worker's credential is still sealed
    app = make_app(home)
    app.background = BackgroundSync(app.ctx, app.set_sync_status, enroll_check_every=0.1)
    app.background.start()
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            # Opening on a locked user asks for their PIN; Esc works on, sync waits.
            await wait_until(pilot, lambda: isinstance(app.screen, PinModal)
                             and bool(app.screen.query("#pin")))
            await pilot.press("escape")
            await wait_until(pilot, lambda: app.sync_status == "locked")
            app.action_unlock_sync()  # later, from the palette
            await wait_until(pilot, lambda: isinstance(app.screen, PinModal)
                             and bool(app.screen.query("#pin")))
            app.screen.query_one("#pin", Input).value = WORKER_PIN
            await pilot.press("enter")
            await wait_until(pilot, lambda: app.sync_status == "online", timeout=30)
    finally:
        app.background.stop()
