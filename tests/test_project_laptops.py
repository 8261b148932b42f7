"""An opening made offline on one laptop reaches the registry and another laptop as one
facility: the laptop's own copy is replaced by the registry's, nothing is left to send."""

from __future__ import annotations

from fieldapp.domain import project as P
from fieldapp.store.projects import advance
from tests.conftest import complete_site
from tests.sync_helpers import laptops, registry  # noqa: F401  (fixtures)

READY = {**{f"jr_{d}_result": "pass" for d in ("fagai", "planning", "housing", "fire")},
         "owner_consent": "agreed", "authority_consent": "agreed"}


def synced(*laptops_) -> None:
    for _ in range(2):
        for laptop in laptops_:
            assert not laptop.sync().errors


def test_a_laptops_opening_reaches_the_other_laptop_as_one_facility(registry, laptops):
    boss = laptops("boss", user="lisupervisor", role="supervisor", scopes="310104")
    other = laptops("other", user="zhaoqiang", role="supervisor", scopes="310104")
    synced(boss, other)
    made = boss.store.save("site", complete_site(**READY), status="submitted")
    boss.store.save("site", {}, record_id=made.id, status="approved")
    for stage in P.PIPELINE[:-1]:
        advance(boss.store, made.id, stage, "2025-03-01")
    moved = advance(boss.store, made.id, "opened", "2025-04-01",
                    {"project_operator": "街道自营", "project_operating_mode": "self"})
    assert moved.facility.server_version == 0  # the laptop's copy until the registry's comes
    synced(boss, other)
    server = [r for r in registry.records().values() if r["kind"] == "facility"]
    assert len(server) == 1 and server[0]["data"]["site_id"] == made.id
    for laptop in (boss, other):
        facility = laptop.store.get(P.facility_id_for(made.id))
        assert facility is not None and facility.server_version >= 1
        assert facility.data["opened_on"] == "2025-04-01"
        assert laptop.store.get(made.id).data["project_stage"] == "opened"
        assert laptop.store.pending_count() == 0


def test_moving_a_project_on_the_command_line_needs_the_supervisors_pin(registry, tmp_path,
                                                                        capsys, monkeypatch):
    import io

    from fieldapp.cli import main
    from fieldapp.context import AppContext
    from sync import vault
    from tests.test_pin import BOSS_PIN, team_laptop

    home = str(tmp_path / "team")
    team_laptop(registry, tmp_path / "team")
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{BOSS_PIN}\n"))
    assert main(["--data-dir", home, "user", "switch", "lisupervisor"]) == 0
    assert main(["--data-dir", home, "sync"]) == 0  # brings the areas
    store = AppContext.create(home).open_store()
    made = store.save("site", complete_site(**READY), status="submitted")
    store.save("site", {}, record_id=made.id, status="approved")
    vault.SESSION.forget()  # the next command is a new process
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert main(["--data-dir", home, "project", "advance", made.id[:8], "--stage", "已选址"]) == 1
    assert "PIN" in capsys.readouterr().err and "project_stage" not in store.get(made.id).data
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{BOSS_PIN}\n"))
    assert main(["--data-dir", home, "project", "advance", made.id[:8], "--stage", "已选址"]) == 0
    assert store.get(made.id).data["project_stage"] == "selected"
    store.conn.close()
