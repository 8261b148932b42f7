"""Export to xlsx/CSV/GeoJSON, the template, the three lists, and scope filtering."""

from __future__ import annotations

import json

import pytest
from openpyxl import load_workbook

from fieldapp.cli import main
from fieldapp.demo import populate
from fieldapp.domain.records import SPECS
from fieldapp.io import export_records, import_file, write_template, write_three_lists
from fieldapp.io.exporter import DATUM_HEADERS
from fieldapp.io.tables import TableError
from fieldapp.store.records import Query

STREET = "310104003"  # 天平路街道


@pytest.fixture
def demo_store(store):
    populate(store, 400)
    return store


def kind_count(store, kind):
    return store.count(Query(kind=kind))


def test_xlsx_has_one_sheet_per_kind_chinese_headers_and_frozen_header(demo_store, tmp_path):
    path = tmp_path / "all.xlsx"
    report = export_records(demo_store, path, kinds=["site", "facility", "inspection"])
    book = load_workbook(path)
    assert book.sheetnames == ["存量资源", "设施", "巡查"]
    sites = book["存量资源"]
    assert sites.freeze_panes == "A2"
    header = [c.value for c in sites[1]]
    assert header[:4] == ["记录ID", "状态", "网格", "地址"]
    # Coordinates say what they are: records store WGS-84, whatever they were entered as.
    assert header[2:] == [DATUM_HEADERS.get(s.name, s.zh) for s in SPECS["site"]]
    assert sites.max_row - 1 == kind_count(demo_store, "site") == report.counts["site"]
    assert book["设施"].max_row - 1 == kind_count(demo_store, "facility")
    source = header.index("资源类型") + 1
    labels = {sites.cell(r, source).value for r in range(2, sites.max_row + 1)}
    assert labels <= {"闲置门面房", "社区用房", "商业用房", "办公用房", "工业用房", "仓储用房",
                      "其他"}
    address_width = sites.column_dimensions["D"].width
    assert 12 <= address_width <= 52  # sized to the addresses, not the 8.43 default


def test_csv_round_trip_changes_nothing(demo_store, tmp_path):
    for kind in ("site", "facility"):
        path = tmp_path / f"{kind}.csv"
        export_records(demo_store, path, kinds=[kind])
        assert path.read_bytes().startswith(b"\xef\xbb\xbf")  # BOM, so Excel reads UTF-8
        outbox = demo_store.pending_count()
        report = import_file(demo_store, path)
        assert report.kind == kind
        assert (report.added, report.updated, report.rejected) == (0, 0, 0), report.errors[:3]
        assert report.unchanged == kind_count(demo_store, kind)
        assert demo_store.pending_count() == outbox


def test_xlsx_export_reimports_unchanged(demo_store, tmp_path):
    path = tmp_path / "sites.xlsx"
    export_records(demo_store, path, kinds=["site"])
    report = import_file(demo_store, path)
    assert (report.added, report.updated, report.rejected) == (0, 0, 0), report.errors[:3]
    assert report.unchanged == kind_count(demo_store, "site")


def test_geojson_is_a_feature_collection_of_wgs84_points(demo_store, tmp_path):
    path = tmp_path / "sites.geojson"
    report = export_records(demo_store, path, kinds=["site"], status="approved")
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["type"] == "FeatureCollection"
    assert len(doc["features"]) == report.counts["site"] > 0
    for feature in doc["features"]:
        assert feature["type"] == "Feature"
        assert feature["geometry"]["type"] == "Point"
        lng, lat = feature["geometry"]["coordinates"]
        assert 120.8 <= lng <= 122.25 and 30.6 <= lat <= 31.95
        props = feature["properties"]
        assert props["status"] == "approved" and (props["lat"], props["lng"]) == (lat, lng)
    approved = demo_store.count(Query(kind="site", status="approved"))
    assert report.counts["site"] + report.without_coordinates == approved
    inspections = tmp_path / "inspections.geojson"
    export_records(demo_store, inspections, kinds=["inspection"])
    points = json.loads(inspections.read_text(encoding="utf-8"))["features"]
    assert points and all(f["geometry"]["coordinates"] for f in points)


def test_grid_and_status_filters(demo_store, tmp_path):
    path = tmp_path / "street.csv"
    report = export_records(demo_store, path, kinds=["site"], grid=STREET, status="draft")
    expected = demo_store.count(Query(kind="site", grid_code=STREET, status="draft"))
    assert report.counts["site"] == expected
    rows = path.read_text(encoding="utf-8-sig").splitlines()[1:]
    assert len(rows) == expected and all(",草稿," in r for r in rows)


