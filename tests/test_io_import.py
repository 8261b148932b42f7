"""Importing messy spreadsheets: header detection, normalisation, errors file, keys, encodings."""

from __future__ import annotations

import csv
import json
from datetime import datetime

import pytest
from conftest import GRID
from openpyxl import Workbook, load_workbook

from fieldapp.cli import main
from fieldapp.io import import_file
from fieldapp.io.importer import default_errors_path
from fieldapp.io.tables import TableError
from fieldapp.store.records import Query

HEADERS = ["序号", "网格编码", " 详细地址 ", "类型", "楼层", "面积（㎡）", "闲置时间", "权属性质",
           "产权人", "权属方意见", "结构安全", "消防安全", "拟用功能", "外部编号", "电话"]


def row(ext, address, area, *, grid=GRID, floor="1", idle="2024-03-05", consent="已同意",
        source="闲置门面房", functions="养老服务、社区助餐", phone="13812345678"):
    return ["1", grid, address, source, floor, area, idle, "国有", "徐汇区房屋管理局", consent,
            "良好", "一般", functions, ext, phone]


def messy_workbook(path):
    """A street office's list as it really looks: title row, blanks, mess, three bad rows."""
    book = Workbook()
    sheet = book.active
    sheet.append(["天平路街道闲置门面房台账(2024年)"])
    sheet.merge_cells("A1:O1")
    sheet.append(["填表单位:天平路街道", None, None, "填表日期:2024年3月"])
    sheet.append(HEADERS)
    sheet.append(row("TPL-001", "天平路１００号", "120㎡", floor="１", idle="2024/3/5"))  # row 4
    sheet.append(row("TPL-002", "衡山路2号", "约80平方米", idle="2024年3月5日"))  # row 5
    sheet.append([None] * len(HEADERS))  # row 6: blank
    sheet.append(row("TPL-003", "建国西路3号", "1,200", idle=datetime(2024, 3, 5)))  # row 7
    sheet.append(row("TPL-004", "  宛平南路4号  ", 95, phone="021-6400 1234 "))  # row 8
    sheet.append(row("TPL-005", "零陵路5号", "很大"))  # row 9: area is not a number
    sheet.append(row("TPL-006", "钦州路6号", "60", grid="310104999999G99"))  # row 10
    sheet.append(row("TPL-007", "桂林路7号", "70", idle="2024-13-45", consent="不知道"))  # 11
    sheet.append(["", "", "   "])  # row 12: only spaces
    sheet.append(row("", "斜土路8号", "200㎡", floor="-1", source="社区用房"))  # row 13, no ext id
    book.save(path)
    return path


def by_external(store, external_id):
    found = [r for r in store.query(Query(kind="site"), limit=1000)
             if r.data.get("external_id") == external_id]
    return found[0] if found else None


def test_messy_spreadsheet_is_normalised_and_bad_rows_reported(store, tmp_path):
    path = messy_workbook(tmp_path / "台账.xlsx")
    errors_path = tmp_path / "台账_errors.xlsx"
    report = import_file(store, path, errors_path=errors_path)
    assert (report.kind, report.header_row) == ("site", 3)
    assert (report.added, report.updated, report.unchanged, report.rejected) == (5, 0, 0, 3)
    assert report.blank == 2
    assert "序号" in report.ignored_columns
    first = by_external(store, "TPL-001")
    assert first.data["address"] == "天平路100号"
    assert first.data["floor_from"] == 1 and first.data["usable_area"] == 120.0
    assert first.data["idle_since"] == "2024-03-05"
    assert first.data["candidate_functions"] == ["elderly", "meal"]
    assert first.status == "draft" and first.author == "wangfang"
    assert by_external(store, "TPL-002").data["usable_area"] == 80.0
    third = by_external(store, "TPL-003")
    assert third.data["usable_area"] == 1200.0 and third.data["idle_since"] == "2024-03-05"
    fourth = by_external(store, "TPL-004")
    assert fourth.data["address"] == "宛平南路4号" and fourth.data["owner_phone"] == "02164001234"
    basement = store.find_by_address("site", "斜土路8号", grid_code=GRID)[0]
    assert basement.data["floor_from"] == -1 and basement.data["source_type"] == "community"

    by_row = {}
    for error in report.errors:
        by_row.setdefault(error.row, []).append(error)
    assert sorted(by_row) == [9, 10, 11]
    assert by_row[9][0].column == "面积（㎡）" and "应为数字" in by_row[9][0].zh
    assert "must be a number" in by_row[9][0].en
    assert "不存在" in by_row[10][0].zh and "does not exist" in by_row[10][0].en
    assert {e.column for e in by_row[11]} == {"闲置时间", "权属方意见"}
    assert by_row[11][0].message("en").startswith("row 11 [")


