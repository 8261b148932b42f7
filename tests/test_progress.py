"""Pilot progress: counting per pilot community, rolling up per street and district, coverage
before/after the opened facilities, the annual plan; `fieldapp progress` (text, JSON, xlsx)
and the demo's picture."""

from __future__ import annotations

import json
from datetime import date

import pytest
from openpyxl import load_workbook

from fieldapp.cli import main
from fieldapp.demo import pilot_communities, populate
from fieldapp.domain import project as P
from fieldapp.domain.progress import AreaIn, SiteFacts, compute
from fieldapp.domain.validation import check_record
from fieldapp.store.progress_load import load_progress

AREAS = [
    AreaIn("310104", "徐汇区", "district", None, annual_target=5),
    AreaIn("310104003", "天平路街道", "street", "310104"),
    AreaIn("310104003001", "一居", "community", "310104003", pilot=True, annual_target=2),
    AreaIn("310104003002", "二居", "community", "310104003", pilot=True, annual_target=1),
    AreaIn("310104003003", "三居", "community", "310104003"),  # not a pilot
    AreaIn("310104003001G01", "网格1", "grid", "310104003001"),
    AreaIn("310104003002G01", "网格2", "grid", "310104003002"),
    AreaIn("310104003003G01", "网格3", "grid", "310104003003"),
]
REVIEWED = {f"jr_{d}_result": "pass" for d in ("fagai", "planning", "housing", "fire")}
AGREED = {"owner_consent": "agreed", "authority_consent": "agreed"}


def test_counts_per_pilot_community_and_roll_ups():
    sites = [
        SiteFacts("310104003001G01", {}),
        SiteFacts("310104003001G01", {**AGREED}),
        SiteFacts("310104003001G01", {**AGREED, **REVIEWED, "project_stage": "converting"}),
        SiteFacts("310104003001G01", {**AGREED, **REVIEWED, "project_stage": "opened",
                                      "project_opened_on": "2026-03-01"}),
        SiteFacts("310104003002G01", {**AGREED, **REVIEWED, "project_stage": "opened",
                                      "project_opened_on": "2025-12-31"}),
        SiteFacts("310104003003G01", {**AGREED}),  # outside the pilots: not counted
        # Built, not yet open: still under conversion (it counted in no column).
        SiteFacts("310104003002G01", {**AGREED, **REVIEWED, "project_stage": "built"}),
    ]
    covered = {"310104003001G01": (3, 5), "310104003002G01": (4, 4), "310104003003G01": (1, 1)}
    result = compute(AREAS, sites, covered, scenes=11, year=2026)
    one, two = result.communities
    assert (one.sites, one.consented, one.passed, one.converting, one.opened) == (4, 3, 2, 1, 1)
    assert (one.covered_before, one.covered_after, one.cells) == (3, 5, 11)
    assert (one.opened_this_year, one.target) == (1, 2)
    assert (two.opened, two.opened_this_year, two.converting) == (1, 0, 1)  # opened last year
    [street] = result.streets
    assert (street.sites, street.opened, street.covered_after, street.cells) == (6, 2, 9, 22)
    assert street.target == 3  # no street plan: its pilot communities' plans added up
    [district] = result.districts
    assert district.target == 5 and district.opened_this_year == 1  # the district's own plan
    assert [c.code for c in street.children] == ["310104003001", "310104003002"]


def test_no_pilots_gives_an_empty_table():
    areas = [AreaIn(a.code, a.name, a.level, a.parent_code) for a in AREAS]
    result = compute(areas, [SiteFacts("310104003001G01", {})], {}, 11, 2026)
    assert result.communities == result.streets == result.districts == []


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory):
    from fieldapp.store.db import connect
    from fieldapp.store.records import RecordStore

    home = tmp_path_factory.mktemp("demo")
    store = RecordStore(connect(home / "fieldapp.sqlite3"), user="lisupervisor")
    populate(store, 2000)
    store.conn.close()
    return home


def test_demo_holds_every_stage_valid_and_pilots(demo_home):
    from fieldapp.store.db import connect
    from fieldapp.store.records import RecordStore

    store = RecordStore(connect(demo_home / "fieldapp.sqlite3"), user="lisupervisor")
    try:
        stages, opened = set(), 0
        for rid, kind, status, data in store.conn.execute(
                "SELECT id, kind, status, data FROM record"):
            data = json.loads(data)
            _, errors = check_record(kind, data, status)
            assert errors == [], (kind, data, errors)
            if kind == "site" and data.get("project_stage"):
                stages.add(data["project_stage"])
                if data["project_stage"] == "opened":
                    opened += 1
                    facility = store.get(P.facility_id_for(rid))
                    assert facility is not None and facility.data["site_id"] == rid
        assert stages == set(P.DATED_STAGES)
        pilots = store.conn.execute("SELECT count(*) FROM area WHERE pilot = 1").fetchone()[0]
        assert pilots == len(pilot_communities()) > 20
        progress = load_progress(store)
        assert len(progress.communities) == pilots and progress.year == date.today().year
        assert sum(r.opened for r in progress.communities) == opened > 10
        assert sum(r.opened_this_year for r in progress.communities) > 0
        assert any(r.covered_after > r.covered_before for r in progress.communities)
        assert all(r.covered_after >= r.covered_before for r in progress.communities)
    finally:
        store.conn.close()


