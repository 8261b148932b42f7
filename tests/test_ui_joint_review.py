"""The joint review (联审) screen driven with Pilot: a supervisor fills the checklist on an
approved site from its detail screen; the site stays approved (not re-submitted), the outbox
carries the results only, and the detail shows every department by its full name with the
verdict and what blocks conversion. A grid worker reads it and cannot change it."""

from __future__ import annotations

import json

from textual.widgets import Input

from fieldapp.store.review import queue
from fieldapp.ui.screens.joint_review import JointReviewScreen
from fieldapp.ui.screens.record_detail import RecordDetailScreen
from fieldapp.ui.widgets.field_input import FieldInput
from tests.ui_support import SIZE, make_app, open_store, settle, text_of, wait_for_screen


def approved_site(demo, role: str = "supervisor") -> str:
    store = open_store(demo)
    store.set_setting("current_user", "li")
    store.set_setting("role:li", role)
    row = store.conn.execute(
        "SELECT id FROM record WHERE kind = 'site' AND status = 'approved' AND deleted = 0 "
        "AND json_extract(data, '$.jr_fire_result') IS NULL ORDER BY rid LIMIT 1").fetchone()
    store.conn.close()
    return row[0]


async def open_checklist(pilot, site_id: str) -> JointReviewScreen:
    await settle(pilot)
    pilot.app.open_detail(site_id)
    detail = await wait_for_screen(pilot, RecordDetailScreen)
    await settle(pilot)
    text = text_of(detail.query_one("#detail-fields"))
    for name in ("发展改革", "规划资源", "住房城乡建设管理", "消防"):
        assert name in text, name
    assert "待联审" in text and "改造前尚需" in text
    await pilot.press("l")
    screen = await wait_for_screen(pilot, JointReviewScreen)
    await settle(pilot)
    return screen


def field(screen: JointReviewScreen, name: str) -> FieldInput:
    return screen.query_one(f"#field-{name}", FieldInput)


async def test_supervisor_fills_the_checklist_on_an_approved_site_without_resubmitting(demo):
    site_id = approved_site(demo)
    before = open_store(demo)
    queued = [r.id for r in queue(before, limit=1000)]
    outbox = before.pending_count()
    before.conn.close()
    app = make_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_checklist(pilot, site_id)
        assert "待联审" in text_of(screen.query_one("#jr-summary"))
        for dept in ("fagai", "planning", "fire"):
            field(screen, f"jr_{dept}_result").set_value("pass")
        field(screen, "jr_housing_result").set_value("conditional")
        field(screen, "jr_housing_conditions").query_one(Input).value = "增设无障碍坡道"
        field(screen, "jr_housing_date").query_one(Input).value = "2025-05-06"
        await pilot.press("ctrl+s")
        detail = await wait_for_screen(pilot, RecordDetailScreen)
        await settle(pilot)
        text = text_of(detail.query_one("#detail-fields"))
        assert "有条件通过" in text and "增设无障碍坡道" in text
        assert "已通过" in text_of(detail.query_one("#detail-title"))
    store = open_store(demo)
    site = store.get(site_id)
    assert site.status == "approved"
    assert site.data["jr_housing_result"] == "conditional"
    assert site.data["jr_housing_date"] == "2025-05-06"
    assert site.approved["jr_fire_result"] == "pass"  # reports see it at once
    assert [r.id for r in queue(store, limit=1000)] == queued  # not re-submitted
    assert store.pending_count() == outbox + 1
    fields = json.loads(store.conn.execute(
        "SELECT fields FROM outbox WHERE record_id = ? ORDER BY seq DESC LIMIT 1",
        (site_id,)).fetchone()[0])
    assert "status" not in fields and fields["jr_fire_result"] == "pass"
    assert store.history(site_id)[-1]["action"] == "edit"


async def test_a_grid_worker_reads_the_checklist_but_cannot_save_it(demo):
    site_id = approved_site(demo, role="worker")
    app = make_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_checklist(pilot, site_id)
        assert "只有主管" in text_of(screen.query_one("#jr-summary"))
        assert field(screen, "jr_fire_conditions").query_one(Input).disabled
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, JointReviewScreen)
    store = open_store(demo)
    assert "jr_fire_result" not in store.get(site_id).data


