"""The project pipeline (项目清单): stage rules in the domain, moving a site on the laptop, the
facility its opening creates, and `fieldapp project list|advance`."""

from __future__ import annotations

import json

import pytest
from conftest import GRID, complete_site

from fieldapp.cli import main
from fieldapp.domain import project as P
from fieldapp.domain.validation import check_record
from fieldapp.store.projects import advance, projects
from fieldapp.store.records import ValidationFailed

REVIEWED = {f"jr_{d}_result": "pass" for d in ("fagai", "planning", "housing", "fire")}
READY = {**REVIEWED, "owner_consent": "agreed", "authority_consent": "agreed"}


def errors_of(data: dict, status: str = "approved") -> dict[str, str]:
    _, errors = check_record("site", data, status)
    return {e.field: e.en for e in errors}


def staged(stage: str, **extra) -> dict:
    data = complete_site(**READY)
    for i, step in enumerate(P.PIPELINE[:P.PIPELINE.index(stage) + 1]):
        data[P.date_field(step)] = f"2025-0{i + 1}-10"
    return {**data, "project_stage": stage, **extra}


# -- domain --------------------------------------------------------------------------------
def test_every_pipeline_stage_with_its_dates_is_valid():
    for stage in P.PIPELINE[:-1]:
        assert errors_of(staged(stage)) == {}, stage
    assert errors_of(staged("opened", project_operator="上海福苑养老服务有限公司")) == {}


def test_no_conversion_before_joint_review_passed():
    data = complete_site(**READY, project_stage="converting",
                         project_selected_on="2025-01-10", project_converting_on="2025-03-01")
    errors = errors_of(data)
    assert "project_passed_on" in errors and "Joint review passed" in errors["project_passed_on"]
    assert "project_reviewing_on" in errors
    # The dates are there but the departments have not passed it.
    data = staged("converting", jr_fire_result="fail")
    assert "cannot start conversion: Fire and rescue review failed" in errors_of(data)[
        "project_stage"]
    data = staged("passed", jr_fire_result=None)
    assert "all four departments" in errors_of(data)["project_stage"]


def test_conversion_needs_both_consents():
    _, errors = check_record("site", staged("converting", authority_consent="refused"),
                             "approved")
    messages = [e.en for e in errors]
    assert any("sector authority has not agreed" in m for m in messages), messages
    assert any("行业主管部门尚未同意" in e.zh for e in errors)


def test_opening_needs_an_operator_and_dates_keep_their_order():
    assert "project_operator" in errors_of(staged("opened"))
    data = staged("built", project_converting_on="2025-01-01")
    assert "cannot be before" in errors_of(data)["project_converting_on"]
    data = staged("passed", project_built_on="2025-05-01")
    assert "not yet Built" in errors_of(data)["project_built_on"]


def test_termination_needs_date_and_reason_and_keeps_the_stages_reached():
    data = staged("reviewing", project_stage="terminated")
    errors = errors_of(data)
    assert set(errors) == {"project_terminated_on", "project_end_reason"}
    data = {**data, "project_terminated_on": "2025-04-01", "project_end_reason": "权属方撤回"}
    assert errors_of(data) == {}
    assert P.reached(data) == ["selected", "reviewing"]


def test_stage_labels_in_both_languages_parse():
    assert P.parse_stage("改造中") == "converting" and P.parse_stage("Built") == "built"
    assert P.parse_stage("已开放运营") == "opened" and P.parse_stage("nonsense") is None


def test_change_rules_only_approved_sites_and_no_undoing_an_opening():
    assert P.stage_change_problems({}, {"project_stage": "selected"}, "submitted")
    assert not P.stage_change_problems({}, {"project_stage": "selected"}, "approved")
    assert P.stage_change_problems({"project_stage": "opened"}, {"project_stage": "built"},
                                   "approved")


