"""Function names as the plan and street offices write them, mapped to the catalog; scene
rules of coverage (宝宝屋 vs 儿童托管, 失能失智照护, ≥ 3 scenes); basement rules as norms."""

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
from tests.conftest import complete_site


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