def test_errors_file_can_be_fixed_and_reimported(store, tmp_path):
    path = messy_workbook(tmp_path / "list.xlsx")
    report = import_file(store, path, errors_path=default_errors_path(path))
    assert report.errors_path == str(tmp_path / "list_errors.xlsx")
    book = load_workbook(report.errors_path)
    sheet = book.active
    header = [c.value for c in sheet[1]]
    assert header[:len(HEADERS)] == HEADERS and header[-1] == "错误/error"
    assert [sheet.cell(r, 14).value for r in (2, 3, 4)] == ["TPL-005", "TPL-006", "TPL-007"]
    assert "可用面积: 应为数字" in sheet.cell(2, len(header)).value
    assert " / " in sheet.cell(2, len(header)).value  # Chinese / English
    # The user fixes the three rows in Excel and imports the errors file itself.
    sheet.cell(2, 6).value = "60㎡"
    sheet.cell(3, 2).value = GRID
    sheet.cell(4, 7).value = "2024年1月2日"
    sheet.cell(4, 10).value = "协商中"
    book.save(report.errors_path)
    fixed = import_file(store, report.errors_path,
                        errors_path=default_errors_path(report.errors_path))
    assert (fixed.added, fixed.rejected, fixed.errors_path) == (3, 0, None)
    assert by_external(store, "TPL-007").data["owner_consent"] == "negotiating"
    assert store.count(Query(kind="site")) == 8


def test_reimport_same_file_changes_nothing(store, tmp_path):
    path = messy_workbook(tmp_path / "list.xlsx")
    import_file(store, path)
    outbox = store.conn.execute("SELECT count(*) FROM outbox").fetchone()[0]
    history = store.conn.execute("SELECT count(*) FROM history").fetchone()[0]
    again = import_file(store, path)
    assert (again.added, again.updated, again.unchanged, again.rejected) == (0, 0, 5, 3)
    assert store.conn.execute("SELECT count(*) FROM outbox").fetchone()[0] == outbox
    assert store.conn.execute("SELECT count(*) FROM history").fetchone()[0] == history


