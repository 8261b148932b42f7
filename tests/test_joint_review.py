"""Joint review (联审) and consent: verdict from the four departments, who may fill it, when a
site may be marked ready for conversion (in the form/store, the importer and the registry)."""

import pytest

from fieldapp.domain.joint_review import blockers, department, overall_verdict, ready_problems
from fieldapp.domain.validation import check_record
from fieldapp.store.records import ValidationFailed
from tests.conftest import complete_site

ALL_PASS = {f"jr_{d}_result": "pass" for d in ("fagai", "planning", "housing", "fire")}
CONSENTED = {"owner_consent": "agreed", "authority_consent": "agreed"}


def test_verdict_follows_the_four_departments():
    assert overall_verdict({}) == "pending"
    assert overall_verdict({**ALL_PASS, "jr_fire_result": None}) == "pending"
    assert overall_verdict(ALL_PASS) == "pass"
    assert overall_verdict({**ALL_PASS, "jr_planning_result": "conditional"}) == "conditional"
    assert overall_verdict({"jr_fire_result": "fail"}) == "fail"


def test_ready_needs_every_pass_and_safe_structure_and_fire():
    assert ready_problems({**ALL_PASS, **CONSENTED, "conversion_ready": True}) == []
    reasons = ready_problems({**ALL_PASS, **CONSENTED, "conversion_ready": True,
                              "fire_condition": "unsafe"})
    assert any("消防安全不合格" in zh for _, zh, _ in reasons)
    reasons = ready_problems({**ALL_PASS, **CONSENTED, "jr_housing_result": "fail",
                              "conversion_ready": True})
    assert any("review failed" in en for _, _, en in reasons)
    reasons = ready_problems({**ALL_PASS, **CONSENTED, "jr_fire_result": "conditional",
                              "conversion_ready": True})
    assert reasons and reasons[0][0] == "jr_fire_conditions"


def test_ready_needs_owner_and_sector_authority_consent_both_agreed():
    refused = {**ALL_PASS, "owner_consent": "refused", "authority_consent": "refused",
               "conversion_ready": True}
    reasons = ready_problems(refused)
    assert [f for f, _, _ in reasons] == ["conversion_ready", "conversion_ready"]
    zh = " ".join(z for _, z, _ in reasons)
    en = " ".join(e for _, _, e in reasons)
    assert "权属方尚未同意(现为「不同意」)" in zh and "行业主管部门尚未同意" in zh
    assert "the owner has not agreed (now: refused)" in en and "sector authority" in en
    only_owner = ready_problems({**refused, "owner_consent": "agreed",
                                 "authority_consent": "negotiating"})
    assert len(only_owner) == 1 and "协商中" in only_owner[0][1]
    missing = ready_problems({**ALL_PASS, "owner_consent": "agreed", "conversion_ready": True})
    assert "未填" in missing[0][1] and "not given" in missing[0][2]
    # Not asking for ready: the blockers are shown, nothing is refused.
    assert ready_problems({**refused, "conversion_ready": False}) == []
    assert len(blockers({**refused, "conversion_ready": False})) == 2


def test_department_names_as_people_type_them():
    assert department("ndrc") == department("发改") == department("发展改革") == "fagai"
    assert department("Fire and rescue") == department("消防") == "fire"
    assert department("住建") == "housing" and department("nobody") is None


def test_consent_rule_refuses_the_save_and_the_import_check(store):
    store.role = "supervisor"
    site = store.save("site", complete_site(owner_consent="refused"))
    store.save("site", {**ALL_PASS}, record_id=site.id)
    with pytest.raises(ValidationFailed) as caught:
        store.save("site", {"conversion_ready": True}, record_id=site.id)
    messages = [(e.zh, e.en) for e in caught.value.errors]
    assert any("权属方尚未同意" in zh and "owner has not agreed" in en for zh, en in messages)
    assert any("行业主管部门尚未同意" in zh for zh, _ in messages)
    # The importer and the registry call the same check on the record as a whole.
    _, errors = check_record("site", {**complete_site(), **ALL_PASS, "owner_consent": "已同意",
                                      "authority_consent": "协商中", "conversion_ready": "是"})
    assert [e.field for e in errors] == ["conversion_ready"]
    assert "行业主管部门尚未同意(现为「协商中」)" in errors[0].zh


def test_only_supervisors_fill_in_joint_review(store):
    site = store.save("site", complete_site(authority_consent="agreed"))
    with pytest.raises(ValidationFailed, match="only a supervisor"):
        store.save("site", {"jr_fire_result": "pass"}, record_id=site.id)
    store.role = "supervisor"
    store.save("site", {**ALL_PASS, "jr_fire_date": "2025-05-01"}, record_id=site.id)
    ready = store.save("site", {"conversion_ready": True}, record_id=site.id)
    assert ready.data["conversion_ready"] is True
    with pytest.raises(ValidationFailed, match="cannot be marked ready"):
        store.save("site", {"structure_condition": "unsafe"}, record_id=site.id)


# -- joint review as the supervisor's own step ------------------------------------------------
def test_entry_reads_departments_and_results_as_people_type_them():
    from fieldapp.domain.joint_review import JointReviewInputError, entry

    assert entry("ndrc", "pass") == {"jr_fagai_result": "pass"}
    assert entry("住建", "有条件通过", "增设无障碍坡道", "2025-05-01", "张工") == {
        "jr_housing_result": "conditional", "jr_housing_conditions": "增设无障碍坡道",
        "jr_housing_date": "2025-05-01", "jr_housing_reviewer": "张工"}
    assert entry("消防", "不通过") == {"jr_fire_result": "fail"}
    with pytest.raises(JointReviewInputError) as bad:
        entry("police", "pass")
    assert "ndrc" in bad.value.msg.en and "发改" in bad.value.msg.zh
    with pytest.raises(JointReviewInputError, match="pass, conditional, fail"):
        entry("fire", "maybe")


