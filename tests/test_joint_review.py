"""Joint review (联审): verdict from the four departments, who may fill it, when a site is ready."""

import pytest

from fieldapp.domain.joint_review import overall_verdict, ready_problems
from fieldapp.store.records import ValidationFailed
from tests.conftest import complete_site

ALL_PASS = {f"jr_{d}_result": "pass" for d in ("fagai", "planning", "housing", "fire")}


def test_verdict_follows_the_four_departments():
    assert overall_verdict({}) == "pending"
    assert overall_verdict({**ALL_PASS, "jr_fire_result": None}) == "pending"
    assert overall_verdict(ALL_PASS) == "pass"
    assert overall_verdict({**ALL_PASS, "jr_planning_result": "conditional"}) == "conditional"
    assert overall_verdict({"jr_fire_result": "fail"}) == "fail"


def test_ready_needs_every_pass_and_safe_structure_and_fire():
    assert ready_problems({**ALL_PASS, "conversion_ready": True}) == []
    reasons = ready_problems({**ALL_PASS, "conversion_ready": True, "fire_condition": "unsafe"})
    assert any("消防安全不合格" in zh for _, zh, _ in reasons)
    reasons = ready_problems({**ALL_PASS, "jr_housing_result": "fail", "conversion_ready": True})
    assert any("review failed" in en for _, _, en in reasons)
    reasons = ready_problems({**ALL_PASS, "jr_fire_result": "conditional",
                              "conversion_ready": True})
    assert reasons and reasons[0][0] == "jr_fire_conditions"


def test_only_supervisors_fill_in_joint_review(store):
    site = store.save("site", complete_site())
    with pytest.raises(ValidationFailed, match="only a supervisor"):
        store.save("site", {"jr_fire_result": "pass"}, record_id=site.id)
    store.role = "supervisor"
    store.save("site", {**ALL_PASS, "jr_fire_date": "2025-05-01"}, record_id=site.id)
    ready = store.save("site", {"conversion_ready": True}, record_id=site.id)
    assert ready.data["conversion_ready"] is True
    with pytest.raises(ValidationFailed, match="cannot be marked ready"):
        store.save("site", {"structure_condition": "unsafe"}, record_id=site.id)