def test_scope_keeps_out_records_of_other_areas(demo_store, tmp_path):
    demo_store.set_setting("scopes:wangfang", json.dumps([STREET]))
    path = tmp_path / "scoped.xlsx"
    report = export_records(demo_store, path, kinds=["site", "facility"])
    inside = demo_store.count(Query(kind="site", grid_code=STREET))
    assert 0 < report.counts["site"] == inside < kind_count(demo_store, "site")
    grids = {r[0].value for r in load_workbook(path)["存量资源"].iter_rows(min_row=2,
                                                                           min_col=3, max_col=3)}
    assert all(g.startswith(STREET) for g in grids)
    # Asking for another street gives nothing rather than records outside the scope.
    other = export_records(demo_store, tmp_path / "o.csv", kinds=["site"], grid="310110001")
    assert other.counts["site"] == 0
    lists = write_three_lists(demo_store, tmp_path / "other3.xlsx", "310104")
    assert lists.counts["资源清单"] + lists.counts["项目清单"] == inside


def test_three_lists_workbook(demo_store, tmp_path):
    path = tmp_path / "三张清单.xlsx"
    report = write_three_lists(demo_store, path, STREET)
    book = load_workbook(path)
    assert book.sheetnames == ["需求清单", "资源清单", "项目清单"]
    for sheet in book.worksheets:
        assert sheet.freeze_panes == "A2"
    in_pipeline = demo_store.conn.execute(
        "SELECT count(*) FROM record WHERE kind = 'site' AND deleted = 0 AND grid_code LIKE ? "
        "AND json_extract(data, '$.project_stage') IS NOT NULL", (f"{STREET}%",)).fetchone()[0]
    others = demo_store.count(Query(kind="site", grid_code=STREET)) - in_pipeline
    assert report.counts["项目清单"] == in_pipeline and report.counts["资源清单"] == others
    projects = book["项目清单"]
    header = [c.value for c in projects[1]]
    assert {"规划功能", "地址", "项目阶段", "已开放运营日期", "资金来源"} <= set(header)
    functions = header.index("规划功能") + 1
    assert all(projects.cell(r, functions).value for r in range(2, projects.max_row + 1))
    resources = [c.value for c in book["资源清单"][1]]
    assert {"可用面积", "结构安全", "权属方意见"} <= set(resources)
    needs = book["需求清单"]
    kinds = {needs.cell(r, 5).value for r in range(2, needs.max_row + 1)}
    assert report.coverage and "服务缺口" in kinds
    with pytest.raises(TableError):
        write_three_lists(demo_store, tmp_path / "x.xlsx", "999")


def test_three_lists_lists_open_inspection_issues(store, tmp_path):
    from conftest import GRID, complete_site

    site = store.save("site", complete_site())
    store.save("inspection", {"target_kind": "site", "target_id": site.id, "grid_code": GRID,
                              "inspected_on": "2024-05-01", "inspector": "李明",
                              "structure": "ok", "fire_safety": "issue",
                              "accessibility": "ok", "elevator": "na", "equipment": "ok",
                              "cleanliness": "ok", "open_issues": "消防通道被占用",
                              "follow_up_needed": True})
    write_three_lists(store, tmp_path / "n.xlsx", STREET)
    needs = load_workbook(tmp_path / "n.xlsx")["需求清单"]
    rows = [[c.value for c in r] for r in needs.iter_rows(min_row=2)]
    issue = [r for r in rows if r[4] == "巡查问题"]
    assert issue and issue[0][5] == "消防通道被占用" and issue[0][6] == "天平路100号"
    assert issue[0][3] and issue[0][8] == "需要跟进"


def test_template_documents_every_column_and_imports(store, tmp_path):
    path = write_template(tmp_path / "sites.xlsx", "site")
    book = load_workbook(path)
    sheet, doc = book.worksheets
    assert [c.value for c in sheet[1]] == [s.zh for s in SPECS["site"]]
    assert sheet.max_row == 2 and sheet.freeze_panes == "A2"
    documented = {r[0].value: r for r in doc.iter_rows(min_row=2) if r[0].value}
    for spec in SPECS["site"]:
        assert spec.zh in documented
    assert documented["资源类型"][5].value.startswith("闲置门面房")
    assert documented["地址"][4].value.startswith("是")
    # The example row (天平路100号, 王芳, 02164001234) is never imported as a real record...
    report = import_file(store, path)
    assert (report.added, report.rejected, report.example_rows) == (0, 0, 1), report.errors
    assert store.count_all() == 0 and store.pending_count() == 0
    assert "example row was skipped" in report.summary("en")
    # ...but it is a valid row: once the worker writes over it, it imports like any other.
    sheet["B2"] = "天平路102号"
    book.save(path)
    report = import_file(store, path)
    assert (report.added, report.rejected, report.example_rows) == (1, 0, 0), report.errors
    assert store.find_by_address("site", "天平路102号")[0].data["owner_contact"] == "王芳"
    write_template(tmp_path / "f.xlsx", "facility")
    assert load_workbook(tmp_path / "f.xlsx").active.cell(1, 1).value == "设施名称"