async def test_a_worker_corrects_an_approved_site_and_it_becomes_a_revision(demo):
    """The form opens an approved site and either save key sends the change back to the
    queue as a revision; the approved values stay for reports until it is approved."""
    from fieldapp.ui.screens.home import HomeScreen
    from fieldapp.ui.screens.record_form import RecordFormScreen
    from tests.test_ui_flows import fill

    site_id = approved_site(demo, role="worker")
    old_phone = open_store(demo).get(site_id).data.get("owner_phone")
    app = make_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_screen(pilot, HomeScreen)
        app.open_form("site", site_id)
        form = await wait_for_screen(pilot, RecordFormScreen)
        await settle(pilot)
        fill(form, {"owner_phone": "13911112222"})
        await pilot.pause(0.3)
        await pilot.press("ctrl+s")
        await wait_for_screen(pilot, HomeScreen)
    store = open_store(demo)
    site = store.get(site_id)
    assert site.status == "submitted" and site.data["owner_phone"] == "13911112222"
    assert site.approved.get("owner_phone") == old_phone
    assert site_id in [r.id for r in queue(store, limit=1000)]
    assert store.history(site_id)[-1]["action"] == "revised"
    # The supervisor's queue marks it 修订 and shows what changed since approval.
    from textual.widgets import DataTable

    from fieldapp.ui.screens.review import ReviewScreen

    store.set_setting("role:li", "supervisor")
    store.conn.close()
    app = make_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_screen(pilot, HomeScreen)
        await settle(pilot)
        await pilot.press("v")
        review = await wait_for_screen(pilot, ReviewScreen)
        await settle(pilot)
        row = [r.id for r in review.records].index(site_id)
        table = review.query_one("#review-queue", DataTable)
        assert "修订" in " ".join(str(c) for c in table.get_row_at(row))
        table.move_cursor(row=row)
        await settle(pilot)
        changes = text_of(review.query_one("#review-changes"))
        assert "自审核通过以来的变更" in changes and "13911112222" in changes


async def test_choosing_a_result_with_the_keys_keeps_the_checklist(demo):
    """A result is chosen in its picker (Enter, ↓, Enter): back on the checklist the fields
    stay as they were (they were rebuilt beside the old ones: DuplicateIds, the app closed),
    the focus stays on the choice, and the conditions typed next are saved."""
    site_id = approved_site(demo)
    app = make_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_checklist(pilot, site_id)
        await pilot.press("tab")
        await settle(pilot)
        assert app.focused is field(screen, "jr_fagai_result").query_one("#input-jr_fagai_result")
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("down", "enter")
        await settle(pilot)
        assert app.screen is screen
        assert field(screen, "jr_fagai_result").raw_value() == "conditional"
        assert app.focused is field(screen, "jr_fagai_result").query_one("#input-jr_fagai_result")
        await pilot.press("tab", *"ramp")
        await settle(pilot)
        await pilot.press("ctrl+s")
        await wait_for_screen(pilot, RecordDetailScreen)
    store = open_store(demo)
    site = store.get(site_id)
    assert site.status == "approved"
    assert site.data["jr_fagai_result"] == "conditional"
    assert site.data["jr_fagai_conditions"] == "ramp"


async def test_esc_with_unsaved_results_asks_before_discarding(demo):
    """Esc after filling the checklist asked nothing and lost it; now it asks (Esc there keeps
    the checklist as typed, OK goes back without saving). Unchanged, Esc just goes back."""
    from fieldapp.ui.screens.dialogs import ConfirmModal

    site_id = approved_site(demo)
    app = make_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_checklist(pilot, site_id)
        await pilot.press("escape")
        await wait_for_screen(pilot, RecordDetailScreen)
        await pilot.press("l")
        screen = await wait_for_screen(pilot, JointReviewScreen)
        await settle(pilot)
        field(screen, "jr_fire_result").set_value("fail")
        await pilot.press("escape")
        await wait_for_screen(pilot, ConfirmModal)
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen and field(screen, "jr_fire_result").raw_value() == "fail"
        await pilot.press("escape")
        await wait_for_screen(pilot, ConfirmModal)
        await pilot.press("enter")
        await wait_for_screen(pilot, RecordDetailScreen)
    assert "jr_fire_result" not in open_store(demo).get(site_id).data


async def test_the_form_of_an_approved_site_says_saving_makes_a_revision(demo):
    """Ctrl+S on an approved site was hinted "存草稿" (save draft) while it sends the change
    back to the queue as a revision; the hint says so. A new record keeps "存草稿"."""
    from fieldapp.ui.screens.home import HomeScreen
    from fieldapp.ui.screens.record_form import RecordFormScreen
    from fieldapp.ui.widgets.status_bar import StatusBar

    site_id = approved_site(demo, role="worker")
    app = make_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_screen(pilot, HomeScreen)
        app.open_form("site", site_id)
        form = await wait_for_screen(pilot, RecordFormScreen)
        await settle(pilot)
        assert [k for k, _ in form.key_hints()] == ["^s", "Tab", "Esc", "^p"]
        shot = app.export_screenshot()
        assert "改内容即修订" in shot and "存草稿" not in shot
        await pilot.press("escape")
        await wait_for_screen(pilot, HomeScreen)
        app.open_form("site")
        form = await wait_for_screen(pilot, RecordFormScreen)
        await settle(pilot)
        assert form.query_one(StatusBar) and "存草稿" in app.export_screenshot()
