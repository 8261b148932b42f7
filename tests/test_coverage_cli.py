"""`fieldapp coverage` and `fieldapp geo` on demo data in a temporary data folder."""

from __future__ import annotations

import json

import pytest

from fieldapp.cli import main
from fieldapp.demo import populate
from fieldapp.domain import norms as N
from fieldapp.domain.geo import haversine_m, wgs84_to_gcj02
from fieldapp.store.coverage_load import analyse_store, load_inputs
from fieldapp.store.db import connect
from fieldapp.store.records import RecordStore
from tests.conftest import console_text

STREET = "310104003"  # 天平路街道


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("covdemo")
    conn = connect(folder / "fieldapp.sqlite3")
    populate(RecordStore(conn, user="demo"), 600)
    conn.close()
    return folder


def run(demo_dir, capsys, *args) -> tuple[int, str, str]:
    code = main(["--data-dir", str(demo_dir), *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_loader_reads_only_the_area_asked_for(demo_dir):
    conn = connect(demo_dir / "fieldapp.sqlite3")
    try:
        inputs = load_inputs(conn, STREET)
        everything = load_inputs(conn)
        counts = dict(conn.execute(
            "SELECT kind, count(*) FROM record WHERE deleted = 0 AND grid_code LIKE ? "
            "GROUP BY kind", (STREET + "%",)).fetchall())
    finally:
        conn.close()
    assert len(inputs.grids) == 9 and all(g.street == STREET for g in inputs.grids)
    assert all(g.district == "310104" and g.lat and g.households for g in inputs.grids)
    inside = {g.code for g in inputs.grids}
    assert sum(f.grid in inside for f in inputs.facilities) == counts["facility"]
    assert sum(s.grid in inside for s in inputs.sites) == counts["site"]
    assert len(everything.grids) > len(inputs.grids)
    # Records of neighbouring streets come along when they are within reach of the area.
    assert len(inputs.facilities) < len(everything.facilities)
    assert all(s.candidate_functions and s.floor_from is not None for s in inputs.sites)


def test_area_result_equals_the_whole_store_result_for_its_grids(demo_dir):
    conn = connect(demo_dir / "fieldapp.sqlite3")
    try:
        street = analyse_store(conn, STREET)
        whole = analyse_store(conn)
    finally:
        conn.close()
    for g in street.grids:
        other = whole.by_code[g.grid.code]
        assert set(g.covered) == set(other.covered) and g.area_per_100 == other.area_per_100
        assert ([c.site.id for c in street.candidates(g.grid.code, "elderly")]
                == [c.site.id for c in whole.candidates(g.grid.code, "elderly")])
    assert all(c.facility.grid.startswith(STREET) for c in street.complexes)


def test_table_marks_match_the_analysis(demo_dir, capsys):
    code, out, _ = run(demo_dir, capsys, "coverage", "--area", STREET)
    assert code == 0
    conn = connect(demo_dir / "fieldapp.sqlite3")
    result = analyse_store(RecordStore(conn), STREET)
    conn.close()
    lines = {line.split()[0]: line for line in out.splitlines() if line.startswith(STREET)}
    for g in result.grids:
        row = lines[g.grid.code]
        assert row.count(console_text("✓")) == len(g.covered)
        assert row.count(console_text("✗")) == len(g.missing)
    assert "天平路街道" in out


def test_function_lists_lacking_grids_and_ranked_sites(demo_dir, capsys):
    code, out, _ = run(demo_dir, capsys, "coverage", "--area", STREET, "--function",
                       "elderly", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["function"] == "elderly" and data["radius_m"] == 300
    lacking = {g["code"] for g in data["grids"] if "elderly" in g["missing"]}
    assert set(data["candidates"]) == lacking
    for ranked in data["candidates"].values():
        scores = [c["score"] for c in ranked]
        assert scores == sorted(scores, reverse=True)
        for c in ranked:
            assert c["distance_m"] is None or c["distance_m"] <= 300
            assert c["reasons"] and all(r["zh"] and r["en"] for r in c["reasons"])
    code, text, _ = run(demo_dir, capsys, "--lang", "en", "coverage", "--area", STREET,
                        "--function", "elderly")
    assert f"{len(lacking)} of 9 grids have no facility within 300 m" in text


def test_unknown_function_and_area_are_one_line_errors(demo_dir, capsys):
    code, _, err = run(demo_dir, capsys, "coverage", "--function", "napping")
    assert code == 2 and err.startswith("fieldapp: ") and err.count("\n") == 1
    assert "未知功能「napping」" in err
    assert "unknown function" in err
    code, _, err = run(demo_dir, capsys, "coverage", "--area", "999999")
    assert code == 1 and "no area has the code or name '999999'" in err and "e.g." in err


def test_init_norms_then_edit_then_bad_file(tmp_path, capsys):
    code, out, _ = run(tmp_path, capsys, "coverage", "--norms")
    assert code == 0 and str(tmp_path / "norms.toml") in out and "built-in" in out
    assert "elderly 300," in out and console_text("≥ 600 m²") in out
    code, out, _ = run(tmp_path, capsys, "coverage", "--init-norms")
    assert code == 0 and (tmp_path / "norms.toml").exists()
    (tmp_path / "norms.toml").write_text("[radius_m]\nelderly = 250\n", "utf-8")
    code, out, _ = run(tmp_path, capsys, "coverage", "--norms")
    assert code == 0 and "in use" in out and "elderly 250," in out
    (tmp_path / "norms.toml").write_text(N.default_text(), "utf-8")
    code, _, err = run(tmp_path, capsys, "coverage", "--init-norms")
    assert code == 1 and "not overwritten" in err
    path = tmp_path / "norms.toml"
    path.write_text(path.read_text("utf-8").replace("elderly = 300", "elderly = 'far'"), "utf-8")
    code, _, err = run(tmp_path, capsys, "coverage")
    assert code == 1 and "radius_m.elderly" in err and "must be a number" in err


def test_geo_conversion_both_ways(capsys, tmp_path):
    wgs = (31.2304, 121.4737)
    code, out, err = run(tmp_path, capsys, "geo", "wgs2gcj", *map(str, wgs))
    gcj = tuple(float(x) for x in out.split())
    assert code == 0 and haversine_m(*gcj, *wgs84_to_gcj02(*wgs)) < 0.05
    assert "shift" in err
    code, out, _ = run(tmp_path, capsys, "geo", "gcj2wgs", *map(str, gcj))
    back = tuple(float(x) for x in out.split())
    assert haversine_m(*back, *wgs) < 1.0
    code, _, err = run(tmp_path, capsys, "geo", "gcj2wgs", "121.47", "31.23")
    assert code == 1 and "LAT first" in err
