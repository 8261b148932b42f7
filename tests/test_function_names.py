"""Function names as the plan and street offices write them, mapped to the catalog; scene
rules of coverage (宝宝屋 vs 儿童托管, 失能失智照护, ≥ 3 scenes); basement rules as norms."""

import json

import pytest

from fieldapp.cli import main
from fieldapp.domain import norms as N
from fieldapp.domain.catalog import (
    FUNCTION_CHOICES,
    FunctionNameError,
    one_function,
    resolve_function,
    scene_of,
)
from fieldapp.domain.coverage import FacilityIn, GridIn, SiteIn, analyse, check_complex
from fieldapp.domain.coverage_match import site_fit
from fieldapp.domain.records import FIELD_INDEX
from fieldapp.domain.validation import InvalidValue, check_record, coerce
from fieldapp.io.headers import lookup
from tests.conftest import GRID, complete_site


@pytest.mark.parametrize("word,codes", [
    ("养老", ["elderly"]), ("托育", ["childcare"]), ("宝宝屋", ["childcare"]),
    ("助餐", ["meal"]), ("健康服务", ["health"]), ("卫生服务站点", ["health"]),
    ("养老托育", ["elderly", "childcare"]), ("一老一小", ["elderly", "childcare"]),
    ("儿童托管", ["after_school"]), ("失能失智照护", ["dementia_care"]),
    ("托育服务（宝宝屋）", ["childcare"]), ("  Elderly care ", ["elderly"]),
    ("meal", ["meal"]), ("社区食堂", ["meal"]), ("就业服务站点", ["job_station"]),
    ("火箭发射", []),
])
def test_the_plans_words_map_to_the_catalog(word, codes):
    assert resolve_function(word) == codes


# Every wording of the plan (沪府办发〔2024〕25号 第五–九条) and of the national plan and guideline.
PLAN_WORDS = {
    # 第六条: the scenes
    "党群服务": "party", "社区助餐": "meal", "家政便民": "housekeeping", "健康服务": "health",
    "体育健身": "sports", "文化休闲": "culture", "儿童游憩": "children_play",
    "就业帮扶": "employment",
    # 第六条: shared spaces
    "帮困助残": "disability_aid", "心理咨询": "counselling", "志愿服务": "volunteer",
    "就业服务": "job_station",
    # 第五条
    "党群服务中心": "party", "新时代文明实践中心": "party", "基层综合性文化服务中心": "culture",
    # 第七条
    "失能失智老人照护": "dementia_care", "失能失智照护": "dementia_care",
    "一键叫车": "ride_hailing", "社区学校": "community_school", "办学点": "community_school",
    "流动课程": "community_school", "卫生服务站点": "health", "基本诊疗": "health",
    "配药": "health", "中医": "health", "康复": "health", "健康管理": "health",
    "宝宝屋": "childcare", "社区托育“宝宝屋”": "childcare", "托育“宝宝屋”": "childcare",
    "文化配送": "culture_delivery", "“家门口”文化配送": "culture_delivery",
    "社会体育指导员驻点": "sports_instructor", "社区就业服务站点": "job_station",
    "微型消防站": "fire_station", "社区微型消防站": "fire_station",
    # 第八、九条
    "养老": "elderly", "托育": "childcare", "公益便利店": "convenience_store",
    "就餐助餐场所": "meal", "助餐": "meal", "家政服务": "housekeeping", "维修服务": "repair",
    "洗衣缝补": "laundry", "回收利用": "recycling",
    # the national guideline's core functions
    "婴幼儿托育": "childcare", "儿童托管": "after_school",
    # what people add to any name: 社区… / …服务
    "社区助餐服务": "meal", "助餐服务": "meal", "社区体育": "sports",
    "失能失智照护服务": "dementia_care",
}


@pytest.mark.parametrize("word", sorted(PLAN_WORDS))
def test_every_wording_of_the_plan_names_one_function(word):
    assert resolve_function(word) == [PLAN_WORDS[word]]
    assert one_function(word) == PLAN_WORDS[word]


