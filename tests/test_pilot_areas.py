"""Pilot communities and annual targets: a `pilot` (and `annual_target`) column in
`admin load-areas`, `admin set-pilot` / `set-target`, and both reaching laptops at sync like the
other area data (registry on SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest

from fieldapp.cli import main
from sync.server import admin
from tests.sync_helpers import laptops, registry  # noqa: F401  (fixtures)

STREET = "310104003"
COMMUNITY = "310104003001"
OTHER = "310104003002"


def local_flags(store, *codes: str) -> dict[str, tuple[int, int | None]]:
    return {code: (pilot, target) for code, pilot, target in store.conn.execute(
        f"SELECT code, pilot, annual_target FROM area WHERE code IN ({','.join('?' * len(codes))})",
        codes)}


def test_pilot_and_targets_reach_the_laptop(registry, laptops, tmp_path, capsys):
    laptop = laptops("boss", user="lisupervisor", role="supervisor", scopes="310104")
    assert not laptop.sync().errors
    assert local_flags(laptop.store, COMMUNITY) == {COMMUNITY: (0, None)}
    # A CSV with a pilot column (是/否) and targets; rows without them keep what they had.
    path = tmp_path / "areas.csv"
    path.write_text("code,name,level,parent_code,pilot,annual_target\n"
                    f"{COMMUNITY},天平第一居委,community,{STREET},是,2\n"
                    f"{OTHER},天平第二居委,community,{STREET},,\n", encoding="utf-8")
    code = main(["admin", "--database-url", registry.database_url, "load-areas", str(path)])
    assert code == 0, capsys.readouterr().err
    code = main(["admin", "--database-url", registry.database_url, "set-target", STREET,
                 "--target", "5"])
    assert code == 0 and "annual target set on 1" in capsys.readouterr().out
    assert not laptop.sync().errors
    assert local_flags(laptop.store, COMMUNITY, OTHER, STREET) == {
        COMMUNITY: (1, 2), OTHER: (0, None), STREET: (0, 5)}
    assert main(["admin", "--database-url", registry.database_url, "set-pilot", OTHER]) == 0
    assert main(["admin", "--database-url", registry.database_url, "set-pilot", "--off",
                 COMMUNITY]) == 0
    capsys.readouterr()
    # The CSV again without the columns: nothing it does not mention changes.
    path.write_text("code,name,level,parent_code\n"
                    f"{OTHER},天平第二居委,community,{STREET}\n", encoding="utf-8")
    assert main(["admin", "--database-url", registry.database_url, "load-areas",
                 str(path)]) == 0
    assert not laptop.sync().errors
    assert local_flags(laptop.store, COMMUNITY, OTHER) == {COMMUNITY: (0, 2), OTHER: (1, None)}


def test_set_pilot_refuses_unknown_codes_and_bad_targets(tmp_path):
    url = f"sqlite:///{tmp_path / 'registry.sqlite3'}"
    admin.load_demo_areas(url)
    with pytest.raises(admin.AdminError, match="no such area codes or names: 999"):
        admin.set_pilot(url, [COMMUNITY, "999"])
    with pytest.raises(admin.AdminError, match="0 to 10000"):
        admin.set_target(url, [COMMUNITY], -1)
    assert admin.set_pilot(url, [COMMUNITY]) == 1
    assert admin.set_pilot(url, [COMMUNITY]) == 0  # already a pilot: nothing to send again
    path = tmp_path / "bad.csv"
    path.write_text("code,name,level,parent_code,pilot\n"
                    f"{COMMUNITY},天平第一居委,community,{STREET},也许\n", encoding="utf-8")
    with pytest.raises(admin.AdminError, match="是/否"):
        admin.read_areas_csv(path)


def test_set_pilot_and_target_take_full_width_codes_and_names(tmp_path):
    """３１０１０４００３００１ (a Chinese input method) and the area's own name were "no such
    area codes"; a name several areas share is refused with their codes."""
    from sqlalchemy import func, select

    from sync.server.areas import AREAS
    from sync.server.db import make_engine

    url = f"sqlite:///{tmp_path / 'registry.sqlite3'}"
    admin.load_demo_areas(url)
    wide = COMMUNITY.translate(str.maketrans("0123456789G", "０１２３４５６７８９Ｇ"))
    assert admin.set_pilot(url, [wide]) == 1
    engine = make_engine(url)
    with engine.connect() as conn:
        name = conn.execute(select(AREAS.c.name).where(AREAS.c.code == COMMUNITY)).scalar()
        shared = conn.execute(select(AREAS.c.name).group_by(AREAS.c.name)
                              .having(func.count() > 1)).scalars().first()
    engine.dispose()
    assert admin.set_pilot(url, [name], pilot=False) == 1
    assert admin.set_target(url, [name], 4) == 1
    if shared is not None:
        with pytest.raises(admin.AdminError, match="use a code"):
            admin.set_pilot(url, [shared])


def test_the_demo_registry_keeps_the_demos_pilots_and_projects(tmp_path, capsys):
    """The demo laptop syncs with the demo registry: its pilot flags, targets and projects
    survive the sync (the registry has the same), and the openings' facilities come back as
    the registry's, nothing left to send."""
    import time

    from fieldapp.context import AppContext
    from fieldapp.domain.demo_areas import pilot_communities
    from sync.background import BackgroundSync
    from sync.demo_registry import start_in_background

    home = tmp_path / "demo"
    assert main(["--data-dir", str(home), "demo", "--no-open", "--records", "400"]) == 0
    capsys.readouterr()
    ctx = AppContext.create(str(home))
    store = ctx.open_store()
    projects = store.conn.execute(
        "SELECT count(*) FROM record WHERE kind = 'site' "
        "AND json_extract(data, '$.project_stage') IS NOT NULL").fetchone()[0]
    opened = store.conn.execute(
        "SELECT count(*) FROM record WHERE kind = 'facility' "
        "AND json_extract(data, '$.site_id') IS NOT NULL").fetchone()[0]
    assert projects > 5 and opened > 0
    starting = start_in_background(home)
    states: list[str] = []
    syncing = BackgroundSync(ctx, lambda status, **_: states.append(status),
                             enroll_check_every=0.2)
    syncing.start()
    try:
        deadline = time.monotonic() + 60
        while "online" not in states:
            assert time.monotonic() < deadline, (states, starting.error)
            time.sleep(0.05)
        syncing.poke()
        store = ctx.open_store()
        while store.conn.execute("SELECT count(*) FROM record WHERE kind = 'facility' AND "
                                 "json_extract(data, '$.site_id') IS NOT NULL AND "
                                 "server_version = 0").fetchone()[0]:
            assert time.monotonic() < deadline, "the registry's facilities never came"
            time.sleep(0.1)
    finally:
        syncing.stop()
        starting.stop()
    assert store.pending_count() == 0
    assert store.conn.execute("SELECT count(*) FROM area WHERE pilot = 1").fetchone()[0] == \
        len(pilot_communities())
    assert store.conn.execute("SELECT annual_target FROM area WHERE code = '310104'"
                              ).fetchone()[0] == 14
    assert store.conn.execute(
        "SELECT count(*) FROM record WHERE kind = 'site' "
        "AND json_extract(data, '$.project_stage') IS NOT NULL").fetchone()[0] == projects
    store.conn.close()