def test_cli_export_commands(data_dir, tmp_path, capsys):
    from fieldapp.context import AppContext

    store = AppContext.create(str(data_dir)).open_store()
    populate(store, 120)
    store.conn.close()
    assert main(["export", "-o", str(tmp_path / "all.xlsx")]) == 0
    assert load_workbook(tmp_path / "all.xlsx").sheetnames == ["存量资源", "设施", "巡查"]
    assert main(["export", "--kind", "facilities", "-o", str(tmp_path / "f.geojson")]) == 0
    assert json.loads((tmp_path / "f.geojson").read_text())["type"] == "FeatureCollection"
    assert main(["export", "--template", str(tmp_path / "设施模板.xlsx")]) == 0
    assert load_workbook(tmp_path / "设施模板.xlsx").active.title == "设施"
    assert main(["export", "--three-lists", "--area", STREET, "-o",
                 str(tmp_path / "3.xlsx")]) == 0
    assert main(["export", "--kind", "sites", "--kind", "facilities", "--format", "csv",
                 "-o", str(tmp_path / "x.csv")]) == 1
    assert main(["export", "--three-lists", "-o", str(tmp_path / "3.xlsx")]) == 1
    err = capsys.readouterr().err
    assert "--kind" in err and "--area" in err


def test_scope_setting_as_sync_writes_it(demo_store, tmp_path):
    from fieldapp.io import scope_grids

    demo_store.set_setting("scopes:wangfang", f"{STREET},310110001")
    grids = scope_grids(demo_store)
    assert grids == set(demo_store.area_codes_below(STREET)) | set(
        demo_store.area_codes_below("310110001"))
    report = export_records(demo_store, tmp_path / "two.csv", kinds=["site"])
    both = sum(demo_store.count(Query(kind="site", grid_code=a)) for a in (STREET, "310110001"))
    assert report.counts["site"] == both
    demo_store.set_setting("scopes:wangfang", "*")
    assert scope_grids(demo_store) is None


def test_import_picks_the_sheet_of_the_kind_from_an_exported_workbook(demo_store, tmp_path):
    path = tmp_path / "all.xlsx"
    export_records(demo_store, path, kinds=["site", "facility", "inspection"])
    report = import_file(demo_store, path, "facility")
    assert (report.sheet, report.kind) == ("设施", "facility")
    assert report.unchanged == kind_count(demo_store, "facility") and report.rejected == 0
    assert import_file(demo_store, path).sheet == "存量资源"


def test_text_that_looks_like_a_formula_stays_text(store, tmp_path):
    from conftest import complete_site

    store.save("site", complete_site(notes="=HYPERLINK(\"http://x\") 见附件"))
    path = tmp_path / "f.xlsx"
    export_records(store, path, kinds=["site"])
    sheet = load_workbook(path).active
    notes = [c.value for c in sheet[2]][[c.value for c in sheet[1]].index("备注")]
    assert notes == "=HYPERLINK(\"http://x\") 见附件"
    assert import_file(store, path).unchanged == 1


def test_three_lists_without_coverage_analysis_says_so(demo_store, tmp_path, monkeypatch):
    import fieldapp.store.coverage_load as coverage_load

    def broken(*_args, **_kwargs):
        raise RuntimeError("norms.toml unreadable")

    monkeypatch.setattr(coverage_load, "analyse_store", broken)
    report = write_three_lists(demo_store, tmp_path / "n.xlsx", STREET)
    assert not report.coverage
    needs = [[c.value for c in r] for r in load_workbook(tmp_path / "n.xlsx")["需求清单"]]
    assert "覆盖分析未能运行" in needs[1][5] and "norms.toml unreadable" in needs[1][8]
    assert all(r[4] != "服务缺口" for r in needs[1:])
    assert load_workbook(tmp_path / "n.xlsx")["资源清单"].max_row > 1


def test_xlsx_dates_are_date_cells_shown_without_time(store, tmp_path):
    from conftest import complete_site

    store.save("site", complete_site(idle_since="2024年3月5日"))
    export_records(store, tmp_path / "d.xlsx", kinds=["site"])
    sheet = load_workbook(tmp_path / "d.xlsx").active
    cell = sheet.cell(2, [c.value for c in sheet[1]].index("闲置起始日期") + 1)
    assert cell.is_date and cell.number_format == "yyyy-mm-dd"
    assert cell.value.date().isoformat() == "2024-03-05"
