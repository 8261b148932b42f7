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