def test_facility_from_site_carries_its_place_and_link():
    site = staged("opened", project_operator="街道自营", project_operating_mode="self",
                  lat=31.2, lng=121.44,
                  planned_functions=["elderly", "meal", "childcare"], usable_area=120.0)
    site_id = "0b9d2f4e-8a61-4c1e-9f57-2d3c4b5a6e7f"
    facility = P.facility_for(site_id, site)
    assert facility["site_id"] == site_id and facility["address"] == site["address"]
    assert facility["functions"] == ["elderly", "meal", "childcare"]
    assert facility["building_area"] == 120.0 and facility["opened_on"] == "2025-06-10"
    assert facility["grid_code"] == GRID and facility["lat"] == 31.2
    assert P.facility_id_for(site_id) == P.facility_id_for(site_id) != P.facility_id_for("x")
    _, errors = check_record("facility", facility, "approved")
    assert errors == []


# -- laptop --------------------------------------------------------------------------------
@pytest.fixture
def supervisor(store):
    store.role = "supervisor"
    return store


def approved_site(store) -> str:
    site = store.save("site", complete_site(**READY),
                      status="submitted")
    return store.save("site", {}, record_id=site.id, status="approved").id


def test_advancing_through_the_pipeline_opens_one_facility(supervisor):
    site_id = approved_site(supervisor)
    for stage in ("selected", "reviewing", "passed", "converting", "built"):
        moved = advance(supervisor, site_id, stage, "2025-03-01")
        assert moved.site.data["project_stage"] == stage and moved.facility is None
    with pytest.raises(ValidationFailed) as exc:
        advance(supervisor, site_id, "opened", "2025-04-01")
    assert "project_operator" in {e.field for e in exc.value.errors}
    moved = advance(supervisor, site_id, "opened", "2025-04-01",
                    {"project_operator": "上海福苑养老服务有限公司",
                     "project_operating_mode": "commissioned"})
    facility = moved.facility
    assert facility.id == P.facility_id_for(site_id) == moved.site.data["facility_id"]
    assert facility.data["site_id"] == site_id and facility.data["opened_on"] == "2025-04-01"
    assert supervisor.get(site_id).status == "approved"  # a project step is not a review step
    again = advance(supervisor, site_id, "opened", "2025-04-01")
    assert again.facility.id == facility.id
    count = supervisor.conn.execute(
        "SELECT count(*) FROM record WHERE kind='facility' AND json_extract(data, '$.site_id')=?",
        (site_id,)).fetchone()[0]
    assert count == 1
    with pytest.raises(ValidationFailed):
        advance(supervisor, site_id, "built")


def test_a_worker_cannot_move_a_project_and_an_unapproved_site_cannot_enter(supervisor):
    draft = supervisor.save("site", complete_site())
    with pytest.raises(ValidationFailed) as exc:
        advance(supervisor, draft.id, "selected")
    assert "only an approved site" in exc.value.errors[0].en
    site_id = approved_site(supervisor)
    supervisor.role = "worker"
    with pytest.raises(ValidationFailed) as exc:
        advance(supervisor, site_id, "selected")
    assert "only a supervisor" in exc.value.errors[0].en


# -- CLI -----------------------------------------------------------------------------------
@pytest.fixture
def home(store, tmp_path):
    store.set_setting("current_user", "lisupervisor")
    store.set_setting("role:lisupervisor", "supervisor")
    store.role = "supervisor"
    return ["--data-dir", str(tmp_path)]


