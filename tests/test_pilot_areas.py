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
    with pytest.raises(admin.AdminError, match="no such area codes: 999"):
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
