"""Scripting verbs and names as people write them: `fieldapp new|edit|show` with field names or
labels, the form's coercion and validation, outbox and history; choice filters by code or
label in either language."""

from __future__ import annotations

import json

import pytest
from conftest import GRID

from fieldapp.cli import main
from fieldapp.domain.geo import gcj02_to_wgs84, haversine_m
from fieldapp.domain.names import resolve_field
from fieldapp.store.records import Query


@pytest.fixture
def home(store, tmp_path):
    store.set_setting("current_user", "wangfang")
    return ["--data-dir", str(tmp_path)]


def run(capsys, *args) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


COMPLETE = ["网格=310104003001g01", "地址=天平路１０１号", "资源类型=Idle storefront",
            "所在楼层=１", "可用面积=约80平方米", "权属性质=国有", "owner_name=徐汇区房管局",
            "权属方意见=已同意", "结构安全=良好", "fire_condition=good",
            "可承载功能=Elderly care、助餐"]


def test_new_reads_values_like_the_form_and_prints_the_id(home, store, capsys):
    code, out, err = run(capsys, *home, "new", "site", *COMPLETE, "纬度=31.2029",
                         "经度=121.4473", "坐标系=GCJ-02")
    assert code == 0, err
    record = store.get(out.strip())
    assert record.status == "draft" and record.grid_code == GRID and record.author == "wangfang"
    data = record.data
    assert data["address"] == "天平路101号" and data["floor_from"] == 1
    assert data["usable_area"] == 80.0 and data["source_type"] == "storefront"
    assert data["candidate_functions"] == ["elderly", "meal"]
    assert haversine_m(data["lat"], data["lng"], *gcj02_to_wgs84(31.2029, 121.4473)) < 1.0
    assert store.pending_count() == 1 and [h["action"] for h in store.history(record.id)] == [
        "create"]
    assert "created" in err


def test_new_submit_and_validation_errors_say_what_is_expected(home, store, capsys):
    code, out, err = run(capsys, *home, "new", "site", "地址=衡山路1号", "--submit")
    assert code == 1 and out == "" and err.count("\n") == 1
    assert "required before submitting" in err and "提交前必须填写" in err
    code, _, err = run(capsys, *home, "new", "site", "面积=很大", "楼层=0.5", "nosuch=1")
    assert code == 1 and "Usable area: must be a number" in err
    assert "must be a whole number" in err and "no field 'nosuch'" in err
    assert store.count_all() == 0 and store.pending_count() == 0
    code, out, err = run(capsys, *home, "new", "site", *COMPLETE, "--submit")
    assert code == 0 and store.get(out.strip()).status == "submitted"


def test_edit_by_short_id_with_labels_then_submit(home, store, capsys):
    _, out, _ = run(capsys, *home, "new", "site", *COMPLETE, "备注=初稿")
    short = out.strip()[:8]
    code, out, err = run(capsys, *home, "edit", short, "备注=已复核", "可用面积=１２０㎡")
    assert code == 0, err
    record = store.get(out.strip())
    assert record.data["notes"] == "已复核" and record.data["usable_area"] == 120.0
    code, _, _ = run(capsys, *home, "edit", short, "备注=", "--submit")  # FIELD= clears it
    record = store.get(record.id)
    assert code == 0 and "notes" not in record.data and record.status == "submitted"
    assert [h["action"] for h in store.history(record.id)] == ["create", "edit", "submitted"]
    code, _, err = run(capsys, *home, "edit", short, "可用面积=1")  # below the minimum
    assert code == 1 and "Usable area: must be between 5 and 50000" in err
    assert store.get(record.id).data["usable_area"] == 120.0


def test_new_inspection_takes_its_target_by_short_id(home, store, capsys):
    _, out, _ = run(capsys, *home, "new", "site", *COMPLETE)
    site_id = out.strip()
    code, out, err = run(capsys, *home, "new", "inspection", f"对象编号={site_id[:8]}",
                         "结构=合格", "消防=有问题", "无障碍=na", "电梯=不适用", "设施设备=ok",
                         "环境卫生=合格", "存在问题=消防通道堵塞", "--submit")
    assert code == 0, err
    inspection = store.get(out.strip())
    assert inspection.status == "submitted" and inspection.grid_code == GRID
    assert inspection.data["target_id"] == site_id and inspection.data["target_kind"] == "site"
    assert inspection.data["inspector"] == "wangfang" and inspection.data["fire_safety"] == "issue"


def test_show_prints_labels_and_json(home, store, capsys):
    _, out, _ = run(capsys, *home, "new", "site", *COMPLETE)
    record_id = out.strip()
    code, out, _ = run(capsys, *home, "show", record_id[:8])
    assert code == 0 and "可用面积" in out and "80㎡" in out and "养老服务、社区助餐" in out
    assert "天平路第一1号网格" in out
    code, out, _ = run(capsys, *home, "--lang", "en", "show", record_id[:8])
    assert "Usable area" in out and "Elderly care, Community meals" in out
    code, out, _ = run(capsys, *home, "show", record_id, "--json")
    shown = json.loads(out)
    assert shown["id"] == record_id and shown["data"]["usable_area"] == 80.0
    code, _, err = run(capsys, *home, "show", "abcdef12")
    assert code == 1 and "no record id starts with abcdef12" in err


def test_show_and_edit_keep_to_the_scope(home, store, capsys):
    other = store.save("site", {"grid_code": "310101002001G01", "address": "南京东路1号"})
    store.set_setting("scopes:wangfang", "310104003")
    code, _, err = run(capsys, *home, "show", other.id[:8])
    assert code == 1 and "--all-local" in err
    code, out, _ = run(capsys, *home, "show", other.id[:8], "--all-local")
    assert code == 0 and "南京东路1号" in out
    code, _, err = run(capsys, *home, "edit", other.id[:8], "备注=x")
    assert code == 1 and "outside your scope: cannot change it" in err
    assert "notes" not in store.get(other.id).data


def test_field_names_and_labels_resolve():
    assert resolve_field("site", "备注").name == "notes"
    assert resolve_field("site", "Notes").name == "notes"
    assert resolve_field("site", "可用面积(㎡)").name == "usable_area"
    assert resolve_field("site", "ＮＯＴＥＳ").name == "notes"
    assert resolve_field("facility", "设施名称").name == "name"
    assert resolve_field("site", "nothing") is None


@pytest.mark.parametrize("status", ["submitted", "已提交", "Submitted", "SUBMITTED"])
def test_filters_take_codes_and_labels(home, store, capsys, status):
    _, out, _ = run(capsys, *home, "new", "site", *COMPLETE, "--submit")
    code, out, _ = run(capsys, *home, "list", "sites", "--status", status, "--json")
    assert code == 0 and [r["id"] for r in json.loads(out)] == [
        r.id for r in store.query(Query(kind="site", status="submitted"))]
    code, out, _ = run(capsys, *home, "export", "--kind", "存量资源", "--status", status,
                       "-o", "-")
    assert code == 0 and out.count("\n") == 2  # header and the one submitted site