def _approve(store, **overrides):
    from fieldapp.store.review import approve

    store.role = "supervisor"
    site = store.save("site", complete_site(**overrides), status="submitted")
    approve(store, [site.id])
    return site.id


def test_saving_joint_review_changes_no_status_and_no_queue_place(store):
    from fieldapp.store.review import queue, save_joint_review

    store.role = "supervisor"
    first = store.save("site", complete_site(), status="submitted")
    second = store.save("site", complete_site(address="天平路102号"), status="submitted")
    saved = save_joint_review(store, first.id, {"jr_fire_result": "pass"})
    assert saved.status == "submitted"
    assert [r.id for r in queue(store)] == [first.id, second.id]
    approved = _approve(store, address="天平路104号")
    saved = save_joint_review(store, approved, {**ALL_PASS})
    assert saved.status == "approved" and saved.approved["jr_fire_result"] == "pass"
    # The outbox carries the results only: the registry sees no status step.
    import json

    fields = json.loads(store.conn.execute(
        "SELECT fields FROM outbox WHERE record_id = ? ORDER BY seq DESC LIMIT 1",
        (approved,)).fetchone()[0])
    assert "status" not in fields and set(fields) == set(ALL_PASS)
    with pytest.raises(ValidationFailed, match="joint-review fields only"):
        save_joint_review(store, approved, {"owner_phone": "13800000000"})
    store.role = "worker"
    with pytest.raises(ValidationFailed, match="only a supervisor"):
        save_joint_review(store, approved, {"jr_fire_result": "fail"})


@pytest.fixture
def home(store, tmp_path):
    store.set_setting("current_user", "lisupervisor")
    store.set_setting("role:lisupervisor", "supervisor")
    store.role = "supervisor"
    return ["--data-dir", str(tmp_path)]


def run(capsys, *args):
    from fieldapp.cli import main

    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_joint_review_saves_one_department_and_prints_the_checklist(home, store, capsys):
    import json

    site_id = _approve(store)
    code, out, err = run(capsys, *home, "joint-review", site_id[:8])
    assert code == 0, err
    assert "发展改革" in out and "住房城乡建设管理" in out and "待联审" in out
    assert "行业主管部门尚未同意" in out
    code, out, err = run(capsys, *home, "joint-review", site_id[:8], "--dept", "住建",
                         "--result", "有条件通过", "--conditions", "增设无障碍坡道",
                         "--date", "2025年5月1日")
    assert code == 0, err
    assert "status unchanged" in err and "有条件通过" in out and "2025-05-01" in out
    record = store.get(site_id)
    assert record.status == "approved" and record.data["jr_housing_reviewer"] == "lisupervisor"
    for dept in ("ndrc", "planning", "fire"):
        assert run(capsys, *home, "joint-review", site_id, "--dept", dept, "--result",
                   "pass")[0] == 0
    code, out, _ = run(capsys, *home, "--lang", "en", "joint-review", site_id[:8], "--json")
    shown = json.loads(out)
    assert shown["status"] == "approved" and shown["verdict"] == "conditional"
    assert [b["field"] for b in shown["blockers"]] == ["authority_consent"]
    assert shown["departments"][2]["label"] == "Housing and construction"
    code, _, err = run(capsys, *home, "joint-review", site_id[:8], "--dept", "police",
                       "--result", "pass")
    assert code == 1 and "ndrc" in err
    code, _, err = run(capsys, *home, "joint-review", site_id[:8], "--dept", "fire")
    assert code == 1 and "--result" in err
    store.set_setting("role:lisupervisor", "worker")
    code, _, err = run(capsys, *home, "joint-review", site_id[:8], "--dept", "fire",
                       "--result", "fail")
    assert code == 1 and "only a supervisor" in err
    assert store.get(site_id).data["jr_fire_result"] == "pass"


def test_cli_conditional_pass_needs_its_conditions(home, store, capsys):
    """--help says the conditions are required for 有条件通过; it saved without them and only
    listed "有条件通过需写明条件" among what blocks conversion. Conditions already on the
    site count."""
    site_id = _approve(store)
    code, out, err = run(capsys, *home, "joint-review", site_id[:8], "--dept", "消防",
                         "--result", "有条件通过")
    assert code == 1 and out == "" and err.count("fieldapp:") == 1 and "--conditions" in err
    assert "jr_fire_result" not in store.get(site_id).data
    code, _, err = run(capsys, *home, "joint-review", site_id[:8], "--dept", "fire",
                       "--result", "conditional", "--conditions", "增设应急照明")
    assert code == 0, err
    code, _, err = run(capsys, *home, "joint-review", site_id[:8], "--dept", "fire",
                       "--result", "conditional", "--date", "2025-05-02")
    assert code == 0, err
    assert store.get(site_id).data["jr_fire_conditions"] == "增设应急照明"


def test_cli_queue_marks_a_revision_and_the_verdict(home, store, capsys):
    import json

    site_id = _approve(store)
    store.save("site", {"usable_area": 90, "jr_fire_result": "fail"}, record_id=site_id)
    code, out, err = run(capsys, *home, "review", "queue", "--json")
    assert code == 0, err
    [row] = json.loads(out)
    assert row["revision"] is True and row["revised_fields"] == ["usable_area"]
    assert row["joint_review"] == "fail"
    code, out, _ = run(capsys, *home, "review", "queue")
    assert "[修订]" in out and "联审不通过" in out
    code, out, _ = run(capsys, *home, "history", site_id[:8])
    assert "修订" in out
