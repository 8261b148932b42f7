"""Answers the importer must get right, checked against hand-computed values: GCJ-02 points
converted once (and an export says its numbers are WGS-84, so a round trip moves nothing),
summaries that say what happened, the ids `list` shows accepted in 记录ID."""

from __future__ import annotations

import csv
import json

import pytest
from conftest import GRID, complete_site

from fieldapp.cli import main
from fieldapp.domain.geo import gcj02_to_wgs84, haversine_m, wgs84_to_gcj02
from fieldapp.io import export_records, import_file
from fieldapp.store.db import connect
from fieldapp.store.records import Query, RecordStore

# A point on 天平路 as Amap shows it (GCJ-02), and where it really is (WGS-84).
GCJ = (31.2029, 121.4473)
WGS = gcj02_to_wgs84(*GCJ)
HEADERS = ["网格", "地址", "资源类型", "可用面积", "纬度", "经度", "坐标系"]


def write_csv(path, rows):
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def fresh_store(path) -> RecordStore:
    from fieldapp.demo import demo_areas

    store = RecordStore(connect(path), user="wangfang")
    store.load_areas(demo_areas())
    return store


def point(record) -> tuple[float, float]:
    return record.data["lat"], record.data["lng"]


def test_gcj02_rows_are_converted_once_and_an_export_round_trip_moves_nothing(store, tmp_path):
    assert haversine_m(*GCJ, *WGS) > 400  # the offset a wrong answer would leave in Shanghai
    source = write_csv(tmp_path / "amap.csv", [
        HEADERS,
        [GRID, "天平路1号", "闲置门面房", "100", *GCJ, "GCJ-02"],
        [GRID, "天平路2号", "闲置门面房", "100", *GCJ, "gcj02"],
        [GRID, "天平路3号", "闲置门面房", "100", *GCJ, "高德"],
        [GRID, "天平路4号", "闲置门面房", "100", *WGS, "WGS-84"],
        [GRID, "天平路5号", "闲置门面房", "100", *WGS, ""],
    ])
    report = import_file(store, source)
    assert (report.added, report.rejected) == (5, 0), report.errors
    records = {r.data["address"]: r for r in store.query(Query(kind="site"), limit=10)}
    for address in ("天平路1号", "天平路2号", "天平路3号", "天平路4号", "天平路5号"):
        assert haversine_m(*point(records[address]), *WGS) < 1.0, address
    assert records["天平路1号"].data["coord_system"] == "gcj02"  # how it was entered

    for name in ("sites.xlsx", "sites.csv"):
        export_records(store, tmp_path / name, kinds=["site"])
        again = fresh_store(tmp_path / f"{name}.sqlite3")
        report = import_file(again, tmp_path / name)
        assert report.added == 5 and report.rejected == 0, report.errors
        for record in again.query(Query(kind="site"), limit=10):
            assert haversine_m(*point(record), *WGS) < 1.0, (name, record.data["address"])
            assert record.data.get("coord_system") == records[record.data["address"]].data.get(
                "coord_system")
        # Re-importing the export into the laptop it came from changes nothing at all.
        report = import_file(store, tmp_path / name)
        assert (report.added, report.updated, report.unchanged) == (0, 0, 5)
        again.conn.close()


def test_headers_that_name_their_datum_decide(store, tmp_path):
    source = write_csv(tmp_path / "d.csv", [
        ["网格", "地址", "纬度(GCJ-02)", "经度(GCJ-02)"], [GRID, "天平路9号", *GCJ]])
    import_file(store, source)
    record = store.find_by_address("site", "天平路9号")[0]
    assert haversine_m(*point(record), *WGS) < 1.0 and record.data["coord_system"] == "gcj02"


def test_geojson_export_says_wgs84(store, tmp_path):
    store.save("site", complete_site(lat=WGS[0], lng=WGS[1], coord_system="gcj02"))
    export_records(store, tmp_path / "s.geojson", kinds=["site"])
    data = json.loads((tmp_path / "s.geojson").read_text(encoding="utf-8"))
    assert data["coordinate_system"] == "WGS-84"
    lng, lat = data["features"][0]["geometry"]["coordinates"]
    assert haversine_m(lat, lng, *WGS) < 0.01
    assert haversine_m(*wgs84_to_gcj02(lat, lng), *GCJ) < 1.0


def good_rows(n: int) -> list[list[str]]:
    return [[GRID, f"衡山路{i}号", "闲置门面房", "80", "", "", ""] for i in range(1, n + 1)]


def test_summaries_say_what_happened(store, tmp_path, capsys):
    home = ["--data-dir", str(tmp_path)]
    store.set_setting("current_user", "wangfang")
    clean = write_csv(tmp_path / "clean.csv", [HEADERS, *good_rows(2)])
    assert main([*home, "import", str(clean), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "checked only, nothing was saved: would add 2" in out
    assert "all-or-nothing" not in out and store.count_all() == 0

    assert main([*home, "import", str(clean), "--all-or-nothing"]) == 0
    out = capsys.readouterr().out
    assert "added 2, updated 0, unchanged 0, rejected 0" in out and "nothing" not in out
    assert store.count_all() == 2

    bad = write_csv(tmp_path / "bad.csv", [HEADERS, *good_rows(3),
                                           [GRID, "衡山路9号", "闲置门面房", "很大", "", "", ""]])
    assert main([*home, "import", str(bad), "--all-or-nothing"]) == 2
    out = capsys.readouterr().out
    assert "all-or-nothing: 1 rows rejected, nothing was saved" in out
    assert store.count_all() == 2

    assert main([*home, "import", str(bad), "--dry-run"]) == 2
    out = capsys.readouterr().out
    assert "checked only, nothing was saved: would add 1" in out and "rejected 1" in out
    assert store.count_all() == 2


def test_the_ids_list_shows_are_accepted_in_the_record_id_column(store, tmp_path, capsys):
    site = store.save("site", complete_site())
    short = site.id[:8]
    store.set_setting("current_user", "wangfang")
    assert main(["--data-dir", str(tmp_path), "list", "sites"]) == 0
    assert short in capsys.readouterr().out
    path = write_csv(tmp_path / "ids.csv", [["记录ID", "可用面积"], [short.upper(), "130"],
                                            ["abcdef99", "90"], ["ab", "90"]])
    report = import_file(store, path)
    assert (report.updated, report.rejected) == (1, 2), report.errors
    assert store.get(site.id).data["usable_area"] == 130.0
    reasons = {e.row: e.en for e in report.errors}
    assert "no record id starts with abcdef99" in reasons[3]
    assert "at least 6 characters" in reasons[4]


@pytest.mark.parametrize("kind", ["site", "facility"])
def test_template_example_row_is_never_imported(store, tmp_path, kind):
    from fieldapp.io import write_template

    path = write_template(tmp_path / f"{kind}.xlsx", kind)
    report = import_file(store, path)
    assert report.example_rows == 1 and report.added == 0 and store.count_all() == 0
    assert store.pending_count() == 0