def run(capsys, *args) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_advance_by_label_and_list(home, store, capsys):
    site_id = approved_site(store)
    short = site_id[:8]
    code, out, err = run(capsys, *home, "project", "advance", short, "--stage", "已选址",
                         "--date", "2025年3月1日", "资金来源=专项债券、区级财政",
                         "项目名称=天平路嵌入式服务站")
    assert code == 0, err
    assert out.strip() == site_id and "moved to Site selected" in err
    code, _, err = run(capsys, *home, "project", "advance", short, "--stage", "converting")
    assert code == 1 and "must first reach In joint review" in err and "联审" in err
    for stage in ("reviewing", "passed", "改造中", "Built"):
        code, _, err = run(capsys, *home, "project", "advance", short, "--stage", stage)
        assert code == 0, err
    code, out, err = run(capsys, *home, "project", "advance", short, "--stage", "已开放运营",
                         "运营主体=上海福苑养老服务有限公司", "运营方式=委托运营", "--json")
    assert code == 0, err
    shown = json.loads(out)
    assert shown["stage"] == "opened" and shown["facility_created"] == P.facility_id_for(site_id)
    assert shown["funding_source"] == ["special_bonds", "district_finance"]
    assert "facility" in err
    code, out, _ = run(capsys, *home, "project", "list", "--stage", "opened", "--json")
    assert [r["id"] for r in json.loads(out)] == [site_id]
    code, out, _ = run(capsys, *home, "project", "list", "--stage", "selected", "--json")
    assert json.loads(out) == []
    code, out, _ = run(capsys, *home, "--lang", "en", "project", "list", "--area", "310104003")
    assert "Open and operating" in out and "天平路嵌入式服务站" in out
    code, _, err = run(capsys, *home, "project", "list", "--stage", "nowhere")
    assert code == 2 and "selected" in err
    assert len(projects(store)) == 1


def test_any_save_keeps_the_change_rules_not_only_advance(home, store, capsys):
    """`fieldapp edit` (or an import) setting the stage directly meets the same rules as the
    registry: a draft never enters the pipeline."""
    draft = store.save("site", complete_site(**READY))
    code, _, err = run(capsys, "--data-dir", home[1], "edit", draft.id[:8], "项目阶段=已选址",
                       "已选址日期=2025-03-01")
    assert code == 1 and "only an approved site" in err
    assert "project_stage" not in store.get(draft.id).data


def test_advance_refuses_surveyed_content_instead_of_making_a_revision(home, store, capsys):
    """`project advance … 行业主管部门意见=已同意` changed the site's content: it became a
    revision (已提交, out of the pipeline) while the command said it moved on. Now it says to
    edit the site instead and saves nothing; joint-review and project fields still go."""
    site_id = approved_site(store)
    before = store.get(site_id)
    code, out, err = run(capsys, *home, "project", "advance", site_id[:8], "--stage", "已选址",
                         "行业主管部门意见=已同意", "项目名称=天平路服务站")
    assert code == 1 and out == ""
    assert err.count("fieldapp:") == 1 and "行业主管部门意见" in err and "fieldapp edit" in err
    after = store.get(site_id)
    assert after.status == "approved" and after.data == before.data
    code, _, err = run(capsys, *home, "project", "advance", site_id[:8], "--stage", "已选址",
                       "项目名称=天平路服务站", "发展改革意见=通过")
    assert code == 0, err
    after = store.get(site_id)
    assert after.status == "approved" and after.data["project_stage"] == "selected"


def test_a_choice_not_in_a_short_list_names_the_list(home, store, capsys):
    """资金来源=彩票 said "not one of the choices: 彩票" and no more: the choices are named
    when they fit in a line (funding, operating mode); saving nothing."""
    site_id = approved_site(store)
    code, _, err = run(capsys, *home, "project", "advance", site_id[:8], "--stage", "已选址",
                       "资金来源=彩票")
    assert code == 1 and err.count("\n") == 1 and err.startswith("fieldapp:")
    assert "可选 专项债券、中央预算内投资" in err and "one of Special-purpose bonds" in err
    code, _, err = run(capsys, *home, "project", "advance", site_id[:8], "--stage", "已选址",
                       "运营方式=随便")
    assert code == 1 and "委托运营" in err
    assert "project_stage" not in store.get(site_id).data


def test_advancing_a_facility_says_projects_are_for_sites(home, store, capsys):
    """It said "no such site on this laptop" about a facility that is there."""
    facility = store.save("facility", {"name": "天平路长者照护之家", "grid_code": GRID,
                                       "address": "天平路5号", "functions": ["elderly"]})
    code, _, err = run(capsys, *home, "project", "advance", facility.id[:8], "--stage", "已选址")
    assert code == 1 and "sites only" in err and "no such site" not in err