def run(capsys, *args) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_progress_text_json_and_workbook(demo_home, capsys, tmp_path):
    home = ["--data-dir", str(demo_home)]
    code, out, err = run(capsys, *home, "progress", "--area", "徐汇区", "--json")
    assert code == 0, err
    shown = json.loads(out)
    assert [d["code"] for d in shown["districts"]] == ["310104"]
    assert shown["districts"][0]["target"] == 14
    assert all(c["code"].startswith("310104") for c in shown["communities"])
    code, out, _ = run(capsys, *home, "progress", "--area", "310104003")
    assert "天平路第一居委" in out and "天平路街道: 从发现到开放" in out and "█" in out
    code, out, _ = run(capsys, *home, "--lang", "en", "progress")
    assert "Pilot communities" in out and "Opened" in out and "from found to open" in out
    path = tmp_path / "进展.xlsx"
    code, _, err = run(capsys, *home, "progress", "-o", str(path))
    assert code == 0, err
    book = load_workbook(path)
    assert book.sheetnames == ["试点社区", "街镇", "区"]
    header = [c.value for c in book["试点社区"][1]]
    assert header[:7] == ["编码", "名称", "已发现", "双方同意", "联审通过", "改造中", "已开放"]
    assert book["试点社区"].max_row - 1 == len(pilot_communities())
    assert book["区"].max_row - 1 == 4  # the demo's four districts
    code, _, err = run(capsys, *home, "progress", "-o", str(tmp_path / "x.txt"))
    assert code == 1 and ".xlsx" in err


def test_pilot_communities_outside_the_users_areas_are_not_listed(demo_home, capsys):
    """A supervisor of 徐汇 saw every other district's pilot communities at 0 found, 0
    opened, with their plans added to the total; the scope rule keeps to their areas (and
    --all-local shows the rest)."""
    from fieldapp.store.db import connect
    from fieldapp.store.records import RecordStore

    store = RecordStore(connect(demo_home / "fieldapp.sqlite3"), user="qa_xuhui")
    try:
        store.set_setting("scopes:qa_xuhui", "310104")
        scoped = load_progress(store)
        everything = load_progress(store, all_local=True)
    finally:
        store.conn.close()
    assert [d.code for d in scoped.districts] == ["310104"]
    assert scoped.communities and all(c.code.startswith("310104") for c in scoped.communities)
    assert len(everything.districts) == 4 and everything.hidden == 0
    assert scoped.hidden == len(everything.communities) - len(scoped.communities) > 0
    assert sum(c.sites for c in scoped.communities) == \
        sum(c.sites for c in everything.communities if c.code.startswith("310104"))


def test_cli_progress_outside_the_users_areas_says_so(demo_home, capsys):
    """`progress --area 黄浦区` for a user of 徐汇 said "no pilot communities: flag them with
    set-pilot"; it says they lie outside the user's areas."""
    from fieldapp.store.db import connect
    from fieldapp.store.records import RecordStore

    store = RecordStore(connect(demo_home / "fieldapp.sqlite3"), user="lisupervisor")
    user = store.setting("current_user")
    try:
        store.set_setting("current_user", "qa_xuhui")
        store.set_setting("scopes:qa_xuhui", "310104")
        code, out, err = run(capsys, "--data-dir", str(demo_home), "progress", "--area", "黄浦区")
        assert code == 0 and out == "" and "不在您的负责范围" in err and "--all-local" in err
        code, out, err = run(capsys, "--data-dir", str(demo_home), "progress", "--area",
                             "黄浦区", "--all-local")
        assert code == 0 and "南京东路第一居委" in out and err == ""
    finally:
        store.conn.execute("DELETE FROM setting WHERE key = 'current_user'")
        if user is not None:
            store.set_setting("current_user", user)
        store.conn.commit()
        store.conn.close()


def test_a_street_flagged_as_pilot_makes_its_communities_pilots(tmp_path):
    """`admin set-pilot` takes a street (its help says 社区(或街镇)); the flag on the street
    counted nothing: no pilot communities at all."""
    from fieldapp.domain.demo_areas import demo_areas
    from fieldapp.store.db import connect
    from fieldapp.store.records import RecordStore

    store = RecordStore(connect(tmp_path / "fieldapp.sqlite3"), user="li")
    try:
        store.load_areas(demo_areas())
        store.conn.execute("UPDATE area SET pilot = 1 WHERE code = '310104003'")
        store.conn.commit()
        progress = load_progress(store)
        communities = {r[0] for r in store.conn.execute(
            "SELECT code FROM area WHERE level = 'community' AND parent_code = '310104003'")}
    finally:
        store.conn.close()
    assert communities and {c.code for c in progress.communities} == communities
    assert [s.code for s in progress.streets] == ["310104003"]