AMBIGUOUS = {
    "养老托育": ["elderly", "childcare"], "一老一小": ["elderly", "childcare"],
    "养老托育服务": ["elderly", "childcare"], "群众文体": ["culture", "sports"],
    "托育托管": ["childcare", "after_school"],
    "儿童": ["childcare", "after_school", "children_play"],
    "照护": ["elderly", "childcare"], "医养结合": ["elderly", "health"],
}


@pytest.mark.parametrize("word", sorted(AMBIGUOUS))
def test_a_word_for_several_scenes_is_refused_as_one_and_ticks_all_in_a_list(word):
    codes = AMBIGUOUS[word]
    with pytest.raises(FunctionNameError) as caught:
        one_function(word)
    assert caught.value.codes == codes
    assert all(f"({c})" in caught.value.zh and f"({c})" in caught.value.en for c in codes)
    assert coerce(FIELD_INDEX["site"]["candidate_functions"], word) == codes


@pytest.mark.parametrize("text,codes,unknown", [
    ("Elderly care; Community meals", ["elderly", "meal"], []),
    ("health station, baby room", ["health", "childcare"], []),
    ("Elderly care, baby room", ["elderly", "childcare"], []),
    ("养老托育; 卫生服务站点（诊疗、配药）", ["elderly", "childcare", "health"], []),
    ("卫生服务站点（诊疗、配药、中医、康复和健康管理）", ["health"], []),
    ("综合为老服务中心(含助餐)", ["elderly", "meal"], []),
    ("elderly 社区助餐 托育服务(宝宝屋)", ["elderly", "meal", "childcare"], []),
    ("宝宝屋 养老托育 火箭", ["childcare", "elderly"], ["火箭"]),
    ("养老/托育\n儿童托管", ["elderly", "childcare", "after_school"], []),
    ("Elderly care, nonsense", ["elderly"], ["nonsense"]),
])
def test_a_cell_or_a_typed_line_is_read_one_way_everywhere(text, codes, unknown):
    assert FUNCTION_CHOICES.read_words(text) == (codes, unknown)
    spec = FIELD_INDEX["site"]["candidate_functions"]
    if unknown:
        with pytest.raises(InvalidValue, match=f"not one of the choices: {unknown[0]}"):
            coerce(spec, text)
    else:
        assert coerce(spec, text) == codes


def test_a_word_for_several_scenes_lists_them_where_one_is_wanted():
    with pytest.raises(FunctionNameError) as caught:
        one_function("养老托育")
    assert caught.value.codes == ["elderly", "childcare"]
    assert "养老服务 (elderly)" in caught.value.zh and "choose one" in caught.value.en
    with pytest.raises(FunctionNameError, match="give a code, a Chinese or an English name"):
        one_function("火箭发射")
    assert one_function("宝宝屋") == "childcare"


def test_form_and_import_take_the_plans_words():
    spec = FIELD_INDEX["site"]["candidate_functions"]
    assert coerce(spec, "养老托育、助餐") == ["elderly", "childcare", "meal"]
    assert coerce(spec, ["宝宝屋", "卫生服务站点"]) == ["childcare", "health"]
    with pytest.raises(InvalidValue, match="not one of the choices: 火箭"):
        coerce(spec, "养老,火箭")
    data, errors = check_record("site", complete_site(candidate_functions="一老一小 儿童托管"))
    assert not errors and data["candidate_functions"] == ["elderly", "childcare", "after_school"]
    assert FUNCTION_CHOICES.parse("宝宝屋") == "childcare"
    assert FUNCTION_CHOICES.parse("养老托育") is None  # one choice cannot hold two