def write_csv(path, rows, encoding="utf-8"):
    with open(path, "w", encoding=encoding, newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def test_changed_row_updates_record_through_outbox_and_history(store, tmp_path):
    path = write_csv(tmp_path / "a.csv", [HEADERS, row("A1", "天平路1号", "100"),
                                           row("A2", "天平路2号", "110")])
    assert import_file(store, path).added == 2
    record = by_external(store, "A1")
    store.conn.execute("UPDATE outbox SET sealed = 1")  # as if a push had carried the creates
    path = write_csv(tmp_path / "a.csv", [HEADERS, row("A1", "天平路1号", "150"),
                                           row("A2", "天平路2号", "110")])
    report = import_file(store, path)
    assert (report.added, report.updated, report.unchanged) == (0, 1, 1)
    assert store.get(record.id).data["usable_area"] == 150.0
    entries = store.conn.execute(
        "SELECT op, fields FROM outbox WHERE record_id = ? ORDER BY seq", (record.id,)).fetchall()
    assert [e["op"] for e in entries] == ["create", "update"]
    assert json.loads(entries[1]["fields"]) == {"usable_area": 150.0}
    assert [h["action"] for h in store.history(record.id)] == ["create", "edit"]


def test_address_and_grid_key_without_external_id(store, tmp_path):
    header = ["网格", "地址", "面积"]
    path = write_csv(tmp_path / "b.csv", [header, [GRID, "上海市天平路 9 号", "50"]])
    assert import_file(store, path, "site").added == 1
    # The same place written differently is the same record: now with a new area.
    path = write_csv(tmp_path / "b.csv", [header, [GRID, "天平路9號", "55"]])
    report = import_file(store, path, "site")
    assert (report.added, report.updated) == (0, 1)
    assert store.count(Query(kind="site")) == 1


def test_duplicate_rows_in_one_file_are_rejected(store, tmp_path):
    path = write_csv(tmp_path / "d.csv", [HEADERS, row("D1", "天平路1号", "100"),
                                           row("D1", "天平路1号", "100")])
    report = import_file(store, path)
    assert (report.added, report.rejected) == (1, 1)
    assert "第 2 行" in report.errors[0].zh and report.errors[0].row == 3


@pytest.mark.parametrize("encoding", ["gb18030", "gbk", "utf-8-sig", "utf-8"])
def test_csv_encodings(store, tmp_path, encoding):
    path = write_csv(tmp_path / "e.csv", [HEADERS, row("E1", "衡山路10号", "约80平方米")],
                     encoding=encoding)
    report = import_file(store, path)
    assert (report.added, report.rejected) == (1, 0)
    assert by_external(store, "E1").data["address"] == "衡山路10号"
    assert by_external(store, "E1").data["owner_name"] == "徐汇区房屋管理局"


def test_status_column_is_honoured_when_the_record_is_valid_for_it(store, tmp_path):
    header = [*HEADERS, "状态"]
    path = write_csv(tmp_path / "s.csv", [
        header, [*row("S1", "天平路1号", "100"), "已提交"],  # complete: may be submitted
        [*row("S2", "天平路2号", ""), "已提交"],  # no area: cannot be submitted
        [*row("S3", "天平路3号", "100"), "已通过"],  # a worker cannot approve
        [*row("S4", "天平路4号", "100"), "随便"]])
    report = import_file(store, path)
    assert (report.added, report.rejected) == (1, 3)
    assert by_external(store, "S1").status == "submitted"
    reasons = {e.row: e.en for e in report.errors}
    assert "required before submitting" in reasons[3]
    assert "supervisor" in reasons[4]
    assert "status" in reasons[5]


def test_all_or_nothing_saves_nothing_when_a_row_is_bad(store, tmp_path):
    path = messy_workbook(tmp_path / "m.xlsx")
    report = import_file(store, path, all_or_nothing=True, errors_path=tmp_path / "m_e.xlsx")
    assert not report.saved and report.rejected == 3
    assert store.count(Query(kind="site")) == 0
    assert store.conn.execute("SELECT count(*) FROM outbox").fetchone()[0] == 0
    assert "nothing was saved" in report.summary("en")
    assert (tmp_path / "m_e.xlsx").exists()
    good = write_csv(tmp_path / "g.csv", [HEADERS, row("G1", "天平路1号", "100")])
    report = import_file(store, good, all_or_nothing=True)
    assert report.saved and report.added == 1


def test_progress_callback_reaches_the_end(store, tmp_path):
    rows = [HEADERS] + [row(f"P{i}", f"天平路{i}号", str(50 + i)) for i in range(250)]
    path = write_csv(tmp_path / "p.csv", rows)
    calls = []
    report = import_file(store, path, progress=lambda done, frac: calls.append((done, frac)),
                         batch_rows=100)
    assert report.added == 250
    assert [c[0] for c in calls] == [100, 200, 250]
    assert calls[-1][1] == 1.0


def test_files_that_are_not_tables_get_clear_errors(store, tmp_path):
    with pytest.raises(TableError, match="header"):
        import_file(store, write_csv(tmp_path / "x.csv", [["a", "b"], ["1", "2"]]))
    (tmp_path / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(TableError, match="xlsx"):
        import_file(store, tmp_path / "old.xls")
    with pytest.raises(TableError, match="not found"):
        import_file(store, tmp_path / "missing.csv")
    only_areas = write_csv(tmp_path / "y.csv", [["面积", "楼层"], ["10", "1"]])
    with pytest.raises(TableError, match="External id"):
        import_file(store, only_areas)


def test_cli_import_exit_code_and_summary(data_dir, tmp_path, capsys):
    from fieldapp.context import AppContext
    from fieldapp.demo import demo_areas

    store = AppContext.create(str(data_dir)).open_store()
    store.load_areas(demo_areas())
    store.conn.close()
    path = messy_workbook(tmp_path / "cli.xlsx")
    assert main(["import", str(path)]) == 2
    out = capsys.readouterr()
    assert "新增 5" in out.out and "rejected 3" in out.out
    assert "cli_errors.xlsx" in out.out
    assert "第 9 行" in out.err
    fixed = write_csv(tmp_path / "ok.csv", [HEADERS, row("C1", "天平路1号", "100")])
    assert main(["import", str(fixed), "--kind", "sites"]) == 0
    assert main(["import", str(tmp_path / "nope.csv")]) == 1
    assert "not found" in capsys.readouterr().err


def test_encoding_change_mid_file_stops_with_counts_and_keeps_saved_rows(store, tmp_path):
    path = tmp_path / "mixed.csv"
    notes = "临街门面，采光良好" * 20  # long rows, so the bad bytes lie past the sampled start
    good = "\n".join(",".join([*row(f"M{i}", f"天平路{i}号", "60"), notes]) for i in range(3000))
    path.write_bytes((",".join([*HEADERS, "备注"]) + "\n" + good + "\n").encode("utf-8")
                     + ",".join(row("MX", "衡山路1号", "60")).encode("gb18030") + b"\n")
    with pytest.raises(TableError, match="CSV UTF-8") as caught:
        import_file(store, path, errors_path=tmp_path / "mixed_errors.csv", batch_rows=1000)
    assert "added" in str(caught.value)
    assert store.count(Query(kind="site")) >= 2000  # whole batches before the bad spot


def test_facilities_with_english_headers_are_recognised(store, tmp_path):
    header = ["Name", "Grid", "Address", "Facility kind", "Functions", "Building area"]
    path = write_csv(tmp_path / "fac.csv", [
        header,
        ["天平路综合服务中心", GRID, "天平路200号", "Service complex",
         "Elderly care; Community meals", "850 sqm"],
        ["宝宝屋", GRID, "天平路201号", "single", "childcare", "120"],
        ["某中心", GRID, "天平路202号", "single", "Elderly care, nonsense", "100"]])
    report = import_file(store, path)
    assert (report.kind, report.added, report.rejected) == ("facility", 2, 1)
    assert report.errors[0].row == 4 and "nonsense" in report.errors[0].en
    centre = store.find_by_address("facility", "天平路200号", grid_code=GRID)[0]
    assert centre.data["facility_kind"] == "complex" and centre.data["building_area"] == 850.0
    assert centre.data["functions"] == ["elderly", "meal"]
    changed = write_csv(tmp_path / "fac.csv", [
        header, ["天平路综合服务中心", GRID, "天平路200号", "complex",
                 "elderly 社区助餐 托育服务(宝宝屋)", "850"]])
    again = import_file(store, changed)
    assert (again.added, again.updated, again.unchanged) == (0, 1, 0)
    assert store.get(centre.id).data["functions"] == ["elderly", "meal", "childcare"]


def test_dry_run_checks_everything_and_saves_nothing(store, tmp_path):
    path = messy_workbook(tmp_path / "dry.xlsx")
    report = import_file(store, path, dry_run=True)
    assert (report.added, report.rejected, report.saved) == (5, 3, False)
    assert store.count(Query(kind="site")) == 0
    assert store.conn.execute("SELECT count(*) FROM outbox").fetchone()[0] == 0


def test_wrong_kind_is_refused_and_errors_file_follows_its_suffix(store, tmp_path):
    path = write_csv(tmp_path / "fac.csv", [
        ["设施名称", "网格", "地址", "设施类型", "服务功能", "建筑面积"],
        ["宝宝屋", GRID, "天平路201号", "单一功能设施", "托育服务(宝宝屋)", "不详"]])
    with pytest.raises(TableError, match="--kind facilities"):
        import_file(store, path, "site")
    report = import_file(store, path, "facility", errors_path=tmp_path / "bad.xlsx")
    assert report.rejected == 1
    sheet = load_workbook(tmp_path / "bad.xlsx").active
    assert sheet.cell(2, 1).value == "宝宝屋" and "建筑面积" in sheet.cell(2, 7).value


def test_default_errors_path_never_overwrites(tmp_path):
    source = tmp_path / "list.xlsx"
    assert default_errors_path(source) == tmp_path / "list_errors.xlsx"
    (tmp_path / "list_errors.xlsx").write_bytes(b"fixes in progress")
    assert default_errors_path(source) == tmp_path / "list_errors_2.xlsx"
    assert default_errors_path(tmp_path / "list_errors.xlsx") == tmp_path / "list_errors_2.xlsx"