def test_cli_filters_take_the_plans_words(data_dir, capsys):
    assert main(["coverage", "--function", "宝宝屋", "--json"]) in (0, 1)
    capsys.readouterr()
    assert main(["review", "queue", "--function", "养老托育"]) == 2  # a refused argument
    err = capsys.readouterr().err
    assert err.startswith("fieldapp: ") and "elderly" in err and "childcare" in err
    assert main(["review", "queue", "--function", "卫生服务站点"]) == 0


def test_new_and_edit_take_the_plans_words_and_keep_gross_area_apart(data_dir, capsys):
    from fieldapp.context import AppContext
    from fieldapp.demo import demo_areas

    store = AppContext.create(str(data_dir)).open_store()
    store.load_areas(demo_areas())
    store.conn.close()
    capsys.readouterr()
    assert main(["new", "site", f"网格={GRID}", "地址=天平路7号", "建筑面积=200㎡",
                 "拟用功能=养老托育 社区助餐服务", "不改变土地权属=是", "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    data = record["data"]
    assert data["gross_floor_area"] == 200.0 and "usable_area" not in data
    assert data["candidate_functions"] == ["elderly", "childcare", "meal"]
    assert data["land_tenure_unchanged"] is True and "land_use_unchanged" not in data
    assert main(["edit", record["id"][:8], "拟用功能=卫生服务站点（诊疗、配药）、失能失智照护",
                 "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["data"]["candidate_functions"] == [
        "health", "dementia_care"]
    assert main(["edit", record["id"][:8], "拟用功能=养老、火箭"]) != 0
    assert "not one of the choices: 火箭" in capsys.readouterr().err


def test_gross_floor_area_is_not_usable_area():
    specs = FIELD_INDEX["site"]
    assert "建筑面积" not in specs["usable_area"].aliases
    assert specs["gross_floor_area"].zh == "建筑面积"
    assert specs["land_tenure_unchanged"].zh == "不改变土地权属"
    assert specs["land_use_unchanged"].zh == "不改变规划性质"
    assert lookup("site", "建筑面积（㎡）") == "gross_floor_area"
    assert lookup("site", "面积") == "usable_area"
    assert lookup("facility", "建筑面积") == "building_area"


# -- scenes in coverage ---------------------------------------------------------------------
def _grid():
    return GridIn("G1", "网格1", 31.2, 121.4, 1000, street="S", district="D")


def test_after_school_care_does_not_cover_childcare_0_to_3():
    assert scene_of("after_school") != scene_of("childcare")
    only_after_school = FacilityIn("f", "G1", ("after_school",), 200, "single", 31.2, 121.4)
    g = analyse([_grid()], [only_after_school]).by_code["G1"]
    assert "after_school" in g.covered and "childcare" in g.missing
    baby_room = FacilityIn("b", "G1", ("childcare",), 200, "single", 31.2, 121.4)
    g = analyse([_grid()], [baby_room]).by_code["G1"]
    assert "childcare" in g.covered and "after_school" in g.missing


def test_dementia_care_is_elderly_care_in_the_complex_test_and_scenes_are_counted():
    norms = N.load()
    # 失能失智照护 + 助餐 + 健康: two core scenes (elderly through dementia care, meal).
    ok = FacilityIn("c", "G1", ("dementia_care", "meal", "health"), 900, "complex")
    assert check_complex(ok, norms).failures == []
    # Four services but only two scenes (elderly twice, meal twice): fewer than three scenes.
    few = FacilityIn("d", "G1", ("elderly", "dementia_care", "meal", "housekeeping"), 900,
                     "complex")
    assert few.scenes == ("elderly", "meal", "housekeeping")
    assert check_complex(few, norms).failures == []
    two = FacilityIn("e", "G1", ("elderly", "dementia_care", "ride_hailing", "meal"), 900,
                     "complex")
    assert [r.en for r in check_complex(two, norms).failures] == [
        "only 2 service scenes, fewer than 3"]
    g = analyse([_grid()], [FacilityIn("x", "G1", ("dementia_care",), 100, "single",
                                       31.2, 121.4)]).by_code["G1"]
    assert "elderly" in g.covered


# -- basement rules -------------------------------------------------------------------------
def _site(floor, functions, area=300.0):
    return SiteIn("s", "G1", functions, area, floor, "full", "present", "agreed", "agreed",
                  "good", "good")


def test_basements_follow_the_fire_code_with_sources_named():
    norms = N.load()
    child = site_fit(_site(-1, ("childcare",)), "childcare", norms)
    assert not child.eligible and "GB 50016" in child.reasons[0].zh
    play = site_fit(_site(-1, ("children_play",)), "children_play", norms)
    assert not play.eligible
    after_school = site_fit(_site(-1, ("after_school",)), "after_school", norms)
    assert not after_school.eligible and "5.4.4" in after_school.reasons[0].zh
    elderly_b1 = site_fit(_site(-1, ("elderly",)), "elderly", norms)
    assert elderly_b1.eligible
    assert any("200㎡" in r.zh and "5.4.4B" in r.zh for r in elderly_b1.reasons)
    elderly_b2 = site_fit(_site(-2, ("elderly",)), "elderly", norms)
    assert not elderly_b2.eligible and "basement level 1" in elderly_b2.reasons[0].en
    assert site_fit(_site(-1, ("meal",)), "meal", norms).eligible
    assert site_fit(_site(-2, ("health",)), "health", norms).eligible
    assert "GB 50016" in norms.rule("childcare").source


def test_basement_rules_are_editable_norms(tmp_path):
    (tmp_path / "norms.toml").write_text(
        '[site.meal]\nmin_floor = 1\nsource = "本街道规定"\n', encoding="utf-8")
    norms = N.load(tmp_path)
    fit = site_fit(_site(-1, ("meal",)), "meal", norms)
    assert not fit.eligible and "本街道规定" in fit.reasons[0].zh
    (tmp_path / "norms.toml").write_text('[site.meal]\nsource = 3\n', encoding="utf-8")
    with pytest.raises(N.NormsError, match="site.meal.source"):
        N.load(tmp_path)


def test_every_shipped_norm_names_its_source_and_the_cli_shows_it(tmp_path, capsys):
    norms = N.load()
    assert set(norms.site_rules) == set(N.SCENE_CODES)
    assert all(rule.source for rule in norms.site_rules.values())
    assert all(norms.sources[k] for k in ("radius_m", "complex", "area"))
    assert "导则" in norms.sources["complex"]
    for scene in ("childcare", "children_play", "after_school", "elderly"):
        assert "GB 50016" in norms.rule(scene).source
    assert main(["--data-dir", str(tmp_path), "coverage", "--norms"]) == 0
    lines = capsys.readouterr().out.splitlines()
    child = next(line for line in lines if line.strip().startswith("childcare"))
    assert "floors 1..2" in child and "5.4.4" in child
    assert "no source given" not in "\n".join(lines)
    # A street office's own rule carries its own source; one without a source says so.
    (tmp_path / "norms.toml").write_text(
        '[complex]\nmin_building_area = 500\nsource = "区民政局2025年通知"\n'
        '[site.sports]\nsource = ""\n', encoding="utf-8")
    assert main(["--data-dir", str(tmp_path), "coverage", "--norms"]) == 0
    out = capsys.readouterr().out
    assert "≥ 500 m²" in out and "区民政局2025年通知" in out
    sports = next(line for line in out.splitlines() if line.strip().startswith("sports"))
    assert "no source given" in sports


# -- the TUI: the form's function list takes typed names; the list filter finds by them ------
async def test_form_ticks_functions_typed_as_the_plan_writes_them(demo):
    from textual.widgets import Input, SelectionList

    from fieldapp.ui.screens.record_form import RecordFormScreen
    from tests.ui_support import make_app, wait_for_screen

    app = make_app(demo)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("n")
        form = await wait_for_screen(pilot, RecordFormScreen)
        typer = form.query_one("#type-candidate_functions", Input)
        typer.focus()
        await pilot.press(*"宝宝屋 养老托育 火箭", "enter")
        await pilot.pause()
        chosen = form.query_one("#input-candidate_functions", SelectionList).selected
        assert set(chosen) == {"childcare", "elderly"}
        assert typer.value == "火箭"  # the word nothing matched stays to be corrected
        said = " ".join(str(n.message) for n in app._notifications)
        assert "已勾选: 托育服务(宝宝屋)、养老服务" in said and "不认识: 火箭" in said


# -- filters: a scene finds its services (养老 finds 失能失智照护, as coverage counts it) --------
def test_filters_by_a_scene_find_its_services_and_no_other_scene(store):
    from fieldapp.store.records import Query
    from fieldapp.store.review import QueueFilter, queue

    dementia = store.save("site", complete_site(address="天平路1号",
                                                candidate_functions="失能失智照护"),
                          status="submitted")
    after_school = store.save("site", complete_site(address="天平路2号",
                                                    candidate_functions="儿童托管"),
                              status="submitted")
    baby = store.save("site", complete_site(address="天平路3号", candidate_functions="宝宝屋"),
                      status="submitted")

    def found(function):
        listed = {r.id for r in store.query(Query(kind="site", function=function))}
        queued = {r.id for r in queue(store, QueueFilter(function=function))}
        assert listed == queued
        return listed

    assert found(one_function("养老")) == {dementia.id}
    assert found(one_function("失能失智照护")) == {dementia.id}
    assert found(one_function("宝宝屋")) == {baby.id}  # 0–3 care is not after-school care
    assert found(one_function("儿童托管")) == {after_school.id}


def test_cli_list_takes_the_plans_words(data_dir, capsys):
    from fieldapp.context import AppContext
    from fieldapp.demo import demo_areas

    store = AppContext.create(str(data_dir)).open_store()
    store.load_areas(demo_areas())
    store.save("site", complete_site(address="天平路1号", candidate_functions="失能失智照护"))
    store.save("site", complete_site(address="天平路2号", candidate_functions="托育“宝宝屋”"))
    store.conn.close()
    capsys.readouterr()
    assert main(["list", "sites", "--function", "养老", "--all-local", "--json"]) == 0
    assert [r["data"]["address"] for r in json.loads(capsys.readouterr().out)] \
        == ["天平路1号"]
    assert main(["list", "sites", "--function", "宝宝屋", "--all-local"]) == 0
    out = capsys.readouterr().out
    assert "天平路2号" in out and "天平路1号" not in out
    assert main(["list", "sites", "--function", "一老一小"]) == 2
    err = capsys.readouterr().err
    assert "elderly" in err and "childcare" in err and "choose one" in err
    assert main(["list", "inspections", "--function", "养老"]) == 1
    assert "inspections have no functions" in capsys.readouterr().err


def test_coverage_of_a_store_keeps_0_to_3_care_apart_from_after_school_care(store):
    from fieldapp.store.coverage_load import analyse_store

    store.save("facility", {"name": "天平路儿童托管点", "grid_code": GRID, "address": "天平路5号",
                            "facility_kind": "single", "functions": "儿童托管",
                            "building_area": "120"})
    store.save("facility", {"name": "天平路长者照护之家", "grid_code": GRID,
                            "address": "天平路6号", "facility_kind": "single",
                            "functions": "失能失智照护", "building_area": "300"})
    grid = analyse_store(store, "310104003").by_code[GRID]
    assert {"after_school", "elderly"} <= set(grid.covered)
    assert "childcare" in grid.missing


# -- the importer: 建筑面积 is not usable area; the plan's words in function cells ---------------
def _sheet(path, header, *rows):
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(header)
    for row in rows:
        book.active.append(row)
    book.save(path)
    return path


SITE_HEADER = ["网格编码", "详细地址", "房屋类型", "楼层", "建筑面积（㎡）", "使用面积（㎡）",
               "权属性质", "产权人", "权属方意见", "结构安全", "消防安全", "规划性质不变",
               "不改变土地权属", "拟用功能"]


def _site_row(address, gross, usable, functions, *, tenure="是"):
    return [GRID, address, "闲置门面房", "1", gross, usable, "国有", "徐汇区房屋管理局",
            "已同意", "良好", "良好", "是", tenure, functions]


def test_import_keeps_gross_floor_area_apart_and_reads_the_plans_words(store, tmp_path):
    from fieldapp.io import import_file

    path = _sheet(tmp_path / "台账.xlsx", SITE_HEADER,
                  _site_row("天平路1号", "150㎡", "120", "养老托育、社区助餐服务"),
                  _site_row("天平路2号", "90", "70",
                            "卫生服务站点（诊疗、配药、中医、康复和健康管理）", tenure="否"),
                  _site_row("天平路3号", "200", "160", "托育“宝宝屋”; 儿童托管; 失能失智老人照护"),
                  _site_row("天平路4号", "80", "60", "养老、火箭发射"))
    report = import_file(store, path)
    assert (report.kind, report.added, report.rejected) == ("site", 3, 1)
    assert report.errors[0].row == 5 and "火箭发射" in report.errors[0].zh

    def data(address):
        return store.find_by_address("site", address, grid_code=GRID)[0].data

    first = data("天平路1号")
    assert (first["gross_floor_area"], first["usable_area"]) == (150.0, 120.0)
    assert first["candidate_functions"] == ["elderly", "childcare", "meal"]
    assert first["land_use_unchanged"] is True and first["land_tenure_unchanged"] is True
    second = data("天平路2号")
    assert second["candidate_functions"] == ["health"]
    assert second["land_use_unchanged"] is True and second["land_tenure_unchanged"] is False
    assert data("天平路3号")["candidate_functions"] == ["childcare", "after_school",
                                                       "dementia_care"]


def test_a_sheet_with_only_gross_floor_area_leaves_usable_area_to_be_measured(store, tmp_path):
    from fieldapp.io import import_file

    header = ["网格", "地址", "建筑面积", "拟用功能"]
    path = _sheet(tmp_path / "gross.xlsx", header, [GRID, "天平路9号", "300", "宝宝屋"])
    report = import_file(store, path, "site")
    assert (report.added, report.rejected) == (1, 0)
    record = store.find_by_address("site", "天平路9号", grid_code=GRID)[0]
    assert record.data["gross_floor_area"] == 300.0 and "usable_area" not in record.data
    assert record.data["candidate_functions"] == ["childcare"]


async def test_list_function_filter_lists_the_scenes_a_word_names(demo):
    from fieldapp.store.records import Query
    from fieldapp.ui.screens.record_list import RecordListScreen
    from fieldapp.ui.widgets.choice_field import ChoicePicker
    from fieldapp.ui.widgets.record_table import EdgeTable
    from tests.ui_support import make_app, open_store, settle, wait_for_screen

    store = open_store(demo)
    expected = store.count(Query(kind="site", function="elderly"))
    app = make_app(demo)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("s")
        screen = await wait_for_screen(pilot, RecordListScreen)
        screen.query_one("#f-function").focus()
        await pilot.press("enter")
        picker = await wait_for_screen(pilot, ChoicePicker)
        await pilot.press(*"养老托育")
        await settle(pilot)
        assert [code for _, code in picker.shown] == ["elderly", "childcare"]  # asks which
        await pilot.press("enter")  # the first: elderly care, with its services
        await settle(pilot)
        ids = [row.id for row in screen.query_one(EdgeTable).rows]
        assert screen.q.function == "elderly" and 0 < len(ids) <= expected
        assert all({"elderly", "dementia_care", "ride_hailing"}
                   & set(store.get(i).data["candidate_functions"]) for i in ids)
